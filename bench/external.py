#!/usr/bin/env python3
"""Score the shipped estimator on public hls4ml projects that were never used for fitting.

    bench/external.py --derive DIR [DIR ...]   read hls4ml project folders (firmware/ + the HLS
                                               report their repository committed + source.json
                                               with repo / commit / path) with hwflow's own
                                               parsers, write the table
                                               hwflow/estimate/external_designs.json
    bench/external.py [--json]                 predict every design of that table with the
                                               shipped calibration and print the error per
                                               metric, per sub-population and per design, and
                                               how often the 80 % interval holds the truth

``bench/estimator.py`` reports leave-one-repository-out errors on the calibration fixtures;
those folds still share the fixtures' selection (and our choices made while looking at them).
This set is a second, independent check: other repositories, collected after the model was
built, never fitted on. The table keeps what our parsers derive (LayerSpecs with weight-aware
counts, the HLS figures, provenance) - never the raw reports.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hwflow.errors import BadInput  # noqa: E402
from hwflow.estimate import estimate_layers  # noqa: E402
from hwflow.estimate.dataset import (  # noqa: E402
    EXTERNAL_PATH,
    METRICS,
    TABLE_SCHEMA,
    Design,
    design_from_entry,
    design_to_entry,
)
from hwflow.estimate.project import ProjectParseError, layers_from_project  # noqa: E402
from hwflow.estimate.store import vendor_truth  # noqa: E402
from hwflow.parsers.csynth import parse_csynth  # noqa: E402

TABLE = EXTERNAL_PATH
#: the calibration table's schema: the same file can be handed to
#: ``hwflow estimate --recalibrate --with hwflow/estimate/external_designs.json``
SCHEMA = TABLE_SCHEMA
_KEYS = {"lut": "lut", "ff": "ff", "dsp": "dsp", "bram_18k": "bram_18k", "latency": "latency_cycles",
         "ii": "ii_cycles"}


def find_report(project: Path) -> Path | None:
    """The top-level C-synthesis report of a project: solution csynth.xml, then <top>_csynth.xml,
    then <top>_csynth.rpt (never a sub-module's report)."""
    reports = sorted(p for p in project.rglob("*") if p.is_file() and p.parent.name == "report"
                     and p.parent.parent.name == "syn")
    for pick in (lambda p: p.name == "csynth.xml",
                 lambda p: p.name.endswith("_csynth.xml") and p.name.count("_") <= 2,
                 lambda p: p.name.endswith("_csynth.rpt") and p.name.count("_") <= 2,
                 lambda p: p.name == "csynth.rpt"):
        hits = [p for p in reports if pick(p)]
        if hits:
            return hits[0]
    return None


def derive_one(project: Path) -> tuple[dict[str, Any] | None, str | None]:
    src = json.loads((project / "source.json").read_text()) if (project / "source.json").is_file() else {}
    rep_path = find_report(project)
    if rep_path is None:
        return None, "no C-synthesis report under */syn/report/"
    try:
        report = parse_csynth(rep_path.read_text(errors="replace"), str(rep_path.name))
    except BadInput as exc:  # a truncated or foreign report: skipped with the parser's reason
        return None, f"{rep_path.relative_to(project)}: {exc}"
    truth = vendor_truth(report)
    if not truth:
        return None, f"{rep_path.name}: no HLS resources in the report"
    try:
        layers, facts = layers_from_project(project)
    except (ProjectParseError, OSError) as exc:
        return None, f"project not readable: {exc}"
    tool = str(report.get("tool") or facts.get("tool") or "")
    d = Design(folder=project.name, repo=str(src.get("repo") or project.name), layers=layers,
               part=report.get("part") or facts.get("part"),
               clock_ns=(report.get("clock_ns") or {}).get("target") or facts.get("clock_ns"),
               mul_impl=facts.get("mul_impl") or "auto", truth=truth,
               tool="vitis_hls" if "vitis" in tool.lower() else "vivado_hls",
               extra={"tool_version": report.get("version"),
                      "provenance": {"repo": src.get("repo"), "commit": src.get("commit"),
                                     "project_root_in_repo": src.get("project_root_in_repo"),
                                     "report": rep_path.relative_to(project).as_posix()}})
    return design_to_entry(d), None


def derive(dirs: list[Path]) -> dict[str, Any]:
    entries, skipped = [], {}
    for p in sorted(dirs):
        entry, why = derive_one(p)
        if entry is None:
            skipped[p.name] = why
        else:
            entries.append(entry)
    return {"schema": SCHEMA,
            "note": "public hls4ml projects outside shared/fixtures, never used for fitting; derived by "
                    "hwflow's parsers (firmware/ + the committed HLS report); provenance per design",
            "designs": entries, "skipped": skipped}


def _family(d: Design) -> str:
    kinds = {l.kind for l in d.layers}
    if "rnn" in kinds:
        return "rnn"
    if kinds & {"conv1d", "conv2d", "depthwise_conv1d", "depthwise_conv2d", "pointwise_conv1d",
                "pointwise_conv2d"}:
        return "cnn"
    return "mlp"


def _summary(rows: list[dict[str, Any]], metric: str) -> dict[str, Any]:
    apes = [r[metric]["ape"] for r in rows if r[metric]["ape"] is not None]
    inside = [r[metric]["inside"] for r in rows if r[metric]["inside"] is not None]
    apes.sort()
    med = (apes[len(apes) // 2] if len(apes) % 2 else (apes[len(apes) // 2 - 1] + apes[len(apes) // 2]) / 2) \
        if apes else None
    return {"n": len(apes), "mape": round(sum(apes) / len(apes), 1) if apes else None,
            "median_ape": round(med, 1) if med is not None else None,
            "coverage_80": round(sum(inside) / len(inside), 2) if inside else None}


def evaluate(doc: dict[str, Any]) -> dict[str, Any]:
    rows = []
    for e in doc.get("designs") or []:
        d = design_from_entry(e)
        est = estimate_layers(d.layers, part=d.part, clock_ns=d.clock_ns, tool=d.tool or "vivado_hls",
                              mul_impl=d.mul_impl, tool_version=d.extra.get("tool_version"))
        iv = est.get("interval_80") or {}
        pred = {**est["resources"], "latency": est.get("latency_cycles"), "ii": est.get("ii_cycles")}
        row: dict[str, Any] = {"design": d.folder, "repo": d.repo, "tool": d.tool,
                               "tool_version": d.extra.get("tool_version"), "family": _family(d),
                               "io_type": "io_stream" if any(l.io_type == "io_stream" for l in d.layers)
                               else "io_parallel", "complete": est.get("complete"),
                               "not_modelled": est.get("not_modelled"), "out_of_domain": est.get("out_of_domain")}
        for m in METRICS:
            t, p = d.truth.get(m), pred.get(m)
            lohi = iv.get(_KEYS[m]) if isinstance(iv, dict) else None
            ape = abs(p - t) / t * 100.0 if (t and p is not None) else None
            inside = (lohi[0] <= t <= lohi[1]) if (lohi and t is not None) else None
            row[m] = {"truth": t, "pred": None if p is None else round(float(p), 1),
                      "ape": None if ape is None else round(ape, 1), "inside": inside,
                      "interval_80": lohi}
        rows.append(row)
    groups = {"all": lambda r: True, "vivado_hls": lambda r: r["tool"] == "vivado_hls",
              "vitis_hls": lambda r: r["tool"] == "vitis_hls", "io_parallel": lambda r: r["io_type"] == "io_parallel",
              "io_stream": lambda r: r["io_type"] == "io_stream", "mlp": lambda r: r["family"] == "mlp",
              "cnn": lambda r: r["family"] == "cnn", "rnn": lambda r: r["family"] == "rnn"}
    by = {}
    for name, sel in groups.items():
        sub = [r for r in rows if sel(r)]
        if sub:
            by[name] = {"n_designs": len(sub), "repositories": len({r["repo"] for r in sub}),
                        **{m: _summary(sub, m) for m in METRICS}}
    return {"n_designs": len(rows), "n_repositories": len({r["repo"] for r in rows}), "by_subset": by,
            "per_design": rows, "skipped": doc.get("skipped") or {}}


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None:
        return "-"
    if pct:
        return f"{v * 100:.0f} %"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return f"{v:,}" if isinstance(v, int) else f"{v:,.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--derive", nargs="+", type=Path, metavar="DIR", help="project folders to derive the table from")
    ap.add_argument("--table", type=Path, default=TABLE)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.derive:
        doc = derive(args.derive)
        args.table.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        print(f"wrote {args.table.name}: {len(doc['designs'])} designs, skipped {len(doc['skipped'])}")
        for k, v in doc["skipped"].items():
            print(f"  skipped {k}: {v}")
        return 0
    doc = json.loads(args.table.read_text())
    if doc.get("schema") != SCHEMA:
        print(f"{args.table}: not a {SCHEMA} table", file=sys.stderr)
        return 2
    res = evaluate(doc)
    if args.json:
        print(json.dumps(res, indent=1))
        return 0
    print(f"{res['n_designs']} designs from {res['n_repositories']} repositories never used for fitting "
          "(MAPE % (median APE) / 80 % interval coverage)")
    print("(the coefficients never saw these designs; the interval quantiles include their residuals - "
          "bench/estimator.py gives the coverage with each repository left out of that step too)")
    print(f"{'subset':<12} {'n':>3} " + " ".join(f"{m:>20}" for m in METRICS))
    for name, s in res["by_subset"].items():
        cells = [f"{_fmt(s[m]['mape'])} ({_fmt(s[m]['median_ape'])}) / {_fmt(s[m]['coverage_80'], True)}"
                 for m in METRICS]
        print(f"{name:<12} {s['n_designs']:>3} " + " ".join(f"{c:>20}" for c in cells))
    print("\nper design (reported / estimated):")
    for r in res["per_design"]:
        cells = [f"{m} {_fmt(r[m]['truth'])} / {_fmt(round(r[m]['pred']) if r[m]['pred'] is not None else None)}"
                 for m in ("lut", "ff", "dsp", "latency")]
        flag = "" if r["complete"] else f"  INCOMPLETE {r['not_modelled']}"
        print(f"{r['design'][:40]:<40} {r['tool']}/{r['tool_version']} {r['family']}  " + "; ".join(cells) + flag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
