"""Energy per inference on three named bases, and the batch sweep behind them.

* ``batch1_system``  - one sample per driver call: host driver + DMA + compute, at board power.
  What MLPerf Tiny measures (the whole board while its harness runs single inferences).
* ``batched_system`` - ``n`` samples per call, at the ``best_batch`` (the lowest energy per
  inference over batches 1 ... 65,536 that one DMA transfer can carry).
* ``accelerator``    - the IP alone, streaming: II x clock x board power at full duty.

For each: total (board power x time / n) and above idle (dynamic power x time / n). A
comparison with a published figure uses the basis that figure was measured on.
"""

from __future__ import annotations

from typing import Any

from .datamove import Accelerator, DataMovement, batch_grid, call_time, max_batch
from .power import board_power, power_at_duty

BASES = ("batch1_system", "batched_system", "accelerator")
BASIS_LABEL = {
    "batch1_system": "batch-1 system (driver + DMA + compute, whole board)",
    "batched_system": "batched system (best batch, whole board)",
    "accelerator": "accelerator only (II x clock x board power)",
}


def model_for(acc: Accelerator, dm: DataMovement, power_spec: dict[str, Any], dynamic: dict[str, Any]
              ) -> dict[str, Any]:
    """The board power model of this design; a cited *active* figure is taken as measured under
    batch-1 calls (MLPerf Tiny's condition), so its duty is this design's batch-1 duty."""
    ct = call_time(1, acc, dm)
    duty = min(1.0, ct["busy_s"] / ct["total_s"]) if ct["total_s"] else 1.0
    return board_power(power_spec, dynamic, active_duty=duty)


def _point(n: int, acc: Accelerator, dm: DataMovement, pm: dict[str, Any],
           host_overhead_s: float | None = None) -> dict[str, Any]:
    ct = call_time(n, acc, dm, host_overhead_s=host_overhead_s)
    t = ct["total_s"]
    out = {"batch": n, "call_s": t, "parts": ct["parts"], "missing": ct["missing"], "fits_dma": ct["fits_dma"]}
    if t is None:
        out.update(duty=None, power_w=None, uj=None, above_idle_uj=None, per_inference_s=None)
        return out
    duty = min(1.0, ct["busy_s"] / t)
    p = power_at_duty(pm, duty)
    out["duty"] = duty
    out["per_inference_s"] = t / n
    out["power_w"] = p
    out["uj"] = p * t / n * 1e6 if p is not None else None
    dyn = pm.get("dynamic_w")
    out["above_idle_uj"] = (dyn * duty * t / n * 1e6) if (dyn is not None and pm.get("idle_w") is not None) else None
    return out


def energy_bases(acc: Accelerator, dm: DataMovement, pm: dict[str, Any], *, limit: int = 65536,
                 host_overhead_s: float | None = None) -> dict[str, Any]:
    """All three bases with their time, power, energy and source; plus the sweep (``curve``)."""
    f = 1e9 / acc.clock_ns
    n_max = max_batch(acc, dm)
    grid = batch_grid(limit, n_max)
    curve = [_point(n, acc, dm, pm, host_overhead_s) for n in grid]
    b1 = curve[0]
    feasible = [c for c in curve if c["uj"] is not None]
    best = min(feasible, key=lambda c: c["uj"]) if feasible else None
    p_full = power_at_duty(pm, 1.0)
    t_acc = acc.ii_cycles / f
    src = pm.get("source")
    missing = sorted({m for c in curve for m in c["missing"]})
    why_none = None
    if pm.get("full_w") is None:
        why_none = "; ".join(pm.get("notes") or ["board power not estimated"])
    elif missing:
        why_none = "not estimated: " + ", ".join(missing) + " unknown for this board family"
    res = {
        "batch1_system": {
            "uj": b1["uj"], "above_idle_uj": b1["above_idle_uj"], "time_s": b1["call_s"],
            "power_w": b1["power_w"], "duty": b1["duty"], "parts": b1["parts"],
            "source": (f"{src}+datamove({dm.driver})" if b1["uj"] is not None else None),
            "note": why_none,
        },
        "batched_system": {
            "uj": best["uj"] if best else None, "above_idle_uj": best["above_idle_uj"] if best else None,
            "best_batch": best["batch"] if best else None,
            "time_s": best["per_inference_s"] if best else None, "power_w": best["power_w"] if best else None,
            "duty": best["duty"] if best else None,
            "source": (f"{src}+datamove({dm.driver})" if best else None), "note": why_none,
            "max_batch_per_transfer": n_max,
        },
        "accelerator": {
            "uj": p_full * t_acc * 1e6 if p_full is not None else None,
            "above_idle_uj": (pm["dynamic_w"] * t_acc * 1e6
                              if pm.get("dynamic_w") is not None and pm.get("idle_w") is not None else None),
            "time_s": t_acc, "power_w": p_full, "source": src if p_full is not None else None,
            "note": None if p_full is not None else why_none,
        },
        "curve": [{"batch": c["batch"], "uj": c["uj"], "above_idle_uj": c["above_idle_uj"],
                   "per_inference_s": c["per_inference_s"], "power_w": c["power_w"], "duty": c["duty"]}
                  for c in curve],
        "data_movement": dm.describe(),
        "power_model": {k: v for k, v in pm.items() if k != "dynamic"},
        "dynamic": pm.get("dynamic"),
    }
    # interval of the batch-1 figure from the host-overhead range (the dominant term)
    if dm.host_overhead_range_s and b1["uj"] is not None:
        lo = _point(1, acc, dm, pm, dm.host_overhead_range_s[0])["uj"]
        hi = _point(1, acc, dm, pm, dm.host_overhead_range_s[1])["uj"]
        res["batch1_system"]["interval_uj"] = [lo, hi]
    return res


def phase_powers(pm: dict[str, Any], bases: dict[str, Any], run_batch: int | None = None) -> dict[str, Any]:
    """Power of the emulated trace's phases: idle (no calls), warm-up (batch-1 calls: the driver
    and DMA dominate, the IP is mostly idle) and run (calls of ``run_batch``, default the best)."""
    if pm.get("full_w") is None:
        return {"idle_w": None, "warmup_w": None, "run_w": None}
    curve = bases.get("curve") or []
    b1 = next((c for c in curve if c["batch"] == 1), None)
    target = run_batch or (bases.get("batched_system") or {}).get("best_batch")
    run = next((c for c in curve if c["batch"] == target), None) if target else None
    warm = b1["power_w"] if b1 and b1["power_w"] is not None else pm["full_w"]
    run_w = run["power_w"] if run and run["power_w"] is not None else pm["full_w"]
    idle = pm.get("idle_w") if pm.get("idle_w") is not None else pm["full_w"]
    return {"idle_w": idle, "warmup_w": warm, "run_w": run_w, "run_batch": target}
