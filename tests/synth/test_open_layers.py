"""The open path's tracer on convolution networks: Conv2D / Conv1D ('same' padding), max pooling,
flatten, BatchNormalization, Dense and argmax, traced from real hls4ml conversions.

The traced adder graph runs in da4ml's own bit-exact interpreter (the Verilog is generated from
the same graph; test_open_path.py checks RTL == C-sim end to end) and must equal the fast
emulator (itself equal to C-sim, tests/emu) on every sample. Average pooling must be refused.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytest.importorskip("da4ml")
pytest.importorskip("hls4ml")
pytest.importorskip("qkeras")


def _convert(model, out_dir, patch=None):
    import hls4ml

    from hwflow.hlsconfig import converter_kwargs, hls_config_for

    cfg, kw = converter_kwargs(hls_config_for(model, io_type="io_parallel"))
    if patch:
        patch(cfg["LayerName"])
    hls = hls4ml.converters.convert_from_keras_model(model, hls_config=cfg, output_dir=str(out_dir),
                                                     backend="Vivado", **kw)
    hls.write()
    return hls


def _argmax(layers):
    lc = layers.setdefault("softmax", {})
    lc["Implementation"] = "argmax"
    lc.setdefault("Precision", {})["result"] = "ufixed<1,1>"


def _conv1d_bn():
    import tensorflow as tf
    from qkeras import QActivation, QConv1D, QDense, quantized_bits, quantized_relu

    from hwflow.emu import examples

    q = quantized_bits(6, 0, alpha=1)
    inp = tf.keras.Input((16, 2))
    x = QActivation(quantized_bits(8, 2, alpha=1), name="inq")(inp)
    x = QConv1D(3, 3, padding="same", kernel_quantizer=q, bias_quantizer=q, name="c1")(x)
    x = QActivation(quantized_relu(6, 1), name="r1")(x)
    x = tf.keras.layers.MaxPooling1D(2, name="p1")(x)
    x = tf.keras.layers.Flatten(name="f")(x)
    x = tf.keras.layers.BatchNormalization(name="bn")(x)
    x = QDense(4, kernel_quantizer=q, bias_quantizer=q, name="output")(x)
    return examples.randomize(tf.keras.Model(inp, x), 2)


def _check(hls, model):
    from hwflow.emu import examples
    from hwflow.emu.fast import FastEmulator
    from hwflow.synth.open.trace import trace_hls_model

    x = examples.inputs_for(model, 300, seed=3, scale=1.5)
    emu = FastEmulator.from_hls_model(hls)
    assert emu.supported, emu.reason
    net = trace_hls_model(hls)
    y_open = net.output_values(net.comb().predict(net.input_values(x)))
    y_ref = emu.predict(x)
    bad = np.flatnonzero(np.any(y_open != y_ref, axis=1))
    assert bad.size == 0, f"{bad.size} of {len(x)} samples differ, first {bad[0]}"
    return net, y_ref


def test_conv2d_maxpool_flatten_dense_argmax(tmp_path):
    from hwflow.emu import examples

    model = examples.small_cnn(filters=3, seed=1)
    net, y = _check(_convert(model, tmp_path / "hls", _argmax), model)
    classes = [layer["class"] for layer in net.layers]
    assert classes == ["Input", "Conv2D", "Activation", "Pooling2D", "Reshape", "Dense", "Softmax"]
    assert len(np.unique(np.argmax(y, axis=1))) >= 2 and np.all(y.sum(axis=1) == 1)  # one-hot decisions


def test_conv2d_logits(tmp_path):
    """The same CNN up to its logits: the arithmetic the argmax hides."""
    import tensorflow as tf

    from hwflow.emu import examples

    full = examples.small_cnn(filters=3, seed=1)
    model = tf.keras.Model(full.input, full.get_layer("output").output)
    _, y = _check(_convert(model, tmp_path / "hls"), model)
    assert len(np.unique(y)) > 100


def test_conv1d_same_padding_batchnorm(tmp_path):
    model = _conv1d_bn()
    net, y = _check(_convert(model, tmp_path / "hls"), model)
    assert "BatchNormalization" in [layer["class"] for layer in net.layers]
    assert len(np.unique(y)) > 100  # the arithmetic is really exercised, not a constant output


def test_average_pooling_is_refused(tmp_path):
    from hwflow.emu import examples
    from hwflow.synth.open.trace import OpenPathUnsupported, trace_hls_model

    hls = _convert(examples.small_cnn_avg(seed=0), tmp_path / "hls")
    with pytest.raises(OpenPathUnsupported, match=r"layer 'pool1'.*average pooling"):
        trace_hls_model(hls)
