"""The flow engine: ordered steps, content-hashed caching, a manifest, a lock.

A step is a function of (config, upstream results) -> files in the work folder +
a metrics dict. Each step declares the settings it reads; its cache key is the
hash of those settings, the step's own version and the keys of the steps it
depends on, so a change anywhere upstream re-runs exactly what it affects.

Crash safety: before a step runs, the manifest records it as ``running`` (an
atomic write); only when it returns is it recorded ``complete`` with its key.
A run killed in the middle of a step (even by SIGKILL) leaves ``running`` behind,
and the next run redoes that step instead of trusting its half-written files.
Results are merged only from steps recorded complete under the current keys.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from . import __version__
from .config import Board, Design, resolved_dict
from .errors import BadInput, HwflowError, StepFailed, ToolMissing
from .fileio import atomic_write_json, hash_obj, read_json
from .paths import default_build_dir, reports_dir

STEP_ORDER = ["train", "convert", "emulate", "estimate", "synth", "package", "deploy", "report"]


@dataclass
class Options:
    """Run options from the command line (not part of the design)."""

    engine: str = "fast"               # emulation engine: fast | csim
    deploy: str = "emulated"           # emulated | local | ssh://user@host[:port]/dir
    synth_level: str | None = None     # csynth | vsynth | bitfile (None: keep what was synthesized, else csynth)
    cosim: bool = False
    dry_run: bool = False
    timeout_s: float | None = None
    quiet: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    design: Design
    board: Board
    workdir: Path
    options: Options
    config: dict[str, Any]
    reports_dir: Path
    keys: dict[str, str] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)  # in-process objects shared by steps
    current_step: str | None = None
    _log_file: Any = None

    @property
    def design_cfg(self) -> dict[str, Any]:
        return self.config["design"]

    @property
    def board_cfg(self) -> dict[str, Any]:
        return self.config["board"]

    @property
    def clock_ns(self) -> float:
        return float(self.config["design"]["hls"]["clock_period_ns"])

    def path(self, *parts: str) -> Path:
        return self.workdir.joinpath(*parts)

    def log(self, msg: str, *, console: bool = True) -> None:
        line = f"[{self.current_step or 'flow'}] {msg}"
        if console and not self.options.quiet:
            print(line, flush=True)
        if self._log_file is not None:
            self._log_file.write(time.strftime("%H:%M:%S ") + line + "\n")
            self._log_file.flush()

    def log_path(self, step: str | None = None) -> Path:
        return self.path("logs", f"{step or self.current_step}.log")

    def step_json(self, name: str) -> dict[str, Any] | None:
        """The result of an upstream step, only if it completed under the current keys."""
        spec = STEPS.get(name)
        if spec is None or spec.result_file is None:
            return None
        man = load_manifest(self.workdir)
        entry = man.get("steps", {}).get(name)
        if not entry or entry.get("status") != "complete":
            return None
        if name in self.keys and entry.get("key") != self.keys[name]:
            return None
        p = self.path(spec.result_file)
        if not p.exists():
            return None
        try:
            return read_json(p)
        except (OSError, ValueError):
            return None


@dataclass
class StepSpec:
    name: str
    run: Callable[[Context], dict[str, Any]]
    settings: Callable[[Context], Any]
    needs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    result_file: str | None = None
    version: int = 1
    preflight: Callable[[Context], None] | None = None
    always_run: bool = False  # re-run even when cached


STEPS: dict[str, StepSpec] = {}


def register(spec: StepSpec) -> StepSpec:
    STEPS[spec.name] = spec
    return spec


def _load_steps() -> None:
    # Importing the steps package registers every step; kept lazy so `hwflow check` stays fast.
    from . import steps  # noqa: F401


# --------------------------------------------------------------------------- manifest

def load_manifest(workdir: Path) -> dict[str, Any]:
    p = workdir / "manifest.json"
    if not p.exists():
        return {"steps": {}}
    try:
        data = read_json(p)
        if isinstance(data, dict) and isinstance(data.get("steps"), dict):
            return data
    except (OSError, ValueError):
        pass
    # A corrupt manifest (should not happen: it is written atomically) means: trust nothing.
    return {"steps": {}, "note": "previous manifest unreadable; all steps re-run"}


def save_manifest(workdir: Path, man: dict[str, Any]) -> None:
    atomic_write_json(workdir / "manifest.json", man)


def package_versions() -> dict[str, str]:
    from importlib import metadata

    names = ["hwflow", "tensorflow", "keras", "qkeras", "hls4ml", "tensorflow-model-optimization",
             "numpy", "scikit-learn", "pydantic", "matplotlib"]
    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = None
    out["python"] = platform.python_version()
    return out


def git_commit() -> str | None:
    import subprocess

    from .paths import project_root

    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project_root(), capture_output=True,
                           text=True, timeout=5)
        if r.returncode == 0:
            commit = r.stdout.strip()
            d = subprocess.run(["git", "status", "--porcelain"], cwd=project_root(), capture_output=True,
                               text=True, timeout=5)
            return commit + ("-dirty" if d.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return None


# --------------------------------------------------------------------------- lock

@contextlib.contextmanager
def workdir_lock(workdir: Path, timeout_s: float | None = None) -> Iterator[None]:
    """One hwflow run per work folder: a second run waits (saying so) or gives up clearly."""
    workdir.mkdir(parents=True, exist_ok=True)
    lock_path = workdir / ".lock"
    f = open(lock_path, "a+")
    try:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            if timeout_s is None:
                timeout_s = float(os.environ.get("HWFLOW_LOCK_TIMEOUT", "3600"))
            print(f"[flow] {workdir} is in use by {holder}; waiting up to {timeout_s:.0f} s", flush=True)
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ToolMissing(
                            f"work folder {workdir} is locked by {holder} (still running after "
                            f"{timeout_s:.0f} s)",
                            hint="wait for that run to finish, or use --build-dir for a separate folder",
                        ) from None
                    time.sleep(0.2)
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()} on {platform.node()}\n")
        f.flush()
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(f, fcntl.LOCK_UN)
        f.close()


# --------------------------------------------------------------------------- running

def make_context(design: Design, board: Board, options: Options, build_dir: Path | None = None,
                 reports: Path | None = None) -> Context:
    build = Path(build_dir) if build_dir else default_build_dir()
    workdir = build / design.name / board.name
    rep = (reports or reports_dir()) / design.name / board.name
    return Context(design=design, board=board, workdir=workdir, options=options,
                   config=resolved_dict(design, board), reports_dir=rep)


def _code_hash(spec: StepSpec) -> str:
    """Hash of the step's own source: editing a step invalidates its cached results."""
    import inspect

    from .fileio import hash_file

    try:
        return hash_file(inspect.getfile(spec.run))[:16]
    except (TypeError, OSError):
        return "unknown"


def step_key(ctx: Context, spec: StepSpec) -> str:
    upstream = {n: ctx.keys.get(n, "absent") for n in spec.needs}
    return hash_obj({"step": spec.name, "version": spec.version, "hwflow": __version__, "code": _code_hash(spec),
                     "settings": spec.settings(ctx), "upstream": upstream})


def _tail(path: Path, n: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def run_flow(ctx: Context, *, to: str = "report", start: str | None = None,
             only: str | None = None) -> dict[str, Any]:
    """Run steps up to ``to`` (inclusive); ``start`` forces re-running from that step on.

    ``only`` runs a single step (its upstream must already be complete).
    Returns a summary {step: "ran"|"cached"|"skipped: why"}.
    """
    _load_steps()
    for name in (to, start, only):
        if name is not None and name not in STEP_ORDER:
            raise BadInput(f"unknown step '{name}' (steps: {', '.join(STEP_ORDER)})")
    last = STEP_ORDER.index(only or to)
    first_forced = STEP_ORDER.index(only or start) if (only or start) else None
    if first_forced is not None and first_forced > last:
        raise BadInput(f"--from {start} comes after --to {to}")
    order = STEP_ORDER[: last + 1]
    summary: dict[str, str] = {}
    with workdir_lock(ctx.workdir):
        man = load_manifest(ctx.workdir)
        man.setdefault("steps", {})
        man["design"] = ctx.design.name
        man["board"] = ctx.board.name
        man["hwflow"] = __version__
        man["config_hash"] = hash_obj(ctx.config)
        # Pre-flight: tools for every step that will run are checked before anything runs.
        skip: dict[str, str] = {}
        for name in order:
            spec = STEPS[name]
            if spec.preflight is None or (only and name != only):
                continue
            try:
                spec.preflight(ctx)
            except ToolMissing as exc:
                explicit = name == (only or to)
                if name == "synth" and not explicit:
                    skip[name] = f"no vendor tool installed ({exc.message.splitlines()[0]})"
                elif getattr(exc, "deferrable", False):
                    # The step still writes what it can (synth: the HLS project and every script)
                    # and then stops with this error; say so now, in the first second.
                    print(f"[{name}] pre-flight: {exc.message.splitlines()[0]}; the flow goes on to write "
                          f"what it can, then stops (exit {exc.exit_code})", flush=True)
                else:
                    raise
        for i, name in enumerate(order):
            spec = STEPS[name]
            if name in skip:
                ctx.keys.pop(name, None)
                print(f"[{name}] skipped: {skip[name]}; `hwflow doctor` says what is missing", flush=True)
                summary[name] = "skipped"
                continue
            key = step_key(ctx, spec)
            ctx.keys[name] = key
            entry = man["steps"].get(name, {})
            forced = first_forced is not None and i >= first_forced
            cached = (entry.get("status") == "complete" and entry.get("key") == key
                      and all(ctx.path(o).exists() for o in spec.outputs))
            if only and name != only:
                # Single-step mode (e.g. `hwflow report`): use what has run; never re-run upstream.
                summary[name] = "cached" if cached else "not run"
                continue
            if cached and not forced and not spec.always_run:
                if not ctx.options.quiet:
                    print(f"[{name}] up to date (cached, key {key[:10]}), skipped", flush=True)
                summary[name] = "cached"
                continue
            if entry.get("status") == "running":
                print(f"[{name}] previous run was interrupted in this step; redoing it", flush=True)
            if not forced and _reuse_from_sibling(ctx, spec, man, key):
                summary[name] = "reused"
                continue
            try:
                _run_one(ctx, spec, man, key)
            except HwflowError:
                # results.json must not keep figures of a step that has just failed (e.g. an old synth).
                from .results import merge_results

                with contextlib.suppress(Exception):
                    merge_results(ctx)
                raise
            summary[name] = "ran"
        man["versions"] = package_versions()
        save_manifest(ctx.workdir, man)
        from .results import merge_results

        merge_results(ctx)
    return summary


BOARD_INDEPENDENT = {"train": "model"}  # step -> the folder it writes


def _reuse_from_sibling(ctx: Context, spec: StepSpec, man: dict[str, Any], key: str) -> bool:
    """Training does not depend on the board: reuse another board's model when its key is identical.

    The key covers everything training reads (dataset, layers, quantization, pruning, distillation,
    training settings after per-board overrides, and the step's code), so an equal key means the
    same model. The sibling's manifest is checked again after the copy, so a sibling that started
    re-training meanwhile is not trusted.
    """
    import shutil

    folder = BOARD_INDEPENDENT.get(spec.name)
    if folder is None or not ctx.workdir.parent.is_dir():
        return False
    for sib in sorted(ctx.workdir.parent.iterdir()):
        if sib == ctx.workdir or not sib.is_dir():
            continue

        def same(m: dict[str, Any]) -> bool:
            e = m.get("steps", {}).get(spec.name, {})
            return e.get("status") == "complete" and e.get("key") == key

        if not same(load_manifest(sib)) or not all((sib / o).exists() for o in spec.outputs):
            continue
        tmp = ctx.path(f".{folder}.reuse.tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        try:
            shutil.copytree(sib / folder, tmp)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            continue
        if not same(load_manifest(sib)):
            shutil.rmtree(tmp, ignore_errors=True)
            continue
        man["steps"][spec.name] = {"status": "running", "key": key, "started": time.time()}
        save_manifest(ctx.workdir, man)
        dest = ctx.path(folder)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
        man["steps"][spec.name] = {"status": "complete", "key": key, "duration_s": 0.0, "finished": time.time(),
                                   "reused_from": sib.name}
        save_manifest(ctx.workdir, man)
        if not ctx.options.quiet:
            print(f"[{spec.name}] same inputs as on {sib.name} (key {key[:10]}): reused its results", flush=True)
        return True
    return False


def _run_one(ctx: Context, spec: StepSpec, man: dict[str, Any], key: str) -> None:
    name = spec.name
    man["steps"][name] = {"status": "running", "key": key, "started": time.time()}
    save_manifest(ctx.workdir, man)
    ctx.current_step = name
    log_path = ctx.log_path(name)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as logf:
        ctx._log_file = logf
        try:
            metrics = spec.run(ctx) or {}
        except HwflowError as exc:
            ctx.log(f"FAILED: {exc}", console=False)
            man["steps"][name] = {"status": "failed", "key": key, "error": str(exc)[:2000],
                                  "duration_s": round(time.monotonic() - t0, 3)}
            save_manifest(ctx.workdir, man)
            raise
        except KeyboardInterrupt:
            man["steps"][name] = {"status": "interrupted", "key": key}
            save_manifest(ctx.workdir, man)
            raise
        except Exception as exc:  # an unexpected crash inside a step: keep the traceback in its log
            logf.write(traceback.format_exc())
            logf.flush()
            man["steps"][name] = {"status": "failed", "key": key,
                                  "error": f"{type(exc).__name__}: {exc}"[:2000],
                                  "duration_s": round(time.monotonic() - t0, 3)}
            save_manifest(ctx.workdir, man)
            raise StepFailed(f"step '{name}' failed: {type(exc).__name__}: {exc}",
                             log=str(log_path), tail=_tail(log_path)) from exc
        finally:
            ctx._log_file = None
            ctx.current_step = None
    dur = time.monotonic() - t0
    man["steps"][name] = {"status": "complete", "key": key, "duration_s": round(dur, 3),
                          "finished": time.time(), "metrics": _short(metrics)}
    save_manifest(ctx.workdir, man)
    if not ctx.options.quiet:
        print(f"[{name}] done in {dur:.1f} s", flush=True)


def _short(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if isinstance(v, (int, float, str, bool)) or v is None}
