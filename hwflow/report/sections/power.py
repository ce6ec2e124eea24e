"""Power: the recorded trace by phase and the active/idle figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import plots
from ..doc import Missing, Para, Section, Table, V
from ..extras import Extras
from ..sources import (
    NOT_MEASURED,
    fmt_num,
    fmt_power,
    get,
    num,
    source_kind,
)
from .common import _plot, _v, missing_word


def power_section(r: dict[str, Any], ex: Extras, out: Path) -> Section:
    s = Section("power", "Power")
    p = r.get("power") or {}
    src = p.get("source")
    m = ex.measurement
    if ex.power is not None:
        segs = ex.power.phases()
        kind = (
            source_kind(src)
            or source_kind(get(r, "deploy.source"))
            or ("emulated" if get(r, "deploy.transport") == "emulated" else None)
        )
        _plot(
            s,
            plots.power_trace,
            ex.power,
            segs,
            out / "power_trace.png",
            f"Power during the measurement ({m.get('sensor') or get(r, 'deploy.sensor') or 'sensor'})",
            kind,
            alt="power trace plot",
            caption="Power over time, phases shaded; dotted lines: mean power of each phase (time-weighted).",
        )
        tsrc = src or (f"{kind}" if kind else None)
        rows = [
            [
                sg["phase"],
                f"{fmt_num(sg['seconds'])} s",
                fmt_num(sg["samples"]),
                _v(fmt_power(sg["mean_w"]), tsrc),
                _v(fmt_power(sg["min_w"]), tsrc),
                _v(fmt_power(sg["max_w"]), tsrc),
                _v(f"{fmt_num(sg['energy_j'])} J" if sg["energy_j"] is not None else None, tsrc, "—"),
            ]
            for sg in segs
        ]
        s.blocks.append(
            Table(
                ["phase", "duration", "samples", "mean power", "min", "max", "energy"],
                rows,
                caption=f"From power.csv ({len(ex.power):,} samples)",
            )
        )
    else:
        dep = get(r, "provenance.steps.deploy") or {}
        if ex.deploy:
            why = "the deployment recorded no power trace (no sensor on this board?)"
        elif dep.get("status") == "complete" and dep.get("current") is False:
            why = "the deployment is stale (a step before it changed since it ran: `hwflow run` deploys again)"
        else:
            why = "deploy has not run"
        s.blocks.append(
            Missing(
                f"Power trace: {NOT_MEASURED}",
                why + "; a trace (power.csv) is recorded when the board "
                "exposes power rails (PMBus/hwmon/XRT) or an external meter log is given",
            )
        )
    rows = [
        ["active power (run phase)", _v(fmt_power(p.get("active_w")), src, missing_word(r, "deploy", True))],
        ["idle power", _v(fmt_power(p.get("idle_w")), src, missing_word(r, "deploy", True))],
    ]
    if num(m.get("power_active_w_uncertainty")) is not None:
        rows.append(["uncertainty of active power", _v(f"± {fmt_power(m['power_active_w_uncertainty'])}", src)])
    if m.get("sensor") or get(r, "deploy.sensor"):
        rows.append(["sensor", str(m.get("sensor") or get(r, "deploy.sensor"))])
    if num(m.get("sensor_resolution_w")) is not None:
        rows.append(["sensor resolution", fmt_power(m["sensor_resolution_w"]) or ""])
    rows.append(
        ["source", V(src, source=src, only_badge=True) if src else V(None, missing=missing_word(r, "deploy", True))]
    )
    s.blocks.append(Table(["figure", "value"], rows))
    notes = [str(n) for n in (m.get("notes") or [])] + (
        [f"sensor error: {m['sensor_error']}"] if m.get("sensor_error") else []
    )
    if notes:
        s.blocks.append(Para(["Notes: " + "; ".join(notes)], "small muted"))
    return s
