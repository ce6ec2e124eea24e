"""HLS C/RTL co-simulation reports (``<top>_cosim.rpt``).

Latency min/avg/max and interval min/max come from the first row whose status
is not ``NA`` (usually Verilog); ``NA`` cells are null. The report names neither
the tool nor the top, so those stay null.
"""

from __future__ import annotations

from hwflow.parsers._common import (
    Report,
    fail,
    new_report,
    read_tables,
    require_text,
    to_number,
)

EXPECTED = "an HLS co-simulation report (<top>_cosim.rpt) with its RTL/Status table"


def parse_cosim(text: str, file: str = "<text>") -> Report:
    """Parse a co-simulation report into the normalised result."""
    require_text(text, file, EXPECTED)
    lines = text.splitlines()
    table = next((t for t in read_tables(lines) if _is_cosim_table(lines, t.start, t.end)), None)
    if table is None:
        raise fail(file, "no RTL/Status table (truncated or not a cosim report)", EXPECTED)
    if not table.complete:
        raise fail(file, "the RTL/Status table is cut off (truncated report)", EXPECTED)
    rows = [r for r in table.rows if len(r) >= 8 and r[0]]
    if not rows:
        raise fail(file, "the RTL/Status table has no result rows (truncated report?)", EXPECTED)
    out = new_report(file, "cosim")
    row = next((r for r in rows if r[1].upper() != "NA"), None)
    if row is not None:
        out["latency_cycles"]["best"] = to_number(row[2])
        out["latency_cycles"]["average"] = to_number(row[3])
        out["latency_cycles"]["worst"] = to_number(row[4])
        out["ii_cycles"]["min"] = to_number(row[5])
        out["ii_cycles"]["max"] = to_number(row[7])
    return out


def _is_cosim_table(lines: list[str], start: int, end: int) -> bool:
    block = "\n".join(lines[start:end])
    return "RTL" in block and "Status" in block and "Latency" in block
