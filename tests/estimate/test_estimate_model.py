"""Model behaviour a user relies on: unknown layers, DSP mapping, reuse, families, pruning."""

from __future__ import annotations

import pytest

from hwflow.estimate import LayerSpec, estimate_layers
from hwflow.estimate.devices import dsps_per_multiplier, family_of


def _dense(n_in=64, n_out=32, rf=1, bits=16, strategy="latency", io="io_parallel", nnz=None, name="fc"):
    return LayerSpec(name=name, kind="dense", func="nnet::dense", n_in=n_in, n_out=n_out, reuse_factor=rf,
                     strategy=strategy, io_type=io, weight_bits=bits, input_bits=bits, accum_bits=bits,
                     result_bits=bits, n_weights=n_in * n_out, n_nonzero=nnz)


_plain_dense = _dense


def test_unknown_layer_is_reported_not_fatal():
    layers = [_dense(), LayerSpec(name="gru1", kind="unknown", func="nnet::gru_stack")]
    r = estimate_layers(layers, part="xc7z020clg400-1", clock_ns=10)
    assert r["unknown_layers"] == [{"name": "gru1", "kind": "unknown", "func": "nnet::gru_stack"}]
    assert any("gru1" in w and "GRU not modelled" in w for w in r["warnings"])
    assert r["complete"] is False and r["not_modelled"] == ["gru1 (GRU)"]
    assert any("not every layer is modelled" in x for x in r["out_of_domain"])
    row = r["layers"][1]
    assert row["known"] is False and "warning" in row and row["lut"] == 0
    only_dense = estimate_layers([_dense()], part="xc7z020clg400-1", clock_ns=10)
    assert r["resources"] == only_dense["resources"]


def test_reuse_factor_trades_dsp_for_cycles():
    # 16-bit constant products bind to DSPs; RF 8 shares them 8 ways (both HLS tools).
    for tool in ("vivado_hls", "vitis_hls"):
        fast = estimate_layers([_dense(rf=1)], part="xcu250-figd2104-2L-e", clock_ns=5, tool=tool)
        slow = estimate_layers([_dense(rf=8)], part="xcu250-figd2104-2L-e", clock_ns=5, tool=tool)
        assert slow["resources"]["dsp"] < fast["resources"]["dsp"] / 4, tool
        assert slow["ii_cycles"] == 8 and fast["ii_cycles"] == 1
        assert slow["latency_cycles"] > fast["latency_cycles"]


def test_narrow_products_go_to_luts():
    wide = estimate_layers([_dense(bits=16)], part="xc7z020clg400-1", clock_ns=10)
    narrow = estimate_layers([_dense(bits=6)], part="xc7z020clg400-1", clock_ns=10)
    assert wide["resources"]["dsp"] > 100
    assert narrow["resources"]["dsp"] == 0


def test_pruning_removes_multipliers_in_latency_strategy():
    full = estimate_layers([_dense()], part="xc7z020clg400-1", clock_ns=10)
    pruned = estimate_layers([_dense(nnz=64 * 32 // 4)], part="xc7z020clg400-1", clock_ns=10)
    assert pruned["resources"]["dsp"] < full["resources"]["dsp"] / 2
    assert pruned["layers"][0]["n_multipliers"] == 512


def test_resource_strategy_puts_weights_in_bram():
    r = estimate_layers([_dense(n_in=256, n_out=128, rf=64, strategy="resource")],
                        part="xcu250-figd2104-2L-e", clock_ns=5)
    assert r["resources"]["bram_18k"] > 0
    assert r["ii_cycles"] >= 64


def test_stream_conv_interval_counts_pixels():
    conv = LayerSpec(name="c", kind="conv2d", func="nnet::conv_2d_cl", in_height=28, in_width=28, n_chan=1,
                     out_height=26, out_width=26, n_filt=4, filt_height=3, filt_width=3, reuse_factor=1,
                     io_type="io_stream", weight_bits=16, input_bits=16, accum_bits=16, result_bits=16,
                     n_in=784, n_out=2704, n_weights=36, out_pack=4)
    r = estimate_layers([conv], part="xc7z020clg400-1", clock_ns=10, tool="vivado_hls")
    assert r["ii_cycles"] == 784
    assert r["latency_cycles"] >= 784


def test_vitis_stream_convolution_and_pooling_take_the_calibrated_cycles_per_pixel():
    """Vitis HLS does not reach one pixel per cycle in hls4ml's streaming convolutions and
    pooling (the 2023.2 LeNet of the fixtures: 3 cycles per pixel in its first convolution, 2 in
    its pooling; hls4ml PR 1141): the cycles per pixel are a hyperparameter chosen on the
    calibration designs, 1 for Vivado HLS."""
    from hwflow.estimate import load_calibration

    per_pixel = load_calibration()["hyper"]["vitis_stream_ii"]
    assert per_pixel > 1  # what the fixtures' Vitis HLS stream design says
    conv = LayerSpec(name="c", kind="conv2d", func="nnet::conv_2d_cl", in_height=28, in_width=28, n_chan=1,
                     out_height=24, out_width=24, n_filt=6, filt_height=5, filt_width=5, reuse_factor=1,
                     io_type="io_stream", weight_bits=8, input_bits=8, accum_bits=22, result_bits=22,
                     n_in=784, n_out=3456, n_weights=150, out_pack=6)
    pool = LayerSpec(name="p", kind="pooling2d", func="nnet::pooling2d_cl", in_height=24, in_width=24, n_chan=6,
                     n_filt=6, out_height=12, out_width=12, filt_height=2, filt_width=2, io_type="io_stream",
                     input_bits=8, result_bits=8, n_in=3456, n_out=864, in_pack=6, out_pack=6)
    for layers, pixels in (([conv], 784), ([pool], 576)):
        vitis = estimate_layers(layers, part="xczu9eg-ffvb1156-2-e", clock_ns=5, tool="vitis_hls",
                                tool_version="2023.2")
        vivado = estimate_layers(layers, part="xczu9eg-ffvb1156-2-e", clock_ns=5, tool="vivado_hls")
        assert vivado["ii_cycles"] == pixels
        assert vitis["ii_cycles"] == pixels * per_pixel
        assert vitis["latency_cycles"] > vivado["latency_cycles"]


def test_dsp_geometry_by_family():
    assert family_of("xc7z020clg400-1").dsp == "DSP48E1"
    assert family_of("xczu9eg-ffvb1156-2-e").dsp == "DSP48E2"
    assert family_of("xcu250-figd2104-2L-e").name == "ultrascale_plus"
    assert family_of("xcku115-flva1517-2-e").name == "ultrascale"
    assert family_of("xcvc1902-vsva2197-2MP-e-S").name == "versal"
    assert family_of(None, "zynq7000").name == "series7"
    s7, usp = family_of("xc7z020"), family_of("xczu3eg")
    assert dsps_per_multiplier(16, 16, s7) == 1
    assert dsps_per_multiplier(27, 18, usp) == 1 and dsps_per_multiplier(27, 18, s7) > 1
    assert dsps_per_multiplier(32, 32, usp) >= 3


def test_output_has_contract_keys():
    r = estimate_layers([_dense()], part="xc7z020clg400-1", clock_ns=10)
    assert set(r["resources"]) == {"lut", "ff", "dsp", "bram_18k", "uram"}
    for k in ("latency_cycles", "ii_cycles", "layers", "source", "error"):
        assert k in r
    assert r["latency_s"] == pytest.approx(r["latency_cycles"] * 10e-9, rel=1e-12)
    assert r["source"].startswith("estimate:hwflow-analytic")
    # held-out error of the calibration travels with every estimate (MAPE in percent)
    assert r["error"]["dsp"]["unit"] == "percent" and r["error"]["dsp"]["n"] >= 40
    assert r["error"]["latency"]["method"] == "leave-one-repository-out"


def test_interval_80_contract_and_widening_out_of_domain():
    from dataclasses import replace as _replace

    from hwflow.estimate import estimate_fit

    def _dense(bits=16, **kw):  # with its weight values read (no zeros, no shifts)
        return _replace(_plain_dense(bits=bits, **kw), w_zero=0, w_pow2=0, w_other=64 * 32, w_two=0)

    inside = estimate_layers([_dense(bits=8)], part="xczu7ev-ffvc1156-2-e", clock_ns=5, tool="vivado_hls")
    iv = inside["interval_80"]
    assert set(iv) == {"lut", "ff", "dsp", "bram_18k", "latency_cycles", "ii_cycles"}
    for key, res in (("lut", "lut"), ("ff", "ff"), ("dsp", "dsp")):
        lo, hi = iv[key]
        assert lo <= inside["resources"][res] <= hi and hi >= lo
    assert inside["out_of_domain"] == [] and inside["complete"] is True and inside["not_modelled"] == []
    # 2-bit weights lie below the calibrated precision range: said, and the interval is wider
    narrow = estimate_layers([_dense(bits=2)], part="xczu7ev-ffvc1156-2-e", clock_ns=5, tool="vivado_hls")
    assert any("weight precision" in r for r in narrow["out_of_domain"])
    lo, hi = narrow["interval_80"]["lut"]
    lo0, hi0 = inside["interval_80"]["lut"]
    p, p0 = narrow["resources"]["lut"], inside["resources"]["lut"]
    assert (hi + 100) / (p + 100) > (hi0 + 100) / (p0 + 100)
    # so do 1-bit data into a weighted layer (the weights' own precision inside the range)
    from dataclasses import replace

    binary = estimate_layers([replace(_dense(bits=8), input_bits=1)], part="xczu7ev-ffvc1156-2-e", clock_ns=5,
                             tool="vivado_hls")
    assert any("data precision 1-1 bits" in r for r in binary["out_of_domain"])
    assert not any("weight precision" in r for r in binary["out_of_domain"])
    # a Versal part: family never calibrated
    versal = estimate_layers([_dense(bits=8)], part="xcvc1902-vsva2197-2MP-e-S", clock_ns=5)
    assert any("part family versal" in r for r in versal["out_of_domain"])
    # fits / may not fit / does not fit from the interval
    hi_lut = iv["lut"][1]
    assert estimate_fit(inside, {"lut": hi_lut * 10, "ff": 1e9, "dsp": 1e9, "bram_18k": 1e9})["verdict"] == "fits"
    assert estimate_fit(inside, {"lut": (iv["lut"][0] + hi_lut) / 2})["verdict"] == "may not fit"
    assert estimate_fit(inside, {"lut": max(1, iv["lut"][0]) / 2})["verdict"] == "does not fit"


def test_argmax_softmax_is_a_comparator_tree_not_tables_and_multipliers():
    def soft(impl):
        return LayerSpec(name="softmax", kind="softmax", func="nnet::softmax", n_in=10, n_out=10, op="softmax",
                         io_type="io_parallel", input_bits=16, result_bits=16, table_bits=18, table_size=1024,
                         implementation=impl)

    table = estimate_layers([_dense(n_out=10), soft("stable")], part="xc7z020clg400-1", clock_ns=10)
    argmax = estimate_layers([_dense(n_out=10), soft("argmax")], part="xc7z020clg400-1", clock_ns=10)
    t_row, a_row = table["layers"][1], argmax["layers"][1]
    assert t_row["dsp"] > 0 and a_row["dsp"] == 0
    assert a_row["bram_18k"] == 0 < t_row["bram_18k"]
    assert argmax["latency_cycles"] <= table["latency_cycles"]


def test_softmax_units_follow_hls4ml_not_the_reuse_factor_of_io_parallel():
    """Per-layer reports: an io_parallel softmax has every element's exp lookup and product
    whatever the RF (3 DSPs for 3 outputs at RF 1, 8 and 16); an io_stream softmax pipelines
    its stream word at II = RF (1 DSP for a 10-wide word at RF 16, 3 at RF 4, 10 at RF 1) and
    takes ceil(n / that) cycles; with multipliers forced to fabric it has no DSP at all."""
    from hwflow.estimate.devices import family_of
    from hwflow.estimate.schedule import Context, layer_ii, softmax_elems

    def soft(io, rf, n=10, pack=None, impl="stable"):
        return LayerSpec(name="sm", kind="softmax", func="nnet::softmax", n_in=n, n_out=n, op="softmax",
                         io_type=io, reuse_factor=rf, input_bits=16, result_bits=16, table_bits=18,
                         table_size=1024, implementation=impl, in_pack=pack, out_pack=pack)

    assert [softmax_elems(soft("io_parallel", rf, n=3)) for rf in (1, 8, 16)] == [3, 3, 3]
    assert [softmax_elems(soft("io_stream", rf, pack=10)) for rf in (1, 4, 16)] == [10, 3, 1]
    # a config without an implementation field (hls4ml before the softmax variants) shares over RF
    assert softmax_elems(soft("io_parallel", 5, impl=None)) == 2
    ctx = Context(family=family_of("xc7z020clg400-1"), clock_ns=10.0, io_type="io_stream")
    assert layer_ii(soft("io_stream", 4, n=2704, pack=4), ctx, {}) == 2704  # 2717 cycles reported
    assert layer_ii(soft("io_stream", 1, n=2704, pack=4), ctx, {}) == 676

    def dsp(io, rf, mul_impl="auto", pack=None):
        r = estimate_layers([soft(io, rf, n=3, pack=pack)], part="xc7z020clg400-1", clock_ns=10, mul_impl=mul_impl)
        return r["layers"][0]["dsp"]

    assert dsp("io_parallel", 16) == pytest.approx(dsp("io_parallel", 1))
    assert dsp("io_stream", 1, pack=3) > dsp("io_stream", 8, pack=3) > 0
    assert dsp("io_parallel", 1, mul_impl="fabric") == 0


def test_products_of_shared_multipliers_wait_in_accumulator_registers():
    """Latency strategy at RF > 1: hls4ml keeps the products in an ``accum_t`` array, so a product
    made in an early cycle of the RF waits in a register of the accumulator width (per-layer
    reports: 13-21 FF per nonzero product for 8-bit weights and 16-bit sums at RF 100, twice the
    weight width; a 32x10 dense at RF 16 / 64, 4.9-5.9 k FF; pruned to 80 nonzero weights, 2.0 k) -
    fewer nonzero weights, fewer FF; at RF 1 the weights are constants folded into the logic."""
    from dataclasses import replace

    from hwflow.estimate.model import DEFAULT_HYPER, layer_features, make_context

    def feats(rf, nnz, w=16, acc=16):
        spec = replace(_dense(n_in=32, n_out=10, rf=rf, nnz=nnz, io="io_stream"), weight_bits=w, accum_bits=acc)
        ctx = make_context([spec], "xc7z020clg400-1", 10.0)
        return layer_features(spec, ctx, dict(DEFAULT_HYPER))

    assert feats(16, 320)["ff_hold"] == 320 * 16
    assert feats(16, 80)["ff_hold"] == 80 * 16
    assert feats(16, 320, w=8, acc=16)["ff_hold"] == 320 * 16  # the sum's width, not the weight's
    assert "ff_hold" not in feats(1, 320)
    full = estimate_layers([_dense(n_in=32, n_out=10, rf=16, io="io_stream")], part="xc7z020clg400-1", clock_ns=10)
    pruned = estimate_layers([_dense(n_in=32, n_out=10, rf=16, nnz=80, io="io_stream")], part="xc7z020clg400-1",
                             clock_ns=10)
    assert full["resources"]["ff"] > pruned["resources"]["ff"]


def test_products_of_a_one_or_two_bit_operand_are_selects_not_shared_multipliers():
    """A 1-bit datum times a constant is an AND, a 2-bit one a select of shifted constants and one
    adder: no ``mul`` the ALLOCATION pragma of RF > 1 could share, so such a layer is built and
    scheduled as at RF 1 (a 1-bit-input Vitis HLS stream CNN at RF 16: 3 cycles per pixel reported,
    not 12 x 3; its 2-bit-input dense 8.6 k FF for the whole design, not 30 k of held products)."""
    from dataclasses import replace

    from hwflow.estimate.model import DEFAULT_HYPER, layer_features, make_context
    from hwflow.estimate.schedule import layer_ii

    def layer(a_bits):
        spec = replace(_dense(n_in=400, n_out=10, rf=16, bits=10), input_bits=a_bits)
        ctx = make_context([spec], "xck26-sfvc784-2LV-c", 5.0)
        hyper = dict(DEFAULT_HYPER)
        return layer_features(spec, ctx, hyper), layer_ii(spec, ctx, hyper), estimate_layers(
            [spec], part="xck26-sfvc784-2LV-c", clock_ns=5.0)

    narrow_f, narrow_ii, narrow = layer(2)
    wide_f, wide_ii, wide = layer(8)
    assert wide_ii == 16 and "ff_hold" in wide_f and "ff_inreg" in wide_f
    assert narrow_ii == 1
    assert "ff_hold" not in narrow_f and "ff_inreg" not in narrow_f
    assert narrow["resources"]["dsp"] == 0
    assert narrow["resources"]["ff"] < wide["resources"]["ff"]


def test_resource_strategy_outputs_are_registered_once_not_per_stage():
    """The resource strategy accumulates each output over RF cycles in one register; its
    pipeline stages carry the multiplier operands (``ff_resmul``), so its output registers do
    not grow with the stages of the multiply-add as a latency-strategy layer's do."""
    from hwflow.estimate.model import DEFAULT_HYPER, layer_features, make_context

    def ff_pipe(strategy, clock):
        spec = _dense(n_in=576, n_out=120, rf=64, strategy=strategy, bits=14)
        ctx = make_context([spec], "xc7z007sclg225-1", clock)
        return layer_features(spec, ctx, dict(DEFAULT_HYPER)).get("ff_pipe", 0.0)

    assert ff_pipe("resource", 2.5) == ff_pipe("resource", 10.0) == 120 * 14
    assert ff_pipe("latency", 2.5) > ff_pipe("latency", 10.0)


def test_activation_is_unrolled_in_a_pipelined_design_and_pays_for_rounding_and_saturation():
    """Per-layer reports: a relu in a pipelined io_parallel design costs the same LUT after an RF
    100 dense as after the RF 1 one (hls4ml's activations carry ``#pragma HLS PIPELINE`` without
    an II); under a dataflow top (a resource-strategy layer) it shares its units over the RF.
    A result type that rounds and saturates (QKeras quantized_relu) is logic on every element;
    truncation and wrap-around are wires."""
    from hwflow.estimate.layerspec import type_int_bits, type_quant
    from hwflow.estimate.structs import layers_from_document

    assert type_int_bits("ap_ufixed<6,0,AP_RND_CONV,AP_SAT>") == 0 and type_int_bits("ap_fixed<16,6>") == 6
    assert type_int_bits("nnet::array<ap_fixed<8,3>, 4u>") == 3 and type_int_bits("ap_int<9>") == 9
    assert type_quant("ap_ufixed<6,0,AP_RND_CONV,AP_SAT>") == (True, True)
    assert type_quant("ap_fixed<16,6>") == (False, False) and type_quant("ap_fixed<8,3,AP_TRN,AP_WRAP>") == (False, False)

    def relu_design(rf, out_type, strategy="latency"):
        doc = {"layers": [{"name": "config2", "base": "dense_config",
                           "fields": {"n_in": 16, "n_out": 64, "io_type": "io_parallel", "reuse_factor": rf,
                                      "strategy": strategy, "n_zeros": 0},
                           "typedefs_resolved": {"weight_t": "ap_fixed<8,2>", "bias_t": "ap_fixed<8,2>",
                                                 "accum_t": "ap_fixed<16,6>"}},
                          {"name": "relu_config3", "base": "activ_config",
                           "fields": {"n_in": 64, "io_type": "io_parallel", "reuse_factor": rf}}],
               "calls": [{"func": "nnet::dense", "template_args": ["input_t", "layer2_t", "config2"],
                          "config": "config2", "comment": "fc1"},
                         {"func": "nnet::relu", "template_args": ["layer2_t", "layer3_t", "relu_config3"],
                          "config": "relu_config3", "comment": "relu1"}],
               "typedefs": {"input_t": {"resolved": "ap_fixed<16,6>"}, "layer2_t": {"resolved": "ap_fixed<16,6>"},
                            "layer3_t": {"resolved": out_type}}}
        layers = layers_from_document(doc)
        assert layers[1].kind == "activation" and layers[1].input_int == 6
        r = estimate_layers(layers, part="xcu250-figd2104-2L-e", clock_ns=5, tool="vitis_hls")
        return r["layers"][1]["lut"]

    from hwflow.estimate.model import make_context

    gru = LayerSpec(name="gru", kind="rnn", op="gru", n_state=8, n_in=4, strategy="resource", reuse_factor=4)
    assert make_context([gru], "xcu250-figd2104-2L-e", 5).dataflow  # any resource layer, RNNs too
    assert not make_context([_dense(rf=4)], "xcu250-figd2104-2L-e", 5).dataflow
    plain = "ap_fixed<16,6>"
    assert relu_design(100, plain) == pytest.approx(relu_design(1, plain))
    assert relu_design(100, plain, strategy="resource") < relu_design(1, plain) / 10
    # 6-bit rounded and saturated result: more logic than the 16-bit plain one
    assert relu_design(1, "ap_ufixed<6,0,AP_RND_CONV,AP_SAT>") > relu_design(1, plain)
    assert relu_design(1, "ap_ufixed<6,0>") < relu_design(1, plain)


def test_softmax_cycles_follow_its_implementation_the_clock_and_the_part():
    """Per-layer reports: a 5-input softmax takes 2 cycles (latency implementation) or 4
    (stable) at 5 ns on an UltraScale+ part, 2 for 3 inputs at 25 ns on a Zynq-7000, and 13-16
    at 3.3 ns on a Zynq-7000. The stable implementation's extra maximum search and
    subtraction, the clock period and the family's logic delay must all show in the estimate."""
    from hwflow.estimate.model import DEFAULT_HYPER, layer_features, make_context

    def cycles(impl="stable", part="xcu250-figd2104-2L-e", clock=5.0, n=5):
        spec = LayerSpec(name="sm", kind="softmax", func="nnet::softmax", n_in=n, n_out=n, op="softmax",
                         io_type="io_parallel", reuse_factor=1, input_bits=16, result_bits=16, table_bits=18,
                         table_size=1024, implementation=impl)
        ctx = make_context([spec], part, clock)
        return layer_features(spec, ctx, dict(DEFAULT_HYPER))["lat_softmax"]

    assert cycles("stable") > 1.5 * cycles("latency") > 0
    assert cycles(clock=25.0) < cycles(clock=5.0) / 4
    assert cycles(part="xc7z020clg400-1") > cycles(part="xcu250-figd2104-2L-e")
    assert cycles(n=64) > cycles(n=4)
    # a whole estimate follows: the 3.3 ns Zynq-7000 softmax takes well over the 25 ns one's
    # cycles (reported 13-16 against 2; the model's constant table-read cycles narrow the ratio)
    slow = estimate_layers([LayerSpec(name="sm", kind="softmax", func="nnet::softmax", n_in=5, n_out=5,
                                      op="softmax", io_type="io_parallel", input_bits=16, result_bits=16,
                                      table_bits=18, table_size=1024, implementation="stable")],
                           part="xc7z020clg400-1", clock_ns=3.33)
    fast = estimate_layers([LayerSpec(name="sm", kind="softmax", func="nnet::softmax", n_in=5, n_out=5,
                                      op="softmax", io_type="io_parallel", input_bits=16, result_bits=16,
                                      table_bits=18, table_size=1024, implementation="stable")],
                           part="xc7z020clg400-1", clock_ns=25.0)
    assert slow["latency_cycles"] > 1.5 * fast["latency_cycles"]


def test_every_logic_delay_follows_the_calibrated_ultrascale_speed():
    """One speed rule for every delay the schedule counts (adder trees, batch-norm products,
    distributed-arithmetic graphs, softmax): a faster calibrated UltraScale+ logic speed gives
    fewer cycles for each, and a 7-series part is not affected by it."""
    from hwflow.estimate.model import DEFAULT_HYPER, layer_features, make_context

    bn = LayerSpec(name="bn", kind="batchnorm", func="nnet::normalize", n_in=16, n_out=16, reuse_factor=1,
                   io_type="io_parallel", weight_bits=16, input_bits=16, accum_bits=16, result_bits=16,
                   n_weights=16)
    da = LayerSpec(name="fc", kind="dense_da", func="nnet::dense_da", n_in=16, n_out=8, reuse_factor=1,
                   io_type="io_parallel", input_bits=8, accum_bits=16, result_bits=16, da_depth=5,
                   da_adder_bits=900)
    sm = LayerSpec(name="sm", kind="softmax", func="nnet::softmax", n_in=8, n_out=8, op="softmax",
                   io_type="io_parallel", input_bits=16, result_bits=16, table_bits=18, table_size=1024,
                   implementation="stable")
    for spec, key in ((bn, "lat_depth"), (da, "lat_depth"), (sm, "lat_softmax")):
        def cycles(part, usp):
            ctx = make_context([spec], part, 5.0)
            f = layer_features(spec, ctx, {**DEFAULT_HYPER, "usp_speed": usp})
            return f[key] if key in f else f["lat_frac"]  # a depth under one period is chained

        assert cycles("xcvu9p-flga2104-2-e", 0.35) < cycles("xcvu9p-flga2104-2-e", 0.7), spec.kind
        assert cycles("xc7z020clg400-1", 0.35) == cycles("xc7z020clg400-1", 0.7), spec.kind


def test_a_chained_activation_takes_a_cycle_only_where_it_no_longer_fits_after_its_adder():
    """Per-layer reports: a relu inside the pipelined io_parallel top takes 0 cycles at 5 and
    25 ns (22 layers, both tools) and 1 cycle at 3.33 ns on a 7-series part (24 Vitis HLS
    layers, at RF 1, 2 and 100 alike)."""
    from hwflow.estimate import load_calibration
    from hwflow.estimate.model import DEFAULT_HYPER, layer_features, make_context
    from hwflow.estimate.schedule import registered_activation_ns

    hyper = {**DEFAULT_HYPER, **load_calibration()["hyper"]}  # the calibrated adder delay

    def relu_cycles(clock, part="xc7z020clg400-1", rf=1, strategy="latency"):
        relu = LayerSpec(name="r", kind="activation", op="relu", func="nnet::relu", n_in=64, n_out=64,
                         io_type="io_parallel", reuse_factor=rf, input_bits=16, result_bits=8)
        ctx = make_context([_dense(n_out=64, rf=rf, strategy=strategy), relu], part, clock, tool="vitis_hls")
        f = layer_features(relu, ctx, hyper)
        return f["lat_depth"], f["lat_layer"]

    assert relu_cycles(3.33) == (1.0, 0.0)
    assert relu_cycles(3.33, rf=100) == (1.0, 0.0)
    assert relu_cycles(5.0) == (0.0, 0.0) and relu_cycles(25.0) == (0.0, 0.0)
    # the threshold follows the part's logic speed: an UltraScale+ part chains it at 3.33 ns
    relu = LayerSpec(name="r", kind="activation", op="relu", n_in=8, n_out=8, io_type="io_parallel",
                     input_bits=16, result_bits=8)
    slow = registered_activation_ns(relu, make_context([relu], "xc7z020clg400-1", 5), hyper)
    fast = registered_activation_ns(relu, make_context([relu], "xcu250-figd2104-2L-e", 5), hyper)
    assert fast < slow and 3.33 < slow < 5.0
    assert relu_cycles(3.33, part="xcu250-figd2104-2L-e") == (0.0, 0.0)
    # under a dataflow top (a resource-strategy layer) the activation is a process of its own
    depth, layer = relu_cycles(25.0, strategy="resource")
    assert depth > 0 and layer > 0


def test_a_sub_cycle_chained_dense_books_registers_only_for_its_fraction_of_the_clock():
    """At a slow clock a small dense's multiply-add is a fraction of the period and chained with
    its neighbours (a 25 ns Vitis HLS VAE encoder: 0 cycles and 0 FF per layer reported): its
    per-layer registers scale with that fraction, while at 5 ns the same layer keeps a whole
    stage."""
    from hwflow.estimate.model import DEFAULT_HYPER, layer_features, make_context

    fc = _dense(n_in=16, n_out=3, bits=10)
    slow = layer_features(fc, make_context([fc], "xcvu9p-flga2104-2-e", 25.0, tool="vitis_hls"), DEFAULT_HYPER)
    fast = layer_features(fc, make_context([fc], "xcvu9p-flga2104-2-e", 2.5, tool="vitis_hls"), DEFAULT_HYPER)
    assert slow["lat_frac"] < 1.0 and slow["ff_layer"] == pytest.approx(100 * slow["lat_frac"])
    assert fast["ff_layer"] == 100


def test_a_batchnorm_of_power_of_two_scales_is_a_chained_shift():
    """hls4ml's ApplyAlpha (QKeras' po2 alpha) is a batch-norm whose scales are all powers of two:
    a shift and the bias adder, 0 cycles and 0 FF in the four such layers of the derived table
    (5 ns, Vitis HLS), where a batch-norm with general scales keeps its multiply-add."""
    from hwflow.estimate.dataset import load_table
    from hwflow.estimate.fit import _context
    from hwflow.estimate.model import DEFAULT_HYPER, layer_features, make_context

    def bn(other):
        return LayerSpec(name="a", kind="batchnorm", func="nnet::normalize", n_in=3, n_out=3,
                         io_type="io_parallel", weight_bits=16, input_bits=16, result_bits=16, n_weights=3,
                         w_zero=0, w_pow2=3 - other, w_other=other, w_two=0)

    ctx = make_context([_dense(n_out=3), bn(0)], "xc7z020clg400-1", 5.0, tool="vitis_hls")
    shift, mult = layer_features(bn(0), ctx, DEFAULT_HYPER), layer_features(bn(3), ctx, DEFAULT_HYPER)
    assert shift["lat_layer"] == 0.0 and shift.get("lat_depth", 0.0) == 0.0
    assert mult["lat_frac"] > 0 and shift["ff_pipe"] < mult["ff_pipe"] and shift["ff_layer"] < mult["ff_layer"]
    seen = 0
    for d in load_table():
        lt = d.extra.get("layer_truth") or {}
        for spec in d.layers:
            t = lt.get(spec.name)
            if spec.kind != "batchnorm" or spec.w_other != 0 or spec.io_type != "io_parallel" or not t:
                continue
            f = layer_features(spec, _context(d), DEFAULT_HYPER)
            assert t["latency"] == 0 and f["lat_layer"] + f.get("lat_depth", 0.0) == 0.0, (d.folder, spec.name)
            seen += 1
    assert seen >= 4


def test_a_vitis_chained_activation_registers_every_element_or_none():
    """Vitis HLS per-layer reports of the relus inside a pipelined io_parallel top: 0 FF where
    the relu takes no cycle (5 and 25 ns), about its inputs' and results' bits per element where
    it takes one (3.33 ns on a 7-series part: 2,143 FF for 64 elements at RF 1 and RF 100 alike)."""
    from hwflow.estimate import load_calibration
    from hwflow.estimate.dataset import load_table
    from hwflow.estimate.fit import _context
    from hwflow.estimate.model import DEFAULT_HYPER, layer_features, make_context

    hyper = {**DEFAULT_HYPER, **load_calibration()["hyper"]}

    def relu_ff(clock, rf):
        relu = LayerSpec(name="r", kind="activation", op="relu", func="nnet::relu", n_in=64, n_out=64,
                         io_type="io_parallel", reuse_factor=rf, input_bits=16, result_bits=8)
        ctx = make_context([_dense(n_out=64, rf=rf), relu], "xc7z020clg400-1", clock, tool="vitis_hls")
        f = layer_features(relu, ctx, hyper)
        return f.get("ff_pipe", 0.0), f.get("ff_layer", 0.0)

    assert relu_ff(5.0, 1) == (0.0, 0.0) and relu_ff(25.0, 100) == (0.0, 0.0)
    assert relu_ff(3.33, 1) == relu_ff(3.33, 100) == (64 * (16 + 8), 100)
    checked = 0
    for d in load_table():
        ctx = _context(d)
        if not ctx.vitis or ctx.dataflow or ctx.io_type != "io_parallel":
            continue
        lt = d.extra.get("layer_truth") or {}
        for spec in d.layers:
            t = lt.get(spec.name)
            if spec.kind != "activation" or spec.op != "relu" or not t or t.get("ff") is None:
                continue
            ff = layer_features(spec, ctx, hyper).get("ff_pipe", 0.0)
            assert (ff == 0) == (t["ff"] == 0), (d.folder, spec.name, ff, t["ff"])
            if ff:
                assert 0.5 < t["ff"] / ff < 2.0, (d.folder, spec.name, ff, t["ff"])
            checked += 1
    assert checked >= 20


def test_a_single_word_stream_activation_has_no_loop_registers():
    """An io_stream relu whose input is one stream word (after a dense layer) is a single pass
    from the read to the write: 3 FF reported in each of four such layers (10-128 elements),
    where the relus of convolutions, looping over their pixels, keep a registered word."""
    from hwflow.estimate import load_calibration
    from hwflow.estimate.dataset import load_table
    from hwflow.estimate.fit import _context
    from hwflow.estimate.model import DEFAULT_HYPER, layer_features, make_context

    hyper = {**DEFAULT_HYPER, **load_calibration()["hyper"]}

    def relu_ff(n, pack):
        relu = LayerSpec(name="r", kind="activation", op="relu", func="nnet::relu", n_in=n, n_out=n,
                         io_type="io_stream", in_pack=pack, out_pack=pack, input_bits=16, result_bits=16)
        ctx = make_context([relu], "xc7z020clg400-1", 10.0)
        f = layer_features(relu, ctx, hyper)
        return f.get("ff_pipe_s", 0.0), f.get("ff_layer", 0.0)

    assert relu_ff(64, 64) == (0.0, 0.0)
    assert relu_ff(2704, 4) == (4 * 16, 100)  # 676 words: a pipelined loop
    checked = 0
    for d in load_table():
        ctx = _context(d)
        lt = d.extra.get("layer_truth") or {}
        for spec in d.layers:
            t = lt.get(spec.name)
            if spec.kind != "activation" or spec.op != "relu" or spec.io_type != "io_stream" or not t:
                continue
            f = layer_features(spec, ctx, hyper)
            single = spec.n_in <= (spec.in_pack or 1)
            assert (f.get("ff_pipe_s", 0.0) == 0.0) == single, (d.folder, spec.name)
            if single:
                assert t["ff"] <= 10, (d.folder, spec.name, t["ff"])
                checked += 1
    assert checked >= 4


def test_a_multiplier_limited_layer_keeps_an_adder_per_product():
    """Latency strategy at RF > 1: hls4ml's ALLOCATION pragma limits the multipliers only, so the
    adder tree that sums the held products is as large as at RF 1 (Vitis HLS RF 100 layers with
    10-12 DSPs: 1.4 LUT per nonzero product and accumulator bit, as at RF 2); the resource
    strategy accumulates in its multipliers' running sums, and its operand multiplexers have a
    coefficient of their own."""
    from hwflow.estimate.model import DEFAULT_HYPER, layer_features, make_context

    def feats(rf, strategy="latency", nnz=None):
        spec = _dense(n_in=16, n_out=64, rf=rf, strategy=strategy, nnz=nnz)
        ctx = make_context([spec], "xc7z020clg400-1", 5.0)
        return layer_features(spec, ctx, dict(DEFAULT_HYPER))

    assert feats(2)["lut_add"] == feats(100)["lut_add"] == 16 * 64 * 16
    assert feats(100, nnz=256)["lut_add"] == 256 * 16  # pruned products have no adder
    res = feats(16, strategy="resource")
    assert res["lut_add"] == 64 * 16 and "lut_mux" not in res and res["lut_mux_r"] > 0
