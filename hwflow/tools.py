"""Vendor tools behind a small contract: how to find them, read their version, and judge it.

Each AMD/Xilinx tool hwflow drives is described by a :class:`ToolContract`: the executable
name, the install folders that may hold it (the ``bin`` folder of ``$XILINX_VITIS``,
``$XILINX_HLS``, ``$XILINX_VIVADO``), how to ask it for its version, which versions hwflow
supports, and what to tell a user who lacks it. Discovery never uses a shell and every
version query runs with a timeout in its own process group, so a hung license check cannot
hang ``hwflow doctor``.

Why a contract rather than ``shutil.which`` sprinkled through the code: the missing-tool
error (exit 3) must name what was looked for, where, how to fix it and what still works;
one table gives all of that, ``hwflow doctor`` prints the same table, and the synth step's
cache key includes the versions it found, so installing another Vivado re-runs synthesis.

Supported versions (what the generated scripts are written for):

* ``vivado_hls``  Vivado HLS 2019.2 - 2020.1 (the last releases; hls4ml's VivadoAccelerator
  backend was made for it)
* ``vitis_hls``   Vitis HLS 2022.2 - 2024.1 (the executable is gone from 2024.2 on)
* ``vitis-run``   Vitis 2023.1 onwards (``vitis-run --mode hls --tcl``; the only HLS entry
  point from 2024.2 on)
* ``vivado``      Vivado 2019.2 onwards (out-of-context synthesis, block design, bitstream)

Versions newer than the newest known release are accepted as ``untested``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import ToolMissing
from .synth.runner import kill_group

#: The newest release whose behaviour the generated scripts follow; newer ones are "untested".
NEWEST_KNOWN = (2025, 2)
VERSION_TIMEOUT_S = 60.0
_VERSION_RE = re.compile(r"\bv\.?(\d{4}\.\d+(?:\.\d+)?)\b")
_ENV_VARS = ("XILINX_VITIS", "XILINX_HLS", "XILINX_VIVADO_HLS", "XILINX_VIVADO")


@dataclass(frozen=True)
class ToolContract:
    """What hwflow needs to know about one vendor executable."""

    name: str                         # executable name, also the key everywhere (vitis-run, vivado, ...)
    role: str                         # "hls" (C synthesis) or "vivado" (logic synthesis, bitstream)
    product: str                      # what a person calls it
    env_vars: tuple[str, ...]         # install roots whose bin/ may hold the executable
    version_args: tuple[str, ...]     # e.g. ("-version",)
    min_version: tuple[int, ...]
    max_version: tuple[int, ...] | None   # inclusive; None: open-ended
    settings_hint: str                # the settings64.sh to source
    note: str = ""                    # one line shown by doctor

    def supported_range(self) -> str:
        lo = _fmt(self.min_version)
        return f"{lo}-{_fmt(self.max_version)}" if self.max_version else f"{lo} or newer"


CONTRACTS: dict[str, ToolContract] = {
    c.name: c
    for c in (
        ToolContract(
            name="vitis-run", role="hls", product="Vitis (vitis-run --mode hls)",
            env_vars=("XILINX_VITIS", "XILINX_HLS"), version_args=("--version",),
            min_version=(2023, 1), max_version=None,
            settings_hint="source <install>/Vitis/<version>/settings64.sh",
            note="HLS entry point of Vitis 2023.1+ (the only one from 2024.2 on)",
        ),
        ToolContract(
            name="vitis_hls", role="hls", product="Vitis HLS",
            env_vars=("XILINX_HLS", "XILINX_VITIS"), version_args=("-version",),
            min_version=(2022, 2), max_version=(2024, 1),
            settings_hint="source <install>/Vitis_HLS/<version>/settings64.sh",
            note="removed in 2024.2 (use vitis-run)",
        ),
        ToolContract(
            name="vivado_hls", role="hls", product="Vivado HLS",
            env_vars=("XILINX_VIVADO_HLS", "XILINX_HLS", "XILINX_VIVADO"), version_args=("-version",),
            min_version=(2019, 2), max_version=(2020, 1),
            settings_hint="source <install>/Vivado/<version>/settings64.sh",
            note="hls4ml VivadoAccelerator flow (pynq-z2, zcu102)",
        ),
        ToolContract(
            name="vivado", role="vivado", product="Vivado",
            env_vars=("XILINX_VIVADO",), version_args=("-version",),
            min_version=(2019, 2), max_version=None,
            settings_hint="source <install>/Vivado/<version>/settings64.sh",
            note="out-of-context synthesis (vsynth), block design and bitstream (bitfile)",
        ),
    )
}
HLS_TOOLS = ("vitis-run", "vitis_hls", "vivado_hls")


@dataclass
class ToolInfo:
    """The outcome of looking for one tool on this machine."""

    name: str
    found: bool
    path: str | None = None
    version: str | None = None
    status: str = "missing"           # missing | supported | untested | unsupported | unknown-version
    detail: str = ""                  # why unsupported / why the version is unknown
    searched: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """Found, and either supported, newer than known, or of unreadable version (let it try)."""
        if not self.found:
            return False
        if self.status == "unsupported":
            return os.environ.get("HWFLOW_ALLOW_UNSUPPORTED_TOOLS") == "1"
        return True

    def label(self) -> str:
        return f"{self.name} {self.version or '(version unknown)'}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["usable"] = self.usable
        return d


# --------------------------------------------------------------------------- versions

def parse_version(text: str) -> tuple[int, ...] | None:
    """``"2020.1"`` -> (2020, 1); ``"2019.2.1"`` -> (2019, 2, 1); anything else -> None."""
    m = re.fullmatch(r"(\d{4})\.(\d+)(?:\.(\d+))?", text.strip())
    if not m:
        return None
    return tuple(int(g) for g in m.groups() if g is not None)


def _fmt(v: tuple[int, ...] | None) -> str:
    return ".".join(str(x) for x in v) if v else "?"


def version_from_output(text: str) -> str | None:
    """The release from a tool's version banner (first ``vYYYY.N[.M]`` token).

    The banners differ by tool and release ("Vivado v2020.1 (64-bit)", "Vitis HLS - High-Level
    Synthesis from C, C++ and OpenCL v2023.1 (64-bit)", "vitis-run v2024.2 ..."), but all carry
    the release as ``v`` followed by the year and the quarter; copyright years never have the ``v``.
    """
    m = _VERSION_RE.search(text)
    return m.group(1) if m else None


def judge_version(contract: ToolContract, version: str | None) -> tuple[str, str]:
    """(status, detail) of a version against the contract's supported range."""
    if version is None:
        return "unknown-version", "the version banner could not be read"
    v = parse_version(version)
    if v is None:
        return "unknown-version", f"unrecognised version {version!r}"
    base = v[:2]
    if base < contract.min_version or (contract.max_version and base > contract.max_version):
        return "unsupported", f"hwflow supports {contract.product} {contract.supported_range()}"
    if contract.max_version is None and base > NEWEST_KNOWN:
        return "untested", f"newer than the newest release hwflow knows ({_fmt(NEWEST_KNOWN)})"
    return "supported", ""


# --------------------------------------------------------------------------- discovery

def search_dirs(contract: ToolContract, env: Mapping[str, str] | None = None) -> list[str]:
    """Folders searched, in order: PATH first (the user's choice), then each install root's bin/."""
    env = os.environ if env is None else env
    dirs = [d for d in env.get("PATH", "").split(os.pathsep) if d]
    for var in contract.env_vars:
        root = env.get(var)
        if root:
            dirs.append(str(Path(root) / "bin"))
    seen: set[str] = set()
    return [d for d in dirs if not (d in seen or seen.add(d))]


_VERSION_CACHE: dict[tuple[str, int, int], tuple[str | None, str]] = {}


def read_version(path: str, contract: ToolContract, timeout_s: float = VERSION_TIMEOUT_S) -> tuple[str | None, str]:
    """Run ``<tool> <version args>`` (no shell, timeout, own process group) -> (version, error).

    Cached per executable (path, size, mtime): Vivado takes seconds to print its banner and the
    flow asks more than once per run (pre-flight, cache key).
    """
    try:
        st = os.stat(path)
        key = (os.path.realpath(path), st.st_size, st.st_mtime_ns)
    except OSError as exc:
        return None, f"cannot stat {path}: {exc.strerror}"
    if key in _VERSION_CACHE:
        return _VERSION_CACHE[key]
    try:
        proc = subprocess.Popen([path, *contract.version_args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        return None, f"cannot run {path}: {exc.strerror}"
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        kill_group(proc, grace_s=0.0)   # the project's one process-group killer
        proc.communicate()
        result: tuple[str | None, str] = (None, (f"`{Path(path).name} {' '.join(contract.version_args)}` "
                                               f"did not answer within {timeout_s:.0f} s"))
        _VERSION_CACHE[key] = result
        return result
    text = out.decode("utf-8", errors="replace")
    version = version_from_output(text)
    err = ""
    if version is None:
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        err = f"exit code {proc.returncode}; first line: {first[:120]!r}" if first else f"exit code {proc.returncode}, no output"
    _VERSION_CACHE[key] = (version, err)
    return version, err


def find_tool(name: str, env: Mapping[str, str] | None = None) -> ToolInfo:
    """Look for one tool (PATH, then the install roots) and judge its version."""
    contract = CONTRACTS[name]
    dirs = search_dirs(contract, env)
    info = ToolInfo(name=name, found=False, searched=dirs)
    for d in dirs:
        cand = os.path.join(d, name)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            info.found = True
            info.path = cand
            break
    if not info.found:
        return info
    version, err = read_version(info.path, contract)  # type: ignore[arg-type]
    info.version = version
    info.status, info.detail = judge_version(contract, version)
    if err and info.status == "unknown-version":
        info.detail = f"{info.detail} ({err})"
    return info


def find_tools(env: Mapping[str, str] | None = None) -> dict[str, ToolInfo]:
    """Every contract's tool, in the order of :data:`CONTRACTS`."""
    return {name: find_tool(name, env) for name in CONTRACTS}


def install_hint(names: tuple[str, ...] | list[str]) -> str:
    hints = []
    for n in names:
        h = CONTRACTS[n].settings_hint
        if h not in hints:
            hints.append(h)
    return "make them visible with `" + "` or `".join(hints) + "` (then `hwflow doctor` to check)"


WHAT_STILL_WORKS = ("`make emu` (train, hls4ml conversion, C-simulation with g++), "
                    "`hwflow estimate DESIGN` (resource/latency estimate without vendor tools), "
                    "`hwflow synth DESIGN --dry-run` (writes the HLS project and every script to run "
                    "on a machine with the tools)")


class ToolsMissing(ToolMissing):
    """Exit 3: the vendor tools a synthesis level needs are absent.

    ``deferrable``: the flow may still run the step, which writes the HLS project and every
    script before it raises this again (so the work is not lost), instead of stopping at the
    pre-flight. The pre-flight still reports it in the first second.
    """

    deferrable = True

    def __init__(self, message: str, *, hint: str | None = None, tools: dict[str, ToolInfo] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.tools = tools or {}


def missing_message(need: str, candidates: list[str], tools: dict[str, ToolInfo]) -> str:
    """What was looked for and what was found instead, e.g. an unsupported release."""
    lines = [f"{need}: none usable found (looked for {', '.join(candidates)})"]
    for n in candidates:
        t = tools.get(n)
        if t is None:
            continue
        c = CONTRACTS[n]
        if t.found:
            lines.append(f"  {n}: found {t.path}, version {t.version or '?'}: {t.status} ({t.detail})")
        else:
            lines.append(f"  {n}: not found ({c.product} {c.supported_range()})")
    return "\n".join(lines)


def search_summary(env: Mapping[str, str] | None = None) -> str:
    """Where tools were looked for, and what works without them (the tail of a missing-tool error)."""
    env = os.environ if env is None else env
    roots = [f"${v}={env[v]}" if env.get(v) else f"${v} (unset)" for v in _ENV_VARS]
    return "\n".join([f"  PATH searched: {env.get('PATH', '') or '(empty)'}",
                      f"  install roots searched (their bin/): {', '.join(roots)}",
                      f"  still works without them: {WHAT_STILL_WORKS}"])


# --------------------------------------------------------------------------- doctor

def _host_tool(name: str) -> dict[str, Any]:
    path = shutil.which(name)
    return {"name": name, "found": path is not None, "path": path}


def doctor_report(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What ``hwflow doctor`` prints: every vendor tool, its version and status, and what works."""
    tools = find_tools(env)
    hls = [t for n, t in tools.items() if n in HLS_TOOLS and t.usable]
    vivado = tools["vivado"] if tools["vivado"].usable else None
    host = [_host_tool("g++"), _host_tool("make")]
    lines = ["Vendor tools (searched PATH, then the bin/ folder of $" + ", $".join(_ENV_VARS) + "):"]
    for t in tools.values():
        c = CONTRACTS[t.name]
        if t.found:
            state = {"supported": "supported", "untested": "untested (newer)",
                     "unsupported": "UNSUPPORTED", "unknown-version": "version unknown"}[t.status]
            lines.append(f"  {t.name:<11} found    {t.version or '?':<9} {state:<17} {t.path}")
            if t.detail:
                lines.append(f"  {'':<11}          {t.detail}")
        else:
            lines.append(f"  {t.name:<11} missing  {'':<9} {'':<17} ({c.product} {c.supported_range()}; {c.note})")
    lines.append("Host tools:")
    for h in host:
        lines.append(f"  {h['name']:<11} {'found    ' + h['path'] if h['found'] else 'missing (C-simulation needs it)'}")
    hls_label = ", ".join(t.label() for t in hls)
    works = {
        "emulate": bool(host[0]["found"]),
        "estimate": True,
        "synth_dry_run": True,
        "csynth": bool(hls),
        "vsynth": bool(hls) and vivado is not None,
        "bitfile": bool(hls) and vivado is not None,
    }
    from .synth.open.tools import open_tools_status

    open_rows = open_tools_status()
    lines.append("Open synthesis tools (pip wheels; hwflow synth --tool open):")
    for o in open_rows:
        if o["status"] == "found":
            note = f"  ({o['note']})" if o.get("note") else ""
            lines.append(f"  {o['tool']:<11} found    {o['version']:<9} {o['origin']}{note}")
        else:
            lines.append(f"  {o['tool']:<11} missing  {o.get('hint', '')}")
    open_ok = all(o["status"] == "found" for o in open_rows)
    lines.append("What works here:")
    lines.append("  train, convert, estimate, report, package/deploy on the emulated board: yes")
    lines.append(f"  emulate (C-simulation): {'yes' if works['emulate'] else 'no: needs g++'}")
    lines.append(f"  synth --level csynth:  {'yes (' + hls_label + ')' if hls else 'no: needs vitis-run, vitis_hls or vivado_hls'}")
    for level in ("vsynth", "bitfile"):
        if works[level]:
            lines.append(f"  synth --level {level}: {'' if level == 'bitfile' else ' '}yes ({hls_label}; {vivado.label()})")  # type: ignore[union-attr]
        else:
            need = [x for x, ok in (("an HLS tool", bool(hls)), ("vivado", vivado is not None)) if not ok]
            lines.append(f"  synth --level {level}: {'' if level == 'bitfile' else ' '}no: needs {' and '.join(need)}")
    lines.append("  synth --dry-run (write the HLS project and scripts only): yes")
    lines.append("  synth --tool open (Verilog, RTL simulation, Yosys counts; no bitstream): "
                 + ("yes" if open_ok else "no: needs " + ", ".join(o["tool"] for o in open_rows
                                                                   if o["status"] != "found")))
    works["synth_open"] = open_ok
    if not (hls and vivado):
        missing = [n for n in CONTRACTS if not tools[n].usable]
        lines.append("To add vendor tools: " + install_hint(missing))
    return {"lines": lines, "tools": {n: t.to_dict() for n, t in tools.items()}, "host_tools": host,
            "works": works, "open_tools": open_rows}
