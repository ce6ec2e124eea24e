"""Batched, multi-threaded C-simulation of an hls4ml project, with a shared compile cache.

Why: hls4ml's ``ModelGraph.predict`` makes one ctypes call per sample from a Python loop (about
70 us/sample on this project's machines), so emulating a test set of 100k samples takes minutes.
Here a small C++ bridge loops over the whole batch inside C++ and spreads samples over threads.
It computes exactly what hls4ml's own C-simulation computes, because it calls hls4ml's own
generated wrapper (``<project>_double``, from ``<project>_bridge.cpp``) for every sample; only
the loop moved from Python to C++.

The compiled library is cached by a hash of everything that goes into it (firmware sources,
headers, weights, hls4ml's bridge, our bridge, compiler identity and flags) in
``$HWFLOW_CACHE/csim`` (default ``~/.cache/hwflow/csim``), so re-running a flow, another design
with identical firmware, or a second process costs nothing. The library is compiled to a
temporary name and moved into place with ``os.replace`` so a concurrent reader never sees a
half-written file.

Thread safety: hls4ml's C-sim code keeps some state in function-local ``static`` variables. Some
are set once (weights loaded on the first call, lookup tables of softmax/sigmoid/tanh): those
are made safe by running the first sample alone before starting threads. Others change on every
call (line buffers and counters of io_stream convolutions and pooling): with those present the
library is run single-threaded. Which statics exist is read from the compiled library's symbol
table (``nm -C``), so the decision follows the code actually instantiated, not a guess.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hwflow.errors import StepFailed, ToolMissing

#: Bump when the generated bridge changes, so stale cached libraries are not reused.
BRIDGE_VERSION = "2"

#: Function-local statics that are written once (first call) and only read afterwards.
_INIT_ONCE_STATICS = re.compile(r"^(initialized|loaded_weights|\w*_table)$")
#: Statics whose races cannot change results (hls::stream's default-name counter).
_BENIGN_STATICS = {"_counter"}

_CXX_FLAG_CACHE: dict[str, list[str]] = {}


def cache_root() -> Path:
    """Shared cache folder: ``$HWFLOW_CACHE/csim`` or ``~/.cache/hwflow/csim``."""
    base = os.environ.get("HWFLOW_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "hwflow"
    return root / "csim"


@dataclass
class ThreadSafety:
    """What the symbol table says about per-call mutable state."""

    safe: bool
    init_once: list[str] = field(default_factory=list)
    mutable: list[str] = field(default_factory=list)

    def reason(self) -> str:
        if self.safe:
            return "no per-call static state (init-once statics are set by a single-threaded first call)"
        return "per-call static state in the firmware: " + ", ".join(sorted(set(self.mutable)))


def _run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess:
    """Run a tool, capturing its output; callers check the return code themselves."""
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)


def _compiler_flags(cxx: str) -> list[str]:
    """Same language level as hls4ml's build_lib.sh (C++23 when available), plus threads."""
    if cxx in _CXX_FLAG_CACHE:
        return _CXX_FLAG_CACHE[cxx]
    flags = ["-O3", "-fPIC", "-shared", "-pthread"]
    probe = _run([cxx, "-Werror", "-fsyntax-only", "-std=c++23", "-xc++", "-", "-o", os.devnull], input="")
    flags.append("-std=c++23" if probe.returncode == 0 else "-std=c++17")
    probe = _run([cxx, "-Werror", "-fsyntax-only", "-fno-gnu-unique", "-xc++", "-", "-o", os.devnull], input="")
    if probe.returncode == 0:
        # every dlopen of a different library gets its own statics (as hls4ml does)
        flags.append("-fno-gnu-unique")
    _CXX_FLAG_CACHE[cxx] = flags
    return flags


def _compiler_id(cxx: str) -> str:
    res = _run([cxx, "--version"])
    if res.returncode != 0:
        raise ToolMissing(f"C++ compiler {cxx!r} does not run", hint="install g++ (apt-get install g++)")
    return res.stdout.splitlines()[0] if res.stdout else cxx


def project_name_of(project_dir: Path) -> str:
    """Find the hls4ml project name (the top function) of a written project folder."""
    cfg = project_dir / "hls4ml_config.yml"
    if cfg.is_file():
        m = re.search(r"^ProjectName:\s*(\S+)\s*$", cfg.read_text(), re.MULTILINE)
        if m:
            return m.group(1).strip("'\"")
    bridges = sorted(project_dir.glob("*_bridge.cpp"))
    if len(bridges) == 1:
        return bridges[0].name[: -len("_bridge.cpp")]
    raise StepFailed(f"{project_dir} does not look like a written hls4ml project "
                     "(no hls4ml_config.yml / <project>_bridge.cpp)")


def _io_sizes(bridge_text: str, project: str) -> tuple[str, str]:
    """Input and output size expressions of ``<project>_double`` (C++ expressions, e.g. ``8*8*1``)."""
    m = re.search(rf"void\s+{re.escape(project)}_double\s*\((.*?)\n\}}", bridge_text, re.DOTALL)
    if not m:
        raise StepFailed(f"{project}_bridge.cpp has no {project}_double wrapper (hls4ml version change?)")
    body = m.group(1)
    ins = re.findall(r"convert_data<\s*double\s*,\s*\w+\s*,\s*([^>]+)>", body)
    outs = re.findall(r"convert_data<\s*\w+\s*,\s*double\s*,\s*([^>]+)>", body)
    if len(ins) != 1 or len(outs) != 1:
        raise StepFailed(f"batched C-sim supports one input and one output; {project} has "
                         f"{len(ins)} inputs and {len(outs)} outputs (use hls4ml predict)")
    return ins[0].strip(), outs[0].strip()


def compiler_errors(output: str, n: int = 3, context: int = 2) -> list[str]:
    """The compiler's first ``n`` errors (lines with ``error:``), each with the ``context`` lines
    after it (gcc shows the offending source line and a caret there)."""
    lines = output.splitlines()
    out: list[str] = []
    found = 0
    for i, ln in enumerate(lines):
        if "error:" in ln or "fatal error" in ln:
            out.append(ln.rstrip()[:300])
            for x in lines[i + 1:i + 1 + context]:  # gcc's excerpt: "   59 | code" and "      |   ^~~"
                if not re.match(r"^\s+(\d+\s*)?\|", x):
                    break
                out.append(x.rstrip()[:300])
            found += 1
            if found >= n:
                break
    return out


def _bridge_source(project: str, in_expr: str, out_expr: str, sources: list[str]) -> str:
    includes = "\n".join(f'#include "firmware/{name}"' for name in sources)
    return f"""// Generated by hwflow.emu.csim (bridge v{BRIDGE_VERSION}): batch loop around hls4ml's wrapper.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

// Weights are read at run time from the project that loaded this (shared) library.
static std::string hwflow_weights_dir_value = "weights";
#define WEIGHTS_DIR hwflow_weights_dir_value

{includes}
#include "{project}_bridge.cpp"

extern "C" {{
long hwflow_n_in(void) {{ return (long)({in_expr}); }}
long hwflow_n_out(void) {{ return (long)({out_expr}); }}
void hwflow_set_weights_dir(const char *dir) {{ hwflow_weights_dir_value = dir; }}

// Runs samples [0, n): sample 0 alone first (it sets the init-once statics: weights, tables),
// then the rest over `nthreads` threads taking chunks from a shared counter.
int hwflow_predict(const double *x, double *y, long n, int nthreads) {{
    if (n <= 0) return 0;
    const long nin = hwflow_n_in(), nout = hwflow_n_out();
    {project}_double(const_cast<double *>(x), y);
    const long chunk = 64;
    std::atomic<long> next(1);
    auto work = [&]() {{
        for (;;) {{
            long s = next.fetch_add(chunk);
            if (s >= n) break;
            long e = s + chunk < n ? s + chunk : n;
            for (long i = s; i < e; ++i) {project}_double(const_cast<double *>(x + i * nin), y + i * nout);
        }}
    }};
    if (nthreads <= 1 || n < 2 * chunk) {{
        work();
        return 0;
    }}
    std::vector<std::thread> pool;
    for (int t = 1; t < nthreads; ++t) pool.emplace_back(work);
    work();
    for (auto &t : pool) t.join();
    return 0;
}}
}}
"""


def firmware_hash(project_dir: Path, project: str, extra: str = "") -> str:
    """sha256 over every file the library is built from, in a stable order."""
    h = hashlib.sha256()
    h.update(extra.encode())
    files = sorted(p for p in (project_dir / "firmware").rglob("*") if p.is_file() and p.suffix != ".so")
    files.append(project_dir / f"{project}_bridge.cpp")
    for p in files:
        h.update(str(p.relative_to(project_dir)).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:24]


def analyse_statics(lib: Path) -> ThreadSafety:
    """Classify the function-local statics of a compiled C-sim library (see module doc)."""
    nm = shutil.which("nm")
    if nm is None:  # cannot inspect: be conservative
        return ThreadSafety(False, mutable=["<nm not found: cannot inspect statics>"])
    res = _run([nm, "-C", "--defined-only", str(lib)])
    if res.returncode != 0:
        return ThreadSafety(False, mutable=[f"<nm failed: {res.stderr.strip()[:200]}>"])
    init_once: list[str] = []
    mutable: list[str] = []
    for line in res.stdout.splitlines():
        parts = line.split(" ", 2)
        if len(parts) < 3 or parts[1] not in "bBdDuVvSsGg" or not parts[1]:
            continue
        name = parts[2]
        if name.startswith(("guard variable", "typeinfo", "vtable", "VTT")):
            continue
        m = re.search(r"\)(?: const)?::([A-Za-z_]\w*)(?: \[.*\])?$", name)
        if not m:
            continue  # namespace-scope globals: weights (set once), trace switches (off)
        var = m.group(1)
        if _INIT_ONCE_STATICS.match(var):
            init_once.append(var)
        elif var in _BENIGN_STATICS:
            continue
        else:
            mutable.append(var)
    return ThreadSafety(not mutable, sorted(set(init_once)), sorted(set(mutable)))


class CSim:
    """Batched C-simulation of one written hls4ml project.

    >>> sim = CSim("build/jets_mlp/pynq-z2/hls")          # compiles once, then cached
    >>> y = sim.predict(x)                                  # (n, *input_shape) -> (n, n_out)

    ``threads``: worker threads (default: CPUs available to this process); forced to 1 when the
    firmware keeps per-call static state (see :attr:`thread_safety`).
    """

    _load_lock = threading.Lock()

    def __init__(self, project_dir: str | os.PathLike, *, threads: int | None = None,
                 cache_dir: str | os.PathLike | None = None, cxx: str | None = None,
                 extra_flags: tuple[str, ...] = (), progress: Callable[[str], None] | None = None) -> None:
        self.project_dir = Path(project_dir).resolve()
        if not (self.project_dir / "firmware").is_dir():
            raise StepFailed(f"no firmware/ folder in {self.project_dir}: write the hls4ml project first "
                             "(ModelGraph.write())")
        self.project = project_name_of(self.project_dir)
        self.cxx = cxx or os.environ.get("CXX") or "g++"
        if shutil.which(self.cxx) is None:
            raise ToolMissing(f"C++ compiler {self.cxx!r} not found on PATH",
                              hint="install g++; Keras-level results still work without C-sim")
        self.cache_dir = Path(cache_dir) if cache_dir else cache_root()
        bridge_text = (self.project_dir / f"{self.project}_bridge.cpp").read_text()
        self._in_expr, self._out_expr = _io_sizes(bridge_text, self.project)
        self.flags = _compiler_flags(self.cxx) + list(extra_flags)
        key_extra = "|".join([BRIDGE_VERSION, _compiler_id(self.cxx), " ".join(self.flags), self.project])
        self.key = firmware_hash(self.project_dir, self.project, key_extra)
        self.lib_path = self.cache_dir / f"{self.project}-{self.key}.so"
        self.cache_hit = self.lib_path.is_file()
        if not self.cache_hit:
            # a first compile takes from seconds (small MLP) to minutes (large CNN): say so, not silence
            if progress is not None:
                progress("compiling C-sim (first time for this firmware; cached afterwards; seconds for a "
                         "small model, a minute or more for a large one)…")
            t0 = time.monotonic()
            self._compile()
            if progress is not None:
                progress(f"C-sim compiled in {time.monotonic() - t0:.0f} s")
        self.thread_safety = self._thread_safety()
        wanted = threads if threads is not None else len(os.sched_getaffinity(0))
        self.threads = max(1, int(wanted)) if self.thread_safety.safe else 1
        self._lib = self._load()
        self.n_in = int(self._lib.hwflow_n_in())
        self.n_out = int(self._lib.hwflow_n_out())

    # ------------------------------------------------------------------------------ build
    def _compile(self) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # every firmware translation unit (the top function, plus e.g. VivadoAccelerator's
        # <project>_axi.cpp wrapper that the bridge calls), in one translation unit with ours
        fw = self.project_dir / "firmware"
        sources = sorted(p.name for p in fw.glob("*.cpp"))
        sources.sort(key=lambda n: n != f"{self.project}.cpp")
        src = _bridge_source(self.project, self._in_expr, self._out_expr, sources)
        log_path = self.cache_dir / f"{self.project}-{self.key}.log"
        with tempfile.TemporaryDirectory(prefix="hwflow-csim-", dir=self.cache_dir) as tmp:
            cpp = Path(tmp) / "hwflow_bridge.cpp"
            cpp.write_text(src)
            tmp_lib = Path(tmp) / "lib.so"
            cmd = [self.cxx, *self.flags, f"-I{self.project_dir}", f"-I{self.project_dir / 'firmware'}",
                   f"-I{self.project_dir / 'firmware' / 'ap_types'}", str(cpp), "-o", str(tmp_lib)]
            res = _run(cmd)
            log_path.write_text("$ " + " ".join(cmd) + "\n" + res.stdout + res.stderr)
            if res.returncode != 0:
                first = compiler_errors(res.stdout + res.stderr)
                if first:  # the first errors say what is wrong; the log's end is mostly warnings
                    raise StepFailed(f"compiling the batched C-sim of {self.project} failed "
                                     f"(exit {res.returncode}); the compiler's first errors:\n"
                                     + "\n".join("    " + ln for ln in first), log=str(log_path))
                raise StepFailed(f"compiling the batched C-sim of {self.project} failed "
                                 f"(exit {res.returncode})", log=str(log_path),
                                 tail="\n".join((res.stdout + res.stderr).strip().splitlines()[-15:]))
            safety = analyse_statics(tmp_lib)
            (Path(tmp) / "meta.json").write_text(json.dumps({
                "project_dir": str(self.project_dir), "flags": self.flags, "cxx": self.cxx,
                "thread_safe": safety.safe, "init_once": safety.init_once, "mutable": safety.mutable,
            }, indent=1))
            # atomic placement: metadata first, then the library that readers look for
            os.replace(Path(tmp) / "meta.json", self.lib_path.with_suffix(".json"))
            os.replace(tmp_lib, self.lib_path)

    def _thread_safety(self) -> ThreadSafety:
        meta = self.lib_path.with_suffix(".json")
        try:
            d = json.loads(meta.read_text())
            return ThreadSafety(bool(d["thread_safe"]), list(d["init_once"]), list(d["mutable"]))
        except (OSError, ValueError, KeyError):
            return analyse_statics(self.lib_path)

    def _load(self) -> ctypes.CDLL:
        with self._load_lock:
            lib = ctypes.CDLL(str(self.lib_path))
            lib.hwflow_n_in.restype = ctypes.c_long
            lib.hwflow_n_out.restype = ctypes.c_long
            lib.hwflow_set_weights_dir.argtypes = [ctypes.c_char_p]
            lib.hwflow_set_weights_dir.restype = None
            lib.hwflow_predict.argtypes = [
                np.ctypeslib.ndpointer(np.float64, flags="C_CONTIGUOUS"),
                np.ctypeslib.ndpointer(np.float64, flags="C_CONTIGUOUS"),
                ctypes.c_long, ctypes.c_int,
            ]
            lib.hwflow_predict.restype = ctypes.c_int
            lib.hwflow_set_weights_dir(str(self.project_dir / "firmware" / "weights").encode())
        return lib

    # ------------------------------------------------------------------------------ run
    def predict(self, x: np.ndarray, *, threads: int | None = None) -> np.ndarray:
        """Run the firmware on every sample; returns float64 ``(n, n_out)``.

        ``x`` is any array whose trailing dimensions hold ``n_in`` values per sample (float32
        inputs are widened exactly; the firmware quantises them to its input type).
        """
        x = np.ascontiguousarray(x, dtype=np.float64)
        if x.ndim == 0 or x.size % self.n_in:
            raise ValueError(f"input of shape {x.shape} is not a batch of {self.n_in}-value samples")
        n = x.size // self.n_in
        x = x.reshape(n, self.n_in)
        y = np.empty((n, self.n_out), dtype=np.float64)
        nthreads = self.threads if threads is None else (max(1, threads) if self.thread_safety.safe else 1)
        rc = self._lib.hwflow_predict(x, y, n, nthreads)
        if rc != 0:  # pragma: no cover - the bridge only returns 0
            raise StepFailed(f"batched C-sim returned {rc}")
        return y

    def describe(self) -> dict[str, Any]:
        """Facts for emulate.json / logs."""
        return {
            "library": str(self.lib_path), "cache_hit": self.cache_hit, "threads": self.threads,
            "thread_safe": self.thread_safety.safe, "thread_safety": self.thread_safety.reason(),
            "n_in": self.n_in, "n_out": self.n_out, "flags": self.flags,
        }
