"""CPU power model and the host batch sweep (numpy stand-in for the model: fast)."""

from __future__ import annotations

import numpy as np
import pytest

from hwflow.energy import cpu, hostbench


def test_tdp_lookup_env_table_default():
    assert cpu.lookup_tdp("x", env={"HWFLOW_CPU_TDP_W": "65"})["tdp_w"] == 65.0
    t = cpu.lookup_tdp("Intel(R) Xeon(R) CPU E5-2680 v3 @ 2.50GHz", env={})
    assert t["tdp_w"] == 120.0 and t["known"] and "#498" in t["source"]
    d = cpu.lookup_tdp("Intel(R) Xeon(R) Processor", env={})
    assert d["tdp_w"] == cpu.DEFAULT_TDP_W and not d["known"] and "#389" in d["source"]
    assert cpu.cpu_model_name("processor\t: 0\nmodel name\t: Foo CPU 9000\n") == "Foo CPU 9000"


def test_cpu_power_is_tdp_times_load_with_constant_mode_interval():
    tdp = {"tdp_w": 100.0, "source": "s", "known": True}
    e = cpu.cpu_power_estimate(0.25, tdp)
    assert e["power_w"] == 25.0 and e["interval_w"] == [25.0, 50.0] and e["source"] == "estimate:cpu-tdp-load"
    assert cpu.utilisation(2.0, 1.0, 4) == 0.5 and cpu.utilisation(10.0, 1.0, 2) == 1.0


class _Counter:
    name = "fake"
    reason = None

    def available(self):
        return True

    def start(self):
        self._t = 0.0

    def stop_j(self):
        return 1.0  # 1 J per measured point


def _predict(x):
    return np.tanh(x @ np.ones((x.shape[1], 4)))


def test_sweep_amortises_and_labels_energy():
    x = np.random.default_rng(0).normal(size=(100, 16)).astype(np.float32)
    tdp = cpu.lookup_tdp("unknown", env={})
    res = hostbench.sweep(_predict, x, max_batch=4096, seconds_per_point=0.02, budget_s=5.0,
                          power_model=lambda u: cpu.cpu_power_estimate(u, tdp))
    pts = res["points"]
    assert [p["batch"] for p in pts] == [1, 4, 16, 64, 256, 1024, 4096] and res["cut"] is None
    assert pts[-1]["per_inference_s"] < pts[0]["per_inference_s"] / 10  # per-call overhead amortised
    assert all(p["source"] == "estimate:cpu-tdp-load" and p["uj"] >= 0 for p in pts)
    s = hostbench.summarise(pts)
    assert s["latency_us_batch1"] == pytest.approx(pts[0]["per_inference_s"] * 1e6)
    assert s["uj_per_inference_batched"] <= s["uj_per_inference_batch1"]


def test_sweep_with_counter_and_bounds():
    x = np.ones((10, 8), dtype=np.float32)
    res = hostbench.sweep(_predict, x, max_batch=65536, seconds_per_point=0.01, budget_s=60,
                          counter=_Counter(), max_bytes=64 * 32)
    assert res["points"][-1]["batch"] == 64 and "MiB" in res["cut"]
    p = res["points"][0]
    assert p["source"] == "measured:fake" and p["uj"] == pytest.approx(1e6 / p["inferences"])
    res = hostbench.sweep(_predict, x, max_batch=65536, seconds_per_point=0.01, budget_s=0.0)
    assert len(res["points"]) == 1 and "budget" in res["cut"]
    assert res["points"][0]["uj"] is None and "not measurable" in res["points"][0]["note"]
