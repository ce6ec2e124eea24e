"""Small QKeras reference models for the emulator's tests and benchmark.

Why here and not in the tests: ``bench/emulation.py`` and ``tests/emu`` need the same shapes
(the jet MLP above all), built the same way, with random but reproducible weights - the
emulators must be exact for *any* weights, so training is not needed to test them.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _q(bits: int, integer: int = 0) -> Any:
    from qkeras import quantized_bits

    return quantized_bits(bits, integer, alpha=1)


def _relu(bits: int, integer: int = 0) -> Any:
    from qkeras import quantized_relu

    return quantized_relu(bits, integer)


def randomize(model: Any, seed: int = 0, bias_scale: float = 0.5) -> Any:
    """Give every weight a random value (uniform in [-1, 1) for kernels), BN statistics too."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        new = []
        for w, var in zip(ws, layer.weights):
            name = var.name
            if "moving_variance" in name:
                new.append(rng.uniform(0.2, 2.0, w.shape).astype(w.dtype))
            elif "moving_mean" in name:
                new.append(rng.normal(0, 0.5, w.shape).astype(w.dtype))
            elif "gamma" in name:
                new.append(rng.uniform(0.5, 1.5, w.shape).astype(w.dtype))
            elif "beta" in name or "bias" in name:
                new.append(rng.uniform(-bias_scale, bias_scale, w.shape).astype(w.dtype))
            else:
                new.append(rng.uniform(-1, 1, w.shape).astype(w.dtype))
        layer.set_weights(new)
    return model


def mlp(sizes: list[int], *, weight_bits: int = 6, act_bits: int = 6, input_bits: tuple[int, int] | None = (8, 1),
        output: str = "softmax", batchnorm: bool = False, seed: int = 0, name: str = "mlp") -> Any:
    """QKeras MLP ``sizes[0] -> ... -> sizes[-1]`` with quantized_relu hidden activations.

    ``input_bits``: (bits, integer) of a ``QActivation(quantized_bits)`` on the input (None: no
    input quantizer). ``output``: ``softmax`` or ``linear``.
    """
    import tensorflow as tf
    from qkeras import QActivation, QDense

    inp = tf.keras.Input((sizes[0],), name="inp")
    x = inp
    if input_bits is not None:
        x = QActivation(_q(*input_bits), name="inq")(x)
    for i, n in enumerate(sizes[1:], start=1):
        last = i == len(sizes) - 1
        lname = "output" if last else f"fc{i}"
        x = QDense(n, kernel_quantizer=_q(weight_bits), bias_quantizer=_q(weight_bits), name=lname)(x)
        if not last:
            if batchnorm:
                x = tf.keras.layers.BatchNormalization(name=f"bn{i}")(x)
            x = QActivation(_relu(act_bits), name=f"relu{i}")(x)
    if output == "softmax":
        x = tf.keras.layers.Activation("softmax", name="softmax")(x)
    model = tf.keras.Model(inp, x, name=name)
    return randomize(model, seed)


def jet_mlp(*, output: str = "softmax", seed: int = 0) -> Any:
    """hls4ml's jet-tagging MLP 16-64-32-32-5, 6-bit weights/activations, 16-bit inputs."""
    return mlp([16, 64, 32, 32, 5], input_bits=(16, 6), output=output, seed=seed, name="jet_mlp")


def small_cnn(*, filters: int = 4, seed: int = 0, input_bits: tuple[int, int] = (8, 1)) -> Any:
    """Conv2D on 8x8x1 -> quantized_relu -> maxpool 2 -> flatten -> dense 10 -> softmax."""
    import tensorflow as tf
    from qkeras import QActivation, QConv2D, QDense

    inp = tf.keras.Input((8, 8, 1), name="inp")
    x = QActivation(_q(*input_bits), name="inq")(inp)
    x = QConv2D(filters, 3, kernel_quantizer=_q(6), bias_quantizer=_q(6), name="conv1")(x)
    x = QActivation(_relu(6), name="relu1")(x)
    x = tf.keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    x = QDense(10, kernel_quantizer=_q(6), bias_quantizer=_q(6), name="output")(x)
    x = tf.keras.layers.Activation("softmax", name="softmax")(x)
    return randomize(tf.keras.Model(inp, x, name="small_cnn"), seed)


def conv1d_net(*, seed: int = 0) -> Any:
    """Conv1D on 32x2 (``same``) -> relu -> maxpool 2 -> Conv1D stride 2 -> relu -> avgpool 2
    -> flatten -> dense 4."""
    import tensorflow as tf
    from qkeras import QActivation, QConv1D, QDense

    inp = tf.keras.Input((32, 2), name="inp")
    x = QActivation(_q(8, 2), name="inq")(inp)
    x = QConv1D(4, 3, padding="same", kernel_quantizer=_q(6), bias_quantizer=_q(6), name="conv1")(x)
    x = QActivation(_relu(6, 1), name="relu1")(x)
    x = tf.keras.layers.MaxPooling1D(2, name="pool1")(x)
    x = QConv1D(4, 3, strides=2, kernel_quantizer=_q(6), bias_quantizer=_q(6), name="conv2")(x)
    x = QActivation(_relu(6, 1), name="relu2")(x)
    x = tf.keras.layers.AveragePooling1D(2, name="pool2")(x)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    x = QDense(4, kernel_quantizer=_q(6), bias_quantizer=_q(6), name="output")(x)
    return randomize(tf.keras.Model(inp, x, name="conv1d_net"), seed)


def small_cnn_avg(*, seed: int = 0) -> Any:
    """Like :func:`small_cnn` with average pooling (exercises ap_fixed division)."""
    import tensorflow as tf
    from qkeras import QActivation, QConv2D, QDense

    inp = tf.keras.Input((8, 8, 1), name="inp")
    x = QActivation(_q(8, 1), name="inq")(inp)
    x = QConv2D(3, 3, kernel_quantizer=_q(6), bias_quantizer=_q(6), name="conv1")(x)
    x = QActivation(_q(6, 2), name="act1")(x)  # signed activations: division truncates towards 0
    x = tf.keras.layers.AveragePooling2D(2, name="pool1")(x)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    x = QDense(5, kernel_quantizer=_q(6), bias_quantizer=_q(6), name="output")(x)
    return randomize(tf.keras.Model(inp, x, name="small_cnn_avg"), seed)


def inputs_for(model: Any, n: int, seed: int = 1, scale: float = 1.0) -> np.ndarray:
    """Random float32 inputs spanning (and slightly exceeding) the input quantizer's range."""
    rng = np.random.default_rng(seed)
    shape = tuple(int(d) for d in model.input_shape[1:])
    return (rng.normal(0.0, scale, (n, *shape))).astype(np.float32)
