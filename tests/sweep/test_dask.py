"""A sweep on a real Dask LocalCluster; a failing point is recorded, not fatal."""

from __future__ import annotations

import pytest
from _sweep_util import write_sweep

from hwflow.sweep.runner import run_sweep
from hwflow.sweep.spec import load_sweep

pytest.importorskip("distributed")

SWEEP = """
name: dask_sw
base: tiny_sw.yaml
to: train
search:
  parameters:
    model.layers[2].units: [10, 12]     # 12 outputs for 10 classes: the train step refuses it
objectives: [{metric: accuracy}, {metric: energy_qtools}]
constraints: {fits: false}
"""


def test_sweep_on_dask_local_cluster(tiny_dir, monkeypatch):
    monkeypatch.setenv("HWFLOW_SWEEP_THREADS", "1")
    build = tiny_dir / "build"
    lines: list[str] = []
    doc = run_sweep(load_sweep(write_sweep(tiny_dir, SWEEP)), workers=2, scheduler="local-dask",
                    build_dir=build, report=True, report_dir=tiny_dir / "report",
                    log=lines.append)
    assert doc["run"]["scheduler"] == "local-dask"
    ok, bad = doc["points"]
    assert ok["status"] == "ok" and ok["results"]["accuracy"]["quantized"] is not None
    assert ok["results"]["qtools"]["energy_pj"] > 0
    assert bad["status"] == "failed" and "12 units" in bad["error"]
    assert doc["pareto"] == [0]
    # the two points ran in different worker processes of the cluster
    workers = {p.parent.name: p.read_text() for p in (build / "sweeps" / "dask_sw" / "points").glob("*/point.json")}
    assert len(workers) == 2
    assert any("Dask LocalCluster" in ln for ln in lines)
    assert (build / "sweeps" / "dask_sw" / "sweep.json").exists()
    assert doc["report"] == str(tiny_dir / "report" / "report.html")
    html = (tiny_dir / "report" / "report.html").read_text()
    assert 'id="objectives"' in html and "failed" in html   # the one sweep page: objectives, point status
    assert not (tiny_dir / "report" / "pareto.html").exists()
