"""Issue 12: latency of layers chained within the clock period (feature ``lat_frac``) and the joint
grid search of the two delay hyperparameters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwflow.estimate import LayerSpec, load_calibration
from hwflow.estimate import fit as fitmod
from hwflow.estimate.catalog import HYPER_GRID, HYPER_JOINT, search_groups
from hwflow.estimate.dataset import load_table
from hwflow.estimate.fit import _context
from hwflow.estimate.model import DEFAULT_HYPER, layer_features, make_context, predict


def _dense(n_in=16, n_out=8, rf=1):
    return LayerSpec(name="fc", kind="dense", func="nnet::dense", n_in=n_in, n_out=n_out, reuse_factor=rf,
                     strategy="latency", io_type="io_parallel", weight_bits=16, input_bits=16,
                     accum_bits=16, result_bits=16, n_weights=n_in * n_out)


def test_a_layer_within_the_period_adds_a_fraction_of_a_cycle():
    spec = _dense()
    hyper = dict(DEFAULT_HYPER, t_add_ns=2.4, usp_speed=0.35)
    slow = layer_features(spec, make_context([spec], "xcvu9p-flga2104-2-e", 25.0), hyper)
    # no register stage of its own: its delay as a fraction of the period, nothing else
    assert 0.0 < slow["lat_frac"] < 1.0
    assert "lat_layer" not in slow and "lat_depth" not in slow
    fast = layer_features(spec, make_context([spec], "xc7z020-clg400-1", 3.0), hyper)
    # a multiply-add longer than the period is a registered layer with its pipeline depth
    assert "lat_frac" not in fast and fast["lat_layer"] == 1 and fast["lat_depth"] > 1.0
    # a layer whose reuse factor serialises its products is registered whatever the clock
    serial = _dense(rf=4)
    fs = layer_features(serial, make_context([serial], "xcvu9p-flga2104-2-e", 25.0), hyper)
    assert "lat_frac" not in fs and fs["lat_serial"] > 0


def test_shipped_calibration_prices_chained_delay_at_about_a_cycle_per_period():
    calib = load_calibration()
    k = calib["coef"]["latency"]["lat_frac"]
    assert 0.7 <= k <= 1.5  # one register per period of accumulated delay, as the physics says
    # a 44-32-16-3 encoder at 25 ns on a Virtex UltraScale+ whose C-synthesis report says 1 cycle:
    # estimated at 2.5 cycles when each layer counted as a registered stage
    d = next((x for x in load_table() if x.folder.startswith("104_")), None)
    if d is None:
        pytest.skip("design 104 not in the shipped calibration table")
    assert d.truth["latency"] == 1
    assert predict(d.layers, _context(d), calib)["latency"] < 1.6


def test_delay_hyperparameters_are_searched_on_their_joint_grid(monkeypatch):
    groups = search_groups()
    names = [n for g in groups for n in g]
    assert sorted(names) == sorted(HYPER_GRID) and len(names) == len(set(names))
    assert ("t_add_ns", "usp_speed") in HYPER_JOINT and ("t_add_ns", "usp_speed") in groups

    # an objective with a corner: from the default (1.2, 0.7) neither coordinate alone improves,
    # the pair (2.4, 0.35) does - a coordinate-wise search stays, the joint one finds it
    def objective(designs, calib, metrics):
        h = calib["hyper"]
        if (h["t_add_ns"], h["usp_speed"]) == (2.4, 0.35):
            return 0.1
        return 0.5 if (h["t_add_ns"], h["usp_speed"]) == (1.2, 0.7) else 0.9

    monkeypatch.setattr(fitmod, "fit_coefficients", lambda designs, hyper, metrics=None: {"coef": {}})
    monkeypatch.setattr(fitmod, "_objective", objective)
    got = fitmod.fit([], search=True, hyper={"t_add_ns": 1.2, "usp_speed": 0.7})
    assert (got["hyper"]["t_add_ns"], got["hyper"]["usp_speed"]) == (2.4, 0.35)


def test_the_external_check_reads_the_weights_of_its_vivado_hls_2020_mlp():
    # the public PYNQ_IA jet tagger (Vivado HLS 2020.1, RF 16-64): weight statistics read from the
    # repository at the report's commit, with their provenance
    table = Path(fitmod.__file__).with_name("external_designs.json")
    e = next(x for x in json.loads(table.read_text())["designs"] if x["folder"] == "gabrielebot_pynqia")
    dense = [layer for layer in e["layers"] if layer["kind"] == "dense"]
    assert len(dense) == 4 and all(layer.get("w_other") is not None for layer in dense)
    assert all(layer["w_zero"] + layer["w_pow2"] + layer["w_other"] == layer["n_weights"] for layer in dense)
    assert set(e["provenance"]["weights"]) == {layer["name"] for layer in dense}


def test_a_run_of_chained_layers_takes_the_periods_it_fills_in_order():
    from hwflow.estimate.schedule import pack_chained

    reg = {"lat_layer": 1.0, "lat_depth": 1.2}
    act = {"lat_layer": 0.0, "lat_depth": 0.0}
    # 0.55, 0.88, 0.71, 0.71 of a period one after another: no two fit in one period - four cycles
    run = [{"lat_frac": x} for x in (0.55, 0.88, 0.71, 0.71)]
    packed = pack_chained([run[0], act, run[1], act, run[2], act, run[3], reg])
    assert sum(f.get("lat_frac", 0.0) for f in packed) == pytest.approx(4.0)
    assert packed[-1] == reg and packed[1] == act  # other layers untouched
    # 0.2 + 0.3 + 0.4 fill one period; a registered layer ends a run, the next starts a period
    packed = pack_chained([{"lat_frac": 0.2}, {"lat_frac": 0.3}, reg, {"lat_frac": 0.4}])
    assert [round(f.get("lat_frac", 0.0), 3) for f in packed] == [0.4, 0.6, 0.0, 1.0]
    # the design total follows: a 25 ns-style chain of small fractions stays one cycle
    assert sum(f["lat_frac"] for f in pack_chained([{"lat_frac": 0.25}, {"lat_frac": 0.08}] * 3)) == \
        pytest.approx(1.0)
