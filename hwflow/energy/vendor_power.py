"""The on-chip component table of a Vivado ``report_power`` report.

``hwflow.parsers.vivado_power`` gives the summary (total / dynamic / static). The energy model
also needs the *components*: on a Zynq bitstream-level report the processing system (``PS7`` /
``PS8``) is part of "dynamic", and it is not the accelerator's. This module reads the
"On-Chip | Power (W) | Used | ..." table and the clock-constraint table, nothing else.
Values printed as ``<0.001`` are read as 0.0005 W (half the printed bound) and flagged.
"""

from __future__ import annotations

import re
from typing import Any

_ROW = re.compile(r"^\|\s*(?P<name>[^|]+?)\s*\|\s*(?P<power><?[0-9.]+|NA|-+)\s*\|\s*(?P<used>[^|]*)\|")
_CLOCK_ROW = re.compile(r"^\|\s*(?P<clock>\S+)\s*\|\s*(?P<domain>[^|]+?)\s*\|\s*(?P<ns>[0-9.]+)\s*\|\s*$")

PROCESSING_SYSTEM = ("PS7", "PS8", "PSS", "CIPS")


def _num(s: str) -> tuple[float | None, bool]:
    s = s.strip()
    if s.startswith("<"):
        try:
            return float(s[1:]) / 2.0, True
        except ValueError:
            return None, False
    try:
        return float(s), False
    except ValueError:
        return None, False


def components(text: str) -> dict[str, Any]:
    """``{"components": {name: {"w", "used", "bound"}}, "clocks_ns": {clock: ns}}``.

    Indented sub-rows (``LUT as Logic`` under ``Slice Logic``) keep their own name; the caller
    decides which level it sums. Raises ValueError when the report has no On-Chip table.
    """
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if re.match(r"^\|\s*On-Chip\s*\|\s*Power \(W\)", ln)), None)
    if start is None:
        raise ValueError("no 'On-Chip | Power (W)' table: not a Vivado report_power report")
    comps: dict[str, dict[str, Any]] = {}
    for ln in lines[start + 1:]:
        if ln.startswith("+"):
            continue
        if not ln.startswith("|"):
            break
        m = _ROW.match(ln)
        if not m:
            continue
        name = m.group("name").strip()
        w, bound = _num(m.group("power"))
        used, _ = _num(m.group("used")) if m.group("used").strip() else (None, False)
        comps[name] = {"w": w, "used": used, "bound": bound}
        if name == "Total":
            break
    clocks: dict[str, float] = {}
    in_clocks = False
    for ln in lines:
        if ln.strip().startswith("| Clock") and "Constraint (ns)" in ln:
            in_clocks = True
            continue
        if in_clocks:
            if ln.startswith("+"):
                continue
            m = _CLOCK_ROW.match(ln)
            if not m:
                if clocks:
                    break
                continue
            clocks[m.group("clock")] = float(m.group("ns"))
    return {"components": comps, "clocks_ns": clocks}


def pl_dynamic_w(text: str) -> dict[str, Any]:
    """Dynamic power of the programmable logic: report dynamic minus the processing system's
    component and minus I/O (an out-of-context IP's I/O buffers do not exist on the board)."""
    parsed = components(text)
    comps = parsed["components"]
    total = (comps.get("Total") or {}).get("w")
    static = (comps.get("Static Power") or {}).get("w")
    if total is None or static is None:
        raise ValueError("power report has no Total / Static Power rows")
    ps = sum((comps[k]["w"] or 0.0) for k in PROCESSING_SYSTEM if k in comps)
    io = (comps.get("I/O") or {}).get("w") or 0.0
    dyn = total - static - ps - io
    return {"pl_dynamic_w": max(0.0, dyn), "processing_system_w": ps, "io_w": io, "static_w": static,
            "total_w": total, "clocks_ns": parsed["clocks_ns"]}
