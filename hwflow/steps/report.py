"""Step report: results.json -> reports/<design>/<board>/ (report.html, report.md, results.json, plots).

The step always re-runs (``always_run``): it is fast (well under 3 s) and reads files that
are not steps of the flow (baseline.json from ``hwflow baseline``), so a cached report
could be older than what it should show.
"""

from __future__ import annotations

import shutil
import time
from typing import Any

from ..context import Context
from ..fileio import atomic_write_json
from ..registry import StepSpec, register
from ..report.extras import collect_extras
from ..report.render import readable, render_report
from ..results import merge_results


def _settings(ctx: Context) -> dict[str, Any]:
    return {"reports_dir": str(ctx.reports_dir)}


def run(ctx: Context) -> dict[str, Any]:
    t0 = time.monotonic()
    results = merge_results(ctx)
    out = ctx.reports_dir
    out.mkdir(parents=True, exist_ok=True)
    board = ctx.board.model_dump(mode="json")
    # step_json: only results of upstream steps that are current under their cache keys.
    extras = collect_extras(ctx.workdir, step_json=ctx.step_json, board=board)
    paths = render_report(results, out, board=board, extras=extras)
    atomic_write_json(out / "results.json", results)
    readable(out / "results.json")
    # keep a copy of the power trace next to the report when one was shown
    trace = ctx.path("power.csv")
    if extras.power is not None and trace.exists():
        shutil.copyfile(trace, out / "power.csv")
    else:
        (out / "power.csv").unlink(missing_ok=True)
    ctx.log(f"report: {paths['html']} ({time.monotonic() - t0:.1f} s)")
    return {"html": str(paths["html"]), "plots": len(paths["plots"])}


register(
    StepSpec(
        name="report",
        run=run,
        settings=_settings,
        needs=("train", "convert", "emulate", "estimate", "synth", "package", "deploy"),
        outputs=(),
        result_file=None,
        version=2,
        always_run=True,
    )
)
