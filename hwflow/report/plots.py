"""Report plots (matplotlib, Agg backend, PNG).

Every plot has a title, axis labels with units, and styles each bar/point by the kind of
its source (sources.COLOR/HATCH/MARKER) with a legend, so an estimate or a reference point
never looks like a measurement. A figure that is missing is written as "not run" /
"not measured" in the plot, never drawn as a zero bar. Each function returns the PNG path,
or None when there is nothing at all to plot (the report then says so in text).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable, Sequence

from .sources import COLOR, FILLED, HATCH, KIND_LABEL, MARKER, fmt_acc, fmt_energy_uj, fmt_time, num

DPI = 100
_PLT: Any = None


def _plt() -> Any:
    """pyplot on the Agg backend (no display needed), imported once: the import is the
    single largest cost of the report step."""
    global _PLT
    if _PLT is None:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt

        plt.rcParams.update(
            {
                "font.size": 9,
                "axes.titlesize": 10,
                "axes.titleweight": "bold",
                "axes.spines.top": False,
                "axes.spines.right": False,
                "svg.hashsalt": "hwflow",
                "hatch.linewidth": 0.8,
            }
        )
        _PLT = plt
    return _PLT


def _save(fig: Any, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    # Margins are set explicitly (_margins) instead of bbox_inches="tight", which draws every
    # figure twice: a third of the report step's time. No timestamp in the PNG metadata, so the
    # same results give byte-identical plots.
    fig.savefig(out, dpi=DPI, metadata={"Software": None})
    _plt().close(fig)
    return out


def _margins(fig: Any, left: float, right: float, top: float, bottom: float, **kw: Any) -> None:
    """Margins in inches (fractions of the figure are what subplots_adjust wants)."""
    w, h = fig.get_size_inches()
    fig.subplots_adjust(left=left / w, right=1 - right / w, top=1 - top / h, bottom=bottom / h, **kw)


def _text_width_in(labels: Iterable[str], size: float = 9.0, bold: bool = True) -> float:
    """Width in inches of the widest label, measured with the font (no drawing needed)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    fp = FontProperties(size=size, weight="bold" if bold else "normal")
    ttp = TextToPath()
    widest = 0.0
    for lab in labels:
        for line in str(lab).split("\n"):
            w, _, _ = ttp.get_text_width_height_descent(line, fp, ismath=False)
            widest = max(widest, w)
    return widest / 72.0


def _kind_handles(kinds: Iterable[str | None]) -> list[Any]:
    """Legend entries for the source kinds actually drawn (None = nothing drawn, no entry)."""
    from matplotlib.patches import Patch

    seen: list[str | None] = []
    for k in kinds:
        if k is not None and k not in seen:
            seen.append(k)
    return [
        Patch(facecolor=_face(k), edgecolor=COLOR[k], hatch=HATCH[k], label=KIND_LABEL.get(k or "", "unknown"))
        for k in seen
    ]


def _face(kind: str | None) -> str:
    """Estimates and references get a pale fill (with a hatch) so they read as 'not measured'."""
    if kind in ("estimate", "reference", None):
        return "#ffffff"
    if kind == "emulated":
        return "#fdb863"
    return COLOR[kind]


def _pct_axis() -> Any:
    """Fractions shown as percent with as many decimals as the tick spacing needs."""
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=None, symbol=" %")


def _no_minor(ax: Any) -> None:
    """Log axes get dozens of minor ticks whose layout dominates the drawing time; the
    decade ticks are enough to read these plots."""
    from matplotlib.ticker import NullLocator

    ax.xaxis.set_minor_locator(NullLocator())


def _eng(unit: str) -> Any:
    from matplotlib.ticker import EngFormatter

    return EngFormatter(unit=unit, places=None, sep=" ")


# ------------------------------------------------------------------------------ accuracy chain


def accuracy_chain(stages: Sequence[dict[str, Any]], out: Path, title: str) -> Path | None:
    """Bars float -> quantized -> C-sim -> board. ``stages``: ``{label, value, kind}``."""
    if not any(num(s.get("value")) is not None for s in stages):
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 3.3))
    known = [float(s["value"]) for s in stages if num(s.get("value")) is not None]
    lo = max(0.0, math.floor((min(known) - 0.05) * 20) / 20)
    hi = min(1.0, max(known)) + (1.0 - lo) * 0.12
    for i, s in enumerate(stages):
        v, k = num(s.get("value")), s.get("kind")
        if v is None:
            ax.text(
                i,
                lo + (hi - lo) * 0.04,
                s.get("missing") or "not run",
                ha="center",
                va="bottom",
                fontsize=8,
                color="#777777",
                style="italic",
            )
            continue
        ax.bar(i, v - lo, bottom=lo, width=0.6, color=_face(k), edgecolor=COLOR[k], hatch=HATCH[k], lw=1.2)
        ax.text(i, v + (hi - lo) * 0.01, fmt_acc(v), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(stages)), [s["label"] for s in stages])
    ax.set_ylim(lo, hi)
    ax.yaxis.set_major_formatter(_pct_axis())
    ax.set_ylabel("test accuracy (%)")
    ax.set_xlabel("stage of the flow")
    ax.set_title(title)
    ax.legend(
        handles=_kind_handles(s.get("kind") for s in stages if num(s.get("value")) is not None),
        fontsize=7,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
    )
    _margins(fig, left=0.75, right=1.1, top=0.35, bottom=0.75)
    return _save(fig, out)


# ------------------------------------------------------------------------------ resources

RES_LABEL = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram_18k": "BRAM 18K", "uram": "URAM"}


def resources(series: Sequence[dict[str, Any]], caps: dict[str, Any], out: Path, title: str) -> Path | None:
    """Utilization (% of the board) per resource, one bar group per series.

    ``series``: ``{label, kind, used: {lut: .., ...}}``; vendor and estimate side by side
    when both exist. A red line marks 100 % (the board is full).
    """
    keys = [
        k
        for k in ("lut", "ff", "dsp", "bram_18k", "uram")
        if caps.get(k) and any(num((s.get("used") or {}).get(k)) is not None for s in series)
    ]
    if not keys:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 0.3 * len(keys) * max(1, len(series)) + 0.35 * len(keys) + 1.3))
    h = 0.8 / max(1, len(series))
    vmax = 100.0
    for j, s in enumerate(series):
        k = s.get("kind")
        for i, key in enumerate(keys):
            y = i + (j - (len(series) - 1) / 2) * h
            used = num((s.get("used") or {}).get(key))
            if used is None:
                ax.text(0.5, y, "not run", va="center", fontsize=7, color="#777777")
                continue
            pct = 100.0 * used / caps[key]
            vmax = max(vmax, pct)
            ax.barh(
                y,
                pct,
                height=h * 0.9,
                color=_face(k),
                edgecolor=COLOR[k],
                hatch=HATCH[k],
                lw=1.0,
                label=s["label"] if i == 0 else None,
            )
            ax.text(pct, y, f" {pct:.1f} % ({int(round(used)):,})", va="center", fontsize=7)
    ax.axvline(100, color="#d73027", lw=1, ls="--")
    ax.text(100, len(keys) - 0.52, " board full", color="#d73027", fontsize=7, va="bottom")
    ax.set_yticks(range(len(keys)), [f"{RES_LABEL[k]}\n(of {int(caps[k]):,})" for k in keys])
    ax.set_ylim(len(keys) - 0.5, -0.5)
    ax.set_xlim(0, vmax * 1.3)
    ax.set_xlabel("utilization of the board (% of available)")
    ax.set_title(title)
    fig.legend(fontsize=7, loc="lower center", ncol=2, frameon=False, bbox_to_anchor=(0.5, 0.005))
    _margins(fig, left=1.1, right=0.2, top=0.35, bottom=0.8)
    return _save(fig, out)


# ------------------------------------------------------------------------------ power trace

PHASE_COLOR = {"idle": "#d9d9d9", "warmup": "#fee090", "run": "#abd9e9", "cooldown": "#e0e0e0"}


def power_trace(trace: Any, phases: Sequence[dict[str, Any]], out: Path, title: str, kind: str | None) -> Path | None:
    """Power over time with the phases shaded (idle, warm-up, run ...)."""
    if trace is None or len(trace) == 0:
        return None
    plt = _plt()
    d = trace.decimated()
    fig, ax = plt.subplots(figsize=(7.0, 3.0))
    extra = ["#c2a5cf", "#a6dba0", "#f4a582"]
    used: dict[str, str] = {}
    for seg in phases:
        c = PHASE_COLOR.get(seg["phase"]) or used.get(seg["phase"]) or extra[len(used) % len(extra)]
        lab = None if seg["phase"] in used else f"phase: {seg['phase']}"
        used[seg["phase"]] = c
        ax.axvspan(seg["t_start_s"], max(seg["t_end_s"], seg["t_start_s"] + 1e-9), color=c, alpha=0.6, lw=0, label=lab)
        if seg["t_end_s"] > seg["t_start_s"]:
            ax.hlines(seg["mean_w"], seg["t_start_s"], seg["t_end_s"], colors="#333333", linestyles=":", lw=1)
    ax.plot(
        d.t, d.w, color=COLOR.get(kind, "#333333"), lw=1.0, label=f"power ({KIND_LABEL.get(kind or '', 'unknown')})"
    )
    lo, hi = min(d.w), max(d.w)
    pad = max((hi - lo) * 0.15, 0.05 * max(abs(hi), 1e-3))
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("time since start of the measurement (s)")
    ax.set_ylabel("power (W)")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", ncol=5, frameon=False, bbox_to_anchor=(0, -0.2))
    _margins(fig, left=0.75, right=0.2, top=0.35, bottom=0.95)
    return _save(fig, out)


# ------------------------------------------------------------------------------ log-scale comparisons


def _hbar_log(
    ax: Any, rows: Sequence[dict[str, Any]], key: str, fmt: Any, missing_default: str, labels: bool = True
) -> None:
    vals = [num(r.get(key)) for r in rows]
    good = [v for v in vals if v is not None and v > 0]
    lo = min(good) if good else 1e-6
    hi = max(good) if good else 1.0
    left = 10 ** math.floor(math.log10(lo) - 0.3)
    for i, (r, v) in enumerate(zip(rows, vals)):
        k = r.get("kind")
        if v is None or v <= 0:
            ax.text(left * 1.15, i, (r.get("missing") or missing_default), va="center", fontsize=7, color="#777777")
            continue
        ax.barh(
            i,
            v - left,
            left=left,
            height=0.7,
            color=_face(k),
            edgecolor=COLOR[k],
            hatch=HATCH[k],
            lw=1.4 if r.get("highlight") else 0.8,
        )
        ax.text(v * 1.08, i, fmt(v), va="center", fontsize=7)
    ax.set_xscale("log")
    _no_minor(ax)
    ax.set_xlim(left, 10 ** math.ceil(math.log10(hi) + 1.0))
    ax.set_ylim(len(rows) - 0.5, -0.5)  # text-only rows (missing figures) must stay inside
    if labels:
        ax.set_yticks(range(len(rows)), [r["label"] for r in rows])
        for lab, r in zip(ax.get_yticklabels(), rows):
            if r.get("highlight"):
                lab.set_fontweight("bold")

    ax.grid(axis="x", which="major", color="#eeeeee", lw=0.6)
    ax.set_axisbelow(True)


def _recip(x: Any) -> Any:
    """1/x for the inferences-per-joule axis; matplotlib probes 0 and negatives, which must not warn."""
    import numpy as np

    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, 1.0 / np.where(x > 0, x, 1.0), np.inf)


def energy_comparison(rows: Sequence[dict[str, Any]], out: Path, title: str) -> Path | None:
    """Energy per inference (and, on a second panel, accuracy per joule) on log axes.

    ``rows``: ``{label, kind, uj, acc_per_j, highlight, missing}``; the top axis of the first
    panel reads the same bars as inferences per joule (= 1 / energy).
    """
    if not rows or not any(num(r.get("uj")) for r in rows):
        return None
    plt = _plt()
    has_apj = any(num(r.get("acc_per_j")) for r in rows)
    ncol = 2 if has_apj else 1
    lab_in = _text_width_in(r["label"] for r in rows) + 0.25
    fig, axes = plt.subplots(
        1,
        ncol,
        figsize=(lab_in + (7.2 if has_apj else 4.6), 0.34 * len(rows) + 2.2),
        sharey=True,
        squeeze=False,
        gridspec_kw={"width_ratios": [3, 2][:ncol]},
    )
    j_rows = [dict(r, j=(num(r.get("uj")) or 0) * 1e-6 or None) for r in rows]
    ax = axes[0][0]
    _hbar_log(ax, j_rows, "j", lambda v: fmt_energy_uj(v * 1e6) or "", "not measured")
    ax.xaxis.set_major_formatter(_eng("J"))
    ax.set_xlabel("energy per inference (J, log scale)")
    top = ax.secondary_xaxis("top", functions=(_recip, _recip))
    top.xaxis.set_major_formatter(_eng(""))
    _no_minor(top)
    top.set_xlabel("inferences per joule (1/J, log scale)", fontsize=8)
    if has_apj:
        ax2 = axes[0][1]
        _hbar_log(ax2, rows, "acc_per_j", lambda v: _eng("")(v), "n/a (no accuracy)", labels=False)
        ax2.xaxis.set_major_formatter(_eng(""))
        ax2.set_xlabel("accuracy per joule (1/J, log scale)")
        ax2.tick_params(axis="y", left=False)
    fig.suptitle(title, fontsize=10, fontweight="bold", y=1 - 0.12 / fig.get_size_inches()[1])
    _margins(fig, left=lab_in, right=0.35, top=0.95, bottom=0.95, wspace=0.06)
    fig.legend(
        handles=_kind_handles(r.get("kind") for r in rows if num(r.get("uj"))),
        fontsize=7,
        loc="lower center",
        ncol=6,
        frameon=False,
        bbox_to_anchor=(0.5, 0.005),
    )
    return _save(fig, out)


def latency_comparison(rows: Sequence[dict[str, Any]], out: Path, title: str) -> Path | None:
    """Latency per inference on a log axis: this design (hardware, deployed) vs baselines/references."""
    if not rows or not any(num(r.get("s")) for r in rows):
        return None
    plt = _plt()
    lab_in = _text_width_in(r["label"] for r in rows) + 0.25
    fig, ax = plt.subplots(figsize=(lab_in + 4.8, 0.34 * len(rows) + 1.5))
    _hbar_log(ax, rows, "s", lambda v: fmt_time(v) or "", "not run")
    ax.xaxis.set_major_formatter(_eng("s"))
    ax.set_xlabel("latency per inference (s, log scale; lower is better)")
    ax.set_title(title)
    ax.legend(
        handles=_kind_handles(r.get("kind") for r in rows if num(r.get("s"))),
        fontsize=7,
        loc="lower right",
        frameon=False,
    )
    _margins(fig, left=lab_in, right=0.3, top=0.35, bottom=0.55)
    return _save(fig, out)


# ------------------------------------------------------------------------------ Pareto


def pareto(
    points: Sequence[dict[str, Any]],
    front: Sequence[int],
    out: Path,
    *,
    title: str,
    xlabel: str,
    ylabel: str = "accuracy (%)",
    x_unit: str = "",
    label_all: bool = True,
) -> Path | None:
    """Scatter of ``points`` (``{label, x, y, kind}``; y maximised, x minimised) with the
    Pareto front drawn as a staircase. Points missing x or y are left out (the caller lists them)."""
    pts = [(i, p) for i, p in enumerate(points) if num(p.get("x")) is not None and num(p.get("y")) is not None]
    if not pts:
        return None
    plt = _plt()
    # wider than the axes: the legend sits to their right, where it cannot cover a point
    fig, ax = plt.subplots(figsize=(8.0, 4.2))
    xs = [float(p["x"]) for _, p in pts]
    logx = min(xs) > 0 and max(xs) / min(xs) > 30
    fset = set(front)
    kinds_seen: list[str | None] = []
    x_lo, x_hi = min(xs), max(xs)

    def right_side(x: float) -> bool:
        """Labels of points near the right edge go to their left, so they stay inside the figure."""
        if x_hi <= x_lo:
            return False
        if logx:
            return (math.log(x) - math.log(x_lo)) / (math.log(x_hi) - math.log(x_lo)) > 0.7
        return (x - x_lo) / (x_hi - x_lo) > 0.7

    for i, p in pts:
        k = p.get("kind")
        kinds_seen.append(k)
        on = i in fset
        ax.scatter(
            [p["x"]],
            [p["y"]],
            marker=MARKER[k],
            s=70 if on else 36,
            zorder=3,
            facecolors=COLOR[k] if FILLED[k] else "none",
            edgecolors=COLOR[k],
            linewidths=1.4,
        )
        if label_all or on:
            r = right_side(float(p["x"]))
            ax.annotate(
                str(p.get("label", i)),
                (p["x"], p["y"]),
                textcoords="offset points",
                xytext=(-6, 4) if r else (6, 4),
                ha="right" if r else "left",
                fontsize=7,
                color="#222222" if on else "#666666",
            )
    fr = sorted(
        (float(points[i]["x"]), float(points[i]["y"]))
        for i in front
        if num(points[i].get("x")) is not None and num(points[i].get("y")) is not None
    )
    if fr:
        sx, sy = [fr[0][0]], [fr[0][1]]
        for x, y in fr[1:]:
            sx += [x, x]
            sy += [sy[-1], y]
        ax.plot(sx, sy, color="#555555", lw=1, ls="--", zorder=2, label="Pareto front")
    if logx:
        ax.set_xscale("log")
        _no_minor(ax)
    if x_unit:
        ax.xaxis.set_major_formatter(_eng(x_unit))
    elif not logx:
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda x, _: f"{x:,.0f}"))
    # room for the point labels, which sit to the upper right of each point
    ax.margins(x=0.15, y=0.12)
    ax.yaxis.set_major_formatter(_pct_axis())
    ax.set_xlabel(xlabel + (" (log scale)" if logx else ""))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(color="#eeeeee", lw=0.6)
    ax.set_axisbelow(True)
    from matplotlib.lines import Line2D

    handles = [
        Line2D(
            [],
            [],
            marker=MARKER[k],
            ls="",
            markerfacecolor=COLOR[k] if FILLED[k] else "none",
            markeredgecolor=COLOR[k],
            label=KIND_LABEL.get(k or "", "source unknown"),
        )
        for k in dict.fromkeys(kinds_seen)
    ]
    if fr:
        handles.append(Line2D([], [], color="#555555", ls="--", label="Pareto front"))
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
              frameon=False)
    _margins(fig, left=0.8, right=1.6, top=0.35, bottom=0.6)
    return _save(fig, out)
