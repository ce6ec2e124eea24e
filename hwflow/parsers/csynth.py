"""HLS C-synthesis reports: ``csynth.xml`` / ``<top>_csynth.xml`` and ``<top>_csynth.rpt``.

Covers Vivado HLS 2016-2020 (``DSP48E`` column) and Vitis HLS 2020.2+ (``DSP``).
Each file is reported as the tool wrote it; in particular the XML of Vivado
HLS 2018-2019 gives Interval = latency + 1 for a non-pipelined top while the
``.rpt`` of the same run prints interval = latency, and both are kept as is.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from hwflow.parsers._common import (
    Number,
    Report,
    Table,
    fail,
    find_line,
    first_table,
    new_report,
    require_text,
    time_to_ns,
    to_number,
)

XML_EXPECTED = "a Vivado/Vitis HLS csynth XML report (csynth.xml or <top>_csynth.xml)"
RPT_EXPECTED = "a Vivado/Vitis HLS C-synthesis text report (<top>_csynth.rpt)"

# report column / tag -> normalised resource key
_RESOURCE_NAMES = {
    "LUT": "lut",
    "FF": "ff",
    "DSP": "dsp",
    "DSP48E": "dsp",
    "BRAM_18K": "bram_18k",
    "URAM": "uram",
}
_TITLE_RE = re.compile(r"==\s*(Vivado|Vitis) HLS Report for '([^']*)'")


def parse_csynth(text: str, file: str = "<text>") -> Report:
    """Parse either form of a csynth report (XML when the text starts with ``<``)."""
    if text.lstrip().startswith("<"):
        return parse_csynth_xml(text, file)
    return parse_csynth_rpt(text, file)


# --------------------------------------------------------------------------- XML


def parse_csynth_xml(text: str, file: str = "<text>") -> Report:
    """Parse a csynth XML report into the normalised result."""
    require_text(text, file, XML_EXPECTED)
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise fail(file, "XML with a DOCTYPE/ENTITY declaration is not a csynth report", XML_EXPECTED)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise fail(file, f"truncated or malformed XML ({exc})", XML_EXPECTED) from None
    perf = root.find("PerformanceEstimates")
    area = root.find("AreaEstimates")
    if root.tag != "profile" or perf is None or area is None or area.find("Resources") is None:
        raise fail(file, "XML lacks <PerformanceEstimates>/<AreaEstimates>", XML_EXPECTED)
    latency = perf.find("SummaryOfOverallLatency")
    if latency is None:
        raise fail(file, "XML lacks <SummaryOfOverallLatency>", XML_EXPECTED)

    out = new_report(file, "csynth")
    out["version"] = _xml_text(root, "ReportVersion/Version")
    out["part"] = _xml_text(root, "UserAssignments/Part")
    out["top"] = _xml_text(root, "UserAssignments/TopModelName")
    unit = _xml_text(root, "UserAssignments/unit") or "ns"
    est_unit = _xml_text(perf, "SummaryOfTimingAnalysis/unit") or unit
    out["clock_ns"]["target"] = time_to_ns(_xml_text(root, "UserAssignments/TargetClockPeriod"), unit)
    out["clock_ns"]["estimated"] = time_to_ns(_xml_text(perf, "SummaryOfTimingAnalysis/EstimatedClockPeriod"), est_unit)
    for key, tag in (("best", "Best-caseLatency"), ("average", "Average-caseLatency"), ("worst", "Worst-caseLatency")):
        out["latency_cycles"][key] = to_number(_xml_text(latency, tag))
    out["ii_cycles"]["min"] = to_number(_xml_text(latency, "Interval-min"))
    out["ii_cycles"]["max"] = to_number(_xml_text(latency, "Interval-max"))
    out["resources"].update(_xml_resources(area.find("Resources")))
    out["available"].update(_xml_resources(area.find("AvailableResources")))
    out["tool"] = _xml_tool(root, area, out["version"])
    return out


def _xml_text(node: ET.Element, path: str) -> str | None:
    found = node.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def _xml_resources(node: ET.Element | None) -> dict[str, Number | None]:
    values: dict[str, Number | None] = {}
    if node is None:
        return values
    for child in node:
        key = _RESOURCE_NAMES.get(child.tag)
        if key is not None and key not in values:
            values[key] = to_number(child.text)
    return values


def _xml_tool(root: ET.Element, area: ET.Element, version: str | None) -> str:
    """Vitis HLS writes ``<DSP>`` and ``<FlowTarget>``; Vivado HLS (<= 2020.1) ``<DSP48E>``."""
    year = int(version[:4]) if version and version[:4].isdigit() else 0
    if year >= 2021 or root.find("UserAssignments/FlowTarget") is not None:
        return "vitis_hls"
    if area.find("Resources/DSP") is not None and area.find("Resources/DSP48E") is None:
        return "vitis_hls"
    return "vivado_hls"


# --------------------------------------------------------------------------- .rpt


def parse_csynth_rpt(text: str, file: str = "<text>") -> Report:
    """Parse a ``<top>_csynth.rpt`` text report into the normalised result."""
    require_text(text, file, RPT_EXPECTED)
    lines = text.splitlines()
    m = next((t for t in map(_TITLE_RE.search, lines) if t), None)
    if m is None:
        raise fail(file, "no 'Vivado/Vitis HLS Report for' title", RPT_EXPECTED)
    out = new_report(file, "csynth")
    out["tool"] = "vitis_hls" if m.group(1) == "Vitis" else "vivado_hls"
    out["top"] = m.group(2)
    out["version"] = _star_field(lines, "Version", r"(\d{4}\.\d+(?:\.\d+)?)")
    out["part"] = _star_field(lines, "Target device", r"(\S+)")
    _fill_clock(lines, out, file)
    _fill_latency(lines, out, file)
    _fill_utilisation(lines, out, file)
    return out


def _star_field(lines: list[str], name: str, value_re: str) -> str | None:
    """``* Version:        2019.2 (Build ...)`` -> ``2019.2``."""
    i = find_line(lines, rf"^\*\s*{re.escape(name)}\s*:")
    if i is None:
        return None
    m = re.search(rf":\s*{value_re}", lines[i])
    return m.group(1) if m else None


def _section_table(lines: list[str], heading: str, file: str, what: str) -> tuple[Table, int]:
    i = find_line(lines, heading)
    table = first_table(lines, i) if i is not None else None
    if i is None or table is None:
        raise fail(file, f"the {what} table is missing (truncated report?)", RPT_EXPECTED)
    if not table.complete:
        raise fail(file, f"the {what} table is cut off (truncated report)", RPT_EXPECTED)
    return table, i


def _fill_clock(lines: list[str], out: Report, file: str) -> None:
    table, i = _section_table(lines, r"^\+ Timing", file, "timing summary")
    unit_m = re.search(r"\((\w+)\)", lines[i])
    unit = unit_m.group(1) if unit_m else "ns"
    header = table.rows[0] if table.rows else []
    data = [r for r in table.rows[1:] if r and r[0]]
    if "Target" not in header or "Estimated" not in header or not data:
        raise fail(file, "the timing summary table has no clock row (truncated report?)", RPT_EXPECTED)
    row = data[0]
    out["clock_ns"]["target"] = time_to_ns(row[header.index("Target")], unit)
    out["clock_ns"]["estimated"] = time_to_ns(row[header.index("Estimated")], unit)


def _fill_latency(lines: list[str], out: Report, file: str) -> None:
    table, _ = _section_table(lines, r"^\+ Latency", file, "latency summary")
    data = [r for r in table.rows if r and not _is_latency_header(r)]
    if not data:
        raise fail(file, "the latency summary table has no data row (truncated report?)", RPT_EXPECTED)
    row = data[0]
    if len(row) == 7:  # 2019.2+: latency (cycles) | latency (absolute) | interval | type
        lat, ii = (row[0], row[1]), (row[4], row[5])
    elif len(row) == 5:  # <= 2019.1: latency | interval | type
        lat, ii = (row[0], row[1]), (row[2], row[3])
    else:
        raise fail(file, f"unexpected latency summary layout ({len(row)} columns)", RPT_EXPECTED)
    out["latency_cycles"]["best"] = to_number(lat[0])
    out["latency_cycles"]["worst"] = to_number(lat[1])
    out["ii_cycles"]["min"] = to_number(ii[0])
    out["ii_cycles"]["max"] = to_number(ii[1])


def _is_latency_header(row: list[str]) -> bool:
    words = " ".join(row).lower()
    return "latency" in words or "interval" in words or bool(re.search(r"\b(min|max)\b", words))


def _fill_utilisation(lines: list[str], out: Report, file: str) -> None:
    table, _ = _section_table(lines, r"^==\s*Utilization Estimates", file, "utilization summary")
    header = table.rows[0] if table.rows else []
    by_name = {row[0]: row for row in table.rows[1:] if row}
    if "Total" not in by_name or "Available" not in by_name:
        raise fail(file, "the utilization summary lacks its Total/Available rows (truncated report?)", RPT_EXPECTED)
    for col, name in enumerate(header):
        key = _RESOURCE_NAMES.get(name)
        if key is None:
            continue
        out["resources"][key] = _cell_number(by_name["Total"], col)
        out["available"][key] = _cell_number(by_name["Available"], col)


def _cell_number(row: list[str], col: int) -> Number | None:
    return to_number(row[col]) if col < len(row) else None


# --------------------------------------------------------------------------- per-instance tables

_INSTANCE_ROW_RE = re.compile(r"^\s*\|([^|]*)\|([^|]*)\|(.*)\|\s*$")


def csynth_instances(text: str) -> dict[str, dict[str, float]]:
    """The top function's sub-function instances of a ``<top>_csynth.rpt``, by module:
    ``{module: {lut, ff, dsp, bram_18k, latency}}`` (resources summed over the instances of one
    module, latency = the largest worst case). Empty when the report lists none (everything
    inlined) or is not a text report; never raises."""
    out: dict[str, dict[str, float]] = {}
    lines = text.splitlines()
    section = None
    for i, line in enumerate(lines):
        if re.match(r"^==\s*Performance Estimates", line):
            section = "perf"
        elif re.match(r"^==\s*Utilization Estimates", line):
            section = "util"
        elif re.match(r"^==\s*\w", line):
            section = None
        if section is None or not re.match(r"^\s*\*\s*Instance:\s*$", line):
            continue
        header: list[str] | None = None
        for row in lines[i + 1: i + 2000]:
            s = row.strip()
            if not s or s.startswith("*"):
                break
            m = _INSTANCE_ROW_RE.match(row)
            if not m:
                continue
            inst, module = m.group(1).strip(), m.group(2).strip()
            cells = [c.strip() for c in m.group(3).split("|")]
            if inst == "Instance":
                header = [c.upper() for c in cells]
                continue
            if not inst or not module or inst == "Total" or header is None:
                continue
            rec = out.setdefault(module, {})
            if section == "util":
                for j, name in enumerate(header):
                    key = _RESOURCE_NAMES.get(name)
                    if key is None or key == "uram" or j >= len(cells):
                        continue
                    v = to_number(cells[j])
                    if v is not None:
                        rec[key] = rec.get(key, 0.0) + float(v)
            else:  # Latency (cycles) min | max | absolute min | max | Interval min | max | type
                nums = [to_number(c) for c in cells[:2]]
                if len(nums) == 2 and nums[1] is not None:
                    rec["latency"] = max(rec.get("latency", 0.0), float(nums[1]))
    return {k: v for k, v in out.items() if v}
