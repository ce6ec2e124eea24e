"""Typed figures, and every derived figure computed in one place.

API (stable; other modules build on it)
---------------------------------------

``Figure(value, unit, source, basis=None, interval=None)``
    One number with what it is and where it comes from.

    * ``value``: a float, or ``None`` when nobody produced it (never a zero or a default);
    * ``unit``: ``"s"``, ``"cycles"``, ``"1/s"``, ``"W"``, ``"uJ"``, ``"1/J"``, ``"fraction"``, ``"count"``;
    * ``source``: ``measured:<sensor>`` | ``vendor:<tool>-<version>`` | ``estimate:<model>`` |
      ``emulated`` | ``software:<framework>`` (docs/contract.md, "never invented");
    * ``basis``: for time, power and energy figures, what they cover — one of :data:`BASES`
      (``batch1_system``, ``batched_system``, ``accelerator``), ``None`` where it does not apply;
    * ``interval``: ``(low, high)`` for an estimate with a published error, else ``None``.

    ``Figure.missing(unit)`` is the figure nobody produced; ``fig.known`` says whether it has a
    value; ``fig.to_json()`` / ``Figure.from_json(d)`` round-trip it through a JSON object.
    Extra keys (``interval_80``, ``complete``, ``not_modelled``, ...) go into ``extra`` and are
    written next to the standard ones.

Derived figures (pure functions of explicit inputs; the clock is always ``clock_period_ns``):

    ``latency_seconds(cycles, clock_period_ns)``        cycles x period
    ``seconds_per_result(ii_cycles, clock_period_ns)``    streaming: one result per II, II x period
    ``throughput_per_second(ii_cycles, clock_period_ns)`` 1 / (II x period)
    ``energy_uj(power_w, seconds)``                       power x time, in microjoules
    ``inferences_per_joule(uj_per_inference)``            1e6 / uJ
    ``accuracy_per_joule(accuracy, uj_per_inference)``    accuracy x inferences per joule

Each takes and returns plain numbers (``None`` in, ``None`` out); :func:`derive` applies one of
them to Figures and carries the weakest source, the basis and the unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

BASES = ("batch1_system", "batched_system", "accelerator")

# Weakest first: a figure derived from several inherits the weakest of their sources.
_STRENGTH = {"reference": 0, "estimate": 1, "software": 2, "emulated": 3, "vendor": 4, "measured": 5}


def num(v: Any) -> float | None:
    """A real number, or None (bools, strings, NaN and containers are not figures)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return None if v != v else v  # NaN is not a figure


def pick(v: Any, *keys: str) -> Any:
    """A tool's ``{"worst": .., "best": ..}`` -> the first of ``keys`` that is set; a number stays."""
    if isinstance(v, dict):
        for k in keys:
            if v.get(k):
                return v[k]
        return None
    return v


def source_kind(source: str | None) -> str | None:
    """'vendor:vivado_hls-2019.2' -> 'vendor'; 'emulated' -> 'emulated'; None -> None."""
    if not source:
        return None
    return str(source).split(":", 1)[0].strip().lower() or None


@dataclass(frozen=True)
class Figure:
    value: float | None
    unit: str
    source: str | None
    basis: str | None = None
    interval: tuple[float, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.basis is not None and self.basis not in BASES:
            raise ValueError(f"basis {self.basis!r} is not one of {', '.join(BASES)}")
        if self.value is None and self.source is not None:
            object.__setattr__(self, "source", None)  # no value, no source: nothing to attribute

    @classmethod
    def missing(cls, unit: str, basis: str | None = None) -> Figure:
        return cls(None, unit, None, basis)

    @classmethod
    def of(cls, value: Any, unit: str, source: str | None, **kw: Any) -> Figure:
        """A figure from a raw JSON value (anything that is not a number becomes missing)."""
        return cls(num(value), unit, source, **kw)

    @property
    def known(self) -> bool:
        return self.value is not None

    @property
    def kind(self) -> str | None:
        return source_kind(self.source)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"value": self.value, "unit": self.unit, "source": self.source}
        if self.basis is not None:
            d["basis"] = self.basis
        if self.interval is not None:
            d["interval"] = list(self.interval)
        d.update(self.extra)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Figure:
        iv = d.get("interval")
        rest = {k: v for k, v in d.items() if k not in ("value", "unit", "source", "basis", "interval")}
        return cls(num(d.get("value")), str(d.get("unit") or ""), d.get("source"), d.get("basis"),
                   tuple(iv) if isinstance(iv, (list, tuple)) and len(iv) == 2 else None, rest)


# ------------------------------------------------------------------------------ derived figures


def latency_seconds(cycles: Any, clock_period_ns: Any) -> float | None:
    c, p = num(cycles), num(clock_period_ns)
    return c * p * 1e-9 if (c is not None and p) else None


def seconds_per_result(ii_cycles: Any, clock_period_ns: Any) -> float | None:
    ii, p = num(ii_cycles), num(clock_period_ns)
    return ii * p * 1e-9 if (ii and p) else None


def throughput_per_second(ii_cycles: Any, clock_period_ns: Any) -> float | None:
    t = seconds_per_result(ii_cycles, clock_period_ns)
    return 1.0 / t if t else None


def energy_uj(power_w: Any, seconds: Any) -> float | None:
    w, s = num(power_w), num(seconds)
    return w * s * 1e6 if (w is not None and s is not None) else None


def inferences_per_joule(uj_per_inference: Any) -> float | None:
    u = num(uj_per_inference)
    return 1e6 / u if u else None


def accuracy_per_joule(accuracy: Any, uj_per_inference: Any) -> float | None:
    a, ipj = num(accuracy), inferences_per_joule(uj_per_inference)
    return a * ipj if (a is not None and ipj is not None) else None


def weakest_source(*sources: str | None) -> str | None:
    """The weakest of several sources (a derived figure is no stronger than its inputs)."""
    known = [s for s in sources if s]
    if not known:
        return None
    return min(known, key=lambda s: _STRENGTH.get(source_kind(s) or "", -1))


def derive(fn: Callable[..., float | None], unit: str, *inputs: Figure | float | None,
           basis: str | None = None) -> Figure:
    """Apply a derived-figure function to Figures (plain numbers are exact inputs, e.g. a clock)."""
    vals = [x.value if isinstance(x, Figure) else x for x in inputs]
    srcs = [x.source for x in inputs if isinstance(x, Figure)]
    v = fn(*vals)
    return Figure(v, unit, weakest_source(*srcs) if v is not None else None, basis)
