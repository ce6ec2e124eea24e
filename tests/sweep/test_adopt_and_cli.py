"""Points that differ only after training share it; CLI refusals happen before anything runs."""

from __future__ import annotations

import json

from _sweep_util import write_sweep

from hwflow.cli import main
from hwflow.config import load_board
from hwflow.flow import STEPS, Options, _load_steps, make_context, reuse_from_sibling, step_key
from hwflow.sweep.spec import expand_points, load_sweep


def _ctx(point, workdir):
    ctx = make_context(point.design, load_board(point.board), Options(quiet=True))
    ctx.workdir = workdir
    workdir.mkdir(parents=True, exist_ok=True)
    return ctx


def test_training_is_adopted_only_with_the_same_train_key(tiny_dir):
    sweep = load_sweep(write_sweep(tiny_dir, """
base: tiny_sw.yaml
search: {parameters: {hls.reuse_factor: [1, 2], quantization.weight_bits: [4, 5]}}
"""))
    pts = {(p.values["hls.reuse_factor"], p.values["quantization.weight_bits"]): p for p in expand_points(sweep)}
    points_dir = tiny_dir / "points"
    # a finished point: rf 1, 4 bits (fake outputs: adoption only copies files)
    done = _ctx(pts[(1, 4)], points_dir / pts[(1, 4)].id)
    _load_steps()
    key = step_key(done, STEPS["train"])
    for rel in STEPS["train"].outputs:
        (done.workdir / rel).parent.mkdir(parents=True, exist_ok=True)
        (done.workdir / rel).write_text("x")
    (done.workdir / "manifest.json").write_text(json.dumps({"steps": {"train": {"status": "complete", "key": key}}}))

    same = _ctx(pts[(2, 4)], points_dir / pts[(2, 4)].id)      # only the reuse factor differs
    assert reuse_from_sibling(same, "train") == done.workdir.name
    man = json.loads((same.workdir / "manifest.json").read_text())
    assert man["steps"]["train"]["key"] == key and man["steps"]["train"]["reused_from"] == done.workdir.name
    assert (same.workdir / "model" / "train.json").read_text() == "x"
    assert reuse_from_sibling(same, "train") is None                          # already has it

    other = _ctx(pts[(2, 5)], points_dir / pts[(2, 5)].id)     # different bits: must train itself
    assert reuse_from_sibling(other, "train") is None
    assert not (other.workdir / "model").exists()


def test_cli_refuses_bad_workers_and_scheduler(tiny_dir, capsys):
    sweep = write_sweep(tiny_dir, "base: tiny_sw.yaml\n")
    assert main(["sweep", str(sweep), "--workers", "0", "--build-dir", str(tiny_dir / "b")]) == 2
    assert main(["sweep", str(sweep), "--scheduler", "localhost:8786", "--build-dir", str(tiny_dir / "b")]) == 2
    err = capsys.readouterr().err
    assert "--workers 0" in err and "tcp://host:port" in err
    assert not (tiny_dir / "b").exists()                          # nothing ran
