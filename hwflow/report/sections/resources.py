"""Resources on the board: vendor and estimated figures side by side, fit, timing, references."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import plots
from ..doc import Details, Missing, Para, Section, Table, V, short_source
from ..extras import Extras
from ..sources import (
    fmt_acc,
    fmt_num,
    fmt_pct,
    fmt_time,
    get,
    num,
    source_kind,
)
from .common import RES_KEYS, RES_LABEL, _mape, _plot, _res_fmt, _v, missing_word


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
        interval = get(r, "estimate.interval_80") or {}
        if est and interval:
            headers.append("estimate, 80 % interval")
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
            if est and interval:
                iv = interval.get(k)
                row.append(_v(f"{_res_fmt(iv[0])} – {_res_fmt(iv[1])}", est["source"], "—")
                           if isinstance(iv, (list, tuple)) and len(iv) == 2 else "—")
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
