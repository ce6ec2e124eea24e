"""The work folder's bookkeeping: the manifest, provenance (versions, git commit) and the lock.

``manifest.json`` records each step's cache key, status (``running`` before it starts,
``complete`` only after its outputs are written), duration and the package versions; it is
written atomically, so a run killed at any moment leaves a readable manifest behind.
One run at a time per work folder: :func:`workdir_lock`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

from .errors import Busy
from .fileio import atomic_write_json, read_json
from .paths import project_root

PACKAGES = ("hwflow", "tensorflow", "keras", "qkeras", "hls4ml", "tensorflow-model-optimization",
            "numpy", "scikit-learn", "pydantic", "matplotlib")


def load_manifest(workdir: Path) -> dict[str, Any]:
    p = workdir / "manifest.json"
    if not p.exists():
        return {"steps": {}}
    try:
        data = read_json(p)
        if isinstance(data, dict) and isinstance(data.get("steps"), dict):
            return data
    except (OSError, ValueError):
        pass
    # A corrupt manifest (should not happen: it is written atomically) means: trust nothing.
    return {"steps": {}, "note": "previous manifest unreadable; all steps re-run"}


def save_manifest(workdir: Path, man: dict[str, Any]) -> None:
    atomic_write_json(workdir / "manifest.json", man)


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for n in PACKAGES:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = None
    out["python"] = platform.python_version()
    return out


def git_commit() -> str | None:
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project_root(), capture_output=True,
                           text=True, timeout=5)
        if r.returncode == 0:
            commit = r.stdout.strip()
            d = subprocess.run(["git", "status", "--porcelain"], cwd=project_root(), capture_output=True,
                               text=True, timeout=5)
            return commit + ("-dirty" if d.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return None


@contextlib.contextmanager
def workdir_lock(workdir: Path, timeout_s: float | None = None) -> Iterator[None]:
    """One hwflow run per work folder: a second run waits (saying so) or gives up clearly
    (:class:`errors.Busy`, exit 3, naming the holder)."""
    workdir.mkdir(parents=True, exist_ok=True)
    lock_path = workdir / ".lock"
    f = open(lock_path, "a+")
    try:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            if timeout_s is None:
                timeout_s = float(os.environ.get("HWFLOW_LOCK_TIMEOUT", "3600"))
            print(f"[flow] {workdir} is in use by {holder}; waiting up to {timeout_s:.0f} s", flush=True)
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise Busy(
                            f"work folder {workdir} is locked by {holder} (still running after "
                            f"{timeout_s:.0f} s)",
                            hint="wait for that run to finish, or use --build-dir for a separate folder",
                        ) from None
                    time.sleep(0.2)
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()} on {platform.node()}\n")
        f.flush()
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(f, fcntl.LOCK_UN)
        f.close()
