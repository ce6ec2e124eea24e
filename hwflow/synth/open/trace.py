"""Trace a converted hls4ml network into da4ml's adder graph, layer by layer, bit-exact.

Everything comes from the hls4ml ``ModelGraph`` the convert step built (and the firmware it
wrote): the weights as the firmware loads them and every type (input, weight, bias, accumulator,
result). Each layer reproduces the firmware's arithmetic:

* Dense / Conv1D / Conv2D (io_parallel): exact products summed in ``accum_t`` (two's complement
  wrap when it is WRAP: the sum's order does not matter), bias added, then ``res_t y = acc``;
* relu / linear activations: ``max(x, 0)`` / ``x`` then the result cast;
* BatchNormalization (scale and shift, folded to one constant multiply and add per channel);
* max pooling (unpadded windows), flatten / reshape;
* Softmax with ``hls.softmax: argmax``: a one-hot of the *first* largest input, as
  ``nnet::softmax_argmax`` does (built from subtractions and sign bits).

Anything else raises :class:`OpenPathUnsupported` naming the layer and what supports it (exit 2).
The casts are :mod:`hwflow.synth.open.fixedops` (RND_CONV/RND/TRN, WRAP/SAT/SAT_SYM).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hwflow.emu.fast.core import Unsupported
from hwflow.emu.fast.da import da_kernel
from hwflow.emu.fast.pooling import pool_geometry
from hwflow.emu.fixed import FixedType
from hwflow.synth.open.fixedops import UnsupportedType, cast, check_type, kif

#: layer classes the open path traces (hls4ml class names)
SUPPORTED = ("Input", "Dense", "Conv1D", "Conv2D", "PointwiseConv1D", "PointwiseConv2D", "Activation",
             "BatchNormalization", "ApplyAlpha", "Reshape", "Pooling1D", "Pooling2D", "Softmax")
HINT = ("the HLS path (hwflow synth without --tool open; hwflow estimate) takes every layer hls4ml "
        "supports; the open path takes io_parallel dense/conv1d/conv2d, relu/linear, batchnorm, unpadded "
        "max pooling, flatten and softmax as argmax (hls.softmax: argmax)")


class OpenPathUnsupported(Exception):
    """The design has something the open path does not build (-> exit 2 with this message)."""


@dataclass
class TracedNetwork:
    """The traced network: da4ml inputs/outputs and what the I/O codes mean."""

    inputs: Any                     # FixedVariableArrayInput, flat
    outputs: Any                    # FixedVariableArray, flat
    input_type: FixedType
    input_shape: tuple[int, ...]
    output_type: FixedType
    layers: list[dict[str, Any]] = field(default_factory=list)
    wrapper_in: Any = None          # "float" / FixedType / None: the accelerator wrapper's conversions
    wrapper_out: Any = None

    def comb(self) -> Any:
        from da4ml.trace import comb_trace
        return comb_trace(self.inputs, self.outputs)

    def input_values(self, x: np.ndarray) -> np.ndarray:
        """Real inputs -> the values the network's input type holds (what the RTL receives)."""
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        if self.wrapper_in == "float":
            x = x.astype(np.float32).astype(np.float64)
        elif isinstance(self.wrapper_in, FixedType):
            x = self.wrapper_in.quantize(x)
        return self.input_type.quantize(x)

    def output_values(self, y: np.ndarray) -> np.ndarray:
        """RTL output values -> what the firmware's top function returns (its wrapper's type)."""
        y = np.asarray(y, dtype=np.float64)
        if self.wrapper_out == "float":
            return y.astype(np.float32).astype(np.float64)
        if isinstance(self.wrapper_out, FixedType):
            return self.wrapper_out.quantize(y)
        return y


def _unsupported(layer: Any, what: str, fix: str | None = None) -> OpenPathUnsupported:
    return OpenPathUnsupported(f"layer '{layer.name}' ({layer.class_name}): {what} is not supported by the "
                               f"open path{'; ' + fix if fix else ''}. {HINT[0].upper() + HINT[1:]}")


def _types(layer: Any, *names: tuple[str, str]) -> list[FixedType]:
    from hwflow.emu.fast.core import Unsupported, _cfg_type
    out = []
    for typedef, attr in names:
        try:
            t = _cfg_type(layer, typedef, attr)
        except Unsupported as e:
            raise _unsupported(layer, str(e)) from None
        _check(layer, t, typedef)
        out.append(t)
    return out


def _check(layer: Any, t: FixedType, what: str) -> None:
    try:
        check_type(t, f"{what} {t}")
    except UnsupportedType as e:
        raise _unsupported(layer, str(e)) from None


def _weights(layer: Any, key: str, t: FixedType, project_dir: Path | None) -> np.ndarray:
    from hwflow.emu.fast.core import Unsupported
    from hwflow.emu.fast.core import _weights as read
    try:
        return read(layer, key, t, project_dir)
    except Unsupported as e:
        raise _unsupported(layer, str(e)) from None


def _affine(layer: Any, rows: Any, x_t: FixedType, w: np.ndarray, project_dir: Path | None,
            out_t: FixedType) -> Any:
    """``rows`` (P, n_in) FixedVariableArray @ w (n_in, n_out) + bias, in accum_t, cast to out_t."""
    from hwflow.emu.fast.core import Unsupported, _check_product
    try:
        _check_product(layer)
    except Unsupported as e:
        raise _unsupported(layer, str(e)) from None
    w_t, b_t, acc_t = _types(layer, ("weight_t", "weight_t"), ("bias_t", "bias_t"), ("accum_t", "accum_t"))
    if w_t.width > 24:
        raise _unsupported(layer, f"weights of {w_t.width} bits (the adder-graph solver takes up to 24)")
    if acc_t.frac < x_t.frac + w_t.frac:
        raise _unsupported(layer, f"an accumulator {acc_t} coarser than its products (per-product rounding)")
    b = acc_t.quantize(_weights(layer, "bias", b_t, project_dir).reshape(-1))  # (accum_t) bias
    if acc_t.overflow != "WRAP":
        xmax = max(abs(x_t.min_value), abs(x_t.max_value))
        bound = float((xmax * np.abs(w).sum(axis=0) + np.abs(b)).max()) if w.size else 0.0
        if bound > acc_t.max_value:
            raise _unsupported(layer, f"a saturating accumulator {acc_t} that may overflow (the result "
                               "would depend on the order of additions)")
    acc = rows @ w
    if np.any(b != 0):
        acc = acc + b[None, :]
    acc = cast(acc, acc_t)  # wraps exactly as the firmware's accumulator does
    return cast(acc, out_t), {"weight_t": str(w_t), "accum_t": str(acc_t)}


def _is_da(layer: Any) -> bool:
    return str(layer.get_attr("strategy", "latency")).lower() == "distributed_arithmetic"


def _da_affine(layer: Any, rows: Any, x_t: FixedType, n_in: int, n_out: int, out_t: FixedType) -> Any:
    """hls4ml's distributed-arithmetic layer (``strategy: distributed_arithmetic``): the exact
    sum of its generated ``dense_da_<i>`` kernel (constants read back from that code; hls4ml
    keeps no weights or accumulator type for it), cast once to the result type."""
    try:
        w, b = da_kernel(layer, n_in, n_out, x_t)
    except Unsupported as e:
        raise _unsupported(layer, str(e)) from None
    acc = rows @ w
    if np.any(b != 0):
        acc = acc + b[None, :]
    return cast(acc, out_t), {"strategy": "distributed_arithmetic"}


def _windows(arr: np.ndarray, kh: int, kw: int, sh: int, sw: int, oh: int, ow: int,
             pads: tuple[int, int, int, int]) -> np.ndarray:
    """(H, W, C) object array -> (OH, OW, KH, KW, C), zero-padded."""
    pt, pb, pl, pr = pads
    if any(pads):
        arr = np.pad(arr, ((pt, pb), (pl, pr), (0, 0)), constant_values=0)
    h, w, c = arr.shape
    out = np.empty((oh, ow, kh, kw, c), dtype=object)
    for y in range(oh):
        for x in range(ow):
            out[y, x] = arr[y * sh:y * sh + kh, x * sw:x * sw + kw, :]
    return out


def _geometry(layer: Any, dims: int) -> dict[str, int]:
    from hwflow.emu.fast.affine import _conv_geometry
    from hwflow.emu.fast.core import Unsupported
    try:
        return _conv_geometry(layer, dims)
    except Unsupported as e:
        raise _unsupported(layer, str(e)) from None


def _argmax_onehot(vals: list[Any], one: float) -> list[Any]:
    """One-hot of the first maximum: out_i = 1 iff x_i > x_j (j < i) and x_i >= x_j (j > i)."""
    def bit(b: Any) -> Any:  # da4ml returns Python bools when the answer is known at trace time
        return int(b) if isinstance(b, (bool, np.bool_)) else b

    n = len(vals)
    out = []
    for i in range(n):
        wins: list[Any] = []
        for j in range(n):
            if j == i:
                continue
            if j < i:   # strictly greater: sign of (x_j - x_i)
                wins.append(bit(_is_neg(vals[j] - vals[i])))
            else:       # greater or equal: not (x_i < x_j)
                wins.append(1 - bit(_is_neg(vals[i] - vals[j])))
        total: Any = 0
        for w in wins:
            total = w + total if not isinstance(w, int) else total + w
        lost = _is_neg(total - (n - 1)) if not isinstance(total, int) else total < n - 1
        lost = bit(lost)
        won = 1 - lost
        out.append(won * one if one != 1 else won)
    return out


def _is_neg(v: Any) -> Any:
    if isinstance(v, (int, float)):
        return v < 0
    return v.is_negative()


def trace_hls_model(hls_model: Any) -> TracedNetwork:
    """Build the da4ml adder graph of a converted ``ModelGraph`` (see the module doc)."""
    from da4ml.trace import FixedVariableArray, FixedVariableArrayInput, HWConfig

    from hwflow.emu.fast.core import Unsupported, _ftype
    from hwflow.emu.fast.engine import FastEmulator

    io_type = str(hls_model.config.get_config_value("IOType", "io_parallel"))
    if io_type != "io_parallel":
        raise OpenPathUnsupported(f"hls.io_type is {io_type}: the open path builds io_parallel designs only "
                                  f"(set hls.io_type: io_parallel in the design, or use the HLS path)")
    out_dir = hls_model.config.get_output_dir()
    project_dir = Path(out_dir) if out_dir and (Path(out_dir) / "firmware").is_dir() else None
    emu = FastEmulator()
    try:
        emu._read_wrapper(hls_model, project_dir)
    except Unsupported as e:
        raise OpenPathUnsupported(f"accelerator wrapper: {e}") from None
    if len(hls_model.get_input_variables()) != 1 or len(hls_model.get_output_variables()) != 1:
        raise OpenPathUnsupported("the open path builds networks with one input and one output")

    hw = HWConfig(1, -1, -1)  # latency in adder levels; cost in adder bits
    tensors: dict[str, tuple[Any, FixedType]] = {}
    inp = None
    in_t: FixedType | None = None
    in_shape: tuple[int, ...] = ()
    layers: list[dict[str, Any]] = []
    last = None
    for layer in hls_model.get_layers():
        cls = layer.class_name
        name = layer.name
        out_var = layer.get_output_variable()
        try:
            out_t = _ftype(out_var.type.precision, f"layer {name} result")
        except Unsupported as e:
            raise _unsupported(layer, str(e)) from None
        _check(layer, out_t, "result_t")
        out_shape = tuple(int(s) for s in out_var.shape)
        if cls == "Input":
            in_t, in_shape = out_t, out_shape
            inp = FixedVariableArrayInput((int(np.prod(out_shape)),), hwconf=hw)
            k, i, f = kif(out_t)
            tensors[out_var.name] = (inp.quantize(k, i, f).reshape(out_shape), out_t)
            layers.append({"name": name, "class": cls, "result_t": str(out_t)})
            last = out_var.name
            continue
        if cls not in SUPPORTED:
            raise _unsupported(layer, f"the layer class {cls}")
        if len(layer.inputs) != 1:
            raise _unsupported(layer, f"{len(layer.inputs)} inputs")
        src_name = layer.get_input_variable(layer.inputs[0]).name
        x, x_t = tensors[src_name]
        info: dict[str, Any] = {}
        if cls == "Dense":
            from hwflow.emu.fast.affine import _strategy_ok
            try:
                _strategy_ok(layer)
            except Unsupported as e:
                raise _unsupported(layer, str(e)) from None
            n_in, n_out = int(layer.get_attr("n_in")), int(layer.get_attr("n_out"))
            if int(np.prod(x.shape)) != n_in:
                raise _unsupported(layer, f"dense on shape {x.shape}")
            if _is_da(layer):
                y, info = _da_affine(layer, x.reshape((1, n_in)), x_t, n_in, n_out, out_t)
                tensors[out_var.name] = (y.reshape(out_shape), out_t)
                layers.append({"name": name, "class": cls, "result_t": str(out_t), **info})
                last = out_var.name
                continue
            (w_t,) = _types(layer, ("weight_t", "weight_t"))
            w = _weights(layer, "weight", w_t, project_dir)
            if layer.get_attr("_weights_transposed", False):
                w = w.T
            y, info = _affine(layer, x.reshape((1, n_in)), x_t, w.reshape(n_in, n_out), project_dir, out_t)
            y = y.reshape(out_shape)
        elif cls in ("Conv1D", "Conv2D", "PointwiseConv1D", "PointwiseConv2D"):
            dims = 2 if cls.endswith("2D") else 1
            g = _geometry(layer, dims)
            kh, kw, c, nf = g["filt_height"], g["filt_width"], g["n_chan"], g["n_filt"]
            if not _is_da(layer):
                (w_t,) = _types(layer, ("weight_t", "weight_t"))
                w = _weights(layer, "weight", w_t, project_dir)
                if layer.get_attr("_weights_transposed", False):
                    w = np.moveaxis(w, 0, -1)
                w = w.reshape(kh * kw * c, nf)
            arr = np.asarray(x._vars).reshape(g["in_height"], g["in_width"], c)
            win = _windows(arr, kh, kw, g["stride_height"], g["stride_width"], g["out_height"], g["out_width"],
                           (g["pad_top"], g["pad_bottom"], g["pad_left"], g["pad_right"]))
            rows = FixedVariableArray(win.reshape(-1, kh * kw * c), x.solver_options)
            if _is_da(layer):
                y, info = _da_affine(layer, rows, x_t, kh * kw * c, nf, out_t)
            else:
                y, info = _affine(layer, rows, x_t, w, project_dir, out_t)
            y = y.reshape(out_shape)
        elif cls == "Activation":
            act = str(layer.get_attr("activation", "")).lower()
            if act not in ("relu", "linear"):
                raise _unsupported(layer, f"activation '{act}' (a lookup table in hls4ml)")
            y = cast(x.relu() if act == "relu" else x, out_t)
            info = {"activation": act}
        elif cls in ("BatchNormalization", "ApplyAlpha"):
            s_t, b_t = _types(layer, ("scale_t", "scale_t"), ("bias_t", "bias_t"))
            s = _weights(layer, "scale", s_t, project_dir).reshape(-1)
            b = _weights(layer, "bias", b_t, project_dir).reshape(-1)
            n = int(np.prod(x.shape))
            idx = np.arange(n) % s.size
            flat = x.reshape((n,))
            y = cast(flat * s[idx] + b[idx], out_t).reshape(out_shape)
            info = {"scale_t": str(s_t), "bias_t": str(b_t)}
        elif cls == "Reshape":
            y = x.reshape(out_shape)
            if not out_t.same_value_set(x_t):
                y = cast(y, out_t)
        elif cls in ("Pooling1D", "Pooling2D"):
            op = str(layer.get_attr("pool_op", "")).lower()
            if op != "max":
                raise _unsupported(layer, f"{op} pooling (its division truncates toward zero)")
            dims = 2 if cls.endswith("2D") else 1
            pads, ph, pw, sh, sw, ih, iw, oh, ow, c = pool_geometry(layer, dims)
            if any(pads.values()):
                raise _unsupported(layer, "padded max pooling")
            (acc_t,) = _types(layer, ("accum_t", "accum_t"))
            arr = np.asarray(x._vars).reshape(ih, iw, c)
            win = _windows(arr, ph, pw, sh, sw, oh, ow, (0, 0, 0, 0))
            res = np.empty((oh, ow, c), dtype=object)
            for a in range(oh):
                for b_ in range(ow):
                    for ch in range(c):
                        vals = list(win[a, b_, :, :, ch].ravel())
                        m = vals[0]
                        for v in vals[1:]:
                            m = m.max_of(v) if hasattr(m, "max_of") else v.max_of(m)
                        res[a, b_, ch] = m
            y = cast(cast(FixedVariableArray(res, x.solver_options), acc_t), out_t).reshape(out_shape)
        elif cls == "Softmax":
            impl = str(layer.get_attr("implementation", "stable")).lower()
            if impl != "argmax":
                raise _unsupported(layer, f"softmax implementation '{impl}' (lookup tables)",
                                   "set hls.softmax: argmax in the design to build the class decision instead")
            vals = list(np.asarray(x._vars).ravel())
            one = float(out_t.quantize(np.array([1.0]))[0])
            onehot = _argmax_onehot(vals, one)
            y = FixedVariableArray(np.array(onehot, dtype=object), x.solver_options).reshape(out_shape)
            info = {"implementation": "argmax"}
        else:  # pragma: no cover - SUPPORTED lists only the classes above
            raise _unsupported(layer, f"the layer class {cls}")
        tensors[out_var.name] = (y, out_t)
        layers.append({"name": name, "class": cls, "result_t": str(out_t), **info})
        last = out_var.name
    if inp is None or last is None or in_t is None:
        raise OpenPathUnsupported("the model has no input layer")
    out_name = hls_model.get_output_variables()[0].name
    if out_name not in tensors:
        raise OpenPathUnsupported(f"output {out_name} is not produced by a traced layer")
    y, y_t = tensors[out_name]
    return TracedNetwork(inputs=inp, outputs=y.flatten(), input_type=in_t, input_shape=in_shape,
                         output_type=y_t, layers=layers, wrapper_in=emu.wrapper_in, wrapper_out=emu.wrapper_out)
