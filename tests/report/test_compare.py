"""Comparisons, Pareto fronts and sweep reports."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from _report_data import ESTIMATE, MEASURED, full_results
from hypothesis import given, settings
from hypothesis import strategies as st

from hwflow.cli import main
from hwflow.errors import BadInput
from hwflow.report.compare import compare_name, resolve_run
from hwflow.report.objectives import objective_value, pareto_front, parse_objective
from hwflow.report.sweep_page import render_sweep_report
from hwflow.results import empty_results

# ------------------------------------------------------------------------------ objectives


@pytest.mark.parametrize(
    "obj,expected",
    [
        ("lut:min", ("lut", "minimize")),
        ("min:lut", ("lut", "minimize")),
        ("-lut", ("lut", "minimize")),
        ("+accuracy", ("accuracy", "maximize")),
        ("accuracy", ("accuracy", "maximize")),
        ("lut", ("lut", "minimize")),
        ("energy.inferences_per_joule", ("energy.inferences_per_joule", "maximize")),
        (("dsp", "minimise"), ("dsp", "minimize")),
        ({"key": "accuracy", "goal": "max"}, ("accuracy", "maximize")),
        ({"name": "resources.lut", "direction": "minimize"}, ("resources.lut", "minimize")),
        ({"metric": "latency"}, ("latency", "minimize")),
    ],
)
def test_parse_objective(obj: Any, expected: tuple[str, str]) -> None:
    assert parse_objective(obj) == expected


def test_parse_objective_rejects_garbage() -> None:
    with pytest.raises(BadInput):
        parse_objective({"goal": "max"})


def test_objective_value_forms() -> None:
    r = full_results()
    assert objective_value(r, "accuracy") == pytest.approx(0.9722)  # board accuracy: closest to hardware
    assert objective_value(r, "lut") == 5231 and objective_value(r, "resources.lut") == 5231
    assert objective_value(r, "energy") == pytest.approx(8.1)
    assert objective_value({"design": {}, "board": "b", "results": r}, "dsp") == 12  # a sweep point
    assert objective_value({"accuracy": 0.5, "lut": 3}, "accuracy") == 0.5  # a flat point
    # the sweep engine's form: its metric values come first
    engine_point = {"metrics": {"energy_qtools_sparse": 686.9, "accuracy": 0.947}, "results": r}
    assert objective_value(engine_point, "energy_qtools_sparse") == pytest.approx(686.9)
    assert objective_value(engine_point, "accuracy") == pytest.approx(0.947)
    assert objective_value(empty_results("d", "b"), "lut") is None
    e = empty_results("d", "b")
    e["accuracy"]["quantized"] = 0.9
    assert objective_value(e, "accuracy") == 0.9


# ------------------------------------------------------------------------------ Pareto


def test_pareto_front_small() -> None:
    pts = [
        {"accuracy": 0.90, "lut": 1000},  # 0: front (cheapest)
        {"accuracy": 0.95, "lut": 2000},  # 1: front
        {"accuracy": 0.94, "lut": 3000},  # 2: dominated by 1
        {"accuracy": 0.97, "lut": 9000},  # 3: front (most accurate)
        {"accuracy": 0.95, "lut": 2000},  # 4: equal to 1: kept
        {"accuracy": None, "lut": 10},  # 5: missing accuracy: not comparable
        {"accuracy": 0.80, "lut": 1000},
    ]  # 6: dominated by 0 (equal cost, worse)
    assert pareto_front(pts, ["accuracy:max", "lut:min"]) == [0, 1, 3, 4]
    assert pareto_front(pts, ["lut:min"]) == [5]  # only LUT counts here: the 10-LUT point wins
    assert pareto_front([], ["lut:min"]) == []
    with pytest.raises(BadInput):
        pareto_front(pts, [])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)), min_size=0, max_size=25))
def test_pareto_front_matches_brute_force(vals: list[tuple[int, int, int]]) -> None:
    pts = [{"a": a, "b": b, "c": c} for a, b, c in vals]
    objs = ["a:max", "b:min", "c:min"]
    front = pareto_front(pts, objs)

    def dominates(p: dict, q: dict) -> bool:
        ge = p["a"] >= q["a"] and p["b"] <= q["b"] and p["c"] <= q["c"]
        gt = p["a"] > q["a"] or p["b"] < q["b"] or p["c"] < q["c"]
        return ge and gt

    expected = [i for i, q in enumerate(pts) if not any(dominates(p, q) for p in pts)]
    assert front == expected
    # every point off the front is dominated by a point on it
    for i in set(range(len(pts))) - set(front):
        assert any(dominates(pts[j], pts[i]) for j in front)


# ------------------------------------------------------------------------------ --compare


def _variants() -> list[dict[str, Any]]:
    a = full_results("mlp_6bit", "pynq-z2")
    b = copy.deepcopy(a)
    b["design"] = "mlp_4bit"
    b["accuracy"]["board"] = 0.95
    b["resources"].update({"lut": 3100, "source": ESTIMATE})
    b["utilization"]["lut"] = 3100 / 53200
    b["energy"].update({"uj_per_inference": 6.0, "inferences_per_joule": 1e6 / 6.0, "accuracy_per_joule": None})
    c = copy.deepcopy(a)
    c["design"] = "mlp_8bit"
    c["accuracy"]["board"] = 0.96  # worse and bigger than a: dominated
    c["resources"]["lut"] = 9000
    c["utilization"]["lut"] = 9000 / 53200
    c["energy"]["uj_per_inference"] = 9.0
    d = empty_results("not_run_yet", "pynq-z2")
    d["accuracy"]["quantized"] = 0.99
    return [a, b, c, d]


def _write_runs(tmp_path: Path) -> list[Path]:
    paths = []
    for r in _variants():
        p = tmp_path / "runs" / r["design"] / "results.json"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(r))
        paths.append(p)
    return paths


def test_cli_compare_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = _write_runs(tmp_path)
    out = tmp_path / "cmp"
    rc = main(["report", "--compare", *map(str, paths), "--out", str(out), "--json"])
    assert rc == 0, capsys.readouterr().err
    doc = json.loads(capsys.readouterr().out)
    labels = [r["label"] for r in doc["runs"]]
    assert labels == ["mlp_6bit@pynq-z2", "mlp_4bit@pynq-z2", "mlp_8bit@pynq-z2", "not_run_yet@pynq-z2"]
    # accuracy vs LUT: 4-bit is cheapest, 6-bit most accurate of those with LUTs; 8-bit dominated;
    # not_run_yet has no LUTs and is not on the front
    assert doc["pareto"]["accuracy_vs_lut"] == ["mlp_6bit@pynq-z2", "mlp_4bit@pynq-z2"]
    assert doc["pareto"]["accuracy_vs_energy"] == ["mlp_6bit@pynq-z2", "mlp_4bit@pynq-z2"]
    assert doc["runs"][1]["resources_source"] == ESTIMATE and doc["runs"][0]["energy_source"] == MEASURED
    assert doc["runs"][3]["lut"] is None and doc["runs"][3]["accuracy_stage"] == "quantized"
    for f in ("report.html", "report.md", "compare.json", "pareto_accuracy_lut.png", "pareto_accuracy_energy.png"):
        assert (out / f).is_file(), f
    html = (out / "report.html").read_text()
    assert "not_run_yet@pynq-z2" in html and "Not plotted" in html
    assert 'class="v k-estimate" title="estimate:hwflow-rf">≈3,100 (5.83 %)<' in html
    assert html.count("data:image/png;base64,") == 2


def test_cli_compare_design_at_board(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HWFLOW_ROOT", str(tmp_path))
    for r in _variants()[:2]:
        p = tmp_path / "build" / r["design"] / "pynq-z2" / "results.json"
        p.parent.mkdir(parents=True)
        p.write_text(json.dumps(r))
    z = copy.deepcopy(_variants()[0])
    z["board"] = "zcu104"
    p = tmp_path / "reports" / "mlp_6bit" / "zcu104" / "results.json"  # only in reports/
    p.parent.mkdir(parents=True)
    p.write_text(json.dumps(z))
    rc = main(["report", "--compare", "mlp_6bit", "mlp_4bit@pynq-z2", "mlp_6bit@zcu104"])
    out = capsys.readouterr().out
    assert rc == 0
    folder = (
        tmp_path / "reports" / "compare" / compare_name(["mlp_6bit@pynq-z2", "mlp_4bit@pynq-z2", "mlp_6bit@zcu104"])
    )
    assert (folder / "report.html").is_file(), out
    assert f"report: {folder / 'report.html'}" in out


def test_cli_compare_unknown_run_is_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HWFLOW_ROOT", str(tmp_path))
    rc = main(["report", "--compare", "nope@pynq-z2"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "no results for design 'nope' on board 'pynq-z2'" in err and "searched" in err
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    assert main(["report", "--compare", str(bad)]) == 2
    assert "not readable JSON" in capsys.readouterr().err


def test_duplicate_labels_made_unique(tmp_path: Path) -> None:
    from hwflow.report.compare import load_runs

    p = _write_runs(tmp_path)[0]
    runs = load_runs([str(p), str(p.parent)])
    assert [r["label"] for r in runs] == ["mlp_6bit@pynq-z2", "mlp_6bit@pynq-z2 #2"]


def test_compare_name_is_safe_and_short() -> None:
    assert compare_name(["a@b", "c d/e"]) == "a@b_vs_c-d-e"
    long = compare_name([f"design_number_{i}@pynq-z2" for i in range(10)])
    assert len(long) <= 80 and "/" not in long


def test_resolve_run_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HWFLOW_ROOT", str(tmp_path))
    with pytest.raises(BadInput):
        resolve_run("missing_design@zcu104")


# ------------------------------------------------------------------------------ sweeps


def test_render_sweep_report(tmp_path: Path) -> None:
    pts = []
    for bits, rf in itertools.product((4, 6, 8), (1, 4)):
        r = full_results("digits_mlp", "pynq-z2")
        r["accuracy"]["board"] = 0.90 + 0.02 * (bits - 4) / 2 - 0.001 * rf
        r["resources"]["lut"] = 1000 * bits // rf
        r["energy"]["uj_per_inference"] = 2.0 * bits / rf**0.5
        pts.append(
            {
                "design": {"quantization": {"weight_bits": bits}, "hls": {"reuse_factor": rf}},
                "board": "pynq-z2",
                "results": r,
            }
        )
    pts.append(
        {
            "design": {"quantization": {"weight_bits": 2}},
            "board": "pynq-z2",
            "results": empty_results("digits_mlp", "pynq-z2"),
        }
    )  # a failed point
    sweep = {"points": pts, "objectives": ["accuracy:max", "lut:min"]}
    f = tmp_path / "build" / "sweeps" / "bits" / "sweep.json"
    f.parent.mkdir(parents=True)
    f.write_text(json.dumps(sweep))
    out = tmp_path / "reports" / "sweeps" / "bits"
    summary = render_sweep_report(f, out)
    assert summary["sweep_pareto"] == pareto_front(pts, sweep["objectives"])
    assert summary["sweep_pareto"] == summary["pareto_indices"]["accuracy_vs_lut"]
    assert 6 not in summary["sweep_pareto"]
    html = (out / "report.html").read_text()
    assert "quantization.weight_bits" in html and "hls.reuse_factor" in html and "★" in html
    assert "Sweep bits" in html
    assert (out / "pareto_accuracy_lut.png").is_file() and (out / "compare.json").is_file()
    # the sweep engine's objective form ({"metric", "goal"}) gives the same front
    engine = [{"metric": "accuracy", "goal": "maximize"}, {"metric": "lut", "goal": "minimize"}]
    assert pareto_front(pts, engine) == summary["sweep_pareto"]
    # a given "pareto" list is respected as it is
    sweep["pareto"] = [0]
    assert render_sweep_report(sweep, tmp_path / "s2")["sweep_pareto"] == [0]


def test_render_sweep_report_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput):
        render_sweep_report({"nope": 1}, tmp_path)
