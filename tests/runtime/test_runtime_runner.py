"""runner.py end to end on the emulated overlay, in-process and as a copied, self-contained script."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hwflow.runtime import runner
from hwflow.runtime.fixedpoint import FixedType

RUNTIME_DIR = Path(runner.__file__).resolve().parent
IO = {"input_shape": [6], "output_shape": [4], "input": "ap_fixed<8,2,AP_RND,AP_SAT>",
      "output": "ap_fixed<16,6,AP_RND,AP_SAT>"}

EMULATOR = '''
import numpy as np
W = np.load(__file__.replace("emulator.py", "w.npy"))
def predict(x):
    y = x.reshape(len(x), -1) @ W
    return np.floor(y * 1024 + 0.5) / 1024  # ap_fixed<16,6,AP_RND>: 10 fractional bits
'''


def make_bundle(root: Path, *, n: int = 40, corrupt: int | None = None, extra: dict[str, Any] | None = None) -> Path:
    rng = np.random.default_rng(5)
    w = rng.normal(size=(6, 4)) * 0.5
    x = rng.uniform(-2, 2, size=(n, 6)).astype(np.float32)
    xq = FixedType.parse(IO["input"]).quantize(x)
    expected = np.floor(xq @ w * 1024 + 0.5) / 1024
    if corrupt is not None:
        expected[corrupt, 1] += 0.5
    labels = np.argmax(expected, axis=1)
    labels[:4] = (labels[:4] + 1) % 4  # 4 of n labels disagree with the model
    (root / "vectors").mkdir(parents=True)
    np.save(root / "vectors" / "x.npy", x)
    np.save(root / "vectors" / "y_csim.npy", expected)
    np.save(root / "vectors" / "y_true.npy", labels)
    np.save(root / "w.npy", w)
    (root / "emulator.py").write_text(EMULATOR)
    bundle = {"format": 1, "design": "toy", "board": "pynq-z2", "bitfile": "design.bit", "io": IO,
              "driver": {"max_batch": 16, "timeout_s": 2.0},
              "power": {"method": "external", "rails": []},
              "emulation": {"predict": "emulator.py:predict", "power": {"idle_w": 1.5, "active_w": 1.65}}}
    bundle.update(extra or {})
    (root / "bundle.json").write_text(json.dumps(bundle))
    return root


def test_runner_emulated_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = make_bundle(tmp_path / "bundle")
    out = tmp_path / "out"
    assert runner.main(["--bundle", str(bundle), "--out", str(out), "--emulated", "--quick"]) == 0
    assert "deploy.json" in capsys.readouterr().out
    d = json.loads((out / "deploy.json").read_text())
    assert d["status"] == "ok" and d["emulated"] and d["error"] is None
    assert d["comparison"]["exact_equal"] == 40 and d["comparison"]["exact_fraction"] == 1.0
    assert d["comparison"]["max_abs_diff"] == 0.0 and d["comparison"]["argmax_agreement"] == 1.0
    assert d["accuracy"]["board"] == pytest.approx(36 / 40)
    m = d["measurement"]
    assert m["source"] == "emulated" and m["sensor"] == "simulated"
    assert m["power_idle_w"] == pytest.approx(1.5) and m["power_active_w"] == pytest.approx(1.65)
    assert m["energy_uj_per_inference"] > 0 and m["energy_dynamic_uj_per_inference"] > 0
    assert m["n_inferences"] % 40 == 0 and m["latency_s_per_inference"] > 0
    assert d["driver"]["chunk_size"] == 16 and d["emulation"]["predict"] == "emulator.py:predict"
    with open(out / "power.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["t_s", "watts", "phase"] and {r[2] for r in rows[1:]} >= {"idle", "run"}
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]  # atomic writes leave no temp files


def test_runner_reports_mismatches(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "b", corrupt=7)
    r = runner.run_bundle(bundle, tmp_path / "out", emulated=True, quick=True)
    c = r["comparison"]
    assert c["exact_equal"] == 39 and c["worst_sample"] == 7 and c["max_abs_diff"] == pytest.approx(0.5)


def test_runner_in_process_callable_and_replay(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "b", extra={"emulation": {}})
    r = runner.run_bundle(bundle, tmp_path / "o1", emulated=True, quick=True)
    assert "replay" in r["emulation"]["predict"] and r["comparison"]["exact_fraction"] == 1.0
    r2 = runner.run_bundle(bundle, tmp_path / "o2", emulated=True, quick=True, predict=lambda x: np.zeros((len(x), 4)))
    assert r2["comparison"]["exact_equal"] < 40


def test_runner_overwrites_results_atomically(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "b")
    out = tmp_path / "out"
    out.mkdir()
    (out / "deploy.json").write_text("stale")
    runner.run_bundle(bundle, out, emulated=True, quick=True)
    assert json.loads((out / "deploy.json").read_text())["status"] == "ok"


def test_bad_bundle_exits_2_and_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = make_bundle(tmp_path / "b", extra={"measure": {"idle_seconds": 1}})
    assert runner.main(["--bundle", str(bundle), "--out", str(tmp_path / "o"), "--emulated"]) == 2
    err = capsys.readouterr().err
    assert "measure" in err and "idle_seconds" in err and "Traceback" not in err
    assert not (tmp_path / "o" / "deploy.json").exists()
    assert runner.main(["--bundle", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2


def test_pickled_vectors_are_refused(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "b")
    np.save(bundle / "vectors" / "x.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(runner.BundleError, match="pickle"):
        runner.run_bundle(bundle, tmp_path / "o", emulated=True, quick=True)


def test_board_run_without_pynq_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    bundle = make_bundle(tmp_path / "b")
    (bundle / "design.bit").write_bytes(b"\0")
    (bundle / "design.hwh").write_text("<hwh/>")
    monkeypatch.setitem(sys.modules, "pynq", None)
    assert runner.main(["--bundle", str(bundle), "--out", str(tmp_path / "o")]) == 3
    d = json.loads((tmp_path / "o" / "deploy.json").read_text())
    assert d["status"] == "failed" and "pynq" in d["error"] and "Traceback" not in capsys.readouterr().err


def test_emulator_crash_exits_4_with_traceback_in_deploy_json(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "b")

    def broken(x: np.ndarray) -> np.ndarray:
        raise ZeroDivisionError("emulator bug")

    with pytest.raises(runner.RunFailed) as info:
        runner.run_bundle(bundle, tmp_path / "o", emulated=True, quick=True, predict=broken)
    assert info.value.exit_code == 4
    d = json.loads((tmp_path / "o" / "deploy.json").read_text())
    assert d["status"] == "failed" and "emulator bug" in d["error"] and "ZeroDivisionError" in d["traceback"]


def test_copied_runtime_runs_as_a_script_without_hwflow(tmp_path: Path) -> None:
    """What the board does: a copy of runtime/ under another name, plain python3, no hwflow."""
    bundle = make_bundle(tmp_path / "bundle")
    copy = bundle / "rt"
    shutil.copytree(RUNTIME_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "out"
    # Block any import of hwflow or pynq: the copy must be self-contained.
    code = ("import runpy, sys; sys.modules['hwflow'] = None; sys.modules['pynq'] = None; "
            f"sys.argv = ['runner.py', '--bundle', {str(bundle)!r}, '--out', {str(out)!r}, '--emulated', '--quick']; "
            f"runpy.run_path({str(copy / 'runner.py')!r}, run_name='__main__')")
    proc = subprocess.run([sys.executable, "-I", "-c", code], cwd=str(tmp_path), capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "exact 40/40" in proc.stdout
    assert json.loads((out / "deploy.json").read_text())["status"] == "ok"
