"""QKeras QTools energy per inference as a sweep objective: a fast figure that needs no HLS project.

QTools itself runs in one place, ``hwflow.estimate.energy.qtools_energy`` (the estimate step's
QTools view: Horowitz 45 nm, weights and activations in on-chip SRAM), so the sweep's figure and
the report's are the same number. This module only adapts it for sweeps:

* ``energy_pj``: QTools' total per inference, labelled ``estimate:qkeras-qtools-...``;
* ``energy_sparse_pj``: each layer's arithmetic (``op_cost``) scaled by its non-zero weight fraction
  (an hls4ml latency design drops multiplies by constant zeros). It needs the per-layer arithmetic
  share from the estimator (``per_layer_op_pj``); when that is absent it is ``None`` and says so,
  never a guess.

Both rank designs; neither is a board measurement.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..estimate.energy import QTOOLS_SOURCE
from ..estimate.energy import qtools_energy as _estimator_qtools

SOURCE = QTOOLS_SOURCE
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


def qtools_energy(model, input_bits: int = 8, input_integer_bits: int = 1) -> dict[str, Any]:
    """{"energy_pj", "energy_sparse_pj", "layers", "density", "source", "sparse_source"} for a QKeras model."""
    est = _estimator_qtools(model, input_bits=input_bits)
    density = _layer_density(model)
    total = float(est["pj_per_inference"])
    layers = est.get("per_layer_pj") or {}
    ops = est.get("per_layer_op_pj")
    out: dict[str, Any] = {"energy_pj": total, "layers": layers, "density": density, "source": SOURCE,
                           "sparse_source": SPARSE_SOURCE}
    if isinstance(ops, dict):
        out["energy_sparse_pj"] = total - sum(float(v) * (1.0 - density.get(n, 1.0)) for n, v in ops.items())
    else:
        out["energy_sparse_pj"] = None
        out["sparse_note"] = "the estimator's QTools view gives no per-layer arithmetic share (per_layer_op_pj)"
    return out
