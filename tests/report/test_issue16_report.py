"""Issue 16, report items: table-output exactness (2) and per-layer C-sim agreement (3)."""

from __future__ import annotations

import json
from pathlib import Path

from _report_data import PYNQ_Z2, full_results

from hwflow.report.render import render_report
from hwflow.results import StepOutputs, build


def _md(tmp_path: Path, r: dict, work: Path | None = None) -> str:
    return render_report(r, tmp_path / "report", workdir=work, board=PYNQ_Z2)["md"].read_text(encoding="utf-8")


def test_results_carry_exactness_before_the_output_table() -> None:
    o = StepOutputs("d", "pynq-z2", "xc7z020clg400-1", 10.0, dict(PYNQ_Z2["resources"]),
                    emulate={"accuracy_csim": 0.9, "exact_fraction": 0.0, "exact_fraction_before_tables": 1.0})
    r = build(o, provenance=False)
    assert r["csim"]["exact_fraction"] == 0.0 and r["csim"]["exact_fraction_before_tables"] == 1.0
    assert build(StepOutputs("d", "b", None, 10.0, {}), provenance=False)["csim"].get(
        "exact_fraction_before_tables") is None


def test_report_shows_exactness_before_a_table_softmax_not_just_zero(tmp_path: Path) -> None:
    r = full_results()
    r["csim"].update(exact_fraction=0.0, exact_fraction_before_tables=1.0)
    md = _md(tmp_path, r)
    line = next(ln for ln in md.splitlines() if "before the output table" in ln)
    assert "100" in line
    assert any("table approximates its float function" in ln and "0" in ln for ln in md.splitlines())
    # without a table at the output, the single plain row stays
    r2 = full_results()
    md2 = _md(tmp_path / "b", r2)
    assert "outputs bit-exact with QKeras" in md2 and "before the output table" not in md2


def test_per_layer_agreement_reads_emulate_json_layer_names(tmp_path: Path) -> None:
    r = full_results()
    r["hls"] = {"layers": [{"name": "fc1", "class": "Dense"}, {"name": "fc1_relu", "class": "Activation"}]}
    wd = tmp_path / "work"
    wd.mkdir()
    (wd / "emulate.json").write_text(json.dumps({"layers": [
        {"keras_layer": "fc1", "hls_layer": "fc1", "exact_fraction": 1.0, "max_abs_diff": 0.0},
        {"keras_layer": "relu1", "hls_layer": "fc1_relu", "exact_fraction": 0.5, "max_abs_diff": 0.25},
    ]}))
    md = _md(tmp_path, r, wd)
    rows = {ln.split("|")[1].strip(): ln for ln in md.splitlines() if ln.startswith("| fc1")}
    assert "100" in rows["fc1"] and "exact" in rows["fc1"]
    assert "50" in rows["fc1_relu"] and "0.25" in rows["fc1_relu"]
