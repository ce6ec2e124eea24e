"""The engine's graph runner on hand-made ops (no hls4ml, no compile): skip connections must not
let an op overwrite a tensor that another op still reads, even through a view."""

from __future__ import annotations

import numpy as np
import pytest

from hwflow.emu.fast.core import Op
from hwflow.emu.fast.engine import FastEmulator
from hwflow.emu.fixed import FixedType

T = FixedType(16, 8)


def _emulator(ops: list[Op], output: str) -> FastEmulator:
    emu = FastEmulator()
    emu.input_name, emu.input_type, emu.input_shape = "x", T, (4,)
    emu.ops = ops
    for op in ops:
        for i in op.inputs:
            emu._uses[i] = emu._uses.get(i, 0) + 1
    emu.output_names = [output]
    emu._uses[output] = emu._uses.get(output, 0) + 1
    emu._fused_ops = list(ops)
    emu.supported, emu.reason = True, None
    return emu


def _view(a: np.ndarray, owned: bool) -> np.ndarray:
    return a.reshape(a.shape[0], 2, 2)  # a view, as Reshape returns when the type is unchanged


def _double_in_place(a: np.ndarray, owned: bool) -> np.ndarray:
    y = a if owned else a.copy()
    y *= 2
    return y


def _add(a: np.ndarray, b: np.ndarray, owned: bool) -> np.ndarray:
    return a.reshape(a.shape[0], -1) + b.reshape(b.shape[0], -1)


def test_view_of_a_shared_tensor_is_not_overwritten() -> None:
    ops = [
        Op("view", "Reshape", ["x"], "v", T, (2, 2), _view),
        Op("dbl", "Activation", ["v"], "d", T, (2, 2), _double_in_place),
        Op("add", "Merge", ["x", "d"], "y", T, (4,), _add),
    ]
    emu = _emulator(ops, "y")
    x = np.array([[1.0, 2.0, 3.0, -4.0]], dtype=np.float32)
    # x + 2x: if 'dbl' had doubled x's buffer through the view, this would be 2x + 2x
    assert np.array_equal(emu.predict(x, threads=1), 3.0 * x.astype(np.float64))
    y, layers = emu.predict_layers(x, threads=1)
    assert np.array_equal(y, 3.0 * x) and set(layers) == {"view", "dbl", "add"}


def test_sole_reader_may_work_in_place() -> None:
    seen: list[bool] = []

    def spy(a: np.ndarray, owned: bool) -> np.ndarray:
        seen.append(owned)
        return _double_in_place(a, owned)

    emu = _emulator([Op("dbl", "Activation", ["x"], "y", T, (4,), spy)], "y")
    x = np.array([[0.5, 1.0, -1.5, 2.0]], dtype=np.float32)
    assert np.array_equal(emu.predict(x, threads=1), 2.0 * x)
    assert seen == [True]  # the input codes are private to the run: reused, not copied


def test_a_layer_the_builder_cannot_read_is_refused_not_a_crash(monkeypatch) -> None:
    """An unexpected layer configuration (here: a weight array of the wrong size) must make the
    engine refuse the model - the flow then runs C-sim - instead of raising from the builder."""
    from types import SimpleNamespace

    from hwflow.emu.fast import engine, registry

    class FixedPrecisionType(SimpleNamespace):  # the name is what FixedType.from_hls4ml checks
        pass

    prec = FixedPrecisionType(width=16, integer=6, signed=True, rounding_mode="TRN", saturation_mode="WRAP",
                              saturation_bits=0)
    var_in = SimpleNamespace(name="x", shape=[4], type=SimpleNamespace(precision=prec))
    var_out = SimpleNamespace(name="y", shape=[4], type=SimpleNamespace(precision=prec))
    layer = SimpleNamespace(class_name="Odd", name="odd", inputs=["x"],
                            get_input_variable=lambda i: var_in, get_output_variable=lambda: var_out)

    def broken(*args):
        return np.zeros(3).reshape(2, 2)  # ValueError, as a mis-sized weight file would give

    monkeypatch.setitem(registry.BUILDERS, "Odd", broken)
    emu = engine.FastEmulator()
    tensors = {"x": engine.Tensor(FixedType(16, 6), (4,))}
    with pytest.raises(engine.Unsupported, match=r"layer odd \(Odd\): not read \(ValueError"):
        emu._make_op(layer, tensors, None)
