"""Figures a sweep can optimise or constrain, read from a point's record.

A metric is a name users write in a sweep file (``accuracy``, ``lut``, ``energy_qtools``)
mapped to where the figure lives in the point's results, with a default goal. Any dotted
path into results.json (``resources.lut``, ``csim.exact_fraction``) is accepted too, so a
figure added by another step can be optimised without touching this table. A figure that no
step has produced is None: never invented, and never ranked as if it were a number.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable

from ..results import Results


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d if isinstance(d, (int, float)) and not isinstance(d, bool) else None


def _accuracy(r: dict[str, Any]) -> float | None:
    # The firmware's own accuracy when it was emulated, else the QKeras model's.
    res = Results(r)
    v = res.accuracy("csim").value
    return v if v is not None else res.accuracy("quantized").value


def _utilization_max(r: dict[str, Any]) -> float | None:
    vals = [_get(r, "utilization", k) for k in ("lut", "ff", "dsp", "bram_18k")]
    vals = [v for v in vals if v is not None]
    return max(vals) if vals else None


@dataclass(frozen=True)
class Metric:
    name: str
    goal: str
    unit: str
    description: str
    read: Callable[[dict[str, Any]], float | None]
    source: Callable[[dict[str, Any]], str | None] = lambda r: None


def _src(*keys: str) -> Callable[[dict[str, Any]], str | None]:
    def read(r: dict[str, Any]) -> str | None:
        d: Any = r
        for k in keys:
            d = d.get(k) if isinstance(d, dict) else None
        return d if isinstance(d, str) else None
    return read


def _accuracy_source(r: dict[str, Any]) -> str | None:
    if _get(r, "accuracy", "csim") is not None:
        return "emulated (C-sim of the firmware)"
    return "software (QKeras)" if _get(r, "accuracy", "quantized") is not None else None


_SOURCES: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "accuracy": _accuracy_source, "accuracy_csim": lambda r: "emulated (C-sim of the firmware)",
    "lut": _src("resources", "source"), "ff": _src("resources", "source"), "dsp": _src("resources", "source"),
    "bram_18k": _src("resources", "source"), "utilization": _src("resources", "source"),
    "latency_cycles": _src("latency", "source"), "latency": _src("latency", "source"),
    "ii_cycles": _src("latency", "source"), "energy": _src("energy", "source"),
    "energy_qtools": _src("qtools", "source"), "energy_qtools_sparse": _src("qtools", "sparse_source"),
}


def _m(name: str, goal: str, unit: str, description: str, read: Callable[[dict[str, Any]], Any]) -> Metric:
    return Metric(name, goal, unit, description, read, _SOURCES.get(name, lambda r: None))


METRICS: dict[str, Metric] = {m.name: m for m in [
    _m("accuracy", "maximize", "", "test accuracy of the firmware (C-sim) if emulated, else of the QKeras model",
       _accuracy),
    _m("accuracy_quantized", "maximize", "", "test accuracy of the QKeras model",
       lambda r: _get(r, "accuracy", "quantized")),
    _m("accuracy_float", "maximize", "", "test accuracy of the float reference",
       lambda r: _get(r, "accuracy", "float")),
    _m("accuracy_csim", "maximize", "", "test accuracy of the emulated firmware",
       lambda r: _get(r, "accuracy", "csim")),
    _m("accuracy_no_distillation", "maximize", "", "QKeras accuracy of the same student trained without the teacher",
       lambda r: _get(r, "train", "accuracy_quantized_no_distillation")),
    _m("lut", "minimize", "", "LUTs (vendor report, else estimate)", lambda r: _get(r, "resources", "lut")),
    _m("ff", "minimize", "", "flip-flops (vendor report, else estimate)", lambda r: _get(r, "resources", "ff")),
    _m("dsp", "minimize", "", "DSP slices (vendor report, else estimate)", lambda r: _get(r, "resources", "dsp")),
    _m("bram_18k", "minimize", "", "18 Kb block RAMs", lambda r: _get(r, "resources", "bram_18k")),
    _m("utilization", "minimize", "", "largest utilization fraction of the board (LUT, FF, DSP, BRAM)",
       _utilization_max),
    _m("latency_cycles", "minimize", "cycles", "latency in clock cycles", lambda r: _get(r, "latency", "cycles")),
    _m("latency", "minimize", "s", "latency in seconds (cycles x target clock)", lambda r: Results(r).latency.value),
    _m("ii_cycles", "minimize", "cycles", "initiation interval", lambda r: _get(r, "latency", "ii_cycles")),
    _m("energy", "minimize", "uJ", "energy per inference on the results' headline basis (energy.basis: "
       "measured batched system, else the model's batch-1 system)",
       lambda r: _get(r, "energy", "uj_per_inference")),
    _m("energy_qtools", "minimize", "pJ", "QKeras QTools energy per inference (Horowitz 45 nm model)",
       lambda r: _get(r, "qtools", "energy_pj")),
    _m("energy_qtools_sparse", "minimize", "pJ",
       "QTools energy with each layer's arithmetic scaled by its non-zero weight fraction",
       lambda r: _get(r, "qtools", "energy_sparse_pj")),
    _m("parameters", "minimize", "", "trainable parameters", lambda r: _get(r, "train", "parameters")),
    _m("nonzero_weights", "minimize", "", "weights that are not zero after quantization",
       lambda r: _get(r, "train", "nonzero_weights")),
    _m("sparsity", "maximize", "", "fraction of weights that are zero after quantization",
       lambda r: _get(r, "train", "sparsity")),
]}


def check_metric_name(name: str) -> str:
    """A known metric, or a dotted path into results.json; else a "did you mean" error."""
    if name in METRICS:
        return name
    if "." in name and all(part.replace("_", "").isalnum() for part in name.split(".")):
        return name
    hint = difflib.get_close_matches(name, list(METRICS), n=1, cutoff=0.5)
    msg = f"unknown metric '{name}'"
    msg += f" (did you mean '{hint[0]}'?)" if hint else f" (known: {', '.join(METRICS)}, or a dotted results.json path)"
    raise ValueError(msg)


def read_metric(name: str, record: dict[str, Any]) -> float | None:
    """The value of a metric for one point record (``record['results']``), None when unknown."""
    r = record.get("results") or {}
    m = METRICS.get(name)
    if m is not None:
        v = m.read(r)
    else:
        v = _get(r, *name.split("."))
    return float(v) if v is not None else None


def metric_source(name: str, record: dict[str, Any]) -> str | None:
    """Where a point's figure comes from (``estimate:...``, ``vendor:...``, emulated), if known."""
    m = METRICS.get(name)
    return m.source(record.get("results") or {}) if m else None


def metric_label(name: str) -> str:
    m = METRICS.get(name)
    if m is None:
        return name
    return f"{name} ({m.unit})" if m.unit else name


def describe_metric(name: str) -> str:
    m = METRICS.get(name)
    return m.description if m else f"results.json {name}"


def evaluate_constraints(record: dict[str, Any], fits: bool, max_utilization: float,
                         limits: dict[str, Any]) -> tuple[bool | None, list[str]]:
    """(feasible, reasons). feasible is None when a constraint cannot be checked (figure unknown).

    "Fits on the board" is every utilization fraction at most ``max_utilization``; with no
    resource figures (no estimate, no synthesis) it is unknown, not assumed.
    """
    reasons: list[str] = []
    unknown: list[str] = []
    r = record.get("results") or {}
    if fits:
        utils = {k: _get(r, "utilization", k) for k in ("lut", "ff", "dsp", "bram_18k")}
        known = {k: v for k, v in utils.items() if v is not None}
        if not known:
            unknown.append("fits (no resource figures)")
        for k, v in known.items():
            if v > max_utilization:
                reasons.append(f"{k} utilization {v:.0%} > {max_utilization:.0%}")
    for name, lim in limits.items():
        v = read_metric(name, record)
        lo = getattr(lim, "min", None) if not isinstance(lim, dict) else lim.get("min")
        hi = getattr(lim, "max", None) if not isinstance(lim, dict) else lim.get("max")
        if v is None:
            unknown.append(f"{name} (unknown)")
            continue
        if lo is not None and v < lo:
            reasons.append(f"{name} {v:.4g} < {lo:.4g}")
        if hi is not None and v > hi:
            reasons.append(f"{name} {v:.4g} > {hi:.4g}")
    if reasons:
        return False, reasons
    if unknown:
        return None, [f"not checked: {u}" for u in unknown]
    return True, []


