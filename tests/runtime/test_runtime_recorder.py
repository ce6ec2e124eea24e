"""The recorder thread: timestamps, phase marks, sensors that fail or hang mid-run, meter logs."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from hwflow.runtime.driver import AcceleratorDriver
from hwflow.runtime.emulated import EmulatedOverlay
from hwflow.runtime.energy import measure
from hwflow.runtime.recorder import Recorder
from hwflow.runtime.sensors import CsvMeterLog, PowerSensor, SensorError, SimulatedSensor


class Counting(PowerSensor):
    name = "counting"

    def __init__(self) -> None:
        self.n = 0

    def read_watts(self) -> float:
        self.n += 1
        return 1.0 + 0.001 * self.n


class FailsAfter(PowerSensor):
    """Works for ``seconds`` (or, with ``in_phase``, for ``reads`` reads in that phase), then
    raises - an I2C bus error, an unplugged meter."""

    name = "flaky"
    resolution_w = 0.01

    def __init__(self, seconds: float = 1e9, *, in_phase: str | None = None, reads: int = 3) -> None:
        self.until = time.monotonic() + seconds
        self.in_phase, self.reads, self.phase = in_phase, reads, "idle"

    def set_phase(self, phase: str) -> None:
        self.phase = phase

    def read_watts(self) -> float:
        if self.in_phase is not None and self.phase == self.in_phase:
            self.reads -= 1
        if time.monotonic() > self.until or self.reads < 0:
            raise SensorError("PMBus read failed: [Errno 121] Remote I/O error")
        return 2.0


class Hangs(PowerSensor):
    name = "stuck"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def read_watts(self) -> float:
        self.calls += 1
        if self.calls > 3:
            self.release.wait(30)
        return 1.0


def test_samples_marks_and_phases() -> None:
    rec = Recorder(Counting(), interval_s=0.005).start("idle")
    time.sleep(0.05)
    rec.mark("run")
    time.sleep(0.05)
    r = rec.stop()
    assert rec.stop() is r  # idempotent
    times = [t for t, _ in r.samples]
    assert len(times) >= 3 and bool(np.all(np.diff(times) > 0))
    assert [p for _, p in r.marks] == ["idle", "run", "end"]
    rows = r.rows()
    assert rows[0][2] == "idle" and rows[-1][2] == "run" and rows[0][0] >= 0
    table = r.phase_table()
    assert [p["phase"] for p in table] == ["idle", "run"]
    run_s = table[1]["t_end_s"] - table[1]["t_start_s"]
    assert run_s >= 0.05 and table[1]["wall_end"] - table[1]["wall_start"] == pytest.approx(run_s, abs=1e-5)
    assert r.error is None


def test_sensor_failing_mid_run_stops_cleanly_and_keeps_samples() -> None:
    rec = Recorder(FailsAfter(0.05), interval_s=0.005).start()
    time.sleep(0.15)
    t0 = time.monotonic()
    r = rec.stop()
    assert time.monotonic() - t0 < 0.5
    assert r.samples and all(w == 2.0 for _, w in r.samples)
    assert "Remote I/O error" in r.error and "recording stopped" in r.error


def test_hanging_sensor_does_not_hang_stop() -> None:
    sensor = Hangs()
    rec = Recorder(sensor, interval_s=0.002, join_timeout_s=0.2).start()
    time.sleep(0.05)
    t0 = time.monotonic()
    r = rec.stop()
    assert time.monotonic() - t0 < 0.6
    assert len(r.samples) == 3 and "did not return" in r.error
    sensor.release.set()


def test_measure_survives_a_sensor_failing_during_the_run() -> None:
    io = {"input_shape": [4], "output_shape": [2], "input": "float", "output": "float"}
    drv = AcceleratorDriver(EmulatedOverlay(lambda x: x[:, :2] + 1, io), io)
    x = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    # the sensor dies after 3 reads in the run phase (>= 0.3 s long, read every 5 ms)
    m = measure(drv, x, FailsAfter(in_phase="run", reads=3), interval_s=0.005, idle_s=0.1, warmup_s=0.02,
                min_run_s=0.3, min_samples=10, batch1_calls=0)
    np.testing.assert_array_equal(m.outputs, x[:, :2] + 1)  # the inference is unaffected
    s = m.summary
    assert "Remote I/O error" in s["sensor_error"]
    assert s["power_idle_w"] == pytest.approx(2.0)  # idle was recorded before the failure
    assert s["energy_uj_per_inference"] is None and s["source"] is None
    assert any("not covered" in n for n in s["notes"])
    assert m.trace and s["samples"] == len(m.trace)


def test_posthoc_meter_log_is_placed_by_wall_clock(tmp_path: Path) -> None:
    log = tmp_path / "meter.csv"
    log.write_text("timestamp,watts\n")
    meter = CsvMeterLog(log)
    rec = Recorder(meter, interval_s=0.01).start("idle")
    stop = threading.Event()
    phase = {"w": 1.0}

    def meter_thread() -> None:  # the meter writes its own log, on its own schedule
        with open(log, "a") as fh:
            while not stop.is_set():
                fh.write(f"{time.time():.6f},{phase['w']}\n")
                fh.flush()
                time.sleep(0.005)

    th = threading.Thread(target=meter_thread)
    th.start()
    time.sleep(0.1)
    rec.mark("run")
    phase["w"] = 3.0
    time.sleep(0.1)
    r = rec.stop()
    stop.set()
    th.join()
    assert r.error is None and len(r.samples) > 5
    phases = {p: [w for _, w, q in r.rows() if q == p] for p in ("idle", "run")}
    assert np.median(phases["idle"]) == 1.0 and np.median(phases["run"]) == 3.0


def test_posthoc_meter_log_with_wrong_clock_reports_it(tmp_path: Path) -> None:
    log = tmp_path / "meter.csv"
    log.write_text("timestamp,watts\n100.0,1.0\n101.0,1.0\n")  # 1970: the meter's clock is not set
    rec = Recorder(CsvMeterLog(log), interval_s=0.01).start()
    r = rec.stop()
    assert r.samples == [] and "clock" in r.error


def test_simulated_sensor_follows_recorder_marks() -> None:
    rec = Recorder(SimulatedSensor(1.0, 4.0), interval_s=0.003).start("idle")
    time.sleep(0.04)
    rec.mark("run")
    time.sleep(0.04)
    r = rec.stop()
    by_phase = {p: {w for _, w, q in r.rows() if q == p} for p in ("idle", "run")}
    assert by_phase == {"idle": {1.0}, "run": {4.0}}
