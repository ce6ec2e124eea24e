"""Features of a recurrent layer (GRU / LSTM / SimpleRNN): its cell is built from parts the
model already knows (:func:`hwflow.estimate.schedule.rnn_parts` - the input and recurrent
kernels as dense layers, the gate tables, the state products), stepped through the sequence;
plus what the hls4ml stack around the cell costs on its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .channels import fifo_features, without_fifo
from .layerspec import LayerSpec
from .schedule import Context, rnn_copies, rnn_parts

#: LUT of one variable part-select out of a wide packed word: Vivado HLS 2019.2 books each such
#: shifter at 2,171 LUT whatever the word (1,440-2,160 bits; the gru_stack reports of three GRU
#: designs - 18-bit inputs need one shifter per input, 16-bit ones two shifters and a mask). Seen
#: only there: narrower words and Vitis HLS are unmeasured (every RNN estimate is flagged out of
#: the calibration domain, with a wider interval).
SEQ_SELECT_LUT = 2171

LayerFeatures = Callable[[LayerSpec, Context, dict[str, float]], dict[str, float]]


def rnn_features(spec: LayerSpec, ctx: Context, hyper: dict[str, float],
                 layer_features: LayerFeatures) -> dict[str, Any]:
    """Every feature value of one recurrent layer.

    A recurrent cell's latency is paid once per time step (the state recurrence is sequential);
    the input and recurrent kernels run side by side, so a step costs the slower of the two plus
    the gates and state products. Resources: one cell when it is reused over the steps - the
    static variant (its state lives in static registers, so HLS keeps one instance and
    serialises the calls), every io_stream layer and every stack under a dataflow top (its time
    loop is not unrolled); the non-static io_parallel variant inside the pipelined top function
    is unrolled over the time steps, one cell per step."""
    f: dict[str, float] = {}

    def add(name: str, v: float) -> None:
        f[name] = f.get(name, 0.0) + float(v)

    copies = rnn_copies(spec, ctx)
    # the parts are inside the cell, not processes of the top: no FIFO or channel of their own -
    # the cell's output has one (added below)
    parts = [without_fifo(layer_features(part, ctx, hyper), fifo_features(part, ctx, hyper))
             for part in rnn_parts(spec)]
    kernels, rest = parts[:2], parts[2:]
    slow = max(kernels, key=lambda p: p.get("lat_depth", 0.0) + p.get("lat_frac", 0.0)
               + p.get("lat_serial", 0.0))
    for p in kernels:
        for k, v in p.items():
            if not k.startswith("lat_"):
                add(k, v * copies)
    for p in [slow] + rest:
        for k, v in p.items():
            add(k, v * spec.n_timesteps if k.startswith("lat_") else (0.0 if p is slow else v * copies))
    if spec.io_type == "io_parallel" and spec.input_reshaped and ctx.dataflow:
        # hls4ml's io_parallel stack, a process of a dataflow top with its time loop rolled,
        # reads step t's inputs out of the packed input word (data[j + t * n_in]): a variable
        # part-select - a wide shifter - per input element (in a pipelined top the loop is
        # unrolled and every select is wiring)
        add("lut_seq", spec.n_in * SEQ_SELECT_LUT)
    for k, v in fifo_features(spec, ctx, hyper).items():
        add(k, v)
    return f
