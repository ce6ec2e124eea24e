"""``hwflow synth --tool open`` through the flow: the synth step on a tiny design.

The design is tests/synth/conftest.py's tiny 64-8-10 MLP with ``hls.softmax: argmax`` (the open
path builds the class decision, not softmax tables); emulate/estimate are stubbed by that
conftest, so the RTL is compared with the bit-exact emulator. synth.json must keep the open
counts out of the vendor slot, and a later run without ``--tool`` keeps the open result.
"""

from __future__ import annotations

import pytest
from synth_common import TINY

from hwflow.cli import main
from hwflow.fileio import read_json

pytest.importorskip("da4ml")

DESIGN = TINY.replace("name: tiny_synth", "name: tiny_open").replace(
    "clock_period_ns: 10}", "clock_period_ns: 10, softmax: argmax}")


@pytest.fixture
def design(tmp_path):
    assert "softmax: argmax" in DESIGN
    p = tmp_path / "tiny_open.yaml"
    p.write_text(DESIGN)
    return {"design": str(p), "build": str(tmp_path / "build"), "work": tmp_path / "build" / "tiny_open" / "pynq-z2"}


def _synth(d, *extra):
    return main(["synth", d["design"], "--board", "pynq-z2", "--build-dir", d["build"], *extra])


def test_synth_tool_open_writes_labelled_results(design, tmp_path, monkeypatch, capsys):
    assert _synth(design, "--tool", "open") == 0
    out = capsys.readouterr().out
    assert "open:yosys-" in out and "RTL simulation ==" in out
    doc = read_json(design["work"] / "synth" / "synth.json")
    assert doc["tool"] == "open" and "resources" not in doc and "source" not in doc
    o = doc["open"]
    assert o["rtl_sim"]["exact_fraction"] == 1.0 and o["rtl_sim"]["samples"] > 0
    assert o["resources"]["source"].startswith("open:yosys-") and o["resources"]["dsp"] == 0
    assert (design["work"] / "synth" / "open" / "rtl" / "src" / "tiny_open.v").is_file()
    # no --tool: the open result stays current (cached, not replaced by the vendor path)
    assert _synth(design) == 0
    assert "[synth] up to date" in capsys.readouterr().out
    assert read_json(design["work"] / "synth" / "synth.json")["tool"] == "open"
    # the report: results.json gets rtl_sim and open_synth; report.md shows them beside the estimate
    import shutil

    from hwflow.paths import PACKAGE_DIR

    root = tmp_path / "root"
    (root / "designs").mkdir(parents=True)
    (root / "boards").mkdir()
    shutil.copy(PACKAGE_DIR.parent / "boards" / "pynq-z2.yaml", root / "boards")
    monkeypatch.setenv("HWFLOW_ROOT", str(root))
    assert main(["report", design["design"], "--board", "pynq-z2", "--build-dir", design["build"]]) == 0
    rep = root / "reports" / "tiny_open" / "pynq-z2"
    res = read_json(rep / "results.json")
    assert res["rtl_sim"]["exact_fraction"] == 1.0 and res["rtl_sim"]["engine"].startswith("verilator-")
    assert res["open_synth"]["source"].startswith("open:yosys-")
    assert not str(res["resources"].get("source") or "").startswith("open:")  # never in the vendor/estimate slot
    md = (rep / "report.md").read_text()
    assert "Open synthesis (da4ml + Yosys" in md and "open synthesis" in md


def test_synth_tool_open_missing_tool_exits_3(design, monkeypatch, capsys):
    monkeypatch.setenv("HWFLOW_OPEN_DISABLE", "verilator")
    assert _synth(design, "--tool", "open") == 3
    assert "verilator is missing" in capsys.readouterr().err


def test_synth_tool_open_unsupported_layer_exits_2(tmp_path, capsys):
    p = tmp_path / "tiny_stable.yaml"
    p.write_text(TINY.replace("name: tiny_synth", "name: tiny_stable"))
    rc = main(["synth", str(p), "--board", "pynq-z2", "--build-dir", str(tmp_path / "build"), "--tool", "open"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "layer 'softmax'" in err and "hls.softmax: argmax" in err and "Traceback" not in err


def test_the_synth_path_is_decided_once_per_run(tmp_path):
    """Without --tool the work folder's last synthesis picks the path; an upstream step that
    re-runs marks synth stale in the manifest mid-run, and the run must keep the choice its
    pre-flight checked tools for (else a vendor synthesis runs with no tool and fails)."""
    import json
    from types import SimpleNamespace

    from hwflow.synth.open import step as open_step

    (tmp_path / "synth").mkdir()
    (tmp_path / "synth" / "synth.json").write_text(json.dumps({"tool": "open", "open": {"resources": {}}}))

    def manifest(status):
        (tmp_path / "manifest.json").write_text(json.dumps({"steps": {"synth": {"status": status}}}))

    def ctx():
        return SimpleNamespace(options=SimpleNamespace(extra={}), memo={}, workdir=tmp_path,
                               path=lambda *p: tmp_path.joinpath(*p))

    manifest("complete")
    run = ctx()
    assert open_step.wanted(run) is True
    manifest("stale")  # convert re-ran in the same run
    assert open_step.wanted(run) is True
    assert open_step.wanted(ctx()) is False  # a new run reads the folder afresh
