"""Reading the fields of a parsed hls4ml config struct (shared by :mod:`hwflow.estimate.structs`
and the layer types it hands off, e.g. :mod:`hwflow.estimate.einsum`)."""

from __future__ import annotations

import math
from typing import Any

from .layerspec import LayerSpec, type_int_bits


def int_field(fields: dict[str, Any], *keys: str, default: int | None = None) -> int | None:
    for k in keys:
        v = fields.get(k)
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, (int, float)):
            return int(v)
    return default


def copy_weight_stats(spec: LayerSpec, cfg: dict[str, Any] | None) -> None:
    """Copy weight-aware counts (``weight_stats`` of the config struct) when they match the layer."""
    ws = (cfg or {}).get("weight_stats") or {}
    if not ws or int(ws.get("n") or 0) != spec.n_weights:
        return  # no values, or a tensor of another shape (stale file): ignore
    spec.w_zero, spec.w_pow2, spec.w_other = int(ws["zero"]), int(ws["pow2"]), int(ws["other"])
    spec.w_csd = float(ws.get("csd_mean") or 0.0)
    spec.w_two = int(ws["two_digit"]) if "two_digit" in ws else None


def exp_arg_log2(fields: dict[str, Any], typedefs: dict[str, str]) -> float | None:
    """log2 of the largest argument a stable softmax's exp table is built for, in hls4ml >= 1.1's
    code: the table is addressed by ``inp_norm_t`` (an ``ap_ufixed<W, I>``: arguments up to 2^I),
    scaled by ``exp_scale``. None where the config has no ``inp_norm_t`` (older code)."""
    norm_int = type_int_bits(typedefs.get("inp_norm_t"))
    if norm_int is None:
        return None
    scale = fields.get("exp_scale", 1.0)
    scale = float(scale) if isinstance(scale, (int, float)) and not isinstance(scale, bool) and scale > 0 else 1.0
    return norm_int + math.log2(scale)
