"""Sweep files: validation with key paths and "did you mean", expansion, precedence, hashes."""

from __future__ import annotations

from pathlib import Path

import pytest
from _sweep_util import write_sweep

from hwflow.cli import main
from hwflow.errors import BadInput
from hwflow.sweep.spec import combinations, expand_points, load_sweep, parse_path

SHIPPED = Path(__file__).resolve().parents[2] / "designs" / "sweeps"


@pytest.mark.parametrize("name", ["digits_bits", "digits_reuse_boards", "digits_distillation"])
def test_shipped_sweeps_are_valid_and_modest(name):
    sweep = load_sweep(SHIPPED / f"{name}.yaml")
    points = expand_points(sweep)
    assert 2 <= len(points) <= 12
    assert len({p.id for p in points}) == len(points)  # every point is a different design/board


def test_digits_bits_crosses_bits_and_sparsity():
    points = expand_points(load_sweep(SHIPPED / "digits_bits.yaml"))
    seen = {(p.design.quantization.weight_bits, p.design.quantization.activation_bits,
             p.design.pruning.sparsity if p.design.pruning else 0.0) for p in points}
    assert len(seen) == 12
    assert all(p.design.training.epochs == 12 for p in points)


def test_reuse_boards_has_several_boards():
    points = expand_points(load_sweep(SHIPPED / "digits_reuse_boards.yaml"))
    assert {p.board for p in points} == {"pynq-z2", "ultra96v2", "zcu104"}
    assert {p.design.hls.reuse_factor for p in points} == {1, 2, 4, 8}


def test_parse_path():
    assert parse_path("model.layers[0].units") == ["model", "layers", 0, "units"]
    assert parse_path("quantization.layers.fc1.weight_bits") == ["quantization", "layers", "fc1", "weight_bits"]
    for bad in ("", "a..b", "[0].x", "a.", "a b"):
        with pytest.raises(ValueError):
            parse_path(bad)


def test_layer_width_and_per_layer_bits_are_swept(tiny_dir):
    p = write_sweep(tiny_dir, """
base: tiny_sw.yaml
search:
  parameters:
    model.layers[0].units: [4, 16]
    quantization.layers.fc1.weight_bits: [3]
""")
    points = expand_points(load_sweep(p))
    assert [pt.design.model.layers[0].units for pt in points] == [4, 16]
    assert all(pt.design.quantization.for_layer("fc1")["weight_bits"] == 3 for pt in points)
    assert all(pt.design.quantization.for_layer("out")["weight_bits"] == 6 for pt in points)


def _err(tmp: Path, text: str) -> str:
    p = write_sweep(tmp, text)
    with pytest.raises(BadInput) as ei:
        expand_points(load_sweep(p))
    return str(ei.value)


def test_unknown_top_level_key_says_did_you_mean(tiny_dir):
    msg = _err(tiny_dir, "base: tiny_sw.yaml\nobjectivs: []\n")
    assert "sw.yaml" in msg and "objectivs" in msg and "did you mean 'objectives'" in msg


def test_misspelt_dotted_path_names_file_and_path(tiny_dir):
    msg = _err(tiny_dir, "base: tiny_sw.yaml\nsearch: {parameters: {quantization.weight_bitz: [4]}}\n")
    assert "sw.yaml" in msg and "search.parameters" in msg
    assert "quantization.weight_bitz" in msg and "did you mean 'weight_bits'" in msg


def test_bad_value_names_the_point_and_key(tiny_dir):
    msg = _err(tiny_dir, "base: tiny_sw.yaml\nsearch: {parameters: {quantization.weight_bits: [4, 1]}}\n")
    assert "quantization.weight_bits=1" in msg and "quantization.weight_bits" in msg


def test_index_out_of_range(tiny_dir):
    msg = _err(tiny_dir, "base: tiny_sw.yaml\nsearch:\n  parameters:\n    model.layers[9].units: [4]\n")
    assert "model.layers[9].units" in msg and "out of range" in msg


def test_unknown_metric_and_board(tiny_dir):
    msg = _err(tiny_dir, "base: tiny_sw.yaml\nobjectives: [{metric: acuracy}]\n")
    assert "acuracy" in msg and "did you mean 'accuracy'" in msg
    msg = _err(tiny_dir, "base: tiny_sw.yaml\nboards: [pynq-z3]\n")
    assert "pynq-z3" in msg and "pynq-z2" in msg


def test_cli_exit_2_with_key_path(tiny_dir, capsys):
    p = write_sweep(tiny_dir, "base: tiny_sw.yaml\nsearch: {parameters: {hls.reuse_factr: [1]}}\n")
    assert main(["sweep", str(p)]) == 2
    err = capsys.readouterr().err
    assert "hls.reuse_factr" in err and "did you mean 'reuse_factor'" in err and "Traceback" not in err


def test_swept_value_beats_the_base_designs_board_block(tiny_dir):
    p = write_sweep(tiny_dir, """
base: tiny_sw.yaml
boards: [pynq-z2, zcu104]
search: {parameters: {hls.reuse_factor: [2]}}
""")
    points = {pt.board: pt.design for pt in expand_points(load_sweep(p))}
    assert points["pynq-z2"].hls.reuse_factor == 2
    assert points["zcu104"].hls.reuse_factor == 2          # the sweep wins over boards.zcu104
    assert points["zcu104"].hls.clock_period_ns == 5       # the rest of the board block still applies


def test_point_hash_is_content_not_order(tiny_dir):
    a = expand_points(load_sweep(write_sweep(tiny_dir, "base: tiny_sw.yaml\nsearch: {parameters: "
                                                      "{quantization.weight_bits: [4, 6]}}\n")))
    b = expand_points(load_sweep(write_sweep(tiny_dir, "base: tiny_sw.yaml\nsearch: {parameters: "
                                                      "{quantization.weight_bits: [6, 4, 5]}}\n", name="other")))
    ids_a = {p.values["quantization.weight_bits"]: p.id for p in a}
    ids_b = {p.values["quantization.weight_bits"]: p.id for p in b}
    assert ids_a[4] == ids_b[4] and ids_a[6] == ids_b[6]   # same design -> same work folder
    assert ids_b[5] not in ids_a.values()
    # writing a default explicitly is the same design
    c = expand_points(load_sweep(write_sweep(tiny_dir, "base: tiny_sw.yaml\nsearch: {parameters: "
                                                      "{hls.strategy: [latency]}}\n", name="c")))
    base = expand_points(load_sweep(write_sweep(tiny_dir, "base: tiny_sw.yaml\n", name="d")))
    assert c[0].id == base[0].id


def test_random_search_is_seeded_and_without_repeats(tiny_dir):
    text = """
base: tiny_sw.yaml
search:
  method: random
  samples: 5
  seed: 3
  parameters:
    quantization.weight_bits: [3, 4, 5, 6, 7, 8]
    model.layers[0].units: {min: 4, max: 32, step: 4, integer: true}
"""
    s1 = load_sweep(write_sweep(tiny_dir, text))
    c1 = combinations(s1)
    assert len(c1) == 5 and len({tuple(sorted(c.items())) for c in c1}) == 5
    assert c1 == combinations(load_sweep(write_sweep(tiny_dir, text, name="again")))
    for c in c1:
        assert c["quantization.weight_bits"] in range(3, 9) and c["model.layers[0].units"] in range(4, 33, 4)


def test_random_search_over_continuous_range(tiny_dir):
    s = load_sweep(write_sweep(tiny_dir, """
base: tiny_sw.yaml
search:
  method: random
  samples: 4
  parameters: {pruning.sparsity: {min: 0.1, max: 0.9}}
"""))
    vals = [c["pruning.sparsity"] for c in combinations(s)]
    assert len(set(vals)) == 4 and all(0.1 <= v <= 0.9 for v in vals)


def test_grid_needs_steps(tiny_dir):
    msg = _err(tiny_dir, "base: tiny_sw.yaml\nsearch: {parameters: {pruning.sparsity: {min: 0.1, max: 0.9}}}\n")
    assert "grid" in msg and "step" in msg
