"""`hwflow estimate --project DIR` (any hls4ml project) and `hwflow estimate DESIGN --board all`
(the board advisor). Command-line code, kept out of the estimate step."""

from __future__ import annotations

from pathlib import Path

from .errors import BadInput
from .fileio import atomic_write_json, print_json
from .steps.estimate import error_label


def cli_estimate(args) -> int:
    """`hwflow estimate --project DIR`, `hwflow estimate DESIGN --board all` (board advisor) and
    `hwflow estimate --recalibrate [--with FILE ...]` (issue 12: the user's calibration store)."""
    if getattr(args, "recalibrate", False):
        from .estimate.views import recalibrate_cli

        return recalibrate_cli(getattr(args, "with_files", None) or [], args.json)
    if args.project is not None:
        from .estimate import estimate_project

        if not args.project.is_dir():
            raise BadInput(f"--project {args.project}: not a folder")
        part = clock = None
        if args.board not in (None, "all"):
            from .config import load_board

            b = load_board(args.board)
            part, clock = b.part, b.clock_period_ns
        from .estimate.project import ProjectParseError

        try:
            est = estimate_project(args.project, part=part, clock_ns=clock)
        except ProjectParseError as exc:
            raise BadInput(f"--project {args.project}: {exc}",
                           hint="point --project at the folder hls4ml wrote (with firmware/parameters.h)") from None
        est["error_label"] = error_label(est)
        if args.json:
            print_json(est)
        else:
            from .estimate.views import text_lines

            # figures with their 80 % interval, INCOMPLETE / out-of-domain, calibration, error
            for line in text_lines(est, str(args.project)):
                print(line)
        return 0
    return board_advisor(args)


def board_advisor(args) -> int:
    """Rank every board on one named energy basis (hwflow/advisor.py): fits or not, latency,
    energy per inference on each basis, efficiency. One progress line per board as it goes."""
    import sys
    import time

    from .advisor import (
        DEFAULT_BASIS,
        advisor_row,
        failed_row,
        fmt_util,
        missing_lines,
        other_bases_hint,
        rank,
        render_plot,
        table_lines,
    )
    from .config import list_boards, load_board, load_design
    from .energy.bases import BASES, BASIS_LABEL
    from .energy.design import fmt_uj
    from .errors import HwflowError
    from .estimate.views import incomplete_note
    from .fileio import read_json
    from .flow import Options, make_context, run_flow

    basis = getattr(args, "basis", None) or DEFAULT_BASIS
    if basis not in BASES:
        raise BadInput(f"--basis {basis}: use one of {', '.join(BASES)}")
    say = sys.stderr if args.json else sys.stdout
    names = list_boards()
    print(f"[advisor] estimating {args.design} on {len(names)} boards (training once, then convert, emulate and "
          f"estimate per board); energy ranked on basis {basis}", file=say, flush=True)
    rows = []
    for i, name in enumerate(names, 1):
        board = load_board(name)
        print(f"[advisor] {i}/{len(names)} {name}: ", end="", file=say, flush=True)
        t0 = time.monotonic()
        try:
            design = load_design(args.design, board.name)
            ctx = make_context(design, board, Options(quiet=True), build_dir=args.build_dir)
            run_flow(ctx, to="estimate")
            est = read_json(ctx.path("estimate.json"))
            emu = ctx.step_json("emulate") or {}
            acc = emu.get("accuracy_csim", (ctx.step_json("train") or {}).get("accuracy_quantized"))
            row = advisor_row(name, board.part, est, acc, basis)
            row["incomplete"] = incomplete_note(est)
        except BadInput:
            print("bad input", file=say, flush=True)
            raise
        except HwflowError as exc:
            row = failed_row(name, board.part, exc.message.splitlines()[0], basis)
        rows.append(row)
        dt = time.monotonic() - t0
        if row["error"]:
            print(f"FAILED ({row['error']}) after {dt:.0f} s", file=say, flush=True)
        else:
            fit = row.get("fit_verdict") or {True: "fits", False: "does not fit", None: "fit unknown"}[row["fits"]]
            e = fmt_uj(row["uj_per_inference"]) if row["uj_per_inference"] is not None else "no figure"
            print(f"{fit} ({fmt_util(row['utilization'])}), energy/inference [{basis}] {e} ({dt:.0f} s)"
                  + (f"; {row['incomplete'].upper()}" if row.get("incomplete") else ""), file=say, flush=True)
    rows = rank(rows)
    from .paths import reports_dir

    out = reports_dir() / "advisor" / Path(str(args.design)).stem
    out.mkdir(parents=True, exist_ok=True)
    png = render_plot(rows, basis, out / "advisor.png", design=Path(str(args.design)).stem)
    missing = missing_lines(rows, basis)
    doc = {"design": Path(str(args.design)).stem, "basis": basis, "basis_label": BASIS_LABEL[basis],
           "ranked_on": f"fits first, then accuracy per joule on basis {basis}", "boards": rows,
           "missing": missing, "plot": str(png)}
    atomic_write_json(out / "advisor.json", doc)
    if args.json:
        print_json(doc)
        return 0
    print(f"ranked on energy basis {basis}: {BASIS_LABEL[basis]} (* column)")
    for line in table_lines(rows, basis):
        print(line)
    for line in missing:
        print(line)
    for r in rows:  # issue 12: an estimate that leaves layers out is said, board by board
        if r.get("incomplete"):
            print(f"{r['board']}: {r['incomplete']}")
    hint = other_bases_hint(rows, basis)
    if hint:
        print(f"hint: {hint}")
    src = next((r["source"] for r in rows if r["source"]), None)
    print(f"(all figures are estimates{': ' + src if src else ''}; energy sources per board in "
          f"{out / 'advisor.json'}; plot: {png})")
    return 0
