"""Precisions derived from QKeras quantizers, and the comparison report (no compilation)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("qkeras")

from qkeras import quantized_bits, quantized_relu

from hwflow.emu.fixed import FixedType
from hwflow.emu.precision import compare, fixed_type_for_quantizer, format_layer_table
from hwflow.hlsconfig import converter_kwargs, hls_config_for, softmax_precisions


@pytest.mark.parametrize(("quantizer", "expected"), [
    (quantized_bits(8, 0, alpha=1), FixedType(8, 1, True, "RND_CONV", "SAT")),
    (quantized_bits(6, 0), FixedType(6, 1, True, "RND_CONV", "SAT")),
    (quantized_bits(8, 1, symmetric=1, alpha=1), FixedType(8, 2, True, "RND_CONV", "SAT_SYM")),
    (quantized_bits(8, 2, keep_negative=False, alpha=1), FixedType(8, 2, False, "RND_CONV", "SAT")),
    (quantized_relu(6, 0), FixedType(6, 0, False, "RND_CONV", "SAT")),
    (quantized_relu(8, 3), FixedType(8, 3, False, "RND_CONV", "SAT")),
    (quantized_bits(6, 0, alpha="auto_po2"), None),
    (quantized_relu(6, 0, negative_slope=0.25), None),
    ({"class_name": "quantized_bits", "config": {"bits": 4, "integer": 1, "alpha": 1}},
     FixedType(4, 2, True, "RND_CONV", "SAT")),
])
def test_fixed_type_for_quantizer(quantizer, expected) -> None:
    assert fixed_type_for_quantizer(quantizer) == expected


def test_fixed_types_reproduce_qkeras() -> None:
    """The derived ap_fixed assignment gives QKeras' own output values (ties included)."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 3, 4000), np.round(rng.normal(0, 2, 4000) * 256) / 256]).astype(np.float32)
    for q in (quantized_bits(8, 1, alpha=1), quantized_bits(6, 0, symmetric=1, alpha=1),
              quantized_bits(8, 2, keep_negative=False, alpha=1), quantized_relu(6, 0), quantized_relu(4, 2)):
        t = fixed_type_for_quantizer(q)
        assert np.array_equal(t.quantize(x), np.asarray(q(x), dtype=np.float64)), str(q)


@pytest.fixture(scope="module")
def mlp():
    from hwflow.emu import examples

    return examples.mlp([64, 32, 10], input_bits=None)


def test_hls_config_for_sets_quantizer_types(mlp) -> None:
    cfg = hls_config_for(mlp, io_type="io_stream", strategy="resource", reuse_factor=4, input_precision=(8, 1))
    names = cfg["LayerName"]
    assert cfg["Model"]["Strategy"] == "Resource" and cfg["Model"]["ReuseFactor"] == 4
    assert names["inp"]["Precision"]["result"] == "fixed<8,2,RND_CONV,SAT>"
    assert names["relu1"]["Precision"]["result"] == "ufixed<6,0,RND_CONV,SAT>"
    assert names["fc1"]["Precision"]["accum"] == "auto" and names["fc1"]["Precision"]["result"] == "auto"
    assert names["fc1"]["Precision"]["weight"].startswith("fixed<6,1")
    sm = names["softmax"]
    for key, val in softmax_precisions(10).items():
        if key == "result":
            assert sm["Precision"]["result"] == val
        else:  # hls4ml reads the table types from layer-level *_t keys only
            assert sm[f"{key}_t"] == val
    assert all(entry.get("Trace") for entry in names.values())
    hls_cfg, kw = converter_kwargs(cfg)
    assert "hwflow" not in hls_cfg and kw == {"io_type": "io_stream"}


def test_input_type_from_leading_qactivation() -> None:
    from hwflow.emu import examples

    m = examples.mlp([16, 8, 4], input_bits=(16, 6))
    cfg = hls_config_for(m)
    assert cfg["LayerName"]["inp"]["Precision"]["result"] == "fixed<16,7,RND_CONV,SAT>"
    assert cfg["hwflow"]["input_type"] == "ap_fixed<16,7,AP_RND_CONV,AP_SAT>"


def test_missing_input_quantizer_is_noted(mlp) -> None:
    cfg = hls_config_for(mlp)
    assert any("no input quantizer" in n for n in cfg["hwflow"]["notes"])


def test_bad_arguments(mlp) -> None:
    with pytest.raises(ValueError):
        hls_config_for(mlp, io_type="io_serial")
    with pytest.raises(ValueError):
        hls_config_for(mlp, strategy="fast")


def test_compare_statistics_without_layers(mlp) -> None:
    x = np.zeros((4, 64), dtype=np.float32)
    y_k = np.array([[0.1, 0.9], [0.6, 0.4], [0.5, 0.5], [0.2, 0.8]], dtype=np.float32)
    y_h = y_k.astype(np.float64).copy()
    y_h[1] = [0.3, 0.7]  # argmax flips, one sample differs
    r = compare(mlp, x, y_h, y_keras=y_k)
    assert r["samples"] == 4 and r["exact_fraction"] == 0.75 and r["argmax_agreement"] == 0.75
    assert r["max_abs_diff"] == pytest.approx(0.3) and r["worst_sample"] == 1
    assert r["first_divergent_layer"] is None and r["layers"] == []
    assert format_layer_table(r) == "(no per-layer comparison)"


def test_quantize_input_matches_firmware_input_type(mlp) -> None:
    from hwflow.hlsconfig import quantize_input

    # ap_fixed<8,2,AP_RND_CONV,AP_SAT>: LSB 1/64, range [-2, 2 - 1/64], ties to even
    x = np.array([0.3, -5.0, 1.99, 1.5 / 64, 2.5 / 64], dtype=np.float32)
    assert quantize_input(x, (8, 1)).tolist() == [0.296875, -2.0, 1.984375, 2 / 64, 2 / 64]
    cfg = hls_config_for(mlp, input_precision=(8, 1))
    assert any("quantize_input" in n for n in cfg["hwflow"]["notes"])


def test_linear_quantizer_and_average_pool_types() -> None:
    """A QActivation(quantized_bits) after a conv moves into the conv's result (hls4ml would
    drop it), and average pooling keeps the fraction bits its mean needs."""
    from hwflow.emu import examples

    cfg = hls_config_for(examples.small_cnn_avg())
    names = cfg["LayerName"]
    assert names["conv1"]["Precision"]["result"] == "fixed<6,3,RND_CONV,SAT>"
    assert names["conv1_linear"]["Precision"]["result"] == "fixed<6,3,RND_CONV,SAT>"
    assert names["pool1"]["Precision"]["result"] == "fixed<8,3>"  # 2x2 pool: 2 more fraction bits
