"""Energy per inference: a board-level view (power x time) and a chip-level view (QKeras QTools).

Why two views. On the small Zynq boards this project targets, board power
hardly moves with the model (about 1.6 W on a PYNQ-Z2 running hls4ml designs
in MLPerf Tiny), so the energy a user pays per inference is close to
*board power x time per inference*: for batch-1 the time is the latency, for a
continuous stream it is the initiation interval. QTools instead sums the
arithmetic and memory-access energy of the quantized operations (45 nm
Horowitz figures) - a chip-level lower bound useful to compare quantizations,
not a board measurement.
"""

from __future__ import annotations

import math
from typing import Any

BOARD_SOURCE = "estimate:board-power-model"
QTOOLS_SOURCE = "estimate:qkeras-qtools-horowitz45nm"


def _pos(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def board_energy(active_w: float | None, idle_w: float | None, latency_s: float | None,
                 ii_s: float | None, accuracy: float | None = None) -> dict[str, Any]:
    """Energy per inference of a board drawing ``active_w`` while it infers.

    * batch-1 (one request at a time): the board is busy for the latency, so
      E = active_w x latency_s;
    * streaming (back-to-back inputs): one result leaves every II, so
      E = active_w x ii_s.

    ``above_idle_uj`` gives the same with (active - idle) power, the part the
    accelerator adds. ``accuracy_per_joule`` = accuracy (a fraction) x
    inferences per joule. Missing or non-positive inputs give None figures and a
    ``note`` - never a made-up number.
    """
    p = _pos(active_w)
    p_idle = _pos(idle_w)
    times = {"batch1": _pos(latency_s), "streaming": _pos(ii_s)}
    acc = None if accuracy is None else float(accuracy)
    uj: dict[str, float | None] = {}
    ipj: dict[str, float | None] = {}
    apj: dict[str, float | None] = {}
    above: dict[str, float | None] = {}
    for mode, t in times.items():
        if p is None or t is None:
            uj[mode] = ipj[mode] = apj[mode] = above[mode] = None
            continue
        e_j = p * t
        uj[mode] = e_j * 1e6
        ipj[mode] = 1.0 / e_j
        apj[mode] = acc * ipj[mode] if acc is not None else None
        above[mode] = (p - p_idle) * t * 1e6 if p_idle is not None and p >= p_idle else None
    notes = []
    if p is None:
        notes.append("board active power unknown: no energy figure")
    if times["batch1"] is None:
        notes.append("latency unknown: no batch-1 figure")
    if times["streaming"] is None:
        notes.append("initiation interval unknown: no streaming figure")
    if p is not None and p_idle is not None and p < p_idle:
        notes.append("active power below idle power: check the board file")
    return {
        "uj_per_inference": uj,
        "inferences_per_joule": ipj,
        "accuracy_per_joule": apj,
        "above_idle_uj": above,
        "power_w": {"active": p, "idle": p_idle},
        "time_s": times,
        "source": BOARD_SOURCE,
        "notes": notes,
    }


class QToolsError(RuntimeError):
    """QTools could not analyse the model (unsupported layer or quantizer)."""


def qtools_energy(keras_model: Any, *, input_bits: int = 8, weights_on_memory: str = "sram",
                  activations_on_memory: str = "sram", min_sram_size_bits: int = 8 * 16 * 1024 * 1024
                  ) -> dict[str, Any]:
    """Arithmetic + memory energy (pJ per inference) of a QKeras model from ``qkeras.qtools``.

    ``input_bits``: the quantizer QTools assumes for the model input (the
    design's input precision). Weights and activations are taken to sit in
    on-chip SRAM (what an FPGA's BRAM/registers are; DRAM figures would
    describe a different machine). Raises :class:`QToolsError` with QTools'
    own message when it cannot handle the model - the caller reports that
    instead of a number.
    """
    try:
        from qkeras import quantized_bits
        from qkeras.qtools import run_qtools
        from qkeras.qtools import settings as qtools_settings
    except ImportError as exc:  # pragma: no cover - qkeras is a pinned dependency
        raise QToolsError(f"qkeras.qtools is not importable: {exc}") from exc
    try:
        q = run_qtools.QTools(
            keras_model,
            process="horowitz",
            source_quantizers=[quantized_bits(input_bits, 0, 1)],
            is_inference=True,
            weights_path=None,
            keras_quantizer="fp32",
            keras_accumulator="fp32",
            for_reference=False,
        )
        energy_dict = q.pe(weights_on_memory=weights_on_memory, activations_on_memory=activations_on_memory,
                           min_sram_size=min_sram_size_bits, rd_wr_on_io=False)
        cfg = qtools_settings.cfg.include_energy
        total = q.extract_energy_sum(cfg, energy_dict)
        profile = q.extract_energy_profile(cfg, energy_dict)
    except Exception as exc:
        raise QToolsError(f"QTools failed on this model ({type(exc).__name__}: {exc}); "
                          "it supports QDense/QConv/QActivation/pooling/BatchNorm layers of "
                          "QKeras with fixed quantizers") from exc
    per_layer = {name: float(v.get("total", 0.0)) for name, v in profile.items()}
    # the arithmetic share of each layer (what a multiply by a constant zero saves in hardware)
    per_layer_op = {name: float((v.get("energy") or {}).get("op_cost", 0.0)) for name, v in profile.items()}
    return {
        "pj_per_inference": float(total),
        "uj_per_inference": float(total) * 1e-6,
        "per_layer_pj": per_layer,
        "per_layer_op_pj": per_layer_op,
        "memory": {"weights": weights_on_memory, "activations": activations_on_memory},
        "source": QTOOLS_SOURCE,
    }


# -- issue 15: the three energy bases of a design in the flow -----------------------------------

def io_bytes(io: dict[str, Any]) -> tuple[int, int]:
    """Bytes per sample in and out on the overlay's stream, from the package's I/O spec."""
    from ..runtime.driver import IOSpec

    spec = IOSpec.from_dict(io)
    return spec.in_bytes, spec.out_bytes


def energy_for(board: Any, *, io: dict[str, Any], latency_cycles: float | None, ii_cycles: float | None,
               clock_ns: float, resources: dict[str, Any] | None, timing_source: str | None,
               accuracy: float | None = None, vendor_power_text: str | None = None,
               vendor_version: str | None = None) -> dict[str, Any]:
    """:func:`hwflow.energy.design.design_energy` for a board object of ``hwflow.config``."""
    from ..energy.design import design_energy

    in_b, out_b = io_bytes(io)
    return design_energy(family=board.family, power_spec=board.power.model_dump(),
                         data_movement=board.data_movement.model_dump(), latency_cycles=latency_cycles,
                         ii_cycles=ii_cycles, clock_ns=clock_ns, resources=resources, in_bytes=in_b,
                         out_bytes=out_b, vendor_power_text=vendor_power_text, vendor_version=vendor_version,
                         timing_source=timing_source, accuracy=accuracy)
