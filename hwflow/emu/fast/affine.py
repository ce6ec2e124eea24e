"""Dense and convolution (im2col + one matrix product on exact integer codes)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from hwflow.emu.fast.core import (
    F32_EXACT,
    F64_EXACT,
    Tensor,
    Unsupported,
    _cfg_type,
    _check_product,
    _dtype_for,
    _raw_abs_max,
    _type_range,
    _weights,
    _windows,
    cast_raw,
)
from hwflow.emu.fast.da import da_kernel
from hwflow.emu.fixed import FixedType, _round_inplace, apply_overflow


class _Affine:
    """acc = bias + sum_i cast<accum_t>(x_i * w_ij), then res = cast<res_t>(acc).

    The kernel of Dense and of every convolution (after im2col). With WRAP accumulators the
    order of additions does not matter (two's complement is modular), so one matrix product
    gives the firmware's sum; with saturating accumulators we require that no partial sum can
    overflow, which makes the order irrelevant again.
    """

    def __init__(self, name: str, w_raw: np.ndarray, w_t: FixedType, b_acc_raw: np.ndarray,
                 x_t: FixedType, acc_t: FixedType, res_t: FixedType) -> None:
        self.name = name
        self.x_t, self.acc_t, self.res_t = x_t, acc_t, res_t
        fp = x_t.frac + w_t.frac  # fractional bits of an exact product
        self.shift = acc_t.frac - fp  # >= 0: products enter the accumulator exactly
        xmax = _raw_abs_max(x_t)
        col_abs = np.abs(w_raw).sum(axis=0)  # per output
        if self.shift >= 0:
            prod_bound = xmax * col_abs  # in product units
            acc_bound = prod_bound * 2.0**self.shift + np.abs(b_acc_raw)
            self.per_product = False
        else:
            # each product is rounded to the accumulator's LSB before it is added
            acc_bound = np.ceil(xmax * col_abs * 2.0**self.shift) + w_raw.shape[0] + np.abs(b_acc_raw)
            prod_bound = xmax * np.abs(w_raw).max(axis=0) if w_raw.size else np.zeros(0)
            self.per_product = True
        bound = float(acc_bound.max()) if acc_bound.size else 0.0
        if bound >= F64_EXACT or (prod_bound.size and float(prod_bound.max()) >= F64_EXACT):
            raise Unsupported(f"layer {name}: accumulation may exceed 2**53 (not exact in float64)")
        if acc_t.overflow != "WRAP" and bound > acc_t.raw_max:
            raise Unsupported(f"layer {name}: saturating accumulator {acc_t} may overflow "
                              "(result would depend on the order of additions)")
        self.wraps = bound > min(abs(acc_t.raw_min), acc_t.raw_max)  # WRAP may really trigger
        mm_bound = float((xmax * col_abs).max()) if col_abs.size else 0.0
        self.mm_dtype = np.float32 if (mm_bound < F32_EXACT and not self.per_product
                                       and _dtype_for(x_t) == np.float32) else np.float64
        if self.per_product:
            self.mm_dtype = np.float64
        self.w = w_raw.astype(self.mm_dtype)
        self.acc_dtype = np.float32 if (bound < F32_EXACT and self.mm_dtype == np.float32) else np.float64
        self.b = b_acc_raw.astype(self.acc_dtype)
        self.has_bias = bool(np.any(b_acc_raw != 0))
        # the accumulator's value range (for skipping the result's overflow pass)
        self.acc_range = (-bound * acc_t.lsb, bound * acc_t.lsb) if not self.wraps else _type_range(acc_t)
        self.res_identity = acc_t.same_value_set(res_t) and not self.wraps

    def info(self) -> dict[str, Any]:
        return {"accum_t": str(self.acc_t), "matmul": np.dtype(self.mm_dtype).name,
                "per_product_rounding": self.per_product, "accum_may_wrap": self.wraps}

    @property
    def fusable(self) -> bool:
        """The accumulator reaches the next layer unchanged (no wrap, no result cast)."""
        return self.res_identity and not self.per_product and not self.wraps

    def scaled(self, x2d: np.ndarray, out_frac: int) -> np.ndarray:
        """The accumulator expressed in units of ``2**-out_frac`` (fractional codes).

        Weights and bias are pre-multiplied by that power of two, which is exact, so the next
        layer's cast needs only its rounding and overflow passes.
        """
        key = out_frac
        cache = self.__dict__.setdefault("_scaled", {})
        if key not in cache:
            k = 2.0 ** (out_frac - self.acc_t.frac + self.shift)
            cache[key] = ((self.w.astype(np.float64) * k).astype(self.mm_dtype),
                          (self.b.astype(np.float64) * 2.0 ** (out_frac - self.acc_t.frac)).astype(self.acc_dtype))
        w, b = cache[key]
        acc = x2d.astype(self.mm_dtype, copy=False) @ w
        if acc.dtype != self.acc_dtype:
            acc = acc.astype(self.acc_dtype)
        if self.has_bias:
            acc += b
        return acc

    def __call__(self, x2d: np.ndarray) -> np.ndarray:
        acc = self._sum_products(x2d)
        if self.has_bias:
            acc += self.b
        if self.wraps:
            acc = acc.astype(np.float64, copy=False)
            apply_overflow(acc, self.acc_t, out=acc)
        if self.res_identity:
            want = _dtype_for(self.res_t)
            return acc if acc.dtype == want else acc.astype(want)
        return cast_raw(acc, self.acc_t.frac, self.acc_range, self.res_t, inplace=True)

    def _sum_products(self, x2d: np.ndarray) -> np.ndarray:
        """sum_i accum_t(x_i * w_ij) in accumulator codes (before the bias)."""
        if self.per_product:
            xs = x2d.astype(np.float64, copy=False)
            acc = np.zeros((x2d.shape[0], self.w.shape[1]), dtype=np.float64)
            scale = 2.0**self.shift
            tmp = np.empty_like(acc)
            for i in range(self.w.shape[0]):
                np.multiply(xs[:, i:i + 1], self.w[i], out=tmp)
                tmp *= scale
                _round_inplace(tmp, self.acc_t.rounding)
                acc += tmp
        else:
            acc = x2d.astype(self.mm_dtype, copy=False) @ self.w
            if acc.dtype != self.acc_dtype:
                acc = acc.astype(self.acc_dtype)
            if self.shift:
                acc *= acc.dtype.type(2.0**self.shift)
        return acc


class _DepthwiseAffine(_Affine):
    """The depthwise kernel: the block-diagonal weights of :class:`_Affine` (for its bounds, fusion
    and matrix path), but products rounded one by one are formed only where a weight is (one
    output channel per input), ``(M, P, C) * (P, C)`` in one vectorised pass."""

    def __init__(self, *args: Any, w_pc: np.ndarray, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.w_pc = np.asarray(w_pc, dtype=np.float64)  # raw weight codes, (P, C)

    def _sum_products(self, x2d: np.ndarray) -> np.ndarray:
        if not self.per_product:
            return super()._sum_products(x2d)
        p, c = self.w_pc.shape
        w = self.__dict__.get("_w_scaled")
        if w is None:  # weights pre-scaled to accumulator units (a power of two: exact)
            w = self.__dict__.setdefault("_w_scaled", self.w_pc * 2.0**self.shift)
        prod = x2d.astype(np.float64).reshape(-1, p, c) * w
        _round_inplace(prod, self.acc_t.rounding)
        return prod.sum(axis=1)  # exact: integers below 2**53 (checked by _Affine)


def _exact_type(values: np.ndarray, what: str, layer: Any) -> FixedType:
    """The narrowest signed type holding every value exactly (the constants of a DA kernel)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0 or not np.all(np.isfinite(v)):
        raise Unsupported(f"layer {layer.name}: distributed-arithmetic {what} not finite")
    for f in range(-8, 40):
        if np.array_equal(np.ldexp(v, f), np.round(np.ldexp(v, f))):
            break
    else:
        raise Unsupported(f"layer {layer.name}: distributed-arithmetic {what} are not fixed-point constants")
    vmax = float(np.max(np.abs(np.ldexp(v, f))))
    width = max(2, int(vmax).bit_length() + 1)
    if width > 53:
        raise Unsupported(f"layer {layer.name}: distributed-arithmetic {what} wider than 53 bits")
    return FixedType(width, width - f)


def _da_affine(layer: Any, src: Tensor, out_t: FixedType, w_full: np.ndarray, b: np.ndarray) -> _Affine:
    """hls4ml's ``distributed_arithmetic`` kernel (da4ml's ``dense_da_<i>``): the exact sum of
    the input times the layer's constant weights plus the bias (an adder graph of shifts, no
    rounding anywhere inside), then one cast to the result type - an exact accumulator."""
    w_t = _exact_type(w_full, "weights", layer)
    b_t = _exact_type(b, "biases", layer) if np.any(b != 0) else w_t
    x_t = src.type
    frac = max(x_t.frac + w_t.frac, b_t.frac)
    bound = (max(abs(x_t.min_value), abs(x_t.max_value)) * np.abs(w_full).sum(axis=0) + np.abs(b)).max()
    integer = max(1, math.ceil(math.log2(float(bound) + 1.0)) + 1)
    if integer + frac > 53:
        raise Unsupported(f"layer {layer.name}: distributed-arithmetic sum wider than 53 bits")
    acc_t = FixedType(integer + frac, integer)
    return _Affine(layer.name, np.ldexp(w_full, w_t.frac), w_t, np.ldexp(b, acc_t.frac), x_t, acc_t, out_t)


def _affine_for(layer: Any, src: Tensor, out_t: FixedType, project_dir: Path | None,
                w_full: np.ndarray, w_pc: np.ndarray | None = None) -> _Affine:
    if _strategy_ok(layer) == "distributed_arithmetic":
        _, b = da_kernel(layer, w_full.shape[0], w_full.shape[1], src.type)
        return _da_affine(layer, src, out_t, w_full, b)
    _check_product(layer)
    w_t = _cfg_type(layer, "weight_t", "weight_t")
    b_t = _cfg_type(layer, "bias_t", "bias_t")
    acc_t = _cfg_type(layer, "accum_t", "accum_t")
    b = _weights(layer, "bias", b_t, project_dir).reshape(-1)
    w_raw = np.ldexp(w_full, w_t.frac)
    b_acc_raw = acc_t.to_raw(b)  # (accum_t) bias
    if w_pc is not None:  # depthwise: (P, C) weight codes beside the block-diagonal matrix
        return _DepthwiseAffine(layer.name, w_raw, w_t, b_acc_raw, src.type, acc_t, out_t, w_pc=w_pc)
    return _Affine(layer.name, w_raw, w_t, b_acc_raw, src.type, acc_t, out_t)


def _strategy_ok(layer: Any) -> str:
    strategy = str(layer.get_attr("strategy", "latency")).lower()
    if strategy not in ("latency", "resource", "distributed_arithmetic"):
        raise Unsupported(f"layer {layer.name}: strategy {strategy!r} not emulated")
    return strategy


def _kernel_weights(layer: Any, project_dir: Path | None, src: Tensor, n_in: int, n_out: int) -> np.ndarray:
    """The weights the firmware computes with: ``weight_t`` values from the weight file, or for
    a distributed-arithmetic layer the constants of its generated ``dense_da_<i>`` kernel (hls4ml
    deletes the layer's weights and ``weight_t`` then), shape (n_in, n_out)."""
    if _strategy_ok(layer) == "distributed_arithmetic":
        return da_kernel(layer, n_in, n_out, src.type)[0]
    w_t = _cfg_type(layer, "weight_t", "weight_t")
    return _weights(layer, "weight", w_t, project_dir)


def _build_dense(layer, src, out_t, out_shape, project_dir, io_type):
    n_in, n_out = int(layer.get_attr("n_in")), int(layer.get_attr("n_out"))
    w = _kernel_weights(layer, project_dir, src, n_in, n_out)
    if layer.get_attr("_weights_transposed", False):
        w = w.T  # resource strategy stores (n_out, n_in)
    w = w.reshape(n_in, n_out)
    if len(src.shape) != 1 and int(np.prod(src.shape)) != n_in:
        raise Unsupported(f"layer {layer.name}: dense on shape {src.shape}")
    aff = _affine_for(layer, src, out_t, project_dir, w)

    def prep(a: np.ndarray) -> np.ndarray:
        return a.reshape(a.shape[0], n_in)

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        return aff(prep(a))

    return fn, {**aff.info(), "_affine": aff, "_prep": prep}


def _conv_geometry(layer: Any, dims: int) -> dict[str, int]:
    g = {}
    keys = ["in_width", "filt_width", "stride_width", "out_width", "pad_left", "pad_right", "n_chan", "n_filt"]
    if dims == 2:
        keys += ["in_height", "filt_height", "stride_height", "out_height", "pad_top", "pad_bottom"]
    for k in keys:
        v = layer.get_attr(k)
        if v is None:
            raise Unsupported(f"layer {layer.name}: missing {k}")
        g[k] = int(v)
    if dims == 1:
        g.update(in_height=1, filt_height=1, stride_height=1, out_height=1, pad_top=0, pad_bottom=0)
    for k in ("dilation", "dilation_width", "dilation_height"):
        if int(layer.get_attr(k, 1) or 1) != 1:
            raise Unsupported(f"layer {layer.name}: dilated convolution")
    return g


def _windowed(aff: Any, g: dict[str, int], out_shape: tuple[int, ...]) -> tuple[Any, Any]:
    """A convolution as an affine map over windows: ``prep`` turns (N, ...) activations into the
    im2col rows of every output pixel (zero-padded), ``fn`` applies ``aff`` to them."""
    ih, iw, c = g["in_height"], g["in_width"], g["n_chan"]
    kh, kw = g["filt_height"], g["filt_width"]
    oh, ow = g["out_height"], g["out_width"]
    sh, sw = g["stride_height"], g["stride_width"]

    def prep(a: np.ndarray) -> np.ndarray:
        n = a.shape[0]
        win = _windows(a.reshape(n, ih, iw, c), g, 0.0, kh, kw, sh, sw, oh, ow)
        return np.ascontiguousarray(win).reshape(n * oh * ow, kh * kw * c)

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        return aff(prep(a)).reshape((a.shape[0], *out_shape))

    return prep, fn


def _build_conv(layer, src, out_t, out_shape, project_dir, io_type):
    dims = 2 if layer.class_name.endswith("2D") else 1
    g = _conv_geometry(layer, dims)
    w = _kernel_weights(layer, project_dir, src, g["filt_height"] * g["filt_width"] * g["n_chan"], g["n_filt"])
    if layer.get_attr("_weights_transposed", False):
        # resource strategy stores (F, [H,] W, C): back to ([H,] W, C, F)
        w = np.moveaxis(w, 0, -1)
    kh, kw, c, f = g["filt_height"], g["filt_width"], g["n_chan"], g["n_filt"]
    w = w.reshape(kh, kw, c, f).reshape(kh * kw * c, f)
    aff = _affine_for(layer, src, out_t, project_dir, w)
    prep, fn = _windowed(aff, g, out_shape)
    sh, sw = g["stride_height"], g["stride_width"]
    geometry = {"kernel": [kh, kw] if dims == 2 else [kw], "stride": [sh, sw] if dims == 2 else [sw]}
    return fn, {**aff.info(), "_affine": aff, "_prep": prep, **geometry}


def _build_depthwise(layer, src, out_t, out_shape, project_dir, io_type):
    """DepthwiseConv1D/2D (and the depthwise half hls4ml splits off a SeparableConv): per window,
    ``acc[c] = bias[c] + sum_p accum_t(x[p, c] * w[p, c])`` (nnet_depthwise_product.h), i.e. a
    Dense on the im2col window with a block-diagonal weight matrix - the same exact kernel."""
    dims = 2 if layer.class_name.endswith("2D") else 1
    if _strategy_ok(layer) != "latency":
        raise Unsupported(f"layer {layer.name}: depthwise convolution with the {_strategy_ok(layer)} strategy")
    g = _conv_geometry(layer, dims)
    if int(layer.get_attr("depth_multiplier", 1) or 1) != 1 or g["n_filt"] != g["n_chan"]:
        raise Unsupported(f"layer {layer.name}: depth_multiplier other than 1")
    w_t = _cfg_type(layer, "weight_t", "weight_t")
    w = _weights(layer, "weight", w_t, project_dir)
    kh, kw, c = g["filt_height"], g["filt_width"], g["n_chan"]
    w = w.reshape(kh * kw, c)
    full = np.zeros((kh * kw, c, c))
    full[:, np.arange(c), np.arange(c)] = w  # input (p, ch) feeds output ch only
    aff = _affine_for(layer, src, out_t, project_dir, full.reshape(kh * kw * c, c),
                      w_pc=np.ldexp(w, w_t.frac))
    prep, fn = _windowed(aff, g, out_shape)
    sh, sw = g["stride_height"], g["stride_width"]
    geometry = {"kernel": [kh, kw] if dims == 2 else [kw], "stride": [sh, sw] if dims == 2 else [sw],
                "depthwise": True}
    return fn, {**aff.info(), "_affine": aff, "_prep": prep, **geometry}
