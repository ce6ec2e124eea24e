"""Pareto front and constraints on hand-made points (no training)."""

from __future__ import annotations

from _sweep_util import write_sweep

from hwflow.pareto import dominates, pareto_indices
from hwflow.sweep.runner import assemble, to_csv
from hwflow.sweep.spec import expand_points, load_sweep


def test_dominance_and_front():
    assert dominates([1, 1], [1, 0]) and not dominates([1, 1], [1, 1]) and not dominates([2, 0], [1, 1])
    rows = [[0.90, 100], [0.95, 200], [0.85, 150], [0.95, 200], [0.80, 50]]
    # maximise accuracy, minimise LUT: 2 is dominated by 0; 1 and 3 tie (both kept)
    assert pareto_indices(rows, ["maximize", "minimize"]) == [0, 1, 3, 4]
    assert pareto_indices(rows, ["maximize", "maximize"]) == [1, 3]
    assert pareto_indices([], ["maximize"]) == []


def _record(pid, acc, lut=None, util=None, energy=None, ok=True):
    res = {"accuracy": {"csim": acc, "quantized": acc}, "resources": {"lut": lut},
           "utilization": {"lut": util, "ff": None, "dsp": None, "bram_18k": None},
           "qtools": {"energy_pj": energy, "energy_sparse_pj": energy}}
    if not ok:
        return {"id": pid, "status": "failed", "error": "boom\nmore", "duration_s": 1.0}
    return {"id": pid, "status": "ok", "results": res, "duration_s": 2.0, "workdir": "/x"}


def _sweep(tiny_dir, objectives, constraints="constraints: {fits: true}\n"):
    s = load_sweep(write_sweep(tiny_dir, f"""
base: tiny_sw.yaml
search: {{parameters: {{quantization.weight_bits: [3, 4, 5, 6, 7]}}}}
objectives: {objectives}
{constraints}"""))
    return s, expand_points(s)


def test_front_excludes_infeasible_and_failed_points(tiny_dir):
    s, pts = _sweep(tiny_dir, "[{metric: accuracy}, {metric: lut}]")
    recs = {pts[0].id: _record(pts[0].id, 0.90, 1000, 0.5),
            pts[1].id: _record(pts[1].id, 0.99, 90000, 1.7),     # best accuracy but does not fit
            pts[2].id: _record(pts[2].id, 0.95, 2000, 0.9),
            pts[3].id: _record(pts[3].id, 0.0, ok=False),
            pts[4].id: _record(pts[4].id, 0.85, 3000, 0.95)}     # dominated by p0
    doc = assemble(s, pts, recs, {}, [])
    assert doc["pareto"] == [0, 2]
    assert doc["points"][1]["feasible"] is False and "lut utilization" in doc["points"][1]["constraints"][0]
    assert doc["points"][3]["status"] == "failed" and doc["points"][3]["error"].startswith("boom")
    assert doc["counts"] == {"ok": 4, "failed": 1, "pending": 0}
    assert [o["metric"] for o in doc["objectives"]] == ["accuracy", "lut"]
    csv_text = to_csv(doc)
    assert csv_text.splitlines()[0].startswith("index,id,board,status,quantization.weight_bits,accuracy,lut")
    assert len(csv_text.splitlines()) == 6


def test_objective_without_values_is_dropped_with_a_note(tiny_dir):
    s, pts = _sweep(tiny_dir, "[{metric: accuracy}, {metric: lut}, {metric: energy_qtools}]")
    recs = {p.id: _record(p.id, acc, None, None, e) for p, acc, e in
            zip(pts, [0.9, 0.95, 0.8, 0.95, 0.97], [100, 200, 50, 300, 400])}
    doc = assemble(s, pts, recs, {}, [])
    assert not doc["objectives"][1]["used"] and doc["objectives"][2]["used"]
    assert any("'lut' has no value" in n for n in doc["notes"])
    assert any("could not be checked" in n for n in doc["notes"])   # fits unknown without resources
    assert doc["pareto"] == [0, 1, 2, 4]                             # p3 is dominated by p1
    assert all(p["feasible"] is None for p in doc["points"])


def test_limits_and_pending(tiny_dir):
    s, pts = _sweep(tiny_dir, "[{metric: accuracy}, {metric: energy_qtools}]",
                    "constraints: {fits: false, limits: {accuracy: {min: 0.9}}}\n")
    recs = {pts[0].id: _record(pts[0].id, 0.85, energy=10), pts[1].id: _record(pts[1].id, 0.92, energy=20)}
    doc = assemble(s, pts, recs, {}, [])
    assert doc["points"][0]["feasible"] is False and doc["points"][1]["feasible"] is True
    assert doc["pareto"] == [1]
    assert doc["counts"]["pending"] == 3
