"""A real sweep on local worker processes: interrupted with SIGKILL, then resumed.

Points already finished are not recomputed: the second run takes them from the cache
(no worker even starts for them) and their training timestamps do not change.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from _sweep_util import write_sweep

from hwflow.sweep.runner import run_sweep
from hwflow.sweep.spec import load_sweep

SWEEP = """
name: resume_sw
base: tiny_sw.yaml
to: train
search: {parameters: {quantization.weight_bits: [4, 5, 6]}}
objectives: [{metric: accuracy}, {metric: energy_qtools}]
constraints: {fits: false}
"""


def _finished_points(points_dir: Path) -> dict[str, float]:
    out = {}
    for p in points_dir.glob("*/point.json"):
        rec = json.loads(p.read_text())
        if rec.get("status") == "ok":
            man = json.loads((p.parent / "manifest.json").read_text())
            out[p.parent.name] = man["steps"]["train"]["finished"]
    return out


def _summary_counts(build: Path) -> dict[str, int]:
    try:
        return json.loads((build / "sweeps" / "resume_sw" / "sweep.json").read_text()).get("counts") or {}
    except (OSError, ValueError):  # not written yet, or being replaced
        return {}


def test_interrupted_sweep_resumes_without_recomputing(tiny_dir):
    sweep_file = write_sweep(tiny_dir, SWEEP)
    build = tiny_dir / "build"
    points_dir = build / "sweeps" / "resume_sw" / "points"
    # a project root of its own, so nothing is written into the checkout's reports/
    from hwflow.paths import boards_dir

    (tiny_dir / "boards").symlink_to(boards_dir())
    (tiny_dir / "designs").mkdir()
    env = {**os.environ, "HWFLOW_SWEEP_THREADS": "1", "HWFLOW_ROOT": str(tiny_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "hwflow", "sweep", str(sweep_file), "--workers", "1",
                             "--build-dir", str(build)], start_new_session=True, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 150
        # the point's record is written first, the sweep's summary a moment later: wait for both
        # (a kill between the two, under load, left a summary that had not yet counted the point)
        while not (_finished_points(points_dir) and _summary_counts(build).get("ok", 0) >= 1) \
                and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)   # the sweep and its worker, mid-flight
        proc.wait()
    before = _finished_points(points_dir)
    assert 1 <= len(before) < 3, "the sweep should have been interrupted after its first point"
    partial = json.loads((build / "sweeps" / "resume_sw" / "sweep.json").read_text())
    assert partial["counts"]["ok"] >= 1 and partial["counts"]["pending"] >= 1

    doc = run_sweep(load_sweep(sweep_file), workers=2, build_dir=build, report=False, log=lambda m: None)
    assert doc["counts"] == {"ok": 3, "failed": 0, "pending": 0}
    cached = {p["id"] for p in doc["points"] if p["cached"]}
    assert set(before) <= cached
    assert doc["run"]["points_cached"] == len(before) and doc["run"]["points_run"] == 3 - len(before)
    after = _finished_points(points_dir)
    for pid, finished in before.items():
        assert after[pid] == finished          # not retrained
    assert doc["pareto"] and all(p["metrics"]["energy_qtools"] > 0 for p in doc["points"])

    # and a third run does nothing at all
    doc = run_sweep(load_sweep(sweep_file), workers=2, build_dir=build, report=False, log=lambda m: None)
    assert doc["run"]["points_run"] == 0 and all(p["cached"] for p in doc["points"])
    lines = (build / "sweeps" / "resume_sw" / "sweep.csv").read_text().splitlines()
    assert len(lines) == 4
