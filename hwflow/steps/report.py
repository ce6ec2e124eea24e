"""Step report: results.json -> reports/<design>/<board>/ (report.html, report.md, plots)."""

from __future__ import annotations

import shutil
from typing import Any

from ..fileio import atomic_write_json
from ..flow import Context, StepSpec, register


def _settings(ctx: Context) -> dict[str, Any]:
    return {"reports_dir": str(ctx.reports_dir)}


def run(ctx: Context) -> dict[str, Any]:
    from ..report.render import render_report
    from ..results import merge_results

    results = merge_results(ctx)
    out = ctx.reports_dir
    out.mkdir(parents=True, exist_ok=True)
    paths = render_report(results, out, workdir=ctx.workdir, board=ctx.board.model_dump(mode="json"))
    atomic_write_json(out / "results.json", results)
    # keep a copy of the power trace next to the report when one was recorded
    trace = ctx.path("power.csv")
    if trace.exists():
        shutil.copyfile(trace, out / "power.csv")
    ctx.log(f"report: {paths['html']}")
    return {"html": str(paths["html"])}


register(StepSpec(name="report", run=run, settings=_settings,
                  needs=("train", "convert", "emulate", "estimate", "synth", "package", "deploy"),
                  outputs=(), result_file=None, version=1))
