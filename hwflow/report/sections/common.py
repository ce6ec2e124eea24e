"""Helpers shared by the sections: missing-figure words, value cells, number formats, plots."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ...registry import STEP_ORDER  # noqa: F401  (the one step order; re-exported)
from ..doc import Image, Missing, Section, V
from ..sources import (
    KIND_LABEL,
    NOT_MEASURED,
    NOT_RUN,
    fmt_num,
    get,
    num,
)

RES_KEYS = ("lut", "ff", "dsp", "bram_18k", "uram")


RES_LABEL = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram_18k": "BRAM (18 Kb blocks)", "uram": "URAM"}




def missing_word(r: dict[str, Any], step: str, measured: bool = False) -> str:
    """What to print instead of a figure nobody produced: 'not measured' for board figures
    (nothing deployed / no sensor), else 'not run'. 'not reported' only when provenance says
    the step is complete *and current* (a step whose inputs changed since counts as not run)."""
    e = get(r, f"provenance.steps.{step}") or {}
    if e.get("status") == "complete" and e.get("current") is True:
        return "not reported"
    return NOT_MEASURED if measured else NOT_RUN


def _v(text: str | None, source: str | None, missing: str = NOT_RUN, **kw: Any) -> V:
    return V(text, source=source if text is not None else None, missing=missing, **kw)


def _prec_bits(p: Any) -> str | None:
    """'fixed<6,1,TRN,WRAP,0>' -> '6 (1 int)'; 'ufixed<6,0,...>' -> 'u6 (0 int)'; 'auto' stays."""
    if not p:
        return None
    s = str(p)
    m = re.match(r"\s*(u?)(?:ap_)?(fixed|int)<\s*(\d+)\s*(?:,\s*(-?\d+))?", s)
    if not m:
        return s
    u, typ, w, i = m.groups()
    if typ == "int":
        return f"{u}{w} (int)"
    return f"{u}{w} ({i} int)" if i is not None else f"{u}{w}"


def _mape(e: Any) -> str:
    """An estimator's error for one figure: '±45 % (n=48)' from ``{"mape": 45.4, "n": 48}``
    (percent) or a bare fraction/number."""
    if isinstance(e, dict):
        m = num(e.get("mape"))
        if m is None:
            return "—"
        if e.get("unit") not in (None, "percent", "%") and m <= 1.5:
            m *= 100  # a fraction
        return f"±{fmt_num(m, 2)} %" + (f" (n={e['n']})" if num(e.get("n")) else "")
    v = num(e)
    if v is None:
        return "—"
    return f"±{fmt_num(v * 100 if v <= 1.5 else v, 2)} %"


def _res_fmt(v: Any) -> str | None:
    v = num(v)
    return None if v is None else f"{int(round(v)):,}"


def _plot(s: Section, fn: Any, *args: Any, alt: str, caption: str | None = None) -> Path | None:
    """Draw a plot into section ``s``; a plot that fails says so in the report instead of
    taking the whole report down (the figures stay readable in the tables)."""
    try:
        png = fn(*args)
    except Exception as exc:  # noqa: BLE001 - any plotting error is reported, not raised
        s.blocks.append(Missing(f"{alt}: could not be drawn ({type(exc).__name__}: {exc})"))
        return None
    if png:
        s.blocks.append(Image(png, alt, caption))
    return png


def _short_task(a: dict[str, Any]) -> str:
    t = str(a.get("task") or "")
    t = re.sub(r"^MLPerf Tiny ", "", t)
    b = a.get("batch")
    return t + (f", batch {b:,}" if isinstance(b, int) and b > 1 else "")


def _kind_word(kind: str) -> str:
    return KIND_LABEL.get(kind, kind)
