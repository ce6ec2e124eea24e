"""Fixtures of the report tests; the data itself lives in _report_data.py (importable by tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _report_data import full_results, write_workdir


@pytest.fixture
def full() -> dict[str, Any]:
    return full_results()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return write_workdir(tmp_path / "work")
