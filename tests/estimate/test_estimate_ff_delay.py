"""Issue 12: registers of a multi-cycle adder tree (feature ``ff_delay``)."""

from __future__ import annotations

from hwflow.estimate import LayerSpec
from hwflow.estimate.model import DEFAULT_HYPER, layer_features, make_context
from hwflow.estimate.schedule import pipeline_stages


def _dense(strategy="latency", rf=1):
    return LayerSpec(name="fc", kind="dense", func="nnet::dense", n_in=256, n_out=32, reuse_factor=rf,
                     strategy=strategy, io_type="io_parallel", weight_bits=16, input_bits=16,
                     accum_bits=16, result_bits=16, n_weights=256 * 32)


def _features(spec, clock_ns):
    ctx = make_context([spec], "xc7z020clg400-1", clock_ns)
    return layer_features(spec, ctx, dict(DEFAULT_HYPER)), pipeline_stages(spec, ctx)


def test_one_cycle_tree_has_no_carried_registers():
    f, stages = _features(_dense(), 25.0)
    assert stages <= 1.0
    assert f.get("ff_delay", 0.0) == 0.0


def test_carried_registers_grow_with_stages_and_stay_below_a_full_copy_per_cut():
    spec = _dense()
    m_acc = 256 * 32 * 16  # kept products x accumulator bits
    prev = 0.0
    for clock in (5.0, 3.3, 2.0):
        f, stages = _features(spec, clock)
        assert stages > 1.0
        got = f["ff_delay"]
        assert got > prev  # a faster clock: more cuts, more live values registered
        # an adder tree halves the live values per level: always less than one full copy per cut
        assert 0.0 < got < m_acc * (stages - 1.0) + m_acc
        prev = got


def test_resource_strategy_accumulates_in_one_running_sum():
    f, stages = _features(_dense(strategy="resource", rf=8), 2.0)
    assert stages > 1.0
    assert f.get("ff_delay", 0.0) == 0.0


def _tool_features(spec, clock_ns, tool):
    ctx = make_context([spec], "xc7z020clg400-1", clock_ns, tool=tool, tool_version="2023.2")
    return layer_features(spec, ctx, dict(DEFAULT_HYPER))


def test_vitis_accumulation_is_a_chain_vivado_a_tree():
    def dense(n_in, n_out=32):
        return LayerSpec(name="fc", kind="dense", func="nnet::dense", n_in=n_in, n_out=n_out, reuse_factor=1,
                         strategy="latency", io_type="io_parallel", weight_bits=16, input_bits=16,
                         accum_bits=16, result_bits=16, n_weights=n_in * n_out)

    mid, big = dense(256), dense(2048)  # 8,192 and 65,536 products
    # Vivado HLS balances the sum into a tree: no chain feature at all
    assert "lat_chain" not in _tool_features(big, 5.0, "vivado_hls")
    # Vitis HLS past the 4,096-product unroll limit: the extra delay of the chain grows with the
    # fan-in (8x the inputs, > 8x the extra adders beyond the tree's log2 levels), and so do the
    # registers carried along it
    fs, fb = _tool_features(mid, 5.0, "vitis_hls"), _tool_features(big, 5.0, "vitis_hls")
    assert fb["lat_chain"] > 8 * fs["lat_chain"] > 0
    assert fb["ff_chain"] > 8 * fs["ff_chain"] > 0
    # a slower clock packs more of the chain into a cycle
    assert _tool_features(big, 10.0, "vitis_hls")["lat_chain"] < fb["lat_chain"]
    # the resource strategy accumulates over RF cycles in one running sum: no chain
    res = LayerSpec(**{**big.__dict__, "strategy": "resource", "reuse_factor": 16})
    assert "lat_chain" not in _tool_features(res, 5.0, "vitis_hls")


def test_vitis_balances_the_sum_of_a_kernel_within_the_unroll_limit():
    # 274 x 8 (2,192 products, fan-in up to 274) and 64 x 64 (4,096): a tree, as in Vivado HLS
    for n_in, n_out in ((274, 8), (64, 64)):
        spec = LayerSpec(name="fc", kind="dense", func="nnet::dense", n_in=n_in, n_out=n_out, reuse_factor=1,
                         strategy="latency", io_type="io_parallel", weight_bits=8, input_bits=8,
                         accum_bits=16, result_bits=16, n_weights=n_in * n_out)
        f = _tool_features(spec, 3.33, "vitis_hls")
        assert "lat_chain" not in f and "ff_chain" not in f
        assert f["lat_depth"] > 1.0  # the tree's own stages are still counted
    over = LayerSpec(name="fc", kind="dense", func="nnet::dense", n_in=65, n_out=64, reuse_factor=1,
                     strategy="latency", io_type="io_parallel", weight_bits=8, input_bits=8,
                     accum_bits=16, result_bits=16, n_weights=65 * 64)
    assert _tool_features(over, 3.33, "vitis_hls")["lat_chain"] > 0


def test_a_layer_shorter_than_the_clock_period_has_no_register_stage_of_its_own():
    slow = _tool_features(_dense(), 25.0, "vivado_hls")
    fast = _tool_features(_dense(), 5.0, "vivado_hls")
    # chained with its neighbours at a 25 ns clock: a fraction of a cycle, no layer stage
    assert 0.0 < slow["lat_frac"] < 1.0 and "lat_layer" not in slow
    assert fast["lat_layer"] == 1.0 and "lat_frac" not in fast


def test_dsp_binding_follows_the_product_width_and_the_real_constants():
    from hwflow.estimate import estimate_layers

    def dense(w, a, rf=1, other=200, two=80):
        n_in, n_out = 32, 16
        return LayerSpec(name="fc", kind="dense", func="nnet::dense", n_in=n_in, n_out=n_out, reuse_factor=rf,
                         strategy="latency", io_type="io_parallel", weight_bits=w, input_bits=a, accum_bits=24,
                         result_bits=16, n_weights=n_in * n_out, n_nonzero=other + 40, w_zero=n_in * n_out - other - 40,
                         w_pow2=40, w_other=other, w_two=two, w_csd=2.5)

    def dsp(spec):
        return estimate_layers([spec], part="xcvu9p-flga2104-2-e", clock_ns=5, tool="vitis_hls",
                               tool_version="2023.2")["resources"]["dsp"]

    # 9-bit constants times 16-bit data: the products with >= 3 signed digits (200 - 80) are DSPs
    wide = dsp(dense(9, 16))
    assert 90 <= wide <= 160
    # 9 x 9 bits: a narrow product stays in LUTs
    assert dsp(dense(9, 9)) < 0.1 * wide
    # RF 2 whose multiplier limit (256 + ...) exceeds the 120 real constants: still one DSP per
    # real constant, not one per allowed multiplier
    assert abs(dsp(dense(9, 16, rf=2)) - wide) <= 0.15 * wide
