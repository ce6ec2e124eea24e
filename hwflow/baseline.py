"""CPU/GPU baselines: the same trained model run with TensorFlow on the host.

Energy comes from hardware counters when this machine exposes them: Intel/AMD RAPL
(``/sys/class/powercap/intel-rapl:*/energy_uj``, package domains) for the CPU, and
NVML's total-energy counter for an NVIDIA GPU. Where no counter is readable the
energy is ``null`` with the reason ("not measurable here"), never a guess. (The flow's own
``baseline`` step, hwflow/steps/baseline.py, adds a labelled TDP x load estimate there.)
The counters live in :mod:`hwflow.energy.counters`.
"""

from __future__ import annotations

import os
import platform
import time
from typing import Any, Callable

import numpy as np

from .config import load_board, load_design
from .energy.counters import RAPL_ROOT, EnergyCounter, NvmlCounter, RaplCounter  # noqa: F401 (re-exported)
from .energy.design import fmt_uj
from .errors import ToolMissing
from .fileio import atomic_write_json, print_json, read_json
from .flow import Options, make_context, run_flow
from .steps.train import load_quantized_model, load_test_split


def time_inference(predict: Callable[[np.ndarray], Any], x: np.ndarray, min_seconds: float) -> tuple[int, float]:
    """Run ``predict`` on ``x`` repeatedly for at least ``min_seconds``; return (inferences, seconds)."""
    predict(x)  # warm-up (graph tracing, allocation)
    n = 0
    t0 = time.perf_counter()
    while True:
        predict(x)
        n += len(x)
        dt = time.perf_counter() - t0
        if dt >= min_seconds:
            return n, dt


def measure(predict: Callable[[np.ndarray], Any], x: np.ndarray, counter, min_seconds: float) -> dict[str, Any]:
    if counter is not None and counter.available():
        counter.start()
        n, dt = time_inference(predict, x, min_seconds)
        joules = counter.stop_j()
        energy = {"uj_per_inference": joules / n * 1e6, "joules": joules, "source": f"measured:{counter.name}",
                  "note": "whole package/device energy during the run (includes idle power)"}
    else:
        n, dt = time_inference(predict, x, min_seconds)
        energy = {"uj_per_inference": None, "source": None,
                  "note": "not measurable here: " + (counter.reason if counter is not None else "no counter")}
    return {"batch": int(len(x)), "inferences": n, "seconds": dt, "samples_per_s": n / dt,
            "latency_s": dt / (n / len(x)), "energy": energy}


def run_baseline(model, x: np.ndarray, y: np.ndarray, device: str, *, min_seconds: float = 1.0,
                 counter: EnergyCounter | None = None) -> dict[str, Any]:
    import tensorflow as tf

    if device == "gpu":
        gpus = tf.config.list_physical_devices("GPU")
        if not gpus:
            raise ToolMissing(
                "no NVIDIA GPU visible to TensorFlow on this machine (tf.config.list_physical_devices('GPU') "
                "is empty)", hint="install the CUDA build (pip install 'tensorflow[and-cuda]==2.15.1') on a "
                                  "machine with a GPU; `hwflow baseline DESIGN --device cpu` works here")
        dev = "/GPU:0"
        counter = counter if counter is not None else NvmlCounter()
        device_name = getattr(counter, "device_name", None) or gpus[0].name
    else:
        dev = "/CPU:0"
        counter = counter if counter is not None else RaplCounter()
        device_name = platform.processor() or platform.machine()
    with tf.device(dev):
        fn = tf.function(lambda t: model(t, training=False))
        acc = float(np.mean(np.argmax(model.predict(x, verbose=0), 1) == y))
        b1 = x[:1]
        big = x[: min(len(x), 4096)]
        single = measure(lambda a: fn(tf.constant(a)).numpy(), b1, counter, min_seconds)
        batched = measure(lambda a: fn(tf.constant(a)).numpy(), big, counter, min_seconds)
    return {"device": device, "device_name": str(device_name), "framework": f"tensorflow {tf.__version__}",
            "accuracy": acc, "batch1": single, "batched": batched,
            "samples_per_s": batched["samples_per_s"], "latency_s": single["latency_s"],
            "energy": batched["energy"] if batched["energy"]["uj_per_inference"] is not None else single["energy"],
            "host": platform.node(), "threads": os.cpu_count()}


def cli_baseline(args) -> int:
    board = load_board(args.board)
    design = load_design(args.design, board.name)
    ctx = make_context(design, board, Options(quiet=args.json), build_dir=args.build_dir)
    run_flow(ctx, to="train")
    model = load_quantized_model(ctx)
    x, y = load_test_split(ctx)
    res = run_baseline(model, x, y, args.device)
    res["design"] = design.name
    out = ctx.path(f"baseline_{args.device}.json")
    atomic_write_json(out, res)
    atomic_write_json(ctx.path("baseline.json"), _merge_baselines(ctx))
    if args.json:
        print_json(res)
    else:
        e = res["energy"]
        print(f"{args.device} ({res['device_name']}): batch-1 latency {res['latency_s'] * 1e6:.1f} µs, "
              f"{res['samples_per_s']:.0f} samples/s batched, accuracy {res['accuracy']:.4f}")
        basis = "batched_system" if e is res["batched"]["energy"] else "batch1_system"
        print(f"energy/inference [{basis}, host {args.device}]: "
              + (f"{fmt_uj(e['uj_per_inference'])} ({e['source']})" if e["uj_per_inference"] is not None
                 else e["note"]))
        print(f"written: {out}")
    return 0


def _merge_baselines(ctx) -> dict[str, Any]:
    out = {}
    for dev in ("cpu", "gpu"):
        p = ctx.path(f"baseline_{dev}.json")
        if p.exists():
            out[dev] = read_json(p)
    return out
