"""Step estimate: resources, latency and energy of the generated HLS project, on any PC.

Every figure is an estimate and says so: ``source`` is ``estimate:<model>`` and
``error_label`` gives the model's cross-validated error on public hls4ml designs.
Energy on three bases (issue 15, ``energy_bases``: batch-1 system, batched system, accelerator
only; hwflow/energy). The older flat ``energy`` is board power x accelerator time (latency; streaming: II), with the
board's power model from boards/<board>.yaml, plus QKeras QTools' chip-level
arithmetic + memory energy as a second view.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..context import Context
from ..energy.design import console_lines
from ..estimate import calibration_key, estimate_fit, estimate_project, with_energy
from ..estimate.energy import energy_for, qtools_energy
from ..estimate.views import console_suffix
from ..fileio import atomic_write_json
from ..registry import StepSpec, register
from .train import load_quantized_model, load_test_split

METRIC_LABELS = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram_18k": "BRAM", "latency": "latency", "ii": "II"}


def _settings(ctx: Context) -> dict[str, Any]:
    # The estimator's code and calibration.json enter the key through the StepSpec's ``code``;
    # a user calibration (`hwflow estimate --recalibrate`, issue 12) through calibration_key().
    return {"part": ctx.board.part, "family": ctx.board.family, "clock_period_ns": ctx.clock_period_ns,
            "power": ctx.board_cfg["power"], "resources": ctx.board_cfg["resources"],
            "data_movement": ctx.board_cfg.get("data_movement"), "calibration": calibration_key()}


def board_power_model(board) -> dict[str, Any]:
    """active_w falls back to idle_w: on small boards power hardly moves with the model (ANCHORS.md)."""
    p = board.power
    active = p.active_w if p.active_w is not None else p.idle_w
    return {"active_w": active, "idle_w": p.idle_w, "source": p.source,
            "assumption": None if p.active_w is not None or p.idle_w is None else
            "no active-power figure for this board: its idle power is used"}


def error_label(est: dict[str, Any]) -> str | None:
    err = est.get("error") or {}
    parts = []
    n = None
    for k in ("lut", "ff", "dsp", "latency"):
        e = err.get(k) or {}
        if e.get("mape") is not None:
            pct = e["mape"] if e.get("unit") == "percent" else 100 * e["mape"]
            parts.append(f"{METRIC_LABELS[k]} ±{pct:.0f}%")
            n = n or e.get("n")
    if not parts:
        return None
    return f"estimate, MAPE {', '.join(parts)} on {n} public designs (held out)"


def fits(resources: dict[str, Any], capacity: dict[str, Any]) -> dict[str, Any]:
    util = {}
    for k in ("lut", "ff", "dsp", "bram_18k", "uram"):
        v, cap = resources.get(k), capacity.get(k)
        util[k] = (v / cap) if (v is not None and cap) else (None if v else 0.0)
    ok = all(u is None or u <= 1.0 for u in util.values())
    return {"fits": ok, "utilization": util}


def estimate_for(ctx: Context, project: Path, board, accuracy: float | None) -> dict[str, Any]:
    est = estimate_project(project, part=board.part, clock_ns=ctx.clock_period_ns)
    est = with_energy(est, board_power_model(board), accuracy)
    modes = est["energy"]
    flat = {
        "uj_per_inference": modes["uj_per_inference"].get("batch1"),
        "mode": "accelerator only: latency x clock x board power (no driver or DMA; energy_bases has the system bases)",
        "inferences_per_joule": modes["inferences_per_joule"].get("batch1"),
        "accuracy_per_joule": modes["accuracy_per_joule"].get("batch1"),
        "streaming_uj_per_inference": modes["uj_per_inference"].get("streaming"),
        "streaming_inferences_per_joule": modes["inferences_per_joule"].get("streaming"),
        "active_w": modes["power_w"]["active"], "idle_w": modes["power_w"]["idle"],
        "source": modes["source"], "power_source": modes.get("power_source"),
        "assumption": board_power_model(board)["assumption"], "notes": modes.get("notes"),
    }
    est["energy_modes"] = modes
    est["energy"] = flat
    est["error_label"] = error_label(est)
    est["fits"] = fits(est["resources"], board.resources.model_dump())
    # issue 12: fits / may not fit / does not fit from the 80 % interval (and an incomplete estimate)
    est["fit_verdict"] = estimate_fit(est, board.resources.model_dump())
    est["board"] = board.name
    return est


def _fit_words(est: dict[str, Any], board: str) -> str:
    """One verdict on the console: from the 80 % interval when there is one (console_suffix then
    says it), else the point estimate's."""
    if est.get("fit_verdict"):
        return ""
    return f"; point estimate fits on {board}: {'yes' if est['fits']['fits'] else 'no'}"


def run(ctx: Context) -> dict[str, Any]:
    emu = ctx.step_json("emulate") or {}
    train = ctx.step_json("train") or {}
    acc = emu.get("accuracy_csim", train.get("accuracy_quantized"))
    est = estimate_for(ctx, ctx.path("hls"), ctx.board, acc)
    try:
        est["qtools"] = qtools_energy(load_quantized_model(ctx), input_bits=ctx.design.quantization.input.bits)
    except Exception as exc:  # QTools covers a subset of layers; its absence is not fatal
        est["qtools"] = {"error": f"QTools could not analyse this model: {type(exc).__name__}: {exc}"}
    # Issue 15: energy on three bases (batch-1 system, batched system, accelerator only) with the
    # board's data movement and a dynamic power part (hwflow/energy).
    import numpy as np

    x_io, _ = load_test_split(ctx)
    with np.load(ctx.path("emulate_outputs.npz"), allow_pickle=False) as z:
        y_shape = list(z["y_csim_vectors"].shape[1:])
    # The overlay's stream carries 32-bit floats (hls4ml's VivadoAccelerator wrapper and ours), as
    # the package step assumes until a synthesized overlay states another wire format.
    est["io"] = {"input_shape": list(x_io.shape[1:]), "output_shape": y_shape, "input": "float", "output": "float"}
    est["energy_bases"] = energy_for(ctx.board, io=est["io"], latency_cycles=est.get("latency_cycles"),
                                     ii_cycles=est.get("ii_cycles"), clock_ns=ctx.clock_period_ns,
                                     resources=est.get("resources"), timing_source=est.get("source"),
                                     accuracy=acc)
    atomic_write_json(ctx.path("estimate.json"), est)
    r = est["resources"]
    ctx.log(f"{est['source']}: LUT {r.get('lut')}, FF {r.get('ff')}, DSP {r.get('dsp')}, BRAM18K {r.get('bram_18k')}, "
            f"latency {est.get('latency_cycles')} cycles, II {est.get('ii_cycles')}" + _fit_words(est, ctx.board.name)
            + console_suffix(est))
    if est.get("error_label"):
        ctx.log(est["error_label"])

    for line in console_lines(est.get("energy_bases")):
        ctx.log(line)
    return {"lut": r.get("lut"), "dsp": r.get("dsp"), "latency_cycles": est.get("latency_cycles")}


register(StepSpec(name="estimate", run=run, settings=_settings, needs=("convert", "emulate"),
                  outputs=("estimate.json",), result_file="estimate.json", version=1,
                  code=("hwflow/estimate", "hwflow/energy")))
