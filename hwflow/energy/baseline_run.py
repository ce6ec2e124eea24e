"""The CPU (and GPU) baseline of every run: the trained model in TensorFlow on the host.

At batch 1 and over a log-spaced batch sweep (1 ... 65,536, bounded in time), time per inference
is measured; energy per inference comes from RAPL (CPU) / NVML (GPU) where readable, else the
CPU's TDP x load estimate (:mod:`.cpu`); a GPU without NVML, or no GPU, says so. The result is
the ``baseline.json`` of the work folder, readable by the report as before (``batch1`` /
``batched`` per device) plus the contract keys of issue 15 and the sweep.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from typing import Any

import numpy as np

from . import cpu as cpu_model
from .hostbench import summarise, sweep

DEFAULT_BUDGET_S = 8.0
DEFAULT_SECONDS_PER_POINT = 0.25


def _keras_predict(model: Any, device: str) -> Callable[[np.ndarray], Any]:
    import tensorflow as tf

    fn = tf.function(lambda t: model(t, training=False), reduce_retracing=True)

    def predict(x: np.ndarray) -> Any:
        with tf.device(device):
            return fn(tf.constant(x)).numpy()

    return predict


def gpu_status() -> dict[str, Any]:
    """Whether TensorFlow sees a GPU, and NVML's energy counter on it."""
    try:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
    except Exception as exc:  # pragma: no cover - TF is pinned
        return {"present": False, "reason": f"TensorFlow cannot list GPUs ({exc})"}
    if not gpus:
        return {"present": False, "reason": "no GPU visible to TensorFlow on this machine"}
    return {"present": True, "name": gpus[0].name}


def _device_block(points: list[dict[str, Any]], cut: str | None, *, device: str, device_name: str,
                  accuracy: float | None, framework: str) -> dict[str, Any]:
    s = summarise(points)
    b1 = next((p for p in points if p["batch"] == 1), points[0])
    best = next(p for p in points if p["batch"] == s["best_batch"])

    def sub(p: dict[str, Any]) -> dict[str, Any]:
        return {"batch": p["batch"], "latency_s": p["per_inference_s"] * p["batch"],
                "per_inference_s": p["per_inference_s"], "samples_per_s": p["throughput_per_s"],
                "energy": {"uj_per_inference": p.get("uj"), "source": p.get("source"), "note": p.get("note"),
                           "interval_uj": p.get("uj_interval")}}

    return {
        "device": device, "device_name": device_name, "framework": framework, "accuracy": accuracy,
        # issue 15 contract keys (same bases as the board: batch-1 and best batch)
        "latency_us_batch1": s["latency_us_batch1"], "uj_per_inference_batch1": s["uj_per_inference_batch1"],
        "throughput_per_s_batched": s["throughput_per_s_batched"],
        "uj_per_inference_batched": s["uj_per_inference_batched"], "best_batch": s["best_batch"],
        "source": s["source"], "note": s.get("note"),
        # the shape `hwflow baseline` always wrote (the report reads it)
        "batch1": sub(b1), "batched": sub(best), "latency_s": b1["per_inference_s"],
        "samples_per_s": best["throughput_per_s"], "energy": sub(best)["energy"],
        "sweep": [{k: p.get(k) for k in ("batch", "per_inference_s", "throughput_per_s", "uj", "power_w",
                                         "source", "utilisation")} for p in points],
        "sweep_cut": cut,
    }


def run_host_baselines(model: Any, x: np.ndarray, y: np.ndarray | None, *, budget_s: float = DEFAULT_BUDGET_S,
                       seconds_per_point: float = DEFAULT_SECONDS_PER_POINT, max_batch: int = 65536,
                       progress: Callable[[str], None] | None = None, rapl_counter: Any = None,
                       nvml_counter: Any = None) -> dict[str, Any]:
    """``{"cpu": {...}, "gpu": {...} | absent, "gpu_present": bool, "gpu_note": str}``."""
    import tensorflow as tf

    from .counters import NvmlCounter, RaplCounter

    x = np.asarray(x, dtype=np.float32)
    acc = None
    if y is not None and len(y):
        pred = np.asarray(model.predict(x, batch_size=4096, verbose=0)).reshape(len(x), -1)
        acc = float(np.mean(np.argmax(pred, 1) == np.asarray(y).reshape(-1))) if pred.shape[1] > 1 else None
    framework = f"tensorflow {tf.__version__}"
    out: dict[str, Any] = {}
    counter = rapl_counter if rapl_counter is not None else RaplCounter()
    power_model = None
    name = cpu_model.cpu_model_name()
    if not counter.available():
        tdp = cpu_model.lookup_tdp(name)
        power_model = lambda u: cpu_model.cpu_power_estimate(u, tdp)  # noqa: E731
    with tf.device("/CPU:0"):
        res = sweep(_keras_predict(model, "/CPU:0"), x, max_batch=max_batch, seconds_per_point=seconds_per_point,
                    budget_s=budget_s, counter=counter if counter.available() else None,
                    power_model=power_model, progress=progress)
    out["cpu"] = _device_block(res["points"], res["cut"], device="cpu", device_name=name, accuracy=acc,
                               framework=framework)
    out["cpu"]["threads"] = os.cpu_count()
    out["cpu"]["host"] = platform.node()
    if power_model is None:
        out["cpu"]["rapl"] = "readable"
    else:
        out["cpu"]["rapl"] = counter.reason
    gs = gpu_status()
    # plain values (not a dict): the report's baseline reader takes every dict as a device
    out["gpu_present"] = bool(gs["present"])
    out["gpu_note"] = gs.get("reason") or gs.get("name")
    if gs["present"]:
        nv = nvml_counter if nvml_counter is not None else NvmlCounter()
        res = sweep(_keras_predict(model, "/GPU:0"), x, max_batch=max_batch, seconds_per_point=seconds_per_point,
                    budget_s=budget_s, counter=nv if nv.available() else None, power_model=None, progress=progress)
        out["gpu"] = _device_block(res["points"], res["cut"], device="gpu",
                                   device_name=getattr(nv, "device_name", None) or gs.get("name", "GPU"),
                                   accuracy=acc, framework=framework)
    return out
