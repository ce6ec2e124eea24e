#!/usr/bin/env python
"""Emulation speed: hls4ml ``predict`` vs our batched C-sim vs our fast numpy emulator.

One run, one machine, one model (hls4ml's jet-tagging MLP 16-64-32-32-5 with 6-bit QKeras
weights/activations and random weights), the same inputs for every path. Prints samples/s of
each path, the speed-up ratios, and whether the fast path is bit-identical to C-sim (and C-sim
to hls4ml's own predict) on every sample.

    python bench/emulation.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np


def _best_rate(fn, n: int, repeats: int) -> tuple[float, list[float], object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return n / statistics.median(times), times, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--output", choices=["softmax", "linear"], default="softmax")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats of the C-sim and fast paths")
    ap.add_argument("--hls4ml-samples", type=int, default=None,
                    help="samples for hls4ml predict (default: all; its rate is per-sample constant)")
    ap.add_argument("--work-dir", default=None, help="where the hls4ml project is written (default: a temp dir)")
    args = ap.parse_args(argv)

    import hls4ml

    from hwflow.emu import examples
    from hwflow.emu.csim import CSim
    from hwflow.emu.fast import FastEmulator
    from hwflow.hlsconfig import converter_kwargs, hls_config_for

    log = (lambda *a: None) if args.json else (lambda *a: print(*a, flush=True))
    model = examples.jet_mlp(output=args.output, seed=0)
    x = examples.inputs_for(model, args.samples, seed=1, scale=2.0)
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="hwflow-bench-"))
    cfg, kw = converter_kwargs(hls_config_for(model, io_type="io_parallel", strategy="latency", reuse_factor=1))
    hls_model = hls4ml.converters.convert_from_keras_model(
        model, hls_config=cfg, output_dir=str(work / "hls"), backend="Vivado", **kw)
    t0 = time.perf_counter()
    hls_model.compile()
    compile_s = time.perf_counter() - t0
    log(f"hls4ml compile: {compile_s:.1f} s")

    t0 = time.perf_counter()
    csim = CSim(work / "hls")
    csim_setup_s = time.perf_counter() - t0
    fast = FastEmulator.from_hls_model(hls_model)
    if not fast.supported:
        raise SystemExit(f"fast emulator does not support the jet MLP: {fast.reason}")
    # warm-ups: first calls load weights / build tables / start thread pools
    csim.predict(x[:256])
    fast.predict(x[:256])
    hls_model.predict(np.ascontiguousarray(x[:16], dtype=np.float64))

    n_h = args.hls4ml_samples or args.samples
    xh = np.ascontiguousarray(x[:n_h], dtype=np.float64)
    t0 = time.perf_counter()
    y_h = np.asarray(hls_model.predict(xh)).reshape(n_h, -1)
    hls_rate = n_h / (time.perf_counter() - t0)
    log(f"hls4ml predict: {hls_rate:,.0f} samples/s")

    csim_rate, _csim_times, y_c = _best_rate(lambda: csim.predict(x), args.samples, args.repeats)
    log(f"batched C-sim ({csim.threads} threads): {csim_rate:,.0f} samples/s")
    fast_rate, _fast_times, y_f = _best_rate(lambda: fast.predict(x), args.samples, args.repeats)
    log(f"fast emulator: {fast_rate:,.0f} samples/s")

    result = {
        "model": "jet_mlp 16-64-32-32-5 (QKeras 6-bit, random weights), io_parallel latency",
        "output": args.output,
        "samples": args.samples,
        "cpus": len(os.sched_getaffinity(0)),
        "hls4ml_predict_samples_per_s": round(hls_rate, 1),
        "hls4ml_predict_samples": n_h,
        "csim_samples_per_s": round(csim_rate, 1),
        "csim_threads": csim.threads,
        "csim_thread_safe": csim.thread_safety.safe,
        "fast_samples_per_s": round(fast_rate, 1),
        "speedup_csim_vs_hls4ml": round(csim_rate / hls_rate, 2),
        "speedup_fast_vs_hls4ml": round(fast_rate / hls_rate, 2),
        "speedup_fast_vs_csim": round(fast_rate / csim_rate, 2),
        "bit_identical": bool(np.array_equal(y_f, y_c)),
        "bit_identical_csim_vs_hls4ml": bool(np.array_equal(y_c[:n_h], y_h)),
        "hls4ml_compile_s": round(compile_s, 2),
        "csim_setup_s": round(csim_setup_s, 2),
        "csim_cache_hit": csim.cache_hit,
        "timing": "median of repeats for C-sim and fast; one pass for hls4ml predict",
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k:32s} {v}")
    return 0 if result["bit_identical"] and result["bit_identical_csim_vs_hls4ml"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
