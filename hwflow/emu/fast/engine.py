"""The fast emulator: reads a converted hls4ml ``ModelGraph`` into a list of vectorised ops
(one per firmware layer, built by :mod:`hwflow.emu.fast.registry`) and runs them on batches."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from hwflow.emu.fast.core import Op, Tensor, Unsupported, _dtype_for, _finish_activation, _ftype, _overflow_inplace, _read_defines
from hwflow.emu.fast.registry import BUILDERS, MULTI_INPUT
from hwflow.emu.fixed import FixedType, _round_inplace, apply_overflow, round_real, strip_array_type


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
        #: (name, hls4ml class) of the first layer the engine does not reproduce, if any
        self.unsupported_layer: tuple[str, str] | None = None
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
            try:
                if layer.class_name == "Clone":  # io_stream: one stream copied for each reader
                    new_ops = self._clone_ops(layer, tensors)
                else:
                    op = self._make_op(layer, tensors, project_dir)
                    if op is None:
                        continue
                    self._check_defines(layer, op, defines)
                    new_ops = [op]
            except Unsupported:
                self.unsupported_layer = (str(layer.name), str(layer.class_name))
                raise
            for op in new_ops:
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

    @staticmethod
    def _clone_ops(layer: Any, tensors: dict[str, Tensor]) -> list[Op]:
        """``nnet::clone_stream``: every output stream carries the input's values (a copy each)."""
        src_name = layer.get_input_variable(layer.inputs[0]).name
        if src_name not in tensors:
            raise Unsupported(f"layer {layer.name}: input {src_name} not available")
        src = tensors[src_name]
        ops = []
        for out in layer.outputs:
            var = layer.get_output_variable(out)
            t = _ftype(var.type.precision, f"layer {layer.name} output {var.name}")
            if not t.same_value_set(src.type):
                raise Unsupported(f"layer {layer.name}: clone changes the type {src.type} -> {t}")

            def fn(a: np.ndarray, owned: bool) -> np.ndarray:
                return a.copy()

            ops.append(Op(f"{layer.name}:{var.name}", "Clone", [src_name], var.name, src.type, src.shape, fn,
                          {"_internal": True}))
        return ops

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
        multi = cls in MULTI_INPUT
        if not layer.inputs or (len(layer.inputs) != 1 and not multi):
            raise Unsupported(f"layer {name} ({cls}) has {len(layer.inputs)} inputs")
        src_names = [layer.get_input_variable(i).name for i in layer.inputs]
        for src_name in src_names:
            if src_name not in tensors:
                raise Unsupported(f"layer {name}: input {src_name} not available")
        srcs = [tensors[s] for s in src_names]
        out_var = layer.get_output_variable()
        out_t = _ftype(out_var.type.precision, f"layer {name} result")
        out_shape = tuple(int(s) for s in out_var.shape)
        builder = BUILDERS.get(cls)
        if builder is None:
            raise Unsupported(f"layer {name}: {cls} is not emulated")
        try:
            fn, info = builder(layer, srcs if multi else srcs[0], out_t, out_shape, project_dir, self.io_type)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
            # a layer configured in a way this builder does not expect: refuse it (C-sim is exact)
            raise Unsupported(f"layer {name} ({cls}): not read ({type(e).__name__}: {e})") from None
        return Op(name, cls, src_names, out_var.name, out_t, out_shape, fn, info)

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
        borrowed: set[str] = set()  # outputs that are views of a tensor still needed elsewhere
        for op in (self.ops if keep_layers else self._fused_ops):
            arrays = [env[i] for i in op.inputs]
            for i in op.inputs:
                uses[i] -= 1
            # an op may overwrite its input only when nothing else reads it (skip connections)
            owned = (len(op.inputs) == 1 and uses[op.inputs[0]] <= 0 and not keep_layers
                     and op.inputs[0] not in borrowed)
            y = op.fn(*arrays, owned)
            env[op.output] = y
            if not owned and any(np.may_share_memory(y, a) for a in arrays):
                borrowed.add(op.output)
            for i in set(op.inputs):
                if uses[i] <= 0 and i != op.output:
                    env.pop(i, None)
            if keep_layers and not op.info.get("_internal"):
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
