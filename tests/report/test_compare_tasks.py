"""Issue 16, item 10: a comparison never ranks different tasks on one Pareto front; legends sit
outside the axes; the board advisor's plot names the boards it leaves out and marks a misfit."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from _report_data import full_results

from hwflow.cli import main
from hwflow.report import plots
from hwflow.report.compare import render_comparison
from hwflow.report.tasks import group_by_task, task_of
from hwflow.results import StepOutputs, build


def _run(design: str, dataset: str, classes: int, acc: float, lut: int, uj: float) -> dict[str, Any]:
    r = copy.deepcopy(full_results(design))
    r["task"] = {"dataset": dataset, "dataset_file": None, "classes": classes}
    r["accuracy"]["board"] = r["accuracy"]["csim"] = acc
    r["resources"]["lut"] = lut
    r["utilization"]["lut"] = lut / 53200
    r["energy"]["uj_per_inference"] = uj
    r["energy"]["inferences_per_joule"] = 1e6 / uj
    r["energy"]["accuracy_per_joule"] = None
    return r


def _three_runs() -> list[dict[str, Any]]:
    # Without grouping, the jets run (99 %, fewest LUTs, least energy) would dominate both digits runs.
    return [
        {"label": "digits_big", "results": _run("digits_big", "digits", 10, 0.95, 5000, 5.0)},
        {"label": "digits_small", "results": _run("digits_small", "digits", 10, 0.90, 3000, 3.0)},
        {"label": "jets", "results": _run("jets", "jets", 5, 0.99, 1000, 1.0)},
    ]


def test_results_record_the_task() -> None:
    o = StepOutputs(design="d", board="pynq-z2", part="xc7z020clg400-1", clock_period_ns=10.0,
                    board_resources={"lut": 53200}, train={"dataset": "npz", "classes": 3},
                    task={"dataset": "npz", "dataset_file": "mine.npz"})
    r = build(o, provenance=False)
    assert r["task"] == {"dataset": "npz", "dataset_file": "mine.npz", "classes": 3}
    assert task_of(r)["label"] == "npz (mine.npz), 3 classes"
    # two npz files are two tasks
    other = copy.deepcopy(r)
    other["task"]["dataset_file"] = "theirs.npz"
    assert len(group_by_task([r, other])) == 2


def test_compare_gives_each_task_its_own_front(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    doc = render_comparison(_three_runs(), out, title="t")
    tasks = {t["task"]: t for t in doc["tasks"]}
    assert set(tasks) == {"digits, 10 classes", "jets, 5 classes"}
    # the digits front is computed among digits runs only: both are on it (cheaper vs more accurate)
    assert tasks["digits, 10 classes"]["pareto"]["accuracy_vs_lut"] == ["digits_big", "digits_small"]
    assert tasks["jets, 5 classes"]["pareto"]["accuracy_vs_lut"] == ["jets"]
    assert doc["pareto"]["accuracy_vs_lut"] == ["digits_big", "digits_small", "jets"]
    assert doc["task_note"] and "2 different tasks" in doc["task_note"]
    for k in (1, 2):
        assert (out / f"pareto_accuracy_lut_task{k}.png").is_file()
        assert (out / f"pareto_accuracy_energy_task{k}.png").is_file()
    assert not (out / "pareto_accuracy_lut.png").exists()
    html = (out / "report.html").read_text()
    assert "2 different tasks" in html and "one per task" in html and "task: jets, 5 classes" in html
    assert html.count("data:image/png;base64,") == 4


def test_compare_one_task_has_one_front_and_no_task_note(tmp_path: Path, capsys) -> None:
    paths = []
    for run in _three_runs()[:2]:
        p = tmp_path / run["label"] / "results.json"
        p.parent.mkdir(parents=True)
        p.write_text(json.dumps(run["results"]))
        paths.append(str(p))
    out = tmp_path / "cmp"
    assert main(["report", "--compare", *paths, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "note:" not in text and "pareto (accuracy vs lut): digits_big@pynq-z2, digits_small@pynq-z2" in text
    doc = json.loads((out / "compare.json").read_text())
    assert doc["task_note"] is None and len(doc["tasks"]) == 1
    assert (out / "pareto_accuracy_lut.png").is_file()


def test_cli_compare_says_tasks_differ(tmp_path: Path, capsys) -> None:
    paths = []
    for run in _three_runs():
        p = tmp_path / run["label"] / "results.json"
        p.parent.mkdir(parents=True)
        p.write_text(json.dumps(run["results"]))
        paths.append(str(p))
    assert main(["report", "--compare", *paths, "--out", str(tmp_path / "cmp")]) == 0
    text = capsys.readouterr().out
    assert "note: These 3 runs solve 2 different tasks" in text
    assert "pareto (accuracy vs lut, task jets, 5 classes): jets@pynq-z2" in text


def _capture_figure(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    figs: list[Any] = []

    def keep(fig: Any, out: Path) -> Path:
        figs.append(fig)
        return out

    monkeypatch.setattr(plots, "_save", keep)
    return figs


def _legend_outside(fig: Any) -> None:
    fig.canvas.draw()
    ax = fig.axes[0]
    leg = ax.get_legend()
    assert leg is not None
    r = fig.canvas.get_renderer()
    lb, ab = leg.get_window_extent(r), ax.get_window_extent(r)
    assert lb.x0 >= ab.x1 - 1, f"legend {lb} overlaps the axes {ab}"
    # and it is inside the figure
    assert lb.x1 <= fig.bbox.x1 + 1


def test_pareto_legend_is_outside_the_axes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    figs = _capture_figure(monkeypatch)
    # points in every corner, the lower right included (where the legend used to sit)
    pts = [{"label": f"p{i}", "x": x, "y": y, "kind": k} for i, (x, y, k) in
           enumerate([(1000, 0.5, "estimate"), (9000, 0.5, "measured"), (1000, 0.99, "vendor"), (9000, 0.99, "estimate")])]
    plots.pareto(pts, [0, 2], tmp_path / "p.png", title="t", xlabel="x")
    _legend_outside(figs[0])


def test_advisor_plot_names_missing_boards_and_marks_a_misfit(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    from hwflow.advisor import advisor_row, missing_lines, rank, render_plot

    figs = _capture_figure(monkeypatch)

    def est(uj_b1, uj_acc, fits, note=None):
        bases = {"batch1_system": {"uj": uj_b1, "source": "estimate:m" if uj_b1 else None, "note": note},
                 "batched_system": {"uj": None, "note": note},
                 "accelerator": {"uj": uj_acc, "source": "estimate:m" if uj_acc else None, "note": note}}
        return {"fits": {"fits": fits, "utilization": {"lut": 1.4 if not fits else 0.3}}, "latency_s": 2e-7,
                "source": "estimate:x", "energy_bases": {"bases": bases}}

    nopower = "board power not estimated: the board file cites no idle or active figure"
    rows = rank([advisor_row("small", "p", est(150.0, 0.07, False), 0.9),
                 advisor_row("big", "p", est(200.0, 0.5, True), 0.9),
                 advisor_row("zcu102", "p", est(None, None, True, nopower), 0.9),
                 advisor_row("kv260", "p", est(None, None, True, nopower), 0.9)])
    # fits first: the board the design does not fit is ranked after, whatever its energy
    # then the boards without a figure on the basis (never ranked as if their energy were 0)
    assert [r["board"] for r in rows] == ["big", "kv260", "zcu102", "small"]
    assert rows[0]["uj_per_inference"] == 200.0 and rows[0]["accuracy_per_joule"] == pytest.approx(0.9 / 200e-6)
    lines = missing_lines(rows, "batch1_system")
    assert lines[0] == "2 of 4 boards have no energy figure on basis batch1_system:"
    assert "kv260, zcu102: the board file cites no idle or active figure" in lines[1]
    render_plot(rows, "batch1_system", tmp_path / "a.png", design="d")
    fig = figs[0]
    _legend_outside(fig)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["fits", "does not fit"]
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "2 of 4 boards have no energy figure" in texts and "kv260, zcu102" in texts
    assert "basis batch1_system" in fig.axes[0].get_title()


def test_a_failed_point_without_results_is_not_a_task_of_its_own(tmp_path: Path) -> None:
    from hwflow.results import empty_results

    runs = _three_runs()[:2] + [{"label": "failed", "results": empty_results("d", "pynq-z2")}]
    doc = render_comparison(runs, tmp_path / "cmp", title="t")
    assert len(doc["tasks"]) == 1 and doc["task_note"] is None
    assert doc["tasks"][0]["runs"] == ["digits_big", "digits_small", "failed"]


def test_sweep_objective_legend_is_outside_the_axes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from hwflow.report import sweep_page

    real = sweep_page._plt()
    figs: list[Any] = []

    class Keep:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def subplots(self, *a: Any, **k: Any) -> Any:
            fig, ax = real.subplots(*a, **k)
            figs.append(fig)
            return fig, ax

        def close(self, fig: Any) -> None:  # keep the figure open for the check
            pass

    monkeypatch.setattr(sweep_page, "_plt", lambda: Keep())
    pts = [{"index": i, "board": b, "status": "ok", "feasible": f, "pareto": p, "metrics": {"lut": x, "accuracy": y}}
           for i, (b, x, y, f, p) in enumerate([("pynq-z2", 1000, 0.9, True, True), ("pynq-z2", 9000, 0.95, True, True),
                                                ("zcu104", 5000, 0.85, False, False), ("zcu104", 9500, 0.5, True, False)])]
    doc = {"sweep": "s", "points": pts}
    sweep_page.objective_scatter(doc, {"metric": "lut"}, {"metric": "accuracy"}, tmp_path / "o.png")
    _legend_outside(figs[0])
    real.close(figs[0])


def test_compare_names_each_energy_basis_and_warns_when_they_differ(tmp_path: Path) -> None:
    runs = _three_runs()[:2]
    runs[0]["results"]["energy"]["basis"] = "batch1_system"
    runs[1]["results"]["energy"]["basis"] = "batched_system"
    render_comparison(runs, tmp_path / "cmp", title="t")
    html = (tmp_path / "cmp" / "report.html").read_text()
    assert "[batch1_system]" in html and "[batched_system]" in html
    assert "energy per inference is on different bases (batch1_system, batched_system" in html
    runs[1]["results"]["energy"]["basis"] = "batch1_system"
    render_comparison(runs, tmp_path / "cmp2", title="t")
    assert "different bases" not in (tmp_path / "cmp2" / "report.html").read_text()
