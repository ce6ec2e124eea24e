"""Step baseline: the trained model on the host CPU (and GPU), timed and its energy per
inference measured (RAPL/NVML) or estimated (TDP x load), at batch 1 and over a batch sweep.

Cheap (a few seconds, bounded by ``HWFLOW_BASELINE_BUDGET_S``, default 8 s per device) and
cached like every step: its key holds the trained model's key, the host's CPU model and GPU
presence, so it re-runs on another machine, never on an unchanged one.
"""

from __future__ import annotations

import os
from typing import Any

from ..context import Context
from ..energy.baseline_run import gpu_status, run_host_baselines
from ..energy.cpu import cpu_model_name
from ..energy.design import fmt_uj
from ..fileio import atomic_write_json
from ..registry import StepSpec, register
from .train import load_quantized_model, load_test_split


def _budget() -> float:
    try:
        return max(0.5, float(os.environ.get("HWFLOW_BASELINE_BUDGET_S", "8")))
    except ValueError:
        return 8.0


def _settings(ctx: Context) -> dict[str, Any]:
    return {"budget_s": _budget(), "cpu": cpu_model_name(), "logical_cpus": os.cpu_count(),
            "gpu": gpu_status().get("present"), "tdp_override": os.environ.get("HWFLOW_CPU_TDP_W")}


def run(ctx: Context) -> dict[str, Any]:
    model = load_quantized_model(ctx)
    x, y = load_test_split(ctx)
    ctx.log(f"baseline: the trained model with TensorFlow on this host, batches 1 ... 65,536 "
            f"(budget {_budget():g} s per device)")
    res = run_host_baselines(model, x, y, budget_s=_budget(), progress=ctx.log)
    res["design"] = ctx.design.name
    atomic_write_json(ctx.path("baseline.json"), res)
    c = res["cpu"]
    e1, eb = c.get("uj_per_inference_batch1"), c.get("uj_per_inference_batched")

    ctx.log(f"CPU baseline ({c['device_name']}): batch 1 {c['latency_us_batch1']:.3g} µs"
            + (f", energy/inference [batch1_system] {fmt_uj(e1)}" if e1 is not None else "")
            + f"; batch {c['best_batch']:,} {c['throughput_per_s_batched']:,.0f}/s"
            + (f", energy/inference [batched_system] {fmt_uj(eb)}" if eb is not None else "")
            + f" ({c.get('source') or 'energy not measurable'}); GPU: "
            + ("measured" if "gpu" in res else (res.get("gpu_note") or "no GPU")))
    return {"cpu_latency_us_batch1": c["latency_us_batch1"], "cpu_uj_batch1": e1, "cpu_uj_batched": eb}


register(StepSpec(name="baseline", run=run, settings=_settings, needs=("train",), outputs=("baseline.json",),
                  result_file="baseline.json", version=1, code=("hwflow/energy", "hwflow/baseline.py")))
