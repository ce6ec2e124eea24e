"""Shared helpers of the vendor-report parsers: the result skeleton, number
conversion, ASCII-table reading and the error helper.

Everything here is pure (text in, values out); no file system access.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from hwflow.errors import BadInput

Number = int | float
Report = dict[str, Any]

KINDS = ("csynth", "utilization", "timing", "power", "cosim")
RESOURCE_KEYS = ("lut", "ff", "dsp", "bram_18k", "uram")

_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_BORDER_RE = re.compile(r"^\+[-=+]+\+?$")
_VIVADO_VERSION_RE = re.compile(r"v\.?(\d{4}\.\d+(?:\.\d+)?)")


def new_report(file: str, kind: str) -> Report:
    """The full normalised result with every key present and every value null."""
    return {
        "file": file,
        "kind": kind,
        "tool": None,
        "version": None,
        "part": None,
        "top": None,
        "clock_ns": {"target": None, "estimated": None},
        "latency_cycles": {"best": None, "average": None, "worst": None},
        "ii_cycles": {"min": None, "max": None},
        "resources": dict.fromkeys(RESOURCE_KEYS),
        "available": dict.fromkeys(RESOURCE_KEYS),
        "power_w": {"total": None, "dynamic": None, "static": None},
        "timing": {"wns_ns": None, "tns_ns": None, "whs_ns": None, "met": None},
    }


def tidy(value: Decimal) -> Number:
    """int when the value is integral, float otherwise."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def to_decimal(text: str | None) -> Decimal | None:
    """Parse a plain decimal number; anything else (NA, undef, -, ~0, '') is None."""
    if text is None:
        return None
    s = text.strip().replace(",", "")
    if not _NUMBER_RE.match(s):
        return None
    try:
        return Decimal(s)
    except InvalidOperation:  # pragma: no cover - guarded by the regex
        return None


def to_number(text: str | None) -> Number | None:
    """Parse a number as int where integral, float otherwise; non-numbers -> None."""
    value = to_decimal(text)
    return None if value is None else tidy(value)


def leading_number(text: str | None) -> Number | None:
    """The number at the start of a cell such as ``17090(32.12%)``."""
    if text is None:
        return None
    m = re.match(r"\s*([+-]?\d+(?:\.\d+)?)", text)
    return to_number(m.group(1)) if m else None


_UNIT_FACTOR_NS = {"ps": Decimal("0.001"), "ns": Decimal(1), "us": Decimal(1000), "ms": Decimal(1000000)}


def time_to_ns(text: str | None, default_unit: str = "ns") -> Number | None:
    """``'5.00 ns'`` -> 5, ``'0.137 us'`` -> 137, ``'4.33'`` -> 4.33 (in default_unit)."""
    if text is None:
        return None
    m = re.match(r"^\s*([+-]?[\d.]+)\s*([a-zA-Z]*)\s*$", text)
    if not m:
        return None
    value = to_decimal(m.group(1))
    unit = (m.group(2) or default_unit).lower()
    if value is None or unit not in _UNIT_FACTOR_NS:
        return None
    return tidy(value * _UNIT_FACTOR_NS[unit])


def scale(value: Number | None, factor: int) -> Number | None:
    """Multiply keeping the int-where-integral rule (2 x 1.5 -> 3)."""
    if value is None:
        return None
    return tidy(Decimal(str(value)) * factor)


def vivado_version(tool_line: str | None) -> str | None:
    """``'Vivado v.2019.2 (lin64) Build ...'`` -> ``'2019.2'``."""
    if not tool_line:
        return None
    m = _VIVADO_VERSION_RE.search(tool_line)
    return m.group(1) if m else None


def fail(file: str, problem: str, expected: str) -> BadInput:
    """The error every parser raises for an unusable report."""
    return BadInput(f"{file}: {problem}", hint=f"expected {expected}")


def require_text(text: str, file: str, expected: str) -> None:
    """Reject empty or whitespace-only input."""
    if not text or not text.strip():
        raise fail(file, "the file is empty", expected)


# --------------------------------------------------------------------------- tables


@dataclass
class Table:
    """One ASCII table (``+---+`` borders, ``|`` separated rows) of a report."""

    start: int  # line index of its first border
    end: int  # line index after its last line
    rows: list[list[str]] = field(default_factory=list)
    complete: bool = True  # ends with a border line (False: cut off)


def split_cells(line: str) -> list[str]:
    """``'| a | b |'`` -> ``['a', 'b']`` (cells stripped)."""
    return [c.strip() for c in split_raw_cells(line)]


def split_raw_cells(line: str) -> list[str]:
    """Like split_cells but keeps each cell's whitespace (for indentation)."""
    return line.strip().removeprefix("|").removesuffix("|").split("|")


def is_border(line: str) -> bool:
    return bool(_BORDER_RE.match(line.strip()))


def read_tables(lines: list[str], start: int = 0, stop: int | None = None) -> list[Table]:
    """Every ASCII table between line ``start`` and ``stop``.

    A table starts at a border line and runs over consecutive lines that begin
    with ``|`` or ``+``; it is complete when its last line is a border.
    """
    stop = len(lines) if stop is None else stop
    tables: list[Table] = []
    i = start
    while i < stop:
        if not is_border(lines[i]):
            i += 1
            continue
        j = i
        rows: list[list[str]] = []
        while j < stop and lines[j].strip()[:1] in ("|", "+"):
            if lines[j].strip().startswith("|"):
                rows.append(split_cells(lines[j]))
            j += 1
        tables.append(Table(start=i, end=j, rows=rows, complete=is_border(lines[j - 1])))
        i = j
    return tables


def first_table(lines: list[str], start: int, stop: int | None = None) -> Table | None:
    tables = read_tables(lines, start, stop)
    return tables[0] if tables else None


def find_line(lines: list[str], pattern: str, start: int = 0) -> int | None:
    """Index of the first line at or after ``start`` matching the regex."""
    rx = re.compile(pattern)
    for i in range(start, len(lines)):
        if rx.search(lines[i]):
            return i
    return None


def vivado_header(lines: list[str]) -> dict[str, str]:
    """The ``| Key : Value`` block at the top of a Vivado report."""
    header: dict[str, str] = {}
    for line in lines[:40]:
        m = re.match(r"^\|\s*([A-Za-z][A-Za-z ]*?)\s*:\s*(.*?)\s*$", line)
        if m and m.group(1) not in header:
            header[m.group(1)] = m.group(2)
    return header
