"""Design-space exploration: sweep files, parallel points, Pareto fronts (docs/sweep.md).

``cli_sweep`` is the ``hwflow sweep`` command; ``load_sweep`` + ``run_sweep`` are the API:

    from hwflow.sweep import load_sweep, run_sweep
    doc = run_sweep(load_sweep("digits_bits"), workers=2)     # the sweep.json document
    doc["pareto"]                                             # indices into doc["points"]

Imports are lazy so that ``import hwflow.sweep`` costs nothing until a sweep runs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["cli_sweep", "load_sweep", "run_sweep", "promote", "pareto_indices", "qtools_energy"]


def __getattr__(name: str) -> Any:
    if name == "cli_sweep":
        from .cli import cli_sweep

        return cli_sweep
    if name == "load_sweep":
        from .spec import load_sweep

        return load_sweep
    if name == "run_sweep":
        from .runner import run_sweep

        return run_sweep
    if name == "promote":
        from .promote import promote

        return promote
    if name == "pareto_indices":
        from ..pareto import pareto_indices

        return pareto_indices
    if name == "qtools_energy":
        from .qtools import qtools_energy

        return qtools_energy
    raise AttributeError(name)
