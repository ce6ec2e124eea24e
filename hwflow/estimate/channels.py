"""What the top function books between layers, outside every layer's instance: the FIFOs of an
io_stream dataflow and the channels of an io_parallel dataflow top (features of the layer that
writes them; the per-layer fit rows leave them out)."""

from __future__ import annotations

import math

from .layerspec import LayerSpec
from .schedule import Context, _bits


def fifo_features(spec: LayerSpec, ctx: Context, hyper: dict[str, float]) -> dict[str, float]:
    """The io_stream FIFO a layer writes (hls4ml <= 0.8 sizes it to hold the whole tensor), or
    the channels of its output under an io_parallel dataflow top: part of the layer's features,
    but the vendor report books them at the top level, not in the layer's instance (the per-layer
    fit rows leave them out)."""
    if ctx.io_type == "io_parallel" and ctx.dataflow and spec.io_type == "io_parallel":
        return _channel_features(spec, ctx)
    if not (ctx.io_type == "io_stream" and spec.io_type == "io_stream"):
        return {}
    res = _bits(spec.result_bits, _bits(spec.input_bits))
    ch = max(1, spec.out_pack or (spec.n_filt if spec.is_conv else 1))
    depth = spec.fifo_depth or max(1, math.ceil(max(1, spec.n_out) / ch))
    in_bram = depth > hyper["fifo_bram_depth"]
    if ctx.vitis:
        # Vitis HLS packs the stream word into one FIFO (`layerN_out_U`, ch x res bits wide);
        # Vivado HLS splits it into one FIFO per element (`layerN_out_V_data_<i>_V_U`)
        f = {"lut_fifo": 10.0, "ff_fifo": STREAM_FIFO_FF["vitis_hls", in_bram]}
        if in_bram:
            f["bram_fifo"] = math.ceil(ch * res / 18.0) * math.ceil(depth / 1024.0)
    else:
        f = {"lut_fifo": ch * 10.0, "ff_fifo": ch * STREAM_FIFO_FF["vivado_hls", in_bram]}
        if in_bram:
            f["bram_fifo"] = ch * math.ceil(depth * res / 18432.0)
    if not in_bram:
        f["lut_srl"] = ch * depth * res / 32.0
    return f


#: Registers of one io_stream FIFO (tool, in block RAM), as the vendor reports book them per
#: FIFO: Vivado HLS 5 in a shift register, 42-48 in a block RAM (30 reports); Vitis HLS 99 for a
#: packed word in a shift register, 151-163 in block RAM (3 reports).
STREAM_FIFO_FF = {("vivado_hls", False): 5.0, ("vivado_hls", True): 45.0,
                  ("vitis_hls", False): 100.0, ("vitis_hls", True): 155.0}


#: Registers of one depth-2 channel of an io_parallel dataflow top, per tool, as the vendor
#: reports book them per FIFO: Vivado HLS builds it as a shift register in LUTs (5 FF of
#: control, 2 FIFO reports), Vitis HLS in registers (36 FF each for 9- and 16-bit channels).
CHANNEL_FF = {"vivado_hls": 5.0, "vitis_hls": 36.0}


def _channel_features(spec: LayerSpec, ctx: Context) -> dict[str, float]:
    """Under an io_parallel dataflow top every element of a layer's output array is a channel
    of its own (the arrays are partitioned completely), a FIFO of depth 2 booked at the top
    level: its registers (CHANNEL_FF) and about a LUT per bit plus a dozen of control
    (29-43 LUT per 16-24-bit channel in the Vivado HLS reports, 23 per 9-16-bit in Vitis).
    A reshape or flatten is no process and writes no channel. Arrays the top does not partition
    (no ARRAY_PARTITION pragma: an old writer's ping-pong memories) or too large for it (over a
    block RAM, as the resource strategy's buffers - bram_buffer) are no channels either."""
    ch = max(1, spec.n_out)
    res = _bits(spec.result_bits, _bits(spec.input_bits))
    if spec.kind == "reshape" or spec.top_partitioned is False or ch * res > 18432:
        return {}
    return {"ff_chan": ch * CHANNEL_FF["vitis_hls" if ctx.vitis else "vivado_hls"], "lut_chan": ch * (res + 12.0)}


def without_fifo(f: dict[str, float], fifo: dict[str, float]) -> dict[str, float]:
    """Features ``f`` less the FIFO / channel features ``fifo`` it includes."""
    return {k: v - fifo.get(k, 0.0) for k, v in f.items() if v - fifo.get(k, 0.0) > 0 or k not in fifo}


__all__ = ["CHANNEL_FF", "STREAM_FIFO_FF", "fifo_features", "without_fifo"]
