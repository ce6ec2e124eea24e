"""The hls4ml configuration of a model: every precision derived from its QKeras quantizers.

Why: the point of quantization-aware training is that the FPGA computes what the QKeras model
computed. That only holds when every hls4ml type reproduces the matching QKeras quantizer,
*including its rounding and overflow*: QKeras rounds with ``tf.round`` (half to even, so
``AP_RND_CONV``) and clips (``AP_SAT``; ``AP_SAT_SYM`` for symmetric quantizers), while
``ap_fixed`` defaults to truncation and wrap-around. :func:`hls_config_for` writes those types
into an hls4ml config (``granularity='name'``); the convert step passes it to hls4ml, and
:mod:`hwflow.emu.precision` measures how far the firmware is from the Keras model.

Exactness, as designed here:

* inputs: the firmware's input type is the QKeras input quantizer (``input_precision`` or a
  leading ``QActivation(quantized_bits)``), so the float -> fixed conversion rounds like QKeras.
  It is set on the model's input layer *as hls4ml names it* (a Sequential model's input is
  ``<first layer>_input``, which is not among ``model.layers``);
* Dense/Conv: accumulators and results are left ``auto``, which hls4ml sizes so that nothing is
  rounded or overflows (exact, as QKeras' float32 sums are while they stay below 2**24);
* activations with ``quantized_relu`` / ``quantized_bits``: ``RND_CONV`` + ``SAT`` (+``SAT_SYM``),
  unsigned for ReLU and for ``keep_negative=False``;
* BatchNormalization: hls4ml folds it to ``x * scale + bias``; we give scale and bias types with
  ``bn_frac_bits`` fractional bits sized to their values, so the BN output differs from Keras'
  float32 BN by < 2**-bn_frac_bits and the next quantizer almost always rounds identically;
* a ``QActivation(quantized_bits)`` right after a Dense/Conv/BN becomes that layer's result type
  (hls4ml 1.3's MergeLinearActivation would otherwise drop the quantizer);
* average pooling keeps log2(pool area) extra fraction bits (exact for power-of-two pools);
* global average pooling (no accumulator inference in hls4ml 1.3): the accumulator gets
  ceil(log2(window)) more integer and fraction bits than its input, so the window's sum is exact
  and the mean keeps them (:func:`_size_global_average_pooling`);
* softmax / sigmoid / tanh are lookup tables in hls4ml: approximate by construction; reported as
  worst error plus argmax agreement. Softmax table types are sized for the class count
  (:func:`softmax_precisions`);
* layers without quantizers (a plain Keras model) get ``default_precision`` (the design's
  ``quantization.default``, else hls4ml's ``fixed<16,6>``): not bit-exact with the float model,
  and :func:`float_layers` lists them so the flow can say so.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hwflow.emu.fixed import FixedType
from hwflow.emu.precision import (
    _act_name,
    _act_name_of_quantizer,
    _act_quantizer,
    _inbound,
    fixed_type_for_quantizer,
    quantizer_config,
)

_PASS_THROUGH = ("Dropout", "Flatten", "Reshape", "MaxPooling1D", "MaxPooling2D", "GlobalMaxPooling1D",
                 "GlobalMaxPooling2D", "ZeroPadding1D", "ZeroPadding2D")


def _output_type(layer: Any, input_t: FixedType | None) -> FixedType | None:
    """The fixed-point type of a Keras layer's output when a quantizer pins it down."""
    for _ in range(64):
        if layer is None:
            return None
        cls = type(layer).__name__
        if cls == "InputLayer":
            return input_t
        if cls == "QActivation":
            return fixed_type_for_quantizer(layer.quantizer)
        if cls not in _PASS_THROUGH:
            return None
        layer = _inbound(layer)
    return None


def _po2_bits_for(values: np.ndarray, frac_bits: int, signed: bool = True) -> FixedType:
    """A type holding ``values`` without overflow and with ``frac_bits`` fractional bits."""
    vmax = float(np.max(np.abs(values))) if np.size(values) else 0.0
    integer = max(1, math.ceil(math.log2(vmax + 2.0**-frac_bits)) + 1) if vmax > 0 else 1
    return FixedType(integer + frac_bits, integer, signed=signed, rounding="RND_CONV", overflow="SAT")


# ------------------------------------------------------------------------------ config
def input_type_for(keras_model: Any, input_precision: tuple[int, int] | None) -> FixedType | None:
    """The firmware input type: ``input_precision`` = (bits, integer bits excluding the sign,
    QKeras' convention: ``quantized_bits(bits, integer)``), else the quantizer of a
    ``QActivation`` applied directly to the input, else None (hls4ml's default, not exact)."""
    if input_precision is not None:
        bits, integer = (int(v) for v in input_precision)
        return FixedType(bits, integer + 1, signed=True, rounding="RND_CONV", overflow="SAT")
    layers = [lyr for lyr in keras_model.layers if type(lyr).__name__ != "InputLayer"]
    if layers and type(layers[0]).__name__ == "QActivation":
        return fixed_type_for_quantizer(layers[0].quantizer)
    return None


def quantize_input(x: np.ndarray, input_precision: tuple[int, int]) -> np.ndarray:
    """Round data exactly as the firmware's input conversion will (float32 out).

    For models without an input ``QActivation``: feeding the QKeras model these values makes
    its first layer see what the firmware sees, so the comparison can be bit-exact from layer 1.
    """
    bits, integer = (int(v) for v in input_precision)
    t = FixedType(bits, integer + 1, signed=True, rounding="RND_CONV", overflow="SAT")
    return t.quantize(np.asarray(x, dtype=np.float64)).astype(np.float32)


def hls_config_for(keras_model: Any, *, io_type: str = "io_parallel", strategy: str = "latency",
                   reuse_factor: int = 1, input_precision: tuple[int, int] | None = None,
                   default_precision: str = "fixed<16,6>", bn_frac_bits: int = 18,
                   bias_frac_bits: int = 16, softmax: str = "accurate", trace: bool = True,
                   float_precision: str | None = None) -> dict[str, Any]:
    """An hls4ml config (``granularity='name'``) whose types reproduce the QKeras model.

    Pass it as ``hls_config=`` to ``hls4ml.converters.convert_from_keras_model`` together with
    ``io_type=io_type`` (io_type is a converter argument, not a config key; it is accepted here
    only to validate it and to record it under ``cfg['hwflow']`` - pop that key before
    converting, see :func:`converter_kwargs`).

    ``input_precision``: ``(bits, integer_bits)`` in QKeras' convention (integer bits exclude
    the sign): ``(8, 1)`` -> ``ap_fixed<8,2,AP_RND_CONV,AP_SAT>``.
    ``softmax``: ``"accurate"`` sizes the softmax tables' types for its inputs (see
    :func:`softmax_precisions`); ``"hls4ml"`` keeps hls4ml's defaults (``fixed<18,8>``
    everywhere, whose exp-table index is only 1/8 wide for 8-integer-bit logits).
    ``trace``: mark every layer traceable so :func:`compare` can use ``ModelGraph.trace``
    (no effect on synthesis: trace code is compiled only for C-simulation).
    ``float_precision``: an hls4ml type (``fixed<16,6>``) for every layer *without* a quantizer
    (weights, biases and results of float Dense/Conv/BN/RNN layers, results of float
    activations); it also becomes the model default. None keeps hls4ml's inference (wide 'auto'
    results, ``default_precision`` for weights).
    """
    import hls4ml

    if io_type not in ("io_parallel", "io_stream"):
        raise ValueError(f"io_type must be io_parallel or io_stream, got {io_type!r}")
    strat = strategy.lower()
    if strat not in ("latency", "resource", "distributed_arithmetic"):
        raise ValueError(f"strategy must be latency, resource or distributed_arithmetic, got {strategy!r}")
    if strat == "distributed_arithmetic" and int(reuse_factor) != 1:
        raise ValueError(f"strategy distributed_arithmetic needs reuse_factor 1, got {reuse_factor}")
    if float_precision is not None:
        default_precision = float_precision
    cfg = hls4ml.utils.config_from_keras_model(
        keras_model, granularity="name", backend="Vivado",
        default_precision=default_precision, default_reuse_factor=int(reuse_factor))
    cfg["Model"]["Strategy"] = "Resource" if strat == "resource" else "Latency"
    cfg["Model"]["ReuseFactor"] = int(reuse_factor)
    names: dict[str, dict[str, Any]] = cfg["LayerName"]
    notes: list[str] = []

    # the input: the firmware's float -> fixed conversion must round like QKeras
    in_t = input_type_for(keras_model, input_precision)
    model_in_t = input_type_for(keras_model, None)
    if input_precision is not None and model_in_t is None:
        notes.append("the model has no input quantizer: feed it quantize_input(x, input_precision) "
                     "so Keras sees the values the firmware sees")
    elif input_precision is not None and model_in_t is not None and model_in_t != in_t:
        notes.append(f"input_precision {in_t} differs from the model's input quantizer {model_in_t}")
    input_layers = model_input_names(keras_model)
    for nm in input_layers:
        if in_t is not None:
            names.setdefault(nm, {}).setdefault("Precision", {})["result"] = in_t.hls4ml()
        else:
            notes.append(f"input {nm}: no input quantizer; firmware uses {default_precision} (not exact)")

    if float_precision is not None:
        for target in float_layers(keras_model, names):
            prec = names[target].setdefault("Precision", {})
            for key in ("weight", "bias", "recurrent_weight", "result"):
                if key in prec or key == "result":
                    prec[key] = float_precision
            if "accum" in prec:
                prec["accum"] = "auto"  # sums stay exact; the result is cast to float_precision

    linear_results: dict[str, str] = {}
    for layer in keras_model.layers:
        cls = type(layer).__name__
        t = None
        # activation quantizers: ours handles keep_negative / symmetric, which hls4ml ignores
        q = _act_quantizer(layer)
        if q is not None:
            target = layer.name if cls == "QActivation" else f"{layer.name}_{_act_name(layer)}"
            t = fixed_type_for_quantizer(q)
            if target in names and t is not None:
                names[target].setdefault("Precision", {})["result"] = t.hls4ml()
            elif target in names:
                notes.append(f"{target}: quantizer {quantizer_config(q)[0]} has no exact ap_fixed twin")
            if cls != "QActivation" and t is not None and quantizer_config(q)[0] == "quantized_bits":
                linear_results[layer.name] = t.hls4ml()  # Q-layer(activation=quantized_bits(...))
        # hls4ml 1.3 drops a QActivation(quantized_bits) that follows a Dense/Conv/BN whose result
        # is 'auto' (MergeLinearActivation only carries QONNX quantizers over): give that parent
        # the quantizer's type so the cast happens in the parent's result instead
        if cls == "QActivation" and t is not None and _act_name_of_quantizer(layer) == "linear":
            parent = _inbound(layer)
            while parent is not None and type(parent).__name__ == "Dropout":
                parent = _inbound(parent)
            if (parent is not None and parent.name in names and type(parent).__name__ in (
                    "QDense", "QConv1D", "QConv2D", "Dense", "Conv1D", "Conv2D",
                    "BatchNormalization", "QBatchNormalization")):
                linear_results[parent.name] = t.hls4ml()
        # average pooling: hls4ml's 'auto' result is the input type, which drops the fraction
        # bits the mean needs; keep log2(pool area) more (exact for power-of-two pools)
        if cls in ("AveragePooling1D", "AveragePooling2D") and layer.name in names:
            src_t = _output_type(_inbound(layer), in_t)
            pool = int(np.prod(layer.pool_size))
            if src_t is not None:
                e = math.ceil(math.log2(pool)) if pool > 1 else 0
                avg_t = FixedType(src_t.width + e, src_t.integer, src_t.signed)
                names[layer.name].setdefault("Precision", {})["result"] = avg_t.hls4ml()
                if pool & (pool - 1):
                    notes.append(f"{layer.name}: pool of {pool} is not a power of two (mean truncated)")
            else:
                notes.append(f"{layer.name}: input type unknown; average pooling result left to hls4ml")
        # un-quantized biases of quantized layers: value-sized, fine-grained types
        if (cls in ("QDense", "QConv1D", "QConv2D") and getattr(layer, "use_bias", False)
                and getattr(layer, "bias_quantizer_internal", None) is None and layer.name in names):
            b = layer.get_weights()[1]
            names[layer.name]["Precision"]["bias"] = _po2_bits_for(b, bias_frac_bits).hls4ml()
            notes.append(f"{layer.name}: float bias given {bias_frac_bits} fractional bits")
        if cls in ("Dense", "Conv1D", "Conv2D") and layer.name in names:
            notes.append(f"{layer.name}: float {cls} weights use {default_precision} (not exact)")
        if cls in ("QDense", "QConv1D", "QConv2D", "Dense", "Conv1D", "Conv2D") and layer.name in names:
            if strat == "distributed_arithmetic":  # hls4ml 1.3 takes DA for Dense/Conv1D/Conv2D only
                names[layer.name]["Strategy"] = "distributed_arithmetic"
            prec = names[layer.name].setdefault("Precision", {})
            prec["accum"] = "auto"
            prec["result"] = "auto" if float_precision is None or cls.startswith("Q") else float_precision
        # batchnorm: hls4ml computes scale = gamma/sqrt(var+eps), bias = beta - mean*scale
        if cls in ("BatchNormalization", "QBatchNormalization") and layer.name in names:
            scale, bias = _bn_scale_bias(layer)
            prec = names[layer.name].setdefault("Precision", {})
            prec["scale"] = _po2_bits_for(scale, bn_frac_bits).hls4ml()
            prec["bias"] = _po2_bits_for(bias, bn_frac_bits).hls4ml()
            prec["result"] = float_precision if float_precision is not None and cls == "BatchNormalization" else "auto"
    for parent_name, type_str in linear_results.items():
        names[parent_name].setdefault("Precision", {})["result"] = type_str
        # the identity activation hls4ml splits off the parent must not re-cast it (to the
        # default precision); with equal types hls4ml removes it
        split = f"{parent_name}_linear"
        if split in names:
            names[split].setdefault("Precision", {})["result"] = type_str
    _size_global_average_pooling(keras_model, names, in_t, notes)
    if softmax == "accurate":
        for layer in keras_model.layers:
            act = getattr(layer, "activation", None)
            is_softmax = (type(layer).__name__ == "Softmax"
                          or (type(layer).__name__ == "Activation" and getattr(act, "__name__", "") == "softmax"))
            split = f"{layer.name}_softmax"
            target = layer.name if is_softmax else (split if split in names else None)
            if target and target in names:
                n = int(np.prod([d for d in layer.output_shape[1:] if d]))
                types = softmax_precisions(n)
                entry = names[target]
                entry.setdefault("Precision", {})["result"] = types.pop("result")
                entry["Precision"]["accum"] = types["accum"]
                # hls4ml 1.3 reads softmax's table types only from layer-level '<name>_t' keys;
                # the same names under 'Precision' are silently ignored
                for key, val in types.items():
                    entry.setdefault("Precision", {}).pop(key, None)
                    entry[f"{key}_t"] = val
    elif softmax != "hls4ml":
        raise ValueError(f"softmax must be 'accurate' or 'hls4ml', got {softmax!r}")
    if trace:
        for entry in names.values():
            entry["Trace"] = True
    cfg["hwflow"] = {"io_type": io_type, "input_type": in_t.cpp() if in_t else None, "notes": notes,
                     "float_layers": float_layers(keras_model, names), "float_precision": float_precision}
    return cfg


def _resolved_output_type(layer: Any, names: dict[str, Any], in_t: FixedType | None) -> FixedType | None:
    """The firmware type of a Keras layer's output as this config fixes it: the input type, a
    quantizer's type, or a concrete ``result`` already written into ``names`` (None for 'auto',
    which hls4ml infers only during conversion)."""
    for _ in range(64):
        if layer is None:
            return None
        cls = type(layer).__name__
        if cls == "InputLayer":
            return in_t
        if cls == "QActivation":
            return fixed_type_for_quantizer(layer.quantizer)
        act = _act_name(layer)
        for target in ([f"{layer.name}_{act}"] if act and act != "linear" else []) + [layer.name]:
            res = ((names.get(target) or {}).get("Precision") or {}).get("result")
            if isinstance(res, str) and res != "auto":
                try:
                    return FixedType.parse(res)
                except ValueError:
                    return None
            if target != layer.name or not act or act == "linear":
                break  # the split activation decides the output when there is one
        q = _act_quantizer(layer)
        if q is not None:
            return fixed_type_for_quantizer(q)
        if cls not in _PASS_THROUGH:
            return None
        layer = _inbound(layer)
    return None


def _size_global_average_pooling(keras_model: Any, names: dict[str, Any], in_t: FixedType | None,
                                 notes: list[str]) -> None:
    """Global average pooling: hls4ml 1.3 infers no accumulator for it (only for windowed pooling),
    so 'auto' became the model default, often coarser than the input, and the mean was rounded.
    The accumulator gets ceil(log2(window)) more integer bits than the input, so the sum of the
    whole window is exact, and as many more fraction bits, so ``sum / window`` keeps them (hls4ml's
    own rule for windowed average pooling); an 'auto' result keeps the extra fraction bits too
    (the mean is then exact for a power-of-two window). An accumulator the design set stays."""
    for layer in keras_model.layers:
        cls = type(layer).__name__
        if cls not in ("GlobalAveragePooling1D", "GlobalAveragePooling2D") or layer.name not in names:
            continue
        prec = names[layer.name].setdefault("Precision", {})
        if prec.get("accum") not in (None, "auto"):
            continue
        if getattr(layer, "data_format", "channels_last") != "channels_last":
            notes.append(f"{layer.name}: channels_first global pooling: accumulator left to hls4ml")
            continue
        src_t = _resolved_output_type(_inbound(layer), names, in_t)
        if src_t is None:
            notes.append(f"{layer.name}: input type unknown before conversion: global average pooling "
                         "accumulator left at the model default (may round the mean)")
            continue
        window = int(np.prod([d for d in layer.input_shape[1:-1]]))
        e = math.ceil(math.log2(window)) if window > 1 else 0
        prec["accum"] = FixedType(src_t.width + 2 * e, src_t.integer + e, src_t.signed).hls4ml()
        if prec.get("result") in (None, "auto"):
            prec["result"] = FixedType(src_t.width + e, src_t.integer, src_t.signed).hls4ml()
        if window & (window - 1):
            notes.append(f"{layer.name}: window of {window} is not a power of two (mean truncated)")


#: Keras layers with weights and no quantizer; Q-layers are their QKeras twins.
_FLOAT_WEIGHT_LAYERS = {"Dense", "Conv1D", "Conv2D", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D",
                        "SeparableConv2D", "Conv2DTranspose", "Conv1DTranspose", "BatchNormalization", "GRU",
                        "LSTM", "SimpleRNN", "Embedding", "PReLU"}
_FLOAT_ACTIVATION_LAYERS = {"Activation", "ReLU", "LeakyReLU", "ELU", "ThresholdedReLU", "Softmax"}


def model_input_names(keras_model: Any) -> list[str]:
    """The model's input layers as hls4ml names them (a Sequential model's is ``<first>_input``,
    which ``model.layers`` does not list)."""
    names = list(getattr(keras_model, "input_names", None) or [])
    if not names:
        names = [lyr.name for lyr in keras_model.layers if type(lyr).__name__ == "InputLayer"]
    return names


def float_layers(keras_model: Any, names: dict[str, Any] | None = None) -> list[str]:
    """hls4ml layer names computed in plain float Keras (no QKeras quantizer): their firmware
    precision is a choice (``quantization.default``), not the model's."""
    out: list[str] = []
    for layer in keras_model.layers:
        cls = type(layer).__name__
        if cls in _FLOAT_WEIGHT_LAYERS:
            out.append(layer.name)
            act = _act_name(layer)
            if act and act != "linear":
                out.append(f"{layer.name}_{act}")
        elif cls in _FLOAT_ACTIVATION_LAYERS:
            # softmax is sized by softmax_precisions (or is the argmax decision): not a default choice
            if cls == "Softmax" or (cls == "Activation" and getattr(layer.activation, "__name__", "") == "softmax"):
                continue
            out.append(layer.name)
    if names is not None:
        out = [n for n in out if n in names]
    return out


def has_quantizers(keras_model: Any) -> bool:
    """True when any layer is a QKeras layer (a quantization-aware model)."""
    return any(type(lyr).__name__.startswith("Q") and type(lyr).__module__.startswith("qkeras")
               for lyr in keras_model.layers)


def softmax_precisions(n: int, table_bits: int = 10) -> dict[str, str]:
    """Types for hls4ml's softmax tables, sized for ``n`` classes (``stable`` implementation).

    * ``inp_norm`` (``x_max - x``, addresses the exp table by its top ``table_bits`` bits):
      ``ufixed<table_bits+2, 3, TRN, SAT>`` covers [0, 8) in steps of 1/128 and *saturates*
      (exp(-8) < 4e-4; hls4ml's default wraps, so a logit far below the max could look close);
    * ``exp_table`` (values in (0, 1]): ``ufixed<18, 1>``, 17 fractional bits instead of 10;
    * ``accum`` / ``inv_inp`` (sum of exps, in [1, n]): just enough integer bits for ``n``, so
      the inverse table (addressed by the top bits of the sum) is as fine as possible;
    * ``inv_table`` (1/sum in [1/n, 1]) and ``result``: ``ufixed<18, 1>`` / ``ufixed<16, 1>``.
    """
    s = math.floor(math.log2(max(n, 2))) + 1  # sums lie in [1, n] < 2**s
    return {
        "inp_norm": f"ufixed<{table_bits + 2},3,TRN,SAT>",
        "exp_table": "ufixed<18,1,RND,SAT>",
        "accum": f"ufixed<{18 + s},{1 + s},RND,SAT>",
        "inv_inp": f"ufixed<{18 + s},{1 + s},RND,SAT>",
        "inv_table": "ufixed<18,1,RND,SAT>",
        "result": "ufixed<16,1,RND,SAT>",
    }


def converter_kwargs(cfg: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split :func:`hls_config_for`'s result into (hls_config, extra converter kwargs)."""
    cfg = dict(cfg)
    meta = cfg.pop("hwflow", {})
    return cfg, {"io_type": meta.get("io_type", "io_parallel")}


def _bn_scale_bias(layer: Any) -> tuple[np.ndarray, np.ndarray]:
    """hls4ml's folding of a Keras BatchNormalization (see hls4ml model/layers.py)."""
    cfg = layer.get_config()
    eps = float(cfg.get("epsilon", 1e-3))
    weights = {w.name.split("/")[-1].split(":")[0]: w.numpy() for w in layer.weights}
    n = int(layer.weights[0].shape[-1]) if layer.weights else 0
    gamma = weights.get("gamma", np.ones(n))
    beta = weights.get("beta", np.zeros(n))
    mean = weights.get("moving_mean", np.zeros(n))
    var = weights.get("moving_variance", np.ones(n))
    scale = gamma / np.sqrt(var + eps)
    return scale, beta - mean * scale
