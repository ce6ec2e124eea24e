"""Design and board schemas: good files load, every broken one is exit 2 with a key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwflow.cli import main
from hwflow.config import deep_merge, infer_shapes, list_boards, list_designs, load_board, load_design
from hwflow.errors import BadInput

GOOD = """
name: tiny
dataset: {name: digits}
model:
  input_shape: [64]
  layers:
    - {type: dense, units: 8, name: fc1}
    - {type: relu}
    - {type: dense, units: 10, name: out}
    - {type: softmax}
quantization: {weight_bits: 6, activation_bits: 6, layers: {fc1: {weight_bits: 4}}}
training: {epochs: 1}
boards:
  zcu104: {hls: {reuse_factor: 4}}
"""


def write(tmp_path: Path, text: str, name: str = "d.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_shipped_designs_and_boards_validate():
    assert {"digits_mlp", "digits_cnn", "jets_mlp", "npz_example"} <= set(list_designs())
    assert {"pynq-z2", "zcu102", "zcu104", "kv260", "ultra96v2", "alveo-u250"} <= set(list_boards())
    for b in list_boards():
        board = load_board(b)
        assert board.resources.lut > 0 and board.resources.dsp > 0
    for d in list_designs():
        for b in list_boards():
            load_design(d, b)


def test_board_power_methods_match_the_hardware():
    assert load_board("pynq-z2").power.method == "external"
    assert load_board("zcu104").power.method == "pmbus"
    assert load_board("ultra96v2").power.method == "pmbus"
    assert load_board("kv260").power.method == "hwmon"
    assert load_board("zcu102").power.method == "hwmon"
    assert load_board("alveo-u250").power.method == "xrt"


def test_per_board_override_applies_only_to_that_board(tmp_path):
    p = write(tmp_path, GOOD)
    assert load_design(p, "zcu104").hls.reuse_factor == 4
    assert load_design(p, "pynq-z2").hls.reuse_factor == 1
    d = load_design(p)
    assert d.quantization.for_layer("fc1")["weight_bits"] == 4
    assert d.quantization.for_layer("out")["weight_bits"] == 6


def test_layer_shapes_are_inferred():
    d = load_design("digits_cnn")
    shapes = infer_shapes(d)
    assert shapes[0] == (6, 6, 8)
    assert shapes[-1] == (10,)


@pytest.mark.parametrize(
    "mutation, key, words",
    [
        (("training: {epochs: 1}", "training: {epoch: 1}"), "training.epoch", "did you mean 'epochs'"),
        (("quantization:", "quantisation:"), "quantisation", "did you mean 'quantization'"),
        (("{type: dense, units: 8, name: fc1}", "{type: dense, unit: 8, name: fc1}"), "model.layers[0].unit",
         "did you mean 'units'"),
        (("{type: dense, units: 8, name: fc1}", "{type: dense, units: -8, name: fc1}"), "model.layers[0].units",
         "greater than or equal"),
        (("{type: dense, units: 8, name: fc1}", "{type: densse, units: 8, name: fc1}"), "model.layers[0].type", ""),
        (("{type: dense, units: 8, name: fc1}", "{type: dense, name: fc1}"), "model.layers[0]", "needs ['units']"),
        (("{type: relu}", "{type: relu, units: 3}"), "model.layers[1]", "do not apply"),
        (("weight_bits: 6,", "weight_bits: 0,"), "quantization.weight_bits", "greater than or equal"),
        (("weight_bits: 6,", "weight_bits: 6, weight_integer_bits: 6,"), "quantization", "must be below"),
        (("fc1: {weight_bits: 4}", "fc9: {weight_bits: 4}"), "quantization.layers.fc9", "did you mean 'fc1'"),
        (("name: tiny", "name: ../../etc"), "name", "not a safe name"),
        (("zcu104: {hls: {reuse_factor: 4}}", "zcu104: {hls: {reuse_factor: 0}}"), "hls.reuse_factor",
         "boards.zcu104"),
        (("input_shape: [64]", "input_shape: [8, 8]"), "model.layers[0]", "flat input"),
        (("{type: dense, units: 10, name: out}", "{type: dense, units: 10, name: fc1}"), "model.layers[2].name",
         "used twice"),
    ],
)
def test_bad_design_names_key_path(tmp_path, capsys, mutation, key, words):
    old, new = mutation
    assert old in GOOD
    p = write(tmp_path, GOOD.replace(old, new))
    rc = main(["check", str(p), "--board", "zcu104"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert str(p) in err
    assert key in err
    assert words in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", "empty"),
        (b"model: [\n", "broken YAML at line"),
        (b"- a\n- b\n", "must be a mapping"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"name: !!python/object/apply:os.system ['echo hacked']\n", "broken YAML"),
        (b"a: &a [*a, *a]\n", ""),
    ],
)
def test_broken_files_exit_2(tmp_path, capsys, content, words):
    p = tmp_path / "broken.yaml"
    p.write_bytes(content)
    rc = main(["check", str(p)])
    err = capsys.readouterr().err
    assert rc == 2
    assert words in err
    assert "Traceback" not in err


def test_missing_design_and_board(capsys):
    assert main(["check", "digits_mpl"]) == 2
    assert "did you mean 'digits_mlp'" in capsys.readouterr().err
    assert main(["check", "digits_mlp", "--board", "pynq_z2"]) == 2
    assert "did you mean 'pynq-z2'" in capsys.readouterr().err
    assert main(["check", "/nonexistent/design.yaml"]) == 2
    assert "not found" in capsys.readouterr().err


def test_bad_board_file(tmp_path, capsys):
    p = write(tmp_path, "name: b\npart: xc7z020clg400-1\nfamily: zynq9000\nclock_period_ns: 10\n"
                        "resources: {lut: 1, ff: 1, dsp: 1, bram_18k: 1}\n", "b.yaml")
    assert main(["check", "digits_mlp", "--board", str(p)]) == 2
    err = capsys.readouterr().err
    assert "family" in err and str(p) in err


def test_check_prints_resolved_config(capsys):
    assert main(["check", "digits_mlp", "--board", "zcu104", "--json"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["design"]["hls"]["clock_period_ns"] == 5  # zcu104 override
    assert out["board"]["part"] == "xczu7ev-ffvc1156-2-e"
    assert out["design"]["model"]["layers"][1]["name"] == "relu1"


def test_deep_merge_does_not_mutate():
    a = {"x": {"y": 1, "z": 2}}
    b = deep_merge(a, {"x": {"y": 3}})
    assert b == {"x": {"y": 3, "z": 2}} and a == {"x": {"y": 1, "z": 2}}


def test_npz_needs_path(tmp_path):
    p = write(tmp_path, GOOD.replace("dataset: {name: digits}", "dataset: {name: npz}"))
    with pytest.raises(BadInput, match="dataset.path"):
        load_design(p)
