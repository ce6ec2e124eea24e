"""Step estimate: resources, latency and energy of the generated HLS project, on any PC.

Every figure is an estimate and says so: ``source`` is ``estimate:<model>`` and
``error_label`` gives the model's cross-validated error on public hls4ml designs.
Energy = board power x time per inference (batch-1: latency; streaming: II), with the
board's power model from boards/<board>.yaml, plus QKeras QTools' chip-level
arithmetic + memory energy as a second view.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import BadInput
from ..fileio import atomic_write_json
from ..flow import Context, StepSpec, register

METRIC_LABELS = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram_18k": "BRAM", "latency": "latency", "ii": "II"}


def _settings(ctx: Context) -> dict[str, Any]:
    from ..fileio import hash_file
    from ..paths import PACKAGE_DIR

    calib = PACKAGE_DIR / "estimate" / "calibration.json"
    return {"part": ctx.board.part, "family": ctx.board.family, "clock": ctx.clock_ns,
            "power": ctx.board_cfg["power"], "resources": ctx.board_cfg["resources"],
            "calibration": hash_file(calib) if calib.exists() else None}


def board_power_model(board) -> dict[str, Any]:
    """active_w falls back to idle_w: on small boards power hardly moves with the model (ANCHORS.md)."""
    p = board.power
    active = p.active_w if p.active_w is not None else p.idle_w
    return {"active_w": active, "idle_w": p.idle_w, "source": p.source,
            "assumption": None if p.active_w is not None or p.idle_w is None else
            "no active-power figure for this board: its idle power is used"}


def error_label(est: dict[str, Any]) -> str | None:
    err = est.get("error") or {}
    parts = []
    n = None
    for k in ("lut", "ff", "dsp", "latency"):
        e = err.get(k) or {}
        if e.get("mape") is not None:
            pct = e["mape"] if e.get("unit") == "percent" else 100 * e["mape"]
            parts.append(f"{METRIC_LABELS[k]} ±{pct:.0f}%")
            n = n or e.get("n")
    if not parts:
        return None
    return f"estimate, MAPE {', '.join(parts)} on {n} public designs (held out)"


def fits(resources: dict[str, Any], capacity: dict[str, Any]) -> dict[str, Any]:
    util = {}
    for k in ("lut", "ff", "dsp", "bram_18k", "uram"):
        v, cap = resources.get(k), capacity.get(k)
        util[k] = (v / cap) if (v is not None and cap) else (None if v else 0.0)
    ok = all(u is None or u <= 1.0 for u in util.values())
    return {"fits": ok, "utilization": util}


def estimate_for(ctx: Context, project: Path, board, accuracy: float | None) -> dict[str, Any]:
    from ..estimate import estimate_project, with_energy

    est = estimate_project(project, part=board.part, clock_ns=ctx.clock_ns)
    est = with_energy(est, board_power_model(board), accuracy)
    modes = est["energy"]
    flat = {
        "uj_per_inference": modes["uj_per_inference"].get("batch1"),
        "mode": "batch-1: latency x clock",
        "inferences_per_joule": modes["inferences_per_joule"].get("batch1"),
        "accuracy_per_joule": modes["accuracy_per_joule"].get("batch1"),
        "streaming_uj_per_inference": modes["uj_per_inference"].get("streaming"),
        "streaming_inferences_per_joule": modes["inferences_per_joule"].get("streaming"),
        "active_w": modes["power_w"]["active"], "idle_w": modes["power_w"]["idle"],
        "source": modes["source"], "power_source": modes.get("power_source"),
        "assumption": board_power_model(board)["assumption"], "notes": modes.get("notes"),
    }
    est["energy_modes"] = modes
    est["energy"] = flat
    est["error_label"] = error_label(est)
    est["fits"] = fits(est["resources"], board.resources.model_dump())
    est["board"] = board.name
    return est


def run(ctx: Context) -> dict[str, Any]:
    emu = ctx.step_json("emulate") or {}
    train = ctx.step_json("train") or {}
    acc = emu.get("accuracy_csim", train.get("accuracy_quantized"))
    est = estimate_for(ctx, ctx.path("hls"), ctx.board, acc)
    try:
        from ..estimate.energy import qtools_energy
        from .train import load_quantized_model

        est["qtools"] = qtools_energy(load_quantized_model(ctx), input_bits=ctx.design.quantization.input.bits)
    except Exception as exc:  # QTools covers a subset of layers; its absence is not fatal
        est["qtools"] = {"error": f"QTools could not analyse this model: {type(exc).__name__}: {exc}"}
    atomic_write_json(ctx.path("estimate.json"), est)
    r = est["resources"]
    ctx.log(f"{est['source']}: LUT {r.get('lut')}, FF {r.get('ff')}, DSP {r.get('dsp')}, BRAM18K {r.get('bram_18k')}, "
            f"latency {est.get('latency_cycles')} cycles, II {est.get('ii_cycles')}; fits on {ctx.board.name}: "
            f"{est['fits']['fits']}")
    if est.get("error_label"):
        ctx.log(est["error_label"])
    return {"lut": r.get("lut"), "dsp": r.get("dsp"), "latency_cycles": est.get("latency_cycles")}


# --------------------------------------------------------------------------- CLI extras

def cli_estimate(args) -> int:
    """`hwflow estimate --project DIR` and `hwflow estimate DESIGN --board all` (board advisor)."""
    from ..cli import _print_json

    if args.project is not None:
        from ..estimate import estimate_project

        if not args.project.is_dir():
            raise BadInput(f"--project {args.project}: not a folder")
        part = clock = None
        if args.board not in (None, "all"):
            from ..config import load_board

            b = load_board(args.board)
            part, clock = b.part, b.clock_period_ns
        from ..estimate.project import ProjectParseError

        try:
            est = estimate_project(args.project, part=part, clock_ns=clock)
        except ProjectParseError as exc:
            raise BadInput(f"--project {args.project}: {exc}",
                           hint="point --project at the folder hls4ml wrote (with firmware/parameters.h)") from None
        est["error_label"] = error_label(est)
        if args.json:
            _print_json(est)
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
    from ..cli import _print_json
    from ..config import list_boards, load_board, load_design
    from ..flow import Options, make_context, run_flow
    from ..report.plots import _plt

    rows = []
    for name in list_boards():
        board = load_board(name)
        design = load_design(args.design, board.name)
        ctx = make_context(design, board, Options(quiet=True), build_dir=args.build_dir)
        run_flow(ctx, to="estimate")
        from ..fileio import read_json

        est = read_json(ctx.path("estimate.json"))
        e = est["energy"]
        rows.append({"board": name, "part": board.part, "fits": est["fits"]["fits"],
                     "utilization": est["fits"]["utilization"], "latency_s": est.get("latency_s"),
                     "uj_per_inference": e.get("uj_per_inference"), "accuracy_per_joule": e.get("accuracy_per_joule"),
                     "source": est["source"], "power_source": e.get("power_source")})

    def key(r):
        return (not r["fits"], -(r["accuracy_per_joule"] or 0.0), r["latency_s"] or 1e9)

    rows.sort(key=key)
    from ..paths import reports_dir

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
        _print_json(rows)
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


register(StepSpec(name="estimate", run=run, settings=_settings, needs=("convert", "emulate"),
                  outputs=("estimate.json",), result_file="estimate.json", version=1))
