"""Yosys ``synth_xilinx`` on the generated Verilog: cell counts and a logic-only delay.

Yosys 0.70's ``synth_xilinx`` maps LUTs with ``abc9`` only; under WebAssembly that is ~30x
slower than the classic ``abc``. The script therefore runs ``synth_xilinx`` up to ``map_luts``,
maps with ``abc -luts`` (LUT6 plus MUXF7/MUXF8 wide LUTs, as synth_xilinx's own abc9 call) and
finishes with synth_xilinx's remaining passes. ``sta`` then reports the longest
combinational arrival time from the cell library's timing (``cells_sim.v`` specify blocks): a
logic-only figure, no routing, no placement.

Counts are pre-placement netlist cells: Vivado would optimise further (and pack LUTs) - they
are labelled ``open:yosys-<version>`` and never mixed with vendor reports or estimates.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from hwflow.errors import BadInput, StepFailed
from hwflow.synth.open.tools import Tool

FAMILY = {"zynq7000": "xc7", "zynqmp": "xcup", "alveo": "xcup", "versal": None}


def yosys_family(family: str | None, part: str) -> str:
    fam = FAMILY.get(str(family or "").lower())
    if fam:
        return fam
    p = part.lower()
    if p.startswith("xc7"):
        return "xc7"
    if p.startswith(("xczu", "xck", "xcu2", "xcu5", "xcvu", "xcku")) and not p.startswith("xcvu0"):
        return "xcup"
    raise BadInput(f"board part {part} (family {family}): Yosys synth_xilinx has no mapping for it; the open "
                   "path supports 7-series (xc7) and UltraScale+ (xcup) parts")


def script(sources: list[str], top: str, family: str) -> str:
    fam = f"-family {family} -top {top} -flatten -noiopad -noclkbuf"
    reads = "\n".join(f"read_verilog -sv {s}" for s in sources)
    return f"""{reads}
synth_xilinx {fam} -run begin:map_luts
opt_expr -mux_undef -noclkinv
abc -luts 2:2,3,6:5,10,20
clean
xilinx_srl -fixed -minlen 3
techmap -map +/xilinx/lut_map.v -map +/xilinx/cells_map.v -D LUT_WIDTH=6
xilinx_dffopt
opt_lut_ins -tech xilinx
synth_xilinx {fam} -run finalize:check
delete t:$scopeinfo
tee -q -o stat.json stat -json
sta
"""


def counts(cells: dict[str, int]) -> dict[str, Any]:
    """Cell types -> LUT, FF, CARRY, DSP, BRAM_18K (+ the raw table)."""
    def s(pattern: str) -> int:
        return int(sum(n for c, n in cells.items() if re.fullmatch(pattern, c)))

    bram = s(r"RAMB18E\d") + 2 * s(r"RAMB36E\d")
    return {"lut": s(r"LUT[1-6]"), "ff": s(r"FD[RSCP]E(_1)?"), "carry": s(r"CARRY[48]"),
            "dsp": s(r"DSP48E\d|DSP48E2"), "bram_18k": bram, "muxf": s(r"MUXF[789]"),
            "srl": s(r"SRL(16E|C32E)"), "inv": s(r"INV"), "lutram": s(r"RAM\d+[MSX]\d*.*"),
            "cells": dict(sorted(cells.items()))}


def run_yosys(yosys: Tool, rtl_dir: Path, sources: list[Path], top: str, family: str, log: Path,
              timeout_s: float | None = None) -> dict[str, Any]:
    """Synthesize; returns counts, delay_ns and wall time. Exit 4 on failure, with the log."""
    rel = [str(p.resolve().relative_to(rtl_dir.resolve())) for p in sources]
    ys = rtl_dir / "synth.ys"
    ys.write_text(script(rel, top, family))
    stat = rtl_dir / "stat.json"
    stat.unlink(missing_ok=True)
    cmd = [*yosys.command, "-q", "-l", log.name, ys.name]
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, cwd=rtl_dir, capture_output=True, text=True, timeout=timeout_s,
                           env={**os.environ, **yosys.env})
    except subprocess.TimeoutExpired:
        raise StepFailed(f"yosys did not finish within {timeout_s:.0f} s", log=str(rtl_dir / log.name)) from None
    wall = time.monotonic() - t0
    logp = rtl_dir / log.name
    text = logp.read_text(errors="replace") if logp.exists() else ""
    if r.returncode != 0 or not stat.exists():
        tail = "\n".join((r.stderr or text).strip().splitlines()[-12:])
        raise StepFailed(f"yosys synth_xilinx failed (exit {r.returncode})", log=str(logp), tail=tail)
    data = json.loads(stat.read_text())
    mod = data.get("design") or {}
    cells = mod.get("num_cells_by_type") or {}
    out = counts({k: int(v) for k, v in cells.items()})
    m = re.search(r"Latest arrival time in '([^']+)' is (\d+(?:\.\d+)?)", text)
    out["delay_ns"] = round(float(m.group(2)) / 1000.0, 3) if m else None  # cells_sim timing is in ps
    out["wall_s"] = round(wall, 1)
    return out
