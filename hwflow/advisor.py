"""Board advisor (``hwflow estimate DESIGN --board all``): one design estimated on every board,
ranked on ONE named energy basis (issue 16, item 7).

The energy figures are the estimate step's ``energy_bases`` (hwflow/energy: ``batch1_system``,
``batched_system``, ``accelerator``), so the advisor, the flow's console, ``results.json`` and
the report show the same number for the same basis. The default basis is the flow's headline
(``batch1_system``, one sample per driver call, MLPerf Tiny's basis). A board without a figure
on that basis is listed with the reason (no power model, no published driver overhead ...),
never ranked as if its energy were zero.

This module is pure (rows in, ranking/text/plot out); ``hwflow/cli_estimate.py`` runs the flow.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, Sequence

from .energy.bases import BASES, BASIS_LABEL
from .energy.design import fmt_uj

DEFAULT_BASIS = "batch1_system"
RES_LABEL = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram_18k": "BRAM", "uram": "URAM"}


def worst_resource(util: dict[str, Any] | None) -> tuple[str | None, float | None]:
    """The most used resource as ("LUT", 1.4) (a fraction of the board), or (None, None)."""
    known = {k: v for k, v in (util or {}).items() if isinstance(v, (int, float))}
    if not known:
        return None, None
    k = max(known, key=lambda n: known[n])
    return RES_LABEL.get(k, k), float(known[k])


def fmt_util(util: dict[str, Any] | None) -> str:
    name, v = worst_resource(util)
    return f"{name} {100 * v:.0f} %" if name else "n/a"


def _short_reason(note: str | None) -> str:
    """An energy note without its "not estimated:" prefixes (the listing says that already)."""
    s = (note or "no figure").strip()
    for prefix in ("board power not estimated: ", "not estimated: "):
        if s.startswith(prefix):
            s = s[len(prefix):]
    return s


def advisor_row(board: str, part: str | None, est: dict[str, Any], accuracy: float | None,
                basis: str = DEFAULT_BASIS) -> dict[str, Any]:
    """One board's row from the estimate step's estimate.json."""
    if basis not in BASES:
        raise ValueError(f"unknown energy basis {basis!r} (one of {', '.join(BASES)})")
    eb = est.get("energy_bases") or {}
    bases = eb.get("bases") or {}
    fig = bases.get(basis) or {}
    uj = fig.get("uj")
    fits = (est.get("fits") or {}).get("fits")
    note = None
    if uj is None:
        note = fig.get("note") or eb.get("note") or ("the estimate has no energy bases (re-run the estimate step)"
                                                     if not bases else "not estimated on this basis")
    return {
        "board": board, "part": part, "fits": fits, "fit_verdict": (est.get("fit_verdict") or {}).get("verdict"),
        "utilization": (est.get("fits") or {}).get("utilization") or {},
        "latency_s": est.get("latency_s"), "accuracy": accuracy, "source": est.get("source"),
        "basis": basis, "basis_label": BASIS_LABEL[basis],
        "uj_per_inference": uj,
        "accuracy_per_joule": (accuracy / (uj * 1e-6)) if (accuracy is not None and uj) else None,
        "energy_source": fig.get("source"), "energy_note": note,
        "energy_uj": {b: (bases.get(b) or {}).get("uj") for b in BASES},
        "best_batch": (bases.get("batched_system") or {}).get("best_batch"),
        "error": None,
    }


def failed_row(board: str, part: str | None, message: str, basis: str = DEFAULT_BASIS) -> dict[str, Any]:
    """A board on which the flow could not estimate the design (the reason is kept)."""
    return {"board": board, "part": part, "fits": None, "fit_verdict": None, "utilization": {}, "latency_s": None,
            "accuracy": None, "source": None, "basis": basis, "basis_label": BASIS_LABEL[basis],
            "uj_per_inference": None, "accuracy_per_joule": None, "energy_source": None,
            "energy_note": f"estimate failed: {message}", "energy_uj": {b: None for b in BASES},
            "best_batch": None, "error": message}


def rank(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fitting boards first; among them, those with a figure on the basis, by accuracy per joule
    (then energy, then latency); boards without a figure after, by latency; failed last."""
    def key(r: dict[str, Any]) -> tuple:
        has = r["uj_per_inference"] is not None
        return (r["error"] is not None, r["fits"] is not True, not has,
                -(r["accuracy_per_joule"] or 0.0), r["uj_per_inference"] if has else 0.0,
                r["latency_s"] if r["latency_s"] is not None else float("inf"), r["board"])

    return sorted(rows, key=key)


def missing_lines(rows: Sequence[dict[str, Any]], basis: str) -> list[str]:
    """Which boards have no energy figure on ``basis``, grouped by reason, e.g.
    ``4 of 6 boards have no figure on basis batch1_system: the board file cites ... (zcu102, ...)``."""
    missing = [r for r in rows if r["uj_per_inference"] is None]
    if not missing:
        return []
    groups: dict[str, list[str]] = {}
    for r in missing:
        groups.setdefault(_short_reason(r["energy_note"]), []).append(r["board"])
    head = f"{len(missing)} of {len(rows)} boards have no energy figure on basis {basis}"
    return [head + ":"] + [f"  {', '.join(sorted(b))}: {why}" for why, b in groups.items()]


def other_bases_hint(rows: Sequence[dict[str, Any]], basis: str) -> str | None:
    """Which other basis covers more boards (so the user knows --basis exists)."""
    have = {b: sum(1 for r in rows if (r.get("energy_uj") or {}).get(b) is not None) for b in BASES}
    better = [b for b in BASES if b != basis and have[b] > have[basis]]
    if not better:
        return None
    b = max(better, key=lambda n: have[n])
    return f"--basis {b} has a figure for {have[b]} of {len(rows)} boards ({BASIS_LABEL[b]})"


def _num3(v: float | None) -> str:
    return "—" if v is None else f"{v:.3g}"


def _lat(s: float | None) -> str:
    if s is None:
        return "—"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    if s >= 1e-6:
        return f"{s * 1e6:.3g} µs"
    return f"{s * 1e9:.3g} ns"


def fit_word(r: dict[str, Any]) -> str:
    if r["error"]:
        return "FAILED"
    if r.get("fit_verdict") == "may not fit" and r["fits"]:
        return "maybe"
    return {True: "yes", False: "NO", None: "?"}[r["fits"]]


def table_lines(rows: Sequence[dict[str, Any]], basis: str) -> list[str]:
    """The console table: every basis as a column, the ranking one marked with *."""
    cols = {"batch1_system": "batch-1 sys", "batched_system": "batched sys", "accelerator": "accel. only"}
    head = (f"{'board':<12} {'fits':<6} {'max util':<10} {'latency':>9}  "
            + "  ".join(f"{cols[b] + ('*' if b == basis else ''):>12}" for b in BASES) + f"  {'acc/J':>8}")
    out = [head]
    for r in rows:
        e = r.get("energy_uj") or {}
        out.append(f"{r['board']:<12} {fit_word(r):<6} {fmt_util(r['utilization']):<10} {_lat(r['latency_s']):>9}  "
                   + "  ".join(f"{(fmt_uj(e.get(b)) if e.get(b) is not None else '—'):>12}" for b in BASES)
                   + f"  {_num3(r['accuracy_per_joule']):>8}")
    return out


def render_plot(rows: Sequence[dict[str, Any]], basis: str, out: Path, *, design: str) -> Path:
    """Latency vs energy per inference on ``basis``; a red cross for a board the design does not
    fit; the legend outside the axes; the boards left out, and why, written under the plot."""
    from .report.plots import _margins, _plt, _save

    plt = _plt()
    notes = missing_lines(rows, basis)
    wrapped: list[str] = []
    for ln in notes:
        wrapped += textwrap.wrap(ln, 110, subsequent_indent="    ") or [""]
    h = 3.6 + 0.16 * len(wrapped)
    fig, ax = plt.subplots(figsize=(8.4, h))
    shown = [r for r in rows if r["uj_per_inference"] is not None and r["latency_s"]]
    styles = {True: dict(marker="o", color="#2166ac", label="fits"),
              False: dict(marker="X", color="#d62728", label="does not fit"),
              None: dict(marker="s", color="#7f7f7f", label="fit unknown")}
    used: list[Any] = []
    lat = [r["latency_s"] for r in shown]
    scale, unit = next(((f, u) for f, u in ((1e3, "ms"), (1e6, "µs"), (1e9, "ns"))
                        if lat and min(lat) * f >= 1.0), (1e9, "ns"))
    for r in shown:
        st = styles[r["fits"]]
        x = r["latency_s"] * scale
        ax.scatter([x], [r["uj_per_inference"]], marker=st["marker"], s=60, color=st["color"], zorder=3)
        ax.annotate(r["board"], (x, r["uj_per_inference"]), textcoords="offset points", xytext=(6, 4), fontsize=8)
        if r["fits"] not in used:
            used.append(r["fits"])
    if shown:
        ys = [r["uj_per_inference"] for r in shown]
        xs = [x * scale for x in lat]
        if max(xs) / min(xs) > 10:
            ax.set_xscale("log")
        if max(ys) / min(ys) > 10:
            ax.set_yscale("log")
        ax.margins(x=0.25, y=0.25)
    else:
        ax.text(0.5, 0.5, f"no board has an energy figure on basis {basis}", ha="center", va="center",
                transform=ax.transAxes, color="#666666")
        ax.set_xticks([])
        ax.set_yticks([])
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="", marker=styles[k]["marker"], color=styles[k]["color"], label=styles[k]["label"])
               for k in (True, False, None) if k in used]
    if handles:
        ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False,
                  borderaxespad=0.0)
    ax.set_xlabel(f"estimated latency ({unit if shown else 's'})")
    ax.set_ylabel("energy per inference (µJ)")
    ax.set_title(f"Board advisor: {design} — energy on basis {basis} (estimates)")
    ax.grid(color="#eeeeee", lw=0.6)
    ax.set_axisbelow(True)
    sub = f"basis {basis}: {BASIS_LABEL[basis]}"
    fig.text(0.01, 0.01 + 0.16 * len(wrapped) / h + 0.02, sub, fontsize=7.5, color="#333333", va="bottom")
    if wrapped:
        fig.text(0.01, 0.01, "\n".join(wrapped), fontsize=7.5, color="#333333", va="bottom", linespacing=1.25)
    _margins(fig, left=0.8, right=1.6, top=0.4, bottom=0.75 + 0.16 * len(wrapped))
    return _save(fig, out)
