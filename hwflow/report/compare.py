"""Comparisons across runs: ``hwflow report --compare``, Pareto fronts, sweep reports.

A comparison is a list of labelled results dicts (one per design/board run, or per sweep
point) shown as one table and as Pareto plots (accuracy vs LUT, accuracy vs energy). The
same code serves ``hwflow report --compare A B ...`` and the sweep engine
(:func:`render_sweep_report`), so both look and behave alike.

Figures keep their source here too: a point whose LUT count is an estimate is drawn hollow,
and a run that lacks a figure is listed as "not plotted", never placed at zero. Objectives
(``"lut:min"``) and the Pareto front are in :mod:`hwflow.report.objectives`.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..config import load_design
from ..errors import BadInput
from ..fileio import atomic_write_json, atomic_write_text, dumps_json, read_json
from ..paths import default_build_dir, reports_dir
from ..results import Results
from . import plots
from .doc import Document, Image, Legend, Missing, Para, Section, Table, V, to_html, to_markdown
from .extras import board_capacity
from .objectives import pareto_front
from .render import readable
from .sections import best_accuracy, fits
from .sources import fmt_acc, fmt_energy_uj, fmt_num, fmt_pct, fmt_time, get, num, source_kind
from .tasks import group_by_task, task_note

# ------------------------------------------------------------------------------ loading runs


def _label_from(r: dict[str, Any], fallback: str) -> str:
    d, b = r.get("design"), r.get("board")
    return f"{d}@{b}" if d and b else fallback


def resolve_run(spec: str, *, default_board: str = "pynq-z2", build_dir: Path | None = None) -> tuple[str, Path]:
    """``DESIGN[@BOARD]``, a results.json, or a folder holding one -> (label, path).

    A design's results are looked for in the build folder first (the newest), then in
    reports/ (a copy made by the report step).
    """
    p = Path(spec)
    if p.is_file():
        return "", p
    if p.is_dir() and (p / "results.json").is_file():
        return "", p / "results.json"
    design, _, board = spec.partition("@")
    board = board or default_board
    if design.endswith((".yaml", ".yml")) and Path(design).is_file():
        try:
            design = load_design(design, board).name
        except Exception:  # a broken YAML: fall back to its stem
            design = Path(design).stem
    searched = [
        (build_dir or default_build_dir()) / design / board / "results.json",
        reports_dir() / design / board / "results.json",
    ]
    for c in searched:
        if c.is_file():
            return f"{design}@{board}", c
    raise BadInput(
        f"--compare {spec}: no results for design '{design}' on board '{board}' "
        f"(searched {', '.join(str(s) for s in searched)})",
        hint=f"run `hwflow run {design} --board {board}` first, or give a path to a results.json",
    )


def load_runs(
    specs: Sequence[str], *, default_board: str = "pynq-z2", build_dir: Path | None = None
) -> list[dict[str, Any]]:
    """Each spec -> ``{"label", "path", "results"}``; labels are made unique."""
    runs: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for spec in specs:
        label, path = resolve_run(spec, default_board=default_board, build_dir=build_dir)
        try:
            res = read_json(path)
        except (OSError, ValueError) as exc:
            raise BadInput(f"--compare {spec}: {path} is not readable JSON ({exc})") from None
        if not isinstance(res, dict):
            raise BadInput(f"--compare {spec}: {path} does not hold a results object")
        label = label or _label_from(res, path.parent.name or path.stem)
        n = seen.get(label, 0)
        seen[label] = n + 1
        runs.append({"label": label if n == 0 else f"{label} #{n + 1}", "path": str(path), "results": res})
    return runs


# ------------------------------------------------------------------------------ summary rows


def summarise(label: str, r: dict[str, Any]) -> dict[str, Any]:
    """The figures of one run that a comparison shows, each with its source (JSON-ready)."""
    acc = best_accuracy(r)
    res = Results(r)   # the typed view: derived figures (efficiency, latency) come from hwflow.figures
    caps = board_capacity(r)
    f = fits(r, caps)
    res_src = get(r, "resources.source")
    en_src = get(r, "energy.source")
    uj = res.energy.value
    ipj = res.inferences_per_joule.value
    apj = res.accuracy_per_joule.value
    return {
        "label": label,
        "design": r.get("design"),
        "board": r.get("board"),
        "part": r.get("part"),
        "accuracy": acc["value"] if acc else None,
        "accuracy_stage": acc["key"] if acc else None,
        "accuracy_source": acc["source"] if acc else None,
        "lut": num(get(r, "resources.lut")),
        "ff": num(get(r, "resources.ff")),
        "dsp": num(get(r, "resources.dsp")),
        "bram_18k": num(get(r, "resources.bram_18k")),
        "resources_source": res_src,
        "lut_utilization": num(get(r, "utilization.lut"))
        if num(get(r, "utilization.lut")) is not None
        else (
            (num(get(r, "resources.lut")) / caps["lut"])
            if (num(get(r, "resources.lut")) is not None and caps.get("lut"))
            else None
        ),
        "fits": f["fits"],
        "latency_s": res.latency.value,
        "latency_cycles": num(get(r, "latency.cycles")),
        "latency_source": get(r, "latency.source"),
        "energy_uj": uj,
        "inferences_per_joule": ipj,
        "accuracy_per_joule": apj,
        "energy_source": en_src,
        "energy_basis": get(r, "energy.basis"),
    }


def _with_basis(text: str | None, basis: str | None) -> str | None:
    """An energy figure with its basis (results.json energy.basis), e.g. "200 µJ [batch1_system]"."""
    return f"{text} [{basis}]" if text and basis else text


def _summary_table(
    rows: Sequence[dict[str, Any]],
    front_lut: set[int],
    front_en: set[int],
    extra_cols: Sequence[tuple[str, Sequence[str]]] = (),
) -> Table:
    heads = (
        ["run"]
        + [h for h, _ in extra_cols]
        + [
            "accuracy (stage)",
            "fits",
            "LUT (% of board)",
            "DSP",
            "FF",
            "BRAM",
            "latency",
            "energy / inf.",
            "inf. / J",
            "acc. / J",
            "Pareto front",
        ]
    )
    out = []
    for i, s in enumerate(rows):
        rs, es, ls = s["resources_source"], s["energy_source"], s["latency_source"]

        def res(v: Any, rs: str | None = rs) -> V:
            return V(f"{int(round(v)):,}" if num(v) is not None else None, source=rs if num(v) is not None else None)

        lut = f"{int(round(s['lut'])):,}" if num(s["lut"]) is not None else None
        if lut and s["lut_utilization"] is not None:
            lut += f" ({fmt_pct(s['lut_utilization'])})"
        acc = fmt_acc(s["accuracy"])
        mark = ", ".join(x for x, on in (("acc/LUT", i in front_lut), ("acc/energy", i in front_en)) if on)
        row: list[Any] = [s["label"]] + [vals[i] for _, vals in extra_cols]
        row += [
            V(f"{acc} ({s['accuracy_stage']})" if acc else None, source=s["accuracy_source"]),
            V({True: "yes", False: "NO", None: None}[s["fits"]], source=rs, missing="not known"),
            V(lut, source=rs if lut else None),
            res(s["dsp"]),
            res(s["ff"]),
            res(s["bram_18k"]),
            V(fmt_time(s["latency_s"]), source=ls),
            V(_with_basis(fmt_energy_uj(s["energy_uj"]), s.get("energy_basis")), source=es, missing="not measured"),
            V(fmt_num(s["inferences_per_joule"]), source=es, missing="—"),
            V(fmt_num(s["accuracy_per_joule"]), source=es, missing="—"),
            mark or "",
        ]
        out.append(row)
    return Table(heads, out)


def _pareto_block(
    sec: Section,
    rows: Sequence[dict[str, Any]],
    *,
    xkey: str,
    src_key: str,
    front: list[int],
    out: Path,
    fname: str,
    title: str,
    xlabel: str,
    x_unit: str,
    scale: float = 1.0,
    label_all: bool = True,
) -> None:
    pts = [
        {
            "label": s["label"],
            "x": (s[xkey] * scale if num(s.get(xkey)) is not None else None),
            "y": s["accuracy"],
            "kind": source_kind(s.get(src_key)),
        }
        for s in rows
    ]
    try:
        png = plots.pareto(pts, front, out / fname, title=title, xlabel=xlabel, x_unit=x_unit, label_all=label_all)
    except Exception as exc:  # noqa: BLE001 - a plot failure is reported, not raised
        sec.blocks.append(Missing(f"{title}: could not be drawn ({type(exc).__name__}: {exc})"))
        return
    left = [s["label"] for s in rows if num(s.get(xkey)) is None or s.get("accuracy") is None]
    if png:
        sec.blocks.append(
            Image(
                png,
                title,
                "Accuracy up, cost left is better; dashed: the Pareto front. "
                "Filled markers: measured / vendor / emulated figures; hollow: hwflow estimates.",
            )
        )
    else:
        sec.blocks.append(Missing(f"{title}: no run has both figures"))
    on = [rows[i]["label"] for i in front]
    sec.blocks.append(
        Para(
            [f"On the front: {', '.join(on) if on else 'none'}."]
            + ([f"Not plotted (figure not run / not measured): {', '.join(left)}."] if left else []),
            "small",
        )
    )


def render_comparison(
    runs: Sequence[dict[str, Any]],
    out: Path,
    *,
    title: str,
    extra_cols: Sequence[tuple[str, Sequence[str]]] = (),
    intro: Sequence[Any] = (),
    label_all: bool = True,
    subtitle: str | None = None,
    extra_sections: Sequence[Section] = (),
) -> dict[str, Any]:
    """Table + Pareto plots for labelled runs (``{"label", "results", "path"?}``) into ``out``.

    Writes report.html, report.md, compare.json and the PNGs; returns the compare.json object.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("pareto_accuracy_*.png"):
        old.unlink(missing_ok=True)
    rows = [summarise(r["label"], r.get("results") or {}) for r in runs]
    # one Pareto front per task (dataset, classes): accuracies of different tasks are not comparable
    groups = group_by_task([r.get("results") or {} for r in runs])
    for g in groups:
        for i in g["indices"]:
            rows[i]["task"] = g["label"]
        sub = [rows[i] for i in g["indices"]]
        g["front_lut"] = [g["indices"][j] for j in pareto_front(sub, ["accuracy:max", "lut:min"])]
        g["front_en"] = [g["indices"][j] for j in pareto_front(sub, ["accuracy:max", "energy_uj:min"])]
    f_lut = sorted(i for g in groups for i in g["front_lut"])
    f_en = sorted(i for g in groups for i in g["front_en"])
    note = task_note(groups, [s["label"] for s in rows])
    if len(groups) > 1:
        extra_cols = [*extra_cols, ("task", [s["task"] for s in rows])]
    s_tab = Section("runs", "Runs side by side")
    s_tab.blocks += list(intro) + ([Para([note], "small")] if note else [])
    s_tab.blocks += [_summary_table(rows, set(f_lut), set(f_en), extra_cols), Legend()]
    stages = {s["accuracy_stage"] for s in rows if s["accuracy_stage"]}
    if len(stages) > 1:
        s_tab.blocks.append(
            Para(
                [
                    f"Note: accuracy comes from different stages ({', '.join(sorted(stages))}); "
                    "each run shows the stage closest to hardware that it reached."
                ],
                "small",
            )
        )
    bases = sorted({str(s.get("energy_basis")) for s in rows if s["energy_uj"] is not None})
    if len(bases) > 1:
        s_tab.blocks.append(Para([f"Note: energy per inference is on different bases ({', '.join(bases)}; "
                                  "the basis is shown beside each figure): the accuracy-vs-energy front then "
                                  "compares unlike figures."], "small"))
    s_p = Section("pareto", "Pareto fronts" + (" (one per task)" if len(groups) > 1 else ""))
    for k, g in enumerate(groups):
        sub = [rows[i] for i in g["indices"]]
        local = {i: j for j, i in enumerate(g["indices"])}
        suffix = "" if len(groups) == 1 else f"_task{k + 1}"
        where = "" if len(groups) == 1 else f" — task: {g['label']}"
        _pareto_block(
            s_p,
            sub,
            xkey="lut",
            src_key="resources_source",
            front=[local[i] for i in g["front_lut"]],
            out=out,
            fname=f"pareto_accuracy_lut{suffix}.png",
            title="Accuracy vs LUTs" + where,
            xlabel="LUTs used (count)",
            x_unit="",
            label_all=label_all,
        )
        _pareto_block(
            s_p,
            sub,
            xkey="energy_uj",
            src_key="energy_source",
            front=[local[i] for i in g["front_en"]],
            out=out,
            fname=f"pareto_accuracy_energy{suffix}.png",
            title="Accuracy vs energy per inference" + where,
            xlabel="energy per inference (J)",
            x_unit="J",
            scale=1e-6,
            label_all=label_all,
        )
    s_in = Section("inputs", "Inputs")
    with_path = any(r.get("path") for r in runs)
    s_in.blocks.append(
        Table(
            ["run"] + (["results"] if with_path else []) + ["commit"],
            [
                [r["label"]]
                + ([str(r.get("path") or "—")] if with_path else [])
                + [str(get(r.get("results") or {}, "provenance.git_commit") or "unknown")]
                for r in runs
            ],
        )
    )
    doc = Document(title=title, subtitle=[subtitle or f"{len(runs)} runs"], sections=[s_tab, s_p, *extra_sections, s_in])
    footer = "Generated by hwflow. Figures carry their source; estimates are never shown as measurements."
    atomic_write_text(out / "report.html", to_html(doc, footer))
    atomic_write_text(out / "report.md", to_markdown(doc, base=out, footer=footer))
    summary = {
        "title": title,
        "runs": rows,
        "pareto": {
            "accuracy_vs_lut": [rows[i]["label"] for i in f_lut],
            "accuracy_vs_energy": [rows[i]["label"] for i in f_en],
        },
        "pareto_indices": {"accuracy_vs_lut": f_lut, "accuracy_vs_energy": f_en},
        "tasks": [{"task": g["label"], "key": g["key"], "runs": [rows[i]["label"] for i in g["indices"]],
                   "pareto": {"accuracy_vs_lut": [rows[i]["label"] for i in g["front_lut"]],
                              "accuracy_vs_energy": [rows[i]["label"] for i in g["front_en"]]}} for g in groups],
        "task_note": note,
        "files": {
            "html": str(out / "report.html"),
            "md": str(out / "report.md"),
            "plots": [str(p) for p in sorted(out.glob("pareto_*.png"))],
        },
    }
    atomic_write_json(out / "compare.json", summary)
    readable(out / "report.html", out / "report.md", out / "compare.json")
    summary["files"]["json"] = str(out / "compare.json")
    return summary


def compare_name(labels: Iterable[str]) -> str:
    """A folder name for a comparison: the labels joined, made filesystem-safe, short."""
    name = "_vs_".join(re.sub(r"[^A-Za-z0-9_.@-]+", "-", lb).strip("-") for lb in labels) or "compare"
    if len(name) > 80:
        name = name[:60].rstrip("-_") + "-" + hashlib.sha256(name.encode()).hexdigest()[:10]
    return name


def cli_compare(args: Any) -> int:
    """``hwflow report --compare RUN RUN ... [--out DIR] [--json]`` (called by cli.py)."""
    specs = list(getattr(args, "compare", None) or [])
    if not specs:
        raise BadInput("--compare needs at least one RUN (DESIGN[@BOARD] or a results.json path)")
    runs = load_runs(
        specs, default_board=getattr(args, "board", None) or "pynq-z2", build_dir=getattr(args, "build_dir", None)
    )
    out = getattr(args, "out", None) or (reports_dir() / "compare" / compare_name(r["label"] for r in runs))
    summary = render_comparison(runs, Path(out), title=f"Comparison of {len(runs)} runs")
    if getattr(args, "json", False):
        import sys

        sys.stdout.write(dumps_json(summary))
    else:
        print(f"report: {summary['files']['html']}")
        if summary.get("task_note"):
            print(f"note: {summary['task_note']}")
        per_task = summary["tasks"] if len(summary["tasks"]) > 1 else [{"task": None, "pareto": summary["pareto"]}]
        for t in per_task:
            for key, labels in t["pareto"].items():
                print(f"pareto ({key.replace('_', ' ')}{', task ' + t['task'] if t['task'] else ''}): "
                      f"{', '.join(labels) if labels else 'no run has both figures'}")
    return 0
