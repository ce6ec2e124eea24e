"""Objectives of a comparison or a sweep: ``"lut:min"`` and its other spellings, the figure a
key names in a results dict or a sweep point, and the Pareto front over several objectives.

The goal vocabulary and the dominance test are :mod:`hwflow.pareto`'s; this module maps the
names people write (``lut``, ``energy``, ``accuracy``) onto results.json figures.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..errors import BadInput
from ..pareto import goal_of, pareto_indices
from .sections import best_accuracy
from .sources import get, num

#: Short names accepted in objectives, mapped to dotted paths in results.json.
ALIASES: dict[str, str] = {
    "lut": "resources.lut",
    "ff": "resources.ff",
    "dsp": "resources.dsp",
    "bram": "resources.bram_18k",
    "bram_18k": "resources.bram_18k",
    "uram": "resources.uram",
    "energy": "energy.uj_per_inference",
    "uj_per_inference": "energy.uj_per_inference",
    "inferences_per_joule": "energy.inferences_per_joule",
    "accuracy_per_joule": "energy.accuracy_per_joule",
    "latency": "latency.seconds",
    "latency_s": "latency.seconds",
    "latency_cycles": "latency.cycles",
    "ii": "latency.ii_cycles",
    "ii_cycles": "latency.ii_cycles",
    "power": "power.active_w",
}
#: Objectives that are better when larger; everything else is minimised unless told otherwise.
MAXIMISE = (
    "accuracy",
    "agreement",
    "exact_fraction",
    "inferences_per_joule",
    "accuracy_per_joule",
    "samples_per_s",
    "throughput",
)


def parse_objective(obj: Any) -> tuple[str, str]:
    """One objective as ``(key, "minimize"|"maximize")`` (the goal vocabulary of hwflow.pareto).

    Accepted forms (the sweep file may use any): ``("lut", "min")``, ``{"key"|"name"|"metric":
    "lut", "goal"|"direction"|"sense"|"mode": "min"|"max"|"minimize"|"maximise"}``, ``"lut:min"``,
    ``"min:lut"``, ``"-lut"`` (minimise), ``"+accuracy"`` (maximise), or a bare key whose direction
    is inferred (accuracy and efficiencies are maximised, costs minimised).
    """

    norm = goal_of

    key: str | None = None
    sense: str | None = None
    if isinstance(obj, (tuple, list)) and len(obj) == 2:
        key, sense = str(obj[0]), norm(obj[1])
    elif isinstance(obj, Mapping):
        key = next((str(obj[k]) for k in ("key", "name", "metric", "objective") if obj.get(k)), None)
        sense = next((norm(obj[k]) for k in ("goal", "direction", "sense", "mode") if obj.get(k)), None)
    elif isinstance(obj, str):
        s = obj.strip()
        if s[:1] in "+-":
            key, sense = s[1:], norm(s[0])
        elif ":" in s:
            a, b = s.split(":", 1)
            if norm(a):
                key, sense = b, norm(a)
            else:
                key, sense = a, norm(b)
        else:
            key = s
    if not key:
        raise BadInput(
            f"objective {obj!r}: expected a key and a direction, e.g. 'lut:min' or {{'key': 'accuracy', 'goal': 'max'}}"
        )
    key = key.strip()
    if sense is None:
        leaf = key.split(".")[-1]
        sense = "maximize" if any(leaf.startswith(m) or leaf.endswith(m) for m in MAXIMISE) else "minimize"
    return key, sense


def _results_of(point: Any) -> dict[str, Any]:
    if isinstance(point, Mapping) and isinstance(point.get("results"), Mapping):
        return dict(point["results"])
    return dict(point) if isinstance(point, Mapping) else {}


def objective_value(point: Any, key: str) -> float | None:
    """The figure ``key`` of a point: a results dict, a sweep point (``{"metrics": ..., "results": ...}``,
    the sweep engine's metric values first) or a flat dict. ``accuracy`` means the accuracy closest
    to hardware (board > C-sim > QKeras > float) unless the point has a plain ``accuracy`` number."""
    if not isinstance(point, Mapping):
        return None
    metrics = point.get("metrics") if isinstance(point.get("metrics"), Mapping) else {}
    for d in (point, metrics, _results_of(point)):
        v = d.get(key)
        if num(v) is not None:
            return float(v)
        v = get(d, key)
        if num(v) is not None:
            return float(v)
    r = _results_of(point)
    if key == "accuracy":
        b = best_accuracy(r)
        return float(b["value"]) if b else None
    if key in ALIASES:
        v = get(r, ALIASES[key])
        if num(v) is not None:
            return float(v)
        if key == "energy" and num(get(r, "energy.inferences_per_joule")):
            return 1e6 / float(get(r, "energy.inferences_per_joule"))  # uJ from inferences per joule
    return None


def pareto_front(points: Sequence[Any], objectives: Sequence[Any]) -> list[int]:
    """Indices (ascending) of the points no other point dominates.

    ``points``: results dicts, sweep points (``{"design": ..., "board": ..., "results": ...}``) or
    flat dicts of figures; ``objectives``: see :func:`parse_objective`, e.g.
    ``["accuracy:max", "lut:min"]``. A point dominates another when it is at least as good in
    every objective and strictly better in one. Points missing any objective are not on the
    front (they cannot be compared); equal points are all kept.
    """
    objs = [parse_objective(o) for o in objectives]
    if not objs:
        raise BadInput("pareto_front needs at least one objective")
    idx, rows = [], []
    for i, p in enumerate(points):
        vals = [objective_value(p, k) for k, _ in objs]
        if all(v is not None for v in vals):
            idx.append(i)
            rows.append(vals)
    return [idx[j] for j in pareto_indices(rows, [sense for _, sense in objs])]
