#!/usr/bin/env python3
"""Per-layer check of the estimator against the per-instance tables of HLS reports.

    bench/per_layer.py [--json] [--kind KIND]

Where a C-synthesis report (``<top>_csynth.rpt`` of ../shared/fixtures, or $HWFLOW_FIXTURES)
lists the layer functions as instances whose module name carries the hls4ml config struct
(``conv_2d_cl_..._config5_s``, ``relu_..._relu_config3_s``; io_stream dataflows and most Vitis
HLS designs), their LUT / FF / DSP / BRAM and latency (read by the same code that builds the
calibration table's per-layer rows: ``hwflow.estimate.dataset.layer_truth_of`` over
``hwflow.parsers.csynth.csynth_instances``) are set against the estimator's split of the total
for the same layer (``estimate_layers(...)["layers"]``, shipped calibration - so in-sample for
the coefficients: this shows *where* the model's structure is wrong, per layer kind and tool,
not its held-out error, which bench/estimator.py gives). Layers without an instance of their
own (inlined, or in an instance several layers share) are left out and counted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hwflow.estimate import estimate_layers, load_calibration  # noqa: E402
from hwflow.estimate.catalog import DEFAULT_HYPER, tool_groups  # noqa: E402
from hwflow.estimate.channels import fifo_features  # noqa: E402
from hwflow.estimate.dataset import load_design  # noqa: E402
from hwflow.estimate.fit import _context, usable  # noqa: E402
from hwflow.estimate.model import effective_coef, predict_linear  # noqa: E402


def fixtures_dir() -> Path:
    env = os.environ.get("HWFLOW_FIXTURES")
    return Path(env) if env else ROOT.parent / "shared" / "fixtures"


def compare(folder: Path) -> tuple[list[dict], dict[str, int]]:
    d = load_design(folder)
    if d is None:
        return [], {"no_design": 1}
    if not usable([d])[0]:
        return [], {"excluded": 1}
    truths = d.extra.get("layer_truth") or {}
    if not truths:
        return [], {"no_instance_table": 1}
    est = estimate_layers(d.layers, part=d.part, clock_ns=d.clock_ns, tool=d.tool or "vivado_hls",
                          mul_impl=d.mul_impl, tool_version=d.extra.get("tool_version"))
    rows_by_name = {r["name"]: r for r in est["layers"]}
    # the report books a layer's output FIFO at the top level: leave it out of the layer's share
    cal = load_calibration()
    hyper = {**DEFAULT_HYPER, **(cal.get("hyper") or {})}
    ctx = _context(d)
    groups = tool_groups(ctx.tool, ctx.tool_version)
    out, unmatched = [], 0
    for spec in d.layers:
        row, truth = rows_by_name.get(spec.name), truths.get(spec.name)
        if row is None or truth is None:
            unmatched += 1
            continue
        fifo = fifo_features(spec, ctx, hyper)
        for m in ("lut", "ff", "bram_18k"):
            if fifo:
                row[m] = max(0.0, row[m] - predict_linear(fifo, effective_coef(cal, m, groups), m))
        rec = {"design": folder.name, "repo": d.repo, "tool": d.tool, "layer": spec.name, "kind": spec.kind,
               "op": spec.op, "io_type": spec.io_type, "strategy": spec.strategy, "rf": spec.reuse_factor}
        for m in ("lut", "ff", "dsp", "bram_18k", "latency"):
            t = truth.get(m)
            p = row.get("latency_cycles") if m == "latency" else row.get(m)
            rec[m] = {"truth": t, "pred": None if p is None else round(float(p), 1)}
        out.append(rec)
    return out, {"layers_without_own_instance": unmatched}


def _log_ratio(t: float | None, p: float | None, floor: float) -> float | None:
    if t is None or p is None:
        return None
    return math.log((t + floor) / (p + floor))


def summarise(rows: list[dict]) -> dict[str, dict]:
    floors = {"lut": 50.0, "ff": 50.0, "dsp": 1.0, "bram_18k": 1.0, "latency": 2.0}
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["tool"], r["io_type"], r["kind"])].append(r)
    out = {}
    for (tool, io, kind), rs in sorted(groups.items()):
        entry = {"n_layers": len(rs), "n_designs": len({r["design"] for r in rs})}
        for m, f in floors.items():
            lr = [x for x in (_log_ratio(r[m]["truth"], r[m]["pred"], f) for r in rs) if x is not None]
            if lr:
                lr.sort()
                med = lr[len(lr) // 2]
                entry[m] = {"median_truth_over_pred": round(math.exp(med), 2),
                            "spread_p10_p90": [round(math.exp(lr[int(0.1 * (len(lr) - 1))]), 2),
                                               round(math.exp(lr[int(0.9 * (len(lr) - 1))]), 2)]}
        out[f"{tool} {io} {kind}"] = entry
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--kind", default=None, help="list the layers of one kind")
    args = ap.parse_args(argv)
    fx = fixtures_dir()
    if not fx.is_dir():
        print(f"{fx}: no fixtures (set HWFLOW_FIXTURES)", file=sys.stderr)
        return 2
    rows, counts = [], defaultdict(int)
    for folder in sorted(p for p in fx.iterdir() if p.is_dir()):
        r, c = compare(folder)
        rows += r
        for k, v in c.items():
            counts[k] += v
    summ = summarise(rows)
    if args.json:
        print(json.dumps({"summary": summ, "counts": dict(counts), "layers": rows}, indent=1))
        return 0
    print(f"{len(rows)} layers matched in {len({r['design'] for r in rows})} designs "
          f"(in-sample coefficients; truth / estimate, median and 10-90 % range)")
    for g, e in summ.items():
        cells = []
        for m in ("lut", "ff", "dsp", "bram_18k", "latency"):
            if m in e:
                lo, hi = e[m]["spread_p10_p90"]
                cells.append(f"{m} {e[m]['median_truth_over_pred']} [{lo}-{hi}]")
        print(f"{g:<40} {e['n_layers']:>3} layers / {e['n_designs']:>2} designs: " + "; ".join(cells))
    if args.kind:
        for r in rows:
            if r["kind"] == args.kind:
                print(f"  {r['design'][:40]:<40} {r['layer']:<16} rf {r['rf']:<5} "
                      + " ".join(f"{m} {r[m]['truth']}/{r[m]['pred']}" for m in ("lut", "ff", "dsp", "latency")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
