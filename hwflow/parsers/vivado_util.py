"""Vivado ``report_utilization`` reports (``vivado_synth.rpt``, ``util.rpt``,
``*_utilization_synth.rpt`` / ``*_utilization_placed.rpt``), flat or hierarchical.

BRAM is always counted in 18 Kb blocks: a 36 Kb ``Block RAM Tile`` (which may
end in .5) or a RAMB36 counts 2, a RAMB18 counts 1.

A hierarchical report (``report_utilization -hierarchical``) is reduced to the
row of the hls4ml IP: the shallowest instance whose instance or module name
contains ``ip_match`` (``myproject`` by default); without such a row, the top row.
"""

from __future__ import annotations

from hwflow.parsers._common import (
    Number,
    Report,
    Table,
    fail,
    leading_number,
    new_report,
    read_tables,
    require_text,
    scale,
    split_raw_cells,
    to_number,
    vivado_header,
    vivado_version,
)

EXPECTED = "a Vivado report_utilization report (flat or -hierarchical)"

# flat report: normalised key -> accepted "Site Type" labels (trailing '*' removed)
_FLAT_ROWS = {
    "lut": ("Slice LUTs", "CLB LUTs"),
    "ff": ("Slice Registers", "CLB Registers"),
    "dsp": ("DSPs", "DSP Slices"),
    "bram_tile": ("Block RAM Tile",),
    "ramb36": ("RAMB36/FIFO", "RAMB36"),
    "ramb18": ("RAMB18",),
    "uram": ("URAM",),
}
_FLAT_REQUIRED = ("lut", "ff", "dsp")

# hierarchical report: normalised key -> column titles
_HIER_COLUMNS = {
    "lut": ("Total LUTs",),
    "ff": ("FFs",),
    "dsp": ("DSP48 Blocks", "DSP Blocks", "DSPs"),
    "ramb36": ("RAMB36",),
    "ramb18": ("RAMB18",),
    "uram": ("URAM",),
}


def parse_vivado_util(text: str, file: str = "<text>", ip_match: str = "myproject") -> Report:
    """Parse a flat or hierarchical utilisation report into the normalised result."""
    require_text(text, file, EXPECTED)
    lines = text.splitlines()
    header = vivado_header(lines)
    out = new_report(file, "utilization")
    out["tool"] = "vivado"
    out["version"] = vivado_version(header.get("Tool Version"))
    out["part"] = header.get("Device")
    out["top"] = header.get("Design")
    tables = read_tables(lines)
    hier = _hierarchy_table(tables)
    if hier is not None:
        _fill_hierarchical(hier, lines, out, file, ip_match)
    else:
        _fill_flat(tables, out, file)
    return out


# --------------------------------------------------------------------------- flat


def _fill_flat(tables: list[Table], out: Report, file: str) -> None:
    used, avail = _site_rows(tables, file)
    missing = [k for k in _FLAT_REQUIRED if k not in used]
    if "bram_tile" not in used and not ("ramb36" in used and "ramb18" in used):
        missing.append("bram")
    if missing:
        raise fail(file, f"no {', '.join(missing)} row in any site table (truncated report?)", EXPECTED)
    for key in ("lut", "ff", "dsp", "uram"):
        out["resources"][key] = used.get(key)
        out["available"][key] = avail.get(key)
    out["resources"]["bram_18k"] = _bram_18k(used)
    out["available"]["bram_18k"] = _bram_18k(avail)


def _site_rows(tables: list[Table], file: str) -> tuple[dict[str, Number | None], dict[str, Number | None]]:
    """First 'Used' and 'Available' value of every wanted site type."""
    labels = {label: key for key, names in _FLAT_ROWS.items() for label in names}
    used: dict[str, Number | None] = {}
    avail: dict[str, Number | None] = {}
    for table in tables:
        if not table.rows or "Site Type" not in table.rows[0] or "Used" not in table.rows[0]:
            continue
        if not table.complete:
            raise fail(file, "a site table is cut off (truncated report)", EXPECTED)
        head = table.rows[0]
        i_used = head.index("Used")
        i_avail = head.index("Available") if "Available" in head else None
        for row in table.rows[1:]:
            key = labels.get(row[0].rstrip("*").strip()) if row else None
            if key is None or key in used or len(row) != len(head):
                continue
            used[key] = to_number(row[i_used])
            avail[key] = to_number(row[i_avail]) if i_avail is not None else None
    return used, avail


def _bram_18k(values: dict[str, Number | None]) -> Number | None:
    """2 x Block RAM Tile, else 2 x RAMB36 + RAMB18."""
    if values.get("bram_tile") is not None:
        return scale(values["bram_tile"], 2)
    r36, r18 = values.get("ramb36"), values.get("ramb18")
    doubled = scale(r36, 2)
    if doubled is None or r18 is None:
        return None
    return doubled + r18


# --------------------------------------------------------------------------- hierarchical


def _hierarchy_table(tables: list[Table]) -> Table | None:
    for table in tables:
        if table.rows and table.rows[0][:2] == ["Instance", "Module"]:
            return table
    return None


def _fill_hierarchical(table: Table, lines: list[str], out: Report, file: str, ip_match: str) -> None:
    if not table.complete:
        raise fail(file, "the hierarchy table is cut off (truncated report)", EXPECTED)
    head = table.rows[0]
    columns = {key: _column(head, names) for key, names in _HIER_COLUMNS.items()}
    if columns["lut"] is None or columns["ff"] is None:
        raise fail(file, "the hierarchy table has no 'Total LUTs'/'FFs' columns", EXPECTED)
    rows = _hierarchy_rows(lines, table)
    if not rows:
        raise fail(file, "the hierarchy table has no rows (truncated report?)", EXPECTED)
    row = _ip_row(rows, ip_match)
    values = {
        key: (leading_number(row[1][c]) if c is not None and c < len(row[1]) else None) for key, c in columns.items()
    }
    out["resources"]["lut"] = values["lut"]
    out["resources"]["ff"] = values["ff"]
    out["resources"]["dsp"] = values["dsp"]
    out["resources"]["uram"] = values["uram"]
    out["resources"]["bram_18k"] = _bram_18k(values)


def _column(head: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in head:
            return head.index(name)
    return None


def _hierarchy_rows(lines: list[str], table: Table) -> list[tuple[int, list[str]]]:
    """(depth, cells) of every data row; depth from the instance cell's indentation."""
    rows: list[tuple[int, list[str]]] = []
    seen_header = False
    for line in lines[table.start : table.end]:
        if not line.strip().startswith("|"):
            continue
        raw = split_raw_cells(line)
        cells = [c.strip() for c in raw]
        if not seen_header:
            seen_header = True  # the first '|' row is the column titles
            continue
        indent = len(raw[0]) - len(raw[0].lstrip(" "))
        rows.append((max(indent - 1, 0) // 2, cells))
    return rows


def _ip_row(rows: list[tuple[int, list[str]]], ip_match: str) -> tuple[int, list[str]]:
    """Shallowest row whose instance or module contains ip_match; else the top row."""
    needle = ip_match.lower()
    hits = [r for r in rows if needle and any(needle in cell.lower() for cell in r[1][:2])]
    if hits:
        return min(hits, key=lambda r: r[0])  # min() keeps the first of equal depth
    return rows[0]
