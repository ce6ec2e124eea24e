"""Small functional models for the per-layer tests of the fast engine (test_layers_*.py).

Each model groups several layer kinds so that one C-sim compile checks many of them; the
hls4ml config is hwflow's (:func:`hwflow.hlsconfig.hls_config_for`) with a few result types
narrowed on purpose so that rounding, saturation and wrap-around really happen inside layers.
The reference is hls4ml's own C-simulation: ``ModelGraph.trace`` compiles the written project and
returns every layer's output, sample by sample, which the fast engine must reproduce bit for bit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def edge_inputs(shape: tuple[int, ...], n: int, *, scale: float, lsb: float, seed: int) -> np.ndarray:
    """Random inputs plus edges: values beyond the input range (saturation), exact half-LSB
    ties (rounding), zeros and grid values."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, scale, size=(n, *shape))
    k = n // 4
    x[:k] = np.round(x[:k] / lsb) * lsb + lsb / 2  # ties
    x[k:2 * k] *= 6.0  # far outside the range: saturates
    x[2 * k:2 * k + k // 4] = 0.0
    return x.astype(np.float32)


@dataclass
class Traced:
    name: str
    hls: Any
    x: np.ndarray
    y_csim: np.ndarray
    trace: dict[str, np.ndarray]
    fast: Any
    notes: list[str] = field(default_factory=list)


def convert_and_trace(name: str, model: Any, out_dir: Path, *, io_type: str, backend: str,
                      patch: Callable[[dict], None] | None = None, x: np.ndarray,
                      backend_kw: dict | None = None, strategy: str = "latency", reuse_factor: int = 1) -> Traced:
    import hls4ml

    from hwflow.emu.fast import FastEmulator
    from hwflow.hlsconfig import converter_kwargs, hls_config_for

    cfg, kw = converter_kwargs(hls_config_for(model, io_type=io_type, strategy=strategy, reuse_factor=reuse_factor))
    if patch is not None:
        patch(cfg["LayerName"])
    hls = hls4ml.converters.convert_from_keras_model(model, hls_config=cfg, output_dir=str(out_dir),
                                                     backend=backend, **kw, **(backend_kw or {}))
    hls.write()
    fast = FastEmulator.from_hls_model(hls)
    y, trace = hls.trace(np.ascontiguousarray(x, dtype=np.float64))
    y = np.asarray(y, dtype=np.float64).reshape(len(x), -1)
    trace = {k: np.asarray(v, dtype=np.float64).reshape(len(x), -1) for k, v in trace.items()}
    return Traced(name, hls, x, y, trace, fast)


def compare_layers(t: Traced) -> dict[str, dict[str, Any]]:
    """Per traced layer: class, samples compared, samples that differ (fast vs C-sim trace)."""
    y_fast, layers = t.fast.predict_layers(t.x)
    out: dict[str, dict[str, Any]] = {}
    classes = {lyr.name: lyr.class_name for lyr in t.hls.get_layers()}
    for lname, ref in t.trace.items():
        if lname not in layers:
            out[lname] = {"class": classes.get(lname), "samples": 0, "differ": None}
            continue
        mine = layers[lname].reshape(len(t.x), -1)
        differ = int(np.sum(np.any(mine != ref, axis=1))) if mine.shape == ref.shape else len(t.x)
        out[lname] = {"class": classes.get(lname), "samples": len(t.x), "differ": differ}
    out["<output>"] = {"class": "output", "samples": len(t.x),
                       "differ": int(np.sum(np.any(y_fast.reshape(len(t.x), -1) != t.y_csim, axis=1)))}
    return out


# ------------------------------------------------------------------------------ the models
def merge_act_model():
    """Dense branches joined by every merge kind, with leaky/thresholded/PReLU/ELU/hard
    activations and QKeras quantized activations between them (16 inputs, 8-bit)."""
    import tensorflow as tf
    from qkeras import QActivation, QDense, quantized_bits

    L = tf.keras.layers
    tf.keras.utils.set_random_seed(11)
    wq = dict(kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1))
    inp = tf.keras.Input((16,), name="inp")
    q = QActivation(quantized_bits(8, 2, alpha=1), name="q_in")(inp)
    a = QDense(16, name="fc_a", **wq)(q)
    b = QDense(16, name="fc_b", **wq)(q)
    leaky = L.LeakyReLU(0.3, name="leaky")(a)
    qleaky = QActivation("quantized_relu(6, 2, negative_slope=0.25)", name="q_leaky")(b)
    add = L.Add(name="add")([leaky, qleaky])
    sub = L.Subtract(name="sub")([leaky, b])
    mul = L.Multiply(name="mul")([add, sub])
    avg = L.Average(name="avg")([mul, a])
    mx = L.Maximum(name="max")([avg, b])
    mn = L.Minimum(name="min")([avg, leaky])
    thr = L.ThresholdedReLU(0.5, name="thr")(mx)
    hsig = L.Activation("hard_sigmoid", name="hsig")(mn)
    qtanh = QActivation("quantized_tanh(6)", name="q_tanh")(add)
    qsig = QActivation("quantized_sigmoid(6)", name="q_sig")(sub)
    elu = L.ELU(0.7, name="elu")(avg)
    prelu = L.PReLU(alpha_initializer=tf.keras.initializers.RandomUniform(-0.9, 0.9), name="prelu")(mul)
    qrelu = QActivation("quantized_relu(5, 1)", name="q_relu")(sub)
    qbits = QActivation(quantized_bits(5, 1, alpha=1), name="q_bits")(mul)
    c1 = L.Concatenate(name="cat1")([thr, hsig])
    c2 = L.Concatenate(name="cat2")([qtanh, qsig])
    c3 = L.Concatenate(name="cat3")([elu, prelu])
    c4 = L.Concatenate(name="cat4")([qrelu, qbits])
    c12 = L.Concatenate(name="cat12")([c1, c2])
    c34 = L.Concatenate(name="cat34")([c3, c4])
    out = L.Concatenate(name="cat_all")([c12, c34])
    return tf.keras.Model(inp, out, name="merge_act")


def merge_act_patch(names: dict) -> None:
    """Narrow a few result types so rounding, saturation and wrap-around happen in the layers."""
    def res(layer: str, t: str) -> None:
        names.setdefault(layer, {}).setdefault("Precision", {})["result"] = t
    res("leaky", "fixed<8,2,RND_CONV,SAT>")
    res("add", "fixed<9,3,RND,SAT>")
    res("sub", "fixed<8,3>")  # truncation, wrap-around
    res("mul", "fixed<10,3,RND_CONV,SAT_SYM>")
    res("avg", "fixed<9,2,RND,WRAP>")
    res("max", "fixed<8,3,TRN,SAT>")
    res("min", "fixed<12,4>")
    res("thr", "fixed<8,3>")
    res("hsig", "ufixed<6,0,RND,SAT>")
    res("elu", "fixed<10,2,RND,SAT>")
    res("prelu", "fixed<10,3,RND_CONV,SAT>")
    for c in ("cat1", "cat2", "cat3", "cat4", "cat12", "cat34", "cat_all"):
        res(c, "fixed<24,8>")


def conv2d_model():
    """Conv2D, ZeroPadding2D, DepthwiseConv2D, a skip connection (Add), SeparableConv2D,
    Concatenate on the channel and the row axis, UpSampling2D, Cropping2D, global average/max
    pooling."""
    import tensorflow as tf
    from qkeras import QActivation, QConv2D, QDepthwiseConv2D, QSeparableConv2D, quantized_bits

    L = tf.keras.layers
    tf.keras.utils.set_random_seed(12)
    q6 = quantized_bits(6, 0, alpha=1)
    inp = tf.keras.Input((8, 8, 2), name="inp")
    q = QActivation(quantized_bits(8, 2, alpha=1), name="q_in")(inp)
    conv = QConv2D(4, (3, 3), padding="same", kernel_quantizer=q6, bias_quantizer=q6, name="conv")(q)
    zp = L.ZeroPadding2D(((1, 1), (2, 0)), name="zp")(conv)
    dw = QDepthwiseConv2D((3, 3), depthwise_quantizer=q6, bias_quantizer=q6, name="dw")(zp)
    add = L.Add(name="add2d")([conv, dw])
    sep = QSeparableConv2D(6, (3, 3), depthwise_quantizer=q6, pointwise_quantizer=q6, bias_quantizer=q6,
                           name="sep")(add)
    up = L.UpSampling2D((2, 2), name="up")(sep)
    crop = L.Cropping2D(((1, 2), (0, 3)), name="crop")(up)
    cat_c = L.Concatenate(axis=-1, name="cat_c")([add, dw])
    cat_h = L.Concatenate(axis=1, name="cat_h")([conv, dw])
    gap = L.GlobalAveragePooling2D(name="gap")(crop)
    gmp = L.GlobalMaxPooling2D(name="gmp")(cat_c)
    gap_h = L.GlobalAveragePooling2D(name="gap_h")(cat_h)
    c1 = L.Concatenate(name="cat_g")([gap, gmp])
    out = L.Concatenate(name="cat_out")([c1, gap_h])
    return tf.keras.Model(inp, out, name="conv2d_mix")


def conv2d_patch(names: dict) -> None:
    def res(layer: str, t: str, key: str = "result") -> None:
        names.setdefault(layer, {}).setdefault("Precision", {})[key] = t
    res("zp", "fixed<12,5,RND_CONV,SAT>")
    res("dw", "fixed<10,4,RND,SAT>")
    res("add2d", "fixed<9,4>")
    res("up", "fixed<10,4,RND_CONV,SAT>")
    res("cat_c", "fixed<10,4,RND_CONV,SAT>")
    res("gap", "fixed<10,3,RND,SAT>")
    res("gap", "fixed<18,8,RND,SAT>", "accum")  # coarser than its input: rounds at every step
    res("gap_h", "fixed<12,4>")
    for c in ("cat_g", "cat_out"):
        res(c, "fixed<24,8>")


def conv1d_model():
    """Conv1D, ZeroPadding1D, UpSampling1D, Cropping1D, SeparableConv1D, global average/max pooling 1D."""
    import tensorflow as tf
    from qkeras import QActivation, QConv1D, QSeparableConv1D, quantized_bits

    L = tf.keras.layers
    tf.keras.utils.set_random_seed(13)
    q6 = quantized_bits(6, 0, alpha=1)
    inp = tf.keras.Input((12, 3), name="inp")
    q = QActivation(quantized_bits(8, 2, alpha=1), name="q_in")(inp)
    conv = QConv1D(4, 3, padding="same", kernel_quantizer=q6, bias_quantizer=q6, name="conv")(q)
    zp = L.ZeroPadding1D((1, 2), name="zp")(conv)
    up = L.UpSampling1D(2, name="up")(zp)
    crop = L.Cropping1D((2, 1), name="crop")(up)
    sep = QSeparableConv1D(5, 3, depthwise_quantizer=q6, pointwise_quantizer=q6, bias_quantizer=q6,
                           name="sep")(crop)
    gap = L.GlobalAveragePooling1D(name="gap")(sep)
    gmp = L.GlobalMaxPooling1D(name="gmp")(up)
    out = L.Concatenate(name="cat")([gap, gmp])
    return tf.keras.Model(inp, out, name="conv1d_mix")


def conv1d_patch(names: dict) -> None:
    def res(layer: str, t: str, key: str = "result") -> None:
        names.setdefault(layer, {}).setdefault("Precision", {})[key] = t
    res("up", "fixed<9,3,RND_CONV,SAT>")
    res("gap", "fixed<10,3,RND,SAT>")
    res("gap", "fixed<24,8>", "accum")
    res("cat", "fixed<24,8>")


def rnn_model(bidirectional: bool = False):
    """GRU (sequences out), LSTM (sequences out), non-static GRU (last state), then sigmoid and
    tanh table activations (6 time steps of 3 features); optionally bidirectional GRU and LSTM."""
    import tensorflow as tf
    from qkeras import QActivation, quantized_bits

    L = tf.keras.layers
    tf.keras.utils.set_random_seed(14)
    inp = tf.keras.Input((6, 3), name="inp")
    q = QActivation(quantized_bits(8, 2, alpha=1), name="q_in")(inp)
    g = L.GRU(4, return_sequences=True, name="gru")(q)
    lstm = L.LSTM(3, return_sequences=True, name="lstm")(g)
    if bidirectional:  # hls4ml 1.3 has no io_stream Bidirectional
        lstm = L.Bidirectional(L.GRU(3, return_sequences=True), name="bigru")(lstm)
    g2 = L.GRU(3, name="gru_last")(lstm)
    sig = L.Activation("sigmoid", name="sig")(g2)
    tanh = L.Activation("tanh", name="tanh")(g2)
    out = L.Concatenate(name="cat")([sig, tanh])
    if bidirectional:
        bilstm = L.Bidirectional(L.LSTM(2), name="bilstm")(g)
        out = L.Concatenate(name="cat_out")([out, bilstm])
    return tf.keras.Model(inp, out, name="rnn_mix")


def birnn_model():
    """:func:`rnn_model` with a bidirectional GRU (sequences) and a bidirectional LSTM (last states)."""
    return rnn_model(bidirectional=True)


def rnn_patch(names: dict) -> None:
    def res(layer: str, t: str, key: str = "result") -> None:
        names.setdefault(layer, {}).setdefault("Precision", {})[key] = t
    names.setdefault("gru_last", {})["Static"] = False  # hls4ml 1.3 cannot compile a non-static LSTM of mixed types
    res("gru", "fixed<10,3,RND>")
    res("gru", "fixed<14,5,RND_CONV,SAT>", "accum")
    # hls4ml 1.3's lstm() (instantiated even when static) compiles only when the LSTM's input,
    # result and accumulator types are one type
    res("lstm", "fixed<10,3,RND>")
    res("lstm", "fixed<10,3,RND>", "accum")  # wraps: a saturating one could overflow mid-sum
    res("bigru", "fixed<12,4,RND_CONV,SAT>")
    res("sig", "ufixed<8,0,RND,SAT>")
    res("cat", "fixed<24,8>")
    res("cat_out", "fixed<24,8>")


birnn_patch = rnn_patch
