#!/usr/bin/env python3
"""The open synthesis path on the shipped io_parallel designs: Yosys netlist counts next to
hwflow's HLS estimate of the same design and da4ml's own cost estimate, with wall times.

    bench/open_synth.py [--json] [--designs digits_mlp,npz_example] [--board pynq-z2] [--comb]

Each design is trained/converted/estimated by the flow first (cached when already done: ``hwflow
run D --to estimate``), then traced, simulated (Verilator, bit-exact against C-sim on the
deployment test vectors) and synthesized (Yosys). A design the open path cannot take, or whose
data is not available here (jets: an OpenML download), is listed with the reason.

Read the comparison with care: the estimate is of hls4ml's HLS architecture (multipliers, reuse
factor), the Yosys counts are of da4ml's multiplier-free adder graphs, fully parallel (one
result per clock) and pre-placement. They are two implementations of the same network, not a
prediction and its truth.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: a name ending in "+argmax" runs a copy of the design with hls.softmax: argmax (the open path builds the
#: class decision, not hls4ml's softmax tables), named <design>_argmax: a variant, labelled as such
DEFAULT = ["digits_mlp", "digits_mlp_distilled+argmax", "npz_example+argmax", "jets_mlp+argmax"]
#: io_parallel designs left out of the default list, and why (pass --designs to try them anyway)
LEFT_OUT = {"mnist5k_mlp": "784-64-10 (50,816 weights, ~25x digits_mlp): Verilator and Yosys would take "
                           "tens of minutes on 2 cores; not attempted",
            "digits_cnn": "io_stream: the open path builds io_parallel designs only"}


def _hwflow() -> list[str]:
    exe = Path(sys.executable).parent / "hwflow"
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "hwflow"]


def argmax_variant(design: str) -> str:
    """Write build/bench_open/<design>_argmax.yaml (hls.softmax: argmax) and return its path."""
    import yaml

    from hwflow.config import resolve_design_path

    src = resolve_design_path(design)
    data = yaml.safe_load(src.read_text())
    data["name"] = f"{data.get('name', design)}_argmax"
    data.setdefault("hls", {})["softmax"] = "argmax"
    ds = data.get("dataset") or {}
    if ds.get("path") and not Path(ds["path"]).is_absolute():  # as hwflow.config.design_file_path reads it
        near = src.parent / ds["path"]
        ds["path"] = str((near if near.exists() else ROOT / ds["path"]).resolve())
    out = ROOT / "build" / "bench_open" / f"{data['name']}.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(out)


def bench_design(spec: str, board: str, pipelined: bool) -> dict:
    from hwflow.errors import HwflowError
    from hwflow.fileio import read_json
    from hwflow.paths import default_build_dir
    from hwflow.synth.open.__main__ import run_design

    base, _, variant = spec.partition("+")
    row: dict = {"design": base + ("_argmax" if variant == "argmax" else ""), "board": board}
    if variant == "argmax":
        row["variant"] = f"{base} with hls.softmax: argmax"
        design = argmax_variant(base)
    elif variant:
        raise SystemExit(f"unknown variant {variant!r} in {spec!r} (only +argmax)")
    else:
        design = base
    t0 = time.monotonic()
    r = subprocess.run([*_hwflow(), "run", design, "--board", board, "--to", "estimate", "--quiet"],
                       capture_output=True, text=True, cwd=ROOT)
    row["flow_to_estimate_s"] = round(time.monotonic() - t0, 1)
    if r.returncode != 0:
        row["status"] = f"not run: hwflow run --to estimate exited {r.returncode}"
        row["reason"] = (r.stderr or r.stdout).strip().splitlines()[-1:] or [""]
        return row
    t1 = time.monotonic()
    try:
        res = run_design(design, board, pipelined=pipelined, quiet=True)
    except HwflowError as e:
        row["status"] = f"not run: exit {e.exit_code}"
        row["reason"] = e.message
        return row
    row["open_path_s"] = round(time.monotonic() - t1, 1)
    row["status"] = "ok"
    row["wall_s"] = res["wall_s"]
    row["rtl_sim"] = res["rtl_sim"]
    row["verilog"] = {k: res["verilog"][k] for k in ("pipelined", "pipeline_stages", "latency_cycles",
                                                     "levels_per_stage", "adder_levels")}
    row["yosys"] = {k: res["resources"][k] for k in ("lut", "ff", "carry", "dsp", "bram_18k", "source")}
    row["yosys"]["logic_delay_ns"] = res["timing"]["logic_delay_ns"]
    row["da4ml_estimate"] = res["da4ml_estimate"]
    est_path = default_build_dir() / row["design"] / board / "estimate.json"
    if est_path.is_file():
        est = read_json(est_path)
        tot = est.get("resources") or {}
        row["hls_estimate"] = {k: tot.get(k) for k in ("lut", "ff", "dsp", "bram_18k") if k in tot}
        row["hls_estimate"]["interval_80"] = {k: v for k, v in (est.get("interval_80") or {}).items()
                                              if k in ("lut", "ff", "dsp")}
        row["hls_estimate"]["source"] = est.get("source")
        row["hls_estimate"]["error"] = est.get("error_label")
    lut = row["yosys"]["lut"]
    da = row["da4ml_estimate"]["lut"]
    row["da4ml_lut_error_pct"] = round(100.0 * (da - lut) / lut, 1) if lut else None
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--designs", default=",".join(DEFAULT))
    ap.add_argument("--board", default="pynq-z2")
    ap.add_argument("--comb", action="store_true", help="combinational instead of pipelined to the clock")
    a = ap.parse_args()
    rows = []
    for d in [s for s in a.designs.split(",") if s]:
        if not a.json:
            print(f"{d} ...", flush=True)
        rows.append(bench_design(d, a.board, not a.comb))
    doc = {"board": a.board, "pipelined": not a.comb, "designs": rows, "left_out": LEFT_OUT,
           "note": ("yosys = da4ml's distributed-arithmetic netlist (pre-placement, fully parallel); "
                    "hls_estimate = hwflow's estimate of hls4ml's HLS architecture at the design's reuse "
                    "factor: different architectures, not prediction vs truth; da4ml_lut_error_pct = "
                    "da4ml's own LUT estimate vs the Yosys count")}
    if a.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(f"{'design':<22}{'status':<12}{'yosys LUT':>10}{'FF':>8}{'CARRY':>7}{'DSP':>5}{'delay ns':>9}"
          f"{'da4ml LUT':>10}{'HLS est LUT':>12}{'DSP':>5}{'open s':>8}")
    for r in rows:
        if r["status"] != "ok":
            print(f"{r['design']:<22}{r['status']:<40} {r.get('reason')}")
            continue
        y, e = r["yosys"], r.get("hls_estimate", {})
        print(f"{r['design']:<22}{'ok':<12}{y['lut']:>10,}{y['ff']:>8,}{y['carry']:>7,}{y['dsp']:>5}"
              f"{y['logic_delay_ns']:>9}{r['da4ml_estimate']['lut']:>10,}{str(e.get('lut', '-')):>12}"
              f"{str(e.get('dsp', '-')):>5}{r['open_path_s']:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
