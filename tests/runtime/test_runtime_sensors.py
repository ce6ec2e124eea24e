"""Power sensors: fake hwmon tree, fake get_rails, fake xbutil, CSV meter log, none, simulated."""

from __future__ import annotations

import json
import math
import stat
import sys
import types
from collections.abc import Sequence
from pathlib import Path

import pytest

from hwflow.runtime.sensors import (
    CsvMeterLog,
    HwmonSensor,
    NoSensor,
    PmbusSensor,
    SensorError,
    SimulatedSensor,
    XrtSensor,
    make_sensor,
    parse_xbutil_electrical,
)


def _hwmon(root: Path, idx: int, name: str, **files: int) -> None:
    d = root / f"hwmon{idx}"
    d.mkdir(parents=True)
    (d / "name").write_text(name + "\n")
    for fname, value in files.items():
        (d / fname).write_text(f"{value}\n")


@pytest.fixture
def hwmon_root(tmp_path: Path) -> Path:
    root = tmp_path / "hwmon"
    _hwmon(root, 0, "ina226_u79", power1_input=1_500_000)
    _hwmon(root, 1, "ina226_u80", power1_input=250_000, power2_input=125_000)
    _hwmon(root, 2, "cpu_thermal", temp1_input=45000)
    _hwmon(root, 3, "ina260_avg", power1_average=2_000_000)
    return root


def test_hwmon_sums_matching_devices_in_microwatts(hwmon_root: Path) -> None:
    s = HwmonSensor(["ina226*"], root=hwmon_root)
    assert s.read_watts() == pytest.approx(1.875)
    assert HwmonSensor(["ina226_u80"], root=hwmon_root, channels=["power2"]).read_watts() == pytest.approx(0.125)
    assert HwmonSensor(["ina260_avg"], root=hwmon_root).read_watts() == pytest.approx(2.0)  # _average fallback
    assert s.name == "hwmon:ina226*"
    (hwmon_root / "hwmon0" / "power1_input").write_text("1000000\n")  # values are re-read each time
    assert s.read_watts() == pytest.approx(1.375)


def test_hwmon_no_match_names_what_exists(hwmon_root: Path) -> None:
    with pytest.raises(SensorError, match="cpu_thermal"):
        HwmonSensor(["ina3221"], root=hwmon_root)


class _Sensor:
    def __init__(self, value: float) -> None:
        self.value = value


class _Rail:
    def __init__(self, power: float | None = None, volts: float | None = None, amps: float | None = None) -> None:
        self.power = _Sensor(power) if power is not None else None
        self.voltage = _Sensor(volts) if volts is not None else None
        self.current = _Sensor(amps) if amps is not None else None


def test_pmbus_sums_named_rails() -> None:
    rails = {"INT": _Rail(power=1.25), "PSINT_FP": _Rail(volts=0.85, amps=1.0), "12V": _Rail(power=9.0)}
    s = PmbusSensor(["INT", "PSINT_FP"], get_rails=lambda: rails)
    assert s.read_watts() == pytest.approx(2.1)
    assert s.resolution_w == 0.125 and s.name == "pmbus"
    everything = PmbusSensor(get_rails=lambda: rails)
    assert everything.read_watts() == pytest.approx(11.1) and "double-count" in everything.note
    with pytest.raises(SensorError, match="12V"):
        PmbusSensor(["VCCINT"], get_rails=lambda: rails)
    with pytest.raises(SensorError, match="no PMBus rails"):
        PmbusSensor(get_rails=dict)


def test_pmbus_uses_pynq_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("pynq")
    fake.get_rails = lambda: {"INT": _Rail(power=3.0)}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pynq", fake)
    assert make_sensor({"method": "pmbus", "rails": ["INT"]}).read_watts() == 3.0
    monkeypatch.setitem(sys.modules, "pynq", None)
    with pytest.raises(SensorError, match="pynq"):
        make_sensor({"method": "pmbus"})


XBUTIL_JSON = {
    "schema_version": {"schema": "JSON", "creation_date": "Thu Nov 27 2026"},
    "devices": [{"interface_type": "pcie", "device_id": "0000:3b:00.1", "electrical": {
        "power_rails": [
            {"id": "12v_pex", "description": "12 Volts PCI Express", "voltage": {"volts": "12.100"},
             "current": {"amps": "1.500", "is_present": "true"}},
            {"id": "3v3_pex", "description": "3.3 Volts PCI Express", "voltage": {"volts": "3.300"},
             "current": {"amps": "0.000", "is_present": "false"}}],
        "power_consumption_max_watts": "225", "power_consumption_watts": "23.456789",
        "power_consumption_warning": "false"}}]}


def test_xbutil_parse_and_fallback_to_rails() -> None:
    assert parse_xbutil_electrical("XRT note\n" + json.dumps(XBUTIL_JSON)) == pytest.approx(23.456789)
    doc = json.loads(json.dumps(XBUTIL_JSON))
    del doc["devices"][0]["electrical"]["power_consumption_watts"]
    assert parse_xbutil_electrical(json.dumps(doc)) == pytest.approx(18.15)
    with pytest.raises(SensorError):
        parse_xbutil_electrical("ERROR: no devices found")


def test_xrt_sensor_with_injected_runner() -> None:
    calls: list[list[str]] = []

    def run(argv: Sequence[str]) -> str:
        calls.append(list(argv))
        out = argv[argv.index("--output") + 1]
        with open(out, "w") as fh:  # xbutil writes the report to --output
            json.dump(XBUTIL_JSON, fh)
        return "report written\n"

    s = XrtSensor("0000:3b:00.1", run=run)
    assert s.read_watts() == pytest.approx(23.456789)
    assert calls[0][:4] == ["xbutil", "examine", "-d", "0000:3b:00.1"]
    assert all(isinstance(a, str) for a in calls[0]) and "electrical" in calls[0]
    s.close()


def test_xrt_sensor_runs_a_real_command_without_shell(tmp_path: Path) -> None:
    fake = tmp_path / "xbutil"
    fake.write_text(f"#!{sys.executable}\nimport json, sys\nprint(json.dumps({XBUTIL_JSON!r}))\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    assert XrtSensor(xbutil=str(fake)).read_watts() == pytest.approx(23.456789)
    failing = tmp_path / "xbutil_fail"
    failing.write_text("#!/bin/sh\necho 'ERROR: device not ready' >&2\nexit 1\n")
    failing.chmod(failing.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(SensorError, match="device not ready"):
        XrtSensor(xbutil=str(failing))
    with pytest.raises(SensorError, match="PATH"):
        XrtSensor(xbutil=str(tmp_path / "nope"))


def test_csv_meter_log_columns_and_times(tmp_path: Path) -> None:
    log = tmp_path / "meter.csv"
    log.write_text("Timestamp,Watts\n1700000000.0,1.50\n1700000000.5,1.75\n# comment\n1700000001.0,\n")
    m = CsvMeterLog(log)
    assert m.rows() == [(1700000000.0, 1.5), (1700000000.5, 1.75)]
    assert m.read_watts() == 1.75 and m.posthoc
    assert CsvMeterLog(log, clock_offset_s=-2.0).rows()[0][0] == 1699999998.0
    iso = tmp_path / "iso.csv"
    iso.write_text("time,volts,amps\n2023-11-14T22:13:20Z,5.0,0.3\n2023-11-14T22:13:21+00:00,5.0,0.4\n")
    rows = CsvMeterLog(iso).rows()
    assert rows[0] == (1700000000.0, pytest.approx(1.5)) and rows[1][1] == pytest.approx(2.0)
    bad = tmp_path / "bad.csv"
    bad.write_text("when,what\n1,2\n")
    with pytest.raises(SensorError, match="columns are"):
        CsvMeterLog(bad).rows()


def test_no_sensor_never_raises() -> None:
    s = NoSensor("board has no power sensor")
    assert math.isnan(s.read_watts()) and not s.available
    assert make_sensor({"method": "none"}).available is False
    ext = make_sensor({"method": "external"})
    assert isinstance(ext, NoSensor) and "align_meter_log" in ext.note


def test_simulated_sensor_follows_phases() -> None:
    s = SimulatedSensor(1.5, 2.0, resolution_w=0.125)
    assert s.read_watts() == 1.5
    s.set_phase("run")
    assert s.read_watts() == 2.0 and s.emulated
    noisy = SimulatedSensor(1.0, 1.0, noise_w=0.2, resolution_w=0.125, seed=1)
    values = {noisy.read_watts() for _ in range(50)}
    assert len(values) > 2 and all(abs(v / 0.125 - round(v / 0.125)) < 1e-9 for v in values)
    emu = make_sensor({"method": "pmbus", "idle_w": 4.0}, emulated=True)
    assert isinstance(emu, SimulatedSensor) and emu.idle_w == 4.0


def test_make_sensor_unknown_method() -> None:
    with pytest.raises(SensorError, match="unknown power method"):
        make_sensor({"method": "shunt"})


def test_make_sensor_hwmon(hwmon_root: Path) -> None:
    s = make_sensor({"method": "hwmon", "rails": ["ina226_u79"], "hwmon_root": str(hwmon_root), "resolution_w": 0.01})
    assert s.read_watts() == pytest.approx(1.5) and s.resolution_w == 0.01
