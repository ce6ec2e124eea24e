"""Vivado ``report_timing_summary`` reports: WNS, TNS, WHS and whether the
constraints are met (as the report states it; null when it says nothing).

``clock_ns.target`` is the period of the only clock of the Clock Summary; with
several clocks it stays null (no single target).
"""

from __future__ import annotations

import re

from hwflow.parsers._common import (
    Number,
    Report,
    fail,
    find_line,
    new_report,
    require_text,
    to_number,
    vivado_header,
    vivado_version,
)

EXPECTED = "a Vivado report_timing_summary report with its Design Timing Summary"

_MET = "All user specified timing constraints are met."
_NOT_MET = "Timing constraints are not met."


def parse_vivado_timing(text: str, file: str = "<text>") -> Report:
    """Parse a timing summary report into the normalised result."""
    require_text(text, file, EXPECTED)
    lines = text.splitlines()
    header = vivado_header(lines)
    out = new_report(file, "timing")
    out["tool"] = "vivado"
    out["version"] = vivado_version(header.get("Tool Version"))
    out["part"] = header.get("Device")
    out["top"] = header.get("Design")
    summary = _design_summary(lines, file)
    out["timing"]["wns_ns"] = summary.get("WNS(ns)")
    out["timing"]["tns_ns"] = summary.get("TNS(ns)")
    out["timing"]["whs_ns"] = summary.get("WHS(ns)")
    out["timing"]["met"] = _met(text)
    periods = _clock_periods(lines)
    if len(periods) == 1:
        out["clock_ns"]["target"] = periods[0]
    return out


def _design_summary(lines: list[str], file: str) -> dict[str, Number | None]:
    """The header / dashes / values block under ``| Design Timing Summary``."""
    i = find_line(lines, r"^\|\s*Design Timing Summary")
    if i is None:
        raise fail(file, "no Design Timing Summary section (truncated or not a timing summary)", EXPECTED)
    block = _block_after(lines, i)
    if len(block) < 3 or not block[1].strip().startswith("-"):
        raise fail(file, "the Design Timing Summary table is cut off (truncated report)", EXPECTED)
    names = re.split(r"\s{2,}", block[0].strip())
    values = block[2].split()
    if "WNS(ns)" not in names or len(values) != len(names):
        raise fail(file, "the Design Timing Summary row is incomplete (truncated report)", EXPECTED)
    return {name: to_number(value) for name, value in zip(names, values, strict=True)}


def _block_after(lines: list[str], heading: int) -> list[str]:
    """Non-blank lines of the first paragraph after a ``| Title`` / dashes heading."""
    j = heading + 1
    while j < len(lines) and (not lines[j].strip() or lines[j].startswith(("|", "-"))):
        j += 1
    block: list[str] = []
    while j < len(lines) and lines[j].strip():
        block.append(lines[j])
        j += 1
    return block


def _met(text: str) -> bool | None:
    if _NOT_MET in text:
        return False
    if _MET in text:
        return True
    return None


def _clock_periods(lines: list[str]) -> list[Number | None]:
    i = find_line(lines, r"^\|\s*Clock Summary")
    if i is None:
        return []
    block = _block_after(lines, i)
    periods: list[Number | None] = []
    for line in block[2:]:
        m = re.match(r"^\s*(\S+)\s+\{[^}]*\}\s+(\S+)", line)
        if m:
            periods.append(to_number(m.group(2)))
    return periods
