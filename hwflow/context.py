"""What a step receives: the resolved design and board, the run options and the work folder.

``Context.step_json(name)`` is the only way a step reads an upstream step's result: it
returns it only when that step completed under its current cache key (a stale file is None).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Board, Design, resolved_dict
from .fileio import read_json
from .manifest import load_manifest
from .paths import default_build_dir, reports_dir
from .registry import STEPS


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
    def clock_period_ns(self) -> float:
        """The target clock period (design ``hls.clock_period_ns`` after board overrides): the one
        clock every step uses; nothing parses it back from generated files."""
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


def make_context(design: Design, board: Board, options: Options, build_dir: Path | None = None,
                 reports: Path | None = None) -> Context:
    build = Path(build_dir) if build_dir else default_build_dir()
    workdir = build / design.name / board.name
    rep = (reports or reports_dir()) / design.name / board.name
    return Context(design=design, board=board, workdir=workdir, options=options,
                   config=resolved_dict(design, board), reports_dir=rep)
