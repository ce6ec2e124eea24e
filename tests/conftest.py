"""Shared pytest fixtures.

Vendor-report fixtures live outside the repository in ``../shared/fixtures``
(read in place, never copied). Tests that need them skip with a clear reason
when that folder is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _tiny import tiny_design_yaml

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_fixtures_dir() -> Path:
    env = os.environ.get("HWFLOW_FIXTURES")
    if env:
        return Path(env)
    return REPO_ROOT.parent / "shared" / "fixtures"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    d = shared_fixtures_dir()
    if not d.is_dir():
        pytest.skip(f"vendor-report fixtures not found at {d} (set HWFLOW_FIXTURES or check out ../shared)")
    return d


@pytest.fixture(scope="session")
def tiny_yaml():
    """:func:`tiny_design_yaml` for tests and fixtures (any scope)."""
    return tiny_design_yaml
