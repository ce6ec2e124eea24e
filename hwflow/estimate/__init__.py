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
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from .catalog import FEATURES
from .interval import fit_verdict, interval_group, intervals, out_of_domain, weighted_layers, weights_unread
from .layers_json import layers_from_layers_json
from .layerspec import LayerSpec
from .model import MODEL_NAME, make_context, predict
from .project import ProjectParseError, layers_from_project, read_project
from .schedule import exp_table_notes
from .store import user_calibration_path

CALIBRATION_PATH = Path(__file__).with_name("calibration.json")
_log = logging.getLogger(__name__)

__all__ = [
    "CALIBRATION_PATH",
    "LayerSpec",
    "calibration_key",
    "ProjectParseError",
    "estimate_fit",
    "estimate_layers",
    "estimate_project",
    "layers_from_layers_json",
    "layers_from_model_graph",
    "layers_from_project",
    "load_calibration",
    "read_project",
]


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def _missing_features(doc: dict[str, Any]) -> list[str]:
    """Features of the present model a calibration has no coefficient for (a user calibration
    fitted by an earlier release would silently count them as 0)."""
    coef = doc.get("coef") if isinstance(doc.get("coef"), dict) else {}
    return [name for metric, names in FEATURES.items() for name in names
            if name not in (coef.get(metric) or {})]


def load_calibration(path: str | Path | None = None) -> dict[str, Any]:
    """The calibration estimates use: ``path`` if given; else the user's own (written by
    ``hwflow estimate --recalibrate``, in the cache) unless ``HWFLOW_CALIBRATION=shipped``;
    else the shipped ``calibration.json`` (``bench/estimator.py --fit``); priors if none exists."""
    if path is None and os.environ.get("HWFLOW_CALIBRATION", "").lower() != "shipped":
        up = user_calibration_path()
        if up.is_file():
            try:
                doc = _load(str(up), up.stat().st_mtime)
                missing = _missing_features(doc)
                if doc.get("model") == MODEL_NAME and doc.get("coef") and not missing:
                    return doc
                why = (f"written by an earlier release: no coefficient for {', '.join(missing[:3])}"
                       if doc.get("model") == MODEL_NAME and missing else f"of another model version ({doc.get('model')})")
                _log.warning("%s: calibration %s; the shipped one is used - run `hwflow estimate --recalibrate` "
                             "again", up, why)
            except (OSError, ValueError) as exc:
                _log.warning("%s: unreadable (%s): the shipped calibration is used", up, exc)
    p = Path(path) if path else CALIBRATION_PATH
    if p.is_file():
        return _load(str(p), p.stat().st_mtime)
    from .catalog import DEFAULT_HYPER, PRIORS

    return {"model": MODEL_NAME + "-uncalibrated", "hyper": dict(DEFAULT_HYPER),
            "coef": {m: dict(v) for m, v in PRIORS.items()}, "cv": {}}


def calibration_key() -> str:
    """What identifies the calibration estimates use now (for the flow's step cache key): the
    shipped one is covered by the code hash; a user calibration by its content hash."""
    if os.environ.get("HWFLOW_CALIBRATION", "").lower() == "shipped":
        return "shipped"
    up = user_calibration_path()
    if not up.is_file():
        return "shipped"
    import hashlib

    return "user:" + hashlib.sha256(up.read_bytes()).hexdigest()[:16]


def _kind_label(u: dict[str, Any]) -> str:
    """A readable name of an unmodelled layer type (``nnet::gru_stack`` -> ``GRU``)."""
    f = str(u.get("func") or u.get("kind") or "unknown").split("::")[-1]
    for key, label in (("gru", "GRU"), ("lstm", "LSTM"), ("simple_rnn", "SimpleRNN"), ("einsum_dense", "EinsumDense"),
                       ("einsum", "Einsum")):
        if key in f.lower():
            return label
    return f


def calibration_info(calib: dict[str, Any]) -> dict[str, Any]:
    """Which calibration an estimate used (shipped, or refitted with the user's own vendor runs)."""
    data = calib.get("calibration_data") or {}
    cv = calib.get("cv") or {}
    return {"name": calib.get("name") or ("user" if data.get("user") else "shipped"),
            "designs": cv.get("n_designs"), "repositories": cv.get("n_repositories"),
            "user_runs": int(data.get("user") or 0), "path": calib.get("_path")}


def estimate_fit(estimate: dict[str, Any], available: dict[str, Any]) -> dict[str, Any]:
    """fits / may not fit / does not fit on a board, from the estimate's 80 % interval
    (the point estimate alone when there is no interval)."""
    iv = estimate.get("interval_80") or {}
    res = estimate.get("resources") or {}
    by = {k: list(iv.get(k) or [res.get(k) or 0, res.get(k) or 0]) for k in ("lut", "ff", "dsp", "bram_18k")}
    verdict = fit_verdict(by, {k: float(v) for k, v in (available or {}).items() if isinstance(v, (int, float))})
    if not estimate.get("complete", True):
        verdict["notes"].append("incomplete estimate (" + ", ".join(estimate.get("not_modelled") or []) +
                                " not modelled): the totals are a lower bound")
        if verdict["verdict"] == "fits":
            verdict["verdict"] = "may not fit"
    return verdict


def estimate_layers(layers: Iterable[LayerSpec], *, part: str | None, clock_ns: float | None,
                    tool: str = "vitis_hls", mul_impl: str = "auto", family: str | None = None,
                    calibration: dict[str, Any] | None = None, tool_version: str | None = None,
                    caveats: list[str] | None = None) -> dict[str, Any]:
    """Estimate one design given as LayerSpecs.

    ``caveats``: what the front-end could not read (e.g. no top function): each is an
    ``out_of_domain`` reason and a warning, and widens the interval like one.

    ``tool`` is the HLS tool the figures should resemble (hls4ml >= 1.0 writes
    Vitis HLS projects by default); ``mul_impl`` the ``config_op mul -impl``
    setting of the build (``auto`` unless the build forces DSP or fabric).
    """
    layers = list(layers)
    calib = calibration or load_calibration()
    ctx = make_context(layers, part, clock_ns, mul_impl, family=family, tool=tool, tool_version=tool_version)
    pred = predict(layers, ctx, calib)
    unknown = [{"name": l.name, "kind": l.kind, "func": l.func} for l in layers if not l.is_known]
    not_modelled = [f"{u['name']} ({_kind_label(u)})" for u in unknown]
    warns = [f"layer {u['name']}: {_kind_label(u)} not modelled - not estimated, counted as 0; the totals "
             "are a lower bound" for u in unknown]
    if not layers:
        warns.append("no layers found: nothing to estimate (the project's top function calls no nnet:: layer)")
    if ctx.tool != "vivado_hls" and ctx.tool not in (calib.get("tool_support") or {}):
        warns.append(f"calibration has no {ctx.tool} designs: figures are for Vivado HLS")
    ood = out_of_domain(layers, ctx, calib)
    tables = exp_table_notes(layers, ctx)
    ood, warns = ood + tables, warns + tables
    if unknown:
        ood = ood + ["not every layer is modelled (totals are a lower bound)"]
    for c in caveats or []:
        ood = ood + [c]
        warns.append(c)
    if not layers:
        ood = ["no layers found in the project: nothing was estimated"]
    group = interval_group(layers)
    n_widen = len(ood)  # the group's own quantiles stand for the unread weights: no widening for them
    unread = weights_unread(layers)
    if unread:
        note = (f"no weight values for {len(unread)} of {len(weighted_layers(layers))} weighted layers "
                f"({', '.join(unread[:4])}{', ...' if len(unread) > 4 else ''}): zeros, powers of two and "
                "small constants unknown, every product counted as a full constant multiplication; "
                "interval from the calibration designs estimated without weight values (a project: put "
                "hls4ml's firmware/weights/w<i>.txt back for a narrower estimate)")
        ood, warns = ood + [note], warns + [note]
    interval_80 = intervals(pred, ctx, calib, n_widen, group) if layers and any(l.is_known for l in layers) else None
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
        "complete": bool(layers) and not unknown,
        "not_modelled": not_modelled,
        "interval_80": interval_80,
        "out_of_domain": ood,
        "calibration": calibration_info(calib),
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

    Part and clock come from the arguments, else the build script (``project.tcl`` /
    ``build_prj.tcl``), else a run already made in the folder (a C-synthesis report's
    settings), else ``hls4ml_config.yml``; the HLS tool and version from what already ran in
    the folder (``vitis_hls.log``, a report's header) when something did, else from the
    backend hls4ml wrote for. Never a figure of an earlier run.
    Raises :class:`ProjectParseError` when the directory is not an hls4ml project.
    """
    layers, facts = layers_from_project(project_dir)
    out = estimate_layers(layers, part=part or facts.get("part"), clock_ns=clock_ns or facts.get("clock_ns"),
                          tool=tool or facts.get("tool") or "vitis_hls", mul_impl=facts.get("mul_impl", "auto"),
                          family=family, calibration=calibration,
                          tool_version=None if tool else facts.get("tool_version"),
                          caveats=facts.get("caveats"))
    out["project"] = {"dir": str(project_dir), "name": facts.get("name"),
                      "part_source": "argument" if part else "project",
                      "clock_source": "argument" if clock_ns else "project",
                      "tool": tool or facts.get("tool") or "vitis_hls",
                      "tool_version": None if tool else facts.get("tool_version"),
                      "tool_source": "argument" if tool else facts.get("tool_source")}
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


