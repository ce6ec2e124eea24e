"""QKeras quantizers read as fixed-point types, and the Keras <-> firmware comparison.

Quantization-aware training is worth something only when the FPGA computes what the QKeras model
computed. :mod:`hwflow.hlsconfig` derives every hls4ml type from the quantizers (which type each
layer gets, and why it is exact, is written there, once); this module reads a quantizer as a
:class:`~hwflow.emu.fixed.FixedType` (:func:`fixed_type_for_quantizer`), matches Keras layers to
hls4ml layers, and :func:`compare` measures how far the firmware (C-sim or the fast emulator) is
from the QKeras model, layer by layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hwflow.emu.fixed import FixedType

#: hls4ml layer kinds whose firmware is a lookup-table approximation, never bit-exact.
TABLE_ACTIVATIONS = {"softmax", "sigmoid", "tanh", "softplus", "softsign", "elu", "selu"}


# ------------------------------------------------------------------------------ quantizers
def quantizer_config(q: Any) -> tuple[str, dict[str, Any]] | None:
    """(class name, config) of a QKeras quantizer object / config dict / string, else None."""
    if q is None:
        return None
    if isinstance(q, dict):
        return q.get("class_name", ""), dict(q.get("config", {}))
    if isinstance(q, str):
        try:
            from qkeras import get_quantizer
        except ImportError:  # pragma: no cover
            return None
        q = get_quantizer(q)
    if hasattr(q, "get_config"):
        try:
            return type(q).__name__, dict(q.get_config())
        except Exception:  # noqa: BLE001 - a quantizer we do not understand
            return type(q).__name__, {}
    return getattr(q, "__name__", type(q).__name__), {}


def fixed_type_for_quantizer(q: Any) -> FixedType | None:
    """The ``ap_fixed`` type whose assignment equals this QKeras quantizer, or None.

    ``quantized_bits(bits, integer, symmetric, keep_negative, alpha=1/None)``:
    ``ap_[u]fixed<bits, integer + keep_negative, AP_RND_CONV, AP_SAT[_SYM]>``;
    ``quantized_relu(bits, integer)`` (no negative slope, no upper bound):
    ``ap_ufixed<bits, integer, AP_RND_CONV, AP_SAT>``. Anything else (alpha scales, po2,
    binary/ternary, stochastic rounding, hard/real tanh/sigmoid) has no exact fixed-point twin.
    """
    qc = quantizer_config(q)
    if qc is None:
        return None
    name, cfg = qc
    try:
        bits = int(cfg.get("bits"))
        integer = int(cfg.get("integer", 0))
    except (TypeError, ValueError):
        return None
    if cfg.get("use_stochastic_rounding"):
        return None
    if name == "quantized_bits":
        alpha = cfg.get("alpha")
        if alpha not in (None, 1, 1.0):
            return None
        keep_negative = bool(cfg.get("keep_negative", True))
        if bits - int(keep_negative) <= 0:
            return None  # 1-bit: a sign function
        overflow = "SAT_SYM" if cfg.get("symmetric") and keep_negative else "SAT"
        return FixedType(bits, integer + int(keep_negative), signed=keep_negative,
                         rounding="RND_CONV", overflow=overflow)
    if name == "quantized_relu":
        if float(cfg.get("negative_slope", 0.0) or 0.0) != 0.0 or cfg.get("use_sigmoid"):
            return None
        if cfg.get("relu_upper_bound") is not None:
            return None
        return FixedType(bits, integer, signed=False, rounding="RND_CONV", overflow="SAT")
    return None


def _act_quantizer(layer: Any) -> Any:
    """The QKeras activation quantizer of a Keras layer (QActivation or Q-layer activation=)."""
    q = getattr(layer, "quantizer", None)  # QActivation
    if q is not None:
        return q
    act = getattr(layer, "activation", None)
    if act is not None and hasattr(act, "get_config") and hasattr(act, "bits"):
        return act
    return None


def _act_name_of_quantizer(layer: Any) -> str | None:
    """hls4ml's activation for a QActivation: quantized_bits becomes 'linear'."""
    qc = quantizer_config(getattr(layer, "quantizer", None))
    if qc is None:
        return None
    return "linear" if qc[0] == "quantized_bits" else qc[0]


def _act_name(layer: Any) -> str | None:
    """The activation suffix hls4ml appends when it splits a layer's ``activation=``."""
    act = getattr(layer, "activation", None)
    if act is None or type(layer).__name__ in ("Activation", "QActivation"):
        return None
    if hasattr(act, "get_config") and hasattr(act, "bits"):
        return type(act).__name__
    name = getattr(act, "__name__", None)
    return name


def _inbound(layer: Any) -> Any:
    """The single Keras layer feeding ``layer`` (None for several or none)."""
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if not nodes:
        return None
    inb = nodes[0].inbound_layers
    if isinstance(inb, (list, tuple)):
        return inb[0] if len(inb) == 1 else None
    return inb


# ------------------------------------------------------------------------------ comparison
@dataclass
class LayerMatch:
    keras_name: str
    hls_name: str
    table_based: bool


def match_layers(keras_model: Any, hls_layers: dict[str, str]) -> list[LayerMatch]:
    """Pair Keras layers with the hls4ml layers computing the same tensor, in graph order.

    ``hls_layers`` maps hls4ml layer name -> activation/class descriptor (lower case). When
    hls4ml split ``Dense(..., activation=a)`` into ``name`` and ``name_a``, the Keras output is
    the activation's.
    """
    out: list[LayerMatch] = []
    for layer in keras_model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        if type(layer).__name__ == "QActivation" and layer.name not in hls_layers:
            # absorbed into its parent's result type (see hls_config_for): the parent's firmware
            # output is this quantizer's output
            parent = _inbound(layer)
            while parent is not None and type(parent).__name__ == "Dropout":
                parent = _inbound(parent)
            if parent is not None and out and out[-1].keras_name == parent.name:
                out[-1] = LayerMatch(layer.name, out[-1].hls_name, out[-1].table_based)
            continue
        act = _act_name(layer)
        candidates = ([f"{layer.name}_{act}"] if act else []) + [layer.name]
        for c in candidates:
            if c in hls_layers:
                kind = hls_layers[c]
                out.append(LayerMatch(layer.name, c, kind in TABLE_ACTIVATIONS))
                break
    return out


def _hls_layer_kinds(hls_model: Any) -> dict[str, str]:
    kinds = {}
    for lyr in hls_model.get_layers():
        if lyr.class_name == "Softmax":
            kinds[lyr.name] = "softmax"
        elif lyr.class_name in ("Activation", "ParametrizedActivation"):
            kinds[lyr.name] = str(lyr.get_attr("activation", "")).lower()
        else:
            kinds[lyr.name] = lyr.class_name.lower()
    return kinds


def keras_layer_outputs(keras_model: Any, x: np.ndarray, names: list[str], batch_size: int = 4096
                        ) -> dict[str, np.ndarray]:
    """Outputs of the named Keras layers on ``x`` (one extra model, one predict call)."""
    import tensorflow as tf

    if not names:
        return {}
    probe = tf.keras.Model(keras_model.inputs, [keras_model.get_layer(n).output for n in names])
    outs = probe.predict(x, batch_size=batch_size, verbose=0)
    if len(names) == 1:
        outs = [outs]
    return {n: np.asarray(o) for n, o in zip(names, outs)}


def _stats(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    a2 = np.asarray(a, dtype=np.float64).reshape(len(a), -1)
    b2 = np.asarray(b, dtype=np.float64).reshape(len(b), -1)
    diff = np.abs(a2 - b2)
    same = np.all(a2 == b2, axis=1)
    return {
        "exact_fraction": float(same.mean()) if len(same) else None,
        "max_abs_diff": float(diff.max()) if diff.size else 0.0,
        "mean_abs_diff": float(diff.mean()) if diff.size else 0.0,
        "worst_sample": int(np.argmax(diff.max(axis=1))) if diff.size else None,
    }


def compare(keras_model: Any, x: np.ndarray, y_hls: np.ndarray, *, hls_model: Any = None,
            hls_layer_outputs: dict[str, np.ndarray] | None = None, y_keras: np.ndarray | None = None,
            trace_samples: int = 2000, per_layer: bool | None = None) -> dict[str, Any]:
    """Compare the firmware's outputs (C-sim or fast emulator) with the QKeras model.

    Returns the fields of emulate.json: ``samples``, ``argmax_agreement``, ``exact_fraction``
    (samples whose every output equals Keras' bit for bit), ``max_abs_diff``,
    ``first_divergent_layer`` (first layer, in graph order, that should be exact and is not;
    None when all are), ``output_table_based`` (the last layer is a lookup-table activation, so
    the final output cannot be exact), ``exact_fraction_before_tables`` (exactness of the last
    layer before that table) and ``layers``: one row per matched layer.

    Per-layer outputs come from ``hls_layer_outputs`` (e.g. :meth:`FastEmulator.predict_layers`,
    bit-identical to C-sim) or, when absent and something diverges, from ``hls_model.trace`` on
    the first ``trace_samples`` samples (recompiles the project with tracing; slow).
    ``per_layer``: None (default) traces only when needed, True always, False never.
    """
    x = np.asarray(x)
    y_hls = np.asarray(y_hls, dtype=np.float64).reshape(len(x), -1)
    if y_keras is None:
        y_keras = np.asarray(keras_model.predict(x, batch_size=4096, verbose=0))
    y_keras = np.asarray(y_keras).reshape(len(x), -1)
    final = _stats(y_hls, y_keras)
    result: dict[str, Any] = {
        "samples": len(x),
        "argmax_agreement": float(np.mean(np.argmax(y_hls, 1) == np.argmax(y_keras, 1))) if len(x) else None,
        "exact_fraction": final["exact_fraction"],
        "max_abs_diff": final["max_abs_diff"],
        "worst_sample": final["worst_sample"],
        "first_divergent_layer": None,
        "output_table_based": False,
        "exact_fraction_before_tables": None,
        "layers": [],
        "layer_samples": None,
        "layer_source": None,
    }
    if hls_model is None and hls_layer_outputs is None:
        return result
    kinds = _hls_layer_kinds(hls_model) if hls_model is not None else {
        k: "" for k in (hls_layer_outputs or {})}
    matches = match_layers(keras_model, kinds)
    if matches:
        result["output_table_based"] = matches[-1].table_based
    n_layer = len(x)
    source = "fast-emulator"
    if per_layer is False:
        return result
    if hls_layer_outputs is None:
        if per_layer is None and final["exact_fraction"] == 1.0 and not result["output_table_based"]:
            return result  # nothing to explain
        n_layer = min(len(x), trace_samples)
        _, hls_layer_outputs = hls_model.trace(np.ascontiguousarray(x[:n_layer], dtype=np.float64))
        source = "hls4ml-trace"
    present = [m for m in matches if m.hls_name in hls_layer_outputs]
    k_out = keras_layer_outputs(keras_model, x[:n_layer], [m.keras_name for m in present])
    rows = []
    for m in present:
        h = np.asarray(hls_layer_outputs[m.hls_name])[:n_layer]
        k = k_out[m.keras_name]
        if h.reshape(len(h), -1).shape != k.reshape(len(k), -1).shape:
            continue
        st = _stats(h, k)
        rows.append({"keras_layer": m.keras_name, "hls_layer": m.hls_name, "kind": kinds.get(m.hls_name, ""),
                     "table_based": m.table_based, **st})
    result["layers"] = rows
    result["layer_samples"] = n_layer
    result["layer_source"] = source
    for r in rows:
        if not r["table_based"] and r["exact_fraction"] is not None and r["exact_fraction"] < 1.0:
            result["first_divergent_layer"] = r["hls_layer"]
            break
    exact_rows = [r for r in rows if not r["table_based"]]
    if result["output_table_based"] and exact_rows:
        result["exact_fraction_before_tables"] = exact_rows[-1]["exact_fraction"]
    return result


def format_layer_table(result: dict[str, Any]) -> str:
    """A plain-text per-layer table for logs and reports."""
    rows = result.get("layers") or []
    if not rows:
        return "(no per-layer comparison)"
    head = f"{'layer':<24} {'kind':<14} {'exact':>8} {'max|diff|':>12} {'mean|diff|':>12}"
    lines = [head, "-" * len(head)]
    for r in rows:
        flag = " (table)" if r["table_based"] else ""
        lines.append(f"{r['hls_layer']:<24} {r['kind'][:14]:<14} {r['exact_fraction']:>8.4f} "
                     f"{r['max_abs_diff']:>12.3g} {r['mean_abs_diff']:>12.3g}{flag}")
    return "\n".join(lines)
