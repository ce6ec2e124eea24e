"""With real AMD tools installed: C synthesis of the tiny design (marker ``vendor``, off by default).

Run on a machine with the tools (after ``source <install>/settings64.sh``):

    .venv/bin/python -m pytest -m vendor tests/synth/test_synth_vendor.py
"""

from __future__ import annotations

import json
import os

import pytest
from synth_common import ORIGINAL_PATH

from hwflow.cli import main
from hwflow.tools import HLS_TOOLS, find_tools

pytestmark = pytest.mark.vendor


@pytest.fixture
def real_path(monkeypatch):
    """Undo the synth tests' isolation: this test wants the machine's own tools."""
    monkeypatch.setenv("PATH", os.environ.get("HWFLOW_REAL_PATH", ORIGINAL_PATH))


def test_real_csynth(prepared, tmp_path, real_path) -> None:
    tools = find_tools()
    if not any(tools[n].usable for n in HLS_TOOLS):
        pytest.skip("no supported HLS tool on PATH (set HWFLOW_REAL_PATH to the PATH with the tools)")
    board = "pynq-z2" if tools["vivado_hls"].usable else "zcu104"
    rc = main(["synth", str(prepared["design"]), "--board", board, "--build-dir", str(tmp_path), "--timeout", "3600"])
    assert rc == 0
    s = json.loads((tmp_path / "tiny_synth" / board / "synth" / "synth.json").read_text())
    assert s["source"].startswith("vendor:") and s["resources"]["lut"] > 0
