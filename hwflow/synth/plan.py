"""Which tool runs which script, for one synthesis level: a pure function of its inputs.

Two drivers, chosen per project and tool:

* ``hls4ml`` - the project came from hls4ml's VivadoAccelerator backend (a board hls4ml knows:
  pynq-z2, zcu102) and the HLS tool is Vivado HLS, the combination that backend is written for.
  C synthesis runs hls4ml's own ``build_prj.tcl`` with the arguments hls4ml's ``build()`` passes,
  the bitstream runs hls4ml's ``design.tcl`` (wrapped by a script of ours that checks the run and
  collects the reports, bitstream and .hwh).
* ``hwflow`` - everything else: Vitis HLS (``vitis_hls`` 2022.2+, ``vitis-run`` 2023.1+) for any
  board, and the Zynq UltraScale+ boards hls4ml has no block design for (ZCU104, KV260,
  Ultra96-V2). hwflow generates the HLS script, an AXI4-Stream wrapper (``hls::axis`` side
  channels, which Vitis HLS needs for TLAST) and the block design from the board file.

Out-of-context logic synthesis (``vsynth``) always uses hwflow's Vivado script: hls4ml's
``vivado_synth.tcl`` synthesises the top in context, which turns every port into a pin.

Every path in a plan is relative to the synth folder (``build/<design>/<board>/synth``), so
plans and the scripts made from them are identical on every machine (golden-tested).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import BadInput
from ..tools import CONTRACTS, HLS_TOOLS, ToolInfo, parse_version
from .project import HlsProject

LEVELS = ("csynth", "vsynth", "bitfile")
BITFILE_FAMILIES = ("zynq7000", "zynqmp")
#: hls4ml's design.tcl pins IP versions (processing_system7 5.5, zynq_ultra_ps_e 3.3, axi_dma 7.1)
#: of the Vivado releases its VivadoAccelerator backend was written against.
HLS4ML_DESIGN_TCL_VIVADO = ((2019, 2), (2020, 2))


@dataclass(frozen=True)
class BoardInfo:
    """The board-file facts the scripts use."""

    name: str
    part: str
    family: str
    hls4ml_board: str | None = None
    vivado_board_part: str | None = None   # e.g. xilinx.com:zcu104:part0:1.1, when the board file names one


@dataclass
class Command:
    """One tool invocation; ``cwd`` is relative to the synth folder."""

    name: str                  # hls | vsynth | bitfile
    tool: str                  # executable name (a key of tools.CONTRACTS)
    args: list[str]
    cwd: str
    script: str | None         # the script it runs, relative to the synth folder
    purpose: str

    def display(self) -> str:
        return " ".join([self.tool, *(_quote(a) for a in self.args)])


def _quote(arg: str) -> str:
    return arg if arg and all(c.isalnum() or c in "-_./=:%+" for c in arg) else "'" + arg.replace("'", "'\\''") + "'"


@dataclass
class SynthPlan:
    level: str
    cosim: bool
    design: str
    project_name: str
    hls_tool: str
    vivado_tool: str | None
    driver: str                            # hls4ml | hwflow
    wrapper: str | None                    # hls4ml | hwflow | None (no AXI top synthesised)
    block_design: str | None               # hls4ml | hwflow | None
    core_top: str
    hls_top: str                           # the top of the core HLS project (myproject_axi with hls4ml's driver)
    core_prj: str                          # prj/<name>_prj
    axi_prj: str | None                    # where the AXI IP is exported from
    pl_clock_mhz: float | None
    dma: str | None                        # the DMA's path in the overlay
    commands: list[Command] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)   # kind -> path relative to the synth folder
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["commands"] = [{**asdict(c), "display": c.display()} for c in self.commands]
        return d


# --------------------------------------------------------------------------- tool choice

def hls_preference(accelerator_project: bool) -> list[str]:
    """HLS tools in order of preference for a project.

    hls4ml's VivadoAccelerator projects were written for Vivado HLS; Vitis projects need Vitis HLS
    (their nnet_utils overrides use Vitis-only pragmas), newest entry point first.
    """
    return ["vivado_hls", "vitis-run", "vitis_hls"] if accelerator_project else ["vitis-run", "vitis_hls"]


def choose_hls_tool(accelerator_project: bool, tools: dict[str, ToolInfo]) -> ToolInfo | None:
    """The usable HLS tool to run, honouring ``HWFLOW_HLS_TOOL`` when it names a usable candidate."""
    order = hls_preference(accelerator_project)
    forced = os.environ.get("HWFLOW_HLS_TOOL")
    if forced:
        if forced not in HLS_TOOLS:
            raise BadInput(f"HWFLOW_HLS_TOOL={forced!r}: not an HLS tool (one of {', '.join(HLS_TOOLS)})")
        if forced not in order:
            raise BadInput(f"HWFLOW_HLS_TOOL={forced}: this project (hls4ml Vitis backend) needs Vitis HLS "
                           f"(one of {', '.join(order)})")
        order = [forced]
    return next((tools[n] for n in order if n in tools and tools[n].usable), None)


def default_hls_tool(accelerator_project: bool) -> str:
    """The tool the scripts are written for when none is installed (``--dry-run`` without tools)."""
    forced = os.environ.get("HWFLOW_HLS_TOOL")
    order = hls_preference(accelerator_project)
    return forced if forced in order else order[0]


def check_level(level: str, board: BoardInfo) -> None:
    """Reject what hwflow cannot build before anything runs (exit 2)."""
    if level not in LEVELS:
        raise BadInput(f"--level {level}: unknown synthesis level (one of {', '.join(LEVELS)})")
    if level == "bitfile" and board.family not in BITFILE_FAMILIES:
        raise BadInput(
            f"--level bitfile is not supported for board {board.name} (family {board.family}): hwflow "
            f"builds bitstreams for Zynq-7000 and Zynq UltraScale+ boards with an AXI DMA block design",
            hint=f"use --level vsynth for resources and timing on {board.name}; Alveo/Versal need a v++ "
                 "platform flow that hwflow does not generate yet")


# --------------------------------------------------------------------------- the plan

def make_plan(project: HlsProject, board: BoardInfo, *, level: str, cosim: bool, design: str,
              hls_tool: str, vivado_tool: str | None = "vivado", hls_version: str | None = None,
              vivado_version: str | None = None, clock_ns: float | None = None) -> SynthPlan:
    """The plan for one level. Pure: same inputs, same plan (and so the same scripts)."""
    check_level(level, board)
    if hls_tool not in HLS_TOOLS:
        raise BadInput(f"{hls_tool!r} is not an HLS tool")
    if not project.accelerator and hls_tool == "vivado_hls":
        raise BadInput(f"{project.root}: this project was written by hls4ml's Vitis backend; Vivado HLS "
                       "cannot build it", hint="install Vitis HLS 2022.2+ (vitis_hls or vitis-run)")
    name = project.name
    clock = clock_ns or project.clock_period_ns
    hls4ml_driver = project.accelerator and hls_tool == "vivado_hls" and project.has_hls4ml_build_prj
    need_axi = level == "bitfile"
    if need_axi:
        project.single_io()
    notes: list[str] = []
    if hls4ml_driver:
        driver, hls_top = "hls4ml", f"{name}_axi"
        wrapper = "hls4ml" if need_axi else None
        axi_prj = f"prj/{name}_prj" if need_axi else None
    else:
        driver, hls_top = "hwflow", name
        wrapper = "hwflow" if need_axi else None
        axi_prj = f"prj/{name}_axi_prj" if need_axi else None
    block_design = None
    pl_clock = None
    dma = None
    if need_axi:
        if hls4ml_driver and project.has_hls4ml_design_tcl:
            block_design = "hls4ml"
            pl_clock = 100.0   # hls4ml's design.tcl runs the PL at FCLK0 = 100 MHz
            dma = "hier_0/axi_dma_0"
            v = parse_version(vivado_version) if vivado_version else None
            lo, hi = HLS4ML_DESIGN_TCL_VIVADO
            if v is not None and not (lo <= v[:2] <= hi):
                notes.append(f"hls4ml's design.tcl pins IP versions of Vivado {lo[0]}.{lo[1]}-{hi[0]}.{hi[1]}; "
                             f"with Vivado {vivado_version} it may fail - use the release of vivado_hls")
            if abs(clock - 10.0) > 1e-9:
                notes.append(f"hls4ml's block design clocks the IP at 100 MHz although HLS targeted "
                             f"{1000.0 / clock:.1f} MHz ({clock} ns)")
        else:
            block_design = "hwflow"
            pl_clock = round(1000.0 / clock, 3)
            dma = "axi_dma_0"
            if not board.vivado_board_part:
                notes.append(f"board {board.name} names no vivado_board_part: the processing system is "
                             "configured without board presets (DDR/MIO come from the boot image)")
    plan = SynthPlan(level=level, cosim=cosim, design=design, project_name=name, hls_tool=hls_tool,
                     vivado_tool=vivado_tool if level != "csynth" else None, driver=driver, wrapper=wrapper,
                     block_design=block_design, core_top=name, hls_top=hls_top, core_prj=f"prj/{name}_prj",
                     axi_prj=axi_prj, pl_clock_mhz=pl_clock, dma=dma, notes=notes)
    _add_commands(plan, hls_tool)
    _add_outputs(plan)
    return plan


def hls_invocation(tool: str, script: str, tcl_args: str | None = None) -> list[str]:
    """Arguments that make an HLS tool run a Tcl script in batch mode and exit."""
    if tool == "vitis-run":
        return ["--mode", "hls", "--tcl", script]
    args = ["-f", script]
    if tcl_args:
        args.append(tcl_args)
    return args


def vivado_invocation(script: str) -> list[str]:
    # stdout is captured into our log, so Vivado's own vivado.log/.jou would only duplicate it.
    return ["-mode", "batch", "-nojournal", "-nolog", "-notrace", "-source", script]


def hls4ml_build_args(*, cosim: bool, export: bool) -> str:
    """The single argument hls4ml's build() passes to build_prj.tcl, in hls4ml's order.

    The order matters: build_prj.tcl takes the first ``synth=`` match, and ``vsynth=`` contains it.
    """
    opts = {"reset": 1, "csim": 0, "synth": 1, "cosim": int(cosim), "validation": 0,
            "export": int(export), "vsynth": 0, "fifo_opt": 0}
    return " ".join(f"{k}={v}" for k, v in opts.items())


def _add_commands(plan: SynthPlan, hls_tool: str) -> None:
    if plan.driver == "hls4ml":
        args = hls_invocation(hls_tool, "build_prj.tcl",
                              hls4ml_build_args(cosim=plan.cosim, export=plan.level == "bitfile"))
        plan.commands.append(Command("hls", hls_tool, args, "prj", "prj/build_prj.tcl",
                                     "C synthesis with hls4ml's build_prj.tcl"
                                     + (" + co-simulation" if plan.cosim else "")
                                     + (" + IP export" if plan.level == "bitfile" else "")))
    else:
        plan.commands.append(Command("hls", hls_tool, hls_invocation(hls_tool, "../scripts/hls.tcl"), "prj",
                                     "scripts/hls.tcl", "C synthesis"
                                     + (" + co-simulation" if plan.cosim else "")
                                     + (" + AXI-stream IP export" if plan.level == "bitfile" else "")))
    if plan.level == "vsynth":
        plan.commands.append(Command("vsynth", "vivado", vivado_invocation("scripts/vsynth.tcl"), ".",
                                     "scripts/vsynth.tcl", "out-of-context logic synthesis of the HLS RTL"))
    elif plan.level == "bitfile":
        if plan.block_design == "hls4ml":
            plan.commands.append(Command("bitfile", "vivado", vivado_invocation("../scripts/bitfile.tcl"), "prj",
                                         "scripts/bitfile.tcl",
                                         "hls4ml's block design (design.tcl), implementation, bitstream"))
        else:
            plan.commands.append(Command("bitfile", "vivado", vivado_invocation("scripts/bitfile.tcl"), ".",
                                         "scripts/bitfile.tcl", "block design, implementation, bitstream"))


def _add_outputs(plan: SynthPlan) -> None:
    n = plan.project_name
    rep = f"{plan.core_prj}/solution1/syn/report"
    out = plan.outputs
    out["csynth_core_xml"] = f"{rep}/{n}_csynth.xml"
    out["csynth_core_rpt"] = f"{rep}/{n}_csynth.rpt"
    out["csynth_solution_xml"] = f"{rep}/csynth.xml"
    if plan.hls_top != n:
        out["csynth_top_xml"] = f"{rep}/{plan.hls_top}_csynth.xml"
    if plan.cosim:
        out["cosim"] = f"{plan.core_prj}/solution1/sim/report/{plan.hls_top}_cosim.rpt"
    if plan.axi_prj:
        if plan.axi_prj != plan.core_prj:
            out["csynth_axi_xml"] = f"{plan.axi_prj}/solution1/syn/report/{n}_axi_csynth.xml"
        out["ip_repo"] = f"{plan.axi_prj}/solution1/impl/ip"
    if plan.level == "vsynth":
        out["hdl_dir"] = f"{plan.core_prj}/solution1/syn/verilog"
        out["vsynth_utilization"] = "reports/vsynth_utilization.rpt"
        out["vsynth_timing"] = "reports/vsynth_timing_summary.rpt"
        out["vsynth_power"] = "reports/vsynth_power.rpt"
    if plan.level == "bitfile":
        out["bitfile_utilization"] = "reports/bitfile_utilization_routed.rpt"
        out["bitfile_utilization_hier"] = "reports/bitfile_utilization_hierarchical_routed.rpt"
        out["bitfile_timing"] = "reports/bitfile_timing_summary_routed.rpt"
        out["bitfile_power"] = "reports/bitfile_power_routed.rpt"
        out["bit"] = f"bitfile/{plan.design}.bit"
        out["hwh"] = f"bitfile/{plan.design}.hwh"


__all__ = [
    "CONTRACTS",
    "LEVELS",
    "BoardInfo",
    "Command",
    "SynthPlan",
    "check_level",
    "choose_hls_tool",
    "default_hls_tool",
    "hls4ml_build_args",
    "hls_invocation",
    "make_plan",
    "vivado_invocation",
]
