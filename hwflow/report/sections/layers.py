"""The per-layer table: precisions, parameters, estimates and C-sim agreement."""

from __future__ import annotations

from typing import Any

from ..doc import Missing, Section, Table, V
from ..extras import Extras
from ..sources import (
    fmt_num,
    fmt_pct,
    get,
    num,
)
from .accuracy import reference_name
from .common import _prec_bits, _res_fmt, _v, missing_word


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
            f"resources: hwflow estimate per layer; agreement: C-simulation vs {reference_name(r)} per layer.",
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
