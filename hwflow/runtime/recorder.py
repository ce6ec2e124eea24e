"""Background power recording with phase marks (idle, warmup, run).

A daemon thread reads the sensor every ``interval_s`` and stamps each reading with
``time.monotonic()`` (the midpoint of the read, because some reads - ``xbutil`` - take long).
The main thread marks phase changes on the same clock; energy for a phase is then an integral of
the samples between its marks (see :mod:`.energy`).

Failure policy, because a measurement must never take the inference down with it: a sensor that
raises (or returns a non-finite value) stops the recording; the samples so far are kept and the
error is reported in :attr:`Recording.error`. ``stop()`` never blocks longer than its join timeout,
even when a read is stuck.

Only the standard library is imported: this file ships to the board.
"""

from __future__ import annotations

import bisect
import contextlib
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

#: Phase names used by :func:`.energy.measure`; others are allowed.
PHASES = ("idle", "warmup", "run", "cooldown")
END = "end"


@dataclass
class Recording:
    """What a :class:`Recorder` produced. Times are ``time.monotonic()`` seconds."""

    sensor: str
    interval_s: float
    samples: list[tuple[float, float]] = field(default_factory=list)  # (t, watts)
    marks: list[tuple[float, str]] = field(default_factory=list)  # (t, phase); last is "end"
    wall_anchor: tuple[float, float] = (0.0, 0.0)  # (time.time(), time.monotonic()) read together
    error: str | None = None
    note: str = ""

    @property
    def t0(self) -> float:
        return self.marks[0][0] if self.marks else (self.samples[0][0] if self.samples else 0.0)

    def to_wall(self, t_mono: float) -> float:
        wall, mono = self.wall_anchor
        return t_mono - mono + wall

    def from_wall(self, t_epoch: float) -> float:
        wall, mono = self.wall_anchor
        return t_epoch - wall + mono

    def phase_at(self, t: float) -> str:
        """Phase in effect at time ``t`` (before the first mark: the first phase)."""
        if not self.marks:
            return "idle"
        times = [m[0] for m in self.marks]
        i = bisect.bisect_right(times, t) - 1
        if i > 0 and self.marks[i][1] == END and t == times[i]:
            i -= 1  # a sample exactly at the end still belongs to the last phase
        return self.marks[max(i, 0)][1]

    def windows(self, phase: str) -> list[tuple[float, float]]:
        """All ``[start, end)`` intervals spent in ``phase`` (a phase may recur)."""
        out = []
        for (t_a, p), (t_b, _) in zip(self.marks, self.marks[1:]):
            if p == phase and t_b > t_a:
                out.append((t_a, t_b))
        return out

    def phase_table(self) -> list[dict[str, Any]]:
        """Phases with monotonic and wall-clock bounds (lets a host align an external meter log)."""
        rows = []
        for (t_a, p), (t_b, _) in zip(self.marks, self.marks[1:]):
            rows.append({"phase": p, "t_start_s": t_a - self.t0, "t_end_s": t_b - self.t0,
                         "wall_start": self.to_wall(t_a), "wall_end": self.to_wall(t_b)})
        return rows

    def rows(self) -> list[tuple[float, float, str]]:
        """``(t seconds from the first mark, watts, phase)`` for power.csv."""
        t0 = self.t0
        return [(t - t0, w, self.phase_at(t)) for t, w in self.samples]


class Recorder:
    """Samples ``sensor`` in a thread between :meth:`start` and :meth:`stop`.

    ``with Recorder(sensor, 0.05) as rec: rec.mark("warmup"); ...`` then ``rec.result``.
    Sensors with ``available = False`` (:class:`.sensors.NoSensor`) are not polled; sensors with
    ``posthoc = True`` (a meter log) are read once at :meth:`stop` and placed by wall-clock time.
    """

    def __init__(self, sensor: Any, interval_s: float = 0.05, *, max_samples: int = 2_000_000,
                 join_timeout_s: float | None = None) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be > 0")
        self.sensor = sensor
        self.interval_s = float(interval_s)
        self.max_samples = int(max_samples)
        self.join_timeout_s = join_timeout_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rec = Recording(sensor=str(getattr(sensor, "name", "sensor")), interval_s=self.interval_s,
                              note=str(getattr(sensor, "note", "") or ""))
        self.result: Recording | None = None

    # -- control --------------------------------------------------------------------------
    def start(self, phase: str = "idle") -> Recorder:
        if self._thread is not None or self._rec.marks:
            raise RuntimeError("recorder already started")
        self._rec.wall_anchor = (time.time(), time.monotonic())
        self.mark(phase)
        if getattr(self.sensor, "available", True) and not getattr(self.sensor, "posthoc", False):
            self._thread = threading.Thread(target=self._loop, name="power-recorder", daemon=True)
            self._thread.start()
        return self

    def mark(self, phase: str) -> None:
        """Start a new phase now."""
        with self._lock:
            self._rec.marks.append((time.monotonic(), phase))
            with contextlib.suppress(Exception):  # a phase hint must never break a run
                self.sensor.set_phase(phase)

    def stop(self) -> Recording:
        """End the recording (idempotent) and return it."""
        if self.result is not None:
            return self.result
        self.mark(END)
        self._stop.set()
        if self._thread is not None:
            timeout = self.join_timeout_s
            if timeout is None:
                timeout = max(2.0, 3 * self.interval_s, 2 * float(getattr(self.sensor, "timeout_s", 0.0)))
            self._thread.join(timeout)
            if self._thread.is_alive():
                with self._lock:
                    self._rec.error = self._rec.error or (
                        f"{self._rec.sensor}: a sensor read did not return within {timeout:g} s; "
                        "recording stopped, samples so far kept")
        elif getattr(self.sensor, "posthoc", False) and getattr(self.sensor, "available", True):
            self._load_posthoc()
        with self._lock:
            self.result = Recording(sensor=self._rec.sensor, interval_s=self.interval_s,
                                    samples=list(self._rec.samples), marks=list(self._rec.marks),
                                    wall_anchor=self._rec.wall_anchor, error=self._rec.error,
                                    note=self._rec.note)
        return self.result

    def __enter__(self) -> Recorder:  # noqa: PYI034 - typing.Self needs Python 3.11
        if not self._rec.marks:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- state for the caller -------------------------------------------------------------
    @property
    def error(self) -> str | None:
        with self._lock:
            return self._rec.error

    @property
    def sample_count(self) -> int:
        with self._lock:
            return len(self._rec.samples)

    def samples_since(self, t: float) -> int:
        """Samples taken at or after monotonic time ``t`` (to decide if a window is long enough)."""
        with self._lock:
            times = [s[0] for s in self._rec.samples]
        return len(times) - bisect.bisect_left(times, t)

    def last_mark_time(self) -> float:
        with self._lock:
            return self._rec.marks[-1][0]

    # -- internals ------------------------------------------------------------------------
    def _read(self) -> tuple[float, float]:
        t_a = time.monotonic()
        watts = float(self.sensor.read_watts())
        if not math.isfinite(watts):
            raise ValueError(f"non-finite reading {watts!r}")
        return (t_a + time.monotonic()) / 2.0, watts

    def _loop(self) -> None:
        # A power model switches state on mark(); reading it under the lock keeps each sample's
        # value and its phase consistent. Real sensors are read unlocked: a slow read (xbutil)
        # must not delay a mark.
        phase_model = bool(getattr(self.sensor, "follows_phases", False))
        next_t = time.monotonic()
        while not self._stop.is_set():
            try:
                if phase_model:
                    with self._lock:
                        sample = self._read()
                else:
                    sample = self._read()
            except Exception as exc:  # noqa: BLE001 - any sensor failure ends the recording, not the run
                with self._lock:
                    self._rec.error = (f"{self._rec.sensor}: {type(exc).__name__}: {exc} "
                                       f"(after {len(self._rec.samples)} samples; recording stopped)")
                return
            with self._lock:
                self._rec.samples.append(sample)
                if len(self._rec.samples) >= self.max_samples:
                    self._rec.error = f"{self._rec.sensor}: max_samples={self.max_samples} reached; recording stopped"
                    return
            next_t += self.interval_s
            now = time.monotonic()
            next_t = max(next_t, now)  # after a slow read, skip missed ticks instead of bursting
            self._stop.wait(next_t - now)

    def _load_posthoc(self) -> None:
        rec = self._rec
        try:
            rows = self.sensor.rows()
        except Exception as exc:  # noqa: BLE001 - a bad meter log is reported, not raised
            rec.error = f"{rec.sensor}: {type(exc).__name__}: {exc}"
            return
        t_first, t_last = rec.marks[0][0], rec.marks[-1][0]
        margin = 5.0 * self.interval_s + 1.0  # keep neighbours so edges interpolate
        samples = [(rec.from_wall(t), w) for t, w in rows]
        rec.samples = [(t, w) for t, w in samples if t_first - margin <= t <= t_last + margin]
        if not rec.samples:
            span = (f"{rec.to_wall(t_first):.3f}..{rec.to_wall(t_last):.3f}")
            rec.error = (f"{rec.sensor}: the meter log has no samples in the run's wall-clock span {span} "
                         "(epoch s); check the meter's clock or clock_offset_s")
