"""Issue 12 item 2: hls4ml 1.3 emits ``nnet::einsum_dense`` for a Keras 3 / HGQ2 EinsumDense.

The stack here is Keras 2, so the projects are written by hls4ml itself from the layer list its
Keras 3 handler produces (``ModelGraph.from_layer_list``): the firmware is hls4ml's own, for the
latency and the distributed-arithmetic strategies, with one and with two in-place slices.
"""

from __future__ import annotations

import numpy as np
import pytest

hls4ml = pytest.importorskip("hls4ml")

from hwflow.estimate import estimate_project  # noqa: E402

# equation (batch axis stripped), input shape, kernel shape (slices, contract, free kernel), output shape
CASES = {
    "one_slice": ("ab,bc->ac", (8, 6), (6, 5), (8, 5)),
    "two_slices": ("abc,bcd->abd", (8, 2, 6), (2, 6, 5), (8, 2, 5)),
}


def _kernel(shape):
    rng = np.random.default_rng(3)
    k = np.round(rng.normal(size=shape) * 8) / 8  # a few zeros and powers of two among them
    k.flat[0] = 0.0
    return k


def _write(tmp_path, case, strategy):
    from hls4ml.backends import get_backend
    from hls4ml.model import ModelGraph

    eq, inp, kshape, out = CASES[case]
    layers = [{"class_name": "InputLayer", "name": "x", "input_shape": list(inp)},
              {"class_name": "EinsumDense", "name": "ed", "inputs": ["x"], "equation": eq,
               "weight_data": _kernel(kshape), "bias_data": np.full(out[1:], 0.25),
               "inp_shape": inp, "out_shape": out}]
    cfg = get_backend("Vitis").create_initial_config(part="xcvu9p-flga2104-2L-e", clock_period=5,
                                                     io_type="io_parallel")
    prj = tmp_path / f"{case}_{strategy}"
    cfg.update({"OutputDir": str(prj), "ProjectName": "myproject", "Backend": "Vitis",
                "HLSConfig": {"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1, "Strategy": strategy}}})
    ModelGraph.from_layer_list(cfg, layers, ["x"], ["ed"]).write()
    assert "nnet::einsum_dense<" in (prj / "firmware" / "myproject.cpp").read_text()
    return prj


@pytest.mark.parametrize("case", sorted(CASES))
def test_latency_einsum_dense_is_a_pointwise_convolution_over_its_free_axis(tmp_path, case):
    _, inp, kshape, out = CASES[case]
    est = estimate_project(_write(tmp_path, case, "Latency"))
    (row,) = est["layers"]
    assert est["complete"] is True and est["not_modelled"] == []
    assert row["name"] == "ed" and row["kind"] == "pointwise_conv1d"
    positions = inp[0]
    k = _kernel(kshape)
    # one multiplier per constant product at every position; the weight file's values are read
    assert row["n_multipliers"] in (positions * k.size, positions * int(np.count_nonzero(k)))
    assert row["w_zero"] == k.size - np.count_nonzero(k)
    assert row["w_zero"] + row["w_pow2"] + row["w_other"] == k.size
    assert est["resources"]["lut"] > 0 and est["interval_80"]["lut"][0] <= est["resources"]["lut"]


def test_two_slices_cost_about_twice_one(tmp_path):
    one = estimate_project(_write(tmp_path, "one_slice", "Latency"))
    two = estimate_project(_write(tmp_path, "two_slices", "Latency"))
    assert 1.5 < two["resources"]["lut"] / one["resources"]["lut"] < 2.5


def test_distributed_arithmetic_einsum_dense_is_counted_from_its_adder_graphs(tmp_path):
    pytest.importorskip("da4ml")
    prj = _write(tmp_path, "two_slices", "distributed_arithmetic")
    code = (prj / "firmware" / "nnet_utils" / "nnet_code_gen.h").read_text()
    assert "einsum_" in code and "_da_1_of_2" in code
    est = estimate_project(prj)
    (row,) = est["layers"]
    assert est["complete"] is True and row["kind"] == "dense_da"
    assert est["resources"]["dsp"] == 0 and est["resources"]["lut"] > 0

    # one slice's graph missing: the layer is not estimated and the estimate says so
    (prj / "firmware" / "nnet_utils" / "nnet_code_gen.h").write_text(code.replace("_da_1_of_2(", "_gone("))
    broken = estimate_project(prj)
    assert broken["complete"] is False and broken["not_modelled"] == ["ed (EinsumDense)"]
