"""Fixtures of the synth tests: fake vendor tools on PATH and prepared work folders.

* ``fake_tools(names, fixtures=..., mode=...)`` puts symlinks to ``tests/fake_tools/bin/<name>``
  in a fresh folder at the front of a PATH from which every real AMD/Xilinx tool is removed,
  and unsets ``$XILINX_*`` - so a test sees exactly the tools it asks for, on any machine.
* ``prepared`` trains and converts a tiny design once per session for a board hls4ml knows
  (pynq-z2: VivadoAccelerator project) and one it does not (zcu104: Vitis project);
  ``workdir(board)`` copies that build folder into the test's tmp_path, so every test starts
  from cached train/convert steps and only synthesis runs.
* The emulate and estimate steps are replaced by no-ops: synthesis does not depend on them and
  they are other modules' business (and C-simulation would cost ~10 s per test).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from synth_common import (  # noqa: F401 - re-exported for the fixtures below
    COSIM_PASS,
    FAKE_BIN,
    ORIGINAL_PATH,
    PYNQ_FULL,
    TINY,
    VENDOR_TOOLS,
    VITIS_2023,
    VIVADO_2022,
    XILINX_VARS,
    synth,
)

from hwflow import flow, tools
from hwflow.cli import main


def _noop_step(name: str) -> flow.StepSpec:
    return flow.StepSpec(name=name, run=lambda ctx: {}, settings=lambda ctx: {"stub": True})


def _stub_upstream(mp: pytest.MonkeyPatch) -> None:
    flow._load_steps()
    for name in ("emulate", "estimate"):
        mp.setitem(flow.STEPS, name, _noop_step(name))


def clean_path() -> str:
    """PATH without any folder that holds a real vendor tool (g++ and make stay reachable)."""
    keep = []
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if d and not any(os.path.exists(os.path.join(d, t)) for t in VENDOR_TOOLS):
            keep.append(d)
    return os.pathsep.join(keep)


@pytest.fixture(autouse=True)
def _isolated_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test of this folder sees a real tool or a leftover fake setting."""
    for var in XILINX_VARS + ("HWFLOW_HLS_TOOL", "HWFLOW_ALLOW_UNSUPPORTED_TOOLS"):
        monkeypatch.delenv(var, raising=False)
    for var in [v for v in os.environ if v.startswith("HWFLOW_FAKE_")]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PATH", clean_path())
    # Versions are cached per executable file; the fakes change theirs through the environment.
    monkeypatch.setattr(tools, "_VERSION_CACHE", {})
    _stub_upstream(monkeypatch)


@pytest.fixture
def fake_tools(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fixtures_dir: Path) -> Callable[..., dict]:
    """Install fakes: ``fake_tools(["vitis-run", "vivado"], fixtures=[VITIS_2023], mode="ok")``."""

    def install(names: list[str] | tuple[str, ...] = VENDOR_TOOLS, *, fixtures: list[str] = (PYNQ_FULL,),
                mode: str | None = None, modes: dict[str, str] | None = None,
                versions: dict[str, str] | None = None) -> dict:
        bindir = tmp_path / "fakebin"
        if bindir.exists():
            shutil.rmtree(bindir)
        bindir.mkdir()
        for n in names:
            (bindir / n).symlink_to(FAKE_BIN / n)
        monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{clean_path()}")
        monkeypatch.setenv("HWFLOW_FAKE_PYTHON", sys.executable)
        monkeypatch.setenv("HWFLOW_FAKE_FIXTURES", os.pathsep.join(str(fixtures_dir / f) for f in fixtures))
        log = tmp_path / "fake_calls.jsonl"
        monkeypatch.setenv("HWFLOW_FAKE_LOG", str(log))
        if mode:
            monkeypatch.setenv("HWFLOW_FAKE_MODE", mode)
        for tool, m in (modes or {}).items():
            monkeypatch.setenv(f"HWFLOW_FAKE_MODE_{tool.upper().replace('-', '_')}", m)
        for tool, v in (versions or {}).items():
            monkeypatch.setenv(f"HWFLOW_FAKE_VERSION_{tool.upper().replace('-', '_')}", v)
        return {"bin": bindir, "log": log}

    return install


@pytest.fixture(scope="session")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Train + convert the tiny design once for pynq-z2 and zcu104 (no vendor tool needed)."""
    root = tmp_path_factory.mktemp("synth_prepared")
    design = root / "tiny_synth.yaml"
    design.write_text(TINY)
    build = root / "build"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", clean_path())
        _stub_upstream(mp)
        for board in ("pynq-z2", "zcu104"):
            rc = main(["run", str(design), "--board", board, "--build-dir", str(build), "--to", "convert", "--quiet"])
            assert rc == 0, f"could not prepare the tiny design for {board}"
    return {"design": design, "build": build}


@pytest.fixture
def workdir(prepared: dict, tmp_path: Path) -> Callable[[str], dict]:
    """Copy the prepared build folder of one board into this test's tmp_path."""

    def copy(board: str) -> dict:
        build = tmp_path / "build"
        src = prepared["build"] / "tiny_synth" / board
        shutil.copytree(src, build / "tiny_synth" / board, symlinks=True)
        work = build / "tiny_synth" / board
        return {"design": str(prepared["design"]), "build": str(build), "work": work, "board": board}

    return copy


@pytest.fixture(autouse=True)
def _isolated_calibration_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The fakes drop other projects' reports: never let them into the user's calibration store
    (issue 12, hwflow/estimate/store.py)."""
    monkeypatch.setenv("HWFLOW_CALIBRATION_STORE", str(tmp_path / "calibration-store"))
