"""The user's calibration store: every vendor C-synthesis run teaches the estimator.

When ``hwflow synth`` produces real vendor figures (Vivado HLS / Vitis HLS), the pair
(the estimator's view of the project - its LayerSpecs with weight-aware counts - and the
vendor's LUT / FF / DSP / BRAM / latency / II, with tool, version and part) is stored as
one JSON file in ``<cache>/calibration/runs/`` (``$HWFLOW_CACHE`` or
``~/.cache/hwflow``). ``export_runs`` writes them as one table file (the same schema as
the shipped ``calibration_designs.json``), which another machine can pass to
``hwflow estimate --recalibrate --with FILE``.

``recalibrate`` refits on the shipped table plus the stored runs (plus ``--with`` files)
and writes ``<cache>/calibration/user_calibration.json``; from then on estimates use it
and say so (``calibration: {name: "user", user_runs: N, ...}``). The user's runs form
one repository of their own in the leave-one-repository-out evaluation, so the published
error and the intervals stay honest about designs never seen.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..paths import cache_dir
from .dataset import TABLE_SCHEMA, Design, design_from_entry, design_to_entry, load_external, load_table
from .fit import calibration_document, usable
from .project import ProjectParseError, layers_from_project

USER_REPO = "user:own-runs"
SHIPPED_CALIBRATION = Path(__file__).with_name("calibration.json")


def store_dir() -> Path:
    """``$HWFLOW_CALIBRATION_STORE``, else ``<cache>/calibration`` (``$HWFLOW_CACHE`` or ~/.cache/hwflow)."""
    env = os.environ.get("HWFLOW_CALIBRATION_STORE")
    if env:
        return Path(env)
    return cache_dir() / "calibration"


def user_calibration_path() -> Path:
    return store_dir() / "user_calibration.json"


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def vendor_truth(report: dict[str, Any]) -> dict[str, float | None] | None:
    """Vendor figures of a normalised report (``hwflow parse`` form) in the estimator's metrics."""
    res = report.get("resources") or {}
    if not res or res.get("lut") is None:
        return None
    lat = (report.get("latency_cycles") or {}).get("worst")
    ii = (report.get("ii_cycles") or {}).get("max")

    def num(v: Any) -> float | None:
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    return {"lut": num(res.get("lut")), "ff": num(res.get("ff")), "dsp": num(res.get("dsp")),
            "bram_18k": num(res.get("bram_18k")), "latency": num(lat), "ii": num(ii),
            "est_clock_ns": num((report.get("clock_ns") or {}).get("estimated"))}


def record_run(project_dir: str | Path, report: dict[str, Any], *, tool: str | None = None,
               version: str | None = None, part: str | None = None, clock_ns: float | None = None,
               label: str | None = None) -> Path | None:
    """Store one (project features, vendor figures) pair; returns the file, or None when the
    report has no HLS resources or the project cannot be read. Idempotent per project+report."""
    truth = vendor_truth(report)
    if not truth:
        return None
    try:
        layers, facts = layers_from_project(project_dir)
    except (ProjectParseError, OSError):
        return None
    if not layers:
        return None
    tool = tool or report.get("tool") or facts.get("tool")
    tool = "vitis_hls" if "vitis" in str(tool or "").lower() else "vivado_hls"
    key = hashlib.sha256(json.dumps([str(Path(project_dir).resolve()), truth, [l.to_dict() for l in layers]],
                                    sort_keys=True, default=str).encode()).hexdigest()[:16]
    d = Design(folder=f"user-{label or 'run'}-{key}", repo=USER_REPO, layers=layers,
               part=part or report.get("part") or facts.get("part"),
               clock_ns=clock_ns or (report.get("clock_ns") or {}).get("target") or facts.get("clock_ns"),
               mul_impl=facts.get("mul_impl", "auto"), truth=truth, tool=tool,
               extra={"tool_version": version or report.get("version"), "user": True,
                      "provenance": {"repo": USER_REPO, "label": label}})
    entry = design_to_entry(d)
    entry["user"] = True
    path = store_dir() / "runs" / f"{key}.json"
    _atomic_write(path, json.dumps(entry, sort_keys=True) + "\n")
    return path


def stored_runs() -> list[Design]:
    runs = []
    for p in sorted((store_dir() / "runs").glob("*.json")):
        try:
            e = json.loads(p.read_text())
            e["user"] = True
            runs.append(design_from_entry(e))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a damaged file is skipped, not fatal
    return runs


def export_runs(path: str | Path) -> int:
    """Write every stored run as one calibration table file; returns how many."""
    runs = stored_runs()
    doc = {"schema": TABLE_SCHEMA, "note": "hwflow user calibration runs (vendor C-synthesis results)",
           "designs": [{**design_to_entry(d), "user": True} for d in runs]}
    _atomic_write(Path(path), json.dumps(doc, sort_keys=True) + "\n")
    return len(runs)


def load_with(paths: list[str | Path]) -> list[Design]:
    """Designs of ``--with`` table files (user runs exported elsewhere); ValueError naming the file."""
    out = []
    for p in paths:
        try:
            designs = load_table(p)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{p}: not a calibration table ({exc})") from None
        for d in designs:
            d.extra["user"] = True
            d.repo = d.repo if d.repo.startswith("user:") else USER_REPO
        out.extend(designs)
    return out


def recalibrate(with_files: list[str | Path] | None = None, *, progress: Any = None,
                quick: bool = False) -> dict[str, Any]:
    """Refit on the shipped table + stored runs + ``with_files``; write the user calibration.

    Returns a summary (designs, user runs, held-out error, interval coverage, path).
    ``quick`` keeps the shipped hyperparameters (no grid search; seconds instead of a minute or two).
    """
    user = stored_runs() + load_with(list(with_files or []))
    if not user:
        raise ValueError("no user runs to calibrate on: run `hwflow synth` with a vendor tool first, "
                         "or pass --with FILE (an exported table)")
    used, skipped = usable(load_table() + user)
    n_user = sum(1 for d in used if d.extra.get("user"))
    hyper = None
    if quick:
        hyper = json.loads(SHIPPED_CALIBRATION.read_text()).get("hyper")
    doc, cv, coverage = calibration_document(used, progress=progress, name="user", hyper=hyper,
                                             external=load_external())
    path = user_calibration_path()
    doc["_path"] = str(path)
    _atomic_write(path, json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return {"path": str(path), "designs": len(used), "user_runs": n_user,
            "user_runs_skipped": {k: v for k, v in skipped.items() if k.startswith("user-")},
            "heldout": cv["per_metric"], "interval_80_coverage": coverage}


def record_synth(project_dir: str | Path, synth: dict[str, Any], *, part: str | None = None,
                 label: str | None = None) -> Path | None:
    """The synth step's hook: store the HLS core's vendor figures of ``synth.json`` (its ``hls``
    block - C-synthesis of the hls4ml core, what the estimator predicts) with the project."""
    hls = synth.get("hls") or {}
    if not hls.get("resources"):
        return None
    src = str(hls.get("source") or synth.get("source") or "")
    if not src.startswith("vendor:"):
        return None  # only real vendor figures calibrate (never open-source or estimated ones)
    return record_run(project_dir, hls, tool=synth.get("tool") or src, version=synth.get("version"),
                      part=part, label=label)
