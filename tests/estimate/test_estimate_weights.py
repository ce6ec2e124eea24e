"""Issue 12 item 1: weight-aware counting - zeros vanish, powers of two are shifts, two-digit
constants are one adder; weights are matched to layers by hls4ml's index, stale files ignored."""

from __future__ import annotations

from hwflow.estimate.structs import layers_from_document
from hwflow.estimate.weights import attach_weight_stats, weight_stats


def test_quantized_constants_are_classified():
    # ap_fixed<6,1>: 5 fractional bits. 0.01 -> 0 (vanishes), 0.5 / -0.25 -> shifts,
    # 0.375 = 0.5 - 0.125 -> two signed digits, 0.3 -> 10/32 = 0b01010 -> two digits,
    # 0.71875 = 23/32 = 0b10111 -> 32-8-1: three digits
    s = weight_stats([0.0, 0.01, 0.5, -0.25, 0.375, 0.3, 0.71875], "ap_fixed<6,1>")
    assert (s["zero"], s["pow2"], s["other"], s["two_digit"]) == (2, 2, 3, 2)
    assert s["csd_mean"] == round((2 + 2 + 3) / 3, 3)
    # unquantized (float) weights: only exact zeros and exact powers of two count
    f = weight_stats([0.0, 0.5, 0.3], None)
    assert (f["zero"], f["pow2"], f["other"]) == (1, 1, 1)


def _doc(n_in=4, n_out=2):
    return {"layers": [{"name": "config2", "base": "dense_config",
                        "fields": {"n_in": n_in, "n_out": n_out, "io_type": "io_parallel", "reuse_factor": 1},
                        "typedefs_resolved": {"weight_t": "ap_fixed<8,1>", "accum_t": "ap_fixed<16,6>"}}],
            "calls": [{"func": "nnet::dense", "template_args": ["input_t", "layer2_t", "config2"],
                       "config": "config2", "comment": "fc1"}],
            "typedefs": {"input_t": {"resolved": "ap_fixed<8,3>"}, "layer2_t": {"resolved": "ap_fixed<8,3>"}}}


def test_weights_matched_by_index_and_stale_files_ignored(tmp_path):
    w = tmp_path / "weights"
    w.mkdir()
    (w / "w2.txt").write_text("0, 0.5, 0.25, 0.3, 0, 0, 0.75, -1")
    (w / "w5.txt").write_text("1, 2, 3")  # an earlier conversion's layer 5: no config5 here
    doc = _doc()
    assert attach_weight_stats(doc, w) == 1
    (spec,) = layers_from_document(doc)
    assert spec.name == "fc1" and spec.n_weights == 8
    assert (spec.w_zero, spec.w_pow2, spec.w_other) == (3, 3, 2)
    # a w2 of another shape (a stale file of a different model) is not used
    (w / "w2.txt").write_text("0.5, 0.5, 0.5")
    doc = _doc()
    attach_weight_stats(doc, w)
    (spec,) = layers_from_document(doc)
    assert spec.w_zero is None and spec.w_other is None


def test_batchnorm_scales_that_are_shifts_or_adders_use_no_dsp(tmp_path):
    """A batch-norm's scale (``s<i>``, ``scale_t``) is a constant too: 2.0 is a shift, a value
    of two signed digits one adder; only the others are multipliers (per-layer reports: QKeras
    alpha scales of 2.0 with 0 DSPs; 8-bit scales, 15 of 16 two-digit, 0 DSPs)."""
    from hwflow.estimate import estimate_layers

    def doc():
        return {"layers": [{"name": "config4", "base": "batchnorm_config",
                            "fields": {"n_in": 4, "n_filt": -1, "io_type": "io_parallel", "reuse_factor": 1},
                            "typedefs_resolved": {"scale_t": "ap_fixed<16,6>", "bias_t": "ap_fixed<16,6>"}}],
                "calls": [{"func": "nnet::normalize", "template_args": ["input_t", "layer4_t", "config4"],
                           "config": "config4", "comment": "bn"}],
                "typedefs": {"input_t": {"resolved": "ap_fixed<16,6>"}, "layer4_t": {"resolved": "ap_fixed<16,6>"}}}

    w = tmp_path / "weights"
    w.mkdir()
    est = {}
    for name, values in (("shift", "2, 2, 2, 2"), ("real", "0.3172, 0.6113, 0.3330, 0.1803")):
        (w / "s4.txt").write_text(values)
        d = doc()
        assert attach_weight_stats(d, w) == 1
        (spec,) = layers_from_document(d)
        assert spec.kind == "batchnorm" and spec.n_weights == 4
        est[name] = (spec, estimate_layers([spec], part="xcvu9p-flga2104-2-e", clock_ns=5)["layers"][0])
    assert est["shift"][0].w_pow2 == 4 and est["shift"][1]["dsp"] == 0
    assert est["real"][0].w_other == 4 and est["real"][1]["dsp"] > 0
    # a scale file of another size (a stale tensor) is ignored: every scale counted a multiplier
    (w / "s4.txt").write_text("2, 2")
    d = doc()
    attach_weight_stats(d, w)
    (spec,) = layers_from_document(d)
    assert spec.w_other is None and estimate_layers([spec], part="xcvu9p-flga2104-2-e", clock_ns=5)["layers"][0]["dsp"] > 0
