"""Calibration regression guard: held-out error must not get worse than what the model achieves.

Runs from any clone: the designs come from the derived calibration table shipped in the
package (``hwflow/estimate/calibration_designs.json``); a separate test checks that the
table is what our parsers derive from ../shared/fixtures (skipped without them).
Leave-one-repository-out over the public fixtures, with the hyperparameters of
calibration.json kept fixed (a few seconds). ``bench/estimator.py --json`` reports
the slower, fully honest variant that also re-chooses hyperparameters per fold;
the two agree to about a point of MAPE. Thresholds are the achieved levels plus a
small margin - they document today's accuracy, they are not the goals.
"""

from __future__ import annotations

import numpy as np
import pytest

from hwflow.estimate import load_calibration
from hwflow.estimate.dataset import load_table
from hwflow.estimate.fit import cross_validate, error_summary, fit, usable
from hwflow.estimate.model import make_context

# achieved (held-out MAPE %, hwflow-analytic-v2 with weight-aware counts, clock-chained pipelines
# and a Vitis HLS coefficient model, 56 designs / 17 repositories - 34 Vivado HLS from 10
# repositories, 22 Vitis HLS from 7 - hyperparameters fixed), since issue 12's Vitis HLS adder
# chains, chained sub-period layers, the tighter prior on Vitis deviations, the per-layer fit
# rows (351 layers' own vendor figures), DSP binding by product width / real constants, the DSP
# post-adder, the dataflow-process overhead of its own and softmax units as hls4ml builds them
# (every element at io_parallel, ceil(word / RF) at io_stream) and the weights of shared multipliers
# held in registers (latency strategy, RF > 1), batch-norm scales that are shifts or adders, and a
# resource-strategy layer's outputs registered once (not per pipeline stage), and activations
# unrolled in a pipelined design with their result's rounding / saturation logic counted, the
# Vitis HLS chain only past 4,096 products, softmax cycles from its implementation and the clock,
# and one logic-speed rule for every delay, and the channels between the processes of an
# io_parallel dataflow top, stream FIFOs as each tool builds them, a chained activation's
# cycle all or nothing, the products of shared multipliers held at the accumulator width, and a
# one-word stream activation without loop registers, and an adder per product where only the
# multipliers are limited, and a 2-D stream pool's window registered per clock edge its compare
# tree spans, and the registers of two-stage DSP multiplier cores (5 ns on -1 7-series parts), and
# the delay of layers chained within the clock period as a fraction of a cycle (lat_frac):
# lut 23.7 (was 34.1), ff 29.1 (was 57.7; 31.7 before the two-stage cores), dsp 11.7 (was 31.2),
# bram 18.9 (was 27.4), latency 14.9 (was 36.6; 18.8 before lat_frac), ii 10.9; median APE lut 16.6
# (was 31.2), ff 18.4 (was 38.7; 21.1 before the cores), dsp 3.1 (was 10.8), bram 13.5 (was 23.3),
# latency 7.2, ii 0.0. FF MAPE is led by an UltraScale+ resource-strategy
# dense (4x over) and two near-combinational 25 ns encoders (FF < 1,000, latency 0-1 cycles);
# latency MAPE by one 2018 CNN whose interval is in the millions and two pruned 25 ns MLPs.
# Latency now 14.4 (median 6.7) with a Vitis HLS multiplier-limited layer paying only its last
# cycle's adder tree after its serial cycles (15.3, median 7.9, before).
CEILING_MAPE = {"lut": 25.5, "ff": 31.0, "dsp": 13.0, "bram_18k": 20.5, "latency": 15.5, "ii": 12.5}
CEILING_MEDIAN = {"lut": 18.5, "ff": 20.5, "dsp": 4.0, "bram_18k": 15.0, "latency": 8.0, "ii": 1.0}
# the part of the design space the model is good at: Vivado HLS streaming dataflows (18 designs)
# achieved: latency 6.1, ii 4.9, dsp 6.5 (was 13.4), bram 8.5 (was 20.3), ff 41.3 (39.4 before the
# resource-strategy output registers, which took all designs' FF from 48.0 to 44.3; 40.0 with the
# one-word activations as single passes; 34.1 with the pools' compare-tree registers)
# lut 20.9 (30.6 before the adders of multiplier-limited layers)
CEILING_STREAM = {"latency": 7.0, "ii": 6.0, "dsp": 8.0, "bram_18k": 9.5, "ff": 36.0, "lut": 23.0}
# Vivado HLS designs (34 designs, 10 repositories).
# achieved: lut 28.4 (was 38.0), ff 31.5 (was 44.3; 35.3 before the pools' compare-tree registers,
# 32.1 before the two-stage DSP cores), dsp 12.3 (was 16.8), bram 18.2 (was 25.1),
# latency 15.3 (was 19.8), ii 10.2
CEILING_VIVADO = {"lut": 30.0, "ff": 33.0, "dsp": 14.0, "bram_18k": 20.0, "latency": 17.0, "ii": 11.5}
# 80 % interval, coverage of held-out truths (quantiles and nominal levels chosen without the
# design's repository; fixtures only here). achieved: lut 0.84, ff 0.88, dsp 0.86, bram 0.77 (the
# BRAM interval narrowed, median hi/lo 3.8 -> 2.8, with the softmax tables counted as built),
# latency 0.80, ii 0.82 (goal 0.75-0.90); then (a nominal level per tool) lut 0.88, ff 0.82,
# dsp 0.86, bram 0.77, latency 0.82, ii 0.82; now (quantiles and levels per group: weight values
# read or not) lut 0.86, ff 0.79, dsp 0.80, bram 0.88, latency 0.79, ii 0.84
FLOOR_COVERAGE = {"lut": 0.78, "ff": 0.78, "dsp": 0.75, "bram_18k": 0.75, "latency": 0.76, "ii": 0.78}


@pytest.fixture(scope="module")
def cv_result():
    designs, skipped = usable(load_table())
    calib = load_calibration()
    return designs, skipped, calib, cross_validate(designs, search=False, hyper=calib["hyper"])


def test_heldout_error_does_not_regress(cv_result):
    designs, skipped, _, cv = cv_result
    assert len(designs) >= 54 and len({d.repo for d in designs}) >= 16
    for metric, ceiling in CEILING_MAPE.items():
        got = cv["per_metric"][metric]
        assert got["mape"] <= ceiling, (metric, got)
        assert got["median_ape"] <= CEILING_MEDIAN[metric], (metric, got)
    # every excluded design carries its reason
    assert all(isinstance(v, str) and v for v in skipped.values())


def test_streaming_designs_are_estimated_closely(cv_result):
    designs, _, _, cv = cv_result
    stream = {d.folder for d in designs if d.tool == "vivado_hls"
              and make_context(d.layers, d.part, d.clock_ns).io_type == "io_stream"}
    rows = [r for r in cv["per_design"] if r["design"] in stream]
    assert len(rows) >= 15
    for metric, ceiling in CEILING_STREAM.items():
        s = error_summary(np.array([r[metric]["pred"] for r in rows]), np.array([r[metric]["truth"] for r in rows]))
        assert s["mape"] <= ceiling, (metric, s)


def test_calibration_json_is_reproducible(cv_result):
    designs, _, calib, _ = cv_result
    refit = fit(designs, search=False, hyper=calib["hyper"])
    for metric, coefs in calib["coef"].items():
        for name, value in coefs.items():
            assert refit["coef"][metric][name] == pytest.approx(value, rel=2e-3, abs=1e-6), (metric, name)
    assert sorted(calib["trained_on"]) == sorted(d.folder for d in designs)


def test_vivado_hls_designs_heldout(cv_result):
    designs, _, _, cv = cv_result
    viv = {d.folder for d in designs if d.tool == "vivado_hls"}
    rows = [r for r in cv["per_design"] if r["design"] in viv]
    assert len(rows) >= 30
    for metric, ceiling in CEILING_VIVADO.items():
        s = error_summary(np.array([r[metric]["pred"] for r in rows]), np.array([r[metric]["truth"] for r in rows]))
        assert s["mape"] <= ceiling, (metric, s)


def test_interval_coverage_on_heldout_repositories(cv_result):
    from hwflow.estimate.fit import interval_coverage

    designs, _, calib, cv = cv_result
    cov = interval_coverage(designs, cv)
    for metric, floor in FLOOR_COVERAGE.items():
        assert cov[metric]["coverage"] >= floor, (metric, cov[metric])
        assert cov[metric]["coverage"] <= 0.97, (metric, cov[metric])  # not trivially wide
    # the shipped calibration carries its interval quantiles and its domain
    assert set(calib["conformal"]["all"]) >= {"lut", "ff", "dsp", "bram_18k", "latency", "ii"}
    assert "dense" in calib["domain"]["layer_kinds"]
    # a nominal level per metric and quantile group (designs with and without weight values, each
    # judged on its own designs)
    levels = calib["conformal"]["nominal_levels"]
    assert set(levels) == {"lut", "ff", "dsp", "bram_18k", "latency", "ii"}
    assert all(set(v) >= {"all", "weights_known", "weights_unknown"} for v in levels.values())
    assert all(0.8 <= x <= 0.95 for v in levels.values() for x in v.values())


def test_shipped_table_is_what_our_parsers_derive(fixtures_dir):
    import json

    from hwflow.estimate.dataset import TABLE_PATH, derive_table

    shipped = json.loads(TABLE_PATH.read_text())
    derived = json.loads(json.dumps(derive_table(fixtures_dir)))
    assert [d["folder"] for d in derived["designs"]] == [d["folder"] for d in shipped["designs"]]
    assert derived == shipped
