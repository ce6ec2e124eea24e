"""Issue 16 leftovers: a float Keras model is called what it is everywhere (emulate log,
emulate.json, results.json, report); a SimpleRNN stops the convert step with exit 2 (hls4ml 1.3
writes no firmware for it); global average pooling sums exactly in its accumulator.

Default suite: unit tests (no compiler) and one small flow that stops in convert. ``-m slow``:
global average pooling through C-sim, compared with the fast engine and the exact mean.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import corpus  # noqa: E402

from hwflow.cli import main  # noqa: E402
from hwflow.errors import BadInput  # noqa: E402
from hwflow.results import Results, StepOutputs, build, empty_results  # noqa: E402

# ----------------------------------------------------------------------------- 1. model kind

def _outputs(train: dict, convert: dict, emulate: dict) -> StepOutputs:
    return StepOutputs(design="d", board="pynq-z2", part="xc7z020clg400-1", clock_period_ns=10.0,
                       board_resources={"lut": 53200, "ff": 106400, "dsp": 220, "bram_18k": 280},
                       train=train, convert=convert, emulate=emulate)


FLOAT_TRAIN = {"model_source": "user file m.h5", "model_kind": "float Keras model", "accuracy_float": 0.91,
               "accuracy_quantized": None}
FLOAT_EMU = {"accuracy_csim": 0.9, "samples": 100, "argmax_agreement": 0.97, "exact_fraction": 0.0,
             "max_abs_diff": 0.01, "engine": "fast", "accuracy_quantized": 0.91, "model_kind": "float Keras model"}


def test_results_json_carries_the_model_kind_and_keeps_every_key():
    r = build(_outputs(FLOAT_TRAIN, {"model_kind": "float Keras model", "backend": "VivadoAccelerator"}, FLOAT_EMU),
              provenance=False)
    assert r["model_kind"] == "float Keras model"
    assert Results(r).model_kind == "float Keras model" and Results(r).is_float_model
    assert set(empty_results("d", "b")) <= set(r)  # every contract key is still there
    assert r["accuracy"]["float"] == 0.91 and r["accuracy"]["quantized"] is None
    # a design's own layer list is always built with QKeras quantizers (train.json names no kind)
    q = build(_outputs({"accuracy_float": 0.95, "accuracy_quantized": 0.94}, {}, {}), provenance=False)
    assert q["model_kind"] == "QKeras model" and not Results(q).is_float_model
    # a user file whose kind no step recorded is not guessed
    assert build(_outputs({"model_source": "user file m.h5"}, {}, {}), provenance=False)["model_kind"] is None
    assert build(_outputs({}, {}, {}), provenance=False)["model_kind"] is None


def test_report_of_a_float_model_never_says_quantized_qkeras(tmp_path):
    from hwflow.report.render import render_report

    layers = [{"name": "hidden", "class": "Dense", "weight": "fixed<16,6>", "result": "fixed<16,6>"}]
    r = build(_outputs(FLOAT_TRAIN, {"model_kind": "float Keras model", "layers": layers}, FLOAT_EMU),
              provenance=False)
    md = render_report(r, tmp_path / "f")["md"].read_text()
    assert "C-simulation vs the float Keras model per layer" in md  # the per-layer table's caption
    assert "quantized model (QKeras)" not in md
    assert "vs QKeras" not in md and "with QKeras" not in md
    assert "float Keras model" in md
    assert "C-simulation vs the float Keras model" in md and "model: float Keras model" in md  # accuracy, summary
    # a QKeras model keeps its wording
    q = build(_outputs({"accuracy_float": 0.95, "accuracy_quantized": 0.94}, {"model_kind": "QKeras model"},
                       dict(FLOAT_EMU, model_kind="QKeras model")), provenance=False)
    mdq = render_report(q, tmp_path / "q")["md"].read_text()
    assert "quantized model (QKeras)" in mdq and "C-simulation vs QKeras" in mdq


class _FakeModel:
    """Stands in for a loaded Keras model: emulate needs its layers (for the kind) and predict."""

    def __init__(self, layers, y):
        self.layers, self._y = layers, y

    def predict(self, x, batch_size=None, verbose=0):
        return self._y


def _run_emulate_step(monkeypatch, tmp_path, model_layers) -> tuple[list[str], dict]:
    from hwflow.steps import emulate as step

    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 4))
    y_model = rng.normal(size=(20, 3))
    y = np.argmax(y_model, 1)
    res = SimpleNamespace(y=y_model, fallback=None, path="fast", samples_per_s=1e5, verified_samples=20,
                          fast_matches_csim=True, layer_outputs={}, summary=lambda: {"engine": "fast"})
    monkeypatch.setattr(step, "load_test_split", lambda ctx: (x, y))
    monkeypatch.setattr(step, "load_quantized_model", lambda ctx: _FakeModel(model_layers, y_model))
    monkeypatch.setattr(step, "get_hls_model", lambda ctx: None)
    monkeypatch.setattr(step, "emulate", lambda *a, **k: res)
    monkeypatch.setattr(step, "CSim", lambda *a, **k: SimpleNamespace(predict=lambda xv: y_model[:len(xv)]))
    monkeypatch.setattr(step, "compare", lambda *a, **k: {
        "argmax_agreement": 1.0, "exact_fraction": 1.0, "max_abs_diff": 0.0, "first_divergent_layer": None})
    monkeypatch.setattr(step, "format_layer_table", lambda cmp_: "layer table")
    said: list[str] = []
    ctx = SimpleNamespace(options=SimpleNamespace(engine="fast"), design=SimpleNamespace(hls=SimpleNamespace(
        softmax="stable")), path=lambda *p: tmp_path.joinpath(*p), log_path=lambda: tmp_path / "emulate.log",
        log=lambda msg, **k: said.append(msg))
    step.run(ctx)
    return said, json.loads((tmp_path / "emulate.json").read_text())


def test_emulate_words_its_comparison_by_model_kind(monkeypatch, tmp_path):
    import tensorflow as tf

    dense = tf.keras.layers.Dense(3)  # a plain Keras layer: no quantizer anywhere
    said, out = _run_emulate_step(monkeypatch, tmp_path, [dense])
    text = "\n".join(said)
    assert out["model_kind"] == "float Keras model"
    assert "vs the float Keras model" in text and "per-layer agreement with the float Keras model" in text
    assert "QKeras" not in text

    from qkeras import QDense, quantized_bits

    qd = QDense(3, kernel_quantizer=quantized_bits(6, 0, alpha=1))
    said_q, out_q = _run_emulate_step(monkeypatch, tmp_path, [qd])
    assert out_q["model_kind"] == "QKeras model" and any("vs QKeras" in s for s in said_q)


# ----------------------------------------------------------------------------- 2. SimpleRNN

def _simple_rnn_model(bidirectional: bool = False):
    import tensorflow as tf

    tf.keras.utils.set_random_seed(1)
    x_in = tf.keras.Input((8, 8), name="rows")
    rnn = tf.keras.layers.SimpleRNN(6, name="cell")
    h = (tf.keras.layers.Bidirectional(rnn, name="bi") if bidirectional else rnn)(x_in)
    return tf.keras.Model(x_in, tf.keras.layers.Dense(10, activation="softmax", name="logits")(h))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_simple_rnn_is_refused_naming_the_layer(bidirectional):
    from hwflow.steps.convert import check_convertible

    with pytest.raises(BadInput) as e:
        check_convertible(_simple_rnn_model(bidirectional), "design x, model.file m.h5")
    msg = str(e.value)
    assert e.value.exit_code == 2
    assert ("'bi/" if bidirectional else "'cell'") in msg and "SimpleRNN" in msg
    assert "generates no firmware" in msg and "GRU or LSTM" in msg
    check_convertible(corpus.gru_classifier(), "ok")  # GRU/LSTM pass


def test_simple_rnn_model_file_stops_convert_with_exit_2(tmp_path, capsys):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _simple_rnn_model().save(tmp_path / "rnn.h5", include_optimizer=False)
    (tmp_path / "rnn.yaml").write_text(
        "name: user_rnn\ndataset: {name: digits, max_samples: 200}\n"
        "model: {file: rnn.h5, input_shape: [8, 8]}\nquantization: {input: {bits: 10, integer_bits: 3}}\n"
        "hls: {io_type: io_parallel, strategy: latency, clock_period_ns: 10}\n")
    rc = main(["run", str(tmp_path / "rnn.yaml"), "--board", "zcu104", "--build-dir", str(tmp_path / "b"),
               "--to", "emulate", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "'cell' (SimpleRNN)" in err and "GRU or LSTM" in err and "Traceback" not in err
    w = tmp_path / "b" / "user_rnn" / "zcu104"
    assert not (w / "hls").exists() and not (w / "emulate.json").exists()  # stopped before any C-sim


# ----------------------------------------------------------------------------- 3. global pooling

def _gap_model():
    import tensorflow as tf
    from qkeras import QActivation, QConv1D, quantized_bits, quantized_relu

    L = tf.keras.layers
    tf.keras.utils.set_random_seed(5)
    x_in = tf.keras.Input((16, 3), name="inp")
    q = QActivation(quantized_bits(8, 2, alpha=1), name="q_in")(x_in)       # fixed<8,3>
    gap = L.GlobalAveragePooling1D(name="gap")(q)                            # window 16
    conv = QConv1D(2, 3, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1),
                   activation=quantized_relu(6, 2), name="conv")(q)          # ufixed<6,2> out, 14 steps
    gap2 = L.GlobalAveragePooling1D(name="gap_conv")(conv)
    lin = QConv1D(2, 3, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1),
                  name="lin")(q)                                             # 'auto' result: hls4ml infers it
    gap3 = L.GlobalAveragePooling1D(name="gap_auto")(lin)
    cat = L.Concatenate(name="cat")([gap, gap2])  # hls4ml merges two tensors at a time
    return tf.keras.Model(x_in, L.Concatenate(name="cat_all")([cat, gap3]))


def test_global_average_pooling_accumulator_holds_the_whole_sum():
    from hwflow.emu.fixed import FixedType
    from hwflow.hlsconfig import hls_config_for

    names = hls_config_for(_gap_model(), input_precision=(8, 2))["LayerName"]
    acc, res = (FixedType.parse(names["gap"]["Precision"][k]) for k in ("accum", "result"))
    # input fixed<8,3> (5 fraction bits), 16 values: the sum needs 3 + 4 integer bits
    assert (acc.width, acc.integer, acc.signed) == (8 + 8, 3 + 4, True)
    assert acc.frac >= 5 + 4 and res.frac >= 5 + 4  # sum / 16 keeps its 4 extra fraction bits
    assert acc.max_value >= 16 * FixedType(8, 3).max_value and acc.min_value <= 16 * FixedType(8, 3).min_value
    acc2 = FixedType.parse(names["gap_conv"]["Precision"]["accum"])  # ufixed<6,2>, 14 steps -> 4 more bits
    assert (acc2.width, acc2.integer, acc2.signed) == (6 + 8, 2 + 4, False)
    assert names["gap_auto"]["Precision"]["accum"] == "auto"  # input known only after conversion
    # an accumulator the design chose stays
    m = _gap_model()
    from hwflow.hlsconfig import _size_global_average_pooling

    given = {"gap": {"Precision": {"accum": "fixed<18,8,RND,SAT>", "result": "auto"}}}
    _size_global_average_pooling(m, given, None, [])
    assert given["gap"]["Precision"]["accum"] == "fixed<18,8,RND,SAT>"


def test_global_average_pooling_accumulator_sized_after_conversion(tmp_path):
    """A pooled input whose type hls4ml infers ('auto' Conv result) is sized on the converted graph."""
    import hls4ml

    from hwflow.hlsconfig import converter_kwargs, hls_config_for
    from hwflow.hlsgraph import repair_model_graph

    model = _gap_model()
    cfg, kw = converter_kwargs(hls_config_for(model, input_precision=(8, 2)))
    hls = hls4ml.converters.convert_from_keras_model(model, hls_config=cfg, output_dir=str(tmp_path / "prj"),
                                                     backend="Vitis", **kw)
    layer = {lyr.name: lyr for lyr in hls.get_layers()}["gap_auto"]
    inp = layer.get_input_variable().type.precision
    before = layer.get_attr("accum_t").precision
    assert before.integer < inp.integer + 4  # hls4ml's model default: too few integer bits for the sum
    notes = repair_model_graph(hls)
    acc = layer.get_attr("accum_t").precision
    assert (acc.width, acc.integer, acc.signed) == (inp.width + 8, inp.integer + 4, inp.signed)  # window 14
    assert any(n.startswith("gap_auto: global average pooling accumulator") for n in notes)
    assert not any(n.startswith("gap: ") for n in notes)  # sized already by hls_config_for: left alone
    assert hasattr(acc, "definition_cpp")  # the backend's type class: the project writes its typedef


@pytest.mark.slow
@pytest.mark.parametrize("io_type,backend", [("io_parallel", "Vitis"), ("io_stream", "Vivado"),
                                             ("io_parallel", "Vivado"), ("io_stream", "Vitis")])
def test_global_average_pooling_is_exact_in_csim_and_fast(tmp_path, io_type, backend):
    """C-sim with the sized accumulator: the mean of 16 saturating inputs is exact (the model
    default fixed<16,6> overflowed at sums beyond 32), and the fast engine gives the same bits."""
    import hls4ml

    from hwflow.emu.fast import FastEmulator
    from hwflow.hlsconfig import converter_kwargs, hls_config_for
    from hwflow.hlsgraph import repair_model_graph

    model = _gap_model()
    cfg, kw = converter_kwargs(hls_config_for(model, io_type=io_type, input_precision=(8, 2)))
    hls = hls4ml.converters.convert_from_keras_model(model, hls_config=cfg, output_dir=str(tmp_path / "prj"),
                                                     backend=backend, part="xczu7ev-ffvc1156-2-e", **kw)
    repair_model_graph(hls)  # as the convert step does
    hls.compile()
    rng = np.random.default_rng(2)
    x = rng.uniform(-5, 5, size=(300, 16, 3))
    x[:40] = 3.97  # saturating inputs: every sum near 16 * 3.97
    x[40:80] = -4.5
    y_csim = np.asarray(hls.predict(np.ascontiguousarray(x)), dtype=np.float64).reshape(len(x), -1)
    xq = _input_t().quantize(x)
    exact = xq.mean(axis=1)  # 16 values: the mean is a multiple of 2**-9, representable
    assert np.array_equal(y_csim[:, :3], exact)
    fast = FastEmulator.from_hls_model(hls)
    assert fast.supported, fast.reason
    assert np.array_equal(np.asarray(fast.predict(x), dtype=np.float64).reshape(len(x), -1), y_csim)
    # the branch sized after conversion: within its result type's rounding of the float mean
    y_keras = np.asarray(model.predict(x, verbose=0), dtype=np.float64)
    assert np.max(np.abs(y_csim[:, -2:] - y_keras[:, -2:])) <= 2.0 ** -9


def _input_t():
    """quantized_bits(8, 2) as the firmware's input_t: fixed<8,3,RND_CONV,SAT>."""
    from hwflow.emu.fixed import FixedType

    return FixedType(8, 3, signed=True, rounding="RND_CONV", overflow="SAT")
