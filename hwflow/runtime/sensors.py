"""Power sensors behind one small interface: ``read_watts() -> float``, ``name``, ``resolution_w``.

Boards expose power in different ways; the recorder and the energy maths should not care which:

=================  =============================================================================
:class:`PmbusSensor`   PYNQ ``get_rails()`` (ZCU104, Ultra96-V2, ZCU102, RFSoC): sum of named rails
:class:`HwmonSensor`   Linux hwmon sysfs ``power*_input`` in microwatts (INA226 & co., KV260)
:class:`XrtSensor`     Alveo cards: ``xbutil examine -r electrical --format JSON``
:class:`CsvMeterLog`   an external meter's log (PYNQ-Z2 has no sensor): read after the run,
                       aligned by wall-clock time
:class:`NoSensor`      "not measured": never raises, the recorder skips it
:class:`SimulatedSensor` a power model that follows the recorder's phase marks; labelled emulated
=================  =============================================================================

Attributes every sensor has: ``name`` (goes into ``measured:<name>``), ``resolution_w`` (smallest
step a reading can change by; drives the uncertainty and the window length), ``min_interval_s``
(do not poll faster), ``available``, ``emulated``, ``posthoc`` (samples come from a log, not from
live polling), ``follows_phases`` (a model whose value changes on ``set_phase``).

Only the standard library and numpy are imported; ``pynq`` is imported lazily.
"""

from __future__ import annotations

import csv
import fnmatch
import glob
import importlib
import json
import math
import os
import random
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


class SensorError(RuntimeError):
    """A sensor cannot be set up or read (missing rail, unreadable file, tool failure)."""


class PowerSensor:
    """Base class; subclasses implement :meth:`read_watts`."""

    name: str = "sensor"
    resolution_w: float = 0.0
    min_interval_s: float = 0.0
    available: bool = True
    emulated: bool = False
    posthoc: bool = False
    follows_phases: bool = False
    note: str = ""

    def read_watts(self) -> float:
        raise NotImplementedError

    def set_phase(self, phase: str) -> None:
        """Told by the recorder when the phase changes; real sensors ignore it."""

    def close(self) -> None:
        """Release files/processes; most sensors hold none."""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": type(self).__name__, "resolution_w": self.resolution_w,
                "min_interval_s": self.min_interval_s, "available": self.available,
                "emulated": self.emulated, "note": self.note}


class NoSensor(PowerSensor):
    """No power sensing: figures that need power are reported as not measured."""

    name = "none"
    available = False

    def __init__(self, reason: str = "no power sensor on this board") -> None:
        self.note = reason

    def read_watts(self) -> float:
        return math.nan


# ---------------------------------------------------------------------------------------------
# PYNQ PMBus rails
# ---------------------------------------------------------------------------------------------

class PmbusSensor(PowerSensor):
    """Sum of the power of named PMBus rails from ``pynq.get_rails()``.

    A rail object has ``power``, ``voltage``, ``current`` sensors with ``.value``; when ``power``
    is missing we use voltage x current. ``rails=None`` sums every rail that has power, which can
    double-count nested rails (an input rail feeding the others); the board file should name them.
    ZCU104 rails step by about 1/8 W, hence the default ``resolution_w``.
    """

    min_interval_s = 0.01

    def __init__(self, rails: Sequence[str] | None = None, *, get_rails: Callable[[], Mapping[str, Any]] | None = None,
                 resolution_w: float = 0.125, name: str | None = None) -> None:
        if get_rails is None:
            try:
                pynq = importlib.import_module("pynq")
            except ImportError as exc:
                raise SensorError(f"PMBus rails need pynq ({exc})") from exc
            get_rails = getattr(pynq, "get_rails", None) or importlib.import_module("pynq.pmbus").get_rails
        try:
            found = dict(get_rails())
        except Exception as exc:
            raise SensorError(f"pynq.get_rails() failed: {type(exc).__name__}: {exc}") from exc
        if not found:
            raise SensorError("pynq.get_rails() found no PMBus rails on this board")
        if rails:
            missing = [r for r in rails if r not in found]
            if missing:
                raise SensorError(f"PMBus rails {missing} not found; this board has {sorted(found)}")
            self.rails = {r: found[r] for r in rails}
        else:
            self.rails = {k: v for k, v in found.items() if _rail_has_power(v)}
            self.note = "all rails summed (may double-count nested rails); name rails in the board file"
        self.resolution_w = float(resolution_w)
        self.name = name or "pmbus"

    def read_watts(self) -> float:
        return float(sum(_rail_power(name, rail) for name, rail in self.rails.items()))

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "rails": sorted(self.rails)}


def _rail_has_power(rail: Any) -> bool:
    return getattr(rail, "power", None) is not None or (
        getattr(rail, "voltage", None) is not None and getattr(rail, "current", None) is not None)


def _rail_power(name: str, rail: Any) -> float:
    power = getattr(rail, "power", None)
    if power is not None:
        return float(power.value)
    volt, amp = getattr(rail, "voltage", None), getattr(rail, "current", None)
    if volt is None or amp is None:
        raise SensorError(f"rail {name!r} has neither power nor voltage+current")
    return float(volt.value) * float(amp.value)


# ---------------------------------------------------------------------------------------------
# Linux hwmon
# ---------------------------------------------------------------------------------------------

class HwmonSensor(PowerSensor):
    """Sum of ``power*_input`` (microwatts) of hwmon devices whose ``name`` matches.

    ``names`` are device names or shell patterns (``ina226*``); ``channels`` optionally limits to
    file stems (``power1``). Devices that only expose ``power*_average`` are read from that.
    ``root`` is injectable so tests can build a fake tree.
    """

    min_interval_s = 0.002

    def __init__(self, names: Sequence[str] | None = None, *, channels: Sequence[str] | None = None,
                 root: str | os.PathLike[str] = "/sys/class/hwmon", resolution_w: float = 0.001,
                 name: str | None = None) -> None:
        root = Path(root)
        seen: dict[str, str] = {}
        files: list[Path] = []
        for dev in sorted(root.glob("hwmon*")):
            try:
                dev_name = (dev / "name").read_text().strip()
            except OSError:
                continue
            seen[dev.name] = dev_name
            if names and not any(fnmatch.fnmatch(dev_name, pat) for pat in names):
                continue
            found = _power_files(dev, "_input") or _power_files(dev, "_average")
            if channels:
                found = [f for f in found if f.name.rsplit("_", 1)[0] in channels]
            files.extend(found)
        if not files:
            raise SensorError(f"no hwmon power files under {root} for names {list(names or ['*'])} "
                              f"(devices found: {sorted(set(seen.values())) or 'none'})")
        self.files = files
        self.resolution_w = float(resolution_w)
        self.name = name or ("hwmon:" + "+".join(names) if names else "hwmon")

    def read_watts(self) -> float:
        total_uw = 0
        for f in self.files:
            try:
                total_uw += int(f.read_text().strip())
            except (OSError, ValueError) as exc:
                raise SensorError(f"reading {f} failed: {exc}") from exc
        return total_uw / 1e6

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "files": [str(f) for f in self.files]}


def _power_files(dev: Path, suffix: str) -> list[Path]:
    return sorted(Path(p) for p in glob.glob(str(dev / f"power*{suffix}")))


# ---------------------------------------------------------------------------------------------
# XRT (Alveo)
# ---------------------------------------------------------------------------------------------

def _run_command(argv: Sequence[str], timeout_s: float) -> str:
    """Default command runner: list argv, no shell, return code checked."""
    try:
        proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout_s, check=False)
    except FileNotFoundError as exc:
        raise SensorError(f"{argv[0]} not found on PATH (install XRT and source its setup.sh)") from exc
    except subprocess.TimeoutExpired as exc:
        raise SensorError(f"{' '.join(argv)} did not answer within {timeout_s:g} s") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-5:]
        raise SensorError(f"{' '.join(argv)} exited with {proc.returncode}: " + " | ".join(tail))
    return proc.stdout


def parse_xbutil_electrical(text: str) -> float:
    """Board power in watts from ``xbutil examine -r electrical`` JSON (any XRT 2.x layout).

    Uses ``power_consumption_watts`` wherever it sits in the document; without it, the sum of
    ``voltage.volts x current.amps`` over present ``power_rails``.
    """
    start = text.find("{")
    if start < 0:
        raise SensorError("xbutil output has no JSON object")
    try:
        doc = json.loads(text[start:])
    except json.JSONDecodeError as exc:
        raise SensorError(f"xbutil JSON unreadable: {exc}") from exc
    for node in _walk(doc):
        if "power_consumption_watts" in node:
            try:
                return float(node["power_consumption_watts"])
            except (TypeError, ValueError):
                break  # "N/A" and friends: try the rails
    total, any_rail = 0.0, False
    for node in _walk(doc):
        for rail in node.get("power_rails", []) or []:
            try:
                cur = rail.get("current", {})
                if str(cur.get("is_present", "true")).lower() == "false":
                    continue
                total += float(rail["voltage"]["volts"]) * float(cur["amps"])
                any_rail = True
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
    if not any_rail:
        raise SensorError("xbutil electrical report has neither power_consumption_watts nor usable power_rails")
    return total


def _walk(node: Any) -> Iterable[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


class XrtSensor(PowerSensor):
    """Alveo card power via ``xbutil``. Each read runs the tool (~0.5 s), hence ``min_interval_s``.

    ``run(argv) -> stdout`` is injectable for tests; argv is a list (never a shell string).
    ``xbutil`` writes JSON to ``--output FILE``; we read that file, or stdout when it is absent.
    """

    min_interval_s = 1.0

    def __init__(self, device: str | None = None, *, run: Callable[[Sequence[str]], str] | None = None,
                 xbutil: str = "xbutil", timeout_s: float = 15.0, resolution_w: float = 0.05,
                 name: str | None = None) -> None:
        self.device = device
        self.xbutil = xbutil
        self.timeout_s = float(timeout_s)
        self._run = run or (lambda argv: _run_command(argv, self.timeout_s))
        self._tmp = tempfile.TemporaryDirectory(prefix="hwflow-xrt-")
        self._count = 0
        self.resolution_w = float(resolution_w)
        self.name = name or "xrt"
        self.read_watts()  # fail at set-up, not in the middle of a run

    def argv(self, output: str) -> list[str]:
        cmd = [self.xbutil, "examine", "-r", "electrical", "--format", "JSON", "--output", output]
        if self.device:
            cmd[2:2] = ["-d", self.device]
        return cmd

    def read_watts(self) -> float:
        self._count += 1
        out = os.path.join(self._tmp.name, f"electrical-{self._count}.json")
        stdout = self._run(self.argv(out))
        if os.path.exists(out) and os.path.getsize(out) > 0:
            with open(out, encoding="utf-8") as fh:
                text = fh.read()
            os.remove(out)
        else:
            text = stdout or ""
        return parse_xbutil_electrical(text)

    def close(self) -> None:
        self._tmp.cleanup()


# ---------------------------------------------------------------------------------------------
# External meter log
# ---------------------------------------------------------------------------------------------

_TIME_COLUMNS = ("timestamp", "time", "t", "epoch", "datetime", "date_time", "time_s")
_WATT_COLUMNS = ("watts", "power_w", "power", "w", "p_w", "power (w)")


def _parse_time(text: str) -> float:
    """Epoch seconds, or ISO 8601 (``Z``/offset honoured; naive = local time)."""
    s = text.strip()
    try:
        return float(s)
    except ValueError:
        pass
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    dt = datetime.fromisoformat(s)
    return dt.timestamp() if dt.tzinfo else dt.astimezone().timestamp()


class CsvMeterLog(PowerSensor):
    """A power meter's CSV log with a time column and a watts column (header row required).

    The meter runs on its own clock, so samples are read *after* the run (``posthoc``) and placed
    on the recorder's timeline through wall-clock time: ``t_epoch + clock_offset_s``. Columns are
    found by name (``timestamp``/``time``/``t`` and ``watts``/``power_w``/``power``) unless given;
    a log with ``volts`` and ``amps`` but no watts column is multiplied out.
    ``read_watts()`` returns the newest row, for a log that is being written during the run.
    """

    posthoc = True

    def __init__(self, path: str | os.PathLike[str], *, time_column: str | None = None,
                 watts_column: str | None = None, clock_offset_s: float = 0.0,
                 resolution_w: float = 0.001, name: str | None = None) -> None:
        self.path = Path(path)
        self.time_column = time_column
        self.watts_column = watts_column
        self.clock_offset_s = float(clock_offset_s)
        self.resolution_w = float(resolution_w)
        self.name = name or "meter"

    def rows(self) -> list[tuple[float, float]]:
        """All samples as ``(epoch seconds + clock_offset_s, watts)``, sorted by time."""
        try:
            with open(self.path, newline="", encoding="utf-8-sig") as fh:
                reader = csv.DictReader(fh)
                header = {h.strip().lower(): h for h in (reader.fieldnames or [])}
                tcol = self._column(header, self.time_column, _TIME_COLUMNS, "time")
                wcol = self._column(header, self.watts_column, _WATT_COLUMNS, None)
                vcol, acol = header.get("volts") or header.get("voltage"), header.get("amps") or header.get("current")
                if wcol is None and not (vcol and acol):
                    raise SensorError(f"{self.path}: no watts column (looked for {_WATT_COLUMNS} or volts+amps); "
                                      f"columns are {list(header.values())}")
                out: list[tuple[float, float]] = []
                for i, row in enumerate(reader, start=2):
                    try:
                        t = _parse_time(row[tcol])
                        w = float(row[wcol]) if wcol else float(row[vcol]) * float(row[acol])  # type: ignore[index]
                    except (TypeError, ValueError, KeyError):
                        continue  # meters write partial last lines and comment rows; skip them
                    out.append((t + self.clock_offset_s, w))
        except OSError as exc:
            raise SensorError(f"cannot read meter log {self.path}: {exc}") from exc
        out.sort()
        return out

    def _column(self, header: dict[str, str], given: str | None, names: Sequence[str], what: str | None) -> str | None:
        if given:
            if given.strip().lower() not in header:
                raise SensorError(f"{self.path}: column {given!r} not found; columns are {list(header.values())}")
            return header[given.strip().lower()]
        for n in names:
            if n in header:
                return header[n]
        if what:
            raise SensorError(f"{self.path}: no {what} column (looked for {names}); columns are {list(header.values())}")
        return None

    def read_watts(self) -> float:
        rows = self.rows()
        if not rows:
            raise SensorError(f"meter log {self.path} has no samples")
        return rows[-1][1]

    def samples_between(self, t0_epoch: float, t1_epoch: float) -> list[tuple[float, float]]:
        return [(t, w) for t, w in self.rows() if t0_epoch <= t <= t1_epoch]


# ---------------------------------------------------------------------------------------------
# Simulated (emulated board)
# ---------------------------------------------------------------------------------------------

class SimulatedSensor(PowerSensor):
    """Power model for the emulated board: ``idle_w`` outside active phases, ``active_w`` in them,
    Gaussian ``noise_w``, readings rounded to ``resolution_w``. Its figures are *emulated*, never
    a measurement; ``emulated = True`` makes the energy code label them so."""

    emulated = True
    follows_phases = True

    def __init__(self, idle_w: float = 1.5, active_w: float = 1.6, *, noise_w: float = 0.0,
                 resolution_w: float = 0.001, active_phases: Sequence[str] = ("warmup", "run"),
                 seed: int | None = 0, name: str = "simulated",
                 phase_w: Mapping[str, float] | None = None) -> None:
        if idle_w < 0 or active_w < 0 or noise_w < 0 or resolution_w < 0:
            raise ValueError("power model values must be >= 0")
        # phase_w: power per phase (issue 15: idle / warm-up with batch-1 calls / run at the
        # run batch differ); phases it does not name fall back to idle_w / active_w.
        self.phase_w = {str(k): float(v) for k, v in (phase_w or {}).items() if v is not None and float(v) >= 0}
        self.idle_w, self.active_w, self.noise_w = float(idle_w), float(active_w), float(noise_w)
        self.resolution_w = float(resolution_w)
        self.active_phases = tuple(active_phases)
        self._rng = random.Random(seed)
        self._phase = "idle"
        self.name = name
        self.note = f"power model idle {self.idle_w:g} W / active {self.active_w:g} W (not measured)"

    def set_phase(self, phase: str) -> None:
        self._phase = phase

    def read_watts(self) -> float:
        w = self.phase_w.get(self._phase)
        if w is None:
            w = self.active_w if self._phase in self.active_phases else self.idle_w
        if self.noise_w:
            w += self._rng.gauss(0.0, self.noise_w)
        if self.resolution_w:
            w = round(w / self.resolution_w) * self.resolution_w
        return max(0.0, w)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "idle_w": self.idle_w, "active_w": self.active_w, "noise_w": self.noise_w,
                **({"phase_w": dict(self.phase_w)} if self.phase_w else {})}


# ---------------------------------------------------------------------------------------------
# From a board file's ``power:`` block
# ---------------------------------------------------------------------------------------------

def make_sensor(spec: Mapping[str, Any] | None, *, emulated: bool = False,
                meter_csv: str | os.PathLike[str] | None = None) -> PowerSensor:
    """Build the sensor a board's ``power:`` block asks for.

    ``{"method": "pmbus"|"hwmon"|"xrt"|"external"|"none", "rails": [...], "resolution_w": ...}``.
    ``emulated=True`` gives a :class:`SimulatedSensor` from ``spec["simulated"]`` (keys of its
    constructor), with ``idle_w`` defaulting to the board's known idle power. Set-up failures raise
    :class:`SensorError`; callers that must not fail wrap them into :class:`NoSensor`.
    """
    spec = dict(spec or {})
    if emulated:
        model = dict(spec.get("simulated") or {})
        if spec.get("idle_w") is not None:
            model.setdefault("idle_w", float(spec["idle_w"]))
            model.setdefault("active_w", float(spec["idle_w"]) + 0.1)
        return SimulatedSensor(**model)
    method = str(spec.get("method") or "none").lower()
    rails = list(spec.get("rails") or [])
    res = spec.get("resolution_w")
    kw: dict[str, Any] = {} if res is None else {"resolution_w": float(res)}
    if method == "pmbus":
        return PmbusSensor(rails or None, **kw)
    if method == "hwmon":
        return HwmonSensor(rails or None, root=spec.get("hwmon_root", "/sys/class/hwmon"), **kw)
    if method == "xrt":
        return XrtSensor(spec.get("device"), **kw)
    if method == "external":
        path = meter_csv or spec.get("meter_csv")
        if not path:
            return NoSensor("external meter: no log on the board; align the meter's CSV on the host "
                            "with energy.align_meter_log() using deploy.json's phases")
        return CsvMeterLog(path, clock_offset_s=float(spec.get("clock_offset_s", 0.0)), **kw)
    if method == "none":
        return NoSensor("board has no power sensor (power.method: none)")
    raise SensorError(f"unknown power method {method!r}; expected pmbus, hwmon, xrt, external or none")


def utc_now_iso() -> str:
    """Wall-clock stamp used in deploy.json (kept here so runtime needs no other helper module)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")  # noqa: UP017 - datetime.UTC is 3.11+
