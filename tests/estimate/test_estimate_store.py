"""Issue 12 item 5: the user's calibration store learns from vendor runs (no vendor tool needed).

The "vendor run" is the synth.json block hwflow's synth step writes (here with the figures a
fake tool's csynth report would give); recalibration runs on a few shipped repositories plus
the stored runs so that the test takes seconds.
"""

from __future__ import annotations

import json

import pytest
from test_estimate_project import _write_project  # same folder (pytest puts it on sys.path)

from hwflow.estimate import estimate_project, load_calibration, store
from hwflow.estimate.dataset import load_table


def _synth(lut=21000, ff=9000, dsp=30, version="2023.2"):
    return {"tool": "vitis_hls", "version": version, "source": f"vendor:vitis_hls-{version}",
            "hls": {"source": f"vendor:vitis_hls-{version}", "top": "myproject",
                    "resources": {"lut": lut, "ff": ff, "dsp": dsp, "bram_18k": 4, "uram": 0},
                    "latency_cycles": {"best": 70, "worst": 72}, "ii_cycles": {"min": 8, "max": 8},
                    "clock_ns": {"target": 5.0, "estimated": 4.1}}}


def test_store_record_export_recalibrate(tmp_path, monkeypatch):
    monkeypatch.setenv("HWFLOW_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HWFLOW_CALIBRATION", raising=False)
    proj = tmp_path / "prj"
    _write_project(proj, weights=",".join(["0.5", "0", "0.25", "-0.375"] * 256))
    from hwflow.estimate import calibration_key

    assert calibration_key() == "shipped"
    before = estimate_project(proj)
    assert before["calibration"]["name"] == "shipped" and before["calibration"]["user_runs"] == 0
    dense = before["layers"][0]  # weight-aware counts in the layer table (w2.txt: 0.5, 0, 0.25, -0.375)
    assert (dense["w_zero"], dense["w_pow2"], dense["w_other"], dense["w_two_digit"]) == (256, 512, 256, 256)

    # open-source or estimated figures never enter the store
    assert store.record_synth(proj, {**_synth(), "hls": {**_synth()["hls"], "source": "open:yosys"}}) is None
    p1 = store.record_synth(proj, _synth(), part="xczu7ev-ffvc1156-2-e", label="a")
    p2 = store.record_synth(proj, _synth(lut=26000, dsp=40), part="xczu7ev-ffvc1156-2-e", label="b")
    assert p1 and p2 and p1 != p2 and p1.parent == tmp_path / "cache" / "calibration" / "runs"
    runs = store.stored_runs()
    assert len(runs) == 2 and all(r.extra["user"] and r.repo == store.USER_REPO for r in runs)
    assert runs[0].truth["lut"] in (21000.0, 26000.0) and runs[0].tool == "vitis_hls"
    assert any(layer.w_pow2 for layer in runs[0].layers)  # weight-aware counts travel with the run

    exported = tmp_path / "my_runs.json"
    assert store.export_runs(exported) == 2
    assert len(store.load_with([exported])) == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(ValueError, match="bad.json"):
        store.load_with([bad])

    # a small shipped subset keeps the refit to seconds (three repositories + the user's runs)
    shipped = load_table()
    keep = {d.repo for d in shipped if d.folder.startswith(("01_", "53_", "100_"))}
    monkeypatch.setattr(store, "load_table", lambda p=None: [d for d in shipped if d.repo in keep]
                        if p is None else load_table(p))
    summary = store.recalibrate([exported], quick=True)
    assert summary["user_runs"] == 4 and summary["designs"] > 4
    doc = json.loads(store.user_calibration_path().read_text())
    assert doc["name"] == "user" and doc["calibration_data"]["user"] == 4
    assert store.USER_REPO in doc["tool_support"]["vitis_hls"]["repositories"]

    assert calibration_key().startswith("user:")  # the flow's estimate step re-runs on a new calibration
    after = estimate_project(proj)
    assert after["calibration"]["name"] == "user" and after["calibration"]["user_runs"] == 4
    assert load_calibration()["name"] == "user"
    monkeypatch.setenv("HWFLOW_CALIBRATION", "shipped")  # the escape hatch
    assert estimate_project(proj)["calibration"]["name"] == "shipped"


def test_recalibrate_without_runs_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("HWFLOW_CACHE", str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="hwflow synth"):
        store.recalibrate()


def test_user_calibration_of_an_earlier_feature_set_is_not_used(tmp_path, monkeypatch, caplog):
    """A recalibration written by an earlier release lacks coefficients of features added since:
    used as is, those terms would count 0. The shipped calibration is used instead, with a warning
    that says how to refit."""
    monkeypatch.setenv("HWFLOW_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HWFLOW_CALIBRATION", raising=False)
    user = {**json.loads(json.dumps(_shipped())), "name": "user"}
    path = store.user_calibration_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(user))
    assert load_calibration()["name"] == "user"  # complete: used

    old = json.loads(json.dumps(user))
    del old["coef"]["ff"]["ff_hold"]
    path.write_text(json.dumps(old))
    with caplog.at_level("WARNING"):
        calib = load_calibration()
    assert calib["name"] != "user" and "ff_hold" in calib["coef"]["ff"]
    assert "ff_hold" in caplog.text and "--recalibrate" in caplog.text


def _shipped():
    from hwflow.estimate import CALIBRATION_PATH

    return load_calibration(CALIBRATION_PATH)
