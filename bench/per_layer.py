#!/usr/bin/env python3
"""Per-layer check of the estimator against the per-instance tables of HLS reports.

    bench/per_layer.py [--json] [--kind KIND]

Where a C-synthesis report (``<top>_csynth.rpt`` of ../shared/fixtures, or $HWFLOW_FIXTURES)
lists the layer functions as instances whose module name carries the hls4ml config struct
(``conv_2d_cl_..._config5_s``, ``relu_..._relu_config3_s``; io_stream dataflows and most Vitis
HLS designs), their LUT / FF / DSP / BRAM and latency are set against the estimator's split of
the total for the same layer (``estimate_layers(...)["layers"]``, shipped calibration - so
in-sample for the coefficients: this shows *where* the model's structure is wrong, per layer
kind and tool, not its held-out error, which bench/estimator.py gives). Instances that several
layers share, or whose name names no config, are left out and counted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hwflow.estimate import estimate_layers, load_calibration  # noqa: E402
from hwflow.estimate.dataset import load_design  # noqa: E402
from hwflow.estimate.fit import _context, usable  # noqa: E402
from hwflow.estimate.model import (  # noqa: E402
    DEFAULT_HYPER,
    effective_coef,
    fifo_features,
    predict_linear,
    tool_groups,
)

_CFG_RE = re.compile(r"(?:^|_)((?:[a-z]+_)?config\d+)(?:_mult)?(?:_s)?(?:_U0)?$")
_CFG_ANY_RE = re.compile(r"(?:^|_)((?:[a-z]+_)?config\d+)(?=_|$)")
_ROW_RE = re.compile(r"^\s*\|([^|]+)\|([^|]+)\|(.*)\|\s*$")


def fixtures_dir() -> Path:
    env = os.environ.get("HWFLOW_FIXTURES")
    return Path(env) if env else ROOT.parent / "shared" / "fixtures"


def _num(cell: str) -> float | None:
    c = cell.strip().replace(",", "")
    try:
        return float(c)
    except ValueError:
        return None


def config_of(module: str) -> str | None:
    """The hls4ml config struct a module's name carries (the last one), else None."""
    hits = _CFG_ANY_RE.findall(module)
    return hits[-1] if hits else None


def instance_tables(text: str) -> dict[str, dict[str, float]]:
    """``{module: {lut, ff, dsp, bram_18k, latency}}`` from the top report's instance tables."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    lines = text.splitlines()
    section = None
    for i, line in enumerate(lines):
        if "== Performance Estimates" in line:
            section = "perf"
        elif "== Utilization Estimates" in line:
            section = "util"
        elif line.startswith("=="):
            section = None if "Interface" in line else section
        if "* Instance:" not in line or section is None:
            continue
        header = None
        for row in lines[i + 1:]:
            if row.strip().startswith("* ") or not row.strip():
                break
            m = _ROW_RE.match(row)
            if not m:
                continue
            inst, module, rest = m.group(1).strip(), m.group(2).strip(), [c.strip() for c in m.group(3).split("|")]
            if inst == "Instance":
                header = rest
                continue
            if not module or inst in ("", "Total") or header is None:
                continue
            rec = out[module]
            if section == "util":
                names = [h.upper() for h in header]
                for key, col in (("bram_18k", "BRAM_18K"), ("lut", "LUT"), ("ff", "FF")):
                    if col in names:
                        rec[key] = rec.get(key, 0.0) + (_num(rest[names.index(col)]) or 0.0)
                dsp_col = next((j for j, h in enumerate(names) if h.startswith("DSP")), None)
                if dsp_col is not None:
                    rec["dsp"] = rec.get("dsp", 0.0) + (_num(rest[dsp_col]) or 0.0)
            else:  # latency (cycles) max is the second numeric column
                nums = [_num(c) for c in rest]
                nums = [n for n in nums if n is not None]
                if len(nums) >= 2:
                    rec["latency"] = max(rec.get("latency", 0.0), nums[1])
    return out


def compare(folder: Path) -> tuple[list[dict], dict[str, int]]:
    d = load_design(folder)
    if d is None:
        return [], {"no_design": 1}
    if not usable([d])[0]:
        return [], {"excluded": 1}
    rpts = sorted(folder.glob("*_csynth.rpt"))
    if not rpts:
        return [], {"no_rpt": 1}
    doc = json.loads((folder / "layers.json").read_text())
    cfg_to_name = {}
    for call in doc.get("calls") or []:
        if call.get("config") and call.get("comment"):
            cfg_to_name[call["config"]] = call["comment"]
    inst = instance_tables(rpts[0].read_text(errors="replace"))
    by_cfg: dict[str, dict[str, float]] = {}
    shared = 0
    for module, rec in inst.items():
        cfg = config_of(module)
        if cfg is None:
            shared += 1
            continue
        cfg = re.sub(r"_mult$", "", cfg)
        agg = by_cfg.setdefault(cfg, {})
        for k, v in rec.items():
            agg[k] = agg.get(k, 0.0) + v if k != "latency" else max(agg.get(k, 0.0), v)
    est = estimate_layers(d.layers, part=d.part, clock_ns=d.clock_ns, tool=d.tool or "vivado_hls",
                          mul_impl=d.mul_impl, tool_version=d.extra.get("tool_version"))
    rows_by_name = {r["name"]: r for r in est["layers"]}
    # the report books a layer's output FIFO at the top level: leave it out of the layer's share
    cal = load_calibration()
    hyper = {**DEFAULT_HYPER, **(cal.get("hyper") or {})}
    ctx = _context(d)
    groups = tool_groups(ctx.tool, ctx.tool_version)
    for spec in d.layers:
        row = rows_by_name.get(spec.name)
        fifo = fifo_features(spec, ctx, hyper)
        if row is None or not fifo:
            continue
        for m in ("lut", "ff", "bram_18k"):
            row[m] = max(0.0, row[m] - predict_linear(fifo, effective_coef(cal, m, groups), m))
    spec_by_name = {s.name: s for s in d.layers}
    out = []
    for cfg, truth in by_cfg.items():
        name = cfg_to_name.get(cfg)
        row = rows_by_name.get(name or "")
        spec = spec_by_name.get(name or "")
        if row is None or spec is None:
            shared += 1
            continue
        rec = {"design": folder.name, "repo": d.repo, "tool": d.tool, "layer": name, "kind": spec.kind,
               "op": spec.op, "io_type": spec.io_type, "strategy": spec.strategy, "rf": spec.reuse_factor}
        for m in ("lut", "ff", "dsp", "bram_18k", "latency"):
            t = truth.get(m)
            p = row.get("latency_cycles") if m == "latency" else row.get(m)
            rec[m] = {"truth": t, "pred": None if p is None else round(float(p), 1)}
        out.append(rec)
    return out, {"unmatched_instances": shared}


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
