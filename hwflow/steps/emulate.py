"""Step emulate: run the generated firmware on the test split and compare with QKeras.

Two engines compute the firmware's outputs: ``csim`` (hls4ml's C++ compiled with g++,
the reference) and ``fast`` (a vectorized numpy model of the same fixed-point
arithmetic, bit-identical to C-sim). C-sim always runs on the test vectors that the
deployment package carries, whatever the engine.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..fileio import atomic_write_json
from ..flow import Context, StepSpec, register

TEST_VECTORS = 512  # samples carried by the deployment package (and always C-simulated)


def _settings(ctx: Context) -> dict[str, Any]:
    return {"engine": ctx.options.engine, "test_vectors": TEST_VECTORS}


def run(ctx: Context) -> dict[str, Any]:
    from .convert import get_hls_model
    from .train import load_quantized_model, load_test_split, save_npz

    x, y = load_test_split(ctx)
    qmodel = load_quantized_model(ctx)
    y_keras = qmodel.predict(x, batch_size=4096, verbose=0)
    hls_model = get_hls_model(ctx)
    t0 = time.monotonic()
    ctx.log("compiling the C-simulation (g++)")
    hls_model.compile()
    ctx.log(f"compiled in {time.monotonic() - t0:.1f} s")
    n_vec = min(TEST_VECTORS, len(x))
    t0 = time.monotonic()
    y_csim_vec = np.asarray(hls_model.predict(np.ascontiguousarray(x[:n_vec]))).reshape(n_vec, -1)
    csim_rate = n_vec / max(time.monotonic() - t0, 1e-9)
    engine = ctx.options.engine
    t0 = time.monotonic()
    if engine == "csim" or True:
        y_hw = np.asarray(hls_model.predict(np.ascontiguousarray(x))).reshape(len(x), -1)
        engine_used = "csim"
    rate = len(x) / max(time.monotonic() - t0, 1e-9)
    y_keras = y_keras.reshape(len(x), -1)
    exact = np.all(y_hw == y_keras.astype(y_hw.dtype), axis=1)
    agree = np.argmax(y_hw, 1) == np.argmax(y_keras, 1)
    res = {
        "engine": engine_used, "samples": int(len(x)), "accuracy_csim": float(np.mean(np.argmax(y_hw, 1) == y)),
        "accuracy_quantized": float(np.mean(np.argmax(y_keras, 1) == y)),
        "argmax_agreement": float(np.mean(agree)), "exact_fraction": float(np.mean(exact)),
        "max_abs_diff": float(np.max(np.abs(y_hw - y_keras))), "first_divergent_layer": None,
        "samples_per_s": rate, "csim_samples_per_s": csim_rate, "test_vectors": n_vec,
    }
    save_npz(ctx.path("emulate_outputs.npz"), y_hw=y_hw.astype(np.float64), y_keras=y_keras.astype(np.float64),
             y_csim_vectors=y_csim_vec.astype(np.float64))
    atomic_write_json(ctx.path("emulate.json"), res)
    ctx.log(f"accuracy: C-sim {res['accuracy_csim']:.4f} vs QKeras {res['accuracy_quantized']:.4f}; "
            f"argmax agreement {res['argmax_agreement']:.4f}, exact {res['exact_fraction']:.4f}")
    return {k: res[k] for k in ("accuracy_csim", "argmax_agreement", "exact_fraction")}


register(StepSpec(name="emulate", run=run, settings=_settings, needs=("convert",),
                  outputs=("emulate.json", "emulate_outputs.npz"), result_file="emulate.json", version=1))


def firmware_predictor(ctx: Context):
    """predict(x) of the converted firmware: the fast bit-exact emulator, else batched C-sim."""
    if "firmware_predict" in ctx.memo:
        return ctx.memo["firmware_predict"]
    from .convert import get_hls_model

    hls_model = get_hls_model(ctx)
    predict = None
    try:
        from ..emu.fast import FastEmulator

        emu = FastEmulator.from_hls_model(hls_model)
        predict = emu.predict
    except Exception as exc:  # unsupported layer -> C-sim is the reference anyway
        ctx.log(f"fast emulator not available for this design ({exc}); using C-sim", console=False)
    if predict is None:
        hls_model.compile()

        def predict(x):
            return np.asarray(hls_model.predict(np.ascontiguousarray(x, dtype=np.float32))).reshape(len(x), -1)
    ctx.memo["firmware_predict"] = predict
    return predict
