"""Where designs, boards, builds and reports live.

The project root is ``$HWFLOW_ROOT`` if set, else the current directory when it
holds ``designs/`` and ``boards/``, else the checkout this package was installed
from (an editable install).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    env = os.environ.get("HWFLOW_ROOT")
    if env:
        return Path(env).resolve()
    cwd = Path.cwd()
    if (cwd / "designs").is_dir() and (cwd / "boards").is_dir():
        return cwd
    return PACKAGE_DIR.parent


def designs_dir() -> Path:
    return project_root() / "designs"


def boards_dir() -> Path:
    return project_root() / "boards"


def default_build_dir() -> Path:
    return project_root() / "build"


def reports_dir() -> Path:
    return project_root() / "reports"


def cache_dir() -> Path:
    """Cache shared across runs and build folders (compiled C-sim libraries, datasets)."""
    env = os.environ.get("HWFLOW_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hwflow"
