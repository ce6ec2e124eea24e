"""Running a sweep: expand, skip what is done, dispatch the rest, rank, write, report.

Every point has its own work folder ``build/sweeps/<sweep>/points/<hash>/`` named by the
content hash of its resolved design and board, so the flow's per-step cache does the rest:
an interrupted sweep resumes where it stopped, and two sweeps that share a point share its
work. Before dispatching, the parent checks each point's flow cache itself (the step keys
are cheap to compute: no TensorFlow), so finished points are not even sent to a worker.

sweep.json is rewritten (atomically) after every finished point, so what has been computed
is visible, and survives, while the sweep is still running.
"""

from __future__ import annotations

import csv
import io
import sys
import time
from pathlib import Path
from typing import Any, Callable

from .._version import __version__
from ..config import load_board
from ..errors import BadInput, ToolMissing
from ..fileio import atomic_write_json, atomic_write_text, read_json
from ..flow import STEPS, Options, _load_steps, make_context, up_to_date
from ..pareto import pareto_indices
from ..paths import default_build_dir, project_root, reports_dir
from ..report.sweep_page import render_sweep_report
from .executor import check_scheduler, cpu_count, run_dask, run_local, threads_per_worker
from .metrics import describe_metric, evaluate_constraints, metric_label, metric_source, read_metric
from .spec import Point, Sweep, expand_points
from .worker import POINT_FILE, QTOOLS_FILE

Log = Callable[[str], None]


def sweep_dir(sweep_name: str, build_dir: Path | None = None) -> Path:
    return (Path(build_dir) if build_dir else default_build_dir()) / "sweeps" / sweep_name


def sweep_report_dir(sweep_name: str) -> Path:
    return reports_dir() / "sweeps" / sweep_name


def _stderr_log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- which step

def estimate_available(point: Point) -> tuple[bool, str | None]:
    """Whether the estimate step is a real one here (its pre-flight passes), and why not."""
    _load_steps()
    spec = STEPS.get("estimate")
    if spec is None:
        return False, "no estimate step"
    if spec.preflight is None:
        return True, None
    ctx = make_context(point.design, load_board(point.board), Options(quiet=True))
    try:
        spec.preflight(ctx)
    except ToolMissing as exc:
        return False, exc.message.splitlines()[0]
    except Exception as exc:  # noqa: BLE001 - a pre-flight that cannot run here means: not available
        return False, f"{type(exc).__name__}: {exc}"
    return True, None


def resolve_to(sweep: Sweep, points: list[Point]) -> tuple[str, list[str]]:
    """The last flow step of every point. ``auto`` = estimate where it exists, else emulate."""
    want = sweep.spec.to
    if want not in ("auto", "estimate") or not points:
        return want, []
    ok, why = estimate_available(points[0])
    if ok:
        return "estimate", []
    if want == "estimate":
        raise ToolMissing(f"{sweep.path}: to: estimate, but the estimate step is not available ({why})",
                          hint="use to: emulate (or to: auto) to rank on accuracy and QTools energy meanwhile")
    return "emulate", [f"the estimate step is not available ({why}); points ran to 'emulate', so resource, "
                       "latency and energy estimates are unknown (null), not invented"]


# --------------------------------------------------------------------------- cache

def cached_record(point: Point, workdir: Path, to: str, engine: str) -> dict[str, Any] | None:
    """The point's saved record if every step up to ``to`` is complete under the current keys."""
    p = workdir / POINT_FILE
    if not p.exists() or not (workdir / "results.json").exists():
        return None
    try:
        rec = read_json(p)
    except (OSError, ValueError):
        return None
    if rec.get("status") != "ok" or rec.get("to") != to:
        return None
    ctx = make_context(point.design, load_board(point.board), Options(engine=engine, quiet=True))
    ctx.workdir = workdir
    try:
        if not up_to_date(ctx, to):   # the flow's own cache check, nothing re-implemented here
            return None
    except Exception:  # noqa: BLE001 - if the keys cannot be computed here, let a worker decide
        return None
    try:
        q = read_json(workdir / QTOOLS_FILE)
        if q.get("train_key") != ctx.keys.get("train"):
            return None
    except (OSError, ValueError):
        return None
    return rec


# --------------------------------------------------------------------------- run

def run_sweep(sweep: Sweep, *, workers: int = 1, scheduler: str | None = None, build_dir: Path | None = None,
              log: Log = _stderr_log, report: bool = True, report_dir: Path | None = None) -> dict[str, Any]:
    """Run (or resume) a sweep; return the sweep.json document (also written to disk).

    ``report_dir`` defaults to reports/sweeps/<sweep>/ (also with ``build_dir``, as for designs).
    """
    if workers < 1:
        raise BadInput(f"--workers {workers}: give 1 or more")
    check_scheduler(scheduler)
    t_start = time.monotonic()
    points = expand_points(sweep)
    to, notes = resolve_to(sweep, points)
    out_dir = sweep_dir(sweep.name, build_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    root = str(project_root())
    threads = 1 if (scheduler and scheduler != "local-dask") else threads_per_worker(workers)
    engine = sweep.spec.engine
    for n in notes:
        log(f"[sweep] note: {n}")

    records: dict[str, dict[str, Any]] = {}
    unique: dict[str, Point] = {}
    for p in points:
        unique.setdefault(p.id, p)
    tasks = []
    for pid, p in unique.items():
        workdir = out_dir / "points" / pid
        rec = cached_record(p, workdir, to, engine)
        if rec is not None:
            rec["cached"] = True
            records[pid] = rec
            continue
        tasks.append({"id": pid, "index": p.index, "board": p.board, "values": p.values,
                      "design_data": p.design_data, "source": str(sweep.base_path), "workdir": str(workdir),
                      "to": to, "engine": engine, "threads": threads, "root": root})
    where = (f"Dask at {scheduler}" if scheduler and scheduler != "local-dask"
             else f"a Dask LocalCluster of {workers}" if scheduler else f"{workers} local worker process(es)")
    log(f"[sweep] {sweep.name}: {len(points)} point(s) ({len(unique)} distinct) up to '{to}'; "
        f"{len(records)} already done, {len(tasks)} to run on {where}, {threads} thread(s) each")
    meta = {"workers": workers, "scheduler": scheduler or "local", "threads_per_worker": threads,
            "cpu_count": cpu_count(), "to": to}
    doc = assemble(sweep, points, records, meta, notes)
    write_outputs(sweep, doc, out_dir)
    done = 0
    t_run = time.monotonic()
    if tasks:
        if scheduler:
            stream = run_dask(tasks, scheduler, workers, root)
        else:
            stream = run_local(tasks, workers, root)
        try:
            for rec in stream:
                done += 1
                rec["cached"] = False
                records[rec["id"]] = rec
                log(_progress_line(sweep, rec, done, len(tasks)))
                doc = assemble(sweep, points, records, meta, notes)
                write_outputs(sweep, doc, out_dir)
        except KeyboardInterrupt:
            log(f"[sweep] interrupted after {done}/{len(tasks)} point(s); run the same command again to "
                "resume (finished points are kept)")
            raise
    meta["run_s"] = round(time.monotonic() - t_run, 3)
    meta["wall_s"] = round(time.monotonic() - t_start, 3)
    meta["points_run"] = len(tasks)
    meta["points_cached"] = len(unique) - len(tasks)
    doc = assemble(sweep, points, records, meta, notes)
    write_outputs(sweep, doc, out_dir)
    if report:
        rdir = Path(report_dir) if report_dir else sweep_report_dir(sweep.name)
        doc["report"] = str(render_report(doc, rdir, log))
        write_outputs(sweep, doc, out_dir)
    return doc


def _progress_line(sweep: Sweep, rec: dict[str, Any], done: int, total: int) -> str:
    vals = point_values(rec.get("design"))
    head = f"[sweep] {done}/{total} p{rec.get('index')} {rec.get('board')} {vals}".rstrip()
    if rec.get("status") != "ok":
        first = (rec.get("error") or "").strip().splitlines()[:1]
        return f"{head}: FAILED ({first[0] if first else 'no message'}) after {rec.get('duration_s', 0):.1f} s"
    figs = []
    basis = ((rec.get("results") or {}).get("energy") or {}).get("basis")
    for o in sweep.spec.objectives:
        v = read_metric(o.metric, rec)
        # an energy figure names its basis (results.json energy.basis), as everywhere on the console
        figs.append(f"{o.metric} {_fmt(v)}" + (f" [{basis}]" if o.metric == "energy" and v is not None and basis
                                                else ""))
    verdict = fit_verdict(rec.get("results") or {}, rec.get("board"), sweep.spec.constraints)
    return f"{head}: {verdict} in {rec.get('duration_s', 0):.1f} s; " + ", ".join(figs)


def fit_verdict(results: dict[str, Any], board: str | None, constraints: Any) -> str:
    """"ok" only for a point that fits its board (and the sweep's utilization limit); else what is
    over, e.g. "does not fit pynq-z2: LUT 140 %" (issue 16: a sweep never says ok for such a point)."""
    util = results.get("utilization") or {}
    names = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram_18k": "BRAM"}
    over = [(names[k], v) for k, v in util.items() if k in names and isinstance(v, (int, float)) and v > 1.0]
    if over:
        return f"does not fit {board}: " + ", ".join(f"{n} {100 * v:.0f} %" for n, v in over)
    limit = getattr(constraints, "max_utilization", None)
    if getattr(constraints, "fits", False) and isinstance(limit, (int, float)) and limit < 1.0:
        high = [(names[k], v) for k, v in util.items() if k in names and isinstance(v, (int, float)) and v > limit]
        if high:
            return (f"fits {board} but above the sweep's {100 * limit:.0f} % limit: "
                    + ", ".join(f"{n} {100 * v:.0f} %" for n, v in high))
    return "ok"


def point_values(design: dict[str, Any] | None) -> str:
    """A point's swept values for the console, floats rounded (a random search draws 0.00123456789...)."""
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in (design or {}).items())


def _fmt(v: float | None) -> str:
    if v is None:
        return "n/a"
    if abs(v) >= 1000 or (abs(v) < 0.01 and v != 0):
        return f"{v:.3g}"
    return f"{v:.4g}"


# --------------------------------------------------------------------------- assemble

def assemble(sweep: Sweep, points: list[Point], records: dict[str, dict[str, Any]], meta: dict[str, Any],
             notes: list[str]) -> dict[str, Any]:
    """The sweep.json document: points in order, their metrics, feasibility and the Pareto front."""
    spec = sweep.spec
    c = spec.constraints
    metric_names = [o.metric for o in spec.objectives] + [m for m in c.limits if m not in
                                                          {o.metric for o in spec.objectives}]
    out_points = []
    for p in points:
        rec = records.get(p.id)
        entry: dict[str, Any] = {"index": p.index, "id": p.id, "design": p.values, "board": p.board}
        if rec is None:
            entry.update({"status": "pending", "results": None})
        else:
            entry.update({"status": rec.get("status"), "cached": bool(rec.get("cached")),
                          "duration_s": rec.get("duration_s"), "workdir": rec.get("workdir"),
                          "results": rec.get("results")})
            if rec.get("status") != "ok":
                entry["error"] = rec.get("error")
                entry["log"] = rec.get("log")
        if entry["status"] == "ok":
            entry["metrics"] = {m: read_metric(m, entry) for m in metric_names}
            entry["sources"] = {m: metric_source(m, entry) for m in metric_names}
            feasible, why = evaluate_constraints(entry, c.fits, c.max_utilization, c.limits)
            entry["feasible"] = feasible
            entry["constraints"] = why
        out_points.append(entry)

    # Objectives without a single known value cannot rank anything: leave them out, say so.
    notes = list(notes)
    ok = [e for e in out_points if e["status"] == "ok"]
    used = []
    for o in spec.objectives:
        if ok and all(e["metrics"].get(o.metric) is None for e in ok):
            notes.append(f"objective '{o.metric}' has no value on any point "
                         f"({describe_metric(o.metric)}); left out of the Pareto front")
        else:
            used.append(o)
    candidates = [e for e in ok if e.get("feasible") is not False
                  and all(e["metrics"].get(o.metric) is not None for o in used)]
    missing = [e["index"] for e in ok if e.get("feasible") is not False and e not in candidates]
    if missing:
        notes.append(f"point(s) {missing} lack a value for some objective and are not ranked")
    if ok and any(e.get("feasible") is None for e in ok):
        notes.append("some constraints could not be checked (figure unknown): those points are kept, "
                     "flagged 'not checked'")
    pareto: list[int] = []
    if used and candidates:
        rows = [[e["metrics"][o.metric] for o in used] for e in candidates]
        pareto = sorted(candidates[i]["index"] for i in pareto_indices(rows, [o.goal for o in used]))
    for e in out_points:
        e["pareto"] = e["index"] in pareto
    counts = {s: sum(1 for e in out_points if e["status"] == s) for s in ("ok", "failed", "pending")}
    return {
        "sweep": spec.name, "name": spec.name, "description": spec.description, "file": str(sweep.path),
        "base": str(sweep.base_path), "boards": spec.boards, "hwflow": __version__,
        "parameters": list(spec.search.parameters), "search": spec.search.model_dump(mode="json"),
        "objectives": [{"metric": o.metric, "goal": o.goal, "label": metric_label(o.metric),
                        "description": describe_metric(o.metric), "used": o in used} for o in spec.objectives],
        "constraints": c.model_dump(mode="json"),
        "points": out_points, "pareto": pareto, "counts": counts, "notes": notes, "run": meta,
    }


# --------------------------------------------------------------------------- outputs

def write_outputs(sweep: Sweep, doc: dict[str, Any], out_dir: Path) -> None:
    atomic_write_json(out_dir / "sweep.json", doc)
    atomic_write_text(out_dir / "sweep.csv", to_csv(doc))


def to_csv(doc: dict[str, Any]) -> str:
    params = doc.get("parameters") or []
    metrics: list[str] = []
    for e in doc["points"]:
        for m in (e.get("metrics") or {}):
            if m not in metrics:
                metrics.append(m)
    extra = ["accuracy_quantized", "accuracy_float", "accuracy_csim", "lut", "dsp", "latency_cycles",
             "energy_qtools", "sparsity"]
    extra = [m for m in extra if m not in metrics]
    header = (["index", "id", "board", "status"] + params + metrics + extra
              + ["feasible", "pareto", "cached", "duration_s", "error"])
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for e in doc["points"]:
        vals = e.get("design") or {}
        row = [e["index"], e["id"][:12], e["board"], e["status"]] + [vals.get(p) for p in params]
        row += [(e.get("metrics") or {}).get(m) for m in metrics]
        row += [read_metric(m, e) if e.get("results") else None for m in extra]
        err = (e.get("error") or "").strip().splitlines()
        row += [e.get("feasible"), e.get("pareto"), e.get("cached"), e.get("duration_s"), err[0] if err else ""]
        w.writerow(["" if v is None else v for v in row])
    return buf.getvalue()


def render_report(doc: dict[str, Any], out_dir: Path, log: Log = _stderr_log) -> Path:
    """Write the sweep's one report page (report.html, with report.md and compare.json) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "pareto.html").unlink(missing_ok=True)   # the separate page of earlier versions
    return Path(render_sweep_report(doc, out_dir)["files"]["html"])


def load_sweep_json(sweep: Sweep, build_dir: Path | None = None) -> dict[str, Any]:
    p = sweep_dir(sweep.name, build_dir) / "sweep.json"
    if not p.exists():
        raise BadInput(f"no results for sweep '{sweep.name}' ({p} does not exist); run "
                       f"`hwflow sweep {sweep.path}` first")
    return read_json(p)


