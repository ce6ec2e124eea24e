"""User-style Keras / QKeras models, built here (nothing downloaded), saved as .h5 files.

Each entry is (builder, model.input_shape for the digits data (64 values per sample), notes).
They have what users' own models have and our layer-list designs never produce: functional
graphs with skip connections, recurrent layers, up-sampling, float layers without quantizers,
Sequential models (whose input hls4ml names ``<first layer>_input``) and input layers with
their own names.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _seed() -> None:
    import numpy as np
    import tensorflow as tf

    tf.keras.utils.set_random_seed(1)
    np.random.seed(1)


def float_mlp():
    """A plain Sequential float MLP: no quantizers at all."""
    import tensorflow as tf

    _seed()
    return tf.keras.Sequential([
        tf.keras.layers.Dense(16, activation="relu", input_shape=(64,), name="hidden"),
        tf.keras.layers.Dense(10, name="logits"),
        tf.keras.layers.Softmax(name="probs"),
    ])


def skip_mlp():
    """Functional, float, with a skip connection (Add) and a named input."""
    import tensorflow as tf

    _seed()
    x_in = tf.keras.Input((64,), name="features")
    a = tf.keras.layers.Dense(16, activation="relu", name="a")(x_in)
    b = tf.keras.layers.Dense(16, activation="relu", name="b")(a)
    s = tf.keras.layers.Add(name="skip")([a, b])
    out = tf.keras.layers.Dense(10, name="logits")(s)
    return tf.keras.Model(x_in, tf.keras.layers.Activation("softmax", name="probs")(out))


def gru_classifier():
    """A float GRU over 8 steps of 8 features (the digits image read row by row)."""
    import tensorflow as tf

    _seed()
    x_in = tf.keras.Input((8, 8), name="rows")
    h = tf.keras.layers.GRU(8, name="gru")(x_in)
    out = tf.keras.layers.Dense(10, name="logits")(h)
    return tf.keras.Model(x_in, tf.keras.layers.Activation("softmax", name="probs")(out))


def upsample_cnn():
    """Float Conv2D -> pooling -> up-sampling (an autoencoder's decoder half) -> dense."""
    import tensorflow as tf

    _seed()
    x_in = tf.keras.Input((8, 8, 1), name="image")
    x = tf.keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="enc")(x_in)
    x = tf.keras.layers.MaxPooling2D(2, name="pool")(x)
    x = tf.keras.layers.UpSampling2D(2, name="up")(x)
    x = tf.keras.layers.Conv2D(2, 3, activation="relu", name="dec")(x)
    x = tf.keras.layers.Flatten(name="flat")(x)
    out = tf.keras.layers.Dense(10, name="logits")(x)
    return tf.keras.Model(x_in, tf.keras.layers.Activation("softmax", name="probs")(out))


def qkeras_conv1d_named_input():
    """A QKeras Conv1D encoder whose input layer has its own name (``input_tensor``): the name
    broke hls4ml's VivadoAccelerator C-sim bridge (issue 16)."""
    import tensorflow as tf
    from qkeras import QActivation, QConv1D, QDense, quantized_bits, quantized_relu

    _seed()
    q = quantized_bits(6, 0, alpha=1)
    x_in = tf.keras.Input((16, 4), name="input_tensor")
    x = QConv1D(4, 3, kernel_quantizer=q, bias_quantizer=q, name="conv")(x_in)
    x = QActivation(quantized_relu(6, 2), name="relu")(x)
    x = tf.keras.layers.Flatten(name="flat")(x)
    out = QDense(10, kernel_quantizer=q, bias_quantizer=q, name="logits")(x)
    return tf.keras.Model(x_in, out)


CORPUS = {
    "float_mlp": (float_mlp, [64]),
    "skip_mlp": (skip_mlp, [64]),
    "gru": (gru_classifier, [8, 8]),
    "upsample_cnn": (upsample_cnn, [8, 8, 1]),
    "qconv1d_input_tensor": (qkeras_conv1d_named_input, [16, 4]),
}


def save(name: str, folder) -> str:
    """Build corpus model ``name`` and save it as ``folder/<name>.h5`` (HDF5, as users have them)."""
    import warnings

    builder, _ = CORPUS[name]
    model = builder()
    path = os.path.join(str(folder), f"{name}.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path, include_optimizer=False)
    return path


def design_yaml(name: str, *, default: tuple[int, int] | None = (16, 5), input_bits: tuple[int, int] = (10, 3)) -> str:
    """A design for corpus model ``name`` on the digits data (file next to the design)."""
    _, shape = CORPUS[name]
    q = f"input: {{bits: {input_bits[0]}, integer_bits: {input_bits[1]}}}"
    if default is not None:
        q += f", default: {{bits: {default[0]}, integer_bits: {default[1]}}}"
    return (f"name: user_{name}\n"
            "dataset: {name: digits, max_samples: 200}\n"
            f"model: {{file: {name}.h5, input_shape: {shape}}}\n"
            f"quantization: {{{q}}}\n"
            "hls: {io_type: io_parallel, strategy: latency, clock_period_ns: 10}\n")
