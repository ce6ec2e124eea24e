"""Fast, bit-exact emulation of hls4ml firmware in vectorised numpy.

Why: C-simulation evaluates every ``ap_fixed`` operation of every sample in C++ (tens of
thousands of samples per second). The same arithmetic on the whole batch at once - matrix
products in float64/float32 BLAS on exact integers, then one vectorised rounding/overflow pass
per assignment - is one to two orders of magnitude faster and gives *the same bits*, provided
every value stays exactly representable. This module checks that provision layer by layer when
it is built and refuses (``supported = False`` with a ``reason``) rather than approximate.

Everything is read from the hls4ml ``ModelGraph`` after conversion - layer kinds, weights (as
the written firmware loads them), every type (result, accumulator, weight, bias, table, softmax
internals) - and, when the project has been written, checked against the firmware's own
``defines.h``. Nothing about precisions is assumed.

Tensors flow between layers as *raw codes*: integer-valued float arrays ``k`` with the real value
``k * 2**-F`` of the producing layer's result type. float32 is used where the type has at most
24 bits (and matrix products where the sum provably stays below ``2**24``), float64 elsewhere.

Supported (anything else sets ``supported = False``; use :class:`hwflow.emu.csim.CSim`):
Input, Dense (latency/resource, any reuse factor), Conv1D/Conv2D/PointwiseConv (io_parallel and
io_stream), BatchNormalization/ApplyAlpha, Activation linear/relu, Softmax (stable and latency
implementations, 1-D), Max/AveragePooling1D/2D (average: ap_fixed's truncating division), global
max pooling, Reshape/Flatten, ZeroPadding1D/2D, and VivadoAccelerator's float/fixed AXI wrapper.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hwflow.emu import tables
from hwflow.emu.fixed import FixedType, _round_inplace, apply_overflow, round_real, strip_array_type

F32_EXACT = 2.0**24
F64_EXACT = 2.0**53


class Unsupported(Exception):
    """The model contains something the fast path does not reproduce exactly."""


def _dtype_for(t: FixedType) -> type:
    return np.float32 if t.width <= 24 else np.float64


def _raw_abs_max(t: FixedType) -> float:
    return max(abs(t.raw_min), abs(t.raw_max))


def cast_raw(raw: np.ndarray, src_frac: int, src_range: tuple[float, float] | None, dst: FixedType,
             *, inplace: bool = False) -> np.ndarray:
    """Assignment ``dst_t y = x`` on raw codes (``x = raw * 2**-src_frac``), exact.

    ``src_range`` (min, max real value the source can hold) lets the overflow pass be skipped
    when it provably cannot trigger.
    """
    out = raw if inplace else raw.copy()
    shift = src_frac - dst.frac
    if shift != 0:
        out *= out.dtype.type(2.0 ** (-shift))
        if shift > 0:
            _round_inplace(out, dst.rounding)
    need_check = True
    if src_range is not None:
        lo, hi = src_range
        lo_ok = dst.min_value
        if lo >= lo_ok and hi + (dst.lsb if shift > 0 else 0.0) <= dst.max_value:
            need_check = False
    if need_check:
        _overflow_inplace(out, dst)
    want = _dtype_for(dst)
    return out if out.dtype == want else out.astype(want)


def _overflow_inplace(out: np.ndarray, dst: FixedType) -> None:
    """Overflow mode on integer codes, in place. Saturation is one clip pass (cheaper than
    checking first); wrap-around checks the range first because it almost never triggers."""
    if out.size == 0:
        return
    if dst.overflow in ("SAT", "SAT_SYM"):
        lo = dst.raw_min + (1 if (dst.signed and dst.overflow == "SAT_SYM") else 0)
        np.clip(out, lo, dst.raw_max, out=out)
    elif out.dtype == np.float64:
        apply_overflow(out, dst, out=out)
    elif out.min() < dst.raw_min or out.max() > dst.raw_max:
        out[...] = apply_overflow(out.astype(np.float64), dst)


def _finish_activation(y: np.ndarray, shift: int, dst: FixedType, relu: bool,
                       src_range: tuple[float, float] | None) -> np.ndarray:
    """relu/linear: ``res_T r = max(x, 0)`` (or ``= x``) on codes already scaled to ``dst``'s LSB
    (``shift`` > 0: they still carry fraction bits to round away)."""
    if relu and not (not dst.signed and dst.overflow in ("SAT", "SAT_SYM")):
        np.maximum(y, 0, out=y)  # unsigned saturating results clip negatives to 0 anyway
    if shift > 0:
        _round_inplace(y, dst.rounding)
    need = True
    if src_range is not None:
        lo, hi = src_range
        if relu:
            lo, hi = 0.0, max(hi, 0.0)
        need = not (lo >= dst.min_value and hi + (dst.lsb if shift > 0 else 0.0) <= dst.max_value)
    if need:
        _overflow_inplace(y, dst)
    want = _dtype_for(dst)
    return y if y.dtype == want else y.astype(want)


@dataclass
class Tensor:
    """A named activation: raw codes plus the type that gives them meaning."""

    type: FixedType
    shape: tuple[int, ...]


@dataclass
class Op:
    """One firmware layer as a vectorised function of raw input tensors."""

    name: str
    kind: str
    inputs: list[str]
    output: str
    out_type: FixedType
    out_shape: tuple[int, ...]
    fn: Callable[..., np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------ model reading
def _ftype(precision: Any, what: str) -> FixedType:
    try:
        return FixedType.from_hls4ml(precision)
    except (TypeError, ValueError) as e:
        raise Unsupported(f"{what}: {e}") from None


def _layer_type(layer: Any, attr: str) -> FixedType:
    t = layer.get_attr(attr)
    if t is None:
        raise Unsupported(f"layer {layer.name}: no {attr}")
    return _ftype(t.precision, f"layer {layer.name} {attr}")


def _config_typedef(layer: Any, name: str) -> FixedType | None:
    """The type the layer's C++ config struct declares as ``name`` (e.g. ``accum_t``).

    The config struct is what the firmware compiles, so it has the last word: hls4ml sometimes
    writes a literal there that differs from the graph's attribute (softmax ``accum_t`` when it
    is the model default, ``inp_norm_t``). A named type is resolved through the layer's types.
    """
    cpp = layer.get_attr("config_cpp", "") or ""
    m = re.search(rf"typedef\s+(.+?)\s+{re.escape(name)}\s*;", cpp)
    if not m:
        return None
    text = m.group(1).strip()
    try:
        return FixedType.parse(text)
    except ValueError:
        pass
    candidates = list(getattr(layer, "types", {}).values())
    candidates += [v for v in layer.attributes.values() if hasattr(v, "precision") and hasattr(v, "name")]
    candidates += [getattr(w, "type", None) for w in layer.weights.values()]
    for t in candidates:
        if t is not None and getattr(t, "name", None) == text:
            return _ftype(t.precision, f"layer {layer.name} {name}")
    raise Unsupported(f"layer {layer.name}: cannot resolve {name} = {text}")


def _cfg_type(layer: Any, typedef: str, attr: str) -> FixedType:
    """A layer type as its config struct declares it, else from the graph attribute."""
    t = _config_typedef(layer, typedef)
    return t if t is not None else _layer_type(layer, attr)


def _config_value(layer: Any, name: str) -> str | None:
    cpp = layer.get_attr("config_cpp", "") or ""
    m = re.search(rf"\b{re.escape(name)}\s*=\s*([^;]+);", cpp)
    return m.group(1).strip() if m else None


def _check_product(layer: Any) -> None:
    cpp = layer.get_attr("config_cpp", "") or ""
    prods = re.findall(r"using\s+product\s*=\s*nnet::product::(\w+)<", cpp)
    bad = [p for p in prods if p != "mult"]
    if bad:
        raise Unsupported(f"layer {layer.name}: product kernel {bad[0]} (binary/ternary/po2 weights)")


def _weights(layer: Any, key: str, wtype: FixedType, project_dir: Path | None) -> np.ndarray:
    """The weight values the firmware holds: its text file parsed into ``weight_t`` (as
    ``istream >> ap_fixed`` does: text -> double -> ``weight_t(double)``)."""
    var = layer.weights[key]
    txt = project_dir / "firmware" / "weights" / f"{var.name}.txt" if project_dir else None
    if txt is not None and txt.is_file():
        text = txt.read_text().strip()
        vals = np.array([float(v) for v in text.split(",")], dtype=np.float64) if text else np.zeros(0)
    else:
        vals = np.array([float(s) for s in var], dtype=np.float64)  # the strings hls4ml writes
    if vals.size != var.data.size:
        raise Unsupported(f"layer {layer.name}: {key} has {vals.size} values, expected {var.data.size}")
    return wtype.quantize(vals).reshape(var.data.shape)


def _read_defines(project_dir: Path | None) -> dict[str, str]:
    if project_dir is None:
        return {}
    path = project_dir / "firmware" / "defines.h"
    if not path.is_file():
        return {}
    out = {}
    for m in re.finditer(r"^typedef\s+(.+?)\s+(\w+)\s*;", path.read_text(), re.MULTILINE):
        out[m.group(2)] = m.group(1)
    return out


# ------------------------------------------------------------------------------ the emulator
class FastEmulator:
    """Vectorised bit-exact emulation of an hls4ml ``ModelGraph`` (Vivado/Vitis backends).

    Build with :meth:`from_hls_model`; check :attr:`supported` (and :attr:`reason`) before
    :meth:`predict`, which raises :class:`Unsupported` otherwise.
    """

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.input_name = ""
        self.input_type: FixedType | None = None
        self.input_shape: tuple[int, ...] = ()
        self.output_names: list[str] = []
        self.supported = False
        self.reason: str | None = "not built"
        self.io_type = "io_parallel"
        #: conversions of the top-level wrapper the C-sim bridge calls (VivadoAccelerator's
        #: ``<project>_axi`` with float I/O rounds inputs and outputs through float32)
        self.wrapper_in: str | FixedType | None = None
        self.wrapper_out: str | FixedType | None = None
        self._uses: dict[str, int] = {}
        self._fused_ops: list[Op] = []

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_hls_model(cls, hls_model: Any) -> FastEmulator:
        """Read layers, weights and every type from a converted ``ModelGraph``.

        Never raises for an unsupported model: it returns an emulator with ``supported=False``
        and the first reason found, so callers can fall back to C-simulation.
        """
        emu = cls()
        try:
            emu._build(hls_model)
            emu.supported, emu.reason = True, None
        except Unsupported as e:
            emu.supported, emu.reason = False, str(e)
        return emu

    def _build(self, m: Any) -> None:
        self.io_type = str(m.config.get_config_value("IOType", "io_parallel"))
        out_dir = m.config.get_output_dir()
        project_dir = Path(out_dir) if out_dir and (Path(out_dir) / "firmware").is_dir() else None
        defines = _read_defines(project_dir)
        self._read_wrapper(m, project_dir)
        inputs = m.get_input_variables()
        outputs = m.get_output_variables()
        if len(inputs) != 1 or len(outputs) != 1:
            raise Unsupported(f"{len(inputs)} inputs / {len(outputs)} outputs (one of each supported)")
        tensors: dict[str, Tensor] = {}
        for layer in m.get_layers():
            op = self._make_op(layer, tensors, project_dir)
            if op is None:
                continue
            self._check_defines(layer, op, defines)
            tensors[op.output] = Tensor(op.out_type, op.out_shape)
            self.ops.append(op)
            for i in op.inputs:
                self._uses[i] = self._uses.get(i, 0) + 1
        self.output_names = [outputs[0].name]
        if self.output_names[0] not in tensors:
            raise Unsupported(f"output {self.output_names[0]} is not produced by an emulated layer")
        self._uses[self.output_names[0]] = self._uses.get(self.output_names[0], 0) + 1
        self._fused_ops = self._fuse()

    def _fuse(self) -> list[Op]:
        """Dense/Conv followed by relu/linear -> one op (used when layer outputs are not kept).

        The matrix product then lands directly in the activation's LSB units, saving the bias,
        scale and range passes of a separate cast. Same bits: only the order of exact
        power-of-two scalings changes.
        """
        plan: list[Op] = []
        i = 0
        while i < len(self.ops):
            op = self.ops[i]
            nxt = self.ops[i + 1] if i + 1 < len(self.ops) else None
            aff = op.info.get("_affine")
            if (aff is not None and aff.fusable and nxt is not None and "_relu" in nxt.info
                    and nxt.inputs[0] == op.output and self._uses.get(op.output, 0) == 1
                    and op.output not in self.output_names):
                plan.append(self._fused(op, nxt, aff))
                i += 2
                continue
            plan.append(op)
            i += 1
        return plan

    @staticmethod
    def _fused(op: Op, act: Op, aff: Any) -> Op:
        prep = op.info["_prep"]
        relu = bool(act.info["_relu"])
        dst = act.out_type
        shift = aff.acc_t.frac - dst.frac
        acc_range = aff.acc_range
        shape = act.out_shape

        def fn(a: np.ndarray, owned: bool) -> np.ndarray:
            y = aff.scaled(prep(a), dst.frac)
            return _finish_activation(y, shift, dst, relu, acc_range).reshape((a.shape[0], *shape))

        return Op(act.name, "fused", list(op.inputs), act.output, dst, shape, fn,
                  {"fused": [op.name, act.name]})

    def _read_wrapper(self, m: Any, project_dir: Path | None) -> None:
        """Element types of an accelerator wrapper around the top function (``T_in``/``T_out``)."""
        if project_dir is None:
            return
        path = project_dir / "firmware" / f"{m.config.get_project_name()}_axi.h"
        if not path.is_file():
            return
        text = path.read_text()
        for which in ("in", "out"):
            mt = re.search(rf"^\s*typedef\s+(.+?)\s+T_{which}\s*;", text, re.MULTILINE)
            if not mt:
                raise Unsupported(f"{path.name}: no T_{which} typedef")
            spelled = mt.group(1).strip()
            if spelled in ("float", "double"):
                kind: str | FixedType = spelled
            else:
                try:
                    kind = FixedType.parse(spelled)
                except ValueError:
                    raise Unsupported(f"{path.name}: wrapper type {spelled!r} not emulated") from None
            setattr(self, f"wrapper_{which}", kind)

    @staticmethod
    def _wrap_convert(v: np.ndarray, kind: str | FixedType | None) -> np.ndarray:
        if kind == "float":
            return v.astype(np.float32)  # round to nearest even, as the C++ conversion does
        if isinstance(kind, FixedType):
            return kind.quantize(v)
        return v

    def _check_defines(self, layer: Any, op: Op, defines: dict[str, str]) -> None:
        """The written firmware decides: its typedef for this output must match what we read."""
        if not defines:
            return
        var = layer.get_output_variable()
        tname = var.type.name
        if tname not in defines:
            return
        try:
            fw = FixedType.parse(strip_array_type(defines[tname]))
        except ValueError:
            raise Unsupported(f"layer {layer.name}: firmware type {defines[tname]!r} not fixed-point") from None
        if fw != op.out_type:
            raise Unsupported(f"layer {layer.name}: firmware says {tname} = {defines[tname]}, "
                              f"model graph says {op.out_type} (project written from another model?)")

    def _make_op(self, layer: Any, tensors: dict[str, Tensor], project_dir: Path | None) -> Op | None:
        cls = layer.class_name
        name = layer.name
        if cls == "Input":
            t = _ftype(layer.get_output_variable().type.precision, f"input {name}")
            self.input_name = layer.get_output_variable().name
            self.input_type = t
            self.input_shape = tuple(layer.get_output_variable().shape)
            tensors[self.input_name] = Tensor(t, self.input_shape)
            return None
        if len(layer.inputs) != 1:
            raise Unsupported(f"layer {name} ({cls}) has {len(layer.inputs)} inputs")
        src_name = layer.get_input_variable(layer.inputs[0]).name
        if src_name not in tensors:
            raise Unsupported(f"layer {name}: input {src_name} not available")
        src = tensors[src_name]
        out_var = layer.get_output_variable()
        out_t = _ftype(out_var.type.precision, f"layer {name} result")
        out_shape = tuple(int(s) for s in out_var.shape)
        builder = _BUILDERS.get(cls)
        if builder is None:
            raise Unsupported(f"layer {name}: {cls} is not emulated")
        fn, info = builder(layer, src, out_t, out_shape, project_dir, self.io_type)
        return Op(name, cls, [src_name], out_var.name, out_t, out_shape, fn, info)

    # ------------------------------------------------------------------ running
    def _run_chunk(self, x: np.ndarray, keep_layers: bool) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        assert self.input_type is not None
        t = self.input_type
        if self.wrapper_in is not None:
            x = self._wrap_convert(x, self.wrapper_in)
        if (x.dtype == np.float32 and t.width <= 24 and t.rounding in ("TRN", "TRN_ZERO", "RND_CONV")
                and t.overflow in ("SAT", "SAT_SYM")):
            # float32 fast path: scaling, floor/trunc/rint and clip are exact on any float32
            raw = x * np.float32(2.0**t.frac)
            _round_inplace(raw, t.rounding)
            _overflow_inplace(raw, t)
        else:
            raw = round_real(np.ldexp(x.astype(np.float64, copy=False), t.frac), t.rounding)
            raw = apply_overflow(raw, t, out=raw).astype(_dtype_for(t), copy=False)
        env: dict[str, np.ndarray] = {self.input_name: raw}
        uses = dict(self._uses)
        layers: dict[str, np.ndarray] = {}
        for op in (self.ops if keep_layers else self._fused_ops):
            a = env[op.inputs[0]]
            uses[op.inputs[0]] -= 1
            owned = uses[op.inputs[0]] <= 0 and not keep_layers
            y = op.fn(a, owned)
            env[op.output] = y
            if owned:
                del env[op.inputs[0]]
            if keep_layers:
                layers[op.name] = np.ldexp(y.astype(np.float64), -op.out_type.frac)
        out_op = self.output_names[0]
        out_t = next(o.out_type for o in self.ops if o.output == out_op)
        y = np.ldexp(env[out_op].astype(np.float64), -out_t.frac)
        if self.wrapper_out is not None:
            y = self._wrap_convert(y, self.wrapper_out).astype(np.float64)
        return y.reshape(len(x), -1), layers

    def predict(self, x: np.ndarray, *, chunk: int = 4096, threads: int | None = None) -> np.ndarray:
        """Emulate the firmware on every sample: ``(n, *input_shape) -> (n, n_out)`` float64.

        Samples are processed in cache-sized chunks spread over ``threads`` workers (default: the
        CPUs available); BLAS is kept to one thread per worker meanwhile.
        """
        y, _ = self._predict(x, chunk=chunk, threads=threads, keep_layers=False)
        return y

    def predict_layers(self, x: np.ndarray, *, chunk: int = 4096, threads: int | None = None
                       ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Like :meth:`predict`, plus every layer's output (real values, channels-last)."""
        return self._predict(x, chunk=chunk, threads=threads, keep_layers=True)

    def _predict(self, x: np.ndarray, *, chunk: int, threads: int | None, keep_layers: bool
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        if not self.supported:
            raise Unsupported(self.reason or "unsupported model")
        x = np.asarray(x)
        n_in = int(np.prod(self.input_shape))
        if x.size % max(n_in, 1):
            raise ValueError(f"input of shape {x.shape} is not a batch of {self.input_shape} samples")
        n = x.size // n_in
        x = x.reshape((n, *self.input_shape))
        if not np.all(np.isfinite(x)):
            raise ValueError("input contains NaN/inf")
        starts = list(range(0, n, max(1, chunk)))
        workers = threads if threads is not None else len(os.sched_getaffinity(0))
        workers = max(1, min(workers, len(starts)))
        results: list[tuple[np.ndarray, dict[str, np.ndarray]]] = [None] * len(starts)  # type: ignore

        def job(i: int) -> None:
            s = starts[i]
            results[i] = self._run_chunk(x[s:s + chunk], keep_layers)

        with _blas_single_thread(workers > 1):
            if workers == 1:
                for i in range(len(starts)):
                    job(i)
            else:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    list(pool.map(job, range(len(starts))))
        if not results:
            n_out = int(np.prod(next(o.out_shape for o in self.ops if o.output == self.output_names[0])))
            return np.zeros((0, n_out)), {}
        y = np.concatenate([r[0] for r in results], axis=0)
        layers: dict[str, np.ndarray] = {}
        if keep_layers:
            for key in results[0][1]:
                layers[key] = np.concatenate([r[1][key] for r in results], axis=0)
        return y, layers

    def describe(self) -> dict[str, Any]:
        """Per-layer facts (types, arithmetic path) for logs and emulate.json."""
        return {
            "supported": self.supported,
            "reason": self.reason,
            "input_type": str(self.input_type) if self.input_type else None,
            "wrapper": {"in": str(self.wrapper_in), "out": str(self.wrapper_out)} if self.wrapper_in else None,
            "layers": [{"name": o.name, "class": o.kind, "result_t": str(o.out_type),
                        **{k: v for k, v in o.info.items() if not k.startswith("_")}} for o in self.ops],
            "fused": [o.name for o in self._fused_ops if o.kind == "fused"],
        }


class _blas_single_thread:
    """Limit BLAS to one thread while our own worker threads run (avoids oversubscription)."""

    def __init__(self, active: bool) -> None:
        self.active = active
        self._ctl: Any = None

    def __enter__(self) -> None:
        if not self.active:
            return
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - optional
            return
        self._ctl = threadpool_limits(limits=1, user_api="blas")

    def __exit__(self, *exc: object) -> None:
        if self._ctl is not None:
            self._ctl.restore_original_limits()


# ------------------------------------------------------------------------------ layer builders
def _type_range(t: FixedType) -> tuple[float, float]:
    return (t.min_value, t.max_value)


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
        if self.has_bias:
            acc += self.b
        if self.wraps:
            acc = acc.astype(np.float64, copy=False)
            apply_overflow(acc, self.acc_t, out=acc)
        if self.res_identity:
            want = _dtype_for(self.res_t)
            return acc if acc.dtype == want else acc.astype(want)
        return cast_raw(acc, self.acc_t.frac, self.acc_range, self.res_t, inplace=True)


def _affine_for(layer: Any, src: Tensor, out_t: FixedType, project_dir: Path | None,
                w_full: np.ndarray) -> _Affine:
    _check_product(layer)
    w_t = _cfg_type(layer, "weight_t", "weight_t")
    b_t = _cfg_type(layer, "bias_t", "bias_t")
    acc_t = _cfg_type(layer, "accum_t", "accum_t")
    b = _weights(layer, "bias", b_t, project_dir).reshape(-1)
    w_raw = np.ldexp(w_full, w_t.frac)
    b_acc_raw = acc_t.to_raw(b)  # (accum_t) bias
    return _Affine(layer.name, w_raw, w_t, b_acc_raw, src.type, acc_t, out_t)


def _strategy_ok(layer: Any) -> str:
    strategy = str(layer.get_attr("strategy", "latency")).lower()
    if strategy not in ("latency", "resource"):
        raise Unsupported(f"layer {layer.name}: strategy {strategy!r} not emulated")
    return strategy


def _build_dense(layer, src, out_t, out_shape, project_dir, io_type):
    _strategy_ok(layer)
    w_t = _cfg_type(layer, "weight_t", "weight_t")
    w = _weights(layer, "weight", w_t, project_dir)
    if layer.get_attr("_weights_transposed", False):
        w = w.T  # resource strategy stores (n_out, n_in)
    n_in, n_out = int(layer.get_attr("n_in")), int(layer.get_attr("n_out"))
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


def _windows(a: np.ndarray, g: dict[str, int], pad_value: float, kh: int, kw: int, sh: int, sw: int,
             oh: int, ow: int) -> np.ndarray:
    """(N, H, W, C) -> (N, OH, OW, KH, KW, C) windows, padded with ``pad_value`` (a view when possible)."""
    pt, pb, pl, pr = g["pad_top"], g["pad_bottom"], g["pad_left"], g["pad_right"]
    if pt or pb or pl or pr:
        a = np.pad(a, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=pad_value)
    win = np.lib.stride_tricks.sliding_window_view(a, (kh, kw), axis=(1, 2))  # N, H', W', C, KH, KW
    win = win[:, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw]
    if win.shape[1] != oh or win.shape[2] != ow:
        raise Unsupported(f"window geometry mismatch: got {win.shape[1:3]}, expected {(oh, ow)}")
    return np.moveaxis(win, 3, 5)  # N, OH, OW, KH, KW, C


def _build_conv(layer, src, out_t, out_shape, project_dir, io_type):
    dims = 2 if layer.class_name.endswith("2D") else 1
    _strategy_ok(layer)
    g = _conv_geometry(layer, dims)
    w_t = _cfg_type(layer, "weight_t", "weight_t")
    w = _weights(layer, "weight", w_t, project_dir)
    if layer.get_attr("_weights_transposed", False):
        # resource strategy stores (F, [H,] W, C): back to ([H,] W, C, F)
        w = np.moveaxis(w, 0, -1)
    kh, kw, c, f = g["filt_height"], g["filt_width"], g["n_chan"], g["n_filt"]
    w = w.reshape(kh, kw, c, f).reshape(kh * kw * c, f)
    aff = _affine_for(layer, src, out_t, project_dir, w)
    ih, iw = g["in_height"], g["in_width"]
    oh, ow = g["out_height"], g["out_width"]
    sh, sw = g["stride_height"], g["stride_width"]

    def prep(a: np.ndarray) -> np.ndarray:
        n = a.shape[0]
        win = _windows(a.reshape(n, ih, iw, c), g, 0.0, kh, kw, sh, sw, oh, ow)
        return np.ascontiguousarray(win).reshape(n * oh * ow, kh * kw * c)

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        return aff(prep(a)).reshape((a.shape[0], *out_shape))

    geometry = {"kernel": [kh, kw] if dims == 2 else [kw], "stride": [sh, sw] if dims == 2 else [sw]}
    return fn, {**aff.info(), "_affine": aff, "_prep": prep, **geometry}


def _build_activation(layer, src, out_t, out_shape, project_dir, io_type):
    act = str(layer.get_attr("activation", "")).lower()
    if act not in ("linear", "relu"):
        raise Unsupported(f"layer {layer.name}: activation {act!r} (table-based or not emulated)")
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


def _build_reshape(layer, src, out_t, out_shape, project_dir, io_type):
    if int(np.prod(out_shape)) != int(np.prod(src.shape)):
        raise Unsupported(f"layer {layer.name}: reshape changes size")
    same = out_t.same_value_set(src.type)

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        y = a.reshape((a.shape[0], *out_shape))
        if same:
            return y
        return cast_raw(y, src.type.frac, _type_range(src.type), out_t, inplace=False)

    return fn, {}


def _build_zeropad(layer, src, out_t, out_shape, project_dir, io_type):
    dims = 2 if layer.class_name.endswith("2D") else 1
    pt = int(layer.get_attr("pad_top", 0) or 0) if dims == 2 else 0
    pb = int(layer.get_attr("pad_bottom", 0) or 0) if dims == 2 else 0
    pl = int(layer.get_attr("pad_left", 0) or 0)
    pr = int(layer.get_attr("pad_right", 0) or 0)
    same = out_t.same_value_set(src.type)

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        if dims == 2:
            y = np.pad(a, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
        else:
            y = np.pad(a, ((0, 0), (pl, pr), (0, 0)))
        if same:
            return y
        return cast_raw(y, src.type.frac, _type_range(src.type), out_t, inplace=True)

    return fn, {}


def _build_pooling(layer, src, out_t, out_shape, project_dir, io_type):
    op = str(layer.get_attr("pool_op", "")).lower()
    if op not in ("max", "average"):
        raise Unsupported(f"layer {layer.name}: {op} pooling not emulated")
    dims = 2 if layer.class_name.endswith("2D") else 1
    acc_t = _cfg_type(layer, "accum_t", "accum_t")
    g = {k: int(layer.get_attr(k, 0) or 0) for k in ("pad_top", "pad_bottom", "pad_left", "pad_right")}
    if dims == 1:
        g["pad_top"] = g["pad_bottom"] = 0
    if io_type == "io_stream" and any(g.values()):
        raise Unsupported(f"layer {layer.name}: padded pooling in io_stream")
    ph = int(layer.get_attr("pool_height", 1) or 1) if dims == 2 else 1
    pw = int(layer.get_attr("pool_width"))
    sh = int(layer.get_attr("stride_height", 1) or 1) if dims == 2 else 1
    sw = int(layer.get_attr("stride_width"))
    ih = int(layer.get_attr("in_height", 1) or 1) if dims == 2 else 1
    iw = int(layer.get_attr("in_width", 0) or layer.get_attr("n_in"))
    oh = int(layer.get_attr("out_height", 1) or 1) if dims == 2 else 1
    ow = int(layer.get_attr("out_width", 0) or layer.get_attr("n_out"))
    c = int(layer.get_attr("n_filt"))
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
    if op != "max":
        raise Unsupported(f"layer {layer.name}: global {op} pooling not emulated")
    acc_t = _cfg_type(layer, "accum_t", "accum_t")
    c = int(src.shape[-1])

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        n = a.shape[0]
        y = a.reshape(n, -1, c).max(axis=1)
        y = cast_raw(y, src.type.frac, _type_range(src.type), acc_t, inplace=True)
        y = cast_raw(y, acc_t.frac, _type_range(acc_t), out_t, inplace=True)
        return y.reshape((n, *out_shape))

    return fn, {}


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
        exp_table_real = tables.softmax_exp_table(exp_addr, exp_t, exp_size, negative=impl == "stable",
                                                  exp_scale=exp_scale)
        inv_table_real = tables.softmax_invert_table(inv_inp_t, inv_t, inv_size)
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
            idx = tables.table_index(d, norm_t, exp_size)
        else:
            idx = tables.table_index(x, src.type, exp_size)
        e = exp_table_acc[idx]  # accum_t raw
        total = _tree_reduce([e[:, i] for i in range(n)], add)
        total = cast_raw(total, acc_t.frac, None, inv_inp_t, inplace=True).astype(np.float64)
        inv = inv_raw[tables.table_index(total, inv_inp_t, inv_size)]
        prod = e * inv[:, None]  # exact: < 2**53
        return cast_raw(prod, fprod, None, out_t, inplace=True)

    return fn, {"implementation": impl, "exp_table_t": str(exp_t), "inv_table_t": str(inv_t),
                "accum_t": str(acc_t), "inv_inp_t": str(inv_inp_t),
                "inp_norm_t": str(norm_t) if norm_t else None}


_BUILDERS: dict[str, Callable[..., tuple[Callable[[np.ndarray, bool], np.ndarray], dict[str, Any]]]] = {
    "Dense": _build_dense,
    "Conv1D": _build_conv,
    "Conv2D": _build_conv,
    "PointwiseConv1D": _build_conv,
    "PointwiseConv2D": _build_conv,
    "Activation": _build_activation,
    "BatchNormalization": _build_batchnorm,
    "ApplyAlpha": _build_batchnorm,
    "Reshape": _build_reshape,
    "ZeroPadding1D": _build_zeropad,
    "ZeroPadding2D": _build_zeropad,
    "Pooling1D": _build_pooling,
    "Pooling2D": _build_pooling,
    "GlobalPooling1D": _build_global_pooling,
    "GlobalPooling2D": _build_global_pooling,
    "Softmax": _build_softmax,
}
