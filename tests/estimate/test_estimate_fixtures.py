"""The layers.json front-end and the model on every public fixture: no crash, sensible numbers."""

from __future__ import annotations

import json

import pytest

from hwflow.estimate import estimate_layers, layers_from_layers_json, load_calibration
from hwflow.estimate.dataset import load_designs, truth_of
from hwflow.estimate.layerspec import KNOWN_KINDS


def _folders(fixtures_dir):
    return sorted(p for p in fixtures_dir.iterdir() if (p / "layers.json").is_file())


def test_every_fixture_with_layers_gives_sensible_estimates(fixtures_dir):
    n_with_layers = 0
    for folder in _folders(fixtures_dir):
        doc = json.loads((folder / "layers.json").read_text())
        layers = layers_from_layers_json(doc)
        if doc.get("status") != "ok":
            assert layers == [], folder.name
            continue
        n_with_layers += 1
        assert layers, folder.name
        proj = doc.get("project") or {}
        r = estimate_layers(layers, part=proj.get("part"), clock_ns=proj.get("clock_ns"), tool="vivado_hls")
        res = r["resources"]
        assert set(res) == {"lut", "ff", "dsp", "bram_18k", "uram"}
        assert all(isinstance(v, int) and v >= 0 for v in res.values()), folder.name
        if any(l.is_known for l in layers):
            assert r["latency_cycles"] >= 1 and r["ii_cycles"] >= 1, folder.name
        else:  # nothing modelled: no invented timing
            assert r["latency_cycles"] is None and r["ii_cycles"] is None
        assert r["complete"] == all(l.is_known for l in layers)
        assert r["source"].startswith("estimate:")
        assert len(r["layers"]) == len(layers)
        # every layer is either modelled or reported as unknown, with a warning
        for row, spec in zip(r["layers"], layers):
            assert row["known"] == (spec.kind in KNOWN_KINDS)
            if not row["known"]:
                assert "warning" in row
        assert len(r["unknown_layers"]) == sum(1 for l in layers if not l.is_known)
        if any(res.values()):
            assert res["lut"] > 0, folder.name
    assert n_with_layers >= 50


def test_layer_facts_of_a_known_mlp(fixtures_dir):
    folder = fixtures_dir / "15_Hector-Plata_hls4ml-tutorial_tutorial_mlp_rf1"
    if not folder.is_dir():
        pytest.skip("fixture 15 absent")
    layers = layers_from_layers_json(folder)
    dense = [l for l in layers if l.kind == "dense"]
    assert [(l.n_in, l.n_out) for l in dense] == [(16, 64), (64, 32), (32, 32), (32, 5)]
    assert all(l.reuse_factor == 1 and l.strategy == "latency" and l.io_type == "io_parallel" for l in dense)
    assert all(l.weight_bits == 16 and l.input_bits == 16 and l.accum_bits == 16 for l in dense)
    assert sum(l.n_multipliers for l in dense) == 16 * 64 + 64 * 32 + 32 * 32 + 32 * 5
    assert [l.kind for l in layers].count("softmax") == 1


def test_stream_conv_layer_facts(fixtures_dir):
    folder = fixtures_dir / "61_pominiq_DNNonSilicon_dnnsil_cnn_rf16"
    if not folder.is_dir():
        pytest.skip("fixture 61 absent")
    conv = layers_from_layers_json(folder)[0]
    assert conv.kind == "conv2d" and conv.io_type == "io_stream"
    assert (conv.in_height, conv.in_width, conv.n_chan, conv.n_filt) == (28, 28, 1, 4)
    assert conv.kernel_mults == 36 and conv.kernel_nonzero == 9  # 27 pruned weights
    assert conv.n_multipliers == 2  # the multiplier_limit hls4ml wrote
    assert conv.out_pack == 4


def test_designs_and_truth(fixtures_dir):
    designs = load_designs(fixtures_dir)
    assert len(designs) >= 55
    assert len({d.repo for d in designs}) >= 12
    # accelerator wrappers are scored on the inner hls4ml core
    core = [d for d in designs if d.folder.startswith("19_")]
    if core:
        assert core[0].truth["latency"] == 52
    assert truth_of({"summary": {}}) is None


def test_calibration_file_is_small_and_complete():
    calib = load_calibration()
    assert calib["model"].startswith("hwflow-analytic")
    for metric in ("lut", "ff", "dsp", "bram_18k", "latency"):
        assert calib["coef"][metric], metric
        assert all(v >= 0 for v in calib["coef"][metric].values())
    assert calib["cv"]["method"] == "leave-one-repository-out"
    from hwflow.estimate import CALIBRATION_PATH

    assert CALIBRATION_PATH.stat().st_size < 20_000
