"""results.json's energy and baseline keys of issue 15, from the step outputs.

The energy block is the estimate step's (``estimate.json: energy_bases``) unless vendor
synthesis gave timing, resources or a power report: then it is recomputed with those (timing
and dynamic power ``vendor:``). A *measured* deployment keeps its figure as the headline on its
own basis (``batched_system``: the runner sends batches through the DMA); otherwise the
headline is the model's batch-1 system figure (MLPerf Tiny's basis), falling back to batched,
then accelerator-only, each saying which.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..figures import accuracy_per_joule as apj_of
from ..figures import inferences_per_joule as ipj_of
from ..figures import pick
from .design import contract_keys, design_energy

BASELINE_KEYS = ("latency_us_batch1", "uj_per_inference_batch1", "throughput_per_s_batched",
                 "uj_per_inference_batched", "best_batch", "source", "note", "device_name", "framework")


def _vendor_power_text(syn: dict[str, Any], workdir: str | None) -> str | None:
    reports = syn.get("reports") or {}
    rel = reports.get("bitfile_power") or reports.get("vsynth_power")
    if not rel or not workdir:
        return None
    p = Path(rel) if Path(rel).is_absolute() else Path(workdir) / rel
    try:
        return p.read_text(errors="replace")
    except OSError:
        return None


def energy_block(o: Any) -> dict[str, Any] | None:
    """The design's energy block (see module doc); None when no step produced timing."""
    est, syn = o.estimate or {}, o.synth or {}
    block = est.get("energy_bases")
    info = getattr(o, "board_info", None) or {}
    if not info or not est.get("io"):
        return block
    syn_timing = syn.get("latency_cycles") is not None and syn.get("source")
    text = _vendor_power_text(syn, getattr(o, "workdir", None))
    if not (syn_timing or text):
        return block
    lat = pick(syn.get("latency_cycles"), "worst", "best") if syn_timing else est.get("latency_cycles")
    ii = pick(syn.get("ii_cycles"), "max", "min") if syn_timing else est.get("ii_cycles")
    res = ((syn.get("overlay") or {}).get("ip_resources") or syn.get("resources")) if syn.get("resources") \
        else est.get("resources")
    from ..estimate.energy import io_bytes

    in_b, out_b = io_bytes(est["io"])
    return design_energy(family=info["family"], power_spec=info.get("power") or {},
                         data_movement=info.get("data_movement"), latency_cycles=lat, ii_cycles=ii,
                         clock_ns=o.clock_period_ns, resources=res, in_bytes=in_b, out_bytes=out_b,
                         vendor_power_text=text, vendor_version=syn.get("version"),
                         timing_source=syn.get("source") if syn_timing else est.get("source"))


def apply(r: dict[str, Any], o: Any, accuracy: float | None = None) -> None:
    """Add issue 15's keys to a results dict being built (``r["energy"]``, ``r["baseline"]``)."""
    block = energy_block(o)
    e = r.setdefault("energy", {})
    measured = str(e.get("source") or "").startswith("measured")
    if block:
        e.update(contract_keys(block))
        r["energy_model"] = {k: block.get(k) for k in ("basis_label", "timing_source", "phases", "power_model",
                                                      "dynamic", "data_movement", "io_bytes", "notes", "curve",
                                                      "note")}
        if "bases" in block:
            r["energy_model"]["bases"] = block["bases"]
    if measured:
        e["basis"] = "batched_system"
        e["basis_note"] = "measured on the board: batches through the DMA, run-phase energy / inferences"
    elif block and block.get("basis") == "accelerator" and e.get("source") == "emulated" \
            and e.get("uj_per_inference") is not None:
        # the emulated board's figure (power trace x II x clock) is on the model's own headline
        # basis: it stays the headline, labelled emulated
        e["basis"] = "accelerator"
        e["mode"] = block.get("basis_label")
    elif block and block.get("uj_per_inference") is not None:
        if e.get("uj_per_inference") is not None and e.get("source") == "emulated":
            # the emulated deployment's figure is power x II x clock: the accelerator basis
            e["emulated"] = {"basis": "accelerator", "uj_per_inference": e.get("uj_per_inference"),
                             **{k: e.pop(k) for k in ("dynamic_uj_per_inference", "model", "uncertainty_uj")
                                if k in e}}
        e["uj_per_inference"] = _round(block["uj_per_inference"])
        e["source"] = block.get("source")
        e["mode"] = block.get("basis_label")
        e["inferences_per_joule"] = ipj_of(e["uj_per_inference"])  # from the figure shown, so they agree
        e["accuracy_per_joule"] = apj_of(accuracy, e["uj_per_inference"]) if accuracy is not None else None
    elif block is not None:
        e["basis"] = None
        e["note"] = block.get("note")
    base = getattr(o, "baseline", None) or {}
    if base:
        r["baseline"] = {}
        for dev in ("cpu", "gpu"):
            d = base.get(dev)
            if isinstance(d, dict):
                r["baseline"][dev] = {k: d.get(k) for k in BASELINE_KEYS}
                r["baseline"][dev]["sweep"] = d.get("sweep")
        if "gpu" not in r["baseline"]:
            r["baseline"]["gpu"] = {"status": "no GPU",
                                    "note": base.get("gpu_note") or "no GPU"}


def _round(v: float) -> float:
    from .design import _r

    return _r(v)
