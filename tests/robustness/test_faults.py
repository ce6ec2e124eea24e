"""Fault injection through the flow: SIGKILL mid-step, a busy work folder, atomic writes.

(Vendor-tool faults live in tests/synth, board/DMA/sensor/ssh faults in tests/runtime and
tests/flows/test_deploy.py; this file covers the flow engine itself.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from _tiny import tiny_design_yaml

from hwflow.fileio import atomic_write_json
from hwflow.flow import workdir_lock

TINY = tiny_design_yaml("tiny_kill", quantization=False, hls=False)


def _hwflow(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.Popen([sys.executable, "-m", "hwflow", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=e, **kw)


def _manifest(work: Path) -> dict:
    try:
        return json.loads((work / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}


def test_sigkill_in_the_middle_of_a_step_is_detected_and_redone(tmp_path):
    design = tmp_path / "tiny_kill.yaml"
    design.write_text(TINY)
    build = tmp_path / "build"
    work = build / "tiny_kill" / "pynq-z2"
    p = _hwflow("run", str(design), "--build-dir", str(build), "--to", "emulate")
    deadline = time.monotonic() + 240
    killed_in = None
    while time.monotonic() < deadline and p.poll() is None:
        steps = _manifest(work).get("steps", {})
        # kill while emulate (C++ compile) is running, after train and convert completed
        if steps.get("emulate", {}).get("status") == "running":
            os.kill(p.pid, signal.SIGKILL)
            killed_in = "emulate"
            break
        time.sleep(0.05)
    p.wait(timeout=30)
    assert killed_in == "emulate", p.stdout.read() if p.stdout else ""
    man = _manifest(work)  # the manifest is intact JSON, not half-written
    assert man["steps"]["train"]["status"] == "complete"
    assert man["steps"]["emulate"]["status"] == "running"
    train_key = man["steps"]["train"]["key"]
    model_mtime = (work / "model" / "qkeras_model.h5").stat().st_mtime
    # no result from the killed step is trusted: results.json (if any) has no C-sim figure
    if (work / "results.json").exists():
        assert json.loads((work / "results.json").read_text())["accuracy"]["csim"] is None
    q = _hwflow("run", str(design), "--build-dir", str(build), "--to", "emulate")
    out, _ = q.communicate(timeout=300)
    assert q.returncode == 0, out
    assert "[emulate] previous run was interrupted in this step; redoing it" in out
    assert "[train] up to date" in out
    man = _manifest(work)
    assert man["steps"]["emulate"]["status"] == "complete"
    assert man["steps"]["train"]["key"] == train_key
    assert (work / "model" / "qkeras_model.h5").stat().st_mtime == model_mtime  # earlier work kept
    assert json.loads((work / "results.json").read_text())["accuracy"]["csim"] is not None


def test_second_run_on_a_busy_work_folder_refuses_clearly(tmp_path):
    design = tmp_path / "tiny_kill.yaml"
    design.write_text(TINY)
    build = tmp_path / "build"
    work = build / "tiny_kill" / "pynq-z2"
    with workdir_lock(work):
        p = _hwflow("run", str(design), "--build-dir", str(build), "--to", "train",
                    env={"HWFLOW_LOCK_TIMEOUT": "1"})
        out, _ = p.communicate(timeout=120)
    assert p.returncode == 3, out
    assert "is locked by pid" in out and "--build-dir" in out
    assert not (work / "manifest.json").exists()  # nothing was touched


def test_second_run_waits_for_the_lock_then_proceeds(tmp_path):
    work = tmp_path / "w"
    order = []
    import threading

    def second():
        with workdir_lock(work, timeout_s=30):
            order.append("second")

    with workdir_lock(work):
        t = threading.Thread(target=second)
        t.start()
        time.sleep(0.5)
        order.append("first-done")
    t.join(timeout=30)
    assert order == ["first-done", "second"]


def test_atomic_write_never_leaves_a_partial_file(tmp_path):
    target = tmp_path / "r.json"
    atomic_write_json(target, {"v": 1})
    code = f"""
import os, signal
from hwflow import fileio
orig = os.replace
def die(*a, **k):
    os.kill(os.getpid(), signal.SIGKILL)
os.replace = die
fileio.atomic_write_json({str(target)!r}, {{"v": 2, "big": "x" * 100000}})
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert r.returncode == -signal.SIGKILL
    assert json.loads(target.read_text()) == {"v": 1}  # the old result, whole


def test_corrupt_manifest_means_trust_nothing(tmp_path):
    from hwflow.flow import load_manifest

    (tmp_path / "manifest.json").write_text('{"steps": {"train": {"status": "compl')
    man = load_manifest(tmp_path)
    assert man["steps"] == {}
