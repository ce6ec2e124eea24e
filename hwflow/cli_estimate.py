"""`hwflow estimate --project DIR` (any hls4ml project) and `hwflow estimate DESIGN --board all`
(the board advisor). Command-line code, kept out of the estimate step."""

from __future__ import annotations

from pathlib import Path

from .errors import BadInput
from .fileio import atomic_write_json, print_json
from .steps.estimate import error_label


def cli_estimate(args) -> int:
    """`hwflow estimate --project DIR` and `hwflow estimate DESIGN --board all` (board advisor)."""
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
            r = est["resources"]
            print(f"{args.project}: LUT {r.get('lut')} FF {r.get('ff')} DSP {r.get('dsp')} BRAM18K {r.get('bram_18k')} "
                  f"latency {est.get('latency_cycles')} cycles II {est.get('ii_cycles')}  [{est['source']}]")
            if est["error_label"]:
                print(f"  ({est['error_label']})")
        return 0
    return board_advisor(args)


def board_advisor(args) -> int:
    """Rank every board: fits or not, latency, energy per inference, efficiency."""
    from .config import list_boards, load_board, load_design
    from .flow import Options, make_context, run_flow
    from .report.plots import _plt

    rows = []
    for name in list_boards():
        board = load_board(name)
        design = load_design(args.design, board.name)
        ctx = make_context(design, board, Options(quiet=True), build_dir=args.build_dir)
        run_flow(ctx, to="estimate")
        from .fileio import read_json

        est = read_json(ctx.path("estimate.json"))
        e = est["energy"]
        rows.append({"board": name, "part": board.part, "fits": est["fits"]["fits"],
                     "utilization": est["fits"]["utilization"], "latency_s": est.get("latency_s"),
                     "uj_per_inference": e.get("uj_per_inference"), "accuracy_per_joule": e.get("accuracy_per_joule"),
                     "source": est["source"], "power_source": e.get("power_source")})

    def key(r):
        return (not r["fits"], -(r["accuracy_per_joule"] or 0.0), r["latency_s"] or 1e9)

    rows.sort(key=key)
    from .paths import reports_dir

    out = reports_dir() / "advisor" / Path(str(args.design)).stem
    out.mkdir(parents=True, exist_ok=True)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=110)
    for r in rows:
        if r["uj_per_inference"] is None or r["latency_s"] is None:
            continue
        ax.scatter(r["latency_s"] * 1e6, r["uj_per_inference"], marker="o" if r["fits"] else "x", s=50)
        ax.annotate(r["board"], (r["latency_s"] * 1e6, r["uj_per_inference"]), fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("estimated latency (µs)")
    ax.set_ylabel("estimated energy per inference (µJ)")
    ax.set_title(f"Board advisor for {Path(str(args.design)).stem} (estimates; x = does not fit)")
    fig.tight_layout()
    fig.savefig(out / "advisor.png")
    plt.close(fig)
    atomic_write_json(out / "advisor.json", rows)
    if args.json:
        print_json(rows)
    else:
        print(f"{'board':<12} {'fits':<5} {'max util':>8} {'latency µs':>11} {'µJ/inf':>9} {'acc/J':>10}")
        for r in rows:
            mu = max((v for v in r["utilization"].values() if v is not None), default=None)
            lat = f"{r['latency_s'] * 1e6:.3f}" if r["latency_s"] else "n/a"
            uj = f"{r['uj_per_inference']:.4g}" if r["uj_per_inference"] else "n/a"
            apj = f"{r['accuracy_per_joule']:.4g}" if r["accuracy_per_joule"] else "n/a"
            print(f"{r['board']:<12} {'yes' if r['fits'] else 'NO':<5} {100 * mu if mu is not None else 0:>7.1f}% "
                  f"{lat:>11} {uj:>9} {apj:>10}")
        print(f"(all figures are estimates: {rows[0]['source'] if rows else ''}; plot: {out / 'advisor.png'})")
    return 0
