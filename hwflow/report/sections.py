"""The content of a per-design report, section by section, as a :class:`doc.Document`.

Rules every section follows (CONTRACT.md, "never invented"):

* a figure is shown with its source; its kind decides its style (sources.py);
* a figure nobody produced is "not run" (a step did not run) or "not measured" (no board /
  sensor); it is never replaced by a zero, a default or a figure of another source;
* when the vendor tool and hwflow's estimate both give a figure, both are shown side by side;
* reference figures (ANCHORS.md) are labelled "reference" and drawn hollow/hatched.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from . import plots
from .doc import Card, Cards, Details, Document, Image, Legend, Missing, Para, Section, Table, V, short_source
from .extras import Extras, board_capacity
from .sources import (
    NOT_MEASURED,
    NOT_RUN,
    fmt_acc,
    fmt_energy_uj,
    fmt_num,
    fmt_pct,
    fmt_power,
    fmt_rate,
    fmt_time,
    get,
    num,
    source_kind,
)

RES_KEYS = ("lut", "ff", "dsp", "bram_18k", "uram")
RES_LABEL = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram_18k": "BRAM (18 Kb blocks)", "uram": "URAM"}
STEP_ORDER = ("train", "convert", "emulate", "estimate", "synth", "package", "deploy", "report")


# ------------------------------------------------------------------------------------ helpers


def missing_word(r: dict[str, Any], step: str, measured: bool = False) -> str:
    """What to print instead of a figure nobody produced: 'not measured' for board figures
    (nothing deployed / no sensor), else 'not run'. 'not reported' only when provenance says
    the step is complete *and current* (a step whose inputs changed since counts as not run)."""
    e = get(r, f"provenance.steps.{step}") or {}
    if e.get("status") == "complete" and e.get("current") is True:
        return "not reported"
    return NOT_MEASURED if measured else NOT_RUN


def board_accuracy_source(r: dict[str, Any]) -> str | None:
    """Accuracy on the board comes from the deployment: emulated board -> 'emulated', real
    board -> 'measured:board' (it is counted on the board's outputs, not by a power sensor)."""
    if num(get(r, "accuracy.board")) is None:
        return None
    explicit = get(r, "accuracy.board_source")
    if explicit:
        return explicit
    dep = r.get("deploy") or {}
    transport, src = str(dep.get("transport") or ""), str(dep.get("source") or "")
    if transport == "emulated" or src == "emulated" or source_kind(src) == "emulated":
        return "emulated"
    if transport:
        return "measured:board"
    return "emulated"  # unknown: the cautious label, never 'measured'


def accuracy_stages(r: dict[str, Any]) -> list[dict[str, Any]]:
    """float -> quantized -> C-sim -> board, each with its source."""
    engine = get(r, "csim.engine")
    csim_src = "emulated"
    return [
        {
            "key": "float",
            "label": "float\n(Keras)",
            "name": "float model (Keras)",
            "value": num(get(r, "accuracy.float")),
            "source": "software:keras-float",
            "step": "train",
            "what": "the float reference model on the test split",
        },
        {
            "key": "quantized",
            "label": "quantized\n(QKeras)",
            "name": "quantized model (QKeras)",
            "value": num(get(r, "accuracy.quantized")),
            "source": "software:qkeras",
            "step": "train",
            "what": "the quantization-aware model, still floating-point arithmetic",
        },
        {
            "key": "csim",
            "label": "C-sim\n(hls4ml)",
            "name": "firmware C-simulation" + (f" ({engine} engine)" if engine else ""),
            "value": num(get(r, "accuracy.csim")),
            "source": csim_src,
            "step": "emulate",
            "what": "the generated HLS C++ (bit-accurate fixed point) on the test split",
        },
        {
            "key": "board",
            "label": "board",
            "name": "on the board",
            "value": num(get(r, "accuracy.board")),
            "source": board_accuracy_source(r),
            "step": "deploy",
            "what": "the deployed accelerator's outputs",
            "measured": True,
        },
    ]


def best_accuracy(r: dict[str, Any]) -> dict[str, Any] | None:
    """The accuracy closest to hardware that exists (board > C-sim > QKeras > float)."""
    for st in reversed(accuracy_stages(r)):
        if st["value"] is not None:
            return st
    return None


def resource_views(r: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(vendor, estimate) resource figures: ``{used: {...}, source}`` or None, whichever exist.

    results.json keeps the strongest figure in ``resources`` and the others under ``synth`` /
    ``estimate``; this puts them back side by side.
    """
    prim = r.get("resources") or {}
    pk = source_kind(prim.get("source"))
    vendor = est = None
    syn = r.get("synth") or {}
    if isinstance(syn.get("resources"), dict) and any(num(v) is not None for v in syn["resources"].values()):
        vendor = {"used": syn["resources"], "source": syn.get("source") or prim.get("source")}
    elif pk in ("vendor", "measured"):
        vendor = {"used": prim, "source": prim.get("source")}
    e = r.get("estimate") or {}
    if isinstance(e.get("resources"), dict) and any(num(v) is not None for v in e["resources"].values()):
        err = e.get("error")
        est = {
            "used": e["resources"],
            "source": e.get("source") or "estimate",
            "error": None if isinstance(err, dict) else (e.get("error_label") or err),
            "error_by_key": err if isinstance(err, dict) else {},
        }
    elif pk in ("estimate", "emulated") or (pk is None and prim.get("source")):
        est = {"used": prim, "source": prim.get("source"), "error": prim.get("error"), "error_by_key": {}}
    return vendor, est


def fits(r: dict[str, Any], caps: dict[str, Any]) -> dict[str, Any]:
    """Does the design fit on the board? From the strongest resource figures.

    Returns ``{fits: True|False|None, source, worst: (key, fraction)}``. Any resource above
    100 % (or URAM used on a board without URAM) means it does not fit.
    """
    prim = r.get("resources") or {}
    src = prim.get("source")
    fr: dict[str, float] = {}
    for k in RES_KEYS:
        used = num(prim.get(k))
        u = num(get(r, f"utilization.{k}"))
        if u is None and used is not None and caps.get(k):
            u = used / caps[k]
        if u is None and used and caps.get(k) == 0:
            u = float("inf")
        if u is not None:
            fr[k] = u
    if not fr:
        explicit = get(r, "estimate.fits")
        if isinstance(explicit, dict):
            explicit = explicit.get("fits")
        if isinstance(explicit, bool):
            return {"fits": explicit, "source": get(r, "estimate.source"), "worst": None}
        return {"fits": None, "source": None, "worst": None}
    worst = max(fr.items(), key=lambda kv: kv[1])
    return {"fits": all(v <= 1.0 for v in fr.values()), "source": src, "worst": worst}


def _v(text: str | None, source: str | None, missing: str = NOT_RUN, **kw: Any) -> V:
    return V(text, source=source if text is not None else None, missing=missing, **kw)


def _prec_bits(p: Any) -> str | None:
    """'fixed<6,1,TRN,WRAP,0>' -> '6 (1 int)'; 'ufixed<6,0,...>' -> 'u6 (0 int)'; 'auto' stays."""
    if not p:
        return None
    s = str(p)
    m = re.match(r"\s*(u?)(?:ap_)?(fixed|int)<\s*(\d+)\s*(?:,\s*(-?\d+))?", s)
    if not m:
        return s
    u, typ, w, i = m.groups()
    if typ == "int":
        return f"{u}{w} (int)"
    return f"{u}{w} ({i} int)" if i is not None else f"{u}{w}"


def _mape(e: Any) -> str:
    """An estimator's error for one figure: '±45 % (n=48)' from ``{"mape": 45.4, "n": 48}``
    (percent) or a bare fraction/number."""
    if isinstance(e, dict):
        m = num(e.get("mape"))
        if m is None:
            return "—"
        if e.get("unit") not in (None, "percent", "%") and m <= 1.5:
            m *= 100  # a fraction
        return f"±{fmt_num(m, 2)} %" + (f" (n={e['n']})" if num(e.get("n")) else "")
    v = num(e)
    if v is None:
        return "—"
    return f"±{fmt_num(v * 100 if v <= 1.5 else v, 2)} %"


def _res_fmt(v: Any) -> str | None:
    v = num(v)
    return None if v is None else f"{int(round(v)):,}"


def _plot(s: Section, fn: Any, *args: Any, alt: str, caption: str | None = None) -> Path | None:
    """Draw a plot into section ``s``; a plot that fails says so in the report instead of
    taking the whole report down (the figures stay readable in the tables)."""
    try:
        png = fn(*args)
    except Exception as exc:  # noqa: BLE001 - any plotting error is reported, not raised
        s.blocks.append(Missing(f"{alt}: could not be drawn ({type(exc).__name__}: {exc})"))
        return None
    if png:
        s.blocks.append(Image(png, alt, caption))
    return png


# ------------------------------------------------------------------------------------ sections


def header(r: dict[str, Any]) -> tuple[str, list[Any]]:
    design, board = r.get("design") or "unknown design", r.get("board") or "unknown board"
    clk = num(r.get("clock_ns"))
    sub: list[Any] = [
        f"part {r.get('part') or 'unknown'}",
        f"target clock {fmt_num(clk)} ns ({fmt_num(1e3 / clk)} MHz)" if clk else "clock unknown",
        f"hwflow {get(r, 'provenance.hwflow') or '?'}",
        f"commit {str(get(r, 'provenance.git_commit') or 'unknown')[:16]}",
        time.strftime("generated %Y-%m-%d %H:%M UTC", time.gmtime()),
    ]
    return f"{design} on {board}", sub


def summary(r: dict[str, Any], ex: Extras, caps: dict[str, Any]) -> Section:
    s = Section("summary", "Summary")
    cards: list[Card] = []
    best = best_accuracy(r)
    if best:
        others = [
            f"{st['name']}: {fmt_acc(st['value'])}"
            for st in accuracy_stages(r)
            if st["value"] is not None and st is not best and st["key"] != best["key"]
        ]
        cards.append(
            Card(
                "Accuracy",
                _v(fmt_acc(best["value"]), best["source"]),
                [f"{best['name']}, on the test split"] + others[-2:],
            )
        )
    else:
        cards.append(Card("Accuracy", V(None, missing=NOT_RUN), ["train has not run"]))

    f = fits(r, caps)
    if f["fits"] is None:
        cards.append(
            Card(
                "Fits on the board",
                V(None, missing="not known"),
                [f"resources {missing_word(r, 'estimate')}: run estimate or synth"],
            )
        )
    else:
        sub: list[Any] = []
        if f["worst"]:
            k, u = f["worst"]
            sub.append(
                f"largest: {RES_LABEL[k].split(' ')[0]} at "
                + (fmt_pct(u) if u != float("inf") else "n/a (board has none)")
                + (f" of {int(caps[k]):,}" if caps.get(k) else "")
            )
        if source_kind(f["source"]) == "estimate":
            by_key = get(r, "estimate.error")
            if isinstance(by_key, dict) and f["worst"] and by_key.get(f["worst"][0]) is not None:
                sub.append(
                    f"estimate error on {RES_LABEL[f['worst'][0]].split(' ')[0]}: {_mape(by_key[f['worst'][0]])}"
                )
            elif get(r, "resources.error"):
                sub.append(f"estimate error: {get(r, 'resources.error')}")
        v = V("yes" if f["fits"] else "NO", source=f["source"])
        cards.append(Card("Fits on the board", v, sub))

    lat = r.get("latency") or {}
    secs = num(lat.get("seconds"))
    lsub: list[Any] = []
    if num(lat.get("cycles")) is not None:
        lsub.append(
            f"{fmt_num(lat['cycles'])} cycles"
            + (f", II {fmt_num(lat.get('ii_cycles'))} cycles" if num(lat.get("ii_cycles")) is not None else "")
        )
    tp = throughput(r, ex)
    if tp:
        lsub.append(f"throughput {fmt_rate(tp['value'])} ({tp['how']})")
    cards.append(
        Card(
            "Latency (hardware)",
            _v(fmt_time(secs), lat.get("source"), missing_word(r, "synth")),
            lsub or ["needs estimate or synth"],
        )
    )

    en = r.get("energy") or {}
    uj = num(en.get("uj_per_inference"))
    esub: list[Any] = []
    unc = num(en.get("uncertainty_uj"))
    if uj is not None and unc is not None:
        esub.append(f"± {fmt_energy_uj(unc)} (one standard uncertainty)")
    if num(get(r, "power.active_w")) is not None:
        esub.append(
            f"active power {fmt_power(get(r, 'power.active_w'))}"
            + (f", idle {fmt_power(get(r, 'power.idle_w'))}" if num(get(r, "power.idle_w")) is not None else "")
        )
    cards.append(
        Card(
            "Energy per inference",
            _v(fmt_energy_uj(uj), en.get("source"), missing_word(r, "deploy", True)),
            esub or ["needs deploy (board or emulated board) or a power estimate"],
        )
    )

    ipj, apj = num(en.get("inferences_per_joule")), num(en.get("accuracy_per_joule"))
    if ipj is None and uj:
        ipj = 1e6 / uj
    cards.append(
        Card(
            "Efficiency",
            _v(
                f"{fmt_num(ipj)} inferences/J" if ipj is not None else None,
                en.get("source"),
                missing_word(r, "deploy", True),
            ),
            [f"accuracy per joule: {fmt_num(apj)} /J"] if apj is not None else ["accuracy per joule: not measured"],
        )
    )
    s.blocks += [Cards(cards), Legend()]
    return s


def accuracy_section(r: dict[str, Any], ex: Extras, out: Path) -> Section:
    s = Section("accuracy", "Accuracy chain")
    stages = accuracy_stages(r)
    title = f"Accuracy chain: {r.get('design') or '?'} on {r.get('board') or '?'}"
    _plot(
        s,
        plots.accuracy_chain,
        [
            dict(st, kind=source_kind(st["source"]), missing=missing_word(r, st["step"], st.get("measured", False)))
            for st in stages
        ],
        out / "accuracy_chain.png",
        title,
        alt="accuracy chain plot",
        caption="Test accuracy at each stage; bars start at the axis minimum to show differences (not at zero).",
    )
    rows, prev = [], None
    for st in stages:
        v = st["value"]
        delta = f"{100 * (v - prev):+.2f} pt" if (v is not None and prev is not None) else ""
        rows.append(
            [
                st["name"],
                _v(fmt_acc(v), st["source"], missing_word(r, st["step"], st.get("measured", False))),
                delta,
                V(st["source"], source=st["source"], only_badge=True) if v is not None else "",
                st["what"],
            ]
        )
        if v is not None:
            prev = v
    s.blocks.append(Table(["stage", "accuracy", "change", "source", "what"], rows))

    dist = r.get("distillation") or {}
    if dist:
        src = "software:qkeras"
        gain = dist.get("gain")
        s.blocks.append(
            Table(
                ["knowledge distillation", "value"],
                [
                    ["float teacher", _v(fmt_acc(dist.get("teacher_accuracy")), src)],
                    ["quantized student, with the teacher", _v(fmt_acc(dist.get("accuracy_with")), src)],
                    ["the same student without the teacher", _v(fmt_acc(dist.get("accuracy_without")), src)],
                    ["effect of distillation", f"{100 * gain:+.2f} pt" if gain is not None else "not known"],
                    ["temperature, alpha", f"{dist.get('temperature')}, {dist.get('alpha')}"],
                ],
                caption="Same seed, epochs and pruning for both students: the difference is the teacher's loss.",
            )
        )
    pr = r.get("pruning") or {}
    if pr.get("achieved"):
        ach = pr["achieved"]
        s.blocks.append(
            Table(
                ["pruning", "value"],
                [
                    ["target sparsity", fmt_pct(pr.get("target_sparsity"), 1)],
                    ["achieved on the quantized weights", fmt_pct(ach.get("overall"), 2)],
                ],
            )
        )
    cs = r.get("csim") or {}
    if any(cs.get(k) is not None for k in ("samples", "argmax_agreement", "exact_fraction", "max_abs_diff")):
        csrc = "emulated"
        rows = [
            ["test samples", _v(fmt_num(cs.get("samples")), csrc)],
            ["argmax agreement with QKeras", _v(fmt_pct(cs.get("argmax_agreement"), 4), csrc)],
            ["outputs bit-exact with QKeras", _v(fmt_pct(cs.get("exact_fraction"), 4), csrc)],
            ["largest output difference |Δ|", _v(fmt_num(cs.get("max_abs_diff")), csrc)],
            ["first divergent layer", cs.get("first_divergent_layer") or "none found"],
            ["engine", str(cs.get("engine") or "unknown")],
        ]
        s.blocks.append(
            Table(
                ["C-simulation vs QKeras", "value"],
                rows,
                caption="How closely the generated firmware reproduces the QKeras model.",
            )
        )
    else:
        s.blocks.append(
            Missing(
                "C-simulation: " + missing_word(r, "emulate"),
                "run `hwflow emulate DESIGN` to compare the firmware with the QKeras model",
            )
        )
    dep = r.get("deploy") or {}
    if dep:
        src = board_accuracy_source(r) or dep.get("source") or "emulated"
        match = dep.get("outputs_match_csim")
        s.blocks.append(
            Table(
                ["board vs C-simulation", "value"],
                [
                    ["inferences", _v(fmt_num(dep.get("n_inferences")), src)],
                    [
                        "outputs identical to C-sim",
                        "yes" if match is True else ("NO" if match is False else "not known"),
                    ],
                    ["bit-exact fraction", _v(fmt_pct(dep.get("exact_fraction"), 4), src)],
                    ["transport", str(dep.get("transport") or "unknown")],
                ],
            )
        )
    return s


def resources_section(r: dict[str, Any], ex: Extras, caps: dict[str, Any], out: Path) -> Section:
    s = Section("resources", "Resources on the board")
    vendor, est = resource_views(r)
    if not vendor and not est:
        s.blocks.append(
            Missing(
                "Resource utilization: " + missing_word(r, "estimate"),
                "run `hwflow estimate DESIGN` (no vendor tool needed) or `hwflow synth DESIGN` (Vivado/Vitis HLS)",
            )
        )
    else:
        series = []
        if vendor:
            series.append(
                {
                    "label": f"vendor tool ({short_source(vendor['source'])})",
                    "kind": source_kind(vendor["source"]) or "vendor",
                    "used": vendor["used"],
                }
            )
        if est:
            series.append(
                {
                    "label": f"hwflow estimate ({short_source(est['source'])})",
                    "kind": source_kind(est["source"]) or "estimate",
                    "used": est["used"],
                }
            )
        _plot(
            s,
            plots.resources,
            series,
            caps,
            out / "utilization.png",
            f"Utilization of {r.get('board') or '?'} ({r.get('part') or '?'})",
            alt="resource utilization plot",
            caption="Share of the board's resources used; solid bars: vendor tool, hatched: "
            "hwflow estimate; dashed red line: 100 %.",
        )
        headers = ["resource", "board has"]
        if vendor:
            headers += ["vendor tool", "% of board"]
        if est:
            headers += ["hwflow estimate", "% of board"]
        err_by = (est or {}).get("error_by_key") or {}
        if err_by:
            headers.append("estimate error (MAPE, held out)")
        rows = []
        for k in RES_KEYS:
            row: list[Any] = [RES_LABEL[k], fmt_num(caps.get(k)) if caps.get(k) is not None else "unknown"]
            for view, word in ((vendor, "synth"), (est, "estimate")):
                if not view:
                    continue
                used = num(view["used"].get(k))
                row.append(_v(_res_fmt(used), view["source"], missing_word(r, word)))
                row.append(
                    _v(
                        fmt_pct(used / caps[k])
                        if (used is not None and caps.get(k))
                        else ("n/a (none on board)" if used and caps.get(k) == 0 else None),
                        view["source"],
                        "—",
                    )
                )
            if err_by:
                row.append(_mape(err_by.get(k)))
            rows.append(row)
        s.blocks.append(Table(headers, rows))
        srcs = []
        if vendor:
            srcs += ["Vendor figures:", V(vendor["source"], source=vendor["source"], only_badge=True)]
        if est:
            srcs += ["estimate:", V(est["source"], source=est["source"], only_badge=True)]
            if est.get("error"):
                srcs.append(f"(expected error {est['error']})")
        s.blocks.append(Para(srcs, "small"))
    tm = r.get("timing") or get(r, "synth.timing")
    if isinstance(tm, dict) and (tm.get("wns_ns") is not None or tm.get("met") is not None):
        src = get(r, "synth.source") or "vendor"
        met = tm.get("met")
        s.blocks.append(
            Para(
                [
                    "Timing:",
                    _v("met" if met else ("NOT met" if met is False else "unknown"), src),
                    f"worst negative slack {fmt_num(tm.get('wns_ns'))} ns" if tm.get("wns_ns") is not None else "",
                    V(src, source=src, only_badge=True),
                ]
            )
        )
    anchors = ex.anchors.get("hls4ml_hardware") or {}
    if anchors.get("rows"):
        rows = [
            [
                a["variant"],
                V(fmt_acc(a.get("accuracy")), kind="reference"),
                V(fmt_time(a.get("latency_s")), kind="reference"),
                V(_res_fmt(a.get("lut")), kind="reference"),
                V(_res_fmt(a.get("ff")), kind="reference"),
                V(_res_fmt(a.get("dsp")), kind="reference"),
            ]
            for a in anchors["rows"]
        ]
        est_rows = [[e["name"], e["scope"], e["accuracy"]] for e in ex.anchors.get("estimators", [])]
        s.blocks.append(
            Details(
                "Reference: published hls4ml hardware results and estimator accuracy",
                [
                    Table(
                        ["variant", "accuracy", "latency", "LUT", "FF", "DSP"],
                        rows,
                        caption=f"{anchors.get('model')}, {anchors.get('device')} — {anchors.get('source')} "
                        "(reference: another model and device)",
                    ),
                    Table(
                        ["estimator", "scope", "accuracy against the vendor tool"],
                        est_rows,
                        caption="How far resource estimators are from Vivado HLS (ANCHORS.md)",
                    ),
                ],
            )
        )
    return s


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
    ii, clk = num(get(r, "latency.ii_cycles")), num(r.get("clock_ns"))
    if ii and clk:
        return {"value": 1.0 / (ii * clk * 1e-9), "source": get(r, "latency.source"), "how": "1 / (II × clock)"}
    return None


def latency_section(r: dict[str, Any], ex: Extras, out: Path) -> Section:
    s = Section("latency", "Latency and throughput")
    lat = r.get("latency") or {}
    syn, est = r.get("synth") or {}, r.get("estimate") or {}
    clk = num(r.get("clock_ns"))

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
                _v(fmt_time(num(c) * clk * 1e-9) if (num(c) is not None and clk) else None, src, missing_word(r, st))
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
                _v(fmt_rate(1.0 / (num(ii) * clk * 1e-9)) if (num(ii) and clk) else None, src, missing_word(r, st))
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
                    "label": f"this design ({label})",
                    "s": num(c) * clk * 1e-9,
                    "kind": source_kind(src),
                    "highlight": True,
                }
            )
    if not views:
        cmp_rows.append(
            {"label": "this design (hardware)", "s": None, "kind": None, "missing": NOT_RUN, "highlight": True}
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


def _short_task(a: dict[str, Any]) -> str:
    t = str(a.get("task") or "")
    t = re.sub(r"^MLPerf Tiny ", "", t)
    b = a.get("batch")
    return t + (f", batch {b:,}" if isinstance(b, int) and b > 1 else "")


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
        why = "the deployment recorded no power trace (no sensor on this board?)" if ex.deploy else "deploy has not run"
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


def energy_section(r: dict[str, Any], ex: Extras, out: Path) -> Section:
    s = Section("energy", "Energy per inference and efficiency")
    en = r.get("energy") or {}
    src = en.get("source")
    m = ex.measurement
    miss = missing_word(r, "deploy", True)
    uj = num(en.get("uj_per_inference"))
    ipj = num(en.get("inferences_per_joule")) or (1e6 / uj if uj else None)
    apj = num(en.get("accuracy_per_joule"))
    unc = num(en.get("uncertainty_uj")) or num(m.get("energy_uj_per_inference_uncertainty"))
    est_e = get(r, "estimate.energy")
    show_est = isinstance(est_e, dict) and source_kind(src) != "estimate"
    esrc = (est_e.get("source") if isinstance(est_e, dict) else None) or get(r, "estimate.source") or "estimate"
    eu = num(est_e.get("uj_per_inference")) if isinstance(est_e, dict) else None
    e_ipj = (num(est_e.get("inferences_per_joule")) or (1e6 / eu if eu else None)) if isinstance(est_e, dict) else None
    acc0 = best_accuracy(r)
    e_apj = (
        (num(est_e.get("accuracy_per_joule")) or (acc0["value"] * e_ipj if (acc0 and e_ipj) else None))
        if isinstance(est_e, dict)
        else None
    )
    dash = V(None, missing="—")
    # (figure, this design's strongest figure, hwflow's estimate when a stronger figure exists)
    table: list[tuple[str, V, V]] = [
        ("energy per inference", _v(fmt_energy_uj(uj), src, miss), _v(fmt_energy_uj(eu), esrc, "—")),
        (
            "uncertainty (one standard uncertainty)",
            _v(f"± {fmt_energy_uj(unc)}" if unc is not None and uj is not None else None, src, "—"),
            dash,
        ),
        ("energy above idle (dynamic)", _v(fmt_energy_uj(m.get("energy_dynamic_uj_per_inference")), src, miss), dash),
        (
            "time basis",
            V(str(en.get("mode"))) if en.get("mode") else dash,
            V(str(est_e.get("mode") or "batch-1: latency")) if isinstance(est_e, dict) else dash,
        ),
        (
            "energy per inference when streaming (one result per II)",
            _v(fmt_energy_uj(uj), src, miss) if "II" in str(en.get("mode") or "") else dash,
            _v(fmt_energy_uj(num(est_e.get("streaming_uj_per_inference"))), esrc, "—")
            if isinstance(est_e, dict) else dash,
        ),
        ("inferences per joule", _v(fmt_num(ipj), src, miss), _v(fmt_num(e_ipj), esrc, "—")),
        ("accuracy per joule (accuracy × inferences/J)", _v(fmt_num(apj), src, miss), _v(fmt_num(e_apj), esrc, "—")),
        (
            "source",
            V(src, source=src, only_badge=True) if src else V(None, missing=miss),
            V(esrc, source=esrc, only_badge=True),
        ),
    ]
    qt = get(r, "estimate.qtools")
    if isinstance(qt, dict) and num(qt.get("uj_per_inference")) is not None:
        qsrc = qt.get("source") or "estimate:qtools"
        table.insert(
            1,
            (
                "arithmetic and on-chip memory only (QTools, 45 nm energy table)",
                _v(fmt_energy_uj(qt["uj_per_inference"]), qsrc),
                dash,
            ),
        )
    headers = ["figure", "value"] + (["hwflow estimate"] if show_est else [])
    rows = [[a, b] + ([c] if show_est else []) for a, b, c in table]
    s.blocks.append(Table(headers, rows))

    # Comparison rows: this design, the baselines, the references.
    acc = best_accuracy(r)
    cmp_rows: list[dict[str, Any]] = [
        {
            "label": f"this design ({r.get('board') or '?'})",
            "uj": uj,
            "kind": source_kind(src),
            "acc_per_j": apj if apj is not None else ((acc["value"] * ipj) if (acc and ipj) else None),
            "highlight": True,
            "missing": miss,
            "source": src,
            "cite": "this report",
        }
    ]
    if isinstance(est_e, dict) and num(est_e.get("uj_per_inference")) and source_kind(src) != "estimate":
        eu = num(est_e["uj_per_inference"])
        cmp_rows.append(
            {
                "label": "this design (hwflow estimate)",
                "uj": eu,
                "kind": "estimate",
                "highlight": True,
                "acc_per_j": (acc["value"] * 1e6 / eu) if acc else None,
                "source": est_e.get("source"),
                "cite": "this report",
            }
        )
    table_rows: list[list[Any]] = []
    for b in ex.baselines:
        bu = b.get("uj_per_inference")
        cmp_rows.append(
            {
                "label": f"baseline {b['label']}",
                "uj": bu,
                "kind": source_kind(b.get("source")) or "measured",
                "acc_per_j": (b["accuracy"] * 1e6 / bu) if (bu and b.get("accuracy") is not None) else None,
                "missing": "not measurable here" if bu is None else None,
                "source": b.get("source"),
                "cite": b.get("note") if bu is None else (b.get("framework") or "hwflow baseline"),
            }
        )
    for a in ex.anchors.get("energy_per_inference", []):
        au = num(a.get("uj_per_inference"))
        cmp_rows.append(
            {
                "label": f"{a['system']}: {_short_task(a)}",
                "uj": au,
                "kind": "reference",
                "acc_per_j": (a["accuracy"] * 1e6 / au) if (au and num(a.get("accuracy")) is not None) else None,
                "source": "reference",
                "cite": a.get("source"),
            }
        )
    _plot(
        s,
        plots.energy_comparison,
        cmp_rows,
        out / "energy.png",
        "Energy per inference and efficiency",
        alt="energy and efficiency comparison plot",
        caption="Log scales. Top axis of the left panel: the same bars read as inferences per joule. "
        "Reference systems run other models and tasks (ANCHORS.md); CPU/GPU baselines run this model.",
    )
    for row in cmp_rows:
        kind, ru = row.get("kind"), num(row.get("uj"))
        miss_r = row.get("missing") or NOT_MEASURED
        table_rows.append(
            [
                row["label"],
                V(fmt_energy_uj(ru), source=row.get("source"), kind=kind, missing=miss_r),
                V(fmt_num(1e6 / ru) if ru else None, kind=kind, missing="—"),
                V(fmt_num(row.get("acc_per_j")), kind=kind, missing="—"),
                V(_kind_word(kind), kind=kind) if (kind and ru is not None) else V(None, missing="—"),
                row.get("cite") or "",
            ]
        )
    if not ex.baselines:
        table_rows.insert(
            sum(1 for x in cmp_rows if x.get("highlight")),
            [
                "baseline CPU/GPU",
                V(None, missing=NOT_RUN),
                V(None, missing="—"),
                V(None, missing="—"),
                V(None, missing="—"),
                "run `hwflow baseline DESIGN --device cpu|gpu`",
            ],
        )
    s.blocks.append(
        Table(["system", "energy / inference", "inferences / J", "accuracy / J", "kind", "citation"], table_rows)
    )
    ar = ex.anchors.get("arithmetic_energy_pj") or {}
    if ar.get("rows"):
        s.blocks.append(
            Details(
                "Reference: energy of one arithmetic operation (45 nm)",
                [
                    Table(
                        ["operation", "energy"],
                        [
                            [
                                x["op"],
                                V(
                                    f"{fmt_num(x['pj'])} pJ"
                                    if "pj" in x
                                    else f"{fmt_num(x['pj_min'])}–{fmt_num(x['pj_max'])} pJ",
                                    kind="reference",
                                ),
                            ]
                            for x in ar["rows"]
                        ],
                        caption=ar.get("source"),
                    )
                ],
            )
        )
    return s


def _kind_word(kind: str) -> str:
    from .sources import KIND_LABEL

    return KIND_LABEL.get(kind, kind)


def layers_section(r: dict[str, Any], ex: Extras) -> Section:
    s = Section("layers", "Per-layer view")
    hls_layers = [ly for ly in ((r.get("hls") or {}).get("layers") or []) if isinstance(ly, dict)]
    train_layers = r.get("layers") if isinstance(r.get("layers"), dict) else {}
    names = [str(ly.get("name")) for ly in hls_layers] or list(train_layers) or list(ex.estimate_layers)
    if not names:
        s.blocks.append(
            Missing(
                "Per-layer table: " + missing_word(r, "convert"),
                "run `hwflow convert DESIGN` (layers, precisions) and `hwflow estimate DESIGN`",
            )
        )
        return s
    by_name = {str(ly.get("name")): ly for ly in hls_layers}
    est_src = get(r, "estimate.source") or "estimate"
    have_est = bool(ex.estimate_layers)
    have_agree = bool(ex.emulate_layers)
    qt_layers = get(r, "estimate.qtools.per_layer_pj")
    qt_layers = qt_layers if isinstance(qt_layers, dict) else {}
    rows = []
    for n in names:
        ly, t = by_name.get(n, {}), train_layers.get(n) or {}
        e = ex.estimate_layers.get(n) or {}
        er = e.get("resources") if isinstance(e.get("resources"), dict) else e
        row: list[Any] = [
            n,
            str(ly.get("class") or t.get("class") or ""),
            _prec_bits(ly.get("weight")) or "—",
            _prec_bits(ly.get("result")) or "—",
            _prec_bits(ly.get("accum")) or "—",
            fmt_num(ly.get("reuse_factor")) or "—",
            fmt_num(t.get("parameters")) or "—",
            fmt_pct(t.get("sparsity")) if num(t.get("sparsity")) is not None else "—",
        ]
        if have_est:
            parts = [_res_fmt(er.get(k)) for k in ("lut", "ff", "dsp", "bram_18k")]
            joined = " / ".join(p or "?" for p in parts) if any(parts) else None
            row.append(_v(joined, e.get("source") or est_src, "—"))
        else:
            row.append(V(None, missing=missing_word(r, "estimate")))
        if qt_layers:
            row.append(
                _v(
                    f"{fmt_num(qt_layers.get(n))} pJ" if num(qt_layers.get(n)) is not None else None,
                    get(r, "estimate.qtools.source") or "estimate:qtools",
                    "—",
                )
            )
        row.append(_agreement(ex.emulate_layers.get(n), have_agree, "emulate.json" in ex.files))
        rows.append(row)
    s.blocks.append(
        Table(
            ["layer", "type", "weight", "result", "accum", "reuse", "params", "sparsity", "est. LUT/FF/DSP/BRAM"]
            + (["est. energy"] if qt_layers else [])
            + ["C-sim agreement"],
            rows,
            numeric=(5, 6, 7),
            caption="Bits of weights, results and accumulators: total (integer); parameters and "
            "sparsity of the trained model; "
            "resources: hwflow estimate per layer; agreement: C-simulation vs QKeras per layer.",
        )
    )
    return s


def _agreement(a: dict[str, Any] | None, have: bool, emulate_current: bool) -> V:
    if not a:
        return V(None, missing="—" if have else ("not reported" if emulate_current else "not run"))
    parts = []
    if num(a.get("exact_fraction")) is not None:
        parts.append(f"{fmt_pct(a['exact_fraction'], 4)} exact")
    if num(a.get("argmax_agreement")) is not None:
        parts.append(f"argmax {fmt_pct(a['argmax_agreement'], 4)}")
    if num(a.get("agreement")) is not None:
        parts.append(f"{fmt_pct(a['agreement'], 4)}")
    if num(a.get("max_abs_diff")) is not None:
        parts.append(f"max |Δ| {fmt_num(a['max_abs_diff'])}")
    if a.get("status") and not parts:
        parts.append(str(a["status"]))
    return V(", ".join(parts) or None, source="emulated", missing="—")


def provenance_section(r: dict[str, Any], ex: Extras) -> Section:
    s = Section("provenance", "Provenance")
    prov = r.get("provenance") or {}
    pk = prov.get("packages") or {}
    hls = r.get("hls") or {}
    rows = [
        ["design", str(r.get("design") or "unknown")],
        ["board", f"{r.get('board') or 'unknown'} ({r.get('part') or 'part unknown'})"],
        ["target clock", f"{fmt_num(r.get('clock_ns'))} ns" if num(r.get("clock_ns")) else "unknown"],
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


def build_document(results: dict[str, Any], out: Path, extras: Extras) -> Document:
    """All sections of a per-design report. Writes the plots into ``out`` as a side effect."""
    r = results if isinstance(results, dict) else {}
    caps = board_capacity(r, extras.board)
    title, sub = header(r)
    secs = [
        summary(r, extras, caps),
        accuracy_section(r, extras, out),
        resources_section(r, extras, caps, out),
        latency_section(r, extras, out),
        power_section(r, extras, out),
        energy_section(r, extras, out),
        layers_section(r, extras),
        provenance_section(r, extras),
    ]
    return Document(title=title, subtitle=sub, sections=secs)
