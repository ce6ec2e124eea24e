"""Sweep files (designs/sweeps/<name>.yaml): schema, dotted key paths, expansion into points.

A sweep is data, like a design: a base design, the board(s), a grid or random search over
design keys named by dotted paths (``quantization.weight_bits``, ``model.layers[0].units``),
objectives and constraints. It is validated with pydantic like designs, and every rejection
is a :class:`~hwflow.errors.BadInput` (exit 2) that names the file and the key path, with a
"did you mean" for misspelt keys. Each point's design is validated *before* anything runs,
so a bad value in the 9th grid point is reported in the first second, not after 8 trainings.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..config import (
    Design,
    _check_layer_semantics,
    check_safe_name,
    deep_merge,
    load_board,
    read_yaml,
    resolve_design_path,
    resolved_dict,
    validation_message,
)
from ..errors import BadInput, HwflowError
from ..fileio import hash_obj
from ..paths import designs_dir, project_root
from .dotted import check_path_in_schema, format_path, parse_path, set_path
from .metrics import METRICS, check_metric_name

SWEEP_STEPS = ("train", "convert", "emulate", "estimate", "auto")
MAX_POINTS = 10_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Range(_Strict):
    """A numeric range: expanded with ``step`` for a grid, sampled for a random search."""

    min: float
    max: float
    step: float | None = Field(default=None, gt=0)
    log: bool = False
    integer: bool = False

    @model_validator(mode="after")
    def _order(self) -> "Range":
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        if self.log and self.min <= 0:
            raise ValueError("log: true needs min > 0")
        return self

    def grid(self) -> list[Any]:
        if self.step is None:
            raise ValueError("a grid search needs a list of values or a range with step")
        n = int(math.floor((self.max - self.min) / self.step + 1e-9)) + 1
        if n > MAX_POINTS:
            raise ValueError(f"the range gives {n} values; too many")
        vals = [self.min + i * self.step for i in range(n)]
        return [self._cast(v) for v in vals]

    def sample(self, rng: random.Random) -> Any:
        if self.step is not None:
            return rng.choice(self.grid())
        if self.log:
            v = math.exp(rng.uniform(math.log(self.min), math.log(self.max)))
        else:
            v = rng.uniform(self.min, self.max)
        return self._cast(v)

    def _cast(self, v: float) -> Any:
        if self.integer:
            return int(round(v))
        return round(v, 12)


class Search(_Strict):
    method: Literal["grid", "random"] = "grid"
    samples: int | None = Field(default=None, ge=1, le=MAX_POINTS)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    parameters: dict[str, list[Any] | Range] = {}

    @field_validator("parameters")
    @classmethod
    def _non_empty_lists(cls, v: dict[str, Any]) -> dict[str, Any]:
        for k, vals in v.items():
            if isinstance(vals, list) and not vals:
                raise ValueError(f"'{k}': give at least one value")
        return v

    @model_validator(mode="after")
    def _samples(self) -> "Search":
        if self.method == "random" and self.samples is None:
            raise ValueError("a random search needs samples: N")
        if self.method == "grid":
            for k, vals in self.parameters.items():
                if isinstance(vals, Range) and vals.step is None:
                    raise ValueError(f"'{k}': a grid search needs a list of values or a range with step")
        return self


class Objective(_Strict):
    metric: str
    goal: Literal["maximize", "minimize"] | None = None

    @field_validator("metric")
    @classmethod
    def _known(cls, v: str) -> str:
        return check_metric_name(v)

    @model_validator(mode="after")
    def _default_goal(self) -> "Objective":
        if self.goal is None:
            m = METRICS.get(self.metric)
            if m is None:
                raise ValueError(f"objective '{self.metric}': say goal: maximize or goal: minimize")
            self.goal = m.goal
        return self


class Limit(_Strict):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _some(self) -> "Limit":
        if self.min is None and self.max is None:
            raise ValueError("give min:, max: or both")
        return self


class Constraints(_Strict):
    fits: bool = True
    max_utilization: float = Field(default=1.0, gt=0.0, le=10.0)
    limits: dict[str, Limit] = {}

    @field_validator("limits")
    @classmethod
    def _known(cls, v: dict[str, Limit]) -> dict[str, Limit]:
        for k in v:
            check_metric_name(k)
        return v


class SweepSpec(_Strict):
    name: str
    description: str = ""
    base: str
    boards: list[str] = Field(default_factory=lambda: ["pynq-z2"], min_length=1)
    overrides: dict[str, Any] = {}
    to: Literal["train", "convert", "emulate", "estimate", "auto"] = "auto"
    engine: Literal["fast", "csim"] = "fast"
    search: Search = Search()
    objectives: list[Objective] = Field(default_factory=lambda: [Objective(metric="accuracy")], min_length=1)
    constraints: Constraints = Constraints()

    @field_validator("name")
    @classmethod
    def _safe(cls, v: str) -> str:
        return check_safe_name(v, "sweep name")

    @field_validator("boards", mode="before")
    @classmethod
    def _one_board(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _unique_objectives(self) -> "SweepSpec":
        seen = [o.metric for o in self.objectives]
        dup = {m for m in seen if seen.count(m) > 1}
        if dup:
            raise ValueError(f"objective(s) {sorted(dup)} given twice")
        return self


# --------------------------------------------------------------------------- loading

def resolve_sweep_path(sweep: str | Path) -> Path:
    p = Path(sweep)
    if p.suffix in (".yaml", ".yml") or "/" in str(sweep):
        return p
    candidate = designs_dir() / "sweeps" / f"{sweep}.yaml"
    if not candidate.exists():
        known = sorted(x.stem for x in (designs_dir() / "sweeps").glob("*.yaml"))
        hint = difflib.get_close_matches(str(sweep), known, n=1)
        msg = f"no sweep named '{sweep}' in {designs_dir() / 'sweeps'}"
        msg += f" (did you mean '{hint[0]}'?)" if hint else (f" (known: {', '.join(known)})" if known else "")
        raise BadInput(msg)
    return candidate


@dataclass
class Sweep:
    """A loaded, validated sweep: the spec, where it came from, and its base design data."""

    spec: SweepSpec
    path: Path
    base_path: Path
    base_data: dict[str, Any]
    paths: dict[str, list[str | int]]  # parameter key -> parsed path

    @property
    def name(self) -> str:
        return self.spec.name


def load_sweep(sweep: str | Path) -> Sweep:
    path = resolve_sweep_path(sweep)
    data = read_yaml(path, "sweep")
    data.setdefault("name", path.stem)
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise BadInput(_sweep_message(exc, str(path))) from None
    base_path = _resolve_base(spec.base, path)
    try:
        base_data = read_yaml(base_path, "design")
    except BadInput as exc:
        raise BadInput(f"{path}: base: {exc.message}") from None
    base_data.setdefault("name", base_path.stem)
    for b in spec.boards:
        try:
            load_board(b)
        except BadInput as exc:
            raise BadInput(f"{path}: boards: {exc.message}") from None
    paths: dict[str, list[str | int]] = {}
    for key in spec.search.parameters:
        where = f"{path}: search.parameters"
        try:
            parts = parse_path(key)
        except ValueError as exc:
            raise BadInput(f"{where}: {exc}") from None
        check_path_in_schema(parts, where)
        paths[key] = parts
    _check_overrides(spec.overrides, f"{path}: overrides")
    return Sweep(spec=spec, path=path, base_path=base_path, base_data=base_data, paths=paths)


def _resolve_base(base: str, sweep_path: Path) -> Path:
    p = Path(base)
    if p.suffix in (".yaml", ".yml") or "/" in base:
        for cand in (sweep_path.parent / p, project_root() / p, p):
            if cand.exists():
                return cand
        raise BadInput(f"{sweep_path}: base: design file {base} not found (looked next to the sweep file "
                       f"and in {project_root()})")
    try:
        return resolve_design_path(base)
    except BadInput as exc:
        raise BadInput(f"{sweep_path}: base: {exc.message}") from None


def _check_overrides(over: dict[str, Any], where: str) -> None:
    """Fixed overrides are a partial design: only the key names are checked here."""
    def walk(node: Any, prefix: list[str | int]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                parts = prefix + [str(k)]
                check_path_in_schema(parts, where)
                if isinstance(v, dict) and not _is_free_mapping(parts):
                    walk(v, parts)
    walk(over, [])


def _is_free_mapping(parts: list[str | int]) -> bool:
    # quantization.layers.<name> and boards.<name> hold free keys at their first level
    return format_path(parts) in ("quantization.layers", "boards")


def _sweep_message(err: ValidationError, source: str) -> str:
    msg = validation_message(err, SweepSpec, source)
    return msg.replace("invalid sweepspec file", "invalid sweep file")


# --------------------------------------------------------------------------- points

@dataclass
class Point:
    """One design x board to evaluate. ``values`` are the swept keys (what sweep.json shows)."""

    index: int
    board: str
    values: dict[str, Any]
    design_data: dict[str, Any]
    design: Design
    id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def combinations(sweep: Sweep) -> list[dict[str, Any]]:
    """The parameter combinations of the search (without boards), in a stable order."""
    s = sweep.spec.search
    keys = list(s.parameters)
    if not keys:
        return [{}]
    if s.method == "grid":
        lists = [v.grid() if isinstance(v, Range) else list(v) for v in s.parameters.values()]
        total = math.prod(len(v) for v in lists)
        if total * len(sweep.spec.boards) > MAX_POINTS:
            raise BadInput(f"{sweep.path}: the grid has {total * len(sweep.spec.boards)} points "
                           f"(limit {MAX_POINTS}); use method: random with samples: N")
        return [dict(zip(keys, combo)) for combo in itertools.product(*lists)]
    rng = random.Random(s.seed)
    n = s.samples or 1
    finite = all(isinstance(v, list) or (isinstance(v, Range) and v.step is not None)
                 for v in s.parameters.values())
    if finite:
        lists = [v.grid() if isinstance(v, Range) else list(v) for v in s.parameters.values()]
        total = math.prod(len(v) for v in lists)
        if n >= total:  # asking for at least the whole grid: that is the grid
            return [dict(zip(keys, combo)) for combo in itertools.product(*lists)]
        picks = rng.sample(range(total), n)
        out = []
        for flat in picks:
            combo, rest = [], flat
            for vals in reversed(lists):
                combo.append(vals[rest % len(vals)])
                rest //= len(vals)
            out.append(dict(zip(keys, reversed(combo))))
        return out
    out, seen = [], set()
    for _ in range(n * 20):
        combo = {k: (v.sample(rng) if isinstance(v, Range) else rng.choice(v)) for k, v in s.parameters.items()}
        sig = hash_obj(combo)
        if sig not in seen:
            seen.add(sig)
            out.append(combo)
        if len(out) == n:
            break
    return out


def point_design_data(sweep: Sweep, board: str, values: dict[str, Any]) -> dict[str, Any]:
    """The design dict of one point: base, then the board's own overrides, then the sweep's.

    The sweep's fixed overrides and swept values come last so that a swept key always takes
    the value the sweep says, even on a board whose block in the base design sets it too.
    """
    data = copy.deepcopy(sweep.base_data)
    board_over = (data.pop("boards", None) or {}).get(board) or {}
    if not isinstance(board_over, dict):
        raise BadInput(f"{sweep.base_path}: boards.{board}: must be a mapping of overrides")
    data = deep_merge(data, {k: v for k, v in board_over.items() if k not in ("name", "boards")})
    data = deep_merge(data, sweep.spec.overrides)
    where = f"{sweep.path}: search.parameters"
    for key, value in values.items():
        set_path(data, sweep.paths[key], value, where)
    return data


def validate_point(sweep: Sweep, data: dict[str, Any], values: dict[str, Any], board: str) -> Design:
    what = ", ".join(f"{k}={v!r}" for k, v in values.items()) or "the base design"
    where = f"{sweep.path}: point ({what}) on {board}"
    try:
        design = Design.model_validate(data)
    except ValidationError as exc:
        raise BadInput(validation_message(exc, Design, where)) from None
    try:
        _check_layer_semantics(design, where)
    except HwflowError:
        raise
    design._source = str(sweep.base_path)  # type: ignore[attr-defined]
    return design


def point_id(design: Design, board_name: str) -> str:
    """Content hash of a point: the resolved design (without its name) and the board's name.

    The board's *name*, not its file: when a board file changes (a power figure, a part),
    the point keeps its work folder and the flow's step keys decide what to redo.
    """
    board = load_board(board_name)
    resolved = resolved_dict(design, board)["design"]
    resolved.pop("name", None)
    resolved.pop("description", None)
    return hash_obj({"design": resolved, "board": board.name})


def expand_points(sweep: Sweep) -> list[Point]:
    """Every (combination x board) as a validated Point with its content hash."""
    points: list[Point] = []
    combos = combinations(sweep)
    for values in combos:
        for board in sweep.spec.boards:
            data = point_design_data(sweep, board, values)
            data["name"] = sweep.name[:50]  # placeholder while validating; set from the hash below
            design = validate_point(sweep, data, values, board)
            pid = point_id(design, board)
            data["name"] = f"{sweep.name[:50]}-{pid[:10]}"
            design = design.model_copy(update={"name": data["name"]})
            design._source = str(sweep.base_path)  # type: ignore[attr-defined]
            points.append(Point(index=len(points), board=board, values=values, design_data=data,
                                design=design, id=pid))
    return points
