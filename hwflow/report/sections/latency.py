"""Latency and throughput: vendor and estimated cycles, what the board measured, comparison plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...figures import latency_seconds, throughput_per_second
from ...results import Results
from .. import plots
from ..doc import Details, Missing, Section, Table, V
from ..extras import Extras
from ..sources import (
    NOT_MEASURED,
    NOT_RUN,
    fmt_num,
    fmt_rate,
    fmt_time,
    get,
    num,
    source_kind,
)
from .common import _plot, _short_task, _v, missing_word


def throughput(r: dict[str, Any], ex: Extras) -> dict[str, Any] | None:
    """Inferences per second: measured on the board when deployed, else 1 / (II × clock)."""
    m = ex.measurement
    ips = num(get(r, "throughput.samples_per_s")) or num(m.get("inferences_per_second"))
    if ips:
        src = get(r, "throughput.source") or m.get("latency_source") or get(r, "deploy.source") or "emulated"
        return {
            "value": ips,
            "source": src,
            "how": "on the board" if source_kind(src) == "measured" else "emulated board",
        }
    tp = throughput_per_second(get(r, "latency.ii_cycles"), Results(r).clock_period_ns)
    if tp is not None:
        return {"value": tp, "source": get(r, "latency.source"), "how": "1 / (II × clock)"}
    return None


def latency_section(r: dict[str, Any], ex: Extras, out: Path) -> Section:
    s = Section("latency", "Latency and throughput")
    lat = r.get("latency") or {}
    syn, est = r.get("synth") or {}, r.get("estimate") or {}
    clk = Results(r).clock_period_ns

    def pick(d: dict[str, Any], key: str, sub: tuple[str, ...]) -> Any:
        v = d.get(key)
        if isinstance(v, dict):
            for k in sub:
                if num(v.get(k)) is not None:
                    return v[k]
            return None
        return v

    views = []
    lk = source_kind(lat.get("source"))
    if syn.get("latency_cycles") is not None:
        views.append(
            (
                "vendor tool",
                syn.get("source"),
                pick(syn, "latency_cycles", ("worst", "average", "best")),
                pick(syn, "ii_cycles", ("max", "min")),
                "synth",
            )
        )
    elif lk in ("vendor", "measured"):
        views.append(("vendor tool", lat.get("source"), lat.get("cycles"), lat.get("ii_cycles"), "synth"))
    if est.get("latency_cycles") is not None and (lk != "estimate" or syn):
        views.append(
            (
                "hwflow estimate",
                est.get("source"),
                pick(est, "latency_cycles", ("worst", "average", "best")),
                pick(est, "ii_cycles", ("max", "min")),
                "estimate",
            )
        )
    elif lk == "estimate" or (lk not in ("vendor", "measured") and lat.get("cycles") is not None):
        views.append(("hwflow estimate", lat.get("source"), lat.get("cycles"), lat.get("ii_cycles"), "estimate"))
    if not views:
        s.blocks.append(
            Missing(
                "Hardware latency: " + missing_word(r, "estimate"),
                "run `hwflow estimate DESIGN` or `hwflow synth DESIGN`",
            )
        )
    else:
        headers = ["figure"] + [v[0] for v in views]
        rows: list[list[Any]] = []
        rows.append(
            ["latency (cycles)"] + [_v(fmt_num(num(c)), src, missing_word(r, st)) for _, src, c, _, st in views]
        )
        rows.append(
            ["latency (time)"]
            + [
                _v(fmt_time(latency_seconds(c, clk)), src, missing_word(r, st))
                for _, src, c, _, st in views
            ]
        )
        rows.append(
            ["initiation interval (cycles)"]
            + [_v(fmt_num(num(ii)), src, missing_word(r, st)) for _, src, _, ii, st in views]
        )
        rows.append(
            ["throughput at the clock, 1 / (II × clock)"]
            + [
                _v(fmt_rate(throughput_per_second(ii, clk)), src, missing_word(r, st))
                for _, src, _, ii, st in views
            ]
        )
        ck = syn.get("clock_ns")
        if isinstance(ck, dict) and num(ck.get("estimated")) is not None:
            rows.append(
                ["clock period estimated by the tool"]
                + [
                    _v(f"{fmt_num(ck['estimated'])} ns (fmax {fmt_num(1e3 / ck['estimated'])} MHz)", src, "—")
                    if st == "synth"
                    else V(None, missing="—")
                    for _, src, _, _, st in views
                ]
            )
        s.blocks.append(Table(headers, rows, caption=f"At the target clock of {fmt_num(clk)} ns" if clk else None))

    # What the (possibly emulated) board and this PC measured.
    m = ex.measurement
    dep_src = m.get("latency_source") or get(r, "deploy.source")
    rows = []
    if m and any(
        num(m.get(k)) is not None for k in ("latency_s_per_inference", "latency_batch1_s", "inferences_per_second")
    ):
        rows += [
            [
                "time per inference, batched (host timer)",
                _v(fmt_time(m.get("latency_s_per_inference")), dep_src, NOT_MEASURED),
            ],
            ["batch-1 round trip (host timer)", _v(fmt_time(m.get("latency_batch1_s")), dep_src, NOT_MEASURED)],
            ["throughput", _v(fmt_rate(m.get("inferences_per_second")), dep_src, NOT_MEASURED)],
        ]
    else:
        rows.append(["on the board", V(None, missing=missing_word(r, "deploy", True))])
    cs = num(get(r, "csim.samples_per_s"))
    rows.append(
        [
            "C-simulation speed on this PC (not hardware)",
            _v(fmt_rate(cs, "samples/s"), "emulated", missing_word(r, "emulate")),
        ]
    )
    s.blocks.append(Table(["measured when deployed", "value"], rows))

    # Log-scale comparison with baselines and references.
    cmp_rows: list[dict[str, Any]] = []
    for label, src, c, _, _ in views:
        if num(c) is not None and clk:
            cmp_rows.append(
                {
                    "label": f"this design, accelerator only ({label})",
                    "s": latency_seconds(c, clk),
                    "kind": source_kind(src),
                    "highlight": True,
                }
            )
    if not views:
        cmp_rows.append(
            {"label": "this design (hardware)", "s": None, "kind": None, "missing": NOT_RUN, "highlight": True}
        )
    b1 = ((r.get("energy_model") or {}).get("bases") or {}).get("batch1_system") or {}
    if num(b1.get("time_s")) is not None:
        # the references are system measurements (driver + DMA + compute): compare like with like
        cmp_rows.append(
            {
                "label": "this design, batch-1 system (driver + DMA + compute)",
                "s": num(b1.get("time_s")),
                "kind": source_kind(b1.get("source")),
                "highlight": True,
            }
        )
    if num(m.get("latency_batch1_s")) is not None:
        cmp_rows.append(
            {
                "label": "this design, batch-1 round trip",
                "s": num(m.get("latency_batch1_s")),
                "kind": source_kind(dep_src),
                "highlight": True,
            }
        )
    for b in ex.baselines:
        if b.get("latency_s") is not None and (b.get("batch") in (1, None)):
            cmp_rows.append({"label": f"baseline {b['label']}", "s": b["latency_s"], "kind": "measured"})
    for a in ex.anchors.get("energy_per_inference", []):
        if num(a.get("latency_s")) is not None:
            cmp_rows.append({"label": f"{a['system']}: {_short_task(a)}", "s": a["latency_s"], "kind": "reference"})
    _plot(
        s,
        plots.latency_comparison,
        cmp_rows,
        out / "latency.png",
        "Latency per inference (batch 1)",
        alt="latency comparison plot",
        caption="This design against the CPU/GPU baselines and reference systems (ANCHORS.md); log scale. "
        "Host-timer round trips include driver and transfer overhead.",
    )
    speed = ex.anchors.get("emulation_speed") or {}
    if speed.get("rows") and cs is not None:
        s.blocks.append(
            Details(
                "Reference: emulation speed on this project's machines",
                [
                    Table(
                        ["what", "samples/s"],
                        [[x["what"], V(fmt_num(x["samples_per_s"]), kind="reference")] for x in speed["rows"]],
                        caption=speed.get("source"),
                    )
                ],
            )
        )
    return s
