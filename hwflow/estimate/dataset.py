"""Calibration data: the public hls4ml projects of ``../shared/fixtures`` as (layers, truth) pairs.

A design is usable when its ``layers.json`` has layers (status != no_parameters_h)
and its ``truth.json`` has an HLS C-synthesis result of the hls4ml core
(``summary.hls_core`` for accelerator wrappers, else ``summary``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .layers_json import layers_from_layers_json, project_meta
from .layerspec import LayerSpec
from .weights import attach_weight_stats

METRICS = ("lut", "ff", "dsp", "bram_18k", "latency", "ii")
#: The derived calibration table shipped with the package (``bench/estimator.py --derive``
#: writes it from ``../shared/fixtures`` with our own parsers): per project the LayerSpecs,
#: the weight-aware counts, the HLS truth and its provenance - no raw vendor report.
TABLE_PATH = Path(__file__).with_name("calibration_designs.json")
TABLE_SCHEMA = "hwflow-calibration-designs/1"
#: Public hls4ml projects outside shared/fixtures (other repositories, collected after the model
#: was built; ``bench/external.py --derive`` writes it from project folders with their committed
#: reports). Never fitted on: the model's coefficients come from TABLE_PATH only. Their held-out
#: residuals (predicted by the model fitted on every fixture) join the fixtures' leave-one-
#: repository-out residuals when the 80 % intervals are calibrated, so the intervals know how
#: far designs of repositories never seen actually fall.
EXTERNAL_PATH = Path(__file__).with_name("external_designs.json")


@dataclass
class Design:
    """One fixture: what the estimator is given and what HLS reported."""

    folder: str
    repo: str
    layers: list[LayerSpec]
    part: str | None
    clock_ns: float | None
    mul_impl: str  # auto | dsp | fabric (HLS ``config_op mul -impl``)
    truth: dict[str, float | None]
    tool: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_unknown(self) -> int:
        return sum(1 for l in self.layers if not l.is_known)


def _num(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    return None


def truth_of(truth: dict[str, Any]) -> dict[str, float | None] | None:
    """The HLS figures of the hls4ml core of a fixture, or None when there are none."""
    summ = truth.get("summary") or {}
    core = summ.get("hls_core")
    if core:
        res = core.get("resources") or {}
        lat = core.get("Worst-caseLatency")
        ii = core.get("Interval-max")
        est = core.get("EstimatedClockPeriod")
    else:
        res = summ.get("hls_resources") or {}
        lat = summ.get("Worst-caseLatency")
        ii = summ.get("Interval-max")
        est = summ.get("EstimatedClockPeriod")
    if not res:
        return None
    return {
        "lut": _num(res.get("LUT")),
        "ff": _num(res.get("FF")),
        "dsp": _num(res.get("DSP")),
        "bram_18k": _num(res.get("BRAM_18K")),
        "latency": _num(lat),
        "ii": _num(ii),
        "est_clock_ns": _num(est),
    }


# The build_prj.tcl of these projects is not redistributed; the fixture notes say which
# variant forced multipliers onto fabric (``config_op mul -impl fabric``) or DSPs.
_MUL_IMPL_RE = re.compile(r"_(lut|dsp)_rf\d+$")


def mul_impl_of(folder: str, source: dict[str, Any]) -> str:
    """``config_op mul -impl`` of a fixture's build, as its folder name / note states it."""
    note = str(source.get("note") or "")
    m = _MUL_IMPL_RE.search(folder)
    if m and "config_op mul" in note:
        return "fabric" if m.group(1) == "lut" else "dsp"
    return "auto"


_CFG_IN_MODULE_RE = re.compile(r"(?:^|_)((?:[a-z]+_)?config\d+)(?=_|$)")


def layer_truth_of(folder: Path, doc: dict[str, Any], layers: list[LayerSpec]) -> dict[str, dict[str, float]]:
    """Per-layer vendor figures where the top report lists a layer's function as an instance
    whose module name carries its config struct (``conv_2d_cl_..._config5_s``): ``{layer name:
    {lut, ff, dsp, bram_18k, latency}}``. Layers inlined into the top (most Vivado HLS
    io_parallel ones) or instances naming no config are simply absent."""
    from ..parsers.csynth import csynth_instances

    top = ((doc.get("project") or {}).get("hls_top") or {})
    top = top.get("value") if isinstance(top, dict) else top
    rpt = folder / f"{top or 'myproject'}_csynth.rpt"
    if not rpt.is_file():
        return {}
    names = {l.name for l in layers}
    cfg_to_name = {}
    for call in doc.get("calls") or []:
        cfg = call.get("config")
        name = call.get("comment") or cfg
        if cfg and name in names:
            cfg_to_name[cfg] = name
    out: dict[str, dict[str, float]] = {}
    for module, rec in csynth_instances(rpt.read_text(errors="replace")).items():
        hits = _CFG_IN_MODULE_RE.findall(module)
        name = cfg_to_name.get(hits[-1]) if hits else None
        if not name:
            continue
        agg = out.setdefault(name, {})
        for k, v in rec.items():
            agg[k] = max(agg.get(k, 0.0), v) if k == "latency" else agg.get(k, 0.0) + v
    return out


def load_design(folder: Path) -> Design | None:
    """One usable fixture folder as a Design, else None (no layers or no HLS result)."""
    try:
        doc = json.loads((folder / "layers.json").read_text())
        truth = json.loads((folder / "truth.json").read_text())
        source = json.loads((folder / "source.json").read_text())
    except (OSError, ValueError):
        return None
    attach_weight_stats(doc, folder / "weights")
    layers = layers_from_layers_json(doc)
    t = truth_of(truth)
    if not layers or not t:
        return None
    meta = project_meta(doc)
    summ = truth.get("summary") or {}
    part = summ.get("part") or meta["part"]
    clock = _num(summ.get("TargetClockPeriod")) or meta["clock_ns"]
    return Design(
        folder=folder.name,
        repo=str(source.get("repo") or folder.name),
        layers=layers,
        part=part,
        clock_ns=clock,
        mul_impl=mul_impl_of(folder.name, source),
        truth=t,
        tool="vitis_hls" if "vitis" in str(summ.get("hls_tool") or "").lower() else "vivado_hls",
        extra={"tool_version": summ.get("hls_version"),
               "provenance": {"repo": source.get("repo"), "commit": source.get("commit"),
                              "commit_date": source.get("commit_date"),
                              "project_root_in_repo": source.get("project_root_in_repo")},
               "layer_truth": layer_truth_of(folder, doc, layers)},
    )


def load_designs(fixtures_dir: str | Path) -> list[Design]:
    """Every usable design under ``fixtures_dir``, in folder order."""
    out = []
    for f in sorted(Path(fixtures_dir).iterdir()):
        if f.is_dir() and (f / "layers.json").is_file():
            d = load_design(f)
            if d is not None:
                out.append(d)
    return out


def _spec_dict(spec: LayerSpec) -> dict[str, Any]:
    """A LayerSpec as a dict without its default-valued fields (keeps the table small)."""
    default = LayerSpec(name="", kind="")
    d = {}
    for k in LayerSpec.__dataclass_fields__:
        v = getattr(spec, k)
        if k in ("name", "kind") or v != getattr(default, k):
            d[k] = v
    return d


def design_to_entry(d: Design) -> dict[str, Any]:
    return {"folder": d.folder, "repo": d.repo, "tool": d.tool, "tool_version": d.extra.get("tool_version"),
            "part": d.part, "clock_ns": d.clock_ns, "mul_impl": d.mul_impl, "truth": d.truth,
            "provenance": d.extra.get("provenance") or {},
            "layer_truth": d.extra.get("layer_truth") or {},
            "layers": [_spec_dict(s) for s in d.layers]}


def design_from_entry(e: dict[str, Any]) -> Design:
    return Design(folder=e["folder"], repo=e["repo"], layers=[LayerSpec.from_dict(x) for x in e["layers"]],
                  part=e.get("part"), clock_ns=e.get("clock_ns"), mul_impl=e.get("mul_impl") or "auto",
                  truth=dict(e["truth"]), tool=e.get("tool"),
                  extra={"tool_version": e.get("tool_version"), "provenance": e.get("provenance") or {},
                         "user": bool(e.get("user")), "layer_truth": e.get("layer_truth") or {}})


def derive_table(fixtures_dir: str | Path) -> dict[str, Any]:
    """The calibration table of every usable fixture (what ``--derive`` writes)."""
    designs = load_designs(fixtures_dir)
    return {"schema": TABLE_SCHEMA,
            "note": "derived by hwflow's parsers (layers.json + weights/ + truth.json) from the public "
                    "hls4ml projects of shared/fixtures; provenance per design",
            "designs": [design_to_entry(d) for d in designs]}


def load_external() -> list[Design]:
    """The external validation designs (empty when the table is absent)."""
    return load_table(EXTERNAL_PATH) if EXTERNAL_PATH.is_file() else []


def load_table(path: str | Path | None = None) -> list[Design]:
    """Designs of the shipped (or a given) calibration table."""
    doc = json.loads(Path(path or TABLE_PATH).read_text())
    if doc.get("schema") != TABLE_SCHEMA:
        raise ValueError(f"{path or TABLE_PATH}: not a {TABLE_SCHEMA} table")
    return [design_from_entry(e) for e in doc.get("designs") or []]
