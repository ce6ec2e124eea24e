"""Step convert: QKeras model -> hls4ml configuration -> HLS project in hls/.

The hls4ml configuration is derived from the design (io_type, strategy, reuse factor,
clock) and from the QKeras quantizers (every precision), so that the firmware
computes what the QKeras model computes. Backend: hls4ml's VivadoAccelerator for
boards it knows (adds the AXI-stream wrapper and PYNQ driver), else Vitis with the
board's part.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ..context import Context
from ..errors import BadInput
from ..fileio import atomic_write_json, hash_tree
from ..hlsconfig import converter_kwargs, has_quantizers, hls_config_for
from ..hlsgraph import accelerator_da_codegen, repair_model_graph, with_bridge_safe_inputs
from ..models.build import custom_objects
from ..registry import StepSpec, register
from .train import load_quantized_model


def _settings(ctx: Context) -> dict[str, Any]:
    b = ctx.board_cfg
    s = {"hls": ctx.design_cfg["hls"], "input": ctx.design_cfg["quantization"]["input"],
         "part": b["part"], "hls4ml_board": b.get("hls4ml_board"), "family": b["family"]}
    if ctx.design_cfg["quantization"].get("default") is not None:
        s["default_precision"] = ctx.design_cfg["quantization"]["default"]
    return s


def backend_for(ctx: Context) -> str:
    return "VivadoAccelerator" if ctx.board.hls4ml_board else "Vitis"


def hls_config(ctx: Context, model) -> dict[str, Any]:
    """hls4ml config with every precision derived from the QKeras quantizers (bit-exact C-sim)."""
    h = ctx.design.hls
    inp = ctx.design.quantization.input
    default = ctx.design.quantization.default
    cfg = hls_config_for(model, io_type=h.io_type, strategy=h.strategy, reuse_factor=h.reuse_factor,
                         input_precision=(inp.bits, inp.integer_bits),
                         float_precision=default.hls4ml() if default is not None else None)
    if h.softmax != "stable":
        for layer in model.layers:
            act = getattr(getattr(layer, "activation", None), "__name__", "")
            if type(layer).__name__ in ("Activation", "Softmax") and (act == "softmax" or type(layer).__name__ == "Softmax"):
                lc = cfg.setdefault("LayerName", {}).setdefault(layer.name, {})
                lc["Implementation"] = h.softmax
                if h.softmax == "argmax":
                    # the output is a one-hot: 0 or 1, exactly
                    prec = lc.get("Precision")
                    if isinstance(prec, dict):
                        prec["result"] = "ufixed<1,1>"
                    else:
                        lc["Precision"] = {"result": "ufixed<1,1>"}
    return cfg


#: Keras/QKeras layer classes hls4ml 1.3 converts but writes no firmware for: its Vivado/Vitis
#: backends have C++ templates for LSTM and GRU only, so a SimpleRNN layer's output variable is
#: never computed (the C-sim build fails or, worse, reads an unset array).
_NO_FIRMWARE = {"SimpleRNN": "GRU or LSTM", "QSimpleRNN": "QGRU or QLSTM"}


def _keras_layers(model, outer: str = "") -> list[tuple[str, Any]]:
    """(name as the user knows it, layer) for every layer of a Keras model, with the layers inside
    wrappers (Bidirectional, TimeDistributed) and nested models."""
    out: list[tuple[str, Any]] = []
    for layer in getattr(model, "layers", []):
        label = f"{outer}{layer.name}"
        out.append((label, layer))
        for attr in ("forward_layer", "backward_layer", "layer"):
            inner = getattr(layer, attr, None)
            if inner is not None and hasattr(inner, "name"):
                out.append((f"{label}/{inner.name}", inner))
        if hasattr(layer, "layers"):
            out.extend(_keras_layers(layer, f"{label}/"))
    return out


def check_convertible(model, where: str) -> None:
    """Stop (exit 2) on a layer hls4ml 1.3 converts without generating its firmware, naming it."""
    for label, layer in _keras_layers(model):
        cls = type(layer).__name__
        if cls in _NO_FIRMWARE:
            raise BadInput(
                f"{where}: layer '{label}' ({cls}): hls4ml 1.3 generates no firmware for {cls} "
                "(its Vivado and Vitis backends have code for GRU and LSTM only), so the converted "
                "project would never compute this layer",
                hint=f"use {_NO_FIRMWARE[cls]} instead of {cls} in the model")


def convert_model(ctx: Context, model, output_dir: Path):
    """Build the hls4ml ModelGraph for this design and board (deterministic)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import hls4ml

    check_convertible(model, _model_origin(ctx))

    model, renamed = with_bridge_safe_inputs(model, custom_objects())
    for old, new in renamed.items():
        if not ctx.memo.get(f"renamed:{old}"):
            ctx.memo[f"renamed:{old}"] = new
            ctx.log(f"input layer '{old}' is '{new}' in the firmware (hls4ml's accelerator bridge cannot "
                    "compile input names containing 'input_t')")
    cfg = hls_config(ctx, model)
    hls_cfg, conv_kw = converter_kwargs(cfg)
    kwargs: dict[str, Any] = dict(hls_config=hls_cfg, output_dir=str(output_dir), project_name="myproject",
                                  clock_period=ctx.clock_period_ns, part=ctx.board.part, **conv_kw)
    if ctx.board.hls4ml_board:
        kwargs.update(backend="VivadoAccelerator", board=ctx.board.hls4ml_board, interface="axi_stream",
                      driver="python", input_type="float", output_type="float")
    else:
        kwargs.update(backend="Vitis")
    with accelerator_da_codegen():  # hls4ml 1.3's DA pass refuses VivadoAccelerator by name only
        hls_model = hls4ml.converters.convert_from_keras_model(model, **kwargs)

    cfg.setdefault("hwflow", {}).setdefault("notes", []).extend(repair_model_graph(hls_model))
    return hls_model, cfg


def _model_origin(ctx: Context) -> str:
    """What to name in an error about the model: the design and its model.file when set."""
    mf = getattr(ctx.design.model, "file", None)
    return f"design {ctx.design.name}, model.file {mf}" if mf else f"design {ctx.design.name}, model.layers"


def get_hls_model(ctx: Context):
    """The ModelGraph of the converted design (rebuilt in memory when this process has none)."""
    if "hls_model" in ctx.memo:
        return ctx.memo["hls_model"]

    model = load_quantized_model(ctx)
    hls_model, _ = convert_model(ctx, model, ctx.path("hls"))
    ctx.memo["hls_model"] = hls_model
    return hls_model


def layer_precisions(hls_model) -> list[dict[str, Any]]:
    rows = []
    for layer in hls_model.get_layers():
        row: dict[str, Any] = {"name": layer.name, "class": layer.class_name}
        for var in ("result", "weight", "bias", "accum"):
            t = layer.get_attr(f"{var}_t")
            if t is not None and hasattr(t, "precision"):
                row[var] = str(t.precision)
        rf = layer.get_attr("reuse_factor")
        if rf is not None:
            row["reuse_factor"] = int(rf)
        rows.append(row)
    return rows


def model_kind(ctx: Context, model, cfg: dict[str, Any]) -> dict[str, Any]:
    """What kind of model this is ("QKeras model" / "float Keras model"), which layers run at a
    precision the design chose rather than the model's quantizers; warns once for a float model."""
    meta = cfg.get("hwflow", {})
    floats = list(meta.get("float_layers") or [])
    quantized = has_quantizers(model)
    kind = "QKeras model" if quantized else "float Keras model"
    prec = meta.get("float_precision") or cfg.get("Model", {}).get("Precision", {}).get("default", "fixed<16,6>")
    if isinstance(prec, dict):
        prec = prec.get("default", "fixed<16,6>")
    if floats:
        why = ("set quantization.default: {bits, integer_bits} to choose it" if meta.get("float_precision") is None
               else "from quantization.default")
        ctx.log(f"WARNING: {kind} with {len(floats)} float layer(s): firmware uses {prec} there ({why}); "
                "quantization-aware training (QKeras) would make the firmware bit-exact with the model "
                "and usually allows fewer bits at the same accuracy")
    return {"model_kind": kind, "float_layers": floats, "float_precision": prec if floats else None}


def run(ctx: Context) -> dict[str, Any]:
    model = load_quantized_model(ctx)
    out = ctx.path("hls")
    tmp = ctx.path(".hls.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    ctx.log(f"hls4ml: backend {backend_for(ctx)}, part {ctx.board.part}, {ctx.design.hls.io_type}, "
            f"{ctx.design.hls.strategy}, reuse {ctx.design.hls.reuse_factor}, clock {ctx.clock_period_ns} ns")
    hls_model, cfg = convert_model(ctx, model, tmp)
    hls_model.write()
    # Replace the previous project only once the new one is completely written.
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    hls_model.config.config["OutputDir"] = str(out)
    ctx.memo["hls_model"] = hls_model
    result = {
        "backend": backend_for(ctx), "board": ctx.board.hls4ml_board, "part": ctx.board.part,
        "clock_period_ns": ctx.clock_period_ns, "io_type": ctx.design.hls.io_type, "strategy": ctx.design.hls.strategy,
        "reuse_factor": ctx.design.hls.reuse_factor, "project_dir": "hls", "project_name": "myproject",
        "hls_config": cfg, "layers": layer_precisions(hls_model),
        "firmware_hash": hash_tree(out / "firmware"),
        **model_kind(ctx, model, cfg),
    }
    atomic_write_json(ctx.path("convert.json"), result)
    return {"backend": result["backend"], "layers": len(result["layers"])}


register(StepSpec(name="convert", run=run, settings=_settings, needs=("train",),
                  outputs=("hls/firmware", "convert.json"), result_file="convert.json", version=1,
                  # the config builder and the quantizer -> ap_fixed mapping it uses
                  code=("hwflow/hlsconfig.py", "hwflow/hlsgraph.py", "hwflow/emu/precision.py", "hwflow/emu/fixed.py")))
