"""The like-for-like energy table of the report, its one-sentence verdict, and the batch-sweep plot.

Columns are the three bases (batch-1 system, batched system, accelerator only); rows are this
design on its board, the CPU/GPU baselines of this model and published references, each figure
placed in the column of the basis it was measured or modelled on (a reference measured at
batch 1 goes under batch-1 system, one measured at a large batch under batched system), so no
comparison crosses bases. Pure data here; the report section renders it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .bases import BASES
from .design import fmt_uj

COLUMNS = {"batch1_system": "batch-1 system", "batched_system": "batched system (best batch)",
           "accelerator": "accelerator only"}


def _cell(uj: float | None, source: str | None, note: str | None = None, batch: int | None = None) -> dict[str, Any]:
    return {"uj": uj, "source": source, "note": note, "batch": batch}


def like_for_like(results: dict[str, Any], anchors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``{"columns", "rows": [{"label", "kind", "cells": {basis: cell}, "cite"}], "verdict"}``."""
    model = results.get("energy_model") or {}
    bases = model.get("bases") or {}
    board = results.get("board") or "board"
    rows: list[dict[str, Any]] = []
    design_cells = {}
    for b in BASES:
        f = bases.get(b) or {}
        design_cells[b] = _cell(f.get("uj"), f.get("source"), f.get("note"),
                                f.get("best_batch") if b == "batched_system" else (1 if b == "batch1_system" else None))
    e = results.get("energy") or {}
    if str(e.get("source") or "").startswith("measured") and e.get("uj_per_inference") is not None:
        design_cells["batched_system"] = _cell(e["uj_per_inference"], e.get("source"), e.get("basis_note"))
    rows.append({"label": f"this design on {board}", "kind": "design", "cells": design_cells,
                 "cite": model.get("timing_source") or ""})
    base = results.get("baseline") or {}
    for dev in ("cpu", "gpu"):
        d = base.get(dev) or {}
        if d.get("status") == "no GPU" or not d:
            rows.append({"label": dev.upper(), "kind": "baseline",
                         "cells": {b: _cell(None, None, d.get("note") or "not run") for b in BASES},
                         "cite": d.get("note") or "not run"})
            continue
        name = d.get("device_name") or dev.upper()
        rows.append({"label": f"{dev.upper()} baseline ({name}), this model", "kind": "baseline",
                     "cells": {"batch1_system": _cell(d.get("uj_per_inference_batch1"), d.get("source"), d.get("note"), 1),
                               "batched_system": _cell(d.get("uj_per_inference_batched"), d.get("source"), d.get("note"),
                                                       d.get("best_batch")),
                               "accelerator": _cell(None, None, "no separable accelerator")},
                     "cite": d.get("framework") or ""})
    for a in anchors or []:
        uj = a.get("uj_per_inference")
        basis = "batch1_system" if (a.get("batch") in (1, None)) else "batched_system"
        cells = {b: _cell(None, None, "—") for b in BASES}
        cells[basis] = _cell(uj, "reference", None, a.get("batch"))
        rows.append({"label": f"{a.get('system')}: {a.get('task')}", "kind": "reference", "cells": cells,
                     "cite": a.get("source") or ""})
    return {"columns": COLUMNS, "rows": rows, "verdict": verdict(rows)}


def verdict(rows: list[dict[str, Any]]) -> str:
    """One sentence: which is better for this model, on which basis, and why."""
    design = next((r for r in rows if r["kind"] == "design"), None)
    cpu = next((r for r in rows if r["kind"] == "baseline" and r["label"].startswith("CPU baseline")), None)
    if not design or not cpu:
        return "No like-for-like verdict: the CPU baseline or this design's energy is missing."
    parts = []
    for b in ("batch1_system", "batched_system"):
        f, c = design["cells"][b].get("uj"), cpu["cells"][b].get("uj")
        if f is None or c is None:
            continue
        winner = "the FPGA" if f < c else "the CPU"
        ratio = max(f, c) / min(f, c) if min(f, c) > 0 else float("inf")
        parts.append(f"on the {COLUMNS[b]} basis {winner} is better by {ratio:.3g}x "
                     f"({fmt_uj(f)} vs {fmt_uj(c)})")
    if not parts:
        return "No like-for-like verdict: no basis has both an FPGA and a CPU figure."
    why = ("at batch 1 the FPGA's time is mostly the host driver's per-call overhead, not the "
           "accelerator's; batching amortises it until the DMA stream rate bounds the time")
    return "For this model, " + "; ".join(parts) + f" - {why}."


def sweep_plot(results: dict[str, Any], out: Path, title: str = "Energy per inference vs batch size") -> Path | None:
    """FPGA (modelled) and CPU/GPU (measured time) curves of energy per inference vs batch size."""
    model = results.get("energy_model") or {}
    fpga = [(p["batch"], p["uj"]) for p in (model.get("curve") or []) if p.get("uj")]
    series = []
    if fpga:
        series.append((f"this design on {results.get('board')} ({_src(model)})", fpga, "-"))
    for dev, d in (results.get("baseline") or {}).items():
        pts = [(p["batch"], p["uj"]) for p in (d.get("sweep") or []) if p.get("uj")]
        if pts:
            series.append((f"{dev.upper()} baseline ({d.get('source')})", pts, "--"))
    if not series:
        return None
    from ..report import plots  # matplotlib, on the Agg backend, imported once

    plt = plots._plt()
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    for label, pts, ls in series:
        xs, ys = zip(*pts)
        ax.plot(xs, ys, ls, marker="o", ms=3, label=label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size (samples per call)")
    ax.set_ylabel("energy per inference (µJ)")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return plots._save(fig, out)


def _src(model: dict[str, Any]) -> str:
    b = (model.get("bases") or {}).get("batch1_system") or {}
    return "estimate" if str(b.get("source") or "").startswith("estimate") else (b.get("source") or "model")


def report_blocks(results: dict[str, Any], anchors: list[dict[str, Any]] | None, out_dir: Path) -> list[Any]:
    """The report's opening blocks of the energy section: the like-for-like table (bases as
    columns, every figure with its source), the one-sentence verdict, and the sweep plot."""
    from ..report.doc import Image, Missing, Para, Table, V

    t = like_for_like(results, anchors)
    rows = []
    for row in t["rows"]:
        cells = []
        for b in BASES:
            c = row["cells"][b]
            text = None
            if c.get("uj") is not None:
                text = fmt_uj(c["uj"])
                if b == "batched_system" and c.get("batch") and c["batch"] != 1:
                    text += f" (batch {c['batch']:,})"
            kind = "reference" if row["kind"] == "reference" else None
            cells.append(V(text, source=c.get("source") if c.get("source") != "reference" else None, kind=kind,
                           missing=(c.get("note") or "—") if row["kind"] != "reference" else "—", badge=True))
        rows.append([row["label"], *cells, row.get("cite") or ""])
    blocks: list[Any] = [
        Table(["system", *[t["columns"][b] for b in BASES], "citation / basis of timing"], rows,
              caption="Like for like: each figure sits in the column of the basis it was measured or modelled "
                      "on (batch-1 system = driver + DMA + compute at board power, what MLPerf Tiny measures; "
                      "batched system = the best batch size; accelerator only = II x clock x board power). "
                      "References run other models (ANCHORS.md)."),
        Para([t["verdict"]]),
    ]
    try:
        png = sweep_plot(results, out_dir / "energy_sweep.png")
    except Exception as exc:  # noqa: BLE001 - a plot failure is reported, not raised
        blocks.append(Missing(f"energy vs batch size plot could not be drawn ({type(exc).__name__}: {exc})"))
        png = None
    if png:
        blocks.append(Image(png, "energy per inference vs batch size",
                            "Energy per inference vs batch size: this design (modelled: cited DMA and driver "
                            "figures, board power with its dynamic part) and the CPU/GPU baselines of this model "
                            "(time measured on this host; energy measured or estimated, as labelled)."))
    return blocks
