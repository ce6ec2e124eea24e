"""Resource / latency / energy estimates of hls4ml designs without vendor tools.

API (see CONTRACT.md, ``hwflow estimate --project DIR --json``)::

    estimate_project(project_dir, *, part=None, clock_ns=None) -> dict
    estimate_layers(layers, *, part, clock_ns) -> dict
    layers_from_project(project_dir) -> (list[LayerSpec], facts)
    layers_from_layers_json(path_or_doc) -> list[LayerSpec]
    layers_from_model_graph(hls_model) -> list[LayerSpec]

Returned dict: ``{"resources": {"lut","ff","dsp","bram_18k","uram"}, "latency_cycles",
"ii_cycles", "latency_s", "ii_s", "layers": [...], "source": "estimate:<model>",
"error": {metric: {"mape", "n", ...}}, "warnings": [...], "unknown_layers": [...], ...}``.
Every figure is an estimate (``source`` says so); ``error`` is the held-out error of
the calibration (leave-one-repository-out over public hls4ml projects), so a reader
knows how far to trust it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from .layers_json import layers_from_layers_json
from .layerspec import LayerSpec
from .model import MODEL_NAME, make_context, predict
from .project import ProjectParseError, layers_from_project, read_project

CALIBRATION_PATH = Path(__file__).with_name("calibration.json")
_log = logging.getLogger(__name__)

__all__ = [
    "CALIBRATION_PATH",
    "LayerSpec",
    "ProjectParseError",
    "estimate_layers",
    "estimate_project",
    "layers_from_layers_json",
    "layers_from_model_graph",
    "layers_from_project",
    "load_calibration",
    "read_project",
]


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def load_calibration(path: str | Path | None = None) -> dict[str, Any]:
    """The fitted coefficients (``bench/estimator.py --fit`` writes them); priors if none exist."""
    p = Path(path) if path else CALIBRATION_PATH
    if p.is_file():
        return _load(str(p))
    from .model import DEFAULT_HYPER, PRIORS

    return {"model": MODEL_NAME + "-uncalibrated", "hyper": dict(DEFAULT_HYPER),
            "coef": {m: dict(v) for m, v in PRIORS.items()}, "cv": {}}


def estimate_layers(layers: Iterable[LayerSpec], *, part: str | None, clock_ns: float | None,
                    tool: str = "vitis_hls", mul_impl: str = "auto", family: str | None = None,
                    calibration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Estimate one design given as LayerSpecs.

    ``tool`` is the HLS tool the figures should resemble (hls4ml >= 1.0 writes
    Vitis HLS projects by default); ``mul_impl`` the ``config_op mul -impl``
    setting of the build (``auto`` unless the build forces DSP or fabric).
    """
    layers = list(layers)
    calib = calibration or load_calibration()
    ctx = make_context(layers, part, clock_ns, mul_impl, family=family, tool=tool)
    pred = predict(layers, ctx, calib)
    unknown = [{"name": l.name, "kind": l.kind, "func": l.func} for l in layers if not l.is_known]
    warns = [f"layer {u['name']}: unknown type {u['func'] or u['kind']} - not estimated, counted as 0"
             for u in unknown]
    if not layers:
        warns.append("no layers found: nothing to estimate")
    if ctx.tool not in (calib.get("tool_factor") or {}) and ctx.tool != "vivado_hls":
        warns.append(f"calibration has no {ctx.tool} designs: figures are for Vivado HLS")
    sup = (calib.get("tool_factor_support") or {}).get(ctx.tool)
    if sup and len(sup.get("repositories", [])) < 3:
        warns.append(f"{ctx.tool} scaling of LUT/FF/latency rests on {sup.get('n_designs')} designs of "
                     f"{len(sup.get('repositories', []))} repository ({', '.join(sup.get('repositories', []))}); "
                     "treat those figures as rough")
    if not part:
        warns.append("no FPGA part given: DSP slice width assumed (UltraScale+ DSP48E2)")
    for w in warns:
        _log.debug(w)
    any_known = any(l.is_known for l in layers)
    lat = round(pred["latency"]) if any_known else None
    ii = round(pred["ii"]) if any_known else None
    clk = float(clock_ns) if clock_ns else None
    name = calib.get("model", MODEL_NAME)
    cv = (calib.get("cv") or {}).get("per_metric") or {}
    # MAPE in percent (45.4 means 45.4 %), held out by repository, designs with truth 0 excluded.
    error = {k: {"mape": v.get("mape"), "median_ape": v.get("median_ape"), "n": v.get("n"), "unit": "percent",
                 "method": "leave-one-repository-out"} for k, v in cv.items()}
    return {
        "resources": {"lut": round(pred["lut"]), "ff": round(pred["ff"]),
                      "dsp": round(pred["dsp"]), "bram_18k": round(pred["bram_18k"]), "uram": 0},
        "latency_cycles": lat,
        "ii_cycles": ii,
        "latency_s": lat * clk * 1e-9 if clk and lat is not None else None,
        "ii_s": ii * clk * 1e-9 if clk and ii is not None else None,
        # With unknown layers the totals cover only the modelled ones (a lower bound).
        "complete": not unknown,
        "clock_ns": clk,
        "part": part,
        "family": ctx.family.name,
        "tool": ctx.tool,
        "io_type": ctx.io_type,
        "layers": pred["layers"],
        "unknown_layers": unknown,
        "warnings": warns,
        "source": f"estimate:{name}",
        "error": error,
    }


def estimate_project(project_dir: str | Path, *, part: str | None = None, clock_ns: float | None = None,
                     tool: str | None = None, family: str | None = None,
                     calibration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Estimate an hls4ml project directory (ours or anyone's).

    Part and clock come from the project (``project.tcl`` / ``build_prj.tcl`` /
    ``hls4ml_config.yml``) unless given; the HLS tool from its backend.
    Raises :class:`ProjectParseError` when the directory is not an hls4ml project.
    """
    layers, facts = layers_from_project(project_dir)
    out = estimate_layers(layers, part=part or facts.get("part"), clock_ns=clock_ns or facts.get("clock_ns"),
                          tool=tool or facts.get("tool") or "vitis_hls", mul_impl=facts.get("mul_impl", "auto"),
                          family=family, calibration=calibration)
    out["project"] = {"dir": str(project_dir), "name": facts.get("name"),
                      "part_source": "argument" if part else "project",
                      "clock_source": "argument" if clock_ns else "project"}
    return out


def with_energy(estimate: dict[str, Any], power: dict[str, Any] | None,
                accuracy: float | None = None) -> dict[str, Any]:
    """Add ``energy`` (board power x estimated time, batch-1 and streaming) to an estimate.

    ``power`` is a board file's ``power:`` block (``active_w``, ``idle_w``, ``source``).
    The result's ``source`` stays ``estimate:board-power-model``: the time is estimated
    even where the power figure was measured (its origin is kept in ``power_source``).
    """
    from .energy import board_energy

    power = power or {}
    e = board_energy(power.get("active_w"), power.get("idle_w"), estimate.get("latency_s"),
                     estimate.get("ii_s"), accuracy)
    e["power_source"] = power.get("source")
    out = dict(estimate)
    out["energy"] = e
    return out


def layers_from_model_graph(hls_model: Any) -> list[LayerSpec]:
    """Front-end (c): LayerSpecs of an in-memory hls4ml ``ModelGraph`` (no files written).

    Uses the C++ text hls4ml would write (each layer's ``config_cpp`` /
    ``function_cpp`` and its precision typedefs), parsed by the project front-end,
    so the three front-ends agree by construction.
    """
    from .project import parse_calls, parse_defines, parse_structs, parse_typedefs, resolve_type
    from .structs import layers_from_document

    params, defines, funcs = [], [], []
    seen: set[str] = set()
    for layer in hls_model.get_layers():
        get_precision = getattr(layer, "get_layer_precision", None)
        for tname, tvar in (get_precision() if get_precision else {}).items():
            if tname not in seen:
                seen.add(tname)
                defines.append(tvar.definition_cpp())
        cfg = layer.get_attr("config_cpp", None)
        if cfg:
            params.append(f"// {layer.name}\n{cfg}\n")
        func = layer.get_attr("function_cpp", None)
        if func:
            for f in (func if isinstance(func, (list, tuple, set)) else [func]):
                funcs.append(f"{f} // {layer.name}")
    defines_txt = "\n".join(defines)
    params_txt = "\n".join(params)
    defs = parse_defines(defines_txt)
    typedefs = {**parse_typedefs(defines_txt), **parse_typedefs(params_txt)}
    structs = parse_structs(params_txt, defs, typedefs)
    calls = parse_calls("\n".join(funcs), {s["name"] for s in structs})
    cfg = hls_model.config
    doc = {
        "layers": structs, "calls": calls,
        "typedefs": {k: {"type": v, "resolved": resolve_type(k, typedefs)} for k, v in typedefs.items()},
        "hls4ml_config": {"IOType": cfg.get_config_value("IOType"),
                          "Model": {"Strategy": (cfg.get_config_value("HLSConfig") or {}).get("Model", {}).get("Strategy")}},
    }
    return layers_from_document(doc)


