"""Concurrency: processes sharing one C-sim cache (as a sweep's workers do) never corrupt it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
from _tiny import tiny_design_yaml

from hwflow.cli import main

TINY = tiny_design_yaml("tiny_conc", max_samples=300, units=6, softmax=False, quantization=False,
                        epochs=1, batch_size=None, hls=False)

WORKER = r"""
import json, sys
import numpy as np
from hwflow.emu.csim import CSim
project, xfile, out = sys.argv[1:4]
x = np.load(xfile, allow_pickle=False)
c = CSim(project)
y = c.predict(x)
np.save(out, y)
print(json.dumps({"cache_hit": bool(getattr(c, "cache_hit", False))}))
"""


def test_two_workers_compile_into_one_cache(tmp_path):
    design = tmp_path / "tiny_conc.yaml"
    design.write_text(TINY)
    build = tmp_path / "build"
    assert main(["run", str(design), "--build-dir", str(build), "--to", "convert", "--quiet"]) == 0
    project = build / "tiny_conc" / "pynq-z2" / "hls"
    x = np.random.default_rng(0).uniform(0, 1, size=(200, 64)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    cache = tmp_path / "cache"
    env = dict(os.environ, HWFLOW_CACHE=str(cache))
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(project), str(tmp_path / "x.npy"),
                               str(tmp_path / f"y{i}.npy")], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-2000:]
    y0, y1 = np.load(tmp_path / "y0.npy"), np.load(tmp_path / "y1.npy")
    assert np.array_equal(y0, y1)
    libs = [p for p in cache.rglob("*.so")]
    assert len(libs) == 1, libs  # one library per firmware hash, no half-written leftovers
    assert not [p for p in cache.rglob("*") if p.is_file() and ".tmp" in p.name]
    # a third process is served from the cache
    r = subprocess.run([sys.executable, "-c", WORKER, str(project), str(tmp_path / "x.npy"), str(tmp_path / "y2.npy")],
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout.strip().splitlines()[-1])["cache_hit"] is True
    assert np.array_equal(np.load(tmp_path / "y2.npy"), y0)
