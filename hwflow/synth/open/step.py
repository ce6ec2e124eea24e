"""The synth step with ``--tool open``: settings, pre-flight and run (called by hwflow/steps/synth.py).

``synth/synth.json`` then holds ``{"tool": "open", "level": "open", "open": <open.json>}`` and no
top-level ``resources``/``source``: results.json must never take these counts for a vendor
report. results.json gets them as ``open_synth`` and ``rtl_sim`` (:func:`results_block`).
"""

from __future__ import annotations

import shutil
import time
from typing import Any

from hwflow.fileio import atomic_write_json

TOOL = "open"


def _asked(ctx: Any) -> str:
    extra = getattr(ctx.options, "extra", None) or {}
    return str(extra.get("synth_tool") or getattr(ctx.options, "synth_tool", "") or "")


def _last_open(ctx: Any) -> dict[str, Any] | None:
    """open.json of this work folder's completed open synthesis, else None."""
    from hwflow.fileio import read_json
    from hwflow.manifest import load_manifest

    try:
        entry = load_manifest(ctx.workdir).get("steps", {}).get("synth", {})
        if entry.get("status") != "complete":
            return None
        doc = read_json(ctx.path("synth", "synth.json"))
    except (OSError, ValueError, AttributeError):
        return None
    return doc.get("open") if isinstance(doc, dict) and doc.get("tool") == TOOL else None


def wanted(ctx: Any) -> bool:
    """Whether the synth step uses the open path: ``--tool open``; with no ``--tool``, whatever this
    work folder synthesized last (so a later ``hwflow report``/``package`` keeps the open result
    instead of treating it as stale, as ``--level`` does for the vendor path); ``--tool vendor``
    goes back to the HLS tools."""
    asked = _asked(ctx)
    if asked:
        return asked == TOOL
    memo = getattr(ctx, "memo", None)
    if isinstance(memo, dict) and "synth_open_last" in memo:
        # decided once per run: an upstream step that re-runs marks synth stale in the manifest,
        # and the pre-flight's choice (open tools checked) must stay the run's choice
        return bool(memo["synth_open_last"])
    last = _last_open(ctx) is not None
    if isinstance(memo, dict):
        memo["synth_open_last"] = last
    return last


def pipelined(ctx: Any) -> bool:
    """``--comb`` asks for one combinational module; without ``--tool open`` on the command line the
    last open synthesis' choice is kept."""
    extra = getattr(ctx.options, "extra", None) or {}
    if extra.get("open_comb"):
        return False
    if _asked(ctx) == TOOL:
        return True
    last = _last_open(ctx) or {}
    return bool((last.get("verilog") or {}).get("pipelined", True))


def settings(ctx: Any) -> dict[str, Any]:
    """What the open synthesis reads (its cache key): tools and versions, part, clock, shape."""
    from hwflow.synth.open.tools import open_tools_status

    versions = {row["tool"]: row.get("version") for row in open_tools_status()}
    b = ctx.board_cfg
    return {"tool": TOOL, "versions": versions, "part": b.get("part"), "family": b.get("family"),
            "clock_period_ns": ctx.clock_period_ns, "pipelined": pipelined(ctx)}


def preflight(ctx: Any) -> None:
    """Exit 3 before the flow starts when a tool is missing."""
    from hwflow.synth.open.flow import check_tools

    tools = check_tools()
    if not getattr(ctx.options, "quiet", False):
        used = ", ".join(f"{t.name} {t.version} ({t.origin})" for t in tools.values())
        print(f"[synth] pre-flight (open path): {used}", flush=True)


def run(ctx: Any) -> dict[str, Any]:
    from hwflow.steps.convert import get_hls_model
    from hwflow.steps.train import load_test_split
    from hwflow.synth.open.flow import reference_vectors, run_open

    t0 = time.monotonic()
    synth_dir = ctx.path("synth")
    if synth_dir.exists():
        shutil.rmtree(synth_dir)
    synth_dir.mkdir(parents=True)
    x, _ = load_test_split(ctx)
    hls_model = get_hls_model(ctx)
    xv, yv, ref = reference_vectors(ctx.workdir, hls_model, x, csim_vectors=ctx.step_json("emulate") is not None)
    b = ctx.board_cfg
    res = run_open(hls_model, xv, yv, synth_dir / "open", design=ctx.design.name, part=str(b["part"]),
                   family=b.get("family"), clock_ns=ctx.clock_period_ns, pipelined=pipelined(ctx),
                   reference=ref, say=ctx.log)
    atomic_write_json(synth_dir / "open" / "open.json", res)
    doc = {"tool": TOOL, "level": TOOL, "open": res, "duration_s": round(time.monotonic() - t0, 3)}
    atomic_write_json(synth_dir / "synth.json", doc)
    r = res.get("resources") or {}
    return {"level": TOOL, "source": r.get("source"), "lut": r.get("lut"), "dsp": r.get("dsp"),
            "rtl_sim_exact_fraction": res["rtl_sim"]["exact_fraction"]}


def results_block(synth_json: dict[str, Any]) -> dict[str, Any]:
    """results.json additions from an open synth.json: ``{"open_synth": ..., "rtl_sim": ...}`` or {}."""
    o = (synth_json or {}).get("open") if isinstance(synth_json, dict) else None
    if not isinstance(o, dict):
        return {}
    res = {k: v for k, v in (o.get("resources") or {}).items() if k != "cells"}
    v = o.get("verilog") or {}
    block = {
        "source": res.get("source"), "architecture": o.get("architecture"), "resources": res or None,
        "timing": o.get("timing"), "da4ml_estimate": o.get("da4ml_estimate"),
        "verilog": {k: v.get(k) for k in ("top", "pipelined", "pipeline_stages", "latency_cycles",
                                          "levels_per_stage", "adder_levels", "generator")},
        "tools": {k: t.get("version") for k, t in (o.get("tools") or {}).items()},
        "wall_s": o.get("wall_s"), "not": o.get("not"),
    }
    return {"open_synth": block, "rtl_sim": o.get("rtl_sim")}
