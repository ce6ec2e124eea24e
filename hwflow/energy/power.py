"""Board power with a dynamic part: idle (static) from cited board figures, dynamic of the
programmable logic from the vendor power report or from a per-resource model.

Board power while the overlay serves calls of batch ``n``::

    P(n) = P_idle + P_dyn * duty(n)          duty(n) = IP busy time / call time  (0..1)

* ``P_dyn``: dynamic power of the programmable logic of *this* design. From the vendor report
  when synthesis produced one (report dynamic minus the processing system and I/O rows,
  ``vendor:vivado-<version>``); otherwise ``sum(count x coefficient x f_MHz)`` over LUT (with its
  routing), FF clock load, DSP and BRAM_18K, with coefficients derived from public hls4ml vendor
  reports of the same device family at the vendor's default toggle rate (12.5 %, UG440)
  (:mod:`.coefficients`), labelled ``estimate:pl-dynamic-per-resource`` with the [low, high]
  interval of the coefficients and their leave-one-out error.
* ``P_idle``: the board file's ``power.idle_w`` when a figure is cited. When only an *active*
  figure is cited (PYNQ-Z2: 1.58 W, MLPerf Tiny v0.7, measured while an hls4ml design served
  batch-1 inference), ``P_idle = active - P_dyn x duty_batch1`` (labelled ``estimate:``, the
  assumption stated): the active figure is then reproduced under the condition it was measured
  in, and larger batches (higher duty) draw more. With neither, nothing is estimated.

Assumption stated with every figure: the processing system's extra power while the host driver
runs is inside a cited *active* figure (measured under load) but not inside a cited *idle* one,
so idle-based board figures are lower bounds.
"""

from __future__ import annotations

import math
from typing import Any

from .coefficients import load_table
from .vendor_power import pl_dynamic_w

PER_RESOURCE_SOURCE = "estimate:pl-dynamic-per-resource"
BOARD_MODEL_SOURCE = "estimate:board-power-model-v2"

_RES_KEYS = (("lut", "logic_w_per_lut_mhz"), ("ff", "clock_w_per_ff_mhz"), ("dsp", "dsp_w_per_mhz"),
             ("bram_18k", "bram18_w_per_mhz"))


def per_resource_dynamic(resources: dict[str, Any], clock_ns: float, family: str) -> dict[str, Any]:
    """Dynamic power (W) of the programmable logic from resource counts; ``w`` None when the
    family has no coefficients. ``partial`` lists used resources the family cannot price."""
    table = load_table()
    fam = (table.get("families") or {}).get(family)
    if not fam or not clock_ns or clock_ns <= 0:
        return {"w": None, "low": None, "high": None, "source": None,
                "note": f"no per-resource power coefficients for the {family} family (no public vendor "
                        "power report of that family): dynamic power not estimated"}
    mhz = 1e3 / float(clock_ns)
    w = lo = hi = 0.0
    partial = []
    parts: dict[str, float] = {}
    for rkey, ckey in _RES_KEYS:
        count = float(resources.get(rkey) or 0.0)
        coef = fam.get(ckey) or {}
        if count <= 0:
            continue
        if coef.get("central") is None:
            partial.append(rkey)
            continue
        parts[rkey] = count * coef["central"] * mhz
        w += parts[rkey]
        lo += count * coef["low"] * mhz
        hi += count * coef["high"] * mhz
    n_reports = max((fam.get(k) or {}).get("n", 0) for _, k in _RES_KEYS)
    note = (f"per-resource model: LUT/FF/DSP/BRAM counts x {mhz:g} MHz x coefficients from {n_reports} "
            f"public {family} vendor power report(s) at the default 12.5 % toggle rate (UG440); "
            "interval = the spread of those reports")
    if partial:
        note += f"; {', '.join(partial)} not priced (no {family} report uses them): a lower bound"
    return {"w": w, "low": lo, "high": hi, "parts_w": parts, "source": PER_RESOURCE_SOURCE,
            "partial": partial, "note": note, "toggle_rate": table.get("toggle_rate"),
            "loo_error": leave_one_out_error(family)}


def leave_one_out_error(family: str) -> dict[str, Any] | None:
    """Predict each report's PL dynamic power from the coefficients of the *other* reports of
    the family (geometric mean); the ratio predicted/reported per report. None with < 2 reports."""
    table = load_table()
    pts = [p for p in table.get("points", []) if p.get("family") == family]
    if len(pts) < 2:
        return None
    ratios = []
    for i, p in enumerate(pts):
        others = pts[:i] + pts[i + 1:]
        pred = 0.0
        for rkey, ckey in _RES_KEYS:
            used = {"lut": p["used"]["lut"], "ff": p["used"]["ff"], "dsp": p["used"]["dsp"],
                    "bram_18k": p["used"]["bram18"]}[rkey] or 0
            vals = [o[ckey] for o in others if o.get(ckey)]
            if used and vals:
                pred += used * math.exp(sum(map(math.log, vals)) / len(vals)) * p["clock_mhz"]
        comps = p["components_w"]
        actual = sum((comps.get(k) or 0.0) for k in ("Clocks", "Slice Logic", "CLB Logic", "Signals",
                                                     "Block RAM", "DSPs"))
        ratios.append({"fixture": p["fixture"], "predicted_w": pred, "reported_w": actual,
                       "ratio": pred / actual if actual else None})
    finite = [r["ratio"] for r in ratios if r["ratio"]]
    worst = max(max(r, 1 / r) for r in finite) if finite else None
    return {"reports": ratios, "worst_factor": worst,
            "note": f"leave-one-out over {len(pts)} {family} reports: worst factor {worst:.1f}x" if worst else None}


def vendor_dynamic(report_text: str, version: str | None = None) -> dict[str, Any]:
    """PL dynamic power from a Vivado power report (processing system and I/O rows removed)."""
    r = pl_dynamic_w(report_text)
    return {"w": r["pl_dynamic_w"], "low": r["pl_dynamic_w"], "high": r["pl_dynamic_w"],
            "source": f"vendor:vivado-{version}" if version else "vendor:vivado",
            "note": f"Vivado report_power: dynamic {r['total_w'] - r['static_w']:.3f} W minus processing "
                    f"system {r['processing_system_w']:.3f} W and I/O {r['io_w']:.3f} W (vectorless activity)",
            "partial": []}


def board_power(spec: dict[str, Any], dynamic: dict[str, Any], *, active_duty: float = 1.0) -> dict[str, Any]:
    """Idle and full-duty power of the board running this design.

    ``spec``: the board file's ``power`` block (``idle_w``, ``active_w``, ``source``).
    ``dynamic``: from :func:`per_resource_dynamic` or :func:`vendor_dynamic`.
    ``active_duty``: the IP's duty under the condition the cited *active* figure was measured in
    (MLPerf Tiny: batch-1 calls, so the batch-1 duty of this design; see
    :func:`hwflow.energy.bases.model_for`). Then ``P_idle = active - P_dyn x active_duty``.
    """
    idle, active = spec.get("idle_w"), spec.get("active_w")
    dyn = dynamic.get("w")
    src = spec.get("source")
    notes = []
    if idle is not None:
        p_idle, idle_source = float(idle), f"board file: {src}" if src else "board file"
        if dyn is None:
            notes.append(dynamic.get("note") or "dynamic power not estimated")
        notes.append("cited idle figure: the processing system's extra power while the driver runs is not "
                     "included (a lower bound)")
    elif active is not None and dyn is not None:
        d = min(1.0, max(0.0, float(active_duty)))
        p_idle = float(active) - dyn * d
        idle_source = (f"estimate: cited active {float(active):.3g} W ({src}) minus this design's modelled PL "
                       f"dynamic {dyn * 1e3:.3g} mW x duty {d:.3g} under the cited condition "
                       "(no published idle figure)")
        if p_idle <= 0:
            notes.append("modelled dynamic power exceeds the cited active figure: idle not estimated")
            p_idle = None
    elif active is not None:
        p_idle, idle_source = None, None
        notes.append((dynamic.get("note") or "dynamic power not estimated") +
                     "; board power taken as the cited active figure at every duty")
    else:
        return {"idle_w": None, "dynamic_w": dyn, "full_w": None, "source": None,
                "dynamic": dynamic, "notes": ["board power not estimated: the board file cites no "
                                              "idle or active figure (power.idle_w / power.active_w)"]}
    if p_idle is None and active is not None:
        full = float(active)
        return {"idle_w": None, "dynamic_w": dyn, "full_w": full, "source": BOARD_MODEL_SOURCE,
                "idle_source": None, "dynamic": dynamic, "notes": notes, "flat": True}
    full = p_idle + (dyn or 0.0)
    return {"idle_w": p_idle, "dynamic_w": dyn, "full_w": full, "source": BOARD_MODEL_SOURCE,
            "idle_source": idle_source, "dynamic_source": dynamic.get("source"), "dynamic": dynamic,
            "notes": notes, "flat": False}


def power_at_duty(model: dict[str, Any], duty: float) -> float | None:
    """Board power when the IP is busy a fraction ``duty`` of the time."""
    if model.get("full_w") is None:
        return None
    if model.get("flat") or model.get("idle_w") is None:
        return model["full_w"]
    d = min(1.0, max(0.0, float(duty)))
    return model["idle_w"] + (model.get("dynamic_w") or 0.0) * d
