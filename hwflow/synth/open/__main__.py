"""``python -m hwflow.synth.open DESIGN [--board B] [--comb] [--no-yosys] [--build-dir DIR] [--json]``

The open path on a design whose convert step has run (``hwflow run DESIGN --to emulate``):
writes ``build/<design>/<board>/synth/open/`` (Verilog, simulation, Yosys log) and ``open.json``.
The reference for the RTL simulation is the C-sim output of the deployment test vectors
(emulate step); without it, the bit-exact emulator (itself checked against C-sim) on the same
vectors. Exit codes: 0 ok, 2 bad input / unsupported layer, 3 missing tool, 4 step failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hwflow.errors import HwflowError, ToolMissing


def run_design(design: str, board: str, *, build_dir: Path | None = None, pipelined: bool = True,
               synthesize: bool = True, quiet: bool = False) -> dict[str, Any]:
    from hwflow.config import load_board, load_design
    from hwflow.context import Options, make_context
    from hwflow.fileio import atomic_write_json
    from hwflow.synth.open.flow import check_tools, reference_vectors, run_open

    check_tools(yosys=synthesize)  # exit 3 before anything slow
    ctx = make_context(load_design(design, board), load_board(board), Options(quiet=quiet), build_dir)
    split = ctx.path("model", "test_split.npz")
    if not split.is_file() or not (ctx.path("hls") / "firmware").is_dir():
        raise ToolMissing(f"no converted design in {ctx.workdir} (the open path starts from the convert step)",
                          hint=f"run: hwflow run {design} --board {board} --to emulate")
    from hwflow.steps.convert import get_hls_model
    from hwflow.steps.train import load_test_split

    x, _ = load_test_split(ctx)
    hls_model = get_hls_model(ctx)
    xv, yv, ref = reference_vectors(ctx.workdir, hls_model, x)
    b = ctx.board_cfg
    out_dir = ctx.path("synth", "open")

    def say(msg: str) -> None:
        if not quiet:
            print(f"[synth:open] {msg}", flush=True)

    res = run_open(hls_model, xv, yv, out_dir, design=design, part=str(b["part"]), family=b.get("family"),
                   clock_ns=ctx.clock_period_ns, pipelined=pipelined, reference=ref, synthesize=synthesize,
                   say=say)
    atomic_write_json(out_dir / "open.json", res)
    say(f"wrote {out_dir / 'open.json'}")
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hwflow.synth.open", description=__doc__.splitlines()[0])
    ap.add_argument("design")
    ap.add_argument("--board", default="pynq-z2")
    ap.add_argument("--build-dir", type=Path, default=None)
    ap.add_argument("--comb", action="store_true", help="one combinational module (default: pipelined to the clock)")
    ap.add_argument("--no-yosys", action="store_true", help="Verilog and RTL simulation only")
    ap.add_argument("--json", action="store_true", help="print open.json")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    try:
        res = run_design(a.design, a.board, build_dir=a.build_dir, pipelined=not a.comb,
                         synthesize=not a.no_yosys, quiet=a.quiet or a.json)
    except HwflowError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    if a.json:
        print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
