"""One call for the emulate step: the fastest exact path, checked against C-simulation.

Why: the step should not have to know which layers the fast emulator covers. ``emulate`` uses
the fast numpy emulator when it supports every layer, verifies it against the batched C-sim on
a slice of the inputs (a cheap guard: if they ever disagreed, C-sim wins and the result says
so), and otherwise runs the batched C-sim on everything; hls4ml's own ``predict`` is the last
resort (models with several inputs/outputs).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hwflow.emu.csim import CSim
from hwflow.emu.fast import FastEmulator
from hwflow.errors import HwflowError, StepFailed


@dataclass
class EmulationResult:
    """Firmware outputs and how they were obtained (for emulate.json)."""

    y: np.ndarray
    path: str  # "fast" | "csim" | "hls4ml"
    samples_per_s: float
    fast_supported: bool
    fast_reason: str | None
    verified_samples: int = 0
    fast_matches_csim: bool | None = None
    csim: dict[str, Any] | None = None
    layer_outputs: dict[str, np.ndarray] | None = None
    notes: list[str] = field(default_factory=list)
    #: one line naming the layer the fast engine does not cover and the engine used instead
    fallback: str | None = None

    def summary(self) -> dict[str, Any]:
        """JSON-ready facts (no arrays)."""
        return {
            "path": self.path, "samples": len(self.y), "samples_per_s": round(self.samples_per_s, 1),
            "fast_supported": self.fast_supported, "fast_reason": self.fast_reason,
            "verified_samples": self.verified_samples, "fast_matches_csim": self.fast_matches_csim,
            "csim": self.csim, "notes": self.notes, "fallback": self.fallback,
        }


def emulate(hls_model: Any, x: np.ndarray, *, prefer: str = "fast", verify_samples: int = 1000,
            keep_layers: bool = False, threads: int | None = None,
            cache_dir: str | Path | None = None, progress: Any = None) -> EmulationResult:
    """Run the written hls4ml project on ``x`` bit-exactly; see the module doc for the order.

    ``progress``: called with a line before (and after) a first C-sim compile.
    ``keep_layers``: also return every layer's output (from the fast emulator; None on the
    C-sim path) for :func:`hwflow.emu.precision.compare`'s per-layer table.
    """
    if prefer not in ("fast", "csim"):
        raise ValueError("prefer must be 'fast' or 'csim'")
    x = np.asarray(x)
    project = Path(hls_model.config.get_output_dir())
    fast = FastEmulator.from_hls_model(hls_model)
    notes: list[str] = []
    csim: CSim | None = None
    try:
        csim = CSim(project, threads=threads, cache_dir=cache_dir, progress=progress)
    except HwflowError as e:
        notes.append(f"batched C-sim unavailable: {e.message}")

    if fast.supported and prefer == "fast":
        t0 = time.perf_counter()
        if keep_layers:
            y, layers = fast.predict_layers(x, threads=threads)
        else:
            y, layers = fast.predict(x, threads=threads), None
        rate = len(x) / max(time.perf_counter() - t0, 1e-9)
        res = EmulationResult(y, "fast", rate, True, None, layer_outputs=layers, notes=notes,
                              csim=csim.describe() if csim else None)
        if csim is not None and verify_samples > 0 and len(x):
            n = min(len(x), verify_samples)
            y_c = csim.predict(x[:n])
            res.verified_samples = n
            res.fast_matches_csim = bool(np.array_equal(y_c, y[:n]))
            if not res.fast_matches_csim:  # never expected; C-sim is the reference
                notes.append("fast emulator disagreed with C-sim; using C-sim for every sample")
                return _csim_result(csim, x, fast, notes, matches=False, verified=n)
        return res
    if csim is not None:
        res = _csim_result(csim, x, fast, notes)
        if not fast.supported:
            res.fallback = fallback_line(fast, len(x))
        return res
    # last resort: hls4ml's own per-sample predict (needs ModelGraph.compile())
    t0 = time.perf_counter()
    try:
        y = np.asarray(hls_model.predict(np.ascontiguousarray(x, dtype=np.float64))).reshape(len(x), -1)
    except Exception as e:
        raise StepFailed(f"no emulation path works for {project}: {e}") from e
    rate = len(x) / max(time.perf_counter() - t0, 1e-9)
    res = EmulationResult(y, "hls4ml", rate, fast.supported, fast.reason, notes=notes)
    if not fast.supported:
        res.fallback = fallback_line(fast, len(x), "hls4ml per-sample predict")
    return res


def fallback_line(fast: FastEmulator, samples: int, engine: str = "batched C-sim") -> str:
    """The one line that says the fast engine is not used, for which layer, and what runs instead."""
    if fast.unsupported_layer is not None:
        name, cls = fast.unsupported_layer
        what = f"layer {name!r} ({cls})"
    else:
        what = "this model"
    return (f"fast engine does not cover {what}: {fast.reason}; {samples} samples run on the {engine} "
            "instead (bit-exact, slower)")


def _csim_result(csim: CSim, x: np.ndarray, fast: FastEmulator, notes: list[str], *,
                 matches: bool | None = None, verified: int = 0) -> EmulationResult:
    t0 = time.perf_counter()
    y = csim.predict(x)
    rate = len(x) / max(time.perf_counter() - t0, 1e-9)
    return EmulationResult(y, "csim", rate, fast.supported, fast.reason, verified_samples=verified,
                           fast_matches_csim=matches, csim=csim.describe(), notes=notes)
