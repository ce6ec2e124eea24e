"""The step registry: what each step is, in the one order of the flow.

Steps register a :class:`StepSpec` here when ``hwflow.steps`` is imported; the engine
(``flow.py``) reads the registry and never the other way round, so neither imports the other.

A StepSpec says everything the engine needs to know about a step, so the engine has no
special cases by step name:

* ``settings(ctx)``: the settings it reads (hashed into its cache key);
* ``needs``: upstream steps whose keys enter its key;
* ``code``: package folders/files (relative to the folder holding ``hwflow/``) whose content
  enters its key besides the step's own module, e.g. ``("hwflow/emu", "hwflow/synth/templates")``:
  editing any of them re-runs exactly the steps that declare it;
* ``optional_tool``: when its pre-flight finds no tool and the step was not asked for
  explicitly, it is skipped with a notice instead of failing the run (synth);
* ``board_independent``: the folder it writes when its result does not depend on the board;
  a run on another board with an identical key reuses that folder (train).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .fileio import hash_file, hash_obj
from .paths import PACKAGE_DIR

# The one order of the flow. Everything that walks the steps (the engine, the report's
# provenance table, sweeps) reads it from here.
STEP_ORDER: tuple[str, ...] = ("train", "convert", "emulate", "estimate", "synth", "package", "deploy", "baseline",
                              "report")

CODE_SUFFIXES = (".py", ".j2", ".tcl", ".cpp", ".h", ".hpp", ".json", ".sh")


@dataclass
class StepSpec:
    name: str
    run: Callable[[Any], dict[str, Any]]          # (Context) -> metrics
    settings: Callable[[Any], Any]                # (Context) -> what the step reads
    needs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    result_file: str | None = None
    version: int = 1
    preflight: Callable[[Any], None] | None = None
    always_run: bool = False                      # re-run even when cached (report)
    code: tuple[str, ...] = ()                    # package code it depends on besides its own module
    optional_tool: bool = False                   # skip (not fail) when its tool is missing, unless asked for
    board_independent: str | None = None          # folder reusable across boards when the key is equal


STEPS: dict[str, StepSpec] = {}


def register(spec: StepSpec) -> StepSpec:
    if spec.name not in STEP_ORDER:
        raise ValueError(f"step {spec.name!r} is not in STEP_ORDER {STEP_ORDER}")
    late = [n for n in spec.needs if n not in STEP_ORDER or STEP_ORDER.index(n) >= STEP_ORDER.index(spec.name)]
    if late:
        raise ValueError(f"step {spec.name!r} needs {late}, which do not come before it")
    for c in spec.code:
        if not (PACKAGE_DIR.parent / c).exists():
            raise ValueError(f"step {spec.name!r} declares code {c!r}, which does not exist")
    STEPS[spec.name] = spec
    return spec


def step_order() -> tuple[str, ...]:
    return STEP_ORDER


def _code_files(spec: StepSpec) -> list[Path]:
    files: list[Path] = []
    try:
        files.append(Path(inspect.getfile(spec.run)).resolve())
    except (TypeError, OSError):
        pass
    root = PACKAGE_DIR.parent
    for c in spec.code:
        p = root / c
        if p.is_file():
            files.append(p)
        elif p.is_dir():
            files += [f for f in sorted(p.rglob("*"))
                      if f.is_file() and f.suffix in CODE_SUFFIXES and "__pycache__" not in f.parts]
    return files


def code_hash(spec: StepSpec) -> str:
    """Hash of the code a step depends on (its module + ``spec.code``), by content: editing any of
    these files invalidates the step's cached results, and only those steps'."""
    root = PACKAGE_DIR.parent
    entries = []
    for f in _code_files(spec):
        try:
            rel = str(f.relative_to(root)) if f.is_relative_to(root) else f.name
            entries.append((rel, hash_file(f)))
        except OSError:
            entries.append((str(f), "unreadable"))
    return hash_obj(sorted(set(entries)))[:16] if entries else "unknown"
