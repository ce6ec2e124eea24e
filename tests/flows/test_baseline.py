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
