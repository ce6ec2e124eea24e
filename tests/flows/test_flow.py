"""The flow engine on a tiny design: steps run, results carry sources, the cache works."""

from __future__ import annotations

import json
import time

import pytest
from _tiny import tiny_design_yaml

from hwflow.cli import main

TINY = tiny_design_yaml("tiny_mlp")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("flow")
    design = root / "tiny_mlp.yaml"
    design.write_text(TINY)
    build = root / "build"
    t0 = time.monotonic()
    rc = main(["run", str(design), "--build-dir", str(build), "--to", "emulate", "--quiet"])
    first = time.monotonic() - t0
    assert rc == 0
    return {"design": design, "build": build, "work": build / "tiny_mlp" / "pynq-z2", "first_s": first}


def test_work_folder_layout(tiny):
    w = tiny["work"]
    for rel in ("manifest.json", "model/qkeras_model.h5", "model/float_model.h5", "model/train.json",
                "hls/firmware/myproject.cpp", "convert.json", "emulate.json", "results.json", "logs/train.log"):
        assert (w / rel).exists(), rel


def test_manifest_records_steps_versions_and_durations(tiny):
    man = json.loads((tiny["work"] / "manifest.json").read_text())
    for step in ("train", "convert", "emulate"):
        e = man["steps"][step]
        assert e["status"] == "complete"
        assert len(e["key"]) == 64
        assert e["duration_s"] > 0
    assert man["versions"]["hls4ml"] == "1.3.0"
    assert man["versions"]["tensorflow"] == "2.15.1"


def test_results_have_every_contract_key(tiny):
    r = json.loads((tiny["work"] / "results.json").read_text())
    for k in ("design", "board", "part", "clock_ns"):
        assert k in r
    groups = {
        "accuracy": ("float", "quantized", "csim", "board"),
        "csim": ("samples", "argmax_agreement", "exact_fraction", "max_abs_diff", "samples_per_s"),
        "resources": ("lut", "ff", "dsp", "bram_18k", "uram", "source"),
        "utilization": ("lut", "ff", "dsp", "bram_18k"),
        "latency": ("cycles", "ii_cycles", "seconds", "source"),
        "power": ("active_w", "idle_w", "source"),
        "energy": ("uj_per_inference", "inferences_per_joule", "accuracy_per_joule", "source"),
        "provenance": ("hwflow", "git_commit", "packages", "tools"),
    }
    for g, keys in groups.items():
        for k in keys:
            assert k in r[g], f"{g}.{k}"
    assert r["part"] == "xc7z020clg400-1"
    assert 0.0 <= r["accuracy"]["csim"] <= 1.0
    assert r["csim"]["samples"] == 100
    # nothing ran on a board: null, not invented
    assert r["accuracy"]["board"] is None


def test_second_run_is_served_from_cache(tiny, capsys):
    t0 = time.monotonic()
    rc = main(["run", str(tiny["design"]), "--build-dir", str(tiny["build"]), "--to", "emulate"])
    dt = time.monotonic() - t0
    out = capsys.readouterr().out
    assert rc == 0
    for step in ("train", "convert", "emulate"):
        assert f"[{step}] up to date (cached" in out
    # a rerun that did the work again takes about as long as the first run; a cached one pays
    # only the start-up and the hashing (0.3-0.9 s against a 4 s first run, depending on the
    # machine's load): half the first run's time separates the two without timing flakiness
    assert dt < 0.5 * tiny["first_s"], (dt, tiny["first_s"])


def test_interrupted_step_is_redone_and_earlier_steps_kept(tiny, capsys):
    man_p = tiny["work"] / "manifest.json"
    man = json.loads(man_p.read_text())
    train_key = man["steps"]["train"]["key"]
    man["steps"]["emulate"]["status"] = "running"  # as left by a run killed inside emulate
    man_p.write_text(json.dumps(man))
    rc = main(["run", str(tiny["design"]), "--build-dir", str(tiny["build"]), "--to", "emulate"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "interrupted in this step; redoing it" in out
    assert "[train] up to date" in out
    man = json.loads(man_p.read_text())
    assert man["steps"]["emulate"]["status"] == "complete"
    assert man["steps"]["train"]["key"] == train_key


def test_from_forces_rerun_of_later_steps(tiny, capsys):
    rc = main(["run", str(tiny["design"]), "--build-dir", str(tiny["build"]), "--to", "emulate", "--from", "convert"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "[train] up to date" in out
    assert "[convert] done" in out and "[emulate] done" in out


def test_changed_setting_reruns_only_downstream(tiny, tmp_path, capsys):
    d2 = tiny["design"].parent / "tiny_mlp.yaml"
    text = d2.read_text()
    d2.write_text(text.replace("reuse_factor: 1", "reuse_factor: 2"))
    try:
        rc = main(["run", str(d2), "--build-dir", str(tiny["build"]), "--to", "convert"])
        out = capsys.readouterr().out
        assert rc == 0
        assert "[train] up to date" in out
        assert "[convert] done" in out
    finally:
        d2.write_text(text)


def test_unknown_step_is_bad_input(tiny, capsys):
    rc = main(["run", str(tiny["design"]), "--build-dir", str(tiny["build"]), "--to", "emulat"])
    assert rc == 2
    assert "unknown step 'emulat'" in capsys.readouterr().err


def test_report_from_what_has_run(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HWFLOW_ROOT", str(tmp_path))
    (tmp_path / "designs").mkdir()
    (tmp_path / "boards").mkdir()
    import shutil

    from hwflow.paths import PACKAGE_DIR

    shutil.copy(PACKAGE_DIR.parent / "boards" / "pynq-z2.yaml", tmp_path / "boards")
    rc = main(["report", str(tiny["design"]), "--build-dir", str(tiny["build"])])
    assert rc == 0, capsys.readouterr().err
    rep = tmp_path / "reports" / "tiny_mlp" / "pynq-z2"
    assert (rep / "report.html").exists() and (rep / "report.md").exists() and (rep / "results.json").exists()
    html = (rep / "report.html").read_text()
    assert "data:image/png;base64," in html
    assert "not run" in html  # energy etc. were not produced


def test_training_is_reused_across_boards(tiny, capsys):
    t0 = time.monotonic()
    rc = main(["run", str(tiny["design"]), "--board", "zcu102", "--build-dir", str(tiny["build"]), "--to", "train"])
    dt = time.monotonic() - t0
    out = capsys.readouterr().out
    assert rc == 0
    assert "[train] same inputs as on pynq-z2" in out
    other = tiny["build"] / "tiny_mlp" / "zcu102"
    assert (other / "model" / "qkeras_model.h5").read_bytes() == (tiny["work"] / "model" / "qkeras_model.h5").read_bytes()
    man = json.loads((other / "manifest.json").read_text())
    assert man["steps"]["train"]["reused_from"] == "pynq-z2"
    assert dt < 0.5 * tiny["first_s"]
    # a forced re-run trains for real
    rc = main(["run", str(tiny["design"]), "--board", "zcu102", "--build-dir", str(tiny["build"]), "--to", "train",
               "--from", "train"])
    assert rc == 0
    assert "[train] done" in capsys.readouterr().out


def test_a_users_model_file_runs_through_the_flow(tiny, tmp_path, capsys):
    import shutil

    user = tmp_path / "my_model.h5"
    shutil.copyfile(tiny["work"] / "model" / "qkeras_model.h5", user)
    d = tmp_path / "user_model.yaml"
    d.write_text("name: user_model\ndataset: {name: digits, max_samples: 400}\nmodel: {file: my_model.h5}\n"
                 "quantization: {input: {bits: 8, integer_bits: 1}}\n")
    rc = main(["run", str(d), "--build-dir", str(tmp_path / "b"), "--to", "emulate", "--quiet"])
    assert rc == 0, capsys.readouterr().err
    r = json.loads((tmp_path / "b" / "user_model" / "pynq-z2" / "results.json").read_text())
    assert r["accuracy"]["float"] is None  # no float reference for a user's model: null, not invented
    assert r["accuracy"]["quantized"] == pytest.approx(
        json.loads((tiny["work"] / "results.json").read_text())["accuracy"]["quantized"])
    assert r["csim"]["argmax_agreement"] is not None
    d.write_text(d.read_text().replace("my_model.h5", "missing.h5"))
    rc = main(["run", str(d), "--build-dir", str(tmp_path / "b"), "--to", "train"])
    err = capsys.readouterr().err
    assert rc == 2 and "model.file" in err and "missing.h5" in err
