"""Fixtures for the sweep tests; the tiny design lives in _sweep_util."""

from __future__ import annotations

from pathlib import Path

import pytest
from _sweep_util import TINY_DESIGN


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    (tmp_path / "tiny_sw.yaml").write_text(TINY_DESIGN)
    return tmp_path
