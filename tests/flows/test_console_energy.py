"""Issue 16, items 7 and 8: energy per inference is the same figure in every view that names the
same basis, every console line that prints an energy names its basis, console numbers are
rounded for people, C-sim says when it compiles, a sweep point that does not fit is not "ok",
and a run that fails before anything completed leaves no build folder behind."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from _tiny import tiny_design_yaml

from hwflow.cli import main

BASES = ("batch1_system", "batched_system", "accelerator", "host_timing")
ENERGY = re.compile(r"\d\s*(?:nJ|µJ|uJ|mJ)\b")
UNROUNDED = re.compile(r"\d\.\d{6,}")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("console")
    design = root / "tiny_console.yaml"
    design.write_text(tiny_design_yaml("tiny_console", max_samples=200, epochs=1))
    return {"design": design, "build": root / "build", "work": root / "build" / "tiny_console" / "pynq-z2",
            "root": root}


@pytest.fixture(scope="module")
def deployed(tiny):
    """The tiny design through the emulated deployment, console captured."""
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["run", str(tiny["design"]), "--build-dir", str(tiny["build"]), "--to", "deploy"])
    assert rc == 0, buf.getvalue()
    return {**tiny, "out": buf.getvalue()}


def _energy_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ENERGY.search(ln)]


def test_every_console_energy_names_its_basis_and_numbers_are_rounded(deployed):
    lines = _energy_lines(deployed["out"])
    assert len(lines) >= 4, deployed["out"]  # estimate (three bases) + deploy
    for ln in lines:
        assert any(f"[{b}" in ln for b in BASES), f"energy without a basis: {ln}"
    bad = [ln for ln in deployed["out"].splitlines() if UNROUNDED.search(ln)]
    assert not bad, f"unrounded numbers on the console: {bad}"


def test_flow_advisor_and_results_agree_on_the_same_basis(deployed):
    from hwflow.advisor import advisor_row
    from hwflow.fileio import read_json

    w = deployed["work"]
    res = read_json(w / "results.json")
    est = read_json(w / "estimate.json")
    e = res["energy"]
    assert e["basis"] == "batch1_system"  # the flow's headline basis (MLPerf Tiny's)
    row = advisor_row("pynq-z2", "xc7z020clg400-1", est, res["accuracy"]["csim"], "batch1_system")
    # the advisor ranks on the figure the results and the report show, not II x clock x power
    assert row["uj_per_inference"] == pytest.approx(e["uj_per_inference"], rel=1e-3)
    assert row["uj_per_inference"] == pytest.approx(e["batch1_system_uj"], rel=1e-3)
    for b in ("batched_system", "accelerator"):
        assert row["energy_uj"][b] == pytest.approx(e[f"{b}_uj"], rel=1e-3)
    # and the old latency x power figure is not what it ranks on
    assert row["uj_per_inference"] != pytest.approx(est["energy"]["uj_per_inference"], rel=0.05)


def test_bundle_runner_emulated_labels_its_bases(deployed, tmp_path):
    pkg = deployed["work"] / "package"
    bundle = json.loads((pkg / "bundle.json").read_text())
    assert set(bundle["energy_model"]["bases"]) == {"batch1_system", "batched_system", "accelerator"}
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, str(pkg / "runtime" / "runner.py"), "--bundle", str(pkg), "--out", str(out),
                        "--emulated", "--quick"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    lines = _energy_lines(p.stdout)
    assert lines and all(any(f"[{b}]" in ln for b in BASES) for ln in lines), p.stdout
    assert any("[host_timing]" in ln and "not the FPGA" in ln for ln in lines)
    assert not [ln for ln in p.stdout.splitlines() if UNROUNDED.search(ln)], p.stdout
    views = {(v["basis"], v["source"]): v for v in json.loads((out / "deploy.json").read_text())["energy"]}
    # the runner's emulated accelerator figure is the deploy step's (power x II x clock) ...
    dep = json.loads((deployed["work"] / "deploy.json").read_text())
    assert views[("accelerator", "emulated")]["uj_per_inference"] == pytest.approx(
        dep["energy"]["uj_per_inference"], rel=0.02)
    # ... and the model's headline is the results' headline
    res = json.loads((deployed["work"] / "results.json").read_text())
    model = [v for (b, s), v in views.items() if b == "batch1_system"]
    assert model and model[0]["uj_per_inference"] == pytest.approx(res["energy"]["uj_per_inference"], rel=1e-3)


def test_csim_says_when_it_compiles(deployed, tmp_path):
    """A first compile is announced (a failing fake compiler keeps this fast)."""
    from hwflow.emu.csim import CSim
    from hwflow.errors import StepFailed

    cxx = tmp_path / "fakecxx"
    cxx.write_text("#!/bin/sh\nif [ \"$1\" = \"--version\" ]; then echo fake 1; exit 0; fi\n"
                   "echo 'x.cpp:1:1: error: no compiler here' >&2; exit 1\n")
    cxx.chmod(0o755)
    said: list[str] = []
    with pytest.raises(StepFailed):
        CSim(deployed["work"] / "hls", cache_dir=tmp_path / "cache", cxx=str(cxx), progress=said.append)
    assert said and said[0].startswith("compiling C-sim (first time for this firmware")


def test_sweep_progress_does_not_say_ok_for_a_misfit():
    from hwflow.sweep.runner import _progress_line, fit_verdict

    cons = SimpleNamespace(fits=True, max_utilization=0.8, limits={})
    sweep = SimpleNamespace(spec=SimpleNamespace(objectives=[SimpleNamespace(metric="accuracy"),
                                                             SimpleNamespace(metric="energy")],
                                                 constraints=cons))
    big = {"utilization": {"lut": 1.4, "ff": 0.2}, "accuracy": {"csim": 0.9},
           "energy": {"uj_per_inference": 200.0, "basis": "batch1_system"}}
    rec = {"status": "ok", "index": 3, "board": "pynq-z2", "design": {"units": 64}, "results": big,
           "duration_s": 2.0}
    line = _progress_line(sweep, rec, 1, 2)
    assert "does not fit pynq-z2: LUT 140 %" in line and ": ok" not in line
    assert "energy 200 [batch1_system]" in line
    rec["design"] = {"training.learning_rate": 0.0012345678901234}
    assert "training.learning_rate=0.001235" in _progress_line(sweep, rec, 1, 2)  # a random draw, rounded
    assert fit_verdict({"utilization": {"lut": 0.9}}, "pynq-z2", cons).startswith("fits pynq-z2 but above")
    assert fit_verdict({"utilization": {"lut": 0.5}}, "pynq-z2", cons) == "ok"


def _nan_design(root: Path) -> Path:
    x = np.random.default_rng(0).random((40, 64))
    x[0, 0] = np.nan
    np.savez(root / "nan.npz", x_train=x, y_train=np.zeros(40, int), x_test=x[:10], y_test=np.zeros(10, int))
    d = root / "tiny_nan.yaml"
    d.write_text(tiny_design_yaml("tiny_nan").replace("dataset: {name: digits, max_samples: 400}",
                                                      f"dataset: {{name: npz, path: {root / 'nan.npz'}}}"))
    return d


def test_failed_run_removes_only_the_folders_it_created(tmp_path, capsys):
    design = _nan_design(tmp_path)
    build = tmp_path / "build"
    (build / "someone_else").mkdir(parents=True)
    rc = main(["run", str(design), "--build-dir", str(build)])
    assert rc == 2 and "NaN" in capsys.readouterr().err
    assert not (build / "tiny_nan").exists()          # created by the failed run: gone
    assert (build / "someone_else").is_dir()            # not ours: kept
    # a work folder that existed before the run is never removed
    keep = build / "tiny_nan" / "pynq-z2"
    keep.mkdir(parents=True)
    (keep / "notes.txt").write_text("mine")
    assert main(["run", str(design), "--build-dir", str(build)]) == 2
    assert (keep / "notes.txt").read_text() == "mine"
