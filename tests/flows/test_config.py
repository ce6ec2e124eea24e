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


# ----------------------------------------------------------------------- issue 16 (config items)

def test_override_for_an_unknown_board_is_rejected(tmp_path, capsys):
    p = write(tmp_path, GOOD.replace("zcu104: {hls:", "zcu105: {hls:"))
    assert main(["check", str(p), "--board", "pynq-z2"]) == 2
    err = capsys.readouterr().err
    assert "boards.zcu105" in err and "did you mean 'zcu104'" in err and str(p) in err


def test_override_of_another_board_is_validated_too(tmp_path, capsys):
    p = write(tmp_path, GOOD.replace("{hls: {reuse_factor: 4}}", "{hls: {reuse_factr: 4}}"))
    assert main(["check", str(p), "--board", "pynq-z2"]) == 2  # the mistake is in the zcu104 section
    err = capsys.readouterr().err
    assert "boards.zcu104" in err and "did you mean 'reuse_factor'" in err


@pytest.mark.parametrize("given, hint", [("Dense", "dense"), ("Conv2D", "conv2d"), ("denes", "dense")])
def test_layer_type_gets_did_you_mean(tmp_path, capsys, given, hint):
    p = write(tmp_path, GOOD.replace("{type: dense, units: 8, name: fc1}", f"{{type: {given}, units: 8, name: fc1}}"))
    assert main(["check", str(p)]) == 2
    err = capsys.readouterr().err
    assert "model.layers[0].type" in err and f"did you mean '{hint}'" in err


def test_check_says_invalid_when_the_npz_is_missing(tmp_path, capsys):
    p = write(tmp_path, GOOD.replace("dataset: {name: digits}", "dataset: {name: npz, path: mine.npz}"))
    assert main(["check", str(p)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "mine.npz") in err and "not found" in err
    assert "make_npz_example" not in err  # the hint names the example script only for the example


def test_relative_npz_path_resolves_against_the_design_folder(tmp_path, capsys):
    import numpy as np

    from hwflow.config import dataset_file
    from hwflow.data import load_dataset

    (tmp_path / "data").mkdir()
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "data" / "mine.npz", x_train=rng.normal(size=(20, 64)), y_train=np.arange(20) % 10,
             x_test=rng.normal(size=(10, 64)), y_test=np.arange(10) % 10)
    p = write(tmp_path, GOOD.replace("dataset: {name: digits}", "dataset: {name: npz, path: data/mine.npz}"))
    d = load_design(p)
    assert dataset_file(d) == tmp_path / "data" / "mine.npz"
    split = load_dataset(d.dataset, d.quantization.input, d.model.input_shape, design=d)
    assert split.x_train.shape == (20, 64) and split.classes == 10
    assert main(["check", str(p), "--json"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert "test_fraction" not in out["design"]["dataset"]  # the npz carries its own split


def test_example_npz_hint_names_the_script():
    from hwflow.config import missing_file_hint

    assert "make_npz_example.py" in missing_file_hint(Path("build/data/npz_example.npz"))
    assert "make_npz_example.py" not in missing_file_hint(Path("mine.npz"))


def test_designs_and_check_agree_on_names(tmp_path, monkeypatch, capsys):
    import hwflow.config as cfg

    ddir = tmp_path / "designs"
    ddir.mkdir()
    (ddir / "my_file.yaml").write_text(GOOD.replace("name: tiny", "name: tiny_inside"))
    monkeypatch.setattr(cfg.loading, "designs_dir", lambda: ddir)  # where the design files are looked up
    assert main(["designs"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("my_file ") and "(name: tiny_inside)" in out
    assert main(["check", "my_file"]) == 0  # by file name, as listed
    assert main(["check", "tiny_inside"]) == 0  # and by the name: inside it
    capsys.readouterr()
    assert main(["check", "tiny_insid"]) == 2


def test_fast_clock_on_zynq7000_warns(tmp_path, capsys):
    p = write(tmp_path, GOOD.replace("training: {epochs: 1}", "training: {epochs: 1}\nhls: {clock_period_ns: 5}"))
    assert main(["check", str(p), "--board", "pynq-z2"]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "clock_period_ns" in err and "200 MHz" in err
    p2 = write(tmp_path, GOOD, "d2.yaml")
    assert main(["check", str(p2), "--board", "pynq-z2"]) == 0  # the board's 10 ns: no warning
    assert "warning" not in capsys.readouterr().err


def test_npz_test_fraction_is_said_to_be_ignored(tmp_path):
    from hwflow.config import design_warnings

    p = write(tmp_path, GOOD.replace("dataset: {name: digits}", "dataset: {name: npz, path: x.npz, test_fraction: 0.3}"))
    ws = design_warnings(load_design(p), load_board("zcu104"))
    assert any("test_fraction" in w and "ignored" in w for w in ws)


@pytest.mark.parametrize("key", ["function-x", "literal[", "function-after[x]", "literal['a']", "int"])
def test_odd_keys_do_not_crash_the_message_formatter(tmp_path, capsys, key):
    import yaml

    doc = yaml.safe_load(GOOD)
    for where in (doc, doc["model"]["layers"][0], doc["hls"] if "hls" in doc else doc.setdefault("hls", {})):
        where[key] = 1
        p = write(tmp_path, yaml.safe_dump(doc))
        assert main(["check", str(p)]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and "unknown key" in err and key.split("[")[0] in err
        del where[key]


def test_quantization_default_schema(tmp_path):
    p = write(tmp_path, GOOD.replace("quantization: {", "quantization: {default: {bits: 12, integer_bits: 3}, "))
    d = load_design(p)
    assert d.quantization.default.hls4ml() == "fixed<12,4>"  # QKeras convention: the sign is extra
    bad = write(tmp_path, GOOD.replace("quantization: {", "quantization: {default: {bits: 4, integer_bits: 4}, "), "b.yaml")
    with pytest.raises(BadInput, match="quantization.default"):
        load_design(bad)


def test_check_says_invalid_when_the_model_file_is_missing(tmp_path, capsys):
    p = write(tmp_path, "name: user\ndataset: {name: digits}\nmodel: {file: nowhere.h5}\n")
    assert main(["check", str(p)]) == 2
    err = capsys.readouterr().err
    assert "model.file" in err and str(tmp_path / "nowhere.h5") in err
