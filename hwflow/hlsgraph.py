"""What hwflow does to a model around hls4ml's conversion (the convert step's helpers).

* input layers renamed where hls4ml's VivadoAccelerator bridge would break on their names;
* the converted graph repaired where hls4ml 1.3 gets it wrong (a Keras ``Softmax`` layer's config
  name; global average pooling accumulators sized so the window's sum is exact);
* hls4ml's distributed-arithmetic code generator let through for the VivadoAccelerator backend.

The hls4ml configuration itself is built in :mod:`hwflow.hlsconfig`.
"""

from __future__ import annotations

import contextlib
import copy
import math
from typing import Any, Iterator

import numpy as np

from hwflow.hlsconfig import model_input_names

# ------------------------------------------------------------------------------ input names
#: hls4ml's VivadoAccelerator writer rewrites the C-sim bridge by plain text replacement of the
#: input's type name ``input_t`` with ``input_axi_t`` on whole lines: an input layer whose name
#: contains ``input_t`` (``input_tensor``, ``input_time``...) becomes ``input_axi_tensor_ap``, which
#: is never declared, and the bridge does not compile. Such inputs are renamed before conversion.
_BRIDGE_UNSAFE = ("input_t", "result_t")


def bridge_safe_name(name: str, taken: set[str]) -> str:
    new = name
    for bad in _BRIDGE_UNSAFE:
        new = new.replace(bad, bad.replace("_t", "_x_t"))  # input_tensor -> input_x_tensor
    base, i = new, 1
    while new in taken:
        new, i = f"{base}_{i}", i + 1
    return new


def with_bridge_safe_inputs(keras_model: Any, custom_objects: dict[str, Any] | None = None) -> tuple[Any, dict[str, str]]:
    """The model with every input layer renamed that hls4ml's accelerator bridge would break on
    (same layers, same weights), and ``{old: new}``; the model itself when nothing needs it."""
    import tensorflow as tf

    taken = {lyr.name for lyr in keras_model.layers} | set(model_input_names(keras_model))
    renames = {}
    for nm in model_input_names(keras_model):
        if any(bad in nm for bad in _BRIDGE_UNSAFE):
            renames[nm] = bridge_safe_name(nm, taken)
            taken.add(renames[nm])
    if not renames:
        return keras_model, {}

    objs = dict(custom_objects or {})
    new_inputs = [tf.keras.Input(shape=t.shape[1:], dtype=t.dtype, name=renames.get(n, n))
                  for t, n in zip(keras_model.inputs, model_input_names(keras_model))]
    try:
        with tf.keras.utils.custom_object_scope(objs):
            clone = tf.keras.models.clone_model(keras_model,
                                                input_tensors=new_inputs if len(new_inputs) > 1 else new_inputs[0])
        clone.set_weights(keras_model.get_weights())
    except Exception:  # noqa: BLE001 - e.g. a subclassed model: convert as it is (the C-sim build says why)
        return keras_model, {}
    if model_input_names(clone) != [renames.get(n, n) for n in model_input_names(keras_model)]:
        return keras_model, {}
    return clone, renames


def repair_model_graph(hls_model: Any) -> list[str]:
    """Fix what hls4ml 1.3 gets wrong for some Keras models before the project is written;
    returns one note per repair.

    * a Keras ``Softmax`` *layer* (not ``Activation('softmax')``) keeps its class name as its
      activation: the config struct is written ``Softmax_configN`` while the call names
      ``softmax_configN``, and the project does not compile.
    """
    notes = []
    for layer in hls_model.get_layers():
        act = layer.get_attr("activation")
        if layer.class_name == "Softmax" and isinstance(act, str) and act != "softmax":
            layer.set_attr("activation", "softmax")
            # the C++ templates were already rendered during conversion: rename the struct there too
            code = layer.get_attr("config_cpp")
            if isinstance(code, str):
                layer.set_attr("config_cpp", code.replace(f"{act}_config{layer.index}", f"softmax_config{layer.index}"))
            notes.append(f"{layer.name}: Keras Softmax layer written as hls4ml softmax (config name fixed)")
    notes.extend(size_global_pooling_accumulators(hls_model))
    return notes


def size_global_pooling_accumulators(hls_model: Any) -> list[str]:
    """After conversion, where every input type is known (also one hls4ml inferred from 'auto',
    which :func:`hls_config_for` cannot see): a global average pooling whose accumulator the
    design left to hls4ml ('auto' -> the model default) gets the one that holds the window's
    sum exactly, ceil(log2(window)) more integer and fraction bits than its input."""
    from hls4ml.model.types import FixedPrecisionType

    notes = []
    layer_cfg = (hls_model.config.config.get("HLSConfig") or {}).get("LayerName") or {}
    for layer in hls_model.get_layers():
        if not layer.class_name.startswith("GlobalPooling") or str(layer.get_attr("pool_op", "")).lower() != "average":
            continue
        given = ((layer_cfg.get(layer.name) or {}).get("Precision") or {}).get("accum", "auto")
        acc, inp = layer.get_attr("accum_t"), layer.get_input_variable().type.precision
        if given not in (None, "auto") or acc is None or acc.name != f"{layer.name}_accum_t":
            continue  # the design's own type, or a type shared with other layers: left as it is
        if not isinstance(inp, FixedPrecisionType) or not isinstance(old := acc.precision, FixedPrecisionType):
            continue
        shape = layer.get_input_variable().shape
        window = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        e = math.ceil(math.log2(window)) if window > 1 else 0
        want = (inp.width + 2 * e, inp.integer + e, inp.signed)
        if (old.signed == inp.signed and old.integer >= want[1]
                and old.width - old.integer >= want[0] - want[1]):
            continue  # already exact
        new = copy.copy(old)  # the backend's own type class (it writes the C++ typedef)
        new.width, new.integer, new.signed = want
        new.rounding_mode, new.saturation_mode = None, None  # TRN, WRAP: exact sum, truncating mean
        acc.precision = new
        notes.append(f"{layer.name}: global average pooling accumulator {old} -> {acc.precision} "
                     f"(the sum of {window} inputs of {inp} is exact)")
    return notes


@contextlib.contextmanager
def accelerator_da_codegen() -> Iterator[None]:
    """Let hls4ml 1.3 generate ``distributed_arithmetic`` kernels for the VivadoAccelerator backend.

    Its DA code generator asserts that the configured backend is ``Vivado`` or ``Vitis`` although
    the code it writes does not depend on it (always the Vitis flavour, which Vivado HLS compiles
    too); VivadoAccelerator is the Vivado backend plus a board wrapper. While this context is
    active, that one pass sees ``Vivado`` for an accelerator project; nothing else changes.
    """
    from hls4ml.model.optimizer import get_optimizer

    opt = get_optimizer("vivado:distributed_arithmetic_codegen")
    original = opt.transform

    def transform(model: Any, node: Any) -> Any:
        conf = model.config.config
        backend = conf.get("Backend")
        if str(backend).lower() != "vivadoaccelerator":
            return original(model, node)
        conf["Backend"] = "Vivado"
        try:
            return original(model, node)
        finally:
            conf["Backend"] = backend

    opt.transform = transform
    try:
        yield
    finally:
        opt.transform = original
