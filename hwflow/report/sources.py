"""Where a figure comes from, and how each kind of source looks in a report.

A report must never let an estimate pass for a measurement, so every figure carries a
*kind* derived from its ``source`` string (docs/contract.md: ``measured:<sensor>``,
``vendor:<tool>-<ver>``, ``estimate:<model>``, ``emulated``) and each kind has its own
badge, value style and plot style. Two kinds exist only in reports: ``software``
(accuracy of the Keras/QKeras model on the host, an exact computation, not hardware)
and ``reference`` (published figures of ANCHORS.md, never this design's own).

The number formatting lives here too so that HTML, Markdown and plot labels agree.
"""

from __future__ import annotations

import math
from typing import Any

#: Kinds in the order the legend lists them.
KINDS: tuple[str, ...] = ("measured", "vendor", "open", "emulated", "estimate", "software", "reference")

KIND_LABEL: dict[str, str] = {
    "measured": "measured",
    "vendor": "vendor tool",
    "open": "open synthesis",
    "emulated": "emulated",
    "estimate": "hwflow estimate",
    "software": "software",
    "reference": "reference",
}

KIND_MEANING: dict[str, str] = {
    "measured": "read from a sensor or timer on real hardware",
    "vendor": "reported by the vendor tool (HLS / Vivado) after synthesis",
    "open": "synthesized here with open tools (da4ml Verilog, Yosys): pre-placement netlist counts and "
    "logic-only delay of da4ml's architecture, not hls4ml's",
    "emulated": "from the emulated board or C-simulation on this PC (bit-accurate outputs; "
    "power and time are simulated, not hardware)",
    "estimate": "predicted by hwflow's models without the vendor tool (has an error bar)",
    "software": "the Keras / QKeras model evaluated on the host",
    "reference": "published or previously measured figure of another system (ANCHORS.md), for context",
}

#: Plot colours (colour-blind safe, from ColorBrewer PRGn/PuOr/RdBu) and hatches by kind.
COLOR: dict[str | None, str] = {
    "measured": "#1b7837",
    "vendor": "#2166ac",
    "open": "#01665e",
    "emulated": "#e08214",
    "estimate": "#c51b7d",
    "software": "#4d4d4d",
    "reference": "#9e9e9e",
    None: "#bdbdbd",
}
HATCH: dict[str | None, str] = {
    "measured": "",
    "vendor": "",
    "open": "++",
    "emulated": "..",
    "estimate": "///",
    "software": "",
    "reference": "xx",
    None: "",
}
#: Markers for scatter plots: filled for hardware figures, hollow for estimates/references.
MARKER: dict[str | None, str] = {
    "measured": "o",
    "vendor": "s",
    "open": "P",
    "emulated": "D",
    "estimate": "^",
    "software": "o",
    "reference": "x",
    None: "o",
}
FILLED: dict[str | None, bool] = {
    "measured": True,
    "vendor": True,
    "open": True,
    "emulated": True,
    "estimate": False,
    "software": True,
    "reference": False,
    None: False,
}

NOT_RUN = "not run"
NOT_MEASURED = "not measured"


def source_kind(source: str | None) -> str | None:
    """The kind of a source string; ``None`` when there is no source (nothing ran).

    Unknown prefixes are treated as estimates: the cautious choice, since a figure
    of unknown origin must not be shown as a measurement.
    """
    if not source or not isinstance(source, str):
        return None
    s = source.strip().lower()
    for k in KINDS:
        if s.startswith(k):  # "measured:pmbus", "vendor:vivado_hls-2019.2", "emulated", "estimated:..."
            return k
    return "estimate"


def num(v: Any) -> float | int | None:
    """A finite number or None (bools, strings and NaN are not figures)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def get(d: Any, path: str, default: Any = None) -> Any:
    """``get(r, "energy.source")``: a dotted lookup that never raises on missing/odd blocks."""
    cur = d
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return default if cur is None else cur


def fmt_num(v: Any, digits: int = 4) -> str | None:
    """Human number: ``digits`` significant digits, thousands separators from 1,000 on,
    scientific notation only below 0.001 or from 10^12 on (12,350,000 reads better than
    1.235e+07 in a table)."""
    v = num(v)
    if v is None:
        return None
    if isinstance(v, int) and abs(v) < 10**12:
        return f"{v:,}"
    a = abs(float(v))
    if a == 0:
        return "0"
    if a >= 1e12 or a < 1e-3:
        return f"{v:.{max(digits - 1, 1)}e}"
    if a >= 1000:
        mag = int(math.floor(math.log10(a)))
        return f"{round(v, -(mag - digits + 1)):,.0f}"
    return f"{v:.{digits}g}"


def fmt_pct(frac: Any, digits: int = 3) -> str | None:
    v = num(frac)
    if v is None:
        return None
    return f"{fmt_num(100.0 * v, digits)} %"


def fmt_acc(v: Any) -> str | None:
    """Accuracy as a percentage with two decimals: 0.97222 -> '97.22 %'."""
    v = num(v)
    return None if v is None else f"{100.0 * v:.2f} %"


def fmt_time(seconds: Any) -> str | None:
    """Seconds in the unit that keeps 1-3 digits before the point (ns, µs, ms, s)."""
    v = num(seconds)
    if v is None:
        return None
    a = abs(v)
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")):
        if a >= scale or unit == "ns":
            return f"{fmt_num(v / scale, 4)} {unit}"
    return f"{v} s"  # pragma: no cover


def fmt_energy_uj(uj: Any) -> str | None:
    """Energy given in µJ, shown as nJ/µJ/mJ/J as fits."""
    v = num(uj)
    if v is None:
        return None
    a = abs(v)
    if a >= 1e6:
        return f"{fmt_num(v / 1e6)} J"
    if a >= 1e3:
        return f"{fmt_num(v / 1e3)} mJ"
    if a >= 1 or a == 0:
        return f"{fmt_num(v)} µJ"
    return f"{fmt_num(v * 1e3)} nJ"


def fmt_rate(per_s: Any, unit: str = "inferences/s") -> str | None:
    v = num(per_s)
    if v is None:
        return None
    return f"{fmt_num(v, 4)} {unit}"


def fmt_power(w: Any) -> str | None:
    v = num(w)
    if v is None:
        return None
    if abs(v) < 1 and v != 0:
        return f"{fmt_num(v * 1e3)} mW"
    return f"{fmt_num(v)} W"
