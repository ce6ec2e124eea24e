"""Step emulate: run the generated firmware on the test split and compare with the model
(the QKeras model, or a user's float Keras model: ``model_kind`` says which).

Two engines compute the firmware's outputs: ``csim`` (hls4ml's C++ compiled with g++,
the reference) and ``fast`` (a vectorized numpy model of the same fixed-point
arithmetic, bit-identical to C-sim). C-sim always runs on the test vectors that the
deployment package carries, whatever the engine.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..context import Context
from ..emu.csim import CSim
from ..emu.fast import FastEmulator
from ..emu.precision import compare, format_layer_table
from ..emu.run import emulate
from ..errors import StepFailed
from ..fileio import atomic_write_json
from ..models.user import FLOAT_MODEL, model_kind
from ..registry import StepSpec, register
from .convert import get_hls_model
from .train import load_quantized_model, load_test_split, save_npz

TEST_VECTORS = 512  # samples carried by the deployment package (and always C-simulated)


def _settings(ctx: Context) -> dict[str, Any]:
    return {"engine": ctx.options.engine, "test_vectors": TEST_VECTORS}


def run(ctx: Context) -> dict[str, Any]:
    x, y = load_test_split(ctx)
    qmodel = load_quantized_model(ctx)
    kind = model_kind(qmodel)
    ref_name = "the float Keras model" if kind == FLOAT_MODEL else "QKeras"
    y_keras = np.asarray(qmodel.predict(x, batch_size=4096, verbose=0)).reshape(len(x), -1)
    hls_model = get_hls_model(ctx)
    t0 = time.monotonic()
    ctx.log(f"emulating {len(x)} test samples (engine preference: {ctx.options.engine})")
    res = emulate(hls_model, x, prefer=ctx.options.engine, keep_layers=True, progress=ctx.log)
    y_hw = np.asarray(res.y, dtype=np.float64).reshape(len(x), -1)
    if res.fallback:  # said once: which layer the fast engine lacks, and the engine used instead
        ctx.log(res.fallback)
    ctx.log(f"{res.path} path: {res.samples_per_s:,.0f} samples/s"
            + (f"; fast == C-sim on {res.verified_samples} samples" if res.fast_matches_csim else ""))
    # C-sim is the reference: it always runs on the test vectors that deployment carries.
    n_vec = min(TEST_VECTORS, len(x))
    t1 = time.monotonic()
    csim = CSim(ctx.path("hls"), progress=ctx.log)
    y_vec = np.asarray(csim.predict(x[:n_vec]), dtype=np.float64).reshape(n_vec, -1)
    csim_rate = n_vec / max(time.monotonic() - t1, 1e-9)
    if not np.array_equal(y_vec, y_hw[:n_vec]):
        bad = int(np.sum(np.any(y_vec != y_hw[:n_vec], axis=1)))
        raise StepFailed(f"the {res.path} emulation differs from C-simulation on {bad} of {n_vec} test vectors",
                         log=str(ctx.log_path()), hint="rerun with --engine csim and report this design")
    y_ref = y_keras
    if ctx.design.hls.softmax == "argmax" and _ends_with_softmax(qmodel):
        # The firmware's output is the class decision (a one-hot of the largest logit); the same
        # function applied to the QKeras output is the reference it must equal bit for bit.
        y_ref = np.zeros_like(y_keras)
        y_ref[np.arange(len(y_keras)), np.argmax(y_keras, axis=1)] = 1.0
    cmp_ = compare(qmodel, x, y_hw, hls_model=hls_model, hls_layer_outputs=res.layer_outputs, y_keras=y_ref)
    table = format_layer_table(cmp_)
    if table:
        ctx.log(f"per-layer agreement with {ref_name}:\n" + table, console=False)
    out = {
        "engine": res.path, "samples": int(len(x)), "model_kind": kind,
        "accuracy_csim": float(np.mean(np.argmax(y_hw, 1) == y)),
        "accuracy_quantized": float(np.mean(np.argmax(y_keras, 1) == y)),
        "argmax_agreement": cmp_["argmax_agreement"], "exact_fraction": cmp_["exact_fraction"],
        "max_abs_diff": cmp_["max_abs_diff"], "worst_sample": cmp_.get("worst_sample"),
        "first_divergent_layer": cmp_["first_divergent_layer"],
        "output_table_based": cmp_.get("output_table_based"),
        "exact_fraction_before_tables": cmp_.get("exact_fraction_before_tables"),
        "layers": cmp_.get("layers"), "layer_source": cmp_.get("layer_source"),
        "samples_per_s": res.samples_per_s, "csim_samples_per_s": csim_rate, "test_vectors": n_vec,
        "csim_vectors_equal_engine": True, "emulation": res.summary(),
        "csim_library": csim.describe() if hasattr(csim, "describe") else None,
        "duration_s": time.monotonic() - t0,
    }
    if y_ref is not y_keras:
        out["output_compared_as"] = "one-hot class decision (hls.softmax: argmax)"
        out["output_table_based"] = False
    if out["output_table_based"]:
        out["explanation"] = ("the output layer is a lookup-table activation (softmax/sigmoid/tanh): its values "
                              "approximate Keras' float function, so exact equality is checked on the layer before it "
                              f"(exact fraction there: {out['exact_fraction_before_tables']}) and argmax agreement "
                              "on the output")
    save_npz(ctx.path("emulate_outputs.npz"), y_hw=y_hw, y_keras=y_keras.astype(np.float64), y_csim_vectors=y_vec)
    atomic_write_json(ctx.path("emulate.json"), out)
    ctx.log(f"accuracy: firmware {out['accuracy_csim']:.4f} vs {ref_name} {out['accuracy_quantized']:.4f}; argmax "
            f"agreement {out['argmax_agreement']:.4f}; exact {out['exact_fraction']:.4f}"
            + (f" (before the output table: {out['exact_fraction_before_tables']:.4f})"
               if out["exact_fraction_before_tables"] is not None else "")
            + (f"; first divergent layer: {out['first_divergent_layer']}" if out["first_divergent_layer"] else ""))
    return {k: out[k] for k in ("accuracy_csim", "argmax_agreement", "exact_fraction")}


register(StepSpec(name="emulate", run=run, settings=_settings, needs=("convert",),
                  outputs=("emulate.json", "emulate_outputs.npz"), result_file="emulate.json", version=1,
                  code=("hwflow/emu",)))


def _ends_with_softmax(model) -> bool:
    last = model.layers[-1]
    return getattr(getattr(last, "activation", None), "__name__", "") == "softmax" or type(last).__name__ == "Softmax"


def firmware_predictor(ctx: Context):
    """predict(x) of the converted firmware: the fast bit-exact emulator, else batched C-sim."""
    if "firmware_predict" in ctx.memo:
        return ctx.memo["firmware_predict"]

    emu = FastEmulator.from_hls_model(get_hls_model(ctx))
    if emu.supported:
        predict = emu.predict
    else:
        ctx.log(f"fast emulator not available for this design ({emu.reason}); using C-sim", console=False)
        predict = CSim(ctx.path("hls"), progress=ctx.log).predict
    ctx.memo["firmware_predict"] = predict
    return predict
