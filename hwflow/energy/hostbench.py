"""Time (and energy) per inference of a model on the host, over a log-spaced batch sweep.

:func:`sweep` calls ``predict(x_batch)`` at batches 1, 4, 16, ... up to ``max_batch``
(65,536 by default), each for about ``seconds_per_point`` (at least one call), and stops early
when the total time budget is spent - the points measured are kept and the cut is said. For
each point: per-inference time (wall clock), the process's CPU utilisation over the point,
and energy per inference, from an energy counter when one is readable (``measured:rapl`` /
``measured:nvml``), else from :mod:`.cpu`'s TDP x load estimate (``estimate:cpu-tdp-load``),
or None with the reason for a device without either.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def batch_sizes(max_batch: int = 65536, factor: int = 4) -> list[int]:
    out, n = [], 1
    while n <= max_batch:
        out.append(n)
        n *= factor
    if out[-1] != max_batch:
        out.append(max_batch)
    return out


def tile_to(x: np.ndarray, n: int) -> np.ndarray:
    """``n`` samples taken cyclically from ``x``."""
    if len(x) >= n:
        return x[:n]
    reps = -(-n // len(x))
    return np.concatenate([x] * reps, axis=0)[:n]


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def measure_point(predict: Callable[[np.ndarray], Any], xb: np.ndarray, seconds: float, *,
                  counter: Any = None, power_model: Callable[[float], dict[str, Any]] | None = None
                  ) -> dict[str, Any]:
    """One batch size: warm-up call, then calls for ``seconds`` (at least one)."""
    predict(xb)
    use_counter = counter is not None and counter.available()
    if use_counter:
        counter.start()
    c0, t0 = _cpu_seconds(), time.perf_counter()
    calls = 0
    while True:
        predict(xb)
        calls += 1
        dt = time.perf_counter() - t0
        if dt >= seconds:
            break
    cpu = _cpu_seconds() - c0
    n = calls * len(xb)
    out: dict[str, Any] = {"batch": int(len(xb)), "calls": calls, "inferences": n, "seconds": dt,
                           "per_inference_s": dt / n, "throughput_per_s": n / dt, "cpu_seconds": cpu}
    if use_counter:
        j = counter.stop_j()
        out.update(uj=j / n * 1e6, power_w=j / dt, source=f"measured:{counter.name}",
                   note="whole package/device energy during the run (idle power included)")
    elif power_model is not None:
        from .cpu import utilisation

        est = power_model(utilisation(cpu, dt))
        out.update(uj=est["power_w"] * dt / n * 1e6, power_w=est["power_w"],
                   uj_interval=[w * dt / n * 1e6 for w in est["interval_w"]], source=est["source"],
                   note=est["note"], utilisation=est["utilisation"])
    else:
        out.update(uj=None, power_w=None, source=None,
                   note="not measurable here: " + (getattr(counter, "reason", None) or "no energy counter"))
    return out


def sweep(predict: Callable[[np.ndarray], Any], x: np.ndarray, *, max_batch: int = 65536,
          seconds_per_point: float = 0.3, budget_s: float = 10.0, counter: Any = None,
          power_model: Callable[[float], dict[str, Any]] | None = None,
          max_bytes: int = 1 << 28, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The sweep; ``cut`` says why it stopped before ``max_batch`` (budget or memory)."""
    per_sample = max(1, int(np.asarray(x[:1]).nbytes))
    points, cut = [], None
    t_start = time.perf_counter()
    for n in batch_sizes(max_batch):
        if n * per_sample > max_bytes:
            cut = f"batch {n} would need {n * per_sample / 2**20:.0f} MiB of input: stopped at {points[-1]['batch']}"
            break
        if points and time.perf_counter() - t_start > budget_s:
            cut = f"time budget of {budget_s:g} s spent: stopped at batch {points[-1]['batch']}"
            break
        pt = measure_point(predict, tile_to(x, n), seconds_per_point, counter=counter, power_model=power_model)
        points.append(pt)
        if progress:
            progress(f"baseline batch {n}: {pt['per_inference_s'] * 1e6:.3g} µs/inference")
    return {"points": points, "cut": cut}


def summarise(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Batch-1 figures, and the batched figures at the lowest energy (or, without energy, the
    highest throughput) - the same bases as the board's ``batch1_system`` / ``batched_system``."""
    if not points:
        return {}
    b1 = next((p for p in points if p["batch"] == 1), points[0])
    with_e = [p for p in points if p.get("uj") is not None]
    best = min(with_e, key=lambda p: p["uj"]) if with_e else max(points, key=lambda p: p["throughput_per_s"])
    return {"latency_us_batch1": b1["per_inference_s"] * 1e6, "uj_per_inference_batch1": b1.get("uj"),
            "throughput_per_s_batched": best["throughput_per_s"], "uj_per_inference_batched": best.get("uj"),
            "best_batch": best["batch"], "source": b1.get("source") or best.get("source"),
            "note": b1.get("note")}
