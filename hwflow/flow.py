"""The flow engine: ordered steps, content-hashed caching, a manifest, a lock.

A step is a function of (config, upstream results) -> files in the work folder +
a metrics dict, described by a StepSpec in ``registry.py``. Its cache key is the
hash of the settings it reads, its version, the content of the code it depends on
(its module and the package folders it declares) and the keys of the steps it
depends on, so a change anywhere upstream re-runs exactly what it affects.

Layout: ``context.py`` (what a step receives), ``registry.py`` (StepSpec, the one step
order), ``manifest.py`` (manifest, provenance, lock), this module (the engine).

Crash safety: before a step runs, the manifest records it as ``running`` (an
atomic write); only when it returns is it recorded ``complete`` with its key.
A run killed in the middle of a step (even by SIGKILL) leaves ``running`` behind,
and the next run redoes that step instead of trusting its half-written files.
Results are merged only from steps recorded complete under the current keys.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import traceback
from pathlib import Path
from typing import Any

from ._version import __version__
from .context import Context, Options, make_context
from .errors import BadInput, HwflowError, StepFailed, ToolMissing
from .fileio import hash_obj
from .manifest import load_manifest, package_versions, save_manifest, workdir_lock
from .registry import STEP_ORDER, STEPS, StepSpec, code_hash, register
from .results import merge_results
from .steps import STEP_MODULES  # importing them registers every step

__all__ = ["STEPS", "STEP_ORDER", "Context", "Options", "StepSpec", "is_cached", "load_manifest", "make_context",
           "register", "reuse_from_sibling", "run_flow", "save_manifest", "step_key", "up_to_date", "workdir_lock"]


def _load_steps() -> None:
    """Every step is registered: importing ``hwflow.steps`` (above) registers them (registry.register)."""
    assert STEP_MODULES and all(name in STEPS for name in STEP_ORDER), \
        f"steps not registered: {set(STEP_ORDER) - set(STEPS)}"


def step_key(ctx: Context, spec: StepSpec) -> str:
    upstream = {n: ctx.keys.get(n, "absent") for n in spec.needs}
    return hash_obj({"step": spec.name, "version": spec.version, "hwflow": __version__, "code": code_hash(spec),
                     "settings": spec.settings(ctx), "upstream": upstream})


def _tail(path: Path, n: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def is_cached(ctx: Context, spec: StepSpec, entry: dict[str, Any], key: str) -> bool:
    """A step's manifest entry counts as its result: complete under ``key``, outputs present."""
    return (entry.get("status") == "complete" and entry.get("key") == key
            and all(ctx.path(o).exists() for o in spec.outputs))


def up_to_date(ctx: Context, to: str) -> bool:
    """Would ``run_flow(ctx, to=to)`` skip every step? (Fills ``ctx.keys`` on the way.) Sweeps ask
    this instead of re-implementing the check."""
    _load_steps()
    steps = load_manifest(ctx.workdir).get("steps", {})
    for name in STEP_ORDER[: STEP_ORDER.index(to) + 1]:
        spec = STEPS[name]
        key = ctx.keys[name] = step_key(ctx, spec)
        if spec.always_run or not is_cached(ctx, spec, steps.get(name, {}), key):
            return False
    return True


def reuse_from_sibling(ctx: Context, name: str) -> str | None:
    """On its own, what run_flow does before a board-independent step: adopt a sibling work
    folder's result with the same key. Returns the sibling's folder name, or None."""
    _load_steps()
    spec = STEPS[name]
    key = ctx.keys[name] = step_key(ctx, spec)
    with workdir_lock(ctx.workdir):
        man = load_manifest(ctx.workdir)
        man.setdefault("steps", {})
        if is_cached(ctx, spec, man["steps"].get(name, {}), key):
            return None
        return _reuse_from_sibling(ctx, spec, man, key)


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
    created = _new_folders(ctx.workdir)
    with workdir_lock(ctx.workdir), _remove_if_failed_empty(ctx, created):
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
                if spec.optional_tool and not explicit:
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
            cached = is_cached(ctx, spec, entry, key)
            if only and name != only:
                # Single-step mode (e.g. `hwflow report`): use what has run; never re-run upstream.
                summary[name] = "cached" if cached else "not run"
                if not cached:
                    # As in a full run that skipped it (synth without a tool): downstream keys see it
                    # absent, and its own stale result is not read (no entry has the key "absent").
                    ctx.keys[name] = "absent"
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
                with contextlib.suppress(Exception):
                    merge_results(ctx)
                raise
            summary[name] = "ran"
        man["versions"] = package_versions()
        save_manifest(ctx.workdir, man)
        merge_results(ctx)
    return summary


def _new_folders(workdir: Path) -> list[Path]:
    """The folders of ``build/<design>/<board>`` that do not exist yet (this run creates them),
    deepest first; the build folder itself counts too."""
    return [p for p in (workdir, workdir.parent, workdir.parent.parent) if not p.exists()]


@contextlib.contextmanager
def _remove_if_failed_empty(ctx: Context, created: list[Path]) -> Any:
    """A run that fails before any step completed leaves no ``build/<design>/<board>`` folder
    behind, but only folders this run created (issue 16, item 8). Kept: a folder holding the log
    that the error message points at (a failed step's log is its diagnosis). Runs inside the
    work-folder lock, so no other run is using the folder."""
    try:
        yield
    except BaseException as exc:
        if created:
            with contextlib.suppress(Exception):
                _remove_created(ctx, created, exc)
        raise


def _remove_created(ctx: Context, created: list[Path], exc: BaseException) -> None:
    steps = load_manifest(ctx.workdir).get("steps", {})
    if any(e.get("status") == "complete" for e in steps.values()):
        return
    log = getattr(exc, "log", None)
    if log and Path(log).exists() and Path(log).resolve().is_relative_to(ctx.workdir.resolve()):
        return
    for p in created:
        if p == ctx.workdir:
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                p.rmdir()  # only when empty: a parent may meanwhile hold another run's folder


def _reuse_from_sibling(ctx: Context, spec: StepSpec, man: dict[str, Any], key: str) -> str | None:
    """Training does not depend on the board: reuse another board's model when its key is identical.

    The key covers everything training reads (dataset, layers, quantization, pruning, distillation,
    training settings after per-board overrides, and the step's code), so an equal key means the
    same model. The sibling's manifest is checked again after the copy, so a sibling that started
    re-training meanwhile is not trusted.
    """
    folder = spec.board_independent
    if folder is None or not ctx.workdir.parent.is_dir():
        return None
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
        if (sib / "logs" / f"{spec.name}.log").exists():
            ctx.log_path(spec.name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sib / "logs" / f"{spec.name}.log", ctx.log_path(spec.name))
        man["steps"][spec.name] = {"status": "complete", "key": key, "duration_s": 0.0, "finished": time.time(),
                                   "reused_from": sib.name}
        save_manifest(ctx.workdir, man)
        if not ctx.options.quiet:
            print(f"[{spec.name}] same inputs as on {sib.name} (key {key[:10]}): reused its results", flush=True)
        return sib.name
    return None


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
