"""Reports: results.json -> report.html (self-contained), report.md, PNG plots; comparisons.

Public API (imported lazily so that ``import hwflow.report`` does not pull in matplotlib):

* :func:`render_report` (render.py) -- one design on one board;
* :func:`cli_compare`, :func:`pareto_front`, :func:`render_sweep_report` (compare.py) --
  ``hwflow report --compare``, Pareto fronts for the sweep engine, sweep reports;
* :func:`load_anchors` (extras.py) -- the reference figures of ANCHORS.md (anchors.json).

Layout: sources.py (source kinds, styles, number formats), extras.py (optional work-folder
files), sections.py (what each section says), doc.py (HTML and Markdown from the same
content), plots.py (matplotlib figures).
"""

from __future__ import annotations

from typing import Any

__all__ = ["render_report", "cli_compare", "pareto_front", "render_sweep_report", "load_anchors"]

_WHERE = {
    "render_report": "render",
    "cli_compare": "compare",
    "pareto_front": "compare",
    "render_sweep_report": "sweep_page",
    "load_anchors": "extras",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        from importlib import import_module

        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(name)
