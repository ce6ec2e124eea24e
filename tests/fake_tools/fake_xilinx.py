"""A fake AMD/Xilinx tool for hwflow's tests: vivado_hls, vitis_hls, vitis-run or vivado.

It logs its arguments, prints a version banner like the real tool, and "runs" a Tcl script
by reading only the commands that make the real tool write reports - then drops real report
files, copied from the vendor-report fixtures, exactly where the real tool writes them:

* HLS (``-f script`` / ``--mode hls --tcl script``): ``open_project [-reset] P``, ``set_top T``,
  ``csynth_design``, ``cosim_design``, ``export_design`` -> ``P/solution1/syn/report/{csynth.xml,
  T_csynth.xml, T_csynth.rpt}``, ``P/solution1/syn/verilog/T.v``, ``P/solution1/sim/report/T_cosim.rpt``,
  ``P/solution1/impl/ip/component.xml``. hls4ml's ``build_prj.tcl "reset=1 csim=0 ..."`` is
  understood from its argument string and project.tcl (top ``<name>_axi`` for VivadoAccelerator).
* Vivado (``-source script``): every ``set hwflow_out_<kind> "<path>"`` of hwflow's scripts gets
  a fixture report of that kind (utilization, utilization_hier, timing, power) or a dummy
  bitstream / hardware handoff (bit, hwh).

Environment (all optional):
  HWFLOW_FAKE_LOG         append one JSON line {tool, argv, cwd} per call
  HWFLOW_FAKE_FIXTURES    fixture folders (os.pathsep-separated) searched in order
  HWFLOW_FAKE_MODE        ok | fail | sleep | killed | oom | noreport | truncated | cosim_fail
  HWFLOW_FAKE_MODE_<TOOL> the same for one tool (VIVADO, VIVADO_HLS, VITIS_HLS, VITIS_RUN)
  HWFLOW_FAKE_VERSION_<TOOL>  the version it reports
  HWFLOW_FAKE_PIDFILE     (sleep mode) where to write the pid of the child it starts
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_VERSION = {"vivado_hls": "2020.1", "vitis_hls": "2023.1", "vitis-run": "2024.2", "vivado": "2020.1"}
BANNER = {
    "vivado_hls": "Vivado(TM) HLS - High-Level Synthesis from C, C++ and SystemC v{v} (64-bit)\n"
                  "SW Build 2902540 on Wed May 27 19:54:35 MDT 2020\nCopyright 1986-2020 Xilinx, Inc. All Rights Reserved.\n",
    "vitis_hls": "****** Vitis HLS - High-Level Synthesis from C, C++ and OpenCL v{v} (64-bit)\n"
                 "  **** SW Build 3854077 on 2023-05-04-22:13:10\n    ** Copyright 1986-2022 Xilinx, Inc. All Rights Reserved.\n",
    "vitis-run": "****** vitis-run v{v} (64-bit)\n  **** SW Build 5238294 on 2024-11-07-22:06:08\n",
    "vivado": "Vivado v{v} (64-bit)\nSW Build 2902540 on Wed May 27 19:54:35 MDT 2020\n"
              "IP Build 2902112 on Wed May 27 22:43:36 MDT 2020\nCopyright 1986-2020 Xilinx, Inc. All Rights Reserved.\n",
}
VIVADO_REPORTS = {
    "utilization": ("vivado_synth.rpt", "*_utilization_placed.rpt", "*utilization_synth.rpt"),
    "utilization_hier": ("util.rpt",),
    "timing": ("*timing_summary*.rpt",),
    "power": ("*power*.rpt",),
}


def env_for(tool: str, what: str) -> str | None:
    return os.environ.get(f"HWFLOW_FAKE_{what}_{tool.upper().replace('-', '_')}") or os.environ.get(f"HWFLOW_FAKE_{what}")


def fixture_dirs() -> list[Path]:
    return [Path(p) for p in os.environ.get("HWFLOW_FAKE_FIXTURES", "").split(os.pathsep) if p]


def find_fixture(patterns: tuple[str, ...]) -> Path | None:
    for d in fixture_dirs():
        names = sorted(p.name for p in d.iterdir()) if d.is_dir() else []
        for pat in patterns:
            for n in names:
                if fnmatch.fnmatch(n, pat):
                    return d / n
    return None


def put(dst: Path, src: Path | None, text: str | None = None, truncate: bool = False) -> None:
    if src is None and text is None:
        print(f"WARNING: [fake] no fixture for {dst.name}; not written")
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    data = src.read_bytes() if src is not None else (text or "").encode()
    if truncate:
        data = data[: max(1, len(data) * 2 // 5)]
    dst.write_bytes(data)
    print(f"INFO: [fake] wrote {dst}")


# --------------------------------------------------------------------------- HLS

def hls_actions(script: Path, tcl_args: str) -> list[tuple[str, str, str]]:
    """(action, project, top) in script order."""
    text = script.read_text()
    if script.name == "build_prj.tcl" and "$::argv" in text:
        vals = dict(re.findall(r'^\s*set\s+(\w+)\s+"?([^"\n]*?)"?\s*$', (script.parent / "project.tcl").read_text(), re.MULTILINE))
        name = vals["project_name"]
        top = f"{name}_axi" if vals.get("backend") == "vivadoaccelerator" else name
        opts = {}
        for o in ("reset", "csim", "synth", "cosim", "validation", "export", "vsynth", "fifo_opt"):
            m = re.search(rf"{o}=+(\w+)", tcl_args)
            if m:
                opts[o] = m.group(1)
        acts = []
        if opts.get("synth", "1") in ("1", "True"):
            acts.append(("csynth", f"{name}_prj", top))
        if opts.get("cosim", "1") in ("1", "True"):
            acts.append(("cosim", f"{name}_prj", top))
        if opts.get("export", "0") in ("1", "True"):
            acts.append(("export", f"{name}_prj", top))
        return acts
    acts = []
    project = top = None
    for line in text.splitlines():
        line = line.strip()
        m = re.match(r"open_project\s+(?:-reset\s+)?(\S+)", line)
        if m:
            project = m.group(1)
        m = re.match(r"set_top\s+(\S+)", line)
        if m:
            top = m.group(1)
        for word, act in (("csynth_design", "csynth"), ("cosim_design", "cosim"), ("export_design", "export")):
            if re.search(rf"(^|[{{\s]){word}\b", line):
                acts.append((act, project, top))
    return acts


def run_hls(mode: str, script: Path, tcl_args: str) -> int:
    for act, project, top in hls_actions(script, tcl_args):
        sol = Path(project) / "solution1"
        print(f"INFO: [fake] {act} {project} top {top}")
        if mode == "noreport":
            continue
        if act == "csynth":
            # hls4ml's AXI top in the network's own project: HLS also reports the network function.
            core = top[: -len("_axi")] if top.endswith("_axi") else None
            tops = [top] + ([core] if core and project == f"{core}_prj" else [])
            for t in tops:
                xml = find_fixture((f"{t}_csynth.xml",)) or find_fixture(("myproject_csynth.xml",))
                rpt = find_fixture((f"{t}_csynth.rpt",)) or find_fixture(("myproject_csynth.rpt",))
                put(sol / "syn" / "report" / f"{t}_csynth.xml", xml, truncate=mode == "truncated")
                put(sol / "syn" / "report" / f"{t}_csynth.rpt", rpt, truncate=mode == "truncated")
                put(sol / "syn" / "verilog" / f"{t}.v", None, f"module {t}(input ap_clk);\nendmodule\n")
            put(sol / "syn" / "report" / "csynth.xml", sol / "syn" / "report" / f"{top}_csynth.xml")
        elif act == "cosim":
            src = find_fixture((f"{top}_cosim.rpt", "myproject_cosim.rpt"))
            dst = sol / "sim" / "report" / f"{top}_cosim.rpt"
            if mode == "cosim_fail" and src is not None:
                put(dst, None, src.read_text().replace("Pass", "Fail"))
            else:
                put(dst, src, truncate=mode == "truncated")
        elif act == "export":
            put(sol / "impl" / "ip" / "component.xml", None, f"<component name=\"{top}\"/>\n")
    return 0


# --------------------------------------------------------------------------- Vivado

def run_vivado(mode: str, script: Path) -> int:
    text = script.read_text()
    hdl = re.search(r'^set hwflow_hdl_dir "([^"]*)"', text, re.MULTILINE)
    if hdl and not any(Path(hdl.group(1)).glob("*.v")):
        print(f"ERROR: [hwflow] no RTL in {hdl.group(1)}: did C synthesis run?")
        return 1
    for kind, path in re.findall(r'^set hwflow_out_(\w+) "([^"]*)"', text, re.MULTILINE):
        if mode == "noreport":
            continue
        dst = Path(path)
        if kind == "bit":
            put(dst, None, "FAKE BITSTREAM\n")
        elif kind == "hwh":
            put(dst, None, "<?xml version=\"1.0\"?>\n<EDKSYSTEM/>\n")
        elif kind in VIVADO_REPORTS:
            src = find_fixture(VIVADO_REPORTS[kind])
            if src is None:
                print(f"ERROR: [fake] no fixture for {kind}")
                return 1
            put(dst, src, truncate=mode == "truncated")
    return 0


def main(argv: list[str]) -> int:
    tool, args = argv[0], argv[1:]
    log = os.environ.get("HWFLOW_FAKE_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps({"tool": tool, "argv": args, "cwd": os.getcwd()}) + "\n")
    version = env_for(tool, "VERSION") or DEFAULT_VERSION[tool]
    if args and args[0] in ("-version", "--version"):
        sys.stdout.write(BANNER[tool].format(v=version))
        return 0
    mode = env_for(tool, "MODE") or "ok"
    print(f"INFO: [fake] {tool} {version}: {shlex.join(args)} (mode {mode})", flush=True)
    if mode == "fail":
        print("ERROR: [HLS 200-70] Compilation errors found: In file included from firmware/myproject.cpp:1: fake")
        print("ERROR: [Common 17-39] 'csynth_design' failed due to earlier errors.")
        return 1
    if mode == "sleep":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        pidfile = os.environ.get("HWFLOW_FAKE_PIDFILE")
        if pidfile:
            Path(pidfile).write_text(f"{os.getpid()} {child.pid}\n")
        time.sleep(300)
        return 0
    if mode == "killed":
        print("INFO: [HLS 200-10] Analyzing design file 'firmware/myproject.cpp' ...", flush=True)
        print("Killed", flush=True)
        return 137
    if mode == "oom":
        print("terminate called after throwing an instance of 'std::bad_alloc'\n  what():  std::bad_alloc", flush=True)
        return 1
    if tool == "vivado":
        script = Path(args[args.index("-source") + 1])
        return run_vivado(mode, script)
    if tool == "vitis-run":
        script = Path(args[args.index("--tcl") + 1])
        return run_hls(mode, script, "")
    script = Path(args[args.index("-f") + 1])
    rest = args[args.index("-f") + 2:]
    return run_hls(mode, script, " ".join(rest))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
