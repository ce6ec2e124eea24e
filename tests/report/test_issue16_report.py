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


def test_resources_show_the_80_percent_interval_and_latency_compares_system_with_system(tmp_path: Path) -> None:
    """Issue 12: every estimate in the report carries its interval; issue 15: the reference
    latencies are system measurements, so this design's batch-1 system time is plotted beside them."""
    r = full_results()
    r["estimate"]["interval_80"] = {"lut": [1000, 4000], "ff": [900, 5000], "dsp": [1, 3], "bram_18k": [0, 2]}
    r["energy_model"] = {"bases": {"batch1_system": {"time_s": 1.27e-4, "source": "estimate:datamove"}}}
    out = tmp_path / "report"
    md = render_report(r, out, board=PYNQ_Z2)["md"].read_text(encoding="utf-8")
    header = next(ln for ln in md.splitlines() if ln.startswith("| resource |"))
    assert "80 % interval" in header
    lut = next(ln for ln in md.splitlines() if ln.startswith("| LUT |"))
    assert "1,000 – 4,000" in lut
    from hwflow.report import plots

    seen: list[list[str]] = []
    real = plots.latency_comparison

    def spy(rows, *a, **k):
        seen.append([row["label"] for row in rows])
        return real(rows, *a, **k)

    plots.latency_comparison = spy
    try:
        render_report(r, tmp_path / "again", board=PYNQ_Z2)
    finally:
        plots.latency_comparison = real
    assert seen and any("batch-1 system (driver + DMA + compute)" in label for label in seen[0])
    # without an interval the column is absent rather than empty
    r2 = full_results()
    md2 = render_report(r2, tmp_path / "plain", board=PYNQ_Z2)["md"].read_text(encoding="utf-8")
    assert "80 % interval" not in next(ln for ln in md2.splitlines() if ln.startswith("| resource |"))


def test_a_stale_deployment_is_called_stale_not_never_run(tmp_path: Path) -> None:
    """After a step before deploy changed (e.g. `hwflow synth --tool open`), the deployment is not
    'not run': the report says it is stale and how to refresh it."""
    r = full_results()
    r.setdefault("provenance", {}).setdefault("steps", {})["deploy"] = {"status": "complete", "current": False}
    md = _md(tmp_path, r)
    assert "deployment is stale" in md and "deploy has not run" not in md
    r["provenance"]["steps"]["deploy"] = {"status": "missing"}
    assert "deploy has not run" in _md(tmp_path / "b", r)
