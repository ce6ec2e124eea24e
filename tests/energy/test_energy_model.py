"""Data movement, power with a dynamic part, and the three energy bases (pure functions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwflow.energy import bases, coefficients, datamove, power
from hwflow.energy.vendor_power import components, pl_dynamic_w

PYNQ_Z2_POWER = {"idle_w": None, "active_w": 1.58,
                 "source": "MLPerf Tiny v0.7 open, hls4ml-finn PYNQ-Z2 (AD08)"}


def _acc(**kw):
    base = dict(in_bytes=64 * 4, out_bytes=64 * 4, latency_cycles=108, ii_cycles=81, clock_ns=10.0)
    base.update(kw)
    return datamove.Accelerator(**base)


# -- data movement --------------------------------------------------------------------------

def test_transfer_sizes_and_times_follow_bytes_width_and_clock():
    dm = datamove.for_board("zynq7000")
    ct = datamove.call_time(10, _acc(), dm)
    assert ct["bytes_in"] == 10 * 256 and ct["bytes_out"] == 10 * 256
    f = 100e6
    assert ct["parts"]["transfer_in_s"] == pytest.approx(2560 / (4 * f * 0.9976))
    assert ct["parts"]["transfer_out_s"] == pytest.approx(2560 / (4 * f * 0.7464))
    assert ct["parts"]["dma_setup_s"] == pytest.approx((44 + 49) / f)
    # twice the clock period: every PL-side part doubles, the host part does not
    ct2 = datamove.call_time(10, _acc(clock_ns=20.0), dm)
    assert ct2["parts"]["transfer_in_s"] == pytest.approx(2 * ct["parts"]["transfer_in_s"])
    assert ct2["parts"]["host_s"] == ct["parts"]["host_s"] == pytest.approx(125e-6)


def test_batch_amortises_the_per_call_overhead():
    dm = datamove.for_board("zynq7000")
    acc = _acc()
    per = [datamove.call_time(n, acc, dm)["total_s"] / n for n in (1, 16, 256, 4096)]
    assert per == sorted(per, reverse=True)
    # at a large batch the per-inference time approaches the slowest stream (S2MM here)
    stream = 256 / (4 * 100e6 * 0.7464)
    assert per[-1] == pytest.approx(stream, rel=0.05)
    assert per[0] > 100 * per[-1]


def test_dma_limit_bounds_the_batch_grid():
    dm = datamove.for_board("zynq7000", {"max_transfer_bytes": 16383})  # 14-bit length register
    acc = _acc()
    assert datamove.max_batch(acc, dm) == 16383 // 256
    grid = datamove.batch_grid(65536, datamove.max_batch(acc, dm))
    assert grid[0] == 1 and grid[-1] == 63 and 32 in grid


def test_unknown_parameter_gives_none_with_a_reason():
    dm = datamove.for_board("zynqmp")  # no published Python-driver figure on the A53
    ct = datamove.call_time(1, _acc(), dm)
    assert ct["total_s"] is None and "host driver overhead per call" in ct["missing"]


# -- power ----------------------------------------------------------------------------------

def test_per_resource_dynamic_power_scales_with_clock_and_counts():
    res = {"lut": 10000, "ff": 10000, "dsp": 10, "bram_18k": 4}
    d100 = power.per_resource_dynamic(res, 10.0, "zynq7000")
    d200 = power.per_resource_dynamic(res, 5.0, "zynq7000")
    assert d100["w"] > 0 and d100["source"] == "estimate:pl-dynamic-per-resource"
    assert d200["w"] == pytest.approx(2 * d100["w"])
    assert d100["low"] < d100["w"] < d100["high"]
    d2 = power.per_resource_dynamic({k: 2 * v for k, v in res.items()}, 10.0, "zynq7000")
    assert d2["w"] == pytest.approx(2 * d100["w"])
    assert d100["loo_error"]["worst_factor"] > 1


def test_no_coefficients_means_not_estimated():
    d = power.per_resource_dynamic({"lut": 1000}, 5.0, "versal")
    assert d["w"] is None and "not estimated" in d["note"]
    pm = power.board_power({"idle_w": None, "active_w": None}, d)
    assert pm["full_w"] is None and "not estimated" in pm["notes"][0]


def test_board_power_idle_warmup_run_differ():
    dyn = power.per_resource_dynamic({"lut": 20000, "ff": 20000, "dsp": 50, "bram_18k": 10}, 10.0, "zynq7000")
    pm = power.board_power(PYNQ_Z2_POWER, dyn)
    assert pm["idle_w"] == pytest.approx(1.58 - dyn["w"]) and "estimate" in pm["idle_source"]
    assert power.power_at_duty(pm, 1.0) == pytest.approx(1.58)
    e = bases.energy_bases(_acc(), datamove.for_board("zynq7000"), pm)
    ph = bases.phase_powers(pm, e)
    assert ph["idle_w"] < ph["warmup_w"] < ph["run_w"] <= 1.58 + 1e-12


def test_cited_idle_gives_dynamic_above_it():
    dyn = power.per_resource_dynamic({"lut": 20000, "ff": 20000}, 5.0, "zynqmp")
    pm = power.board_power({"idle_w": 14.05, "active_w": None, "source": "PYNQ ZCU104 notebook"}, dyn)
    assert pm["idle_w"] == 14.05 and pm["full_w"] == pytest.approx(14.05 + dyn["w"])
    assert any("lower bound" in n for n in pm["notes"])


# -- the three bases ------------------------------------------------------------------------

def test_three_bases_are_ordered_and_sourced():
    dyn = power.per_resource_dynamic({"lut": 20000, "ff": 20000, "dsp": 50}, 10.0, "zynq7000")
    pm = power.board_power(PYNQ_Z2_POWER, dyn)
    e = bases.energy_bases(_acc(), datamove.for_board("zynq7000"), pm)
    b1, bb, acc = e["batch1_system"]["uj"], e["batched_system"]["uj"], e["accelerator"]["uj"]
    assert b1 > bb > acc > 0
    assert e["batched_system"]["best_batch"] > 1
    assert acc == pytest.approx(1.58 * 81 * 10e-9 * 1e6)
    lo, hi = e["batch1_system"]["interval_uj"]
    assert lo < b1 < hi
    for k in bases.BASES:
        assert e[k]["source"] and e[k]["above_idle_uj"] is not None and 0 < e[k]["above_idle_uj"] < e[k]["uj"]


def test_mlperf_tiny_ad08_like_design_on_pynq_z2_is_of_the_order_of_the_measurement():
    """AD08-like design (64-72-72-8-72-72-64, 12-bit, resource strategy, io_stream, 10 ns) on the
    PYNQ-Z2: its accelerator-only figure is 1.28 uJ (23x below MLPerf Tiny's 30 uJ); the batch-1
    system figure, with the cited DMA and Python-driver parameters (not tuned to 30 uJ), lands
    within one order of magnitude of it - above it, since MLPerf's harness is not a Python driver."""
    from hwflow.estimate.layerspec import LayerSpec
    from hwflow.estimate.model import make_context, predict

    calib = json.loads((Path(coefficients.__file__).parents[1] / "estimate" / "calibration.json").read_text())
    dims = [64, 72, 72, 8, 72, 72, 64]
    layers = []
    for i in range(len(dims) - 1):
        a, b = dims[i], dims[i + 1]
        layers.append(LayerSpec(name=f"dense{i}", kind="dense", n_in=a, n_out=b, reuse_factor=a, strategy="resource",
                                io_type="io_stream", weight_bits=12, bias_bits=12, input_bits=16, accum_bits=24,
                                result_bits=16, n_weights=a * b, in_pack=a, out_pack=b))
        if i < len(dims) - 2:
            for kind, op in (("batchnorm", None), ("activation", "relu")):
                layers.append(LayerSpec(name=f"{kind}{i}", kind=kind, op=op, n_in=b, n_out=b, io_type="io_stream",
                                        input_bits=16, result_bits=16, in_pack=b, out_pack=b))
    est = predict(layers, make_context(layers, "xc7z020clg400-1", 10.0), calib)
    acc = datamove.Accelerator(in_bytes=64 * 4, out_bytes=64 * 4, latency_cycles=est["latency"],
                               ii_cycles=est["ii"], clock_ns=10.0)
    dyn = power.per_resource_dynamic(est, 10.0, "zynq7000")
    dm = datamove.for_board("zynq7000")
    pm = bases.model_for(acc, dm, PYNQ_Z2_POWER, dyn)
    e = bases.energy_bases(acc, dm, pm)
    # the cited active power is reproduced under its own condition (batch-1 calls)
    assert e["batch1_system"]["power_w"] == pytest.approx(1.58)
    assert e["accelerator"]["power_w"] > 1.58
    published = 30.0
    b1 = e["batch1_system"]["uj"]
    # accelerator only: II x clock x board power at full duty (81 cycles x 10 ns x P)
    assert e["accelerator"]["time_s"] == pytest.approx(0.81e-6, rel=0.01)
    assert published / 10 <= b1 <= published * 10, b1
    assert b1 / e["accelerator"]["uj"] > 50


# -- the derived coefficient table ----------------------------------------------------------

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="../shared/fixtures not present")
def test_coefficient_table_matches_a_fresh_derivation():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "derive", Path(__file__).resolve().parents[2] / "scripts" / "derive_pl_power_coefficients.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    fresh = mod.derive(FIXTURES)
    stored = coefficients.load_table()
    assert fresh["families"].keys() == stored["families"].keys()
    assert len(fresh["points"]) == len(stored["points"])
    for fam, coefs in fresh["families"].items():
        for k, v in coefs.items():
            if v["central"] is not None:
                assert v["central"] == pytest.approx(stored["families"][fam][k]["central"])


REPORT = """\
| Design           : top
+--------------------------+-----------+----------+-----------+-----------------+
| On-Chip                  | Power (W) | Used     | Available | Utilization (%) |
+--------------------------+-----------+----------+-----------+-----------------+
| Clocks                   |     0.020 |        3 |       --- |             --- |
| Slice Logic              |     0.030 |    20000 |       --- |             --- |
|   LUT as Logic           |     0.025 |    10000 |     53200 |           18.80 |
|   Register               |    <0.001 |    10000 |    106400 |            9.40 |
| Signals                  |     0.050 |    10000 |       --- |             --- |
| DSPs                     |     0.010 |       10 |       220 |            4.55 |
| PS7                      |     1.256 |        1 |       --- |             --- |
| Static Power             |     0.130 |          |           |                 |
| Total                    |     1.496 |          |           |                 |
+--------------------------+-----------+----------+-----------+-----------------+

2.2 Clock Constraints
---------------------

+------------+--------+-----------------+
| Clock      | Domain | Constraint (ns) |
+------------+--------+-----------------+
| clk_fpga_0 | x      |            10.0 |
+------------+--------+-----------------+
"""


def test_vendor_report_components_and_pl_dynamic():
    c = components(REPORT)
    assert c["clocks_ns"] == {"clk_fpga_0": 10.0}
    assert c["components"]["Register"]["bound"] is True
    r = pl_dynamic_w(REPORT)
    assert r["processing_system_w"] == 1.256
    assert r["pl_dynamic_w"] == pytest.approx(1.496 - 0.130 - 1.256)
    v = power.vendor_dynamic(REPORT, "2019.2")
    assert v["source"] == "vendor:vivado-2019.2" and v["w"] == pytest.approx(0.110)
    pt = coefficients.point_from_report(REPORT)
    assert pt["dsp_w_per_mhz"] == pytest.approx(0.010 / 10 / 100)
    with pytest.raises(ValueError):
        components("not a report")
