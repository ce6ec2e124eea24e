"""Vendor-report parsers: Vivado/Vitis HLS and Vivado reports -> normalised dicts.

Every parser is a pure function ``text -> dict`` returning the form of
``hwflow parse FILE --json`` (docs/contract.md): every key present, null where the
report lacks it, numbers as int where integral. An empty, truncated or
unrecognised report raises :class:`hwflow.errors.BadInput` naming the file and
what was expected; nothing is returned half-filled.

Public API::

    detect_kind(path, text) -> "csynth" | "utilization" | "timing" | "power" | "cosim" | None
    parse_text(text, path="<text>", kind=None) -> dict
    parse_file(path) -> dict
    parse_path(path, recursive=False) -> list[dict]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from hwflow.errors import BadInput
from hwflow.parsers._common import KINDS, Report
from hwflow.parsers.cosim import parse_cosim
from hwflow.parsers.csynth import parse_csynth, parse_csynth_rpt, parse_csynth_xml
from hwflow.parsers.vivado_power import parse_vivado_power
from hwflow.parsers.vivado_timing import parse_vivado_timing
from hwflow.parsers.vivado_util import parse_vivado_util

__all__ = [
    "KINDS",
    "Report",
    "detect_kind",
    "parse_cosim",
    "parse_csynth",
    "parse_csynth_rpt",
    "parse_csynth_xml",
    "parse_file",
    "parse_path",
    "parse_text",
    "parse_vivado_power",
    "parse_vivado_timing",
    "parse_vivado_util",
]

PARSERS: dict[str, Callable[[str, str], Report]] = {
    "csynth": parse_csynth,
    "utilization": parse_vivado_util,
    "timing": parse_vivado_timing,
    "power": parse_vivado_power,
    "cosim": parse_cosim,
}

_HEAD_CHARS = 16384
_NEVER_REPORTS = (".json", ".yml", ".yaml", ".h", ".hpp", ".cpp", ".c", ".tcl", ".py", ".v", ".vhd")
_COMMAND_KINDS = {
    "report_utilization": "utilization",
    "report_timing_summary": "timing",
    "report_power": "power",
}
# .rpt file names of the common flows (hls4ml build_prj.tcl, Vivado run scripts)
_NAME_PATTERNS = (
    ("cosim", r"_cosim\.rpt$"),
    ("utilization", r"^vivado_synth\.rpt$|^util|_utilization"),
    ("timing", r"timing_summary"),
    ("power", r"^power|_power"),
)
_WHAT_WE_READ = (
    "csynth.xml, <top>_csynth.xml, <top>_csynth.rpt, <top>_cosim.rpt, and Vivado "
    "report_utilization / report_timing_summary / report_power reports"
)


def detect_kind(path: str | Path, text: str) -> str | None:
    """The report kind of a file from its content (first), else its name; None if unknown.

    ``text`` may be the whole file or just its beginning. Config, JSON and source
    files are never reports.
    """
    name = Path(path).name.lower()
    if name.endswith(_NEVER_REPORTS) or name.startswith("."):
        return None
    head = text[:_HEAD_CHARS]
    if "\x00" in head:
        return None
    return _kind_from_content(head) or _kind_from_name(name)


def _kind_from_content(head: str) -> str | None:
    if head.lstrip().startswith("<") and re.search(r"<profile\b|<ReportVersion>", head):
        return "csynth"
    if re.search(r"==\s*(Vivado|Vitis) HLS Report for '", head):
        return "csynth"
    m = re.search(r"^\|\s*Command\s*:\s*(\S+)", head, re.MULTILINE)
    if m and m.group(1) in _COMMAND_KINDS:
        return _COMMAND_KINDS[m.group(1)]
    if re.search(r"^\+\s*RTL\s*\+\s*Status\s*\+", head, re.MULTILINE):
        return "cosim"
    return None


def _kind_from_name(name: str) -> str | None:
    if name == "csynth.xml" or name.endswith(("_csynth.xml", "_csynth.rpt")):
        return "csynth"
    if not name.endswith(".rpt"):
        return None
    return next((kind for kind, rx in _NAME_PATTERNS if re.search(rx, name)), None)


def parse_text(text: str, path: str | Path = "<text>", kind: str | None = None) -> Report:
    """Parse report text; ``kind`` is detected from ``path`` and the text when not given."""
    file = str(path)
    kind = kind or detect_kind(path, text)
    if kind is None:
        if not text.strip():
            raise BadInput(f"{file}: the file is empty", hint=f"expected one of: {_WHAT_WE_READ}")
        raise BadInput(f"{file}: not a report hwflow recognises", hint=f"expected one of: {_WHAT_WE_READ}")
    if kind not in PARSERS:
        raise BadInput(f"{file}: unknown report kind {kind!r}", hint=f"one of {', '.join(KINDS)}")
    return PARSERS[kind](text, file)


def parse_file(path: str | Path) -> Report:
    """Parse one report file."""
    return parse_text(_read(Path(path)), path)


def parse_path(path: str | Path, recursive: bool = False) -> list[Report]:
    """A file: ``[parse_file(path)]``. A folder: every recognised report in it, sorted by name.

    Unrelated files (hls4ml_config.yml, JSON, sources, anything unrecognised) are
    skipped; a recognised but broken report raises. A folder without any report
    raises BadInput.
    """
    p = Path(path)
    if not p.exists():
        raise BadInput(f"{p}: no such file or folder", hint=f"expected a report file or a folder of {_WHAT_WE_READ}")
    if not p.is_dir():
        return [parse_file(p)]
    candidates = sorted(p.rglob("*") if recursive else p.iterdir(), key=lambda f: str(f.relative_to(p)))
    reports = [parse_file(f) for f in candidates if f.is_file() and detect_kind(f, _read_head(f))]
    if not reports:
        raise BadInput(f"{p}: no vendor report found in this folder", hint=f"looked for {_WHAT_WE_READ}")
    return reports


def _read(path: Path) -> str:
    if path.is_dir():
        raise BadInput(f"{path}: is a folder, not a report file", hint="use parse_path for folders")
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file", hint=f"expected one of: {_WHAT_WE_READ}") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot be read ({exc.strerror})") from None


def _read_head(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            return fh.read(_HEAD_CHARS).decode("utf-8", errors="replace")
    except OSError as exc:
        raise BadInput(f"{path}: cannot be read ({exc.strerror})") from None
