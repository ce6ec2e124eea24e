"""results.json keys of issue 15 and the report's like-for-like table (no flow run: fast)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from hwflow.config import load_board
from hwflow.energy import compare, flow
from hwflow.energy.design import console_lines, contract_keys
from hwflow.estimate.energy import energy_for

IO = {"input_shape": [64], "output_shape": [10], "input": "float", "output": "float"}


def _block(board="pynq-z2", **kw):
    args = dict(io=IO, latency_cycles=16, ii_cycles=4, clock_ns=10.0,
                resources={"lut": 46000, "ff": 6500, "dsp": 4, "bram_18k": 4}, timing_source="estimate:x")
    args.update(kw)
    return energy_for(load_board(board), **args)


def test_contract_keys_carry_every_basis_with_its_source():
    k = contract_keys(_block())
    assert k["basis"] == "batch1_system"
    for b in ("batch1_system", "batched_system", "accelerator"):
        assert k[f"{b}_uj"] > 0 and k[f"{b}_source"].startswith("estimate:")
    assert k["best_batch"] > 1 and k["batch1_system_uj"] > k["batched_system_uj"] > k["accelerator_uj"]
    lines = console_lines(_block())
    assert len(lines) == 3 and "[batch1_system] (headline)" in lines[0] and "estimate:" in lines[0]


def test_io_bytes_follow_the_wire_format():
    b = _block()
    assert b["io_bytes"] == {"in": 64 * 4, "out": 10 * 4}


def test_boards_without_figures_say_not_estimated():
    b = _block("kv260")  # no power figure, no published driver overhead
    k = contract_keys(b)
    assert k["basis"] is None and k["batch1_system_uj"] is None and "not estimated" in k["batch1_system_note"]
    z = contract_keys(_block("zcu104"))  # idle cited, host overhead not: accelerator only
    assert z["basis"] == "accelerator" and z["accelerator_uj"] > 0 and z["batch1_system_uj"] is None
    assert "host driver overhead" in z["batch1_system_note"]


def _outputs(est, deploy=None, baseline=None, synth=None):
    board = load_board("pynq-z2")
    return SimpleNamespace(estimate=est, synth=synth or {}, deploy=deploy or {}, baseline=baseline or {},
                           board_info={"family": board.family, "power": board.power.model_dump(),
                                       "data_movement": board.data_movement.model_dump()},
                           workdir=None, clock_period_ns=10.0)


def test_apply_sets_headline_basis_and_keeps_the_emulated_figure_aside():
    blk = _block()
    r = {"energy": {"uj_per_inference": 0.0632, "source": "emulated", "model": "m", "dynamic_uj_per_inference": 0.0}}
    cpu = {"latency_us_batch1": 500.0, "uj_per_inference_batch1": 1e4, "throughput_per_s_batched": 1e6,
           "uj_per_inference_batched": 12.0, "best_batch": 16384, "source": "estimate:cpu-tdp-load",
           "device_name": "X", "sweep": [{"batch": 1, "uj": 1e4}]}
    flow.apply(r, _outputs({"energy_bases": blk, "io": IO}, baseline={"cpu": cpu, "gpu_note": "no GPU here"}), 0.97)
    e = r["energy"]
    assert e["basis"] == "batch1_system" and e["uj_per_inference"] == pytest.approx(blk["uj_per_inference"], rel=1e-3)
    assert e["emulated"] == {"basis": "accelerator", "uj_per_inference": 0.0632, "model": "m",
                             "dynamic_uj_per_inference": 0.0}
    assert e["accuracy_per_joule"] == pytest.approx(0.97 * 1e6 / e["uj_per_inference"])
    assert r["baseline"]["cpu"]["uj_per_inference_batched"] == 12.0
    assert r["baseline"]["gpu"] == {"status": "no GPU", "note": "no GPU here"}


def test_a_measured_deployment_keeps_its_figure_on_the_batched_basis():
    r = {"energy": {"uj_per_inference": 3.0, "source": "measured:pmbus"}}
    flow.apply(r, _outputs({"energy_bases": _block(), "io": IO}))
    assert r["energy"]["uj_per_inference"] == 3.0 and r["energy"]["basis"] == "batched_system"


def test_synthesis_timing_replaces_the_estimate():
    syn = {"latency_cycles": {"worst": 32}, "ii_cycles": {"max": 8}, "source": "vendor:vivado_hls-2020.1",
           "resources": {"lut": 1000, "ff": 1000, "dsp": 1, "bram_18k": 0}}
    blk = flow.energy_block(_outputs({"energy_bases": _block(), "io": IO}, synth=syn))
    assert blk["timing_source"] == "vendor:vivado_hls-2020.1"
    assert blk["bases"]["accelerator"]["time_s"] == pytest.approx(8 * 10e-9)


def test_like_for_like_places_each_figure_in_its_basis_and_gives_a_verdict():
    r = {"board": "pynq-z2", "energy": {}}
    cpu = {"uj_per_inference_batch1": 1e4, "uj_per_inference_batched": 12.0, "best_batch": 16384,
           "source": "estimate:cpu-tdp-load", "device_name": "X"}
    flow.apply(r, _outputs({"energy_bases": _block(), "io": IO}, baseline={"cpu": cpu}))
    anchors = [{"system": "PYNQ-Z2, hls4ml", "task": "AD08", "batch": 1, "uj_per_inference": 30.0, "source": "MLPerf"},
               {"system": "H100", "task": "MLP", "batch": 65536, "uj_per_inference": 0.08, "source": "NVML"}]
    t = compare.like_for_like(r, anchors)
    by = {row["label"]: row for row in t["rows"]}
    assert by["PYNQ-Z2, hls4ml: AD08"]["cells"]["batch1_system"]["uj"] == 30.0
    assert by["PYNQ-Z2, hls4ml: AD08"]["cells"]["batched_system"]["uj"] is None
    assert by["H100: MLP"]["cells"]["batched_system"]["uj"] == 0.08
    assert by["GPU"]["cells"]["batch1_system"]["uj"] is None
    assert "batch-1 system basis the FPGA is better" in t["verdict"]
    assert "batched system (best batch) basis the FPGA is better" in t["verdict"]
    assert "No like-for-like verdict" in compare.verdict([])


def test_emulated_figure_stays_headline_when_the_model_has_only_the_accelerator_basis():
    r = {"energy": {"uj_per_inference": 0.5, "source": "emulated"}}
    o = _outputs({"energy_bases": _block("zcu104"), "io": IO})
    flow.apply(r, o)
    assert r["energy"]["source"] == "emulated" and r["energy"]["uj_per_inference"] == 0.5
    assert r["energy"]["basis"] == "accelerator" and r["energy"]["accelerator_uj"] > 0


def test_a_synthesis_power_report_gives_the_vendor_dynamic_part(tmp_path):
    from test_energy_model import REPORT

    (tmp_path / "synth").mkdir()
    (tmp_path / "synth" / "power.rpt").write_text(REPORT)
    syn = {"latency_cycles": 32, "ii_cycles": 8, "source": "vendor:vivado-2019.2", "version": "2019.2",
           "resources": {"lut": 1000}, "reports": {"bitfile_power": "synth/power.rpt"}}
    o = _outputs({"energy_bases": _block(), "io": IO}, synth=syn)
    o.workdir = str(tmp_path)
    blk = flow.energy_block(o)
    assert blk["dynamic"]["source"] == "vendor:vivado-2019.2"
    assert blk["dynamic"]["w"] == pytest.approx(1.496 - 0.130 - 1.256)  # PS7 removed
    assert blk["bases"]["accelerator"]["above_idle_uj"] == pytest.approx(0.110 * 8 * 10e-9 * 1e6, rel=1e-6)
