"""Step synth: vendor synthesis of the hls4ml project at one level (csynth, vsynth, bitfile).

1. pre-flight (before any step of the flow runs): which HLS tool and Vivado are on this
   machine, in which versions, and whether the level can be built for the board;
2. a fresh copy of hls/ in synth/prj (the tools write their projects next to the sources,
   and a step writes only in its own folder), plus hwflow's AXI-stream wrapper when needed;
3. every script the plan needs, written to synth/scripts/ (deterministic text) together with
   run_synth.sh, which replays the same commands by hand;
4. each command run under discipline (synth/logs/, synth/commands.json, --timeout kills the
   process group, memory kills named as such);
5. the reports parsed into synth/synth.json - written last and atomically, so a failed or
   partial synthesis never leaves a result behind.

``--dry-run`` stops after 3 (exit 0). Without the tools, 1 warns in the first second and the
step still does 2-3 before it stops with exit 3, so the project can be carried to a machine
that has them.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..context import Context
from ..errors import StepFailed
from ..estimate.store import record_synth
from ..fileio import atomic_write_json, atomic_write_text, read_json
from ..manifest import load_manifest
from ..registry import StepSpec, register
from ..synth.collect import build_synth_json
from ..synth.open import step as open_step
from ..synth.plan import (
    BoardInfo,
    Command,
    check_level,
    choose_hls_tool,
    default_hls_tool,
    hls_preference,
    make_plan,
)
from ..synth.project import read_hls_project
from ..synth.runner import CommandLog, CommandRecord, Outcome, error_lines, read_log_tail, run_logged, tail_lines
from ..synth.scripts import render_scripts
from ..tools import HLS_TOOLS, ToolInfo, ToolsMissing, find_tools, install_hint, missing_message, search_summary
from .convert import backend_for

_MEMO_KEY = "synth_tools"
_PROJECT_IGNORE = ("*.so", "*.o", "*.tar.gz", "__pycache__", "*_prj", "*_vivado_accelerator", "vivado*.log",
                   "vivado*.jou", "vitis_hls.log", "build_*.log")


def _accelerator(ctx: Context) -> bool:
    """Whether convert writes hls4ml's VivadoAccelerator project (a board hls4ml knows)."""
    return backend_for(ctx) == "VivadoAccelerator"


def board_info(ctx: Context) -> BoardInfo:
    b = ctx.board_cfg
    return BoardInfo(name=ctx.board.name, part=ctx.board.part, family=ctx.board.family,
                     hls4ml_board=ctx.board.hls4ml_board, vivado_board_part=b.get("vivado_board_part"))


@dataclass
class ToolSelection:
    tools: dict[str, ToolInfo]
    hls: ToolInfo | None
    vivado: ToolInfo | None
    problem: ToolsMissing | None     # what is missing for this level, or None


def select_tools(ctx: Context) -> ToolSelection:
    """The tools this run will use (found once per process: Vivado is slow to print its version)."""
    level = effective_level(ctx)
    check_level(level, board_info(ctx))
    key = (level, os.environ.get("PATH", ""), os.environ.get("HWFLOW_HLS_TOOL", ""),
           tuple(os.environ.get(v, "") for v in ("XILINX_VITIS", "XILINX_HLS", "XILINX_VIVADO_HLS", "XILINX_VIVADO")))
    cached = ctx.memo.get(_MEMO_KEY)
    if cached and cached[0] == key:
        return cached[1]
    tools = find_tools()
    accelerator = _accelerator(ctx)
    hls = choose_hls_tool(accelerator, tools)
    vivado = tools["vivado"] if tools["vivado"].usable else None
    parts = []
    candidates: list[str] = []
    if hls is None:
        order = hls_preference(accelerator)
        parts.append(missing_message(f"synth --level {level} needs an HLS tool", order, tools))
        candidates += order
    if level != "csynth" and vivado is None:
        parts.append(missing_message(f"synth --level {level} needs Vivado", ["vivado"], tools))
        candidates.append("vivado")
    problem = None
    if parts:
        problem = ToolsMissing("\n".join([*parts, search_summary()]), hint=install_hint(candidates), tools=tools)
    sel = ToolSelection(tools=tools, hls=hls, vivado=vivado if level != "csynth" else None, problem=problem)
    ctx.memo[_MEMO_KEY] = (key, sel)
    return sel


def effective_level(ctx: Context) -> str:
    """--level when given; else the level of the synthesis already done here (a later
    `hwflow package` must not redo a bitfile run at csynth); else csynth."""
    if ctx.options.synth_level:
        return ctx.options.synth_level

    entry = load_manifest(ctx.workdir).get("steps", {}).get("synth", {})
    if entry.get("status") == "complete":
        try:
            level = read_json(ctx.path("synth", "synth.json")).get("level")
            if level in ("csynth", "vsynth", "bitfile"):
                return level
        except (OSError, ValueError):
            pass
    return "csynth"


def _settings(ctx: Context) -> dict[str, Any]:
    if open_step.wanted(ctx):  # --tool open: da4ml + Verilator + Yosys (hwflow/synth/open)
        return open_step.settings(ctx)
    sel = select_tools(ctx)
    hls = sel.hls.name if sel.hls else default_hls_tool(_accelerator(ctx))
    return {"level": effective_level(ctx), "cosim": ctx.options.cosim, "board": board_info(ctx).__dict__,
            "clock_period_ns": ctx.clock_period_ns, "hls_tool": hls, "hls_version": sel.hls.version if sel.hls else None,
            "vivado_version": sel.vivado.version if sel.vivado else None}


def _preflight(ctx: Context) -> None:
    if open_step.wanted(ctx):
        return open_step.preflight(ctx)
    sel = select_tools(ctx)
    if sel.problem is None:
        used = [sel.hls.label()] + ([sel.vivado.label()] if sel.vivado else [])  # type: ignore[union-attr]
        for t in [sel.hls, sel.vivado]:
            if t is not None and t.status in ("untested", "unknown-version", "unsupported"):
                print(f"[synth] pre-flight: {t.label()}: {t.status} ({t.detail})", flush=True)
        if not ctx.options.quiet:
            print(f"[synth] pre-flight: using {', '.join(used)}", flush=True)
        return
    if ctx.options.dry_run:
        print("[synth] pre-flight: vendor tools missing; --dry-run writes the project and scripts only", flush=True)
        return
    raise sel.problem


# --------------------------------------------------------------------------- running

def _fresh_dir(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def _write_files(synth_dir: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = synth_dir / rel
        atomic_write_text(p, text)
        if p.suffix == ".sh":
            p.chmod(p.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _failure(cmd: Command, rec: CommandRecord, outcome: Outcome, log: Path, timeout_s: float | None) -> StepFailed:
    text = read_log_tail(log)
    tail = tail_lines(text, 20)
    if outcome.timed_out:
        return StepFailed(f"{cmd.tool} ({cmd.purpose}) timed out after {timeout_s:g} s (--timeout); hwflow ended "
                          "its whole process group", log=str(log), tail=tail,
                          hint="raise --timeout, or omit it (no limit)")
    if outcome.memory:
        return StepFailed(f"{cmd.tool} ({cmd.purpose}) was killed for lack of memory (exit {outcome.returncode}): "
                          f"{outcome.memory}", log=str(log), tail=tail,
                          hint="free memory or add swap, run one synthesis at a time, or shrink the design "
                               "(higher reuse_factor, Resource strategy, io_stream)")
    errs = error_lines(text)
    msg = f"{cmd.tool} ({cmd.purpose}) failed with exit code {outcome.returncode}"
    if errs:
        msg += "\n  first errors:\n" + "\n".join("    " + e for e in errs)
    return StepFailed(msg, log=str(log), tail=tail)


def run(ctx: Context) -> dict[str, Any]:
    if open_step.wanted(ctx):
        return open_step.run(ctx)
    t0 = time.monotonic()
    opts = ctx.options
    sel = select_tools(ctx)
    synth_dir = ctx.path("synth")
    _fresh_dir(synth_dir)   # a new run: no report, log or result of an earlier one survives
    # The clock is the design's target (ctx.clock_period_ns), not read back from hls4ml's Tcl.
    project = dataclasses.replace(read_hls_project(ctx.path("hls")), clock_period_ns=ctx.clock_period_ns)
    board = board_info(ctx)
    hls_name = sel.hls.name if sel.hls else default_hls_tool(project.accelerator)
    plan = make_plan(project, board, level=effective_level(ctx), cosim=opts.cosim, design=ctx.design.name,
                     hls_tool=hls_name, hls_version=sel.hls.version if sel.hls else None,
                     vivado_version=sel.vivado.version if sel.vivado else None, clock_ns=ctx.clock_period_ns)
    shutil.copytree(project.root, synth_dir / "prj", ignore=shutil.ignore_patterns(*_PROJECT_IGNORE))
    _write_files(synth_dir, render_scripts(plan, board, project))
    ctx.log(f"{plan.level}: {plan.driver} scripts for {hls_name}"
            + (f" + vivado ({plan.block_design or 'out of context'})" if plan.vivado_tool else "")
            + f"; written to {synth_dir / 'scripts'}")
    for note in plan.notes:
        ctx.log(f"note: {note}")

    tools_by_name = {**sel.tools}
    cmdlog = CommandLog(synth_dir / "commands.json", level=plan.level, dry_run=opts.dry_run)
    records: list[tuple[Command, CommandRecord]] = []
    for i, cmd in enumerate(plan.commands, start=1):
        info = tools_by_name.get(cmd.tool)
        exe = info.path if info is not None and info.usable and info.path else cmd.tool
        rec = CommandRecord(index=i, name=cmd.name, tool=cmd.tool, version=info.version if info else None,
                            argv=[exe, *cmd.args], cwd=str(Path("synth") / cmd.cwd) if cmd.cwd != "." else "synth",
                            log=f"synth/logs/{i:02d}_{cmd.name}.log", purpose=cmd.purpose,
                            timeout_s=opts.timeout_s)
        records.append((cmd, rec))
        cmdlog.records.append(rec)
    if opts.dry_run or sel.problem is not None:
        why = "dry run" if opts.dry_run else "vendor tool missing"
        for _, rec in records:
            rec.status, rec.reason = "not-run", why
        cmdlog.save()
        if opts.dry_run:
            ctx.log(f"dry run: wrote the HLS project ({synth_dir / 'prj'}) and scripts; ran nothing. "
                    f"To run them: {synth_dir / 'scripts' / 'run_synth.sh'}")
            for cmd, rec in records:
                ctx.log(f"  would run (in {rec.cwd}): {cmd.display()}")
            return {"dry_run": True, "level": plan.level, "commands": len(records), "driver": plan.driver}
        assert sel.problem is not None
        raise ToolsMissing(
            sel.problem.message + f"\n  the HLS project and scripts are written: {synth_dir / 'scripts'} "
            "(run_synth.sh replays the commands on a machine with the tools)",
            hint=sel.problem.hint, tools=sel.tools)
    cmdlog.save()

    logs: dict[str, Path] = {}
    for cmd, rec in records:
        log = ctx.path(rec.log)
        logs[cmd.name] = log
        rec.status, rec.started = "running", time.time()
        cmdlog.save()
        ctx.log(f"running {cmd.display()} in {rec.cwd}  (log: {log})")
        outcome = run_logged(rec.argv, cwd=synth_dir / cmd.cwd, log_path=log, timeout_s=opts.timeout_s)
        rec.returncode, rec.duration_s = outcome.returncode, round(outcome.duration_s, 3)
        if outcome.timed_out:
            rec.status, rec.reason = "timeout", f"no result after {opts.timeout_s:g} s; process group killed"
        elif outcome.returncode != 0 and outcome.memory:
            rec.status, rec.reason = "killed", f"out of memory: {outcome.memory}"
        elif outcome.returncode != 0:
            rec.status, rec.reason = "failed", f"exit code {outcome.returncode}"
        else:
            rec.status = "ok"
        cmdlog.save()
        if not outcome.ok:
            for _, later in records[rec.index:]:
                later.status, later.reason = "not-run", f"{cmd.name} failed"
            cmdlog.save()
            raise _failure(cmd, rec, outcome, log, opts.timeout_s)
        ctx.log(f"{cmd.name}: {cmd.tool} finished in {outcome.duration_s:.1f} s")

    synth = build_synth_json(plan, synth_dir, ctx.workdir, hls_version=sel.hls.version if sel.hls else None,
                             vivado_version=sel.vivado.version if sel.vivado else None, part=ctx.board.part,
                             board=ctx.board.name, logs=logs)
    synth["commands"] = "synth/commands.json"
    synth["duration_s"] = round(time.monotonic() - t0, 3)
    atomic_write_json(synth_dir / "synth.json", synth)
    # issue 12: real vendor figures teach the estimator (the user's calibration store); never fatal
    try:
        stored = record_synth(ctx.path("hls"), synth, part=ctx.board.part,
                              label=f"{getattr(ctx.design, 'name', 'design')}-{ctx.board.name}")
    except (OSError, ValueError) as exc:
        stored = None
        ctx.log(f"calibration store: this run was not recorded ({exc})")
    if stored:
        ctx.log(f"calibration store: run recorded in {stored.parent} (`hwflow estimate --recalibrate` refits on it)")
    res = synth.get("resources") or {}
    lat = synth.get("latency_cycles") or {}
    ctx.log(f"{synth['source']}: LUT {res.get('lut')} FF {res.get('ff')} DSP {res.get('dsp')} "
            f"BRAM18K {res.get('bram_18k')}; latency {lat.get('worst')} cycles"
            + (f"; WNS {synth['timing']['wns_ns']} ns" if synth.get("timing") else ""))
    if synth.get("timing") and synth["timing"].get("met") is False:
        ctx.log(f"warning: timing NOT met (WNS {synth['timing']['wns_ns']} ns)")
    return {"level": plan.level, "source": synth["source"], "lut": res.get("lut"), "dsp": res.get("dsp"),
            "latency_cycles": lat.get("worst")}


register(StepSpec(name="synth", run=run, settings=_settings, needs=("convert",),
                  outputs=("synth/synth.json",), result_file="synth/synth.json", version=1,
                  preflight=_preflight, optional_tool=True,
                  code=("hwflow/synth", "hwflow/tools.py", "hwflow/parsers")))

__all__ = ["HLS_TOOLS", "board_info", "run", "select_tools"]
