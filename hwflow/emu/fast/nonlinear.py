"""Parametrised and piecewise-linear activations, as nnet_activation(_stream).h computes them.

* LeakyReLU (also QKeras ``quantized_relu(negative_slope=...)``): ``x > 0 ? x : alpha * x``,
  ``alpha`` the call's double literal converted to ``param_t``; the product is exact, then one
  assignment to ``res_T``;
* ThresholdedReLU: ``x > theta ? x : 0`` (``theta`` in ``param_t``);
* PReLU: LeakyReLU with one ``alpha`` per element, read from the firmware's weight file;
* HardActivation (Keras ``hard_sigmoid``, QKeras ``quantized_sigmoid`` / ``quantized_tanh``
  without ``use_real_*``): ``s = clip(slope * x + shift, 0, 1)`` exactly, then ``res_T r = s``
  (hard_tanh: ``2 * s - 1``);
* ELU: ``x >= 0 ? x : alpha * table[idx]`` with ``idx = min(int(x * N / -8), N - 1)`` (ap_fixed's
  division and int conversion truncate towards zero) and ``table[i] = table_t(expf(-8 i / N) - 1)``
  computed in float as the C++ does (glibc ``expf``, as :mod:`hwflow.emu.tables`).
"""

from __future__ import annotations

import numpy as np

from hwflow.emu.fast.core import F64_EXACT, Unsupported, _cfg_type, _config_value, _layer_type, _raw_abs_max, _weights, cast_raw
from hwflow.emu.fixed import FixedType
from hwflow.emu.tables import expf, to_fixed


def _literal(layer, attr: str, default: float) -> float:
    """The float hls4ml prints into the C++ call (``str(value)``), parsed as the compiler does."""
    v = layer.get_attr(attr, default)
    try:
        return float(str(v))
    except ValueError:
        raise Unsupported(f"layer {layer.name}: {attr} = {v!r} is not a number") from None


def _param_type(layer) -> FixedType:
    return _cfg_type(layer, "param_t", "param_t")


def _check_exact(layer, bound: float) -> None:
    if bound >= F64_EXACT:
        raise Unsupported(f"layer {layer.name}: intermediate values wider than 53 bits")


def _build_leaky_relu(layer, src, out_t, out_shape, project_dir, io_type):
    p_t = _param_type(layer)
    alpha = float(p_t.to_raw(_literal(layer, "activ_param", 0.3)))
    fx, fp = src.type.frac, p_t.frac
    _check_exact(layer, _raw_abs_max(src.type) * max(abs(alpha), 2.0**fp))
    up = 2.0**fp

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        x = a.astype(np.float64)
        y = np.where(x > 0, x * up, x * alpha)
        return cast_raw(y, fx + fp, None, out_t, inplace=True)

    return fn, {"activation": "leaky_relu", "alpha": alpha * 2.0**-fp, "param_t": str(p_t)}


def _build_thresholded_relu(layer, src, out_t, out_shape, project_dir, io_type):
    p_t = _param_type(layer)
    theta = float(p_t.quantize(_literal(layer, "activ_param", 1.0)))
    theta_raw = theta * 2.0**src.type.frac  # compared exactly (a real number, not necessarily a code)
    rng = (min(0.0, src.type.min_value), max(0.0, src.type.max_value))

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        x = a.astype(np.float64)  # compare in float64: theta_raw need not be a float32
        y = np.where(x > theta_raw, x, 0.0)
        return cast_raw(y, src.type.frac, rng, out_t, inplace=True)

    return fn, {"activation": "thresholded_relu", "theta": theta, "param_t": str(p_t)}


def _build_prelu(layer, src, out_t, out_shape, project_dir, io_type):
    p_t = _cfg_type(layer, "param_t", "param_t")
    alpha = _weights(layer, "param", p_t, project_dir).reshape(-1)
    n = int(np.prod(src.shape))
    if alpha.size != n:
        raise Unsupported(f"layer {layer.name}: {alpha.size} PReLU parameters for {n} inputs")
    a_raw = np.ldexp(alpha, p_t.frac)
    fx, fp = src.type.frac, p_t.frac
    _check_exact(layer, _raw_abs_max(src.type) * max(float(np.abs(a_raw).max(initial=0.0)), 2.0**fp))
    up = 2.0**fp

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        m = a.shape[0]
        x = a.reshape(m, n).astype(np.float64)
        y = np.where(x > 0, x * up, x * a_raw)
        return cast_raw(y, fx + fp, None, out_t, inplace=True).reshape((m, *out_shape))

    return fn, {"activation": "prelu", "param_t": str(p_t)}


def _build_hard(layer, src, out_t, out_shape, project_dir, io_type):
    act = str(layer.get_attr("activation", "")).lower()
    if act not in ("hard_sigmoid", "hard_tanh"):
        raise Unsupported(f"layer {layer.name}: hard activation {act!r} not emulated")
    slope_t = _layer_type(layer, "slope_t")
    shift_t = _layer_type(layer, "shift_t")
    slope = float(slope_t.to_raw(_literal(layer, "slope", 0.2)))
    shift = float(shift_t.to_raw(_literal(layer, "shift", 0.5)))
    x_t = src.type
    # ``auto datareg = slope * x + shift`` must be able to hold the clip bounds 0 and 1
    if x_t.integer < (1 if x_t.signed else 0):
        raise Unsupported(f"layer {layer.name}: hard activation on {x_t} (intermediate type cannot hold 1)")
    fprod = slope_t.frac + x_t.frac
    f = max(fprod, shift_t.frac)
    k_prod, k_shift = 2.0 ** (f - fprod), 2.0 ** (f - shift_t.frac)
    one = 2.0**f
    _check_exact(layer, _raw_abs_max(x_t) * abs(slope) * k_prod + abs(shift) * k_shift + 2 * one)
    tanh = act == "hard_tanh"

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        s = a.astype(np.float64) * (slope * k_prod)
        s += shift * k_shift
        np.clip(s, 0.0, one, out=s)  # if (s > 1) s = 1; else if (s < 0) s = 0;
        if tanh:
            s *= 2.0
            s -= one
        return cast_raw(s, f, (-1.0, 1.0) if tanh else (0.0, 1.0), out_t, inplace=True)

    return fn, {"activation": act, "slope": slope * slope_t.lsb, "shift": shift * shift_t.lsb,
                "slope_t": str(slope_t), "shift_t": str(shift_t)}


def elu_table(table_t: FixedType, size: int) -> np.ndarray:
    """``init_elu_table``: ``table_t(float(expf(float(-8.0 * i / float(N))) - 1.0))`` (real values)."""
    i = np.arange(size, dtype=np.float64)
    in_val = (-8.0 * i / np.float64(np.float32(size))).astype(np.float32)
    e = expf(in_val).astype(np.float64) - 1.0  # float promoted to double, minus 1.
    return to_fixed(e.astype(np.float32), table_t)


def _build_elu(layer, src, out_t, out_shape, project_dir, io_type):
    table_t = _cfg_type(layer, "table_t", "table_t")
    size = int(_config_value(layer, "table_size") or layer.get_attr("table_size", 1024))
    x_t = src.type
    if layer.get_attr("param_t") is not None:
        p_t = _param_type(layer)
        alpha_real = float(p_t.quantize(_literal(layer, "activ_param", 1.0)))
    else:  # elu(data, res): alpha = ap_uint<1>(1.0)
        p_t, alpha_real = FixedType(1, 1, signed=False), 1.0
    table = elu_table(table_t, size)
    f = max(x_t.frac, p_t.frac + table_t.frac)
    prod = np.ldexp(alpha_real * table, f)  # alpha * table[i]: exact in 2**-f units
    if not np.all(np.abs(prod) < F64_EXACT) or not np.array_equal(prod, np.round(prod)):
        raise Unsupported(f"layer {layer.name}: ELU product not exact in float64")
    k_x = 2.0 ** (f - x_t.frac)
    denom = 8.0 * 2.0**x_t.frac
    _check_exact(layer, _raw_abs_max(x_t) * max(size, k_x))

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        x = a.astype(np.float64)
        neg = x < 0
        idx = np.floor(-x * size / denom)  # x < 0: truncation towards zero is the floor
        idx = np.clip(idx, 0, size - 1).astype(np.intp)
        y = np.where(neg, prod[idx], x * k_x)
        return cast_raw(y, f, None, out_t, inplace=True)

    return fn, {"activation": "elu", "alpha": alpha_real, "table_t": str(table_t), "table_size": size}



def _build_parametrized(layer, src, out_t, out_shape, project_dir, io_type):
    """hls4ml's ParametrizedActivation: LeakyReLU, ThresholdedReLU or ELU by its activation."""
    act = str(layer.get_attr("activation", "")).lower().replace("_", "")
    builder = {"leakyrelu": _build_leaky_relu, "thresholdedrelu": _build_thresholded_relu,
               "elu": _build_elu}.get(act)
    if builder is None:
        raise Unsupported(f"layer {layer.name}: parametrised activation {act!r} not emulated")
    return builder(layer, src, out_t, out_shape, project_dir, io_type)
