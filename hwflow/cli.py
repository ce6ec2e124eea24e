"""Command line: ``hwflow <command> ...`` (also ``python -m hwflow``).

Exit codes (docs/contract.md): 0 success, 2 bad input, 3 missing tool/board/resource,
4 a step failed. Expected failures print a message, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable

from ._version import __version__
from .errors import BadInput, HwflowError
from .fileio import print_json

DEFAULT_BOARD = "pynq-z2"
STEP_COMMANDS = ["train", "convert", "emulate", "estimate", "synth", "package", "deploy"]


def _add_common(p: argparse.ArgumentParser, *, design: bool = True) -> None:
    if design:
        p.add_argument("design", help="design name in designs/ or a path to a design YAML file")
    p.add_argument("--board", default=DEFAULT_BOARD, help=f"board name in boards/ or a YAML path (default {DEFAULT_BOARD})")
    p.add_argument("--build-dir", type=Path, default=None, help="put work folders in DIR/<design>/<board>/")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")


def _add_run_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=["fast", "csim"], default="fast",
                   help="emulation engine for the test split (C-sim always runs on the deployment test vectors)")
    p.add_argument("--deploy", default="emulated", help="emulated | local | ssh://user@host[:port]/dir")
    p.add_argument("--level", choices=["csynth", "vsynth", "bitfile"], default=None,
                   help="synthesis level (default: csynth, or the level already synthesized in this work folder)")
    p.add_argument("--cosim", action="store_true", help="also run C/RTL co-simulation (synth)")
    p.add_argument("--dry-run", action="store_true", help="synth: write the HLS project and scripts, run nothing")
    p.add_argument("--tool", choices=["vendor", "open"], default=None,
                   help="synth: 'vendor' HLS tools, or 'open': da4ml Verilog + Verilator RTL simulation + Yosys "
                        "counts, no vendor tool (default: what this work folder synthesized last, else vendor)")
    p.add_argument("--comb", action="store_true",
                   help="synth --tool open: one combinational module instead of pipelined to the clock")
    p.add_argument("--timeout", type=float, default=None, help="timeout in seconds for each vendor tool call")
    p.add_argument("--quiet", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="hwflow", description="Quantized neural networks on FPGAs: "
                                 "train -> hls4ml -> emulate -> estimate/synthesize -> deploy -> report")
    ap.add_argument("--version", action="version", version=f"hwflow {__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run the flow (train ... report) for a design on a board")
    _add_common(p)
    _add_run_opts(p)
    p.add_argument("--to", default="report", help="last step to run")
    p.add_argument("--from", dest="start", default=None, help="re-run from this step on")

    for step in STEP_COMMANDS:
        p = sub.add_parser(step, help=f"run the flow up to and including '{step}'")
        if step == "estimate":
            p.add_argument("design", nargs="?", help="design name or YAML path")
            p.add_argument("--project", type=Path, default=None, help="estimate any hls4ml project folder")
            p.add_argument("--board", default=None,
                           help=f"board (default {DEFAULT_BOARD}; with --project: the project's own part), or 'all'")
            p.add_argument("--build-dir", type=Path, default=None)
            p.add_argument("--json", action="store_true")
            p.add_argument("--basis", default=None, choices=("batch1_system", "batched_system", "accelerator"),
                           help="with --board all: the energy basis boards are ranked on (default batch1_system)")
            p.add_argument("--recalibrate", action="store_true",
                           help="refit the estimator on the shipped data plus your own vendor runs (calibration store)")
            p.add_argument("--with", dest="with_files", action="append", default=[], metavar="FILE",
                           help="with --recalibrate: a table of vendor runs exported elsewhere (repeatable)")
            _add_run_opts(p)
        else:
            _add_common(p)
            _add_run_opts(p)
        p.add_argument("--from", dest="start", default=None, help="re-run from this step on")

    p = sub.add_parser("report", help="(re)build the report from what has been run")
    p.add_argument("design", nargs="?", help="design name or YAML path")
    p.add_argument("--board", default=DEFAULT_BOARD)
    p.add_argument("--build-dir", type=Path, default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--compare", nargs="+", default=None, metavar="RUN",
                   help="compare runs: DESIGN[@BOARD] or results.json paths")
    p.add_argument("--out", type=Path, default=None, help="output folder for --compare")

    p = sub.add_parser("parse", help="parse vendor report(s) into normalised JSON")
    p.add_argument("path", type=Path)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("check", help="validate a design (and board) and print the resolved config")
    _add_common(p)

    p = sub.add_parser("sweep", help="design-space exploration from a sweep YAML")
    p.add_argument("sweep", help="designs/sweeps/<name>.yaml or a sweep name")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--scheduler", default=None, help="tcp://host:port (Dask) or local-dask")
    p.add_argument("--promote", type=int, default=None, metavar="N", help="write point N as a design file")
    p.add_argument("--build-dir", type=Path, default=None)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("baseline", help="run the same model on the host CPU or an NVIDIA GPU")
    p.add_argument("design")
    p.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    p.add_argument("--board", default=DEFAULT_BOARD)
    p.add_argument("--build-dir", type=Path, default=None)
    p.add_argument("--json", action="store_true")

    for name, helptext in (("boards", "list boards"), ("designs", "list designs"),
                           ("doctor", "vendor tools, versions and what works here")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--json", action="store_true")
    return ap


# --------------------------------------------------------------------------- commands

def _options(args: argparse.Namespace):
    from .flow import Options

    return Options(engine=getattr(args, "engine", "fast"), deploy=getattr(args, "deploy", "emulated"),
                   synth_level=getattr(args, "level", None), cosim=getattr(args, "cosim", False),
                   dry_run=getattr(args, "dry_run", False), timeout_s=getattr(args, "timeout", None),
                   quiet=getattr(args, "quiet", False) or getattr(args, "json", False),
                   extra={"synth_tool": getattr(args, "tool", None), "open_comb": getattr(args, "comb", False)})


def _context(args: argparse.Namespace):
    from .config import load_board, load_design
    from .flow import make_context

    board = load_board(args.board)
    design = load_design(args.design, board.name)
    return make_context(design, board, _options(args), build_dir=args.build_dir)


def cmd_run(args: argparse.Namespace, to: str | None = None) -> int:
    from .flow import run_flow

    ctx = _context(args)
    if args.json:
        # keep stdout clean for the JSON document
        _stdout = sys.stdout
        sys.stdout = sys.stderr
        try:
            summary = run_flow(ctx, to=to or args.to, start=args.start)
        finally:
            sys.stdout = _stdout
    else:
        summary = run_flow(ctx, to=to or args.to, start=args.start)
    from .fileio import read_json

    results = read_json(ctx.path("results.json"))
    html = ctx.reports_dir / "report.html"
    has_report = summary.get("report") in ("ran", "cached") and html.exists()
    if args.json:
        paths = {"workdir": str(ctx.workdir), "results": str(ctx.path("results.json")),
                 "manifest": str(ctx.path("manifest.json")),
                 "report_html": str(html) if has_report else None,
                 "report_md": str(ctx.reports_dir / "report.md") if has_report else None}
        print_json({"steps": summary, "paths": paths, "results": results})
    else:
        print(f"work folder: {ctx.workdir}")
        if has_report:
            print(f"report: {html}")
    return 0


def cmd_step(args: argparse.Namespace) -> int:
    if args.cmd == "estimate" and (args.project is not None or args.board == "all" or args.recalibrate):
        from .cli_estimate import cli_estimate

        return cli_estimate(args)
    if args.cmd == "estimate" and not args.design:
        raise BadInput("estimate needs a DESIGN or --project DIR")
    if args.board is None:
        args.board = DEFAULT_BOARD
    return cmd_run(args, to=args.cmd)


def cmd_report(args: argparse.Namespace) -> int:
    if args.compare:
        from .report.compare import cli_compare

        return cli_compare(args)
    if not args.design:
        raise BadInput("report needs a DESIGN (or --compare RUN RUN ...)")
    from .config import load_board, load_design
    from .flow import Options, make_context, run_flow

    board = load_board(args.board)
    design = load_design(args.design, board.name)
    ctx = make_context(design, board, Options(quiet=args.json), build_dir=args.build_dir)
    if not ctx.workdir.exists():
        raise BadInput(f"nothing has run for {design.name} on {board.name} (no {ctx.workdir}); "
                       f"run `hwflow run {design.name} --board {board.name}` first")
    run_flow(ctx, only="report")
    if args.json:
        from .fileio import read_json

        print_json(read_json(ctx.path("results.json")))
    else:
        print(f"report: {ctx.reports_dir / 'report.html'}")
    return 0


def cmd_parse(args: argparse.Namespace) -> int:
    from .parsers import parse_path

    if not args.path.exists():
        raise BadInput(f"{args.path}: no such file or folder")
    out = parse_path(args.path)
    if args.path.is_file():
        out = out[0]
    if args.json:
        print_json(out)
    else:
        for item in (out if isinstance(out, list) else [out]):
            res = item.get("resources") or {}
            print(f"{item.get('file')}: {item.get('kind')} ({item.get('tool')} {item.get('version') or ''}) "
                  + " ".join(f"{k}={v}" for k, v in res.items() if v is not None))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    import yaml

    from .config import check

    resolved = check(args.design, args.board)
    for w in resolved["warnings"]:
        print(f"hwflow: warning: {w}", file=sys.stderr)
    if args.json:
        print_json(resolved)
    else:
        shown = {k: v for k, v in resolved.items() if k != "warnings"}
        print(f"# {resolved['design']['name']} on {resolved['board']['name']}: valid"
              + (f" ({len(resolved['warnings'])} warning(s) above)" if resolved["warnings"] else ""))
        print(yaml.safe_dump(shown, sort_keys=False, default_flow_style=None))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from .config import list_boards, list_designs, load_board, load_design

    if args.cmd == "boards":
        rows = []
        for n in list_boards():
            b = load_board(n)
            rows.append({"name": b.name, "part": b.part, "family": b.family, "power": b.power.method,
                         "hls4ml_board": b.hls4ml_board, **b.resources.model_dump()})
        if args.json:
            print_json(rows)
        else:
            for r in rows:
                print(f"{r['name']:<12} {r['part']:<24} {r['family']:<9} LUT {r['lut']:>8} DSP {r['dsp']:>6} "
                      f"BRAM18K {r['bram_18k']:>5}  power: {r['power']}")
    else:
        rows = []
        for n in list_designs():  # by file name: what `hwflow check NAME` takes
            try:
                d = load_design(n)
                rows.append({"name": n, "design_name": d.name, "description": d.description,
                             "dataset": d.dataset.name})
            except HwflowError as exc:
                rows.append({"name": n, "error": str(exc).splitlines()[0]})
        if args.json:
            print_json(rows)
        else:
            for r in rows:
                also = f" (name: {r['design_name']})" if r.get("design_name") not in (None, r["name"]) else ""
                print(f"{r['name']:<20} {r.get('dataset', ''):<8} {r.get('description') or r.get('error')}{also}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from .tools import doctor_report

    rep = doctor_report()
    if args.json:
        print_json(rep)
    else:
        for line in rep["lines"]:
            print(line)
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from .sweep import cli_sweep

    return cli_sweep(args)


def cmd_baseline(args: argparse.Namespace) -> int:
    from .baseline import cli_baseline

    return cli_baseline(args)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run, "report": cmd_report, "parse": cmd_parse, "check": cmd_check, "boards": cmd_list,
    "designs": cmd_list, "doctor": cmd_doctor, "sweep": cmd_sweep, "baseline": cmd_baseline,
    **{s: cmd_step for s in STEP_COMMANDS},
}


def _quiet_libraries() -> None:
    """TensorFlow, Keras, QKeras and hls4ml warn loudly about things users cannot act on."""
    import logging
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for cat in (UserWarning, DeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=cat)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    from .models.logs import quiet_spurious_library_logs

    quiet_spurious_library_logs()  # QTools' "unsupported kernel shape" on every Conv1D


def main(argv: list[str] | None = None) -> int:
    _quiet_libraries()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.cmd](args)
    except HwflowError as exc:
        sys.stdout.flush()
        print(f"hwflow: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("hwflow: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # pragma: no cover - e.g. `hwflow boards | head`
        return 0


def entry() -> None:
    sys.exit(main())
