"""The Pareto front, once for the whole project (compare reports and sweeps), with one goal
vocabulary: ``"maximize"`` or ``"minimize"``.

Plain O(n^2) dominance: sweeps have tens to a few thousand points, where this takes
milliseconds and is easy to check by hand. Rows that tie exactly are all kept: neither
dominates the other, and dropping one would hide an equally good design.
"""

from __future__ import annotations

from typing import Any, Sequence

GOALS = ("maximize", "minimize")
_SYNONYMS = {
    "maximize": "maximize", "maximise": "maximize", "max": "maximize", "higher": "maximize", "up": "maximize",
    "+": "maximize",
    "minimize": "minimize", "minimise": "minimize", "min": "minimize", "lower": "minimize", "down": "minimize",
    "-": "minimize",
}


def goal_of(word: Any) -> str | None:
    """A user's way of saying it ('max', 'maximise', '+', ...) -> 'maximize' | 'minimize' | None."""
    return _SYNONYMS.get(str(word).strip().lower())


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
    """Indices (ascending) of the non-dominated rows; ``goals`` holds 'maximize' or 'minimize' per column."""
    if any(g not in GOALS for g in goals):
        raise ValueError(f"goals must be 'maximize' or 'minimize', got {list(goals)}")
    signed = [[v if g == "maximize" else -v for v, g in zip(row, goals)] for row in rows]
    return [i for i, a in enumerate(signed) if not any(dominates(b, a) for j, b in enumerate(signed) if j != i)]
