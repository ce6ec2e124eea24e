"""bench/external.py: the estimator scored on public hls4ml projects never used for fitting.

The derived table ships with the package (hwflow/estimate/external_designs.json), so this runs from
any clone; deriving is checked on a small project folder written here.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))

from test_estimate_project import _write_project  # noqa: E402


def _bench():
    spec = importlib.util.spec_from_file_location("external_bench", ROOT / "bench" / "external.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ext = _bench()


def test_shipped_external_table_is_scored_per_subset_with_interval_coverage():
    doc = json.loads(ext.TABLE.read_text())
    assert doc["schema"] == ext.SCHEMA  # the calibration schema: usable with --recalibrate --with
    fixture_repos = {e["repo"] for e in json.loads(
        (ROOT / "hwflow" / "estimate" / "calibration_designs.json").read_text())["designs"]}
    repos = {e["repo"] for e in doc["designs"]}
    assert len(doc["designs"]) >= 10 and len(repos) >= 8
    assert not repos & fixture_repos  # never a repository the model was fitted on
    assert all(e["provenance"].get("commit") and e["provenance"].get("report") for e in doc["designs"])
    res = ext.evaluate(doc)
    assert res["n_designs"] == len(doc["designs"])
    allm = res["by_subset"]["all"]
    for m in ("lut", "ff", "dsp", "bram_18k", "latency", "ii"):
        assert allm[m]["n"] >= 8 and allm[m]["mape"] is not None
        assert 0.0 <= allm[m]["coverage_80"] <= 1.0
    assert res["by_subset"]["rnn"]["n_designs"] >= 3  # recurrent designs are part of the check
    row = res["per_design"][0]
    assert row["lut"]["interval_80"][0] <= row["lut"]["pred"] <= row["lut"]["interval_80"][1]


def test_derive_reads_a_project_folder_and_its_report(tmp_path):
    proj = tmp_path / "someones_mlp"
    _write_project(proj)
    (proj / "source.json").write_text(json.dumps({"repo": "someone/mlp", "commit": "0" * 40}))
    rep = proj / "myproject_prj" / "solution1" / "syn" / "report"
    rep.mkdir(parents=True)
    (rep / "csynth.xml").write_text(
        "<profile><ReportVersion><Version>2023.2</Version></ReportVersion><UserAssignments>"
        "<Part>xczu7ev-ffvc1156-2-e</Part><TopModelName>myproject</TopModelName>"
        "<TargetClockPeriod>5.00</TargetClockPeriod></UserAssignments><PerformanceEstimates>"
        "<SummaryOfTimingAnalysis><EstimatedClockPeriod>4.1</EstimatedClockPeriod></SummaryOfTimingAnalysis>"
        "<SummaryOfOverallLatency><Best-caseLatency>40</Best-caseLatency><Average-caseLatency>40"
        "</Average-caseLatency><Worst-caseLatency>41</Worst-caseLatency><Interval-min>8</Interval-min>"
        "<Interval-max>8</Interval-max></SummaryOfOverallLatency></PerformanceEstimates><AreaEstimates>"
        "<Resources><BRAM_18K>2</BRAM_18K><DSP>16</DSP><FF>3000</FF><LUT>5000</LUT><URAM>0</URAM></Resources>"
        "</AreaEstimates></profile>")
    (tmp_path / "not_a_project").mkdir()
    broken = tmp_path / "broken_report"
    _write_project(broken)
    (broken / "myproject_prj" / "solution1" / "syn" / "report").mkdir(parents=True)
    (broken / "myproject_prj" / "solution1" / "syn" / "report" / "csynth.xml").write_text("<profile><Area")
    doc = ext.derive([proj, tmp_path / "not_a_project", broken])
    assert "csynth.xml" in doc["skipped"]["broken_report"]  # the parser's reason, no traceback
    assert [e["folder"] for e in doc["designs"]] == ["someones_mlp"]
    e = doc["designs"][0]
    assert e["truth"]["lut"] == 5000 and e["truth"]["latency"] == 41 and e["truth"]["ii"] == 8
    assert e["tool"] == "vitis_hls" and e["tool_version"] == "2023.2" and e["part"] == "xczu7ev-ffvc1156-2-e"
    assert e["provenance"]["repo"] == "someone/mlp" and e["provenance"]["report"].endswith("csynth.xml")
    assert "no C-synthesis report" in doc["skipped"]["not_a_project"]
    res = ext.evaluate(doc)
    assert res["per_design"][0]["lut"]["truth"] == 5000


def test_external_designs_calibrate_the_interval_but_never_the_coefficients():
    from hwflow.estimate import load_calibration
    from hwflow.estimate.dataset import load_external
    from hwflow.estimate.fit import usable

    cal = load_calibration()
    ext = usable(load_external())[0]
    trained = set(cal["trained_on"])
    assert ext and not trained & {d.folder for d in ext}  # coefficients: fixtures only
    counts = cal["conformal"]["residuals"]
    assert counts["external"] == len(ext)  # their held-out residuals widen the interval quantiles
    assert counts["repositories"] == len({d.repo for d in ext}) + cal["cv"]["n_repositories"]
