"""--promote N writes a validated design file that reproduces the point."""

from __future__ import annotations

import json

import pytest
from _sweep_util import write_sweep

from hwflow.cli import main
from hwflow.config import load_design
from hwflow.errors import BadInput
from hwflow.sweep.promote import promote
from hwflow.sweep.runner import assemble
from hwflow.sweep.spec import expand_points, load_sweep, point_id


def _doc(tiny_dir):
    s = load_sweep(write_sweep(tiny_dir, """
base: tiny_sw.yaml
boards: [pynq-z2, zcu104]
search: {parameters: {quantization.weight_bits: [3, 5], pruning.sparsity: [0.0, 0.5]}}
"""))
    pts = expand_points(s)
    recs = {p.id: {"id": p.id, "status": "ok" if p.index != 1 else "failed", "error": "x",
                   "results": {"accuracy": {"csim": 0.9}}} for p in pts}
    return s, pts, assemble(s, pts, recs, {}, [])


def test_promote_writes_a_design_that_rebuilds_the_point(tiny_dir):
    s, pts, doc = _doc(tiny_dir)
    target = next(p for p in pts if p.board == "zcu104" and p.values["quantization.weight_bits"] == 5
                  and p.values["pruning.sparsity"] == 0.5)
    out = promote(s, doc, target.index, out_dir=tiny_dir)
    assert out["design"] == f"sw_p{target.index}" and out["board"] == "zcu104"
    design = load_design(out["path"], "zcu104")
    assert design.quantization.weight_bits == 5 and design.pruning.sparsity == 0.5
    assert design.hls.reuse_factor == 4 and design.hls.clock_period_ns == 5  # zcu104 block of the base
    # the promoted design is the very same point (same content hash)
    assert point_id(design, "zcu104") == target.id
    text = open(out["path"]).read()
    assert text.startswith("# Promoted from sweep 'sw'") and "hwflow run sw_p" in text


def test_promote_refuses_failed_or_missing_points(tiny_dir):
    s, pts, doc = _doc(tiny_dir)
    with pytest.raises(BadInput, match="did not finish"):
        promote(s, doc, 1, out_dir=tiny_dir)
    with pytest.raises(BadInput, match="has points 0..7"):
        promote(s, doc, 8, out_dir=tiny_dir)


def test_cli_promote_needs_a_finished_sweep(tiny_dir, capsys, monkeypatch):
    sweep = write_sweep(tiny_dir, "base: tiny_sw.yaml\n")
    rc = main(["sweep", str(sweep), "--promote", "0", "--build-dir", str(tiny_dir / "build")])
    assert rc == 2
    assert "run `hwflow sweep" in capsys.readouterr().err


def test_cli_promote_writes_into_designs(tiny_dir, capsys, monkeypatch):
    (tiny_dir / "designs" / "sweeps").mkdir(parents=True)
    (tiny_dir / "boards").symlink_to(__import__("hwflow.paths").paths.boards_dir())
    monkeypatch.setenv("HWFLOW_ROOT", str(tiny_dir))
    s, pts, doc = _doc(tiny_dir)
    out = tiny_dir / "build" / "sweeps" / "sw"
    out.mkdir(parents=True)
    (out / "sweep.json").write_text(json.dumps(doc))
    rc = main(["sweep", str(s.path), "--promote", "2", "--build-dir", str(tiny_dir / "build"), "--json"])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["path"] == str(tiny_dir / "designs" / "sw_p2.yaml")
    assert load_design("sw_p2", res["board"]).name == "sw_p2"
