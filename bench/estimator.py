#!/usr/bin/env python3
"""Calibrate and score hwflow's analytical estimator against public hls4ml C-synthesis reports.

    bench/estimator.py --fit     fit on every usable design, write hwflow/estimate/calibration.json
    bench/estimator.py --json    print one JSON object: held-out (leave-one-repository-out) error
                                 per metric, per sub-population and per design, interval coverage
    bench/estimator.py           the same as a readable table
    bench/estimator.py --derive  rebuild the derived table hwflow/estimate/calibration_designs.json
                                 from ../shared/fixtures (or $HWFLOW_FIXTURES) with our own parsers

The designs come from the derived table shipped in the package (so this runs from any
clone); ``--fixtures`` reads ../shared/fixtures in place instead.
With ``HWFLOW_RULE4ML_PYTHON`` set to the interpreter of a separate rule4ml environment
(docs/estimator.md), rule4ml's error on the same dense designs is added side by side
(bench/rule4ml_adapter.py; exit 3 when that interpreter or rule4ml fails).
Nothing is tuned on a held-out repository: each fold re-runs the whole fit
(hyperparameter grid + coefficients) on the other repositories only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hwflow.estimate import CALIBRATION_PATH
from hwflow.estimate.dataset import TABLE_PATH, derive_table, load_designs, load_external, load_table
from hwflow.estimate.fit import METRIC_ORDER, calibration_document, in_sample, usable
from hwflow.estimate.model import FEATURES, MODEL_NAME

GOALS = {"dsp": 15.0, "latency": 15.0, "lut": 30.0, "ff": 30.0}
CONVENTION = ("MAPE = mean |pred - truth| / truth over designs with truth > 0; designs with truth = 0 "
              "(e.g. DSP when multipliers are forced to fabric) are excluded from MAPE and counted in "
              "'zeros' / 'zeros_predicted_zero' (prediction < 0.5); sMAPE = mean |pred - truth| / "
              "((|pred| + |truth|) / 2) over all designs (0 when both are 0). latency = worst-case "
              "cycles of the hls4ml core, ii = Interval-max. Held-out = leave-one-repository-out.")


def fixtures_dir() -> Path:
    env = os.environ.get("HWFLOW_FIXTURES")
    return Path(env) if env else ROOT.parent / "shared" / "fixtures"


def layer_family(d) -> str:
    kinds = {layer.kind for layer in d.layers}
    if kinds & {"conv1d", "conv2d", "depthwise_conv1d", "depthwise_conv2d", "pointwise_conv1d", "pointwise_conv2d"}:
        return "cnn"
    return "mlp" if "dense" in kinds else "other"


def run(do_fit: bool, from_fixtures: bool = False, extra_designs: list | None = None) -> dict:
    t0 = time.perf_counter()
    designs = load_designs(fixtures_dir()) if from_fixtures else load_table()
    designs = designs + list(extra_designs or [])
    used, skipped = usable(designs)
    calib, cv, coverage = calibration_document(used, external=load_external())
    ins = in_sample(used, calib)
    t1 = time.perf_counter()
    repos = sorted({d.repo for d in used})
    subsets = {}
    import numpy as np

    from hwflow.estimate.fit import _context, error_summary
    from hwflow.estimate.model import tool_groups
    by_folder = {d.folder: d for d in used}
    groups = {
        "vivado_hls": lambda d: d.tool == "vivado_hls",
        "vitis_hls": lambda d: d.tool == "vitis_hls",
        "io_parallel": lambda d: _context(d).io_type == "io_parallel",
        "io_stream": lambda d: _context(d).io_type == "io_stream",
        "vivado_hls_io_parallel": lambda d: d.tool == "vivado_hls" and _context(d).io_type == "io_parallel",
        "vivado_hls_io_stream": lambda d: d.tool == "vivado_hls" and _context(d).io_type == "io_stream",
        "vitis_hls_2023+": lambda d: "vitis_hls_2023" in tool_groups(d.tool, d.extra.get("tool_version")),
        "mlp": lambda d: layer_family(d) == "mlp",
        "cnn": lambda d: layer_family(d) == "cnn",
    }
    for gname, pred in groups.items():
        rows = [r for r in cv["per_design"] if pred(by_folder[r["design"]])]
        if rows:
            subsets[gname] = {"n_designs": len(rows), **{
                m: error_summary(np.array([r[m]["pred"] for r in rows]), np.array([r[m]["truth"] for r in rows]))
                for m in METRIC_ORDER}}
    goals = {m: {"goal_mape": g, "heldout_mape": cv["per_metric"][m]["mape"],
                 "met": cv["per_metric"][m]["mape"] is not None and cv["per_metric"][m]["mape"] <= g}
             for m, g in GOALS.items()}
    result = {
        "model": MODEL_NAME,
        "n_designs": len(used),
        "n_repositories": len(repos),
        "n_fixtures_with_layers_and_hls": len(designs),
        "excluded": skipped,
        "convention": CONVENTION,
        "heldout": cv["per_metric"],
        "heldout_by_subset": subsets,
        "in_sample": ins,
        "goals": goals,
        "per_design": cv["per_design"],
        "folds": cv["folds"],
        "features": {m: list(v) for m, v in FEATURES.items()},
        "interval_80": coverage,
        "calibration": {"hyper": calib["hyper"], "coef": calib["coef"],
                        "tool_coef": calib.get("tool_coef", {})},
        "seconds": round(t1 - t0, 1),
    }
    if do_fit:
        out = dict(calib)
        out["cv"] = {**calib["cv"], "convention": CONVENTION,
                     "mape_by_subset": {g: {"n_designs": v["n_designs"], **{m: v[m]["mape"] for m in METRIC_ORDER}}
                                        for g, v in subsets.items()}}
        CALIBRATION_PATH.write_text(json.dumps(_round(out), indent=1, sort_keys=True) + "\n")
        result["wrote"] = str(CALIBRATION_PATH)
    return result


def _round(o):
    if isinstance(o, float):
        return float(f"{o:.6g}")
    if isinstance(o, dict):
        return {k: _round(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_round(v) for v in o]
    return o


def print_table(r: dict) -> None:
    print(f"model {r['model']}: {r['n_designs']} designs from {r['n_repositories']} repositories "
          f"(held out one repository at a time)")
    print(f"{'metric':10s} {'MAPE':>7s} {'median':>7s} {'sMAPE':>7s} {'n':>4s} {'zeros':>6s}   in-sample MAPE")
    for m in METRIC_ORDER:
        h, i = r["heldout"][m], r["in_sample"][m]
        print(f"{m:10s} {h['mape']!s:>7s} {h['median_ape']!s:>7s} {h['smape']!s:>7s} {h['n']:>4d} "
              f"{h['zeros']:>6d}   {i['mape']}")
    for g, sub in r["heldout_by_subset"].items():
        print(f"  held-out MAPE (median APE), {g} ({sub['n_designs']} designs): "
              + ", ".join(f"{m} {sub[m]['mape']} ({sub[m]['median_ape']})" for m in METRIC_ORDER))
    cov = r["interval_80"]
    for t, v in list(cov.get("by_group", {}).items()) + list(cov.get("by_tool", {}).items()):
        print(f"  80 % interval coverage, {t}: " + ", ".join(f"{m} {v[m]:.0%}" for m in METRIC_ORDER if m in v))
    n_iv = cov[METRIC_ORDER[0]]["n"]
    print(f"80 % interval over {n_iv} designs ({r['n_designs']} fixtures held out by repository + "
          f"{n_iv - r['n_designs']} external designs never fitted on), each repository judged with quantiles "
          "calibrated on the other repositories' residuals only (per group: weight values read or not): "
          + ", ".join(f"{m} coverage {cov[m]['coverage']:.0%} hi/lo {cov[m]['median_hi_lo']}" for m in METRIC_ORDER))
    print("\nexcluded:")
    for k, v in r["excluded"].items():
        print(f"  {k}: {v}")
    print("\n" + r["convention"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--fit", action="store_true", help="write hwflow/estimate/calibration.json")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--derive", action="store_true", help="rebuild the derived calibration table from the fixtures")
    ap.add_argument("--fixtures", action="store_true", help="read ../shared/fixtures instead of the derived table")
    args = ap.parse_args(argv)
    if (args.derive or args.fixtures) and not fixtures_dir().is_dir():
        print(f"fixtures not found at {fixtures_dir()} (set HWFLOW_FIXTURES)", file=sys.stderr)
        return 3
    if args.derive:
        table = derive_table(fixtures_dir())
        TABLE_PATH.write_text(json.dumps(table, separators=(",", ":"), sort_keys=True) + "\n")
        print(f"wrote {TABLE_PATH.name}: {len(table['designs'])} designs")
        if not (args.fit or args.json):
            return 0
    rule4ml_python = os.environ.get("HWFLOW_RULE4ML_PYTHON")
    if rule4ml_python and not Path(rule4ml_python).expanduser().is_file():
        # checked before the minute-long cross-validation, so a wrong path fails at once
        print(f"rule4ml side-by-side: HWFLOW_RULE4ML_PYTHON={rule4ml_python} is not an interpreter "
              "(create rule4ml's environment as docs/estimator.md shows, or unset the variable)",
              file=sys.stderr)
        return 3
    r = run(args.fit, from_fixtures=args.fixtures)
    rc, cmp_ = 0, None
    if rule4ml_python:
        print(f"rule4ml side-by-side: running rule4ml under {rule4ml_python} ...", file=sys.stderr)
        try:
            cmp_ = rule4ml_compare(r, rule4ml_python, args.fixtures)
        except RuntimeError as e:
            print(f"rule4ml side-by-side: {e}", file=sys.stderr)
            rc = 3
    if args.json:
        if cmp_ is not None:
            r["rule4ml_side_by_side"] = cmp_
        print(json.dumps(_round(r), sort_keys=False))
    else:
        print_table(r)
        if args.fit:
            print(f"\nwrote {r['wrote']}")
        if cmp_ is not None:
            print_rule4ml(cmp_)
    return rc


def rule4ml_compare(r: dict, python: str, from_fixtures: bool = False) -> dict:
    """rule4ml's error next to hwflow's held-out error on the same dense (MLP) designs and truths.

    rule4ml runs under its own interpreter (bench/rule4ml_adapter.py); it was trained on its own
    data, so every design here is unseen by it. hwflow's figures are leave-one-repository-out."""
    import numpy as np

    if str(Path(__file__).resolve().parent) not in sys.path:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
    import rule4ml_adapter as ra

    from hwflow.estimate.fit import error_summary

    designs, _ = usable(load_designs(fixtures_dir()) if from_fixtures else load_table())
    mlp = [d for d in designs if layer_family(d) == "mlp"]
    mapped = {d.folder: ra.to_rule4ml(ra.design_payload(d)) for d in mlp}
    skipped = {k: v["reason"] for k, v in mapped.items() if not v["ok"]}
    requests = [v["request"] for v in mapped.values() if v["ok"]]
    out = ra.run_rule4ml(python, requests)
    skipped.update({k: f"rule4ml failed: {e}" for k, e in out.get("errors", {}).items()})
    held = {row["design"]: row for row in r["per_design"]}
    scored = [k for k in mapped if k not in skipped and k in out["predictions"] and k in held]
    table = {}
    for m in METRIC_ORDER:
        rows = [(held[k][m]["truth"], held[k][m]["pred"], out["predictions"][k].get(m)) for k in scored
                if held[k][m]["truth"] is not None and out["predictions"][k].get(m) is not None]
        truth = np.array([t for t, _, _ in rows], dtype=float)
        table[m] = {"hwflow_heldout": error_summary(np.array([h for _, h, _ in rows], dtype=float), truth),
                    "rule4ml": error_summary(np.array([q for _, _, q in rows], dtype=float), truth)}
    return {"rule4ml_version": out.get("rule4ml_version"), "rule4ml_estimators": out.get("estimators"),
            "designs": scored, "n_mlp_designs": len(mlp), "skipped": skipped, "per_metric": table,
            "notes": {k: mapped[k].get("notes") for k in scored},
            "predictions": {k: out["predictions"][k] for k in scored},
            "basis": ("same designs, same HLS C-synthesis truth; hwflow: held out by repository; "
                      "rule4ml: trained on its own data, so every design is unseen by it. rule4ml's "
                      "cycles/interval targets are the mean of min and max, ours the worst case; its "
                      "training data are io_parallel at a 10 ns clock (other clocks: noted per design).")}


def print_rule4ml(cmp_: dict) -> None:
    print(f"\nrule4ml {cmp_['rule4ml_version']} ({', '.join(cmp_['rule4ml_estimators'] or [])}) vs hwflow, "
          f"dense (MLP) subset: {len(cmp_['designs'])} of {cmp_['n_mlp_designs']} MLP designs scored")
    print("  " + cmp_["basis"])
    print(f"  {'metric':10s} {'n':>3s}  {'hwflow MAPE':>11s} {'median':>7s}  {'rule4ml MAPE':>12s} {'median':>7s}")
    for m, v in cmp_["per_metric"].items():
        h, q = v["hwflow_heldout"], v["rule4ml"]
        print(f"  {m:10s} {h['n']:>3d}  {_pct(h['mape']):>11s} {_pct(h['median_ape']):>7s}  "
              f"{_pct(q['mape']):>12s} {_pct(q['median_ape']):>7s}")
    print("  (n: designs with truth > 0; MAPE and median APE over the same designs for both)")
    print("  scored (what rule4ml was given, where it differs from the design):")
    for k in cmp_["designs"]:
        print(f"    {k}: {'; '.join(cmp_['notes'][k] or [])}")
    print("  skipped (rule4ml cannot take them):")
    for k, why in cmp_["skipped"].items():
        print(f"    {k}: {why}")


def _pct(v) -> str:
    return "-" if v is None else f"{v:,.1f} %"


if __name__ == "__main__":
    raise SystemExit(main())
