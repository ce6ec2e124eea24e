"""The Python API, for notebooks and scripts: the same engine as the command line.

::

    import hwflow

    hwflow.check("digits_mlp", board="zcu104")          # the resolved configuration (dict)
    flow = hwflow.Flow("digits_mlp", board="pynq-z2")
    results = flow.run(to="emulate")                    # trains, converts, emulates (cached)
    results.accuracy("csim")                            # a Figure: value, unit, source
    flow.paths                                          # work folder, results.json, report
    hwflow.estimate_project("path/to/hls4ml_prj", board="zcu104")

Errors are the command line's: :class:`hwflow.errors.BadInput` (a design or board is wrong),
:class:`~hwflow.errors.ToolMissing`, :class:`~hwflow.errors.StepFailed`; each carries the
``exit_code`` the command line would return.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import BadInput

__all__ = ["Flow", "check", "estimate_project"]


def check(design: str | Path, board: str | Path = "pynq-z2") -> dict[str, Any]:
    """``hwflow check DESIGN --board BOARD``: the resolved configuration, layer shapes and
    ``warnings``; raises :class:`~hwflow.errors.BadInput` when the design is not valid."""
    from .config import check as _check

    return _check(design, board)


def estimate_project(project_dir: str | Path, board: str | Path | None = None) -> dict[str, Any]:
    """``hwflow estimate --project DIR [--board B]``: resource / latency estimate of any hls4ml
    project folder, labelled ``estimate:<model>`` with its interval and measured error.

    ``board``: take part and clock from this board instead of the project's own files.
    """
    from .estimate import estimate_project as _estimate
    from .estimate.project import ProjectParseError
    from .steps.estimate import error_label

    p = Path(project_dir)
    if not p.is_dir():
        raise BadInput(f"estimate_project: {p} is not a folder")
    part = clock = None
    if board is not None:
        from .config import load_board

        b = load_board(board)
        part, clock = b.part, b.clock_period_ns
    try:
        est = _estimate(p, part=part, clock_ns=clock)
    except ProjectParseError as exc:
        raise BadInput(f"estimate_project: {p}: {exc}",
                       hint="give the folder hls4ml wrote (with firmware/parameters.h)") from None
    est["error_label"] = error_label(est)
    return est


class Flow:
    """A design on a board: ``Flow(design, board).run(to=...)`` runs the steps (cached as on the
    command line: an unchanged step is not redone) and returns the results.

    ``design`` / ``board``: a name in designs/ / boards/ or a path to a YAML file.
    ``build_dir``: work folders go to ``build_dir/<design>/<board>/`` (default ``build/``).
    ``engine``: ``fast`` or ``csim``; ``deploy``: ``emulated``, ``local`` or ``ssh://user@host/dir``.
    ``quiet``: no progress lines on the console (the step logs are still written).
    """

    def __init__(self, design: str | Path, board: str | Path = "pynq-z2", *, build_dir: str | Path | None = None,
                 engine: str = "fast", deploy: str = "emulated", quiet: bool = False) -> None:
        from .config import load_board, load_design
        from .context import Options, make_context

        if engine not in ("fast", "csim"):
            raise BadInput(f"engine must be 'fast' or 'csim', not {engine!r}")
        self.board = load_board(board)
        self.design = load_design(design, self.board.name)
        self.options = Options(engine=engine, deploy=deploy, quiet=quiet)
        self._ctx = make_context(self.design, self.board, self.options,
                                 build_dir=Path(build_dir) if build_dir is not None else None)
        self.summary: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"Flow({self.design.name!r}, board={self.board.name!r}, workdir={str(self.workdir)!r})"

    @property
    def workdir(self) -> Path:
        return self._ctx.workdir

    @property
    def paths(self) -> dict[str, Path]:
        """Where things are: the work folder, its results.json and manifest, and the report."""
        rep = self._ctx.reports_dir
        return {"workdir": self.workdir, "results": self.workdir / "results.json",
                "manifest": self.workdir / "manifest.json", "report_html": rep / "report.html",
                "report_md": rep / "report.md", "reports_dir": rep}

    def check(self) -> dict[str, Any]:
        """The resolved configuration, as ``hwflow check`` prints it."""
        return check(self.design._source, self.board._source)  # type: ignore[attr-defined]

    def run(self, to: str = "report", *, start: str | None = None):
        """Run the flow up to step ``to`` (train, convert, emulate, estimate, synth, package,
        deploy, report); ``start`` re-runs from that step on. Returns :meth:`results`."""
        from .flow import run_flow

        self.summary = run_flow(self._ctx, to=to, start=start)
        return self.results()

    def results(self):
        """The results of what has run (results.json) as a :class:`hwflow.results.Results`
        (``.data`` is the plain dict); a plain dict where that class is not available."""
        from .fileio import read_json

        p = self.workdir / "results.json"
        if not p.exists():
            raise BadInput(f"nothing has run for {self.design.name} on {self.board.name} (no {p}); call run() first")
        data = read_json(p)
        try:
            from .results import Results
        except ImportError:  # pragma: no cover - older layout
            return data
        return Results(data)
