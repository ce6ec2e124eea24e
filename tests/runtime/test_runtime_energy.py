"""Energy maths against traces of known energy, the uncertainty formula, and measure()."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from hwflow.runtime.energy import (
    align_meter_log,
    covers,
    energy_summary,
    integrate,
    measure,
    power_uncertainty,
    repetitions_needed,
    samples_needed,
)
from hwflow.runtime.sensors import NoSensor, PowerSensor, SimulatedSensor


def test_constant_power_integrates_exactly() -> None:
    samples = [(t, 2.0) for t in np.linspace(-0.37, 3.41, 57)]
    assert integrate(samples, 0.0, 3.0) == pytest.approx(6.0, rel=1e-12)


def test_ramp_integrates_exactly_with_unaligned_window() -> None:
    # P(t) = 1 + 0.5 t: energy over [a, b] = (b - a) + 0.25 (b^2 - a^2)
    t = np.sort(np.random.default_rng(0).uniform(-1, 5, 400))
    samples = list(zip(t, 1 + 0.5 * t))
    a, b = 0.13, 2.71
    assert integrate(samples, a, b) == pytest.approx((b - a) + 0.25 * (b * b - a * a), rel=1e-12)


def test_step_at_a_window_edge_with_hold() -> None:
    # 1 W before 1.0 s, 3 W after, sampled every 10 ms off the edge: holding from inside is exact.
    t = np.arange(0.005, 2.0, 0.01)
    samples = [(ti, 1.0 if ti < 1.0 else 3.0) for ti in t]
    assert integrate(samples, 0.0, 1.0, edges="hold") == pytest.approx(1.0, rel=1e-12)
    assert integrate(samples, 1.0, 2.0, edges="hold") == pytest.approx(3.0, rel=1e-12)
    assert integrate(samples, 0.0, 1.0) > 1.0  # interpolating smears the step into the window


def test_step_exact_and_sampled() -> None:
    # 1 W until 0.5 s, then 3 W, over [0, 1]: 2 J.
    exact = [(0.0, 1.0), (0.5, 1.0), (0.5, 3.0), (1.0, 3.0)]
    assert integrate(exact, 0.0, 1.0) == pytest.approx(2.0, rel=1e-12)
    dt = 0.001
    t = np.arange(0, 1 + dt / 2, dt) + 0.0003  # the step falls between two samples
    sampled = [(ti, 1.0 if ti < 0.5 else 3.0) for ti in t]
    # The linear interpolant smears the step over one interval: error <= dt * step / 2.
    assert abs(integrate(sampled, 0.0, 1.0) - 2.0) <= dt * 2.0 / 2 + 1e-12


def test_coverage() -> None:
    samples = [(t, 1.0) for t in np.arange(0, 1.01, 0.01)]
    assert covers(samples, 0.0, 1.0, 0.02)
    assert not covers(samples, 0.0, 2.0, 0.02)
    gappy = [s for s in samples if not 0.3 < s[0] < 0.6]
    assert not covers(gappy, 0.0, 1.0, 0.02)


def _trace(phases: list[tuple[str, float, float]], power, dt: float = 0.001):
    """Samples every dt and marks for consecutive (phase, seconds, watts) segments."""
    marks, t = [], 0.0
    for name, seconds, _ in phases:
        marks.append((t, name))
        t += seconds
    marks.append((t, "end"))
    times = np.arange(0.0, t + dt / 2, dt)
    return [(ti, power(ti)) for ti in times], marks


def test_energy_per_inference_total_and_above_idle() -> None:
    # idle 1 W for 1 s, run 3 W for 2 s, 1000 inferences: 6 J total -> 6000 uJ; above idle 4000 uJ.
    marks = [(0.0, "idle"), (1.0, "run"), (3.0, "end")]
    idle = [(i / 1000, 1.0) for i in range(1001)]  # ends with (1.0, 1.0) ...
    run = [(1 + i / 1000, 3.0) for i in range(2001)]  # ... and the run starts with (1.0, 3.0)
    samples = idle + run
    s = energy_summary(samples, marks, n_inferences=1000, resolution_w=0.0, interval_s=0.001)
    assert s["power_idle_w"] == pytest.approx(1.0)
    assert s["power_active_w"] == pytest.approx(3.0)
    assert s["energy_uj_per_inference"] == pytest.approx(6000.0)
    assert s["energy_dynamic_uj_per_inference"] == pytest.approx(4000.0)
    assert s["inferences_per_joule"] == pytest.approx(1000 / 6.0)
    assert s["energy_uj_per_inference_uncertainty"] == pytest.approx(0.0)


def test_ramp_run_phase_energy() -> None:
    # run phase [1, 3] with P = t: integral = (9 - 1) / 2 = 4 J over 4000 inferences -> 1000 uJ.
    # Phase edges hold the nearest inside sample, so a ramp is off by at most slope * dt^2 / 2
    # per edge (here 1e-6 J of 4 J).
    samples, marks = _trace([("idle", 1.0, 0.0), ("run", 2.0, 0.0)], lambda t: t)
    s = energy_summary(samples, marks, n_inferences=4000, resolution_w=0.0, interval_s=0.001)
    assert s["energy_uj_per_inference"] == pytest.approx(1000.0, abs=2 * 0.5e-6 / 4000 * 1e6)
    assert s["power_idle_w"] == pytest.approx(0.5, abs=1e-6)  # mean of t over [0, 1]


def test_uncertainty_formula() -> None:
    r = 0.125
    # steady reading (no spread): quantisation is systematic, N does not help
    assert power_uncertainty(0.0, 10, r) == pytest.approx(r / math.sqrt(12))
    assert power_uncertainty(0.0, 10_000, r) == pytest.approx(r / math.sqrt(12))
    # dithered (spread >= r/2): both terms fall as 1/sqrt(N)
    assert power_uncertainty(0.2, 400, r) == pytest.approx(math.sqrt(0.04 / 400 + r * r / 12 / 400))
    # and energy per inference carries u(P) * T / n
    samples, marks = _trace([("idle", 1.0, 0.0), ("run", 2.0, 0.0)], lambda t: 2.0)
    s = energy_summary(samples, marks, n_inferences=100, resolution_w=r, interval_s=0.001)
    assert s["energy_uj_per_inference_uncertainty"] == pytest.approx(r / math.sqrt(12) * 2.0 / 100 * 1e6)
    assert s["energy_dynamic_uj_per_inference_uncertainty"] == pytest.approx(
        math.sqrt(2) * r / math.sqrt(12) * 2.0 / 100 * 1e6)


def test_uncertainty_formula_matches_monte_carlo_for_dithered_readings() -> None:
    rng = np.random.default_rng(11)
    true_w, sigma, r, n = 1.03, 0.1, 0.125, 200
    readings = np.round((true_w + rng.normal(0, sigma, size=(4000, n))) / r) * r
    errors = readings.mean(axis=1) - true_w
    predicted = np.mean([power_uncertainty(float(np.std(row, ddof=1)), n, r) for row in readings[:200]])
    assert abs(errors.mean()) < 0.002  # dithered quantisation is unbiased
    assert np.std(errors) == pytest.approx(predicted, rel=0.3)  # and conservative within 30 %


def test_repetitions_needed() -> None:
    # ZCU104 rails: r = 1/8 W read every 50 ms; target 2 mW -> 326 samples -> 16.3 s window.
    assert samples_needed(0.125, 0.002, min_samples=100) == 326
    assert repetitions_needed(0.01, sample_interval_s=0.05, resolution_w=0.125, target_uncertainty_w=0.002) == 1630
    assert repetitions_needed(0.5, sample_interval_s=0.01, min_samples=10, min_seconds=2.0) == 4
    assert repetitions_needed(100.0, sample_interval_s=0.01) == 1
    assert repetitions_needed(0.0, sample_interval_s=0.01, max_repetitions=50) == 50


def test_align_meter_log_on_the_host() -> None:
    phases = [{"phase": "idle", "wall_start": 1000.0, "wall_end": 1002.0},
              {"phase": "run", "wall_start": 1002.0, "wall_end": 1006.0}]
    rows = [(1000.0 + 0.1 * i, 1.6 if 1000.0 + 0.1 * i < 1002.0 else 2.1) for i in range(61)]
    summary, trace = align_meter_log(rows, phases, n_inferences=4_000_000, resolution_w=0.001, interval_s=0.1)
    # a step exactly at the phase mark stays in its own phase (edges held from inside)
    assert summary["power_idle_w"] == pytest.approx(1.6, abs=1e-9)
    assert summary["power_active_w"] == pytest.approx(2.1, abs=1e-9)
    assert summary["energy_uj_per_inference"] == pytest.approx(2.1 * 4 / 4e6 * 1e6, rel=1e-9)
    assert trace[0][0] == 0.0 and trace[0][2] == "idle" and trace[-1][2] == "run"


# ---------------------------------------------------------------------------------------------
# measure()
# ---------------------------------------------------------------------------------------------

class ConstantSensor(PowerSensor):
    name = "const"
    resolution_w = 0.0

    def __init__(self, watts: float) -> None:
        self.watts = watts

    def read_watts(self) -> float:
        return self.watts


def slow_identity(x: np.ndarray) -> np.ndarray:
    time.sleep(0.002)
    return x * 2


def test_measure_constant_power_known_energy() -> None:
    x = np.arange(10.0).reshape(5, 2)
    m = measure(slow_identity, x, ConstantSensor(2.5), interval_s=0.01, idle_s=0.05, warmup_s=0.02,
                min_run_s=0.2, min_samples=20, batch1_calls=3)
    s = m.summary
    np.testing.assert_array_equal(m.outputs, x * 2)
    assert s["seconds"] >= 0.2 and s["samples_run"] >= 20 and s["n_inferences"] == 5 * s["repetitions"]
    # constant 2.5 W: energy per inference = 2.5 W * run seconds / n, exactly
    assert s["energy_uj_per_inference"] == pytest.approx(2.5 * s["seconds"] / s["n_inferences"] * 1e6, rel=1e-6)
    assert s["energy_dynamic_uj_per_inference"] == pytest.approx(0.0, abs=1e-6)
    assert s["source"] == "measured:const" and s["sensor_error"] is None and s["outputs_stable"]
    assert [p["phase"] for p in s["phases"]] == ["idle", "warmup", "run"]
    assert {row[2] for row in m.trace} == {"idle", "warmup", "run"}
    assert s["latency_batch1_s"] >= 0.002


def test_measure_emulated_label_and_idle_subtraction() -> None:
    sensor = SimulatedSensor(1.5, 2.0, resolution_w=0.001)
    m = measure(slow_identity, np.ones((4, 2)), sensor, interval_s=0.01, idle_s=0.1, warmup_s=0.02,
                min_run_s=0.2, min_samples=10, batch1_calls=0)
    s = m.summary
    assert s["source"] == "emulated" and s["latency_source"] == "emulated"
    assert s["power_idle_w"] == pytest.approx(1.5, abs=1e-9)
    assert s["power_active_w"] == pytest.approx(2.0, abs=1e-9)
    per = s["seconds"] / s["n_inferences"] * 1e6
    assert s["energy_dynamic_uj_per_inference"] == pytest.approx((s["power_active_w"] - s["power_idle_w"]) * per,
                                                                   rel=1e-6)


def test_measure_emulated_phases_differ_idle_warmup_run() -> None:
    """Issue 15: the emulated board's trace has three distinct levels (idle < warm-up < run)
    from the energy model's phase powers, and the energy above idle is the run's excess."""
    sensor = SimulatedSensor(1.50, 1.58, resolution_w=0.001,
                             phase_w={"idle": 1.50, "warmup": 1.53, "run": 1.58, "cooldown": 1.50})
    m = measure(slow_identity, np.ones((4, 2)), sensor, interval_s=0.01, idle_s=0.1, warmup_s=0.1,
                min_run_s=0.2, min_samples=10, batch1_calls=0)
    s = m.summary
    levels = {ph: sorted({round(w, 3) for (_, w, p) in m.trace if p == ph}) for ph in ("idle", "warmup", "run")}
    assert levels == {"idle": [1.5], "warmup": [1.53], "run": [1.58]}
    assert s["power_idle_w"] == pytest.approx(1.50) and s["power_active_w"] == pytest.approx(1.58)
    per = s["seconds"] / s["n_inferences"] * 1e6
    assert s["energy_dynamic_uj_per_inference"] == pytest.approx(0.08 * per, rel=1e-6)
    assert sensor.describe()["phase_w"]["warmup"] == 1.53


def test_measure_without_sensor_reports_not_measured() -> None:
    m = measure(slow_identity, np.ones((2, 2)), NoSensor("board has no power sensor"), idle_s=0.0,
                warmup_s=0.0, min_run_s=0.05, batch1_calls=0)
    s = m.summary
    assert s["energy_uj_per_inference"] is None and s["power_active_w"] is None and s["source"] is None
    assert s["latency_s_per_inference"] > 0 and "not measured" in s["notes"][0]
    assert m.trace == []
