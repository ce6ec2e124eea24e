"""Vivado ``report_power`` reports: total on-chip, dynamic and device static power (W).

``clock_ns.target`` is the constraint of the only clock of the Clock
Constraints table; with several clocks it stays null.
"""

from __future__ import annotations

from hwflow.parsers._common import (
    Number,
    Report,
    fail,
    find_line,
    first_table,
    leading_number,
    new_report,
    read_tables,
    require_text,
    to_number,
    vivado_header,
    vivado_version,
)

EXPECTED = "a Vivado report_power report with its Summary table"

_SUMMARY_ROWS = {
    "total": "Total On-Chip Power (W)",
    "dynamic": "Dynamic (W)",
    "static": "Device Static (W)",
}


def parse_vivado_power(text: str, file: str = "<text>") -> Report:
    """Parse a power report into the normalised result."""
    require_text(text, file, EXPECTED)
    lines = text.splitlines()
    header = vivado_header(lines)
    out = new_report(file, "power")
    out["tool"] = "vivado"
    out["version"] = vivado_version(header.get("Tool Version"))
    out["part"] = header.get("Device")
    out["top"] = header.get("Design")
    out["power_w"].update(_summary(lines, file))
    periods = _clock_constraints(lines)
    if len(periods) == 1:
        out["clock_ns"]["target"] = periods[0]
    return out


def _summary(lines: list[str], file: str) -> dict[str, Number | None]:
    rows = {}
    for table in read_tables(lines):
        for row in table.rows:
            if len(row) >= 2 and row[0] in _SUMMARY_ROWS.values() and row[0] not in rows:
                rows[row[0]] = row[1]
        if rows:
            if not table.complete:
                raise fail(file, "the Summary table is cut off (truncated report)", EXPECTED)
            break
    missing = [label for label in _SUMMARY_ROWS.values() if label not in rows]
    if missing:
        raise fail(file, f"the Summary table lacks {', '.join(missing)} (truncated report?)", EXPECTED)
    return {key: leading_number(rows[label]) for key, label in _SUMMARY_ROWS.items()}


def _heading(lines: list[str], title: str) -> int | None:
    """Line index of a numbered section heading (underlined; not its table-of-contents entry)."""
    i = find_line(lines, rf"^\d+(\.\d+)*\s+{title}\s*$")
    while i is not None:
        if i + 1 < len(lines) and lines[i + 1].startswith("---"):
            return i
        i = find_line(lines, rf"^\d+(\.\d+)*\s+{title}\s*$", i + 1)
    return None


def _clock_constraints(lines: list[str]) -> list[Number | None]:
    i = _heading(lines, "Clock Constraints")
    table = first_table(lines, i) if i is not None else None
    if table is None or not table.rows or "Constraint (ns)" not in table.rows[0]:
        return []
    col = table.rows[0].index("Constraint (ns)")
    return [to_number(row[col]) for row in table.rows[1:] if len(row) > col]
