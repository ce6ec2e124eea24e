"""Issue 12 item 2: LayerNormalization and Multiply, converted by hls4ml 1.3 from a Keras 2 model,
are estimated from their parts (adders, multipliers, the 1/sqrt table) - never counted as 0 and
never as wiring - and flagged as outside the calibration data."""

from __future__ import annotations

import numpy as np
import pytest

from hwflow.estimate import LayerSpec, estimate_layers


def _ln(**kw):
    base = dict(name="ln", kind="layernorm", func="nnet::layernormalize", n_in=32, n_out=32, in_width=4,
                n_chan=8, n_weights=8, input_bits=16, result_bits=16, accum_bits=24, weight_bits=16,
                table_bits=18, table_size=4096)
    return LayerSpec(**{**base, **kw})


def test_layernorm_costs_grow_with_positions_and_need_a_table():
    small = estimate_layers([_ln()], part="xcvu9p-flga2104-2L-e", clock_ns=5.0)
    big = estimate_layers([_ln(n_in=64, n_out=64, in_width=8)], part="xcvu9p-flga2104-2L-e", clock_ns=5.0)
    assert small["complete"] is True and small["layers"][0]["kind"] == "layernorm"
    # squares and normalising products on DSPs (24-bit variables), a 1/sqrt table per position pair
    assert small["resources"]["dsp"] >= 2 * 32 * 0.5
    assert small["resources"]["bram_18k"] > 0
    assert 1.6 < big["resources"]["lut"] / small["resources"]["lut"] < 2.4
    assert small["latency_cycles"] >= 3
    assert any("layernorm" in r for r in small["out_of_domain"])


def test_multiply_merge_is_a_multiplier_per_element_not_wiring():
    def merge(op):
        return LayerSpec(name="m", kind="merge", op=op, func=f"nnet::{op}", n_in=64, n_out=64, input_bits=16,
                         result_bits=16)
    add = estimate_layers([merge("add")], part="xcvu9p-flga2104-2L-e", clock_ns=5.0)
    mul = estimate_layers([merge("multiply")], part="xcvu9p-flga2104-2L-e", clock_ns=5.0)
    assert add["resources"]["dsp"] == 0
    assert mul["resources"]["dsp"] >= 32  # 64 products of 16 x 16 bits


def test_hls4ml_layernorm_project_is_estimated_with_its_scale_values(tmp_path):
    tf = pytest.importorskip("tensorflow")
    hls4ml = pytest.importorskip("hls4ml")
    L = tf.keras.layers
    i = L.Input((4, 8), name="x")
    h = L.LayerNormalization(axis=-1, name="ln")(i)
    o = L.Multiply(name="mul")([h, L.Dense(8, name="d")(h)])
    m = tf.keras.Model(i, o)
    m.get_layer("ln").set_weights([np.array([1.0, 2.0, 0.5, 1.5, 3.0, 0.25, 1.0, 0.75]), np.zeros(8)])
    cfg = hls4ml.utils.config_from_keras_model(m, granularity="name", backend="Vitis")
    hm = hls4ml.converters.convert_from_keras_model(m, hls_config=cfg, output_dir=str(tmp_path / "ln"),
                                                    backend="Vitis", io_type="io_parallel",
                                                    part="xcvu9p-flga2104-2L-e")
    hm.write()
    from hwflow.estimate import estimate_project

    est = estimate_project(tmp_path / "ln")
    rows = {r["name"]: r for r in est["layers"]}
    assert est["complete"] is True
    assert rows["ln"]["kind"] == "layernorm" and rows["ln"]["lut"] > 0 and rows["ln"]["bram_18k"] > 0
    assert rows["mul"]["kind"] == "merge" and rows["mul"]["dsp"] > 0
    # the scale values were read: 1.5, 3.0 and 0.75 take one adder, the rest are shifts
    spec_rows = [r for r in est["layers"] if r["name"] == "ln"]
    assert spec_rows[0].get("w_other") == 3 and spec_rows[0].get("w_two_digit") == 3
