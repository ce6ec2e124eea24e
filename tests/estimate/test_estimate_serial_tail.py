"""Issue 12: what a multiplier-limited io_parallel layer adds after its serial cycles - the last
cycle's adder tree under Vitis HLS, the whole tree under Vivado HLS (``schedule.latency_stages``)."""

from __future__ import annotations

import pytest

from hwflow.estimate import LayerSpec, load_calibration
from hwflow.estimate.dataset import load_table
from hwflow.estimate.fit import _context
from hwflow.estimate.model import DEFAULT_HYPER, layer_features, make_context, predict

PART = "xc7z020-clg400-1"


def _dense(rf: int, n_in: int = 56, n_out: int = 64) -> LayerSpec:
    return LayerSpec(name="fc", kind="dense", func="nnet::dense", n_in=n_in, n_out=n_out, reuse_factor=rf,
                     strategy="latency", io_type="io_parallel", weight_bits=8, input_bits=8,
                     accum_bits=16, result_bits=16, n_weights=n_in * n_out)


def _depth(rf: int, tool: str, version: str) -> dict[str, float]:
    spec = _dense(rf)
    ctx = make_context([spec], PART, 5.0, tool=tool, tool_version=version)
    return layer_features(spec, ctx, dict(DEFAULT_HYPER))


def test_vitis_overlaps_the_adder_tree_of_a_multiplier_limited_layer_with_its_serial_cycles():
    full = _depth(1, "vitis_hls", "2021.1")["lat_depth"]
    tail = _depth(100, "vitis_hls", "2021.1")
    assert tail["lat_serial"] > 10  # 3,584 products on 36 multipliers
    # after the last serial cycle: one multiply and a two-input add, not a 56-input tree
    assert tail["lat_depth"] < 0.6 * full
    # RF 1 is not multiplier-limited: the whole tree, as before
    assert full == pytest.approx(_depth(1, "vivado_hls", "2019.2")["lat_depth"])


def test_vivado_keeps_the_whole_tree_after_the_serial_cycles():
    # the 2016 example MLP reports 12 / 14 / 17 cycles at RF 1 / 2 / 4: serial cycles on top of the depth
    assert _depth(4, "vivado_hls", "2019.2")["lat_depth"] == pytest.approx(_depth(1, "vivado_hls", "2019.2")["lat_depth"])


@pytest.mark.parametrize("prefix, layer, reported", [
    ("87_", "fc2", 11), ("87_", "fc3", 14), ("87_", "output", 32),  # Vitis HLS 2021.1, RF 100
    ("102_", "dense_1", 15),  # Vitis HLS 2024.1, RF 16
])
def test_multiplier_limited_vitis_layers_are_estimated_near_their_reported_cycles(prefix, layer, reported):
    d = next((x for x in load_table() if x.folder.startswith(prefix)), None)
    if d is None:
        pytest.skip(f"design {prefix} not in the shipped calibration table")
    assert d.extra["layer_truth"][layer]["latency"] == reported
    rows = {r["name"]: r for r in predict(d.layers, _context(d), load_calibration())["layers"]}
    # the whole tree on top of the serial cycles gave 16.7 / 19.6 / 35.3 for the RF 100 layers
    assert abs(rows[layer]["latency_cycles"] - reported) <= 3.0
