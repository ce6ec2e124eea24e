"""The typed results model: Figure, the derived figures (one place), Results over results.json."""

from __future__ import annotations

import math

import pytest
from _report_data import full_results

from hwflow.figures import (
    Figure,
    accuracy_per_joule,
    derive,
    energy_uj,
    inferences_per_joule,
    latency_seconds,
    pick,
    seconds_per_result,
    throughput_per_second,
    weakest_source,
)
from hwflow.results import Results, StepOutputs, build, empty_results


def test_derived_figures_from_explicit_inputs() -> None:
    assert latency_seconds(14, 10.0) == pytest.approx(140e-9)
    assert seconds_per_result(4, 10.0) == pytest.approx(40e-9)
    assert throughput_per_second(4, 10.0) == pytest.approx(25e6)
    assert energy_uj(2.0, 1e-6) == pytest.approx(2.0)
    assert inferences_per_joule(0.5) == pytest.approx(2e6)
    assert accuracy_per_joule(0.9, 0.5) == pytest.approx(1.8e6)
    # nothing in, nothing out: never a zero or a default
    for v in (latency_seconds(None, 10), throughput_per_second(0, 10), throughput_per_second(4, None),
              inferences_per_joule(0), accuracy_per_joule(None, 1.0), energy_uj(float("nan"), 1.0)):
        assert v is None
    assert pick({"worst": 9, "best": 7}, "worst", "best") == 9 and pick(5, "max") == 5 and pick({}, "max") is None


def test_figure_carries_source_basis_interval_and_round_trips() -> None:
    f = Figure(1.5, "uJ", "estimate:hwflow", basis="batch1_system", interval=(1.0, 2.0), extra={"complete": True})
    assert Figure.from_json(f.to_json()) == f and Figure.from_json(f.to_json()).extra == {"complete": True}
    assert f.kind == "estimate" and f.known
    assert Figure.missing("s").to_json() == {"value": None, "unit": "s", "source": None}
    assert Figure(None, "s", "vendor:x").source is None          # no value, no source
    with pytest.raises(ValueError, match="basis"):
        Figure(1.0, "uJ", "x", basis="per_board")
    d = derive(throughput_per_second, "1/s", Figure(4, "cycles", "vendor:vivado_hls-2019.2"), 10.0,
               basis="accelerator")
    assert d.value == pytest.approx(25e6) and d.source == "vendor:vivado_hls-2019.2" and d.basis == "accelerator"
    assert weakest_source("measured:ina226", "estimate:m", None) == "estimate:m"


def test_results_view_of_a_full_run() -> None:
    res = Results(full_results())
    assert res.clock_period_ns == 10.0
    assert res.accuracy("csim").value == pytest.approx(0.9722) and res.accuracy("csim").source == "emulated"
    assert res.best_accuracy().value == pytest.approx(0.9722)
    assert res.latency.value == pytest.approx(9e-8) and res.latency.basis == "accelerator"
    assert res.ii_cycles.value == 1 and res.latency_cycles.source.startswith("vendor:")
    assert res.resource("lut").unit == "count"


def test_results_view_of_nothing_is_all_missing() -> None:
    res = Results(empty_results("d", "b"))
    for f in (res.latency, res.throughput, res.energy, res.inferences_per_joule, res.accuracy_per_joule,
              res.best_accuracy(), res.power_active, res.resource("dsp")):
        assert f.value is None and f.source is None
    assert Results(None).latency.value is None


def test_build_uses_the_target_clock_for_latency_and_throughput() -> None:
    o = StepOutputs("d", "pynq-z2", "xc7z020clg400-1", 10.0, {"lut": 53200, "ff": 106400, "dsp": 220, "bram_18k": 280},
                    synth={"source": "vendor:vivado_hls-2019.2", "resources": {"lut": 100},
                           "latency_cycles": {"worst": 12, "best": 10}, "ii_cycles": {"max": 3},
                           "clock_ns": {"target": 10.0, "estimated": 7.5}})
    r = build(o, provenance=False)
    assert r["clock_ns"] == r["clock_period_ns"] == 10.0
    assert r["latency"]["seconds"] == pytest.approx(12 * 10e-9)          # target clock, not the estimate
    assert r["throughput"]["samples_per_s"] == pytest.approx(1 / (3 * 10e-9))
    assert math.isclose(Results(r).throughput.value, r["throughput"]["samples_per_s"])
    assert r["utilization"]["lut"] == pytest.approx(100 / 53200)
