"""Render every script of a synthesis plan as text (generate, then execute).

The text depends only on the plan, the board and the hls4ml project's facts - no absolute
paths, dates, host names or hwflow version - so the same inputs give byte-identical scripts
on every machine; ``tests/synth/golden/`` holds the expected text for representative boards.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jinja2

from .plan import BoardInfo, SynthPlan
from .project import HlsProject

#: The processing-system cell and pin names per family (from the Vivado IP's port list).
PS_PORTS: dict[str, dict[str, str]] = {
    "zynq7000": {"ip": "processing_system7", "cell": "processing_system7_0", "clk": "FCLK_CLK0",
                 "resetn": "FCLK_RESET0_N", "ctrl_port": "M_AXI_GP0", "ctrl_aclk": "M_AXI_GP0_ACLK",
                 "mem_port": "S_AXI_HP0", "mem_aclk": "S_AXI_HP0_ACLK"},
    "zynqmp": {"ip": "zynq_ultra_ps_e", "cell": "zynq_ultra_ps_e_0", "clk": "pl_clk0",
               "resetn": "pl_resetn0", "ctrl_port": "M_AXI_HPM0_FPD", "ctrl_aclk": "maxihpm0_fpd_aclk",
               "mem_port": "S_AXI_HPC0_FPD", "mem_aclk": "saxihpc0_fpd_aclk"},
}
#: hls4ml's C++ flags (its build_prj.tcl uses the same).
CFLAGS = "-std=c++0x"
IO_WIDTH_BITS = 32   # one IEEE float per stream word
WRAPPER_FILE = "prj/firmware/hwflow_axi.cpp"


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("hwflow.synth", "templates"),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
        lstrip_blocks=True, autoescape=False)


def render(template: str, **values: Any) -> str:
    return _env().get_template(template).render(**values)


def _display(plan: SynthPlan, name: str) -> str:
    return next(c for c in plan.commands if c.name == name).display()


def render_scripts(plan: SynthPlan, board: BoardInfo, project: HlsProject) -> dict[str, str]:
    """{path relative to the synth folder: text} of every file the plan's commands run."""
    files: dict[str, str] = {}
    out = plan.outputs
    if plan.driver == "hwflow":
        files["scripts/hls.tcl"] = render(
            "hls.tcl.j2", name=project.name, part=project.part, clock_ns=_num(project.clock_period_ns),
            clock_uncertainty=project.clock_uncertainty, cflags=CFLAGS, cosim=plan.cosim,
            tb_axi_wrapper=project.accelerator and project.has_hls4ml_axi_wrapper,
            axi=plan.wrapper == "hwflow", invocation=plan.commands[0].display())
    if plan.wrapper == "hwflow":
        inp, res = project.single_io()
        files[WRAPPER_FILE] = render(
            "hwflow_axi.cpp.j2", name=project.name, io_type=project.io_type, n_in=inp.size, n_out=res.size,
            in_type=inp.type_name, out_type=res.type_name)
    if plan.level == "vsynth":
        files["scripts/vsynth.xdc"] = render("vsynth.xdc.j2", top=plan.core_top, clock_ns=project.clock_period_ns)
        files["scripts/vsynth.tcl"] = render(
            "vsynth.tcl.j2", top=plan.core_top, part=project.part, clock_ns=_num(project.clock_period_ns),
            hdl_dir=out["hdl_dir"], out=out, invocation=_display(plan, "vsynth"))
    if plan.level == "bitfile":
        if plan.block_design == "hls4ml":
            files["scripts/bitfile.tcl"] = render(
                "bitfile_hls4ml.tcl.j2", board=board, name=project.name, ip_name=project.axi_top, out=out,
                invocation=_display(plan, "bitfile"))
        else:
            files["scripts/bitfile.tcl"] = render(
                "block_design.tcl.j2", board=board, ps=PS_PORTS[board.family], ip_name=project.axi_top,
                ip_repo=out["ip_repo"], ip_in="in_data", ip_out="out_data", pl_clock_mhz=_num(plan.pl_clock_mhz),
                io_width=IO_WIDTH_BITS, out=out, invocation=_display(plan, "bitfile"))
    files["scripts/run_synth.sh"] = render("run_synth.sh.j2", plan=plan, board=board)
    files["scripts/plan.json"] = json.dumps(plan.to_dict(), indent=2, sort_keys=True) + "\n"
    return files


def _num(x: float | None) -> str:
    """10.0 -> "10", 2.5 -> "2.5": how a person writes a clock period in Tcl."""
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else repr(float(x))
