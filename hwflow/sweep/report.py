"""The sweep's own report: one self-contained HTML page with the Pareto plots and the table.

Used when the report package does not provide ``render_sweep_report``. Plots are PNGs written
next to the page and also embedded (base64) so the page can be mailed on its own. Points on
the Pareto front are drawn filled and joined; infeasible points are crosses; every figure
says where it comes from (estimate, emulated, QTools), because a sweep ranks estimates.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from ..fileio import atomic_write_text


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v != 0 and (abs(v) >= 1e4 or abs(v) < 1e-3):
            return f"{v:.3g}"
        return f"{v:.4g}"
    return html.escape(str(v))


def _pairs(objs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """First objective against each other one (the usual accuracy-vs-cost views), at most 4."""
    if len(objs) < 2:
        return []
    return [(objs[0], o) for o in objs[1:5]]


def _axis_label(obj: dict[str, Any], points: list[dict[str, Any]]) -> str:
    """'lut, estimate:hwflow-analytic-v1 (lower is better)': a ranked figure says where it comes from."""
    sources = sorted({s for e in points if (s := (e.get("sources") or {}).get(obj["metric"]))})
    better = "higher" if obj["goal"] == "maximize" else "lower"
    src = f"\n{', '.join(sources)}" if sources else ""
    return f"{obj['label']} ({better} is better){src}"


def scatter(doc: dict[str, Any], x: dict[str, Any], y: dict[str, Any], out: Path) -> Path | None:
    pts = [e for e in doc["points"] if e["status"] == "ok"]
    xy = [(e, (e.get("metrics") or {}).get(x["metric"]), (e.get("metrics") or {}).get(y["metric"])) for e in pts]
    xy = [(e, a, b) for e, a, b in xy if a is not None and b is not None]
    if not xy:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    boards = sorted({e["board"] for e, _, _ in xy})
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for bi, board in enumerate(boards):
        c = colors[bi % len(colors)]
        mine = [(e, a, b) for e, a, b in xy if e["board"] == board]
        feas = [(a, b) for e, a, b in mine if e.get("feasible") is not False and not e.get("pareto")]
        infeas = [(a, b) for e, a, b in mine if e.get("feasible") is False]
        front = [(a, b) for e, a, b in mine if e.get("pareto")]
        if feas:
            ax.scatter(*zip(*feas), s=28, facecolors="none", edgecolors=c, label=f"{board}")
        if infeas:
            ax.scatter(*zip(*infeas), s=28, marker="x", color=c, alpha=0.6, label=f"{board}: does not fit")
        if front:
            ax.scatter(*zip(*front), s=44, color=c, label=f"{board}: Pareto front", zorder=3)
    # The front in this 2-D view (it is computed over all objectives, so some front points
    # may sit inside this projection: those are better on an objective not shown here).
    front_all = sorted((a, b) for e, a, b in xy if e.get("pareto"))
    if len(front_all) > 1:
        ax.plot(*zip(*front_all), color="0.5", lw=0.8, ls="--", zorder=1)
    for e, a, b in xy:
        ax.annotate(f"p{e['index']}", (a, b), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(_axis_label(x, [e for e, _, _ in xy]))
    ax.set_ylabel(_axis_label(y, [e for e, _, _ in xy]))
    ax.set_title(f"{doc['sweep']}: {y['metric']} vs {x['metric']}")
    ax.legend(fontsize=7, loc="best")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return out


def _distillation(e: dict[str, Any]) -> dict[str, Any]:
    return (((e.get("results") or {}).get("train") or {}).get("distillation")) or {}


def render_html(doc: dict[str, Any], out_dir: Path, filename: str = "report.html") -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    objs = [o for o in doc["objectives"] if o.get("used")] or doc["objectives"]
    images = []
    for x, y in _pairs(objs):
        p = scatter(doc, x, y, out_dir / f"pareto_{x['metric']}_vs_{y['metric']}.png".replace("/", "_"))
        if p is not None:
            images.append(p)
    params = doc.get("parameters") or []
    metric_cols = []
    for e in doc["points"]:
        for m in (e.get("metrics") or {}):
            if m not in metric_cols:
                metric_cols.append(m)
    # Distilled points carry the same student trained without the teacher: show both, so the
    # effect of distillation is read off the table rather than assumed.
    distilled = any(_distillation(e) for e in doc["points"])
    rows = []
    for e in doc["points"]:
        vals = e.get("design") or {}
        cls = "front" if e.get("pareto") else ("bad" if e["status"] != "ok" or e.get("feasible") is False else "")
        cells = [f"p{e['index']}", html.escape(e["board"])] + [_fmt(vals.get(p)) for p in params]
        cells += [_fmt((e.get("metrics") or {}).get(m)) for m in metric_cols]
        if distilled:
            dd = _distillation(e)
            cells += [_fmt(dd.get("accuracy_with")), _fmt(dd.get("accuracy_without")),
                      (f"{dd['gain']:+.4f}" if isinstance(dd.get("gain"), float) else "–")]
        status = e["status"] + (" (cached)" if e.get("cached") else "")
        if e["status"] == "failed":
            first = (e.get("error") or "").strip().splitlines()
            status += ": " + html.escape(first[0][:160] if first else "")
        feas = e.get("feasible")
        notes = "; ".join(e.get("constraints") or [])
        feas_cell = _fmt(feas) + (f" <small>{html.escape(notes)}</small>" if notes else "")
        cells += ["✔" if e.get("pareto") else "", feas_cell, status]
        rows.append(f"<tr class='{cls}'>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = ["point", "board"] + [html.escape(p) for p in params] + [html.escape(m) for m in metric_cols]
    if distilled:
        head += ["QKeras acc. with teacher", "same student without teacher", "distillation effect"]
    head += ["Pareto", "feasible", "status"]
    obj_list = "".join(f"<li><b>{html.escape(o['metric'])}</b> ({o['goal']}): {html.escape(o['description'])}"
                       + ("" if o.get("used") else " <i>— no values, not used</i>") + "</li>"
                       for o in doc["objectives"])
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in doc.get("notes") or [])
    c = doc.get("constraints") or {}
    cons = []
    if c.get("fits"):
        cons.append(f"fits on the board (every utilization ≤ {c.get('max_utilization', 1.0):.0%})")
    for k, lim in (c.get("limits") or {}).items():
        cons.append(f"{k}" + (f" ≥ {lim['min']}" if lim.get("min") is not None else "")
                    + (f" ≤ {lim['max']}" if lim.get("max") is not None else ""))
    imgs = "".join(
        f"<figure><img alt='{html.escape(p.name)}' src='data:image/png;base64,"
        f"{base64.b64encode(p.read_bytes()).decode()}'/><figcaption>{html.escape(p.name)}</figcaption></figure>"
        for p in images)
    front = ", ".join(f"p{i}" for i in doc.get("pareto") or []) or "none"
    run = doc.get("run") or {}
    counts = doc.get("counts") or {}
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>hwflow sweep {html.escape(doc['sweep'])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.85em; }}
td, th {{ border: 1px solid #ccc; padding: 3px 6px; text-align: right; }}
th {{ background: #f0f0f0; }}
tr.front td {{ background: #e8f5e9; font-weight: 600; }}
tr.bad td {{ color: #999; }}
figure {{ display: inline-block; margin: 0 1em 1em 0; }}
small {{ color: #666; font-weight: normal; }}
</style></head><body>
<h1>Sweep {html.escape(doc['sweep'])}</h1>
<p>{html.escape(doc.get('description') or '')}</p>
<p>Base design <code>{html.escape(doc['base'])}</code>, boards {html.escape(', '.join(doc['boards']))},
{len(doc['points'])} points ({counts.get('ok', 0)} ok, {counts.get('failed', 0)} failed,
{counts.get('pending', 0)} pending), each run to <b>{html.escape(str(run.get('to')))}</b>
on {html.escape(str(run.get('scheduler')))} with {run.get('workers')} worker(s).
Sweep file <code>{html.escape(doc['file'])}</code>.</p>
{"<p>Side by side with sources: <a href='report.html'>report.html</a></p>" if filename != "report.html" else ""}
<h2>Pareto front: {front}</h2>
<p>Non-dominated points among those that satisfy the constraints:</p>
<ul>{obj_list}</ul>
<p>Constraints: {html.escape('; '.join(cons) or 'none')}.</p>
{f'<h3>Notes</h3><ul>{notes}</ul>' if notes else ''}
{imgs or '<p><i>No plot: fewer than two objectives with values.</i></p>'}
<h2>All points</h2>
<table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>
{''.join(rows)}
</table>
<p><small>Accuracy is measured on the test split (C-simulation of the firmware when emulated). Resource,
latency and energy figures carry their source in sweep.json (<code>estimate:</code>, <code>vendor:</code>,
<code>measured:</code>); QTools energy is an <code>estimate:qkeras-qtools-horowitz45nm</code> figure (45 nm ASIC
model), useful to rank designs, not a board measurement.</small></p>
</body></html>
"""
    path = out_dir / filename
    atomic_write_text(path, page)
    return path
