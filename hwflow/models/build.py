"""QKeras models from the design's layer list, and a float twin of the same layers.

Quantizers follow the design: weights and biases ``quantized_bits(bits, integer, alpha=1)``
(power-of-two scale, so every weight is an exact fixed-point number that hls4ml can hold
without rescaling), ReLU ``quantized_relu(bits, integer)``; a dense/conv layer that is not
followed by an activation gets a ``quantized_bits`` output quantizer only when the design
says ``linear`` explicitly. Table-based activations (softmax, sigmoid, tanh) stay float in
Keras; hls4ml implements them with lookup tables, and the emulate step reports the error.
"""

from __future__ import annotations

from typing import Any

from ..config import Design, layer_names


def _pair(v: Any, default: int) -> tuple[int, int]:
    if v is None:
        return (default, default)
    if isinstance(v, int):
        return (v, v)
    return (v[0], v[-1])


def custom_objects() -> dict[str, Any]:
    from qkeras.utils import _add_supported_quantized_objects

    from .logs import quiet_spurious_library_logs

    quiet_spurious_library_logs()  # every path that loads a QKeras model comes through here

    co: dict[str, Any] = {}
    _add_supported_quantized_objects(co)
    return co


def build_model(design: Design, *, quantized: bool = True, input_shape: tuple[int, ...] | None = None):
    """Return an (uncompiled) Keras model for the design; QKeras layers when ``quantized``."""
    import tensorflow as tf

    from .logs import quiet_spurious_library_logs

    quiet_spurious_library_logs()
    from qkeras import QActivation, QConv1D, QConv2D, QDense, quantized_bits, quantized_relu

    layers_cfg = design.model.layers
    assert layers_cfg is not None
    names = layer_names(design)
    shape = tuple(input_shape or design.model.input_shape)
    inp = tf.keras.Input(shape=shape, name="x_in")
    x = inp
    q = design.quantization
    for ly, name in zip(layers_cfg, names):
        bits = q.for_layer(name)
        wq = quantized_bits(bits["weight_bits"], bits["weight_integer_bits"], alpha=1)
        t = ly.type
        use_bias = True if ly.use_bias is None else ly.use_bias
        if t == "dense":
            if quantized:
                x = QDense(ly.units, kernel_quantizer=wq, bias_quantizer=wq, use_bias=use_bias, name=name)(x)
            else:
                x = tf.keras.layers.Dense(ly.units, use_bias=use_bias, name=name)(x)
        elif t in ("conv1d", "conv2d"):
            k = _pair(ly.kernel, 3)
            s = _pair(ly.stride, 1)
            pad = ly.padding or "valid"
            if t == "conv1d":
                cls = QConv1D if quantized else tf.keras.layers.Conv1D
                kw = dict(kernel_size=k[0], strides=s[0])
            else:
                cls = QConv2D if quantized else tf.keras.layers.Conv2D
                kw = dict(kernel_size=k, strides=s)
            if quantized:
                kw.update(kernel_quantizer=wq, bias_quantizer=wq)
            x = cls(ly.filters, padding=pad, use_bias=use_bias, name=name, **kw)(x)
        elif t in ("maxpool1d", "avgpool1d"):
            p = _pair(ly.pool, 2)[0]
            s = _pair(ly.stride, p)[0]
            cls = tf.keras.layers.MaxPooling1D if t == "maxpool1d" else tf.keras.layers.AveragePooling1D
            x = cls(pool_size=p, strides=s, padding=ly.padding or "valid", name=name)(x)
        elif t in ("maxpool2d", "avgpool2d"):
            p = _pair(ly.pool, 2)
            s = _pair(ly.stride, p[0])
            cls = tf.keras.layers.MaxPooling2D if t == "maxpool2d" else tf.keras.layers.AveragePooling2D
            x = cls(pool_size=p, strides=s, padding=ly.padding or "valid", name=name)(x)
        elif t == "flatten":
            x = tf.keras.layers.Flatten(name=name)(x)
        elif t == "batchnorm":
            x = tf.keras.layers.BatchNormalization(name=name)(x)
        elif t == "dropout":
            x = tf.keras.layers.Dropout(ly.rate, name=name)(x)
        elif t == "relu":
            if quantized:
                x = QActivation(quantized_relu(bits["activation_bits"], bits["activation_integer_bits"]),
                                name=name)(x)
            else:
                x = tf.keras.layers.Activation("relu", name=name)(x)
        elif t == "linear":
            if quantized:
                x = QActivation(quantized_bits(bits["activation_bits"], bits["activation_integer_bits"], alpha=1),
                                name=name)(x)
            else:
                x = tf.keras.layers.Activation("linear", name=name)(x)
        elif t in ("softmax", "sigmoid", "tanh"):
            x = tf.keras.layers.Activation(t, name=name)(x)
        else:  # pragma: no cover - schema forbids it
            raise ValueError(f"unknown layer type {t}")
    return tf.keras.Model(inp, x, name=design.name.replace("-", "_").replace(".", "_"))


def ends_with_softmax(model) -> bool:
    last = model.layers[-1]
    act = getattr(last, "activation", None)
    return getattr(act, "__name__", "") == "softmax" or last.get_config().get("activation") == "softmax"


def strip_softmax_logits(model):
    """A model that outputs the logits below a final softmax (for distillation)."""
    import tensorflow as tf

    if ends_with_softmax(model) and model.layers[-1].__class__.__name__ == "Activation":
        return tf.keras.Model(model.input, model.layers[-2].output)
    return None
