"""Layer by layer, the fast engine against hls4ml's C-simulation (``ModelGraph.trace``).

Each case converts one small functional model (see ``layer_models``), compiles its firmware
once with tracing, and requires every traced layer's output - and the final output - to be
bit-identical on random inputs that include saturation and rounding-tie edges. One case per
model runs by default (one C-sim compile each, ~20-30 s); the other io_type/backend pairs are
``slow``. ``HWFLOW_LAYER_COVERAGE=<file.jsonl>`` appends one row per layer (for the README table).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

pytest.importorskip("hls4ml")
pytest.importorskip("qkeras")

import layer_models as lm  # noqa: E402

# model -> hls4ml layer classes it must exercise (so a silently dropped layer fails the test)
MODELS = {
    "merge_act": {"shape": (16,), "n": 1500, "classes": {
        "Merge", "Concatenate", "ParametrizedActivation", "PReLU", "HardActivation", "Activation", "Dense"},
        "ops": {"add", "subtract", "multiply", "average", "maximum", "minimum"}},
    "conv2d": {"shape": (8, 8, 2), "n": 600, "classes": {
        "Conv2D", "ZeroPadding2D", "DepthwiseConv2D", "PointwiseConv2D", "Merge", "Resize", "Concatenate",
        "GlobalPooling2D", "Cropping2D"}},
    "conv1d": {"shape": (12, 3), "n": 800, "classes": {
        "Conv1D", "ZeroPadding1D", "Resize", "DepthwiseConv1D", "PointwiseConv1D", "GlobalPooling1D",
        "Concatenate", "Cropping1D"}},
    "rnn": {"shape": (6, 3), "n": 800, "classes": {"GRU", "LSTM", "Activation", "Concatenate"}},
    "birnn": {"shape": (6, 3), "n": 800, "classes": {"GRU", "LSTM", "Bidirectional", "Activation", "Concatenate"},
              "io_types": ("io_parallel",)},  # hls4ml 1.3 has no io_stream Bidirectional
}

# one compile each; the default suite runs one io_type/backend per model, `-m slow` the rest
DEFAULT = {("merge_act", "io_parallel", "Vivado"), ("conv2d", "io_stream", "Vitis"),
           ("conv1d", "io_parallel", "Vivado"), ("birnn", "io_parallel", "Vivado")}
CASES = [(m, io, be, (m, io, be) not in DEFAULT) for m, spec in MODELS.items()
         for io in spec.get("io_types", ("io_parallel", "io_stream")) for be in ("Vivado", "Vitis")]


def _params():
    for model, io, backend, slow in CASES:
        marks = [pytest.mark.slow] if slow else []
        yield pytest.param(model, io, backend, id=f"{model}-{io}-{backend}", marks=marks)


@pytest.mark.parametrize("model_name,io_type,backend", list(_params()))
def test_every_layer_bit_identical_to_csim(model_name, io_type, backend, tmp_path) -> None:
    spec = MODELS[model_name]
    model = getattr(lm, f"{model_name}_model")()
    x = lm.edge_inputs(spec["shape"], spec["n"], scale=1.5, lsb=2.0**-5, seed=3)
    t = lm.convert_and_trace(model_name, model, tmp_path / "prj", io_type=io_type, backend=backend,
                             patch=getattr(lm, f"{model_name}_patch"), x=x)
    assert t.fast.supported, t.fast.reason
    rows = lm.compare_layers(t)
    classes = {r["class"] for r in rows.values()}
    missing = spec["classes"] - classes
    assert not missing, f"layers not traced: {missing}"
    if "ops" in spec:
        ops = {o.info.get("op") for o in t.fast.ops if o.kind == "Merge"}
        assert spec["ops"] <= ops, ops
    if model_name in ("rnn", "birnn"):  # both the static and the non-static kernels
        assert {o.info.get("static") for o in t.fast.ops if o.kind in ("GRU", "LSTM")} == {True, False}
    if model_name == "birnn":
        assert {o.info.get("backward") for o in t.fast.ops if o.kind == "Bidirectional"} == {"gru", "lstm"}
    if io_type == "io_stream" and model_name in ("merge_act", "conv2d"):
        assert any(o.kind == "Clone" for o in t.fast.ops)  # branches are cloned streams
    bad = {k: v for k, v in rows.items() if v["samples"] != len(x) or v["differ"] != 0}
    _record(rows, io_type, backend, model_name)
    assert not bad, bad
    # the fused, chunked, threaded path gives the same final bits
    assert np.array_equal(t.fast.predict(x, chunk=113, threads=2).reshape(len(x), -1), t.y_csim)


@pytest.mark.slow
def test_recurrent_layers_with_the_resource_strategy(tmp_path) -> None:
    """Resource strategy (reuse factor 2): weights stored transposed, DenseResource kernels."""
    x = lm.edge_inputs((6, 3), 600, scale=1.5, lsb=2.0**-5, seed=4)
    t = lm.convert_and_trace("rnn", lm.rnn_model(), tmp_path / "prj", io_type="io_parallel", backend="Vivado",
                             patch=lm.rnn_patch, x=x, strategy="resource", reuse_factor=2)
    assert t.fast.supported, t.fast.reason
    assert all(lyr.get_attr("_weights_transposed") for lyr in t.hls.get_layers() if lyr.class_name in ("GRU", "LSTM"))
    rows = lm.compare_layers(t)
    _record(rows, "io_parallel", "Vivado (resource, RF 2)", "rnn")
    assert {r["class"] for r in rows.values()} >= {"GRU", "LSTM"}
    assert all(r["samples"] == len(x) and r["differ"] == 0 for r in rows.values()), rows


def _record(rows: dict, io_type: str, backend: str, model: str) -> None:
    path = os.environ.get("HWFLOW_LAYER_COVERAGE")
    if not path:
        return
    with open(path, "a") as fh:
        for name, r in rows.items():
            fh.write(json.dumps({"model": model, "layer": name, "class": r["class"], "io_type": io_type,
                                 "backend": backend, "samples": r["samples"],
                                 "bit_identical": r["differ"] == 0}) + "\n")
