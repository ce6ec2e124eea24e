"""Energy per inference from a power trace, and the idle -> warm-up -> run measurement.

Definitions (all on the ``time.monotonic()`` clock of :mod:`.recorder`):

* **Energy of a phase window** ``[a, b]``: trapezoid integral over the samples inside it, with the
  first/last inside sample held out to ``a``/``b`` - power steps at a phase mark (the workload
  starts right after it), and holding from the inside keeps each phase's power out of its
  neighbour's energy. :func:`integrate` can also interpolate at the edges (exact for ramps).
* **Mean power** of a phase = its energy / its duration (time-weighted, not a plain sample mean).
* **Idle baseline** = mean power of the ``idle`` phase (needs >= 2 samples: idle is steady).
* **Coverage**: run-phase energy is reported only when no stretch of the window longer than
  max(10 sample intervals, 10 % of the window) lacks samples - a busy OS may delay the recorder,
  but a sensor that died mid-run leaves the rest of the window empty. Otherwise it is None, with
  a note (never a number extrapolated from part of the run).
* **Energy per inference**: total = E_run / n; dynamic (above idle) = (E_run - P_idle * T_run) / n.

Uncertainty (one standard uncertainty, stated so it can be checked)::

    u(P) = sqrt( s**2 / N  +  u_res**2 )
    u_res = r / sqrt(12) / sqrt(N)   if s >= r / 2   (readings move over several codes: quantisation
                                                      errors decorrelate and average down)
    u_res = r / sqrt(12)             otherwise       (a steady reading sits on one code: its error is
                                                      systematic and does not average out)
    u(E_total / n)   = u(P_run) * T_run / n
    u(E_dynamic / n) = sqrt( u(P_run)**2 + u(P_idle)**2 ) * T_run / n

with ``N`` the samples inside the window, ``s`` their standard deviation (ddof=1) and ``r`` the
sensor resolution. Timing error is neglected (monotonic clock, windows of seconds).
This is why long windows matter on boards such as the ZCU104 (r ~ 1/8 W): the s/sqrt(N) and the
dithered r/sqrt(12 N) terms shrink with the number of samples; :func:`repetitions_needed` picks a
repetition count that gives enough samples.

Only the standard library and numpy are imported: this file ships to the board.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Tuple  # noqa: UP035 - Tuple: the alias below must evaluate on Python 3.8

import numpy as np

from .recorder import END, Recorder, Recording
from .sensors import NoSensor

Sample = Tuple[float, float]  # noqa: UP006 - (monotonic s, watts); tuple[...] fails on Python 3.8


# ---------------------------------------------------------------------------------------------
# Integration and statistics
# ---------------------------------------------------------------------------------------------

def _arrays(samples: Sequence[Sample]) -> tuple[np.ndarray, np.ndarray]:
    if len(samples) == 0:
        return np.empty(0), np.empty(0)
    a = np.asarray(samples, dtype=np.float64)
    order = np.argsort(a[:, 0], kind="stable")
    return a[order, 0], a[order, 1]


def _trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    # numpy renamed trapz -> trapezoid in 2.0; this works on 1.x and 2.x alike.
    if len(x) < 2:
        return 0.0
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) * 0.5))


def integrate(samples: Sequence[Sample], t0: float, t1: float, *, edges: str = "interpolate") -> float:
    """Energy in joules over ``[t0, t1]``: trapezoid over the samples inside, plus end points.

    ``edges="interpolate"``: the end points are the linear interpolant at ``t0``/``t1`` (exact
    for a linear trace). ``edges="hold"``: the first/last sample inside the window is held out to
    the edge - exact when power steps *at* the edge, which is what a phase mark is (the workload
    starts right after the mark), so phase energies use it. Where two samples share the edge time
    (a step written as two points) the one on the window's side is used. With no sample inside,
    ``hold`` falls back to interpolation; outside the sampled span the nearest sample is held
    (check :func:`covers` before trusting such a window).
    """
    if t1 < t0:
        raise ValueError("window end before start")
    if edges not in ("interpolate", "hold"):
        raise ValueError("edges must be 'interpolate' or 'hold'")
    t, w = _arrays(samples)
    if len(t) == 0:
        raise ValueError("no samples")
    inside = (t > t0) & (t < t1)
    start, end = _value_at(t, w, t0, after=True), _value_at(t, w, t1, after=False)
    if edges == "hold" and inside.any():
        idx = np.flatnonzero(inside)
        if not np.any(t == t0):  # a sample at t0 already is this phase's start value
            start = float(w[idx[0]])
        if np.count_nonzero(t == t1) < 2:  # one sample at t1 belongs to the next phase
            end = float(w[idx[-1]])
    x = np.concatenate(([t0], t[inside], [t1]))
    y = np.concatenate(([start], w[inside], [end]))
    return _trapezoid(y, x)


def _value_at(t: np.ndarray, w: np.ndarray, x: float, *, after: bool) -> float:
    """Linear interpolation at ``x``; where samples share the time ``x`` (a step written as two
    points), the value on the window's side: the later one at a start, the earlier at an end."""
    if after:
        i = int(np.searchsorted(t, x, side="right"))
        if i > 0 and t[i - 1] == x:
            return float(w[i - 1])
    else:
        i = int(np.searchsorted(t, x, side="left"))
        if i < len(t) and t[i] == x:
            return float(w[i])
    return float(np.interp(x, t, w))


def largest_gap(samples: Sequence[Sample], t0: float, t1: float) -> float:
    """Longest stretch of ``[t0, t1]`` without a sample (window edges count as ends of a gap)."""
    t, _ = _arrays(samples)
    pts = np.concatenate(([t0], t[(t > t0) & (t < t1)], [t1]))
    return float(np.max(np.diff(pts))) if len(pts) > 1 else 0.0


def covers(samples: Sequence[Sample], t0: float, t1: float, max_gap_s: float) -> bool:
    """True when no stretch of ``[t0, t1]`` longer than ``max_gap_s`` lacks samples - a sensor
    that died (or a meter log that ends) before the window closed leaves such a stretch."""
    return largest_gap(samples, t0, t1) <= max_gap_s + 1e-12


def power_uncertainty(std_w: float, n_samples: int, resolution_w: float) -> float:
    """Standard uncertainty of a window's mean power (formula in the module docstring)."""
    n = max(int(n_samples), 1)
    r = float(resolution_w or 0.0)
    u_res = r / math.sqrt(12.0)
    if r > 0 and std_w >= r / 2:
        u_res /= math.sqrt(n)
    return math.sqrt(float(std_w) ** 2 / n + u_res ** 2)


@dataclass
class PhaseStats:
    """Energy and mean power of one phase (possibly several windows)."""

    phase: str
    seconds: float = 0.0
    energy_j: float | None = None
    mean_w: float | None = None
    std_w: float = 0.0
    n_samples: int = 0
    uncertainty_w: float | None = None
    covered: bool = False
    largest_gap_s: float = 0.0


def phase_stats(samples: Sequence[Sample], windows: Sequence[tuple[float, float]], *,
                resolution_w: float, max_gap_s: float, phase: str = "") -> PhaseStats:
    """Integrate ``samples`` over ``windows`` and attach mean power and its uncertainty."""
    st = PhaseStats(phase=phase, seconds=float(sum(b - a for a, b in windows)))
    if not windows or st.seconds <= 0 or len(samples) == 0:
        return st
    t, w = _arrays(samples)
    mask = np.zeros(len(t), dtype=bool)
    for a, b in windows:
        # The phase's own samples: those strictly inside, and the last one stamped exactly at
        # its start (a sample at its end belongs to the next phase, as in Recording.phase_at).
        mask |= (t > a) & (t < b)
        at_start = np.flatnonzero(t == a)
        if len(at_start):
            mask[at_start[-1]] = True
    st.n_samples = int(mask.sum())
    st.largest_gap_s = max(largest_gap(samples, a, b) for a, b in windows)
    st.covered = st.largest_gap_s <= max_gap_s + 1e-12
    if st.n_samples == 0:
        return st
    st.energy_j = float(sum(integrate(samples, a, b, edges="hold") for a, b in windows))
    st.mean_w = st.energy_j / st.seconds
    st.std_w = float(np.std(w[mask], ddof=1)) if st.n_samples > 1 else 0.0
    st.uncertainty_w = power_uncertainty(st.std_w, st.n_samples, resolution_w)
    return st


# ---------------------------------------------------------------------------------------------
# How long to run
# ---------------------------------------------------------------------------------------------

def samples_needed(resolution_w: float, target_uncertainty_w: float | None, min_samples: int = 100) -> int:
    """Samples for the dithered resolution term r/sqrt(12 N) to reach ``target_uncertainty_w``."""
    n = int(min_samples)
    if resolution_w and target_uncertainty_w:
        n = max(n, math.ceil(resolution_w ** 2 / (12.0 * target_uncertainty_w ** 2)))
    return max(n, 2)


def repetitions_needed(seconds_per_repetition: float, *, sample_interval_s: float, resolution_w: float = 0.0,
                       target_uncertainty_w: float | None = None, min_samples: int = 100,
                       min_seconds: float = 1.0, max_repetitions: int = 10_000_000) -> int:
    """Repetitions of a batch so that the run window holds enough samples.

    window = max(min_seconds, N * sample_interval_s) with N = :func:`samples_needed`;
    repetitions = ceil(window / seconds_per_repetition), at least 1. Example: ZCU104 rails
    (r = 0.125 W) read every 50 ms, target 0.002 W -> N = 326 samples -> a 16.3 s run window.
    """
    if seconds_per_repetition <= 0:
        seconds_per_repetition = 1e-9
    n = samples_needed(resolution_w, target_uncertainty_w, min_samples)
    window = max(float(min_seconds), n * float(sample_interval_s))
    return int(min(max(1, math.ceil(window / seconds_per_repetition)), max_repetitions))


# ---------------------------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------------------------

def _windows(marks: Sequence[tuple[float, str]], phase: str) -> list[tuple[float, float]]:
    return [(a, b) for (a, p), (b, _) in zip(marks, marks[1:]) if p == phase and b > a]  # noqa: RUF007 - 3.8


def _round(v: float | None, digits: int = 12) -> float | None:
    """Trim float noise for JSON: ``digits`` significant digits."""
    return None if v is None or not math.isfinite(v) else float(f"{v:.{digits}g}")


def energy_summary(samples: Sequence[Sample], marks: Sequence[tuple[float, str]], *, n_inferences: int,
                   resolution_w: float, interval_s: float) -> dict[str, Any]:
    """Idle/run power, energy per inference (total and above idle) with uncertainties.

    Figures that the samples cannot support (no idle samples, run window not covered) are None,
    and ``notes`` says why.
    """
    t_arr, _ = _arrays(samples)
    spacing = float(np.median(np.diff(t_arr))) if len(t_arr) > 2 else float(interval_s)
    step = max(float(interval_s), spacing)

    def stats(phase: str) -> PhaseStats:
        # A phase counts as covered when no stretch longer than 10 sample intervals, or 10 % of
        # its length, lacks samples: tolerant of a busy OS delaying the recorder thread, strict
        # about a sensor that stopped (its silence lasts until the end of the window).
        wins = _windows(marks, phase)
        length = sum(b - a for a, b in wins)
        return phase_stats(samples, wins, resolution_w=resolution_w, phase=phase,
                           max_gap_s=max(10.0 * step, 0.1 * length))

    idle, run = stats("idle"), stats("run")
    # Idle power is steady by construction (nothing runs), so its mean needs samples, not full
    # coverage; the run's energy needs the whole window.
    idle.covered = idle.n_samples >= 2
    notes: list[str] = []
    out: dict[str, Any] = {
        "power_idle_w": None, "power_idle_w_uncertainty": None, "power_active_w": None,
        "power_active_w_uncertainty": None, "energy_uj_per_inference": None,
        "energy_uj_per_inference_uncertainty": None, "energy_dynamic_uj_per_inference": None,
        "energy_dynamic_uj_per_inference_uncertainty": None, "inferences_per_joule": None,
        "samples": len(samples), "samples_idle": idle.n_samples, "samples_run": run.n_samples,
        "largest_gap_run_s": _round(run.largest_gap_s) if run.seconds > 0 and len(samples) else None,
    }
    if idle.mean_w is not None and idle.covered:
        out["power_idle_w"] = _round(idle.mean_w)
        out["power_idle_w_uncertainty"] = _round(idle.uncertainty_w)
    elif idle.seconds > 0:
        notes.append("fewer than 2 samples in the idle phase: no idle baseline")
    if run.mean_w is None or not run.covered or n_inferences <= 0:
        if run.seconds > 0:
            notes.append("run phase not covered by samples: energy not computed")
        out["notes"] = notes
        return out
    per = 1e6 / n_inferences  # J -> uJ per inference
    out["power_active_w"] = _round(run.mean_w)
    out["power_active_w_uncertainty"] = _round(run.uncertainty_w)
    out["energy_uj_per_inference"] = _round(run.energy_j * per)
    out["energy_uj_per_inference_uncertainty"] = _round(run.uncertainty_w * run.seconds * per)
    if run.energy_j > 0:
        out["inferences_per_joule"] = _round(n_inferences / run.energy_j)
    if out["power_idle_w"] is not None:
        dyn_j = run.energy_j - idle.mean_w * run.seconds  # type: ignore[operator]
        out["energy_dynamic_uj_per_inference"] = _round(dyn_j * per)
        u = math.hypot(run.uncertainty_w or 0.0, idle.uncertainty_w or 0.0)
        out["energy_dynamic_uj_per_inference_uncertainty"] = _round(u * run.seconds * per)
    if run.n_samples < 10:
        notes.append(f"only {run.n_samples} samples in the run phase: lengthen the run window")
    out["notes"] = notes
    return out


def align_meter_log(rows_epoch: Sequence[Sample], phases: Sequence[Mapping[str, Any]], *, n_inferences: int,
                    resolution_w: float, interval_s: float = 1.0,
                    ) -> tuple[dict[str, Any], list[tuple[float, float, str]]]:
    """Energy from an external meter's log recorded on another machine (e.g. for PYNQ-Z2).

    ``rows_epoch``: ``(epoch seconds, watts)`` from the meter (correct its clock first);
    ``phases``: deploy.json's ``measurement.phases`` (``phase``, ``wall_start``, ``wall_end``).
    Returns (the :func:`energy_summary` dict, trace rows ``(t, watts, phase)`` for power.csv).
    """
    if not phases:
        raise ValueError("no phases to align to")
    marks = [(float(p["wall_start"]), str(p["phase"])) for p in phases]
    marks.append((float(phases[-1]["wall_end"]), END))
    rec = Recording(sensor="meter", interval_s=interval_s, samples=[(float(t), float(w)) for t, w in rows_epoch],
                    marks=marks, wall_anchor=(0.0, 0.0))
    lo, hi = marks[0][0] - 2 * interval_s, marks[-1][0] + 2 * interval_s
    rec.samples = [s for s in rec.samples if lo <= s[0] <= hi]
    summary = energy_summary(rec.samples, marks, n_inferences=n_inferences, resolution_w=resolution_w,
                             interval_s=interval_s)
    return summary, rec.rows()


# ---------------------------------------------------------------------------------------------
# The measurement
# ---------------------------------------------------------------------------------------------

@dataclass
class Measurement:
    """Result of :func:`measure`: the outputs of the last run, the summary, the trace rows."""

    outputs: np.ndarray
    summary: dict[str, Any]
    trace: list[tuple[float, float, str]] = field(default_factory=list)
    recording: Recording | None = None


def _predictor(driver: Any) -> Callable[[np.ndarray], np.ndarray]:
    if hasattr(driver, "predict"):
        return driver.predict
    if callable(driver):
        return driver
    raise TypeError("driver must have predict(x) or be callable")


def measure(driver: Any, x: np.ndarray, sensor: Any = None, *, interval_s: float | None = None,
            idle_s: float = 1.0, warmup_s: float = 0.2, min_run_s: float = 1.0, max_run_s: float = 60.0,
            min_samples: int = 100, target_uncertainty_w: float | None = None, batch1_calls: int = 20,
            cooldown_s: float = 0.0) -> Measurement:
    """Idle -> warm-up -> run, recording power throughout; returns outputs, summary and trace.

    The run repeats ``driver.predict(x)`` until the window is at least ``min_run_s`` long, holds
    the repetitions :func:`repetitions_needed` asks for and ``min_samples`` samples (or
    ``max_run_s`` is reached). A sensor failure does not stop the inference: the summary carries
    ``sensor_error`` and energy figures that the samples cannot support are None.
    Latency per inference = run window / inferences (batch throughput, host overhead included);
    ``latency_batch1_s`` is the median wall time of single-sample calls made during warm-up.
    """
    predict = _predictor(driver)
    x = np.asarray(x)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError("measure needs a non-empty batch")
    sensor = sensor if sensor is not None else NoSensor()
    polled = bool(getattr(sensor, "available", True)) and not getattr(sensor, "posthoc", False)
    if interval_s is None:
        interval_s = max(0.02, float(getattr(sensor, "min_interval_s", 0.0) or 0.0))
    resolution = float(getattr(sensor, "resolution_w", 0.0) or 0.0)
    recorder = Recorder(sensor, interval_s)
    recorder.start("idle")
    reps = 0
    batch1: list[float] = []
    try:
        time.sleep(max(0.0, idle_s))
        recorder.mark("warmup")
        t_w = time.monotonic()
        first = np.array(predict(x), copy=True)
        n_w = 1
        while time.monotonic() - t_w < warmup_s:
            predict(x)
            n_w += 1
        per_rep = (time.monotonic() - t_w) / n_w
        for _ in range(max(0, int(batch1_calls))):
            t_a = time.perf_counter()
            predict(x[:1])
            batch1.append(time.perf_counter() - t_a)
        want_reps = repetitions_needed(per_rep, sample_interval_s=interval_s, resolution_w=resolution,
                                       target_uncertainty_w=target_uncertainty_w,
                                       min_samples=min_samples if polled else 0, min_seconds=min_run_s)
        recorder.mark("run")
        t_run = recorder.last_mark_time()
        last = first
        while True:
            last = predict(x)
            reps += 1
            elapsed = time.monotonic() - t_run
            if elapsed >= max_run_s:
                break
            if reps < want_reps or elapsed < min_run_s:
                continue
            if polled and recorder.error is None and recorder.samples_since(t_run) < min_samples:
                continue
            break
        if cooldown_s > 0:
            recorder.mark("cooldown")
            time.sleep(cooldown_s)
    finally:
        recording = recorder.stop()
    n_inf = reps * len(x)
    run_windows = recording.windows("run")
    seconds = float(sum(b - a for a, b in run_windows))
    summary: dict[str, Any] = {
        "n_inferences": n_inf, "repetitions": reps, "batch_size": len(x), "seconds": _round(seconds),
        "latency_s_per_inference": _round(seconds / n_inf) if n_inf else None,
        "latency_batch1_s": _round(float(np.median(batch1))) if batch1 else None,
        "inferences_per_second": _round(n_inf / seconds) if seconds > 0 else None,
        "outputs_stable": bool(np.array_equal(first, np.asarray(last))),
    }
    is_emulated = bool(getattr(sensor, "emulated", False)) or bool(
        getattr(getattr(driver, "backend", None), "emulated", False))
    available = bool(getattr(sensor, "available", True))
    if available:
        summary.update(energy_summary(recording.samples, recording.marks, n_inferences=n_inf,
                                      resolution_w=resolution, interval_s=interval_s))
    else:
        summary.update(energy_summary([], recording.marks, n_inferences=n_inf, resolution_w=0.0,
                                      interval_s=interval_s))
        summary["notes"] = [f"power not measured: {getattr(sensor, 'note', '') or 'no sensor'}"]
    has_energy = summary.get("energy_uj_per_inference") is not None
    summary.update({
        "sensor": str(getattr(sensor, "name", "sensor")),
        "sensor_resolution_w": resolution or None,
        "sample_interval_s": interval_s,
        "sensor_error": recording.error,
        "source": (("emulated" if is_emulated else f"measured:{getattr(sensor, 'name', 'sensor')}")
                   if has_energy else None),
        "latency_source": "emulated" if is_emulated else "measured:host-timer",
        "phases": recording.phase_table(),
    })
    if recording.note and available:
        summary.setdefault("notes", []).append(recording.note)
    return Measurement(outputs=np.asarray(last), summary=summary, trace=recording.rows(), recording=recording)
