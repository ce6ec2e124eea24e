"""ap_fixed assignments (``dst_t y = x``) built from da4ml operations, bit for bit.

da4ml quantizes with truncation (TRN) or round-half-up (RND) and wraps or saturates; hls4ml's
QKeras-derived types also use ``AP_RND_CONV`` (round half to even), which da4ml lacks. It is
built here from operations da4ml has: for ``d = f_src - f_dst > 0`` dropped fraction bits,

    RND_CONV(x) = floor(x + 2**-(f_dst+1) - 2**-f_src + lsb_kept * 2**-f_src)

where ``lsb_kept`` is the lowest bit that stays (a one-bit wrap of ``x``): a tie rounds up only
when that bit is 1, i.e. to the even neighbour; anything above a tie still crosses the next
integer, anything below does not. The floor and the overflow mode are then da4ml's own
quantize (WRAP or SAT/SAT_SYM after the rounding, as ``ap_fixed`` orders them).

A da4ml variable's format is ``(k, i, f)``: sign bit, integer bits *without* the sign, fraction
bits; ``ap_fixed<W, I>`` is ``(1, I - 1, W - I)`` and ``ap_ufixed<W, I>`` is ``(0, I, W - I)``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np

from hwflow.emu.fixed import FixedType

#: rounding modes this module reproduces exactly; others are refused (exit 2) by the tracer
ROUNDING = ("TRN", "RND", "RND_CONV")
OVERFLOW = ("WRAP", "SAT", "SAT_SYM")


class UnsupportedType(ValueError):
    """A fixed-point mode the open path does not build."""


def kif(t: FixedType) -> tuple[int, int, int]:
    """da4ml's (k, i, f) of an ap_fixed type."""
    k = 1 if t.signed else 0
    return k, t.integer - k, t.width - t.integer


def check_type(t: FixedType, what: str) -> None:
    if t.rounding not in ROUNDING:
        raise UnsupportedType(f"{what}: rounding mode AP_{t.rounding} (the open path builds "
                              f"{', '.join('AP_' + r for r in ROUNDING)})")
    if t.overflow not in OVERFLOW:
        raise UnsupportedType(f"{what}: overflow mode AP_{t.overflow} (the open path builds "
                              f"{', '.join('AP_' + o for o in OVERFLOW)})")


def _is_fv(v: Any) -> bool:
    from da4ml.trace import FixedVariable
    return isinstance(v, FixedVariable)


def cast_var(v: Any, dst: FixedType) -> Any:
    """One scalar: a da4ml ``FixedVariable`` (or a constant) assigned to ``dst``."""
    from da4ml.trace import FixedVariable

    k, i, f = kif(dst)
    if not _is_fv(v) or v.low == v.high:  # a constant: compute it exactly here
        val = float(v.low) if _is_fv(v) else float(v)
        q = float(dst.quantize(np.array([val]))[0])
        hw = v.hwconf if _is_fv(v) else None
        return FixedVariable.from_const(Decimal(q), hwconf=hw) if hw is not None else q
    _k, _i, _f = v.kif
    mode = dst.rounding
    if _f <= f or mode == "TRN":
        return v.quantize(k, i, f, dst.overflow, "TRN")
    if mode == "RND":  # half up: da4ml's own
        return v.quantize(k, i, f, dst.overflow, "RND")
    # RND_CONV: round half to even from an add and a one-bit slice
    kept_lsb = v.quantize(0, 1 - f, f, "WRAP", "TRN")  # 0 or 2**-f: the lowest bit that stays
    offset = Decimal(2) ** (-f - 1) - Decimal(2) ** (-_f)
    w = v + offset if offset != 0 else v
    if _is_fv(kept_lsb) and kept_lsb.low != kept_lsb.high:
        w = w + kept_lsb * (2.0 ** (f - _f))
    elif _is_fv(kept_lsb) and kept_lsb.low != 0:
        w = w + Decimal(kept_lsb.low) * Decimal(2) ** (f - _f)
    return w.quantize(k, i, f, dst.overflow, "TRN")


def cast(arr: Any, dst: FixedType) -> Any:
    """Element-wise :func:`cast_var` over a ``FixedVariableArray`` (same shape)."""
    from da4ml.trace import FixedVariableArray

    check_type(dst, str(dst))
    flat = np.asarray(arr._vars).ravel()
    out = np.empty(flat.size, dtype=object)
    for n, v in enumerate(flat):
        out[n] = cast_var(v, dst)
    return FixedVariableArray(out.reshape(arr.shape), arr.solver_options)
