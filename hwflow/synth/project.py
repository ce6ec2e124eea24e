"""What synthesis needs to know about the hls4ml project the convert step wrote.

Everything is read from the project's own files (``project.tcl``, ``firmware/<name>.h``,
``<name>_bridge.cpp``) rather than re-derived from the design: the scripts must drive the
project exactly as hls4ml wrote it (its part string, clock uncertainty, top name, I/O types),
and reading files keeps the synth step free of TensorFlow.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput


@dataclass(frozen=True)
class TopPort:
    """One argument of the hls4ml top function."""

    name: str
    type_name: str        # input_t / result_t
    size: int | None      # number of scalar elements (None when not readable)
    stream: bool          # hls::stream<...> (io_stream) rather than an array (io_parallel)


@dataclass(frozen=True)
class HlsProject:
    """The facts of one hls4ml project folder."""

    root: Path
    name: str                 # project_name (hls4ml's "myproject")
    backend: str              # vivado | vivadoaccelerator | vitis
    part: str
    clock_period_ns: float
    clock_uncertainty: str    # as hls4ml wrote it, e.g. "12.5%" or "27%"
    io_type: str              # io_parallel | io_stream
    inputs: tuple[TopPort, ...]
    outputs: tuple[TopPort, ...]
    has_hls4ml_axi_wrapper: bool   # firmware/<name>_axi.cpp from the VivadoAccelerator backend
    has_hls4ml_design_tcl: bool    # design.tcl: hls4ml's block design for its board
    has_hls4ml_build_prj: bool     # build_prj.tcl that takes "csim=0 synth=1 ..." arguments

    @property
    def accelerator(self) -> bool:
        return self.backend == "vivadoaccelerator"

    @property
    def axi_top(self) -> str:
        return f"{self.name}_axi"

    def single_io(self) -> tuple[TopPort, TopPort]:
        """The one input and one output that an AXI-stream wrapper moves; else BadInput."""
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            raise BadInput(f"{self.root}: the AXI-stream wrapper supports one input and one output; "
                           f"this top has {len(self.inputs)} input(s) and {len(self.outputs)} output(s)",
                           hint="use --level csynth or vsynth for multi-input models")
        inp, out = self.inputs[0], self.outputs[0]
        if inp.size is None or out.size is None:
            raise BadInput(f"{self.root}: cannot read the input/output sizes of the top function "
                           f"from firmware/{self.name}.h or {self.name}_bridge.cpp")
        return inp, out


_TCL_SET = re.compile(r'^\s*set\s+(\w+)\s+"?([^"\n]*?)"?\s*$', re.MULTILINE)


def read_project_tcl(text: str) -> dict[str, str]:
    """``set name value`` lines of hls4ml's project.tcl -> {name: value}."""
    return {m.group(1): m.group(2).strip() for m in _TCL_SET.finditer(text)}


def _product(expr: str) -> int | None:
    """``8*8*1`` -> 64; a name (N_INPUT_1_1) or anything else -> None."""
    parts = [p.strip() for p in expr.split("*")]
    if not parts or not all(p.isdigit() for p in parts):
        return None
    return math.prod(int(p) for p in parts)


def parse_top_signature(header: str, name: str) -> tuple[list[TopPort], str]:
    """The ports of ``void <name>(...)`` in hls4ml's firmware header, and the io type.

    hls4ml writes inputs first and outputs last, one per line:
    ``input_t x_in[64]`` (io_parallel) or ``hls::stream<input_t> &x_in`` (io_stream).
    Which ports are outputs is told by the caller (the bridge) - here we keep them in order.
    """
    m = re.search(rf"\bvoid\s+{re.escape(name)}\s*\((?P<args>[^)]*)\)", header)
    if not m:
        raise BadInput(f"no prototype of the top function {name}() in firmware/{name}.h")
    ports: list[TopPort] = []
    kinds = set()
    for arg in (a.strip() for a in m.group("args").split(",")):
        if not arg:
            continue
        s = re.fullmatch(r"hls::stream<\s*(\w+)\s*>\s*&\s*(\w+)", arg)
        if s:
            ports.append(TopPort(name=s.group(2), type_name=s.group(1), size=None, stream=True))
            kinds.add("io_stream")
            continue
        a = re.fullmatch(r"(\w+)\s+(\w+)\s*\[([^\]]+)\]", arg)
        if a:
            ports.append(TopPort(name=a.group(2), type_name=a.group(1), size=_product(a.group(3)), stream=False))
            kinds.add("io_parallel")
            continue
        raise BadInput(f"unrecognised argument {arg!r} of {name}() in firmware/{name}.h")
    if len(kinds) != 1:
        raise BadInput(f"{name}() in firmware/{name}.h mixes streams and arrays; not an hls4ml top")
    return ports, kinds.pop()


def _bridge_sizes(bridge: str, name: str) -> tuple[list[int], list[int]]:
    """Element counts from ``<name>_float``: convert_data<float, T, N> in, convert_data<T, float, N> out.

    The bridge is the one place hls4ml writes the flattened size of a streamed (io_stream) port.
    """
    m = re.search(rf"void\s+{re.escape(name)}_float\s*\((.*?)\n\}}", bridge, re.DOTALL)
    body = m.group(1) if m else ""
    ins = [_product(x) for x in re.findall(r"convert_data<\s*float\s*,\s*\w+\s*,\s*([\w*\s]+)>", body)]
    outs = [_product(x) for x in re.findall(r"convert_data<\s*\w+\s*,\s*float\s*,\s*([\w*\s]+)>", body)]
    return [x for x in ins if x is not None], [x for x in outs if x is not None]


def read_hls_project(root: Path) -> HlsProject:
    """Read an hls4ml project folder; BadInput names the file that is missing or unreadable."""
    root = Path(root)
    prj_tcl = root / "project.tcl"
    if not prj_tcl.is_file():
        raise BadInput(f"{root}: no project.tcl - not an hls4ml project (run the convert step first)")
    vals = read_project_tcl(prj_tcl.read_text(errors="replace"))
    for key in ("project_name", "part", "clock_period"):
        if not vals.get(key):
            raise BadInput(f"{prj_tcl}: no `set {key} ...` line")
    name = vals["project_name"]
    header = root / "firmware" / f"{name}.h"
    if not header.is_file():
        raise BadInput(f"{root}: missing firmware/{name}.h")
    ports, io_type = parse_top_signature(header.read_text(errors="replace"), name)
    if len(ports) < 2:
        raise BadInput(f"{header}: {name}() needs at least one input and one output")
    bridge = root / f"{name}_bridge.cpp"
    n_in, n_out = _bridge_sizes(bridge.read_text(errors="replace"), name) if bridge.is_file() else ([], [])
    # hls4ml: inputs come first; the bridge converts exactly the inputs, so its count splits the list.
    n_inputs = len(n_in) if n_in and len(n_in) < len(ports) else len(ports) - max(len(n_out), 1)
    inputs = list(ports[:n_inputs])
    outputs = list(ports[n_inputs:])
    for group, sizes in ((inputs, n_in), (outputs, n_out)):
        for i, p in enumerate(group):
            if p.size is None and i < len(sizes):
                group[i] = TopPort(p.name, p.type_name, sizes[i], p.stream)
    try:
        clock = float(vals["clock_period"])
    except ValueError:
        raise BadInput(f"{prj_tcl}: clock_period {vals['clock_period']!r} is not a number") from None
    build_prj = root / "build_prj.tcl"
    return HlsProject(
        root=root, name=name, backend=vals.get("backend", "vivado").lower(), part=vals["part"],
        clock_period_ns=clock, clock_uncertainty=vals.get("clock_uncertainty", "12.5%"), io_type=io_type,
        inputs=tuple(inputs), outputs=tuple(outputs),
        has_hls4ml_axi_wrapper=(root / "firmware" / f"{name}_axi.cpp").is_file(),
        has_hls4ml_design_tcl=(root / "design.tcl").is_file(),
        has_hls4ml_build_prj=build_prj.is_file() and "$::argv" in build_prj.read_text(errors="replace"),
    )
