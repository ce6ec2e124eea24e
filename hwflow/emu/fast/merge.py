"""Two-input layers: Add / Subtract / Multiply / Average / Maximum / Minimum and Concatenate.

nnet_merge.h (io_parallel) and nnet_merge_stream.h (io_stream) compute the same values:
``res = d1 + d2`` (``-``, ``*``, ``(d1 + d2) * ap_ufixed<1,0>(0.5)``) in ap_fixed's full-precision
result type, then one assignment to ``res_T``; maximum/minimum compare exactly and cast the
chosen input; concatenation assigns every element to ``res_T``. Inputs of different types are
aligned on the finer LSB first, which is exact.
"""

from __future__ import annotations

import numpy as np

from hwflow.emu.fast.core import F64_EXACT, Tensor, Unsupported, _dtype_for, _raw_abs_max, _type_range, cast_raw

_OPS = ("add", "subtract", "multiply", "average", "maximum", "minimum")


def _flat_index(n_src: int, n: int) -> np.ndarray | None:
    """``data[ii % n_src]`` of the C++ (None when no broadcast is needed)."""
    return None if n_src == n else np.arange(n) % n_src


def _build_merge(layer, srcs: list[Tensor], out_t, out_shape, project_dir, io_type):
    op = str(layer.get_attr("op", "")).lower()
    if op not in _OPS:
        raise Unsupported(f"layer {layer.name}: merge operation {op!r} not emulated")
    if len(srcs) != 2:
        raise Unsupported(f"layer {layer.name}: merge of {len(srcs)} inputs")
    a_t, b_t = srcs[0].type, srcs[1].type
    n = int(np.prod(out_shape))
    n1, n2 = int(np.prod(srcs[0].shape)), int(np.prod(srcs[1].shape))
    if io_type == "io_stream" and not (n1 == n2 == n):
        raise Unsupported(f"layer {layer.name}: broadcasting merge in io_stream")
    i1, i2 = _flat_index(n1, n), _flat_index(n2, n)
    if op == "multiply":
        frac = a_t.frac + b_t.frac
        ka = kb = 1.0
        bound = _raw_abs_max(a_t) * _raw_abs_max(b_t)
    else:
        frac = max(a_t.frac, b_t.frac)
        ka, kb = 2.0 ** (frac - a_t.frac), 2.0 ** (frac - b_t.frac)
        bound = _raw_abs_max(a_t) * ka + _raw_abs_max(b_t) * kb
    if bound >= F64_EXACT:
        raise Unsupported(f"layer {layer.name}: {op} of {a_t} and {b_t} is wider than 53 bits")
    out_frac = frac + 1 if op == "average" else frac  # * 0.5: the same codes, one more fraction bit
    if op in ("maximum", "minimum"):
        lo = min(a_t.min_value, b_t.min_value)
        hi = max(a_t.max_value, b_t.max_value)
        rng: tuple[float, float] | None = (lo, hi)
    elif op == "multiply":
        rng = None
    else:
        s = 0.5 if op == "average" else 1.0
        if op == "subtract":
            rng = ((a_t.min_value - b_t.max_value) * s, (a_t.max_value - b_t.min_value) * s)
        else:
            rng = ((a_t.min_value + b_t.min_value) * s, (a_t.max_value + b_t.max_value) * s)

    def fn(a: np.ndarray, b: np.ndarray, owned: bool) -> np.ndarray:
        m = a.shape[0]
        x = a.reshape(m, n1).astype(np.float64)
        y = b.reshape(m, n2).astype(np.float64)
        if i1 is not None:
            x = x[:, i1]
        if i2 is not None:
            y = y[:, i2]
        if ka != 1.0:
            x *= ka
        if kb != 1.0:
            y *= kb
        if op in ("add", "average"):
            r = x + y
        elif op == "subtract":
            r = x - y
        elif op == "multiply":
            r = x * y
        elif op == "maximum":
            r = np.where(x > y, x, y)
        else:
            r = np.where(x < y, x, y)
        return cast_raw(r, out_frac, rng, out_t, inplace=True).reshape((m, *out_shape))

    return fn, {"op": op}


def _build_concatenate(layer, srcs: list[Tensor], out_t, out_shape, project_dir, io_type):
    if len(srcs) != 2:
        raise Unsupported(f"layer {layer.name}: concatenation of {len(srcs)} inputs")
    rank = len(srcs[0].shape)
    if rank != len(srcs[1].shape) or rank > 3:
        raise Unsupported(f"layer {layer.name}: concatenation of ranks {srcs[0].shape}, {srcs[1].shape}")
    axis = int(layer.get_attr("axis", -1))
    # nnet_merge.h: axis == rank or -1 -> last; rank-1 or -2 -> middle; otherwise the first axis
    # (Keras counts the batch axis)
    if rank == 1:
        ax = 0
    elif axis in (rank, -1):
        ax = rank - 1
    elif rank == 3 and axis in (2, -2):
        ax = 1
    else:
        ax = 0
    shapes = [tuple(s.shape) for s in srcs]
    want = list(shapes[0])
    want[ax] += shapes[1][ax]
    if tuple(want) != tuple(out_shape) or any(
            shapes[0][d] != shapes[1][d] for d in range(rank) if d != ax):
        raise Unsupported(f"layer {layer.name}: concatenation {shapes} -> {out_shape} on axis {axis}")
    casts = []
    for s in srcs:
        casts.append((s.type.frac, None if out_t.same_value_set(s.type) else _type_range(s.type)))

    def fn(a: np.ndarray, b: np.ndarray, owned: bool) -> np.ndarray:
        m = a.shape[0]
        parts = []
        for arr, shp, (frac, rng) in zip((a, b), shapes, casts):
            arr = arr.reshape((m, *shp))
            parts.append(arr if rng is None else cast_raw(arr, frac, rng, out_t))
        dt = _dtype_for(out_t)
        return np.concatenate([p.astype(dt, copy=False) for p in parts], axis=ax + 1)

    return fn, {"axis": axis}
