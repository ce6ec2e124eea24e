"""Pareto front: the points that no other point beats on every objective at once.

Plain O(n^2) dominance: sweeps have tens to a few thousand points, where this takes
milliseconds and is easy to check by hand. Objectives are (value, goal) pairs; minimised
figures are negated so that "larger is better" everywhere.
"""

from __future__ import annotations

from typing import Sequence


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """``a`` is at least as good as ``b`` everywhere and strictly better somewhere (maximising)."""
    better = False
    for x, y in zip(a, b):
        if x < y:
            return False
        if x > y:
            better = True
    return better


def pareto_indices(rows: Sequence[Sequence[float]], goals: Sequence[str]) -> list[int]:
    """Indices of the non-dominated rows. ``goals`` holds 'maximize' or 'minimize' per column.

    Rows that tie exactly are all kept: neither dominates the other, and dropping one would
    hide an equally good design.
    """
    if any(g not in ("maximize", "minimize") for g in goals):
        raise ValueError(f"goals must be 'maximize' or 'minimize', got {list(goals)}")
    signed = [[v if g == "maximize" else -v for v, g in zip(row, goals)] for row in rows]
    front = []
    for i, a in enumerate(signed):
        if not any(dominates(b, a) for j, b in enumerate(signed) if j != i):
            front.append(i)
    return front
