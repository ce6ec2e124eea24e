"""What the cost model fits: its feature names per metric, the Vitis HLS coefficient groups, the
prior of every coefficient and the default hyperparameters (:mod:`hwflow.estimate.model` counts
the features, :mod:`hwflow.estimate.fit` fits the coefficients)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

# Metrics the model fits linearly, and the feature names of each (documentation + order).
# Every feature is already in the unit of its metric for a "typical" part (a LUT per
# bit of adder, a DSP per multiplier, a cycle per pipeline stage...), so a fitted
# coefficient near 1 means the physical picture holds and its size is readable.
FEATURES: dict[str, tuple[str, ...]] = {
    "dsp": ("dsp_const", "dsp_shared", "dsp_softmax", "dsp_bn", "dsp_exptab"),
    "lut": ("lut_mul_const", "lut_mul_cdsp", "lut_mul_fabric", "lut_add", "lut_mux", "lut_mux_r", "lut_act", "lut_table",
            "lut_pool", "lut_fifo", "lut_srl", "lut_layer", "lut_wrom", "lut_layer_s", "lut_add_dsp", "lut_quant", "lut_chan",
            "lut_seq", "lut_exptab"),
    "ff": ("ff_pipe", "ff_acc", "ff_mul", "ff_inreg", "ff_fifo", "ff_layer", "ff_window", "ff_resmul", "ff_delay",
           "ff_chain", "ff_pipe_s", "ff_hold", "ff_chan", "ff_cmp", "ff_dspcore", "ff_exptab"),
    "bram_18k": ("bram_weights", "bram_tables", "bram_fifo", "bram_linebuf", "bram_buffer"),
    "latency": ("lat_ii", "lat_depth", "lat_serial", "lat_softmax", "lat_layer", "lat_chain", "lat_frac"),
}
#: Vitis HLS is its own model: every coefficient of every fitted metric gets deviations
#: (multipliers, fitted in log space with priors pulling them to 1), hierarchically: one shared
#: by all Vitis HLS designs ("vitis_hls"), and one per version range on top of it -
#: "vitis_hls_2020" (2020.1-2022.2) and "vitis_hls_2023" (2023.1 or newer; a Vitis project
#: whose version is unknown is assumed current). A group is fitted only where training designs
#: of it exist, so a range never seen in training uses what all Vitis designs share.
TOOL_GROUPS = ("vitis_hls", "vitis_hls_2020", "vitis_hls_2023")


def _version_tuple(v: Any) -> tuple[int, int] | None:
    m = re.search(r"(20\d\d)(?:\.(\d+))?", str(v or ""))
    return (int(m.group(1)), int(m.group(2) or 0)) if m else None


def tool_groups(tool: str | None, version: Any = None) -> list[str]:
    """The coefficient groups of a design built with ``tool`` (``vitis_hls``) at ``version``."""
    if tool != "vitis_hls":
        return []
    vt = _version_tuple(version)
    return ["vitis_hls", "vitis_hls_2023" if vt is None or vt >= (2023, 0) else "vitis_hls_2020"]

#: Prior coefficients: the cost of each part on a "typical" Vivado HLS build, before any fit.
#: The calibration moves them (in log space, with a penalty that pulls toward the prior) only
#: as far as the training designs insist, so a feature a training fold never exercises keeps
#: its physical default instead of an arbitrary value.
PRIORS: dict[str, dict[str, float]] = {
    "dsp": {"dsp_const": 0.7, "dsp_shared": 1.0, "dsp_softmax": 1.0, "dsp_bn": 1.0, "dsp_exptab": 1.0},
    "lut": {"lut_mul_const": 0.3, "lut_mul_cdsp": 0.1, "lut_mul_fabric": 1.0, "lut_add": 1.0, "lut_mux": 0.5,
            "lut_mux_r": 0.5, "lut_act": 1.0,
            "lut_table": 1.0, "lut_pool": 1.0, "lut_fifo": 1.0, "lut_srl": 1.0, "lut_layer": 1.0,
            "lut_wrom": 1.0, "lut_layer_s": 1.0, "lut_add_dsp": 0.5, "lut_quant": 1.0, "lut_chan": 1.0,
            "lut_seq": 1.0, "lut_exptab": 1.0},
    "ff": {"ff_pipe": 1.0, "ff_acc": 0.2, "ff_mul": 0.5, "ff_inreg": 1.0, "ff_fifo": 1.0, "ff_layer": 1.0,
           "ff_window": 0.5, "ff_resmul": 1.0, "ff_delay": 0.5, "ff_chain": 0.5, "ff_pipe_s": 1.0,
           "ff_hold": 0.5, "ff_chan": 1.0, "ff_cmp": 1.0,
           # two-stage DSP multiplier cores: 47-67 FF for 18-26-bit products in the layers' reports
           "ff_dspcore": 2.6, "ff_exptab": 1.0},
    "bram_18k": {"bram_weights": 1.0, "bram_tables": 1.0, "bram_fifo": 1.0, "bram_linebuf": 1.0,
                 "bram_buffer": 1.0},
    "latency": {"lat_ii": 1.0, "lat_depth": 1.0, "lat_serial": 1.0, "lat_softmax": 1.0, "lat_layer": 1.0,
                "lat_chain": 1.0, "lat_frac": 1.0},
}

#: Hyperparameters (chosen on the training folds by grid search, not by least squares).
DEFAULT_HYPER: dict[str, float] = {
    "dsp_min_bits": 8,  # a shared multiplier whose wider operand is below this goes to LUTs (auto mode)
    "dsp_sum_bits": 20,  # a constant product of fewer constant + data bits than this goes to LUTs
    "res_pixel_overhead": 9,  # extra cycles per pixel of a resource-strategy streaming kernel
    "fifo_bram_depth": 32,  # io_stream FIFOs deeper than this are built from BRAM
    "rom_bram_bits": 1024,  # weight memories (resource strategy) of at least this many bits go to BRAM
    "t_add_ns": 1.2,  # delay of one 16-bit adder level on a 7-series part (scales the adder-tree depth)
    "usp_speed": 0.7,  # logic delay of UltraScale(+)/Versal relative to 7-series
    # cycles per pixel of a Vitis HLS io_stream convolution / pooling / padding; the prior a fold
    # without such a design keeps (hls4ml PR 1141: Vitis pooling and padding streams miss II = 1)
    "vitis_stream_ii": 2,
}

#: The grid of each hyperparameter (searched on the training designs).
HYPER_GRID: dict[str, Sequence[float]] = {
    "dsp_min_bits": (6, 8, 10, 12),
    "dsp_sum_bits": (16, 18, 20, 22, 24),
    "res_pixel_overhead": (5, 7, 9, 11),
    "fifo_bram_depth": (16, 32, 64),
    "rom_bram_bits": (512, 1024, 4096),
    "t_add_ns": (0.3, 0.6, 1.2, 2.4),
    "usp_speed": (0.35, 0.5, 0.7, 1.0),
    "vitis_stream_ii": (1, 2, 3),
}
# Which metrics judge each hyperparameter during the grid search.
HYPER_METRICS = {
    "dsp_min_bits": ("dsp", "lut"),
    "dsp_sum_bits": ("dsp", "lut"),
    "res_pixel_overhead": ("ii", "latency"),
    "fifo_bram_depth": ("bram_18k",),
    "rom_bram_bits": ("bram_18k",),
    "t_add_ns": ("latency", "ff"),
    "usp_speed": ("latency", "ff"),
    "vitis_stream_ii": ("ii", "latency"),
}

#: Hyperparameters searched on their joint grid, not one at a time: both scale the same delays
#: (the adder tree's and the part family's), so a coordinate-wise search can stop in a corner
#: where neither alone improves (a training fold kept t_add_ns 0.6 / usp_speed 0.7 at an objective
#: 0.43 where 2.4 / 0.35 reached 0.35).
HYPER_JOINT = (("t_add_ns", "usp_speed"),)


def search_groups() -> list[tuple[str, ...]]:
    """The grid search's steps: the joint groups, every other hyperparameter alone."""
    joint = {n for g in HYPER_JOINT for n in g}
    return [g for g in HYPER_JOINT] + [(n,) for n in HYPER_GRID if n not in joint]
