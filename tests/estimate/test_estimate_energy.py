"""Energy per inference: board power x time, and the QTools chip-level view."""

from __future__ import annotations

import math

import pytest

from hwflow.estimate.energy import BOARD_SOURCE, QToolsError, board_energy, qtools_energy


def test_board_energy_matches_mlperf_tiny_anchor():
    # PYNQ-Z2 + hls4ml, MLPerf Tiny AD08: 1.58 W board, 18.7 us -> 30.0 uJ reported (ANCHORS.md)
    r = board_energy(1.58, 1.45, 18.7e-6, 18.7e-6, accuracy=0.83)
    assert r["uj_per_inference"]["batch1"] == pytest.approx(29.5, rel=0.02)
    assert r["source"] == BOARD_SOURCE == "estimate:board-power-model"


def test_board_energy_batch1_and_streaming():
    r = board_energy(active_w=2.0, idle_w=1.5, latency_s=10e-6, ii_s=1e-6, accuracy=0.9)
    assert r["uj_per_inference"] == {"batch1": pytest.approx(20.0), "streaming": pytest.approx(2.0)}
    assert r["inferences_per_joule"]["batch1"] == pytest.approx(1 / 20e-6)
    assert r["inferences_per_joule"]["streaming"] == pytest.approx(1 / 2e-6)
    assert r["accuracy_per_joule"]["streaming"] == pytest.approx(0.9 / 2e-6)
    assert r["above_idle_uj"]["batch1"] == pytest.approx(5.0)
    assert r["notes"] == []


@pytest.mark.parametrize("kwargs,missing", [
    ({"active_w": None, "idle_w": 1.0, "latency_s": 1e-6, "ii_s": 1e-6}, ("batch1", "streaming")),
    ({"active_w": 1.6, "idle_w": None, "latency_s": None, "ii_s": 1e-6}, ("batch1",)),
    ({"active_w": 1.6, "idle_w": None, "latency_s": 1e-6, "ii_s": 0}, ("streaming",)),
    ({"active_w": float("nan"), "idle_w": None, "latency_s": 1e-6, "ii_s": 1e-6}, ("batch1", "streaming")),
])
def test_board_energy_never_invents_numbers(kwargs, missing):
    r = board_energy(**kwargs)
    for mode in missing:
        assert r["uj_per_inference"][mode] is None
        assert r["inferences_per_joule"][mode] is None
    assert r["notes"]
    for mode in {"batch1", "streaming"} - set(missing):
        assert math.isfinite(r["uj_per_inference"][mode])
    # no accuracy given -> no accuracy_per_joule, but the energy stays
    assert all(v is None for v in r["accuracy_per_joule"].values())


def test_qtools_failure_has_a_clear_message():
    pytest.importorskip("qkeras")
    with pytest.raises(QToolsError, match="QTools failed"):
        qtools_energy(object())


def test_qtools_energy_of_a_small_qkeras_model():
    pytest.importorskip("qkeras")
    tf = pytest.importorskip("tensorflow")
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu

    def mlp(bits):
        q = quantized_bits(bits, 0, alpha=1)
        return tf.keras.Sequential([
            tf.keras.layers.Input((16,)),
            QDense(32, kernel_quantizer=q, bias_quantizer=q, name="fc1"),
            QActivation(quantized_relu(bits), name="relu1"),
            QDense(5, kernel_quantizer=q, bias_quantizer=q, name="out"),
        ])

    e4, e8 = qtools_energy(mlp(4)), qtools_energy(mlp(8))
    assert e4["pj_per_inference"] > 0 and set(e4["per_layer_pj"]) >= {"fc1", "out"}
    assert e4["pj_per_inference"] < e8["pj_per_inference"]  # fewer bits, less energy
    assert e4["source"].startswith("estimate:")


def test_with_energy_uses_estimated_time_and_board_power():
    from hwflow.estimate import LayerSpec, estimate_layers, with_energy

    d = LayerSpec(name="fc", kind="dense", n_in=16, n_out=8, weight_bits=8, input_bits=8, accum_bits=16,
                  result_bits=8, n_weights=128)
    est = estimate_layers([d], part="xc7z020clg400-1", clock_ns=10)
    out = with_energy(est, {"active_w": 1.58, "idle_w": None, "source": "MLPerf Tiny"}, accuracy=0.9)
    e = out["energy"]
    assert e["uj_per_inference"]["batch1"] == pytest.approx(1.58 * est["latency_s"] * 1e6)
    assert e["uj_per_inference"]["streaming"] == pytest.approx(1.58 * est["ii_s"] * 1e6)
    assert e["source"] == "estimate:board-power-model" and e["power_source"] == "MLPerf Tiny"
    assert "energy" not in est  # the input is not modified
    assert with_energy(est, None)["energy"]["uj_per_inference"]["batch1"] is None
