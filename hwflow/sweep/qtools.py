"""QKeras QTools energy per inference: a fast objective that needs no HLS project.

QTools walks the QKeras graph, infers every multiplier's and adder's bit widths from the
quantizers and prices them with Horowitz's 45 nm figures (ISSCC 2014), in pJ. It knows
nothing about FPGAs, and nothing about zero weights; in an hls4ml latency design a multiply
by a constant zero is removed by the HLS compiler, so ``energy_sparse_pj`` also gives each
layer's arithmetic (``op_cost``) scaled by its non-zero weight fraction. Both are labelled
``estimate:qkeras-qtools-...``: they rank designs, they are not a board measurement. Weights and
activations are priced as on-chip SRAM reads, as in the estimate step's QTools view.

If the estimator package provides ``hwflow.estimate.energy.qtools_energy`` it is preferred
for the plain figure, so that the sweep and the estimate step agree.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np

PROCESS = "horowitz"
SOURCE = "estimate:qkeras-qtools-horowitz45nm"          # the estimate step's label for the same figure
SPARSE_SOURCE = SOURCE + "-sparse"


def _layer_density(model) -> dict[str, float]:
    """Non-zero fraction of each weight layer's quantized kernel (what the firmware multiplies by)."""
    out: dict[str, float] = {}
    for layer in model.layers:
        w = layer.get_weights()
        if not w or w[0].ndim < 2:
            continue
        k = w[0]
        qs = layer.get_quantizers() if hasattr(layer, "get_quantizers") else None
        if qs and qs[0] is not None:
            k = np.asarray(qs[0](k.astype(np.float32)))
        out[layer.name] = float(np.mean(k != 0))
    return out


# The same settings as the estimate step's QTools view (hwflow.estimate.energy), so the
# sweep's figure and the report's agree: weights and activations in on-chip SRAM (BRAM and
# registers on an FPGA), the input quantizer of the design's input width.
MIN_SRAM_BITS = 8 * 16 * 1024 * 1024


def qtools_profile(model, input_bits: int, input_integer_bits: int = 0) -> dict[str, dict[str, float]]:
    """Per-layer QTools energy terms (pJ): inputs, outputs, parameters, op_cost and total."""
    from qkeras import quantized_bits
    from qkeras.qtools import run_qtools, settings

    # QTools prints and warns freely; the sweep's log stays readable without it.
    with contextlib.redirect_stdout(io.StringIO()):
        q = run_qtools.QTools(model, process=PROCESS, source_quantizers=[quantized_bits(input_bits, 0, 1)],
                              is_inference=True, weights_path=None, keras_quantizer="fp32",
                              keras_accumulator="fp32", for_reference=False)
        energy = q.pe(weights_on_memory="sram", activations_on_memory="sram", min_sram_size=MIN_SRAM_BITS,
                      rd_wr_on_io=False)
        profile = q.extract_energy_profile(settings.cfg.include_energy, energy)
    return {name: {"total": float(v["total"]), **{k: float(x) for k, x in v["energy"].items()}}
            for name, v in profile.items()}


def qtools_energy(model, input_bits: int = 8, input_integer_bits: int = 1) -> dict[str, Any]:
    """{"energy_pj", "energy_sparse_pj", "layers", "source", "sparse_source"} for a QKeras model."""
    profile = qtools_profile(model, input_bits, input_integer_bits)
    density = _layer_density(model)
    total = sum(v["total"] for v in profile.values())
    sparse = 0.0
    for name, v in profile.items():
        op = v.get("op_cost", 0.0)
        sparse += v["total"] - op + op * density.get(name, 1.0)
    out: dict[str, Any] = {"energy_pj": total, "energy_sparse_pj": sparse, "layers": profile,
                           "density": density, "source": SOURCE, "sparse_source": SPARSE_SOURCE}
    shared = _estimator_qtools(model, input_bits)
    if shared is not None:
        out["energy_pj"] = shared
        if abs(shared - total) > 1e-6 * max(1.0, abs(total)):
            # Different settings than ours: scale the sparse figure so both stay comparable.
            out["energy_sparse_pj"] = sparse * shared / total if total else None
    return out


def _estimator_qtools(model, input_bits: int) -> float | None:
    try:
        from ..estimate.energy import qtools_energy as shared  # type: ignore[import-not-found]
    except Exception:
        return None
    try:
        v = shared(model, input_bits=input_bits)
    except Exception:
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, dict):
        for k in ("pj_per_inference", "energy_pj", "total_pj", "pj"):
            if isinstance(v.get(k), (int, float)):
                return float(v[k])
    return None
