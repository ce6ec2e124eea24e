"""CPU/GPU baselines: energy counters read correctly, absent counters say so."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from hwflow.baseline import NvmlCounter, RaplCounter, measure


def make_rapl(root, energies, rng=1_000_000.0):
    for i, e in enumerate(energies):
        d = root / f"intel-rapl:{i}"
        d.mkdir(parents=True)
        (d / "energy_uj").write_text(str(e))
        (d / "max_energy_range_uj").write_text(str(rng))
        sub = root / f"intel-rapl:{i}:0"  # a sub-zone (core): must not be double counted
        sub.mkdir()
        (sub / "energy_uj").write_text("0")
        (sub / "max_energy_range_uj").write_text(str(rng))


def test_rapl_sums_packages_and_handles_wraparound(tmp_path):
    make_rapl(tmp_path, [100.0, 999_900.0])
    c = RaplCounter(str(tmp_path))
    assert c.available() and len(c.domains) == 2
    c.start()
    (tmp_path / "intel-rapl:0" / "energy_uj").write_text("600100")   # +600,000 uJ
    (tmp_path / "intel-rapl:1" / "energy_uj").write_text("400100")   # wrapped: +400,200 uJ
    assert c.stop_j() == pytest.approx(0.6 + 0.4002)


def test_rapl_absent_says_not_measurable(tmp_path):
    c = RaplCounter(str(tmp_path))
    assert not c.available()
    res = measure(lambda a: a, np.zeros((4, 2)), c, 0.01)
    assert res["energy"]["uj_per_inference"] is None
    assert "not measurable here" in res["energy"]["note"]
    assert res["samples_per_s"] > 0


def test_measure_energy_per_inference_with_a_counter():
    class Fake:
        name = "fake"

        def available(self):
            return True

        def start(self):
            pass

        def stop_j(self):
            return 2.0

    res = measure(lambda a: a, np.zeros((10, 2)), Fake(), 0.01)
    assert res["energy"]["source"] == "measured:fake"
    assert res["energy"]["uj_per_inference"] == pytest.approx(2.0 / res["inferences"] * 1e6)


def test_nvml_counter_reads_millijoules(monkeypatch):
    state = {"mj": 5_000}
    fake = types.SimpleNamespace(
        nvmlInit=lambda: None,
        nvmlDeviceGetHandleByIndex=lambda i: "h",
        nvmlDeviceGetName=lambda h: "Fake GPU",
        nvmlDeviceGetTotalEnergyConsumption=lambda h: state["mj"],
    )
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    c = NvmlCounter()
    assert c.available() and c.device_name == "Fake GPU"
    c.start()
    state["mj"] += 1500
    assert c.stop_j() == pytest.approx(1.5)


def test_nvml_absent_is_reported(monkeypatch):
    def boom():
        raise RuntimeError("NVML Shared Library Not Found")

    monkeypatch.setitem(sys.modules, "pynvml", types.SimpleNamespace(nvmlInit=boom))
    c = NvmlCounter()
    assert not c.available()
    assert "not readable here" in c.reason


# -- issue 15: the baseline of every run (host sweep with TensorFlow, energy measured or estimated)

def test_host_baselines_on_a_small_keras_model(tmp_path):
    tf = pytest.importorskip("tensorflow")
    from hwflow.energy.baseline_run import run_host_baselines

    model = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(4, activation="softmax")])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 8)).astype(np.float32)
    y = rng.integers(0, 4, size=50)
    res = run_host_baselines(model, x, y, budget_s=1.5, seconds_per_point=0.05, max_batch=4096,
                             rapl_counter=RaplCounter(str(tmp_path)))  # an empty powercap: not readable
    c = res["cpu"]
    for k in ("latency_us_batch1", "uj_per_inference_batch1", "throughput_per_s_batched",
              "uj_per_inference_batched", "source"):
        assert c[k] is not None, k
    assert c["source"] == "estimate:cpu-tdp-load" and "not readable" in c["rapl"]
    assert c["sweep"][0]["batch"] == 1 and len(c["sweep"]) >= 2
    # batching amortises the per-call cost on the CPU too
    assert c["throughput_per_s_batched"] > 1e6 / c["latency_us_batch1"]
    assert c["uj_per_inference_batched"] < c["uj_per_inference_batch1"]
    assert 0.0 <= c["accuracy"] <= 1.0
    if not res["gpu_present"]:
        assert "gpu" not in res and "no GPU" in res["gpu_note"]
    # the report's reader still understands the file
    from hwflow.report.extras import normalise_baselines

    rows = normalise_baselines(res)
    assert {r["device"] for r in rows} <= {"cpu", "gpu"}
    assert rows[0]["batch"] == 1 and rows[0]["uj_per_inference"] == c["uj_per_inference_batch1"]
