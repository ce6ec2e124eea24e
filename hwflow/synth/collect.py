"""From the reports the tools wrote to synth.json.

Nothing here guesses: a report that a level must produce and that is missing, empty or cut
off is a :class:`~hwflow.errors.StepFailed` naming the file, and no synth.json is written.
Numbers come from hwflow's report parsers; each figure carries the tool and version that
produced it (``vendor:<tool>-<version>``, tool and version as the report itself states).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import BadInput, StepFailed
from ..parsers import parse_file
from .plan import SynthPlan
from .runner import memory_kill_reason, read_log_tail, tail_lines

_COSIM_ROW = re.compile(r"^\|\s*(VHDL|Verilog|SystemC)\s*\|\s*(\w+)\s*\|", re.MULTILINE | re.IGNORECASE)


class ReportProblem(StepFailed):
    """A report a level needs is missing or unreadable (exit 4)."""


def _rel(path: Path, workdir: Path) -> str:
    try:
        return str(path.relative_to(workdir))
    except ValueError:
        return str(path)


class Collector:
    """Parses the plan's reports; a missing or unreadable one raises ReportProblem naming the
    command that should have written it, with that command's log and its last lines."""

    def __init__(self, plan: SynthPlan, synth_dir: Path, workdir: Path,
                 logs: dict[str, Path] | None = None) -> None:
        self.plan = plan
        self.synth_dir = synth_dir
        self.workdir = workdir
        self.logs = logs or {}
        self.reports: dict[str, str] = {}

    def path(self, kind: str) -> Path:
        return self.synth_dir / self.plan.outputs[kind]

    def exists(self, kind: str) -> bool:
        return kind in self.plan.outputs and self.path(kind).is_file() and self.path(kind).stat().st_size > 0

    def problem(self, message: str, command: str) -> ReportProblem:
        cmd = next((c for c in self.plan.commands if c.name == command), None)
        label = f"{cmd.tool} ({cmd.purpose})" if cmd else command
        log = self.logs.get(command)
        tail = None
        if log is not None:
            text = read_log_tail(log)
            mem = memory_kill_reason(0, text)
            if mem:
                message += f"; the log suggests it ran out of memory: {mem}"
            tail = tail_lines(text, 15)
        return ReportProblem(f"{label}: {message}", log=str(log) if log else None, tail=tail)

    def missing(self, kind: str, what: str, command: str) -> ReportProblem:
        p = self.path(kind)
        if p.is_file():
            return self.problem(f"wrote an empty {what}: {_rel(p, self.workdir)}", command)
        return self.problem(f"finished but wrote no {what}: expected {_rel(p, self.workdir)}", command)

    def parse(self, kind: str, what: str, command: str) -> dict[str, Any]:
        if not self.exists(kind):
            raise self.missing(kind, what, command)
        p = self.path(kind)
        try:
            rep = parse_file(p)
        except BadInput as exc:
            raise self.problem(f"the {what} {_rel(p, self.workdir)} is unreadable (truncated or not a "
                                f"report): {exc.message}", command) from None
        self.reports[kind] = _rel(p, self.workdir)
        return rep

    def first(self, kinds: tuple[str, ...], what: str, command: str) -> tuple[str, dict[str, Any]]:
        """(kind, report) of the first of ``kinds`` that exists (e.g. the XML, else the text report)."""
        for k in kinds:
            if self.exists(k):
                return k, self.parse(k, what, command)
        raise self.missing(kinds[0], what, command)


def source_of(rep: dict[str, Any], tool: str, version: str | None) -> tuple[str, str | None, str]:
    """(tool, version, "vendor:<tool>-<version>") - as the report states it, else the executable's."""
    t = rep.get("tool") or tool
    v = rep.get("version") or version
    return t, v, f"vendor:{t}-{v or 'unknown'}"


def cosim_status(text: str) -> str | None:
    """"Pass" / "Fail" of the first RTL row that ran (not NA), None when no row ran."""
    for m in _COSIM_ROW.finditer(text):
        status = m.group(2)
        if status.upper() != "NA":
            return status.capitalize()
    return None


def _hls_summary(rep: dict[str, Any], source: str, report: str | None) -> dict[str, Any]:
    return {"top": rep.get("top"), "source": source, "resources": rep.get("resources"),
            "available": rep.get("available"), "latency_cycles": rep.get("latency_cycles"),
            "ii_cycles": rep.get("ii_cycles"), "clock_ns": rep.get("clock_ns"), "report": report}


def _timing(rep: dict[str, Any]) -> dict[str, Any]:
    t = rep.get("timing") or {}
    return {"wns_ns": t.get("wns_ns"), "tns_ns": t.get("tns_ns"), "whs_ns": t.get("whs_ns"), "met": t.get("met")}


def build_synth_json(plan: SynthPlan, synth_dir: Path, workdir: Path, *, hls_version: str | None,
                     vivado_version: str | None, part: str, board: str,
                     logs: dict[str, Path] | None = None) -> dict[str, Any]:
    """Parse every report of the plan and assemble synth.json (raises ReportProblem).

    ``logs`` maps a command name (hls, vsynth, bitfile) to its log, quoted when its report fails.
    """
    col = Collector(plan, synth_dir, workdir, logs)
    hls_cmd = "hls"
    # The network's own figures: <name>_csynth.xml; hls4ml's driver synthesises the AXI top,
    # whose report on the network is the sub-function report of the same solution.
    core_kind, core = col.first(("csynth_core_xml", "csynth_core_rpt"), "C-synthesis report", hls_cmd)
    hls_tool, hls_ver, hls_source = source_of(core, plan.hls_tool, hls_version)
    out: dict[str, Any] = {
        "level": plan.level, "design": plan.design, "board": board, "part": part,
        "tool": hls_tool, "version": hls_ver, "source": hls_source,
        "tools": {plan.hls_tool: hls_version},
        "top": core.get("top") or plan.core_top,
        "resources": core.get("resources"), "available": core.get("available"),
        "latency_cycles": core.get("latency_cycles"), "ii_cycles": core.get("ii_cycles"),
        "clock_ns": core.get("clock_ns"), "latency_source": hls_source,
        # known only after Vivado (vsynth, bitfile): present, and null, at csynth
        "timing": {"wns_ns": None, "tns_ns": None, "whs_ns": None, "met": None},
        "power_w": {"total": None, "dynamic": None, "static": None},
        "hls": _hls_summary(core, hls_source, col.reports[core_kind]),
        "plan": {"driver": plan.driver, "hls_tool": plan.hls_tool, "wrapper": plan.wrapper,
                 "block_design": plan.block_design, "notes": plan.notes},
    }
    if "csynth_top_xml" in plan.outputs or "csynth_axi_xml" in plan.outputs:
        kind = "csynth_axi_xml" if "csynth_axi_xml" in plan.outputs else "csynth_top_xml"
        if plan.level == "bitfile" or col.exists(kind):
            top = col.parse(kind, f"C-synthesis report of {plan.project_name}_axi", hls_cmd)
            out["ip"] = _hls_summary(top, source_of(top, plan.hls_tool, hls_version)[2], col.reports[kind])
    if plan.cosim:
        rep = col.parse("cosim", "C/RTL co-simulation report", "hls")
        status = cosim_status(col.path("cosim").read_text(errors="replace"))
        if status is None:
            raise col.problem(f"no RTL simulation ran according to {col.reports['cosim']} (every row NA)", "hls")
        if status != "Pass":
            raise col.problem(f"C/RTL co-simulation {status.upper()}: the RTL's outputs differ from the C "
                               f"model's ({col.reports['cosim']})", "hls")
        out["cosim"] = {"status": status, "latency_cycles": rep.get("latency_cycles"),
                        "ii_cycles": rep.get("ii_cycles"), "source": hls_source}
    if plan.level in ("vsynth", "bitfile"):
        out["tools"]["vivado"] = vivado_version
    if plan.level == "vsynth":
        cmd = "vsynth"
        util = col.parse("vsynth_utilization", "utilisation report", cmd)
        timing = col.parse("vsynth_timing", "timing summary", cmd)
        power = col.parse("vsynth_power", "power report", cmd)
        v_tool, v_ver, v_source = source_of(util, "vivado", vivado_version)
        out.update(resources=util.get("resources"), tool=v_tool, version=v_ver, source=v_source,
                   timing=_timing(timing), power_w=power.get("power_w"))
        out["vsynth"] = {"scope": f"{plan.core_top} (out of context, post-synthesis)", "source": v_source,
                         "resources": util.get("resources"), "available": util.get("available"),
                         "timing": _timing(timing), "power_w": power.get("power_w")}
    if plan.level == "bitfile":
        cmd = "bitfile"
        util = col.parse("bitfile_utilization", "utilisation report", cmd)
        hier = col.parse("bitfile_utilization_hier", "hierarchical utilisation report", cmd)
        timing = col.parse("bitfile_timing", "timing summary", cmd)
        power = col.parse("bitfile_power", "power report", cmd)
        for kind, what in (("bit", "bitstream (.bit)"), ("hwh", "hardware handoff (.hwh)")):
            if not col.exists(kind):
                raise col.missing(kind, what, cmd)
        v_tool, v_ver, v_source = source_of(util, "vivado", vivado_version)
        out.update(resources=hier.get("resources"), tool=v_tool, version=v_ver, source=v_source,
                   timing=_timing(timing), power_w=power.get("power_w"))
        # bitfile / hwh: the two files PYNQ loads (paths relative to the work folder); overlay: the rest
        out["bitfile"] = _rel(col.path("bit"), workdir)
        out["hwh"] = _rel(col.path("hwh"), workdir)
        out["overlay"] = {
            "dma": plan.dma, "pl_clock_mhz": plan.pl_clock_mhz, "block_design": plan.block_design,
            "io": {"input": "float32", "output": "float32"},
            "ip_resources": hier.get("resources"), "system_resources": util.get("resources"),
            "available": util.get("available"), "timing": _timing(timing), "power_w": power.get("power_w"),
            "source": v_source,
        }
        col.reports["bit"] = out["bitfile"]
        col.reports["hwh"] = out["hwh"]
    out["reports"] = dict(sorted(col.reports.items()))
    return out
