"""Energy of one design on one board, on the three bases: the block results.json carries.

:func:`design_energy` joins the pieces (data movement of the board family, the power model
with this design's dynamic part, the bases and the batch sweep) into one JSON-ready dict;
:func:`contract_keys` flattens it into the ``energy.*`` keys of docs/contract.md (issue 15).
"""

from __future__ import annotations

import math
from typing import Any

from .bases import BASES, BASIS_LABEL, energy_bases, model_for, phase_powers
from .datamove import Accelerator, for_board
from .power import per_resource_dynamic, vendor_dynamic

HEADLINE_ORDER = ("batch1_system", "batched_system", "accelerator")


def _r(v: Any, digits: int = 4) -> Any:
    """Round for people (significant digits), keep None."""
    if v is None or not isinstance(v, (int, float)) or not math.isfinite(v) or v == 0:
        return v
    return round(v, -int(math.floor(math.log10(abs(v)))) + digits - 1)


def design_energy(*, family: str, power_spec: dict[str, Any], data_movement: dict[str, Any] | None,
                  latency_cycles: float | None, ii_cycles: float | None, clock_ns: float,
                  resources: dict[str, Any] | None, in_bytes: int, out_bytes: int,
                  vendor_power_text: str | None = None, vendor_version: str | None = None,
                  timing_source: str | None = None, accuracy: float | None = None) -> dict[str, Any]:
    """The three bases for this design on this board (None figures carry their reason)."""
    dm = for_board(family, data_movement)
    if vendor_power_text:
        try:
            dyn = vendor_dynamic(vendor_power_text, vendor_version)
        except ValueError as exc:
            dyn = per_resource_dynamic(resources or {}, clock_ns, family)
            dyn["note"] = f"vendor power report unreadable ({exc}); " + dyn.get("note", "")
    else:
        dyn = per_resource_dynamic(resources or {}, clock_ns, family)
    if not ii_cycles or not latency_cycles:
        return {"basis": None, "uj_per_inference": None, "source": None,
                "note": "no latency/II figure for the accelerator: energy not estimated",
                "dynamic": dyn, "data_movement": dm.describe()}
    acc = Accelerator(in_bytes=int(in_bytes), out_bytes=int(out_bytes), latency_cycles=float(latency_cycles),
                      ii_cycles=float(ii_cycles), clock_ns=float(clock_ns))
    pm = model_for(acc, dm, power_spec, dyn)
    e = energy_bases(acc, dm, pm)
    headline = next((b for b in HEADLINE_ORDER if e[b]["uj"] is not None), None)
    out: dict[str, Any] = {
        "basis": headline,
        "basis_label": BASIS_LABEL.get(headline) if headline else None,
        "uj_per_inference": e[headline]["uj"] if headline else None,
        "source": e[headline]["source"] if headline else None,
        "timing_source": timing_source,
        "bases": {b: e[b] for b in BASES},
        "curve": e["curve"],
        "phases": phase_powers(pm, e),
        "power_model": e["power_model"],
        "dynamic": dyn,
        "data_movement": e["data_movement"],
        "io_bytes": {"in": int(in_bytes), "out": int(out_bytes)},
        "notes": list(pm.get("notes") or []),
    }
    if headline is None:
        out["note"] = e["batch1_system"].get("note") or "energy not estimated"
    if accuracy is not None and out["uj_per_inference"]:
        out["accuracy_per_joule"] = accuracy / (out["uj_per_inference"] * 1e-6)
    return out


def contract_keys(block: dict[str, Any] | None) -> dict[str, Any]:
    """The flat ``energy.*`` keys of issue 15 (rounded for people; sources kept)."""
    block = block or {}
    b = block.get("bases") or {}
    out: dict[str, Any] = {"basis": block.get("basis")}
    for name in BASES:
        fig = b.get(name) or {}
        out[f"{name}_uj"] = _r(fig.get("uj"))
        out[f"{name}_source"] = fig.get("source")
        out[f"{name}_above_idle_uj"] = _r(fig.get("above_idle_uj"))
        if fig.get("uj") is None and fig.get("note"):
            out[f"{name}_note"] = fig.get("note")
    out["best_batch"] = (b.get("batched_system") or {}).get("best_batch")
    if (b.get("batch1_system") or {}).get("interval_uj"):
        out["batch1_system_interval_uj"] = [_r(v) for v in b["batch1_system"]["interval_uj"]]
    return out


def fmt_uj(v: float | None) -> str:
    """Energy for people: nJ below 1 µJ, mJ above 1000 µJ."""
    if v is None:
        return "not estimated"
    if v < 1.0:
        return f"{v * 1e3:.3g} nJ"
    if v >= 1000.0:
        return f"{v / 1e3:.3g} mJ"
    return f"{v:.3g} µJ"


def console_lines(block: dict[str, Any] | None) -> list[str]:
    """One line per basis, each with its basis name and source."""
    block = block or {}
    b = block.get("bases") or {}
    if not b:
        return [f"energy per inference: {block.get('note') or 'not estimated'}"]
    lines = []
    for name in BASES:
        fig = b.get(name) or {}
        extra = ""
        if name == "batched_system" and fig.get("best_batch"):
            extra = f" at batch {fig['best_batch']:,}"
        if fig.get("uj") is not None and fig.get("above_idle_uj") is not None:
            extra += f", {fmt_uj(fig['above_idle_uj'])} above idle"
        val = fmt_uj(fig.get("uj")) if fig.get("uj") is not None else (fig.get("note") or "not estimated")
        star = " (headline)" if name == block.get("basis") else ""
        lines.append(f"energy/inference [{name}]{star}: {val}{extra}"
                     + (f" ({fig.get('source')})" if fig.get("source") else ""))
    return lines
