"""Element-wise layers: relu/linear activations and batch normalisation (scale and shift)."""

from __future__ import annotations

import numpy as np

from hwflow.emu.fast.core import (
    F32_EXACT,
    F64_EXACT,
    Unsupported,
    _cfg_type,
    _check_product,
    _config_value,
    _dtype_for,
    _finish_activation,
    _raw_abs_max,
    _type_range,
    _weights,
    cast_raw,
)
from hwflow.emu.tables import act_table_index, sigmoid_table, tanh_table


def _build_activation(layer, src, out_t, out_shape, project_dir, io_type):
    act = str(layer.get_attr("activation", "")).lower()
    if act in ("sigmoid", "tanh"):
        return _build_table_activation(layer, src, out_t, act)
    if act not in ("linear", "relu"):
        raise Unsupported(f"layer {layer.name}: activation {act!r} not emulated")
    src_range = _type_range(src.type)
    if act == "relu":
        src_range = (0.0, max(0.0, src_range[1]))

    shift = src.type.frac - out_t.frac
    scale = 2.0 ** (-shift)

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        y = a if owned else a.copy()
        if shift:
            y *= y.dtype.type(scale)
        return _finish_activation(y, shift, out_t, act == "relu", _type_range(src.type))

    return fn, {"activation": act, "_relu": act == "relu"}


def _build_table_activation(layer, src, out_t, act):
    """nnet::sigmoid / nnet::tanh: ``res_T r = table[index]`` with the table rebuilt as the C++
    fills it and the index computed as it does (see :func:`hwflow.emu.tables.act_table_index`)."""
    table_t = _cfg_type(layer, "table_t", "table_t")
    size = int(_config_value(layer, "table_size") or layer.get_attr("table_size", 1024))
    table = sigmoid_table(table_t, size) if act == "sigmoid" else tanh_table(table_t, size)
    table_raw = out_t.to_raw(table).astype(_dtype_for(out_t))
    span = 16 if act == "sigmoid" else 8

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        return table_raw[act_table_index(a, src.type, size, span)]

    return fn, {"activation": act, "table_t": str(table_t), "table_size": size}


def _build_batchnorm(layer, src, out_t, out_shape, project_dir, io_type):
    _check_product(layer)
    s_t = _cfg_type(layer, "scale_t", "scale_t")
    b_t = _cfg_type(layer, "bias_t", "bias_t")
    s = _weights(layer, "scale", s_t, project_dir).reshape(-1)
    b = _weights(layer, "bias", b_t, project_dir).reshape(-1)
    n_in = int(np.prod(src.shape))
    n_filt = int(layer.get_attr("n_filt", -1) or -1)
    if n_filt == -1:
        if s.size != n_in:
            raise Unsupported(f"layer {layer.name}: {s.size} scales for {n_in} inputs")
        s_full, b_full = s, b
    else:
        if n_in % n_filt or s.size < n_filt:
            raise Unsupported(f"layer {layer.name}: n_filt {n_filt} does not divide {n_in}")
        idx = np.arange(n_in) % n_filt  # norm_index = i % n_filt (channels-last)
        s_full, b_full = s[idx], b[idx]
    fx = src.type.frac
    fp = fx + s_t.frac
    fwork = max(fp, b_t.frac)
    s_raw = np.ldexp(s_full, s_t.frac)
    b_raw = np.ldexp(b_full, fwork)
    bound = _raw_abs_max(src.type) * np.abs(s_raw) * 2.0 ** (fwork - fp) + np.abs(b_raw)
    if bound.size and float(bound.max()) >= F64_EXACT:
        raise Unsupported(f"layer {layer.name}: batchnorm products exceed 2**53")
    use32 = bool(bound.size == 0 or float(bound.max()) < F32_EXACT) and _dtype_for(src.type) == np.float32
    dt = np.float32 if use32 else np.float64
    s_w = (s_raw * 2.0 ** (fwork - fp)).astype(dt)
    b_w = b_raw.astype(dt)
    hi = float(bound.max()) if bound.size else 0.0
    work_range = (-hi * 2.0**-fwork, hi * 2.0**-fwork)

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        n = a.shape[0]
        y = a.reshape(n, n_in).astype(dt, copy=True)
        y *= s_w
        y += b_w
        return cast_raw(y, fwork, work_range, out_t, inplace=True).reshape((n, *out_shape))

    return fn, {"scale_t": str(s_t), "bias_t": str(b_t)}
