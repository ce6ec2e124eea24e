"""Plots for the report (matplotlib, Agg backend, PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

STYLE = {"measured": "#1b7837", "vendor": "#2166ac", "emulated": "#b35806", "estimate": "#8e0152", None: "#777777"}


def source_kind(source: str | None) -> str | None:
    if not source:
        return None
    for k in ("measured", "vendor", "emulated", "estimate"):
        if source.startswith(k):
            return k
    return None


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def accuracy_chain(results: dict[str, Any], out: Path) -> Path:
    plt = _plt()
    acc = results["accuracy"]
    labels = ["float", "quantized\n(QKeras)", "C-sim\n(hls4ml)", "board"]
    vals = [acc.get("float"), acc.get("quantized"), acc.get("csim"), acc.get("board")]
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=110)
    xs = range(len(labels))
    heights = [v if v is not None else 0 for v in vals]
    colors = ["#4d4d4d", "#2166ac", "#b35806", "#1b7837"]
    bars = ax.bar(xs, heights, color=colors)
    for b, v in zip(bars, vals):
        ax.text(b.get_x() + b.get_width() / 2, (v or 0) + 0.01, f"{v:.4f}" if v is not None else "not run",
                ha="center", va="bottom", fontsize=8)
    ax.set_xticks(list(xs), labels)
    known = [v for v in vals if v is not None]
    lo = max(0.0, min(known) - 0.1) if known else 0.0
    ax.set_ylim(lo, 1.05)
    ax.set_ylabel("test accuracy (fraction)")
    ax.set_title(f"Accuracy chain: {results['design']} on {results['board']}")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def utilization(results: dict[str, Any], out: Path) -> Path:
    plt = _plt()
    keys = ["lut", "ff", "dsp", "bram_18k"]
    fig, ax = plt.subplots(figsize=(6, 3.0), dpi=110)
    series = []
    main = results.get("utilization") or {}
    series.append((results.get("resources", {}).get("source"), [main.get(k) for k in keys]))
    est = (results.get("estimate") or {}).get("resources")
    if est and results.get("resources", {}).get("source", "") and not str(results["resources"]["source"]).startswith("estimate"):
        caps = results.get("board_resources") or {}
        series.append(((results.get("estimate") or {}).get("source"),
                       [(est.get(k) / caps[k]) if est.get(k) is not None and caps.get(k) else None for k in keys]))
    width = 0.8 / max(1, len(series))
    for i, (src, vals) in enumerate(series):
        xs = [j + i * width for j in range(len(keys))]
        hv = [100 * v if v is not None else 0 for v in vals]
        ax.bar(xs, hv, width=width, color=STYLE.get(source_kind(src)), label=src or "not known")
        for x, v in zip(xs, vals):
            ax.text(x, (100 * v if v is not None else 0) + 1, f"{100 * v:.1f}%" if v is not None else "n/a",
                    ha="center", fontsize=7)
    ax.axhline(100, color="red", lw=1, ls="--")
    ax.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(keys))], ["LUT", "FF", "DSP", "BRAM 18K"])
    ax.set_ylabel("utilization of the board (%)")
    ax.set_title(f"Resources on {results['board']} ({results.get('part')})")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out
