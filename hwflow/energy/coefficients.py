"""Per-resource dynamic-power coefficients of the programmable logic, derived from vendor reports.

Method (XPE-style, AMD UG440 "Using the Logic Sheet"): dynamic power of a resource class is
proportional to how many of them switch and to the clock frequency, at the vendor's default
vectorless activity (toggle rate 12.5 %, the default UG440 recommends "in the absence of a better
estimate"). From each Vivado ``report_power`` of a public hls4ml design (``../shared/fixtures``,
read by :mod:`hwflow.energy.vendor_power`) we take the component powers and "Used" counts and the
clock constraint, and compute, per MHz:

* ``logic_w_per_lut_mhz`` = (LUT as logic + carry + registers + shift registers + muxes + signals
  [routing]) / LUTs used as logic
* ``clock_w_per_ff_mhz``  = clock-tree power / registers used
* ``dsp_w_per_mhz``       = DSP power / DSPs used
* ``bram18_w_per_mhz``    = block-RAM power / (36 Kb tiles used x 2)

The table is written by ``scripts/derive_pl_power_coefficients.py`` into
``pl_power_coefficients.json`` (a derived table; the raw reports are not copied), and checked
against a fresh derivation by the tests when ``../shared`` is present.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .vendor_power import components

TABLE = Path(__file__).with_name("pl_power_coefficients.json")
KEYS = ("logic_w_per_lut_mhz", "clock_w_per_ff_mhz", "dsp_w_per_mhz", "bram18_w_per_mhz")

_LOGIC_ROWS = ("LUT as Logic", "CARRY4", "CARRY8", "Register", "LUT as Shift Register", "F7/F8 Muxes",
               "LUT as Distributed RAM", "Signals")


def point_from_report(text: str) -> dict[str, Any]:
    """Coefficients of one report (None where the report has no such resource)."""
    parsed = components(text)
    c = parsed["components"]
    clocks = parsed["clocks_ns"]
    if not clocks:
        raise ValueError("power report states no clock constraint")
    ns = min(clocks.values())
    mhz = 1e3 / ns

    def w(name: str) -> float:
        return float((c.get(name) or {}).get("w") or 0.0)

    def used(name: str) -> float | None:
        return (c.get(name) or {}).get("used")

    luts = used("LUT as Logic")
    ffs = used("Register")
    dsps = used("DSPs")
    bram_tiles = used("Block RAM")
    logic = sum(w(k) for k in _LOGIC_ROWS)
    out = {
        "clock_mhz": mhz,
        "logic_w_per_lut_mhz": logic / luts / mhz if luts else None,
        "clock_w_per_ff_mhz": w("Clocks") / ffs / mhz if ffs else None,
        "dsp_w_per_mhz": w("DSPs") / dsps / mhz if dsps else None,
        "bram18_w_per_mhz": w("Block RAM") / (2 * bram_tiles) / mhz if bram_tiles else None,
        "used": {"lut": luts, "ff": ffs, "dsp": dsps, "bram18": 2 * bram_tiles if bram_tiles else 0},
        "components_w": {k: v.get("w") for k, v in c.items()},
        "below_print_bound": sorted(k for k, v in c.items() if v.get("bound")),
    }
    return out


def summarise(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Central value (geometric mean) and [min, max] of each coefficient over the points."""
    out: dict[str, Any] = {}
    for k in KEYS:
        vals = [p[k] for p in points if p.get(k)]
        if not vals:
            out[k] = {"central": None, "low": None, "high": None, "n": 0}
            continue
        gm = math.exp(sum(math.log(v) for v in vals) / len(vals))
        out[k] = {"central": gm, "low": min(vals), "high": max(vals), "n": len(vals)}
    return out


_CACHE: dict[str, Any] | None = None


def load_table() -> dict[str, Any]:
    global _CACHE
    if _CACHE is None:
        _CACHE = json.loads(TABLE.read_text())
    return _CACHE
