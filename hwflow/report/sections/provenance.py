"""Provenance: versions, configuration, step statuses and durations."""

from __future__ import annotations

from typing import Any

from ...results import Results
from ..doc import Details, Para, Section, Table, V
from ..extras import Extras
from ..sources import (
    NOT_RUN,
    fmt_num,
    num,
)
from .common import STEP_ORDER


def provenance_section(r: dict[str, Any], ex: Extras) -> Section:
    s = Section("provenance", "Provenance")
    prov = r.get("provenance") or {}
    pk = prov.get("packages") or {}
    hls = r.get("hls") or {}
    clk = Results(r).clock_period_ns
    rows = [
        ["design", str(r.get("design") or "unknown")],
        ["board", f"{r.get('board') or 'unknown'} ({r.get('part') or 'part unknown'})"],
        ["target clock", f"{fmt_num(clk)} ns" if clk else "unknown"],
        ["hwflow", str(prov.get("hwflow") or "unknown")],
        ["git commit", str(prov.get("git_commit") or "unknown")],
        ["python", str(pk.get("python") or "unknown")],
    ]
    if hls:
        rows.append(
            [
                "hls4ml configuration",
                ", ".join(
                    f"{k} {hls.get(k)}"
                    for k in ("backend", "io_type", "strategy", "reuse_factor")
                    if hls.get(k) is not None
                )
                or "unknown",
            ]
        )
    if ex.files:
        rows.append(["inputs of this report", ", ".join(["results.json"] + sorted(ex.files))])
    s.blocks.append(Table(["what", "value"], rows))
    steps = prov.get("steps") or {}
    srows, total = [], 0.0
    for n in list(STEP_ORDER) + [n for n in steps if n not in STEP_ORDER]:
        e = steps.get(n) or {}
        d = num(e.get("duration_s"))
        total += d or 0.0
        st = e.get("status")
        if n == "report" and st == "running":
            st = "running (this report)"
        dur = V(f"{fmt_num(d)} s" if d is not None else None, kind="software", missing="—")
        srows.append([n, st or NOT_RUN, dur])
    srows.append(["total", "", V(f"{fmt_num(total)} s", kind="software")])
    s.blocks.append(Table(["step", "status", "duration"], srows, caption="Steps of the flow in this work folder"))
    tools = prov.get("tools") or {}
    trows = [[str(k), str(v.get("version") if isinstance(v, dict) else v)] for k, v in tools.items()]
    s.blocks.append(
        Table(["vendor tool", "version"], trows)
        if trows
        else Para(["Vendor tools: none used (no synthesis ran)."], "small muted")
    )
    if pk:
        s.blocks.append(
            Details(
                f"Python packages ({len(pk)})",
                [Table(["package", "version"], [[k, str(v) if v else "not installed"] for k, v in pk.items()])],
            )
        )
    return s
