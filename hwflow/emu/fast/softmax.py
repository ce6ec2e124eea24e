"""Softmax: hls4ml's stable/latency table implementations and the argmax shortcut."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hwflow.emu.fast.core import Unsupported, _cfg_type, _config_typedef, _config_value, _dtype_for, cast_raw
from hwflow.emu.fixed import apply_overflow
from hwflow.emu.tables import softmax_exp_table, softmax_invert_table, table_index


def _tree_reduce(cols: list[np.ndarray], op: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """nnet::reduce: left part is the largest power of two below N, recursively."""
    n = len(cols)
    if n == 1:
        return cols[0]
    if n == 2:
        return op(cols[0], cols[1])
    left = 1 << int(np.floor(np.log2(n - 1)))
    return op(_tree_reduce(cols[:left], op), _tree_reduce(cols[left:], op))


def _build_softmax_argmax(layer, src, out_t):
    """nnet::softmax_argmax: a one-hot of the first maximal input (strict '>' scan), (res_T)1 at it."""
    if len(src.shape) != 1:
        raise Unsupported(f"layer {layer.name}: softmax over a multi-dimensional tensor")
    n = int(src.shape[0])
    one_raw = cast_raw(np.ones((1, 1)), 0, None, out_t, inplace=False).astype(np.float64)[0, 0]

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        x = a.reshape(a.shape[0], n)
        out = np.zeros((x.shape[0], n), dtype=_dtype_for(out_t))
        out[np.arange(x.shape[0]), np.argmax(x, axis=1)] = one_raw  # np.argmax: first maximum, as the C++
        return out

    return fn, {"implementation": "argmax"}


def _build_softmax(layer, src, out_t, out_shape, project_dir, io_type):
    impl = str(layer.get_attr("implementation", "stable")).lower()
    if impl == "argmax":
        return _build_softmax_argmax(layer, src, out_t)
    if impl not in ("stable", "latency"):
        raise Unsupported(f"layer {layer.name}: softmax implementation {impl!r} not emulated")
    if len(src.shape) != 1 or int(layer.get_attr("n_outer", 1) or 1) != 1 or int(layer.get_attr("n_inner", 1) or 1) != 1:
        raise Unsupported(f"layer {layer.name}: softmax over a multi-dimensional tensor")
    if layer.get_attr("skip", False):
        raise Unsupported(f"layer {layer.name}: skipped softmax")
    n = int(src.shape[0])
    exp_t = _cfg_type(layer, "exp_table_t", "exp_table_t")
    inv_t = _cfg_type(layer, "inv_table_t", "inv_table_t")
    acc_t = _cfg_type(layer, "accum_t", "accum_t")
    inv_inp_t = _cfg_type(layer, "inv_inp_t", "inv_inp_t")
    exp_size = int(_config_value(layer, "exp_table_size") or layer.get_attr("exp_table_size", 0)
                   or layer.get_attr("table_size", 1024))
    inv_size = int(_config_value(layer, "inv_table_size") or layer.get_attr("inv_table_size", 0)
                   or layer.get_attr("table_size", 1024))
    scale_txt = _config_value(layer, "exp_scale")
    exp_scale = float(scale_txt.rstrip("fF")) if scale_txt else 1.0
    if impl == "stable":
        norm_t = _config_typedef(layer, "inp_norm_t")
        if norm_t is None:
            raise Unsupported(f"layer {layer.name}: softmax inp_norm_t not found in its config")
        exp_addr = norm_t
    else:
        norm_t = None
        exp_addr = src.type
    try:
        exp_table_real = softmax_exp_table(exp_addr, exp_t, exp_size, negative=impl == "stable",
                                                  exp_scale=exp_scale)
        inv_table_real = softmax_invert_table(inv_inp_t, inv_t, inv_size)
    except ValueError as e:
        raise Unsupported(f"layer {layer.name}: {e}") from None
    # exp_res[i] = exp_table[idx] is an assignment exp_table_t -> accum_t
    exp_table_acc = acc_t.to_raw(exp_table_real)
    inv_raw = np.ldexp(inv_table_real, inv_t.frac)
    fprod = acc_t.frac + inv_t.frac
    if acc_t.width + inv_t.width > 53:
        raise Unsupported(f"layer {layer.name}: softmax product wider than 53 bits")

    def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        s = a + b  # exact: same LSB, < 2**53
        return apply_overflow(s, acc_t, out=s)

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        x = a.reshape(a.shape[0], n).astype(np.float64)
        if impl == "stable":
            d = x.max(axis=1, keepdims=True) - x  # x_max - x_i, exact in the input's LSB
            d = cast_raw(d, src.type.frac, None, norm_t, inplace=True).astype(np.float64)
            idx = table_index(d, norm_t, exp_size)
        else:
            idx = table_index(x, src.type, exp_size)
        e = exp_table_acc[idx]  # accum_t raw
        total = _tree_reduce([e[:, i] for i in range(n)], add)
        total = cast_raw(total, acc_t.frac, None, inv_inp_t, inplace=True).astype(np.float64)
        inv = inv_raw[table_index(total, inv_inp_t, inv_size)]
        prod = e * inv[:, None]  # exact: < 2**53
        return cast_raw(prod, fprod, None, out_t, inplace=True)

    return fn, {"implementation": impl, "exp_table_t": str(exp_t), "inv_table_t": str(inv_t),
                "accum_t": str(acc_t), "inv_inp_t": str(inv_inp_t),
                "inp_norm_t": str(norm_t) if norm_t else None}
