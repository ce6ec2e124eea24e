"""Max/average pooling (windowed and global)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from hwflow.emu.fast.core import F64_EXACT, Unsupported, _cfg_type, _raw_abs_max, _type_range, _windows, cast_raw
from hwflow.emu.fixed import apply_overflow


class PoolGeometry(NamedTuple):
    """The window of an hls4ml Pooling1D/2D layer (a 1D one has height 1 and no top/bottom pad)."""

    pads: dict[str, int]  # pad_top, pad_bottom, pad_left, pad_right
    ph: int  # pool height, width
    pw: int
    sh: int  # stride height, width
    sw: int
    ih: int  # input height, width
    iw: int
    oh: int  # output height, width
    ow: int
    c: int  # channels


def pool_geometry(layer: Any, dims: int) -> PoolGeometry:
    """The pooling window as the layer's attributes give it (shared with the open path's tracer)."""
    pads = {k: int(layer.get_attr(k, 0) or 0) for k in ("pad_top", "pad_bottom", "pad_left", "pad_right")}
    if dims == 1:
        pads["pad_top"] = pads["pad_bottom"] = 0

    def height(key: str) -> int:
        return int(layer.get_attr(key, 1) or 1) if dims == 2 else 1

    return PoolGeometry(
        pads,
        ph=height("pool_height"), pw=int(layer.get_attr("pool_width")),
        sh=height("stride_height"), sw=int(layer.get_attr("stride_width")),
        ih=height("in_height"), iw=int(layer.get_attr("in_width", 0) or layer.get_attr("n_in")),
        oh=height("out_height"), ow=int(layer.get_attr("out_width", 0) or layer.get_attr("n_out")),
        c=int(layer.get_attr("n_filt")),
    )


def _build_pooling(layer, src, out_t, out_shape, project_dir, io_type):
    op = str(layer.get_attr("pool_op", "")).lower()
    if op not in ("max", "average"):
        raise Unsupported(f"layer {layer.name}: {op} pooling not emulated")
    dims = 2 if layer.class_name.endswith("2D") else 1
    acc_t = _cfg_type(layer, "accum_t", "accum_t")
    g, ph, pw, sh, sw, ih, iw, oh, ow, c = pool_geometry(layer, dims)
    if io_type == "io_stream" and any(g.values()):
        raise Unsupported(f"layer {layer.name}: padded pooling in io_stream")
    simple = not any(g.values()) and ph == sh and pw == sw and oh * ph == ih and ow * pw == iw

    def windows(a4: np.ndarray, pad: float) -> np.ndarray:
        n = a4.shape[0]
        if simple:
            return a4.reshape(n, oh, ph, ow, pw, c).transpose(0, 1, 3, 2, 4, 5)
        return _windows(a4, g, pad, ph, pw, sh, sw, oh, ow)

    if op == "max":
        # pad_val<T, Max>(): only the top bit set - the most negative value of a signed type,
        # but half of the range of an unsigned one (reproduced as the firmware has it)
        pad_raw = -(2.0 ** (src.type.width - 1)) if src.type.signed else 2.0 ** (src.type.width - 1)

        def fn(a: np.ndarray, owned: bool) -> np.ndarray:
            n = a.shape[0]
            y = windows(a.reshape(n, ih, iw, c), pad_raw).max(axis=(3, 4))
            y = cast_raw(y, src.type.frac, _type_range(src.type), acc_t, inplace=True)
            y = cast_raw(y, acc_t.frac, _type_range(acc_t), out_t, inplace=True)
            return y.reshape((n, *out_shape))

        return fn, {"pool": [ph, pw] if dims == 2 else [pw], "op": "max"}

    # average: sum in accum_t (inputs enter it exactly), then accum_t / length with ap_fixed's
    # division: an integer division of the codes, truncated towards zero
    if acc_t.frac < src.type.frac:
        raise Unsupported(f"layer {layer.name}: average pooling accumulator coarser than its input")
    up = 2.0 ** (acc_t.frac - src.type.frac)
    bound = ph * pw * _raw_abs_max(src.type) * up
    if bound >= F64_EXACT or (acc_t.overflow != "WRAP" and bound > acc_t.raw_max):
        raise Unsupported(f"layer {layer.name}: average pooling sum may overflow {acc_t}")
    wraps = bound > min(abs(acc_t.raw_min), acc_t.raw_max)
    if bool(layer.get_attr("count_pad", False)) or not any(g.values()):
        length: np.ndarray | float = float(ph * pw)
    else:
        ones = np.ones((1, ih, iw, 1))
        length = windows(ones, 0.0).sum(axis=(3, 4))[0]  # valid (unpadded) cells per window

    def fn_avg(a: np.ndarray, owned: bool) -> np.ndarray:
        n = a.shape[0]
        s = windows(a.reshape(n, ih, iw, c).astype(np.float64), 0.0).sum(axis=(3, 4)) * up
        if wraps:
            apply_overflow(s, acc_t, out=s)
        q = np.trunc(s / length)  # exact: |s| < 2**53, so the rounded quotient never crosses an integer
        y = cast_raw(q, acc_t.frac, None, out_t, inplace=True)
        return y.reshape((n, *out_shape))

    return fn_avg, {"pool": [ph, pw] if dims == 2 else [pw], "op": "average"}


def _build_global_pooling(layer, src, out_t, out_shape, project_dir, io_type):
    op = str(layer.get_attr("pool_op", "")).lower()
    if op not in ("max", "average"):
        raise Unsupported(f"layer {layer.name}: global {op} pooling not emulated")
    acc_t = _cfg_type(layer, "accum_t", "accum_t")
    c = int(src.shape[-1])
    if op == "average":
        return _global_average(layer, src, acc_t, c, out_t, out_shape, io_type)

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        n = a.shape[0]
        y = a.reshape(n, -1, c).max(axis=1)
        y = cast_raw(y, src.type.frac, _type_range(src.type), acc_t, inplace=True)
        y = cast_raw(y, acc_t.frac, _type_range(acc_t), out_t, inplace=True)
        return y.reshape((n, *out_shape))

    return fn, {}


def _global_average(layer, src, acc_t, c, out_t, out_shape, io_type):
    """``accum_t y = 0; y += x[i]...; y /= N`` (io_parallel) or ``sum / (H * W)`` (io_stream),
    then ``res_T r = y``. The division truncates the codes towards zero.

    When the accumulator holds every partial sum exactly (its LSB at most the input's, no
    saturation possible) the sum is one vectorised reduction. Otherwise the firmware's order
    is replayed: io_parallel rounds and saturates ``y + x[i]`` at every step; io_stream first
    converts each input to accum_t, then adds (only overflow can happen)."""
    length = int(np.prod(src.shape)) // c
    fx, fa = src.type.frac, acc_t.frac
    up = 2.0 ** (fa - fx)
    bound = length * _raw_abs_max(src.type) * max(up, 1.0)
    if bound >= F64_EXACT or acc_t.width > 52:
        raise Unsupported(f"layer {layer.name}: global average sum wider than 53 bits")
    exact = fa >= fx and (acc_t.overflow == "WRAP" or bound <= acc_t.raw_max)
    wraps = bound > min(abs(acc_t.raw_min), acc_t.raw_max)

    def total(x: np.ndarray) -> np.ndarray:
        if exact:
            s = x.sum(axis=1) * up  # exact: integers < 2**53
            if wraps:
                apply_overflow(s, acc_t, out=s)
            return s
        acc = np.zeros((x.shape[0], c))
        for i in range(length):
            xi = x[:, i, :]
            if io_type == "io_stream":
                acc = cast_raw(acc + cast_raw(xi, fx, None, acc_t).astype(np.float64), fa, None, acc_t)
            else:
                f = max(fa, fx)
                acc = cast_raw(acc * 2.0 ** (f - fa) + xi * 2.0 ** (f - fx), f, None, acc_t)
            acc = acc.astype(np.float64)
        return acc

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        n = a.shape[0]
        s = total(a.reshape(n, length, c).astype(np.float64))
        q = np.trunc(s / length)
        return cast_raw(q, fa, None, out_t, inplace=True).reshape((n, *out_shape))

    return fn, {"op": "average", "accum_t": str(acc_t), "sequential": not exact}
