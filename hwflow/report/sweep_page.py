"""The one report page of a design-space sweep (reports/sweeps/<sweep>/report.html).

The same page as ``hwflow report --compare`` (runs side by side with their sources, the
accuracy-vs-LUT and accuracy-vs-energy fronts), plus what only a sweep has: its own objectives
plotted against each other (axes name each figure's source, the sweep's front filled and joined,
points that do not fit drawn as crosses), its objectives, constraints and notes, and each point's
status and feasibility.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..errors import BadInput
from ..fileio import atomic_write_json, read_json
from .compare import render_comparison
from .doc import Image, Missing, Para, Section
from .objectives import pareto_front, parse_objective
from .plots import _plt
from .render import readable
from .sources import get


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(d, Mapping):
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
    else:
        out[prefix[:-1]] = d
    return out


def _axis_label(obj: Mapping[str, Any], points: list[Mapping[str, Any]]) -> str:
    """'lut (lower is better)' + the sources of the plotted figures: a ranked figure says where it comes from."""
    metric = str(obj.get("metric"))
    sources = sorted({s for e in points if (s := (e.get("sources") or {}).get(metric))})
    better = "higher" if obj.get("goal") == "maximize" else "lower"
    src = f"\n{', '.join(sources)}" if sources else ""
    return f"{obj.get('label') or metric} ({better} is better){src}"


def objective_scatter(doc: Mapping[str, Any], x: Mapping[str, Any], y: Mapping[str, Any], out: Path) -> Path | None:
    """One sweep objective against another; None when no point has both figures."""
    pts = [e for e in doc["points"] if isinstance(e, Mapping) and e.get("status", "ok") == "ok"]
    xy = [(e, (e.get("metrics") or {}).get(x["metric"]), (e.get("metrics") or {}).get(y["metric"])) for e in pts]
    xy = [(e, a, b) for e, a, b in xy if a is not None and b is not None]
    if not xy:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.6, 4.2))
    boards = sorted({str(e.get("board")) for e, _, _ in xy})
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for bi, board in enumerate(boards):
        c = colors[bi % len(colors)]
        mine = [(e, a, b) for e, a, b in xy if str(e.get("board")) == board]
        feas = [(a, b) for e, a, b in mine if e.get("feasible") is not False and not e.get("pareto")]
        infeas = [(a, b) for e, a, b in mine if e.get("feasible") is False]
        front = [(a, b) for e, a, b in mine if e.get("pareto")]
        if feas:
            ax.scatter(*zip(*feas), s=28, facecolors="none", edgecolors=c, label=board)
        if infeas:
            ax.scatter(*zip(*infeas), s=28, marker="x", color=c, alpha=0.6, label=f"{board}: does not fit")
        if front:
            ax.scatter(*zip(*front), s=44, color=c, label=f"{board}: Pareto front", zorder=3)
    # The front is computed over all objectives: some front points may sit inside this 2-D view.
    front_all = sorted((a, b) for e, a, b in xy if e.get("pareto"))
    if len(front_all) > 1:
        ax.plot(*zip(*front_all), color="0.5", lw=0.8, ls="--", zorder=1)
    for e, a, b in xy:
        ax.annotate(f"#{e.get('index')}", (a, b), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(_axis_label(x, [e for e, _, _ in xy]))
    ax.set_ylabel(_axis_label(y, [e for e, _, _ in xy]))
    ax.set_title(f"{doc.get('sweep') or doc.get('name') or 'sweep'}: {y['metric']} vs {x['metric']}")
    # outside the axes: a legend inside may cover points
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False)
    fig.subplots_adjust(right=0.72)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return out


def _objectives_section(doc: Mapping[str, Any], out: Path) -> Section | None:
    objs = [o for o in doc.get("objectives") or [] if isinstance(o, Mapping) and o.get("metric")]
    if not objs:
        return None
    s = Section("objectives", "The sweep's objectives")
    used = [o for o in objs if o.get("used", True)] or objs
    for old in out.glob("sweep_*_vs_*.png"):
        old.unlink()
    drawn = 0
    for x in used[1:5]:   # the first objective against each other one (accuracy vs costs), at most 4
        y = used[0]
        name = f"sweep_{x['metric']}_vs_{y['metric']}.png".replace("/", "_")
        try:
            png = objective_scatter(doc, x, y, out / name)
        except Exception as exc:  # noqa: BLE001 - a plot failure is reported, not raised
            s.blocks.append(Missing(f"{y['metric']} vs {x['metric']}: could not be drawn ({type(exc).__name__}: {exc})"))
            continue
        if png:
            drawn += 1
            s.blocks.append(Image(png, f"{y['metric']} vs {x['metric']}",
                                  "Filled: the sweep's Pareto front (over all objectives), joined by the dashed "
                                  "line; hollow: other points; crosses: do not fit."))
    if not drawn:
        s.blocks.append(Missing("No objective plot: fewer than two objectives with values."))
    for o in objs:
        s.blocks.append(Para([f"{o['metric']} ({o.get('goal') or '?'}): {o.get('description') or ''}"
                              + ("" if o.get("used", True) else " — no values, not used")], "small"))
    c = doc.get("constraints") or {}
    cons = []
    if c.get("fits"):
        cons.append(f"fits on the board (every utilization ≤ {100 * c.get('max_utilization', 1.0):.0f} %)")
    for k, lim in (c.get("limits") or {}).items():
        cons.append(f"{k}" + (f" ≥ {lim['min']}" if lim.get("min") is not None else "")
                    + (f" ≤ {lim['max']}" if lim.get("max") is not None else ""))
    s.blocks.append(Para([f"Constraints: {'; '.join(cons) or 'none'}."], "small"))
    for n in doc.get("notes") or []:
        s.blocks.append(Para([f"Note: {n}"], "small muted"))
    return s


def _status(e: Mapping[str, Any]) -> str:
    st = str(e.get("status") or "ok") + (" (cached)" if e.get("cached") else "")
    if e.get("status") == "failed":
        first = (e.get("error") or "").strip().splitlines()
        st += ": " + (first[0][:160] if first else "")
    return st


def render_sweep_report(sweep_json: str | Path | Mapping[str, Any], out_dir: str | Path) -> dict[str, Any]:
    """Report of a design-space sweep (docs/contract.md: ``{"points": [{"design": {overrides}, "board",
    "results"}], "pareto": [indices], "objectives": [...]}``) into ``out_dir``.

    The sweep's own front (``pareto``, computed from ``objectives`` when absent) is marked in the
    table; accuracy-vs-LUT and accuracy-vs-energy fronts are drawn as for ``--compare``.
    Returns the compare.json object plus ``"sweep_pareto"``.
    """
    doc = read_json(sweep_json) if isinstance(sweep_json, (str, Path)) else dict(sweep_json)
    if not isinstance(doc, Mapping) or not isinstance(doc.get("points"), list):
        raise BadInput(
            f"{sweep_json if isinstance(sweep_json, (str, Path)) else 'sweep'}: expected an object with a 'points' list"
        )
    points = [p for p in doc["points"] if isinstance(p, Mapping)]
    objectives = list(doc.get("objectives") or [])
    given = doc.get("pareto")
    if isinstance(given, list) and all(isinstance(i, int) for i in given):
        front = sorted(i for i in given if 0 <= i < len(points))
    elif objectives:
        front = pareto_front(points, objectives)
    else:
        front = []
    runs, over_keys = [], []
    flat = [_flatten(p.get("design") or {}) for p in points]
    for f in flat:
        for k in f:
            if k not in over_keys:
                over_keys.append(k)
    for i, p in enumerate(points):
        res = dict(p.get("results") or {})
        res.setdefault("board", p.get("board"))
        runs.append({"label": f"#{i}", "results": res, "path": None})
    extra = [(k, [str(f.get(k, "—")) for f in flat]) for k in over_keys]
    extra.append(("board", [str(p.get("board") or get(p, "results.board") or "—") for p in points]))
    extra.append(("sweep front", ["★" if i in set(front) else "" for i in range(len(points))]))
    if any("status" in p for p in points):
        extra.append(("status", [_status(p) for p in points]))
    if any("feasible" in p for p in points):
        extra.append(("feasible", [{True: "yes", False: "NO"}.get(p.get("feasible"), "not checked")
                                   + ("" if not p.get("constraints") else f" ({'; '.join(p['constraints'])})")
                                   for p in points]))
    dist = [get(p, "results.train.distillation") or {} for p in points]
    if any(dist):
        extra.append(("distillation effect", [f"{d['gain']:+.4f}" if isinstance(d.get("gain"), float) else "—"
                                              for d in dist]))
    name = doc.get("name") or (Path(sweep_json).parent.name if isinstance(sweep_json, (str, Path)) else "sweep")
    objs_txt = ", ".join(f"{k} ({s[:3]})" for k, s in (parse_objective(o) for o in objectives))
    counts = doc.get("counts") or {}
    run = doc.get("run") or {}
    lines = [f"{len(points)} points; objectives: {objs_txt or 'none given'}; "
             f"★ marks the sweep's Pareto front ({len(front)} points)."]
    if doc.get("description"):
        lines.insert(0, str(doc["description"]))
    if counts or run:
        lines.append(f"{counts.get('ok', 0)} ok, {counts.get('failed', 0)} failed, {counts.get('pending', 0)} pending; "
                     f"each point run to '{run.get('to')}' on {run.get('scheduler')} with {run.get('workers')} "
                     f"worker(s); base design {doc.get('base')}, sweep file {doc.get('file')}.")
    intro = [Para([ln], "small") for ln in lines]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    objective_sec = _objectives_section(doc, out)
    src_txt = str(sweep_json) if isinstance(sweep_json, (str, Path)) else "sweep"
    summary = render_comparison(
        runs,
        out,
        title=f"Sweep {name}",
        extra_cols=extra,
        intro=intro,
        label_all=len(points) <= 15,
        subtitle=f"{len(points)} points · {src_txt}",
        extra_sections=[objective_sec] if objective_sec else [],
    )
    summary["sweep_pareto"] = front
    summary["objectives"] = [list(parse_objective(o)) for o in objectives]
    atomic_write_json(out / "compare.json", summary)
    readable(out / "compare.json")
    return summary
