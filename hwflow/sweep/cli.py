"""``hwflow sweep SWEEP.yaml [--workers N] [--scheduler tcp://host:port | local-dask] [--promote N]``."""

from __future__ import annotations

import argparse
import sys

from ..errors import BadInput
from ..fileio import dumps_json
from .executor import check_scheduler
from .promote import promote
from .runner import load_sweep_json, point_values, run_sweep, sweep_dir
from .spec import load_sweep


def cli_sweep(args: argparse.Namespace) -> int:
    """Run or resume a sweep, or (with --promote N) write one of its points as a design file."""
    sweep = load_sweep(args.sweep)
    workers = getattr(args, "workers", None)
    workers = 1 if workers is None else int(workers)
    if workers < 1:
        raise BadInput(f"--workers {workers}: give 1 or more")
    check_scheduler(getattr(args, "scheduler", None))
    build_dir = getattr(args, "build_dir", None)
    as_json = bool(getattr(args, "json", False))
    if getattr(args, "promote", None) is not None:
        doc = load_sweep_json(sweep, build_dir)
        out = promote(sweep, doc, int(args.promote))
        if as_json:
            sys.stdout.write(dumps_json(out))
        else:
            print(f"wrote {out['path']} (validated)\nrun it: hwflow run {out['design']} --board {out['board']}")
        return 0
    doc = run_sweep(sweep, workers=workers, scheduler=getattr(args, "scheduler", None), build_dir=build_dir)
    out_dir = sweep_dir(sweep.name, build_dir)
    files = {"sweep_json": str(out_dir / "sweep.json"), "sweep_csv": str(out_dir / "sweep.csv"),
             "report": doc.get("report")}
    if as_json:
        sys.stdout.write(dumps_json({**doc, "files": files}))
    else:
        c = doc["counts"]
        infeasible = sum(1 for e in doc["points"] if e.get("status") == "ok" and e.get("feasible") is False)
        ran = (f"{c['ok']} ran ({infeasible} of them outside the constraints: not ranked)" if infeasible
               else f"{c['ok']} ok")
        print(f"sweep {sweep.name}: {ran}, {c['failed']} failed of {len(doc['points'])} points "
              f"in {doc['run'].get('wall_s', 0):.0f} s ({doc['run'].get('points_cached', 0)} from cache)")
        print("Pareto front: " + (", ".join(f"p{i}" for i in doc["pareto"]) or "none"))
        for i in doc["pareto"]:
            e = doc["points"][i]
            vals = point_values(e["design"])
            basis = (((e.get("results") or {}).get("energy") or {}).get("basis"))
            figs = ", ".join((f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}")
                             + (f" [{basis}]" if k == "energy" and v is not None and basis else "")
                             for k, v in (e.get("metrics") or {}).items())
            print(f"  p{i} {e['board']} {vals}: {figs}")
        for n in doc.get("notes") or []:
            print(f"note: {n}")
        print(f"results: {files['sweep_json']}, {files['sweep_csv']}")
        if files["report"]:
            print(f"report: {files['report']}")
        print(f"promote a point: hwflow sweep {args.sweep} --promote N")
    return 0 if doc["counts"]["ok"] else 4
