"""A user's own model file, start to finish (issue 16): plain Keras first-class, any input name
on every backend, the firmware gets the precisions the design asks for.

Default suite: unit tests (no compiler) + two small flows (a float Sequential MLP through
convert via the Python API; a QKeras Conv1D whose input is called ``input_tensor`` through
convert -> emulate on pynq-z2, the board whose accelerator bridge used to break on that name).
``-m slow``: the whole corpus (corpus.py) through convert -> emulate on pynq-z2 (VivadoAccelerator
backend) and zcu104 (Vitis backend).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import corpus  # noqa: E402

from hwflow.cli import main  # noqa: E402


def _input_t(workdir: Path) -> str:
    text = (workdir / "hls" / "firmware" / "defines.h").read_text()
    m = re.search(r"typedef (.*) input_t;", text)
    assert m, "no input_t in defines.h"
    return m.group(1).replace(" ", "")


# ----------------------------------------------------------------------------- unit tests

def test_compiler_errors_are_the_first_error_lines():
    from hwflow.emu.csim import compiler_errors

    log = "\n".join(["In file included from a.cpp:1:", "warning: old thing is deprecated",
                     "b.cpp:3:5: error: 'input_axi_tensor_ap' was not declared in this scope",
                     "    3 |   f(input_axi_tensor_ap);", "      |     ^~~~",
                     "b.cpp:9:1: error: second", "  9 | x", "    | ^",
                     "b.cpp:10:1: error: third", "b.cpp:11:1: error: fourth", "warning: late noise"])
    errs = compiler_errors(log)
    assert errs[0].startswith("b.cpp:3:5: error: 'input_axi_tensor_ap'")
    assert errs[1].strip().startswith("3 |")  # the source line gcc shows under it
    assert not any("fourth" in e or "noise" in e or "deprecated" in e for e in errs)
    assert compiler_errors("only warnings\nwarning: x") == []


def test_float_model_gets_the_default_precision_and_the_input_type():
    from hwflow.hlsconfig import float_layers, has_quantizers, hls_config_for

    m = corpus.float_mlp()
    assert not has_quantizers(m)
    cfg = hls_config_for(m, input_precision=(10, 3), float_precision="fixed<12,4>")
    names = cfg["LayerName"]
    # a Sequential model's input is '<first layer>_input', which model.layers does not list
    assert names["hidden_input"]["Precision"]["result"] == "fixed<10,4,RND_CONV,SAT>"
    assert names["hidden"]["Precision"]["weight"] == "fixed<12,4>"
    assert names["hidden"]["Precision"]["result"] == "fixed<12,4>"
    assert names["hidden"]["Precision"]["accum"] == "auto"  # sums exact, result cast
    assert names["hidden_relu"]["Precision"]["result"] == "fixed<12,4>"
    assert cfg["Model"]["Precision"]["default"] == "fixed<12,4>"
    assert set(float_layers(m, names)) >= {"hidden", "hidden_relu", "logits"}
    # without quantization.default: hls4ml's inference, as before
    plain = hls_config_for(m, input_precision=(10, 3))
    assert plain["LayerName"]["hidden"]["Precision"]["result"] == "auto"
    assert plain["LayerName"]["hidden_input"]["Precision"]["result"] == "fixed<10,4,RND_CONV,SAT>"


def test_qkeras_model_keeps_its_quantizer_types_with_a_default():
    from hwflow.hlsconfig import has_quantizers, hls_config_for

    m = corpus.qkeras_conv1d_named_input()
    assert has_quantizers(m)
    cfg = hls_config_for(m, input_precision=(8, 1), float_precision="fixed<12,4>")
    assert cfg["LayerName"]["conv"]["Precision"]["result"] == "auto"
    assert cfg["LayerName"]["relu"]["Precision"]["result"].startswith("ufixed<6,2")
    assert cfg["hwflow"]["float_layers"] == []


@pytest.mark.parametrize("name, renamed", [("input_tensor", "input_x_tensor"), ("features", None),
                                           ("my_input_time", "my_input_x_time")])
def test_bridge_unsafe_input_names_are_renamed(name, renamed):
    import tensorflow as tf

    from hwflow.hlsconfig import model_input_names
    from hwflow.hlsgraph import with_bridge_safe_inputs
    from hwflow.models.build import custom_objects

    x_in = tf.keras.Input((6,), name=name)
    m = tf.keras.Model(x_in, tf.keras.layers.Dense(3, name="d")(x_in))
    clone, ren = with_bridge_safe_inputs(m, custom_objects())
    if renamed is None:
        assert clone is m and ren == {}
        return
    assert ren == {name: renamed} and model_input_names(clone) == [renamed]
    assert [lyr.name for lyr in clone.layers][1:] == ["d"]
    x = np.random.default_rng(0).normal(size=(4, 6)).astype(np.float32)
    assert np.array_equal(m.predict(x, verbose=0), clone.predict(x, verbose=0))


def test_user_model_is_labelled_by_what_it_is(tmp_path):
    from hwflow.models.user import FLOAT_MODEL, QKERAS_MODEL, describe_user_model

    said = []
    f = describe_user_model(corpus.float_mlp(), tmp_path / "m.h5", 0.9370629370629371, said.append)
    assert f["model_kind"] == FLOAT_MODEL and f["accuracy_float"] == 0.9370629370629371  # stored as measured
    assert f["accuracy_quantized"] is None  # a float model has no quantized accuracy to show
    assert said[0].endswith("test accuracy 0.937")  # rounded for people
    q = describe_user_model(corpus.qkeras_conv1d_named_input(), tmp_path / "q.h5", 0.5, said.append)
    assert q["model_kind"] == QKERAS_MODEL and q["accuracy_quantized"] == 0.5 and q["accuracy_float"] is None


# ----------------------------------------------------------------------------- small flows

@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("usermodels")
    for name in corpus.CORPUS:
        corpus.save(name, d)
        (d / f"{name}.yaml").write_text(corpus.design_yaml(name))
    return d


def test_float_keras_file_through_convert_with_the_python_api(corpus_dir, capsys):
    import hwflow

    design = corpus_dir / "float_mlp.yaml"
    assert hwflow.check(design, "pynq-z2")["design"]["quantization"]["default"] == {"bits": 16, "integer_bits": 5}
    flow = hwflow.Flow(design, "pynq-z2", build_dir=corpus_dir / "b")
    res = flow.run(to="convert")
    data = getattr(res, "data", res)
    assert data["design"] == "user_float_mlp" and flow.paths["results"].exists()
    w = flow.workdir
    assert _input_t(w) == "ap_fixed<10,4,AP_RND_CONV,AP_SAT,0>"  # quantization.input reached the firmware
    conv = json.loads((w / "convert.json").read_text())
    assert conv["model_kind"] == "float Keras model" and conv["float_precision"] == "fixed<16,6>"
    layers = {r["name"]: r for r in conv["layers"]}
    assert layers["hidden"]["weight"].startswith("fixed<16,6") and layers["hidden"]["result"].startswith("fixed<16,6")
    train = json.loads((w / "model" / "train.json").read_text())
    assert train["model_kind"] == "float Keras model"
    assert train["accuracy_quantized"] is None and train["accuracy_float"] is not None
    out = capsys.readouterr().out
    warn = [ln for ln in out.splitlines() if "WARNING" in ln and "float Keras model" in ln]
    assert len(warn) == 1 and "fixed<16,6>" in warn[0] and "quantization-aware" in warn[0]
    # the Softmax *layer* (not Activation) is written so that it compiles: config names agree
    cpp = (w / "hls" / "firmware" / "myproject.cpp").read_text()
    params = (w / "hls" / "firmware" / "parameters.h").read_text()
    used = re.findall(r"nnet::softmax<[^>]*,\s*(\w+)>", cpp)
    assert used and all(f"struct {u} " in params for u in used)


def test_qkeras_conv1d_named_input_emulates_on_pynq_z2(corpus_dir, capsys):
    """The name 'input_tensor' broke hls4ml's VivadoAccelerator C-sim bridge (exit 4)."""
    rc = main(["run", str(corpus_dir / "qconv1d_input_tensor.yaml"), "--board", "pynq-z2",
               "--build-dir", str(corpus_dir / "b"), "--to", "emulate", "--quiet"])
    assert rc == 0, capsys.readouterr().err
    w = corpus_dir / "b" / "user_qconv1d_input_tensor" / "pynq-z2"
    emu = json.loads((w / "emulate.json").read_text())
    assert emu["argmax_agreement"] == 1.0 and emu["exact_fraction"] == 1.0  # bit-exact with QKeras
    assert _input_t(w).startswith("nnet::array<ap_fixed<10,4,AP_RND_CONV,AP_SAT,0>") or \
        _input_t(w) == "ap_fixed<10,4,AP_RND_CONV,AP_SAT,0>"
    assert json.loads((w / "convert.json").read_text())["model_kind"] == "QKeras model"


# ----------------------------------------------------------------------------- the corpus

@pytest.mark.slow
@pytest.mark.parametrize("board", ["pynq-z2", "zcu104"])
@pytest.mark.parametrize("name", list(corpus.CORPUS))
def test_corpus_model_converts_and_emulates(corpus_dir, capsys, name, board):
    rc = main(["run", str(corpus_dir / f"{name}.yaml"), "--board", board, "--build-dir", str(corpus_dir / "b"),
               "--to", "emulate", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 0, err
    w = corpus_dir / "b" / f"user_{name}" / board
    emu = json.loads((w / "emulate.json").read_text())
    conv = json.loads((w / "convert.json").read_text())
    assert emu["samples"] > 0 and emu["argmax_agreement"] is not None
    assert emu["model_kind"] == conv["model_kind"]  # emulate says what it compared with
    log = (w / "logs" / "emulate.log").read_text()
    assert ("vs the float Keras model" in log) == (conv["model_kind"] == "float Keras model")
    assert "ap_fixed<10,4,AP_RND_CONV,AP_SAT,0>" in _input_t(w)
    if conv["model_kind"] == "QKeras model":
        assert emu["exact_fraction"] == 1.0
    else:  # float layers at fixed<16,6>: close to the float model, not equal
        assert emu["argmax_agreement"] >= 0.8, emu["argmax_agreement"]


def test_qtools_conv1d_kernel_message_is_not_on_the_console(caplog):
    """QTools logs 'unsupported kernel shape' (absl FATAL -> CRITICAL) for every Conv1D kernel."""
    import logging

    from qkeras.qtools.quantized_operators import accumulator_impl

    from hwflow.models.logs import quiet_spurious_library_logs

    quiet_spurious_library_logs()
    with caplog.at_level(logging.DEBUG):
        try:
            accumulator_impl.FixedPointAccumulator((3, 4, 8), multiplier=None)
        except Exception:  # noqa: BLE001 - the multiplier is a stand-in; only the log line matters here
            pass
        logging.getLogger("absl").critical("a real critical message")
    assert "unsupported kernel shape" not in caplog.text
    assert "a real critical message" in caplog.text  # only that line is dropped


def test_softmax_of_a_qkeras_model_is_not_a_float_layer():
    """The softmax is sized by softmax_precisions (or is the argmax decision): no 'float layer'
    warning for a fully quantized model ending in softmax, as every shipped design does."""
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu
    from tensorflow import keras

    from hwflow.hlsconfig import float_layers

    inp = keras.Input((8,), name="x")
    h = QDense(4, kernel_quantizer=quantized_bits(6, 0, 1), bias_quantizer=quantized_bits(6, 0, 1), name="d")(inp)
    h = QActivation(quantized_relu(6), name="r")(h)
    h = QDense(3, kernel_quantizer=quantized_bits(6, 0, 1), bias_quantizer=quantized_bits(6, 0, 1), name="o")(h)
    out = keras.layers.Activation("softmax", name="softmax")(h)
    assert float_layers(keras.Model(inp, out)) == []
    plain = keras.layers.Activation("tanh", name="t")(h)
    assert float_layers(keras.Model(inp, plain)) == ["t"]
