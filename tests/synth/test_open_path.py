"""The open synthesis path end to end on a tiny QKeras MLP, plus its failure modes.

One tiny network (8 -> 6 (BN, relu) -> 4, random weights, output type narrowed so that RND_CONV
ties and saturation really happen) goes through trace -> pipelined Verilog -> Verilator ->
Yosys; the RTL must equal hls4ml's C-simulation on every input, bit for bit. Then: a layer the
path cannot build (exit 2), io_stream (exit 2), a missing tool (exit 3), a mismatch (exit 4).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytest.importorskip("da4ml")
pytest.importorskip("hls4ml")
pytest.importorskip("qkeras")

from hwflow.errors import BadInput, StepFailed, ToolMissing  # noqa: E402

OUTPUT_T = "fixed<6,1,RND_CONV,SAT>"  # narrow: the 4 outputs saturate and round ties to even


def _convert(model, out_dir, *, io_type="io_parallel", patch=None):
    import hls4ml

    from hwflow.hlsconfig import converter_kwargs, hls_config_for

    cfg, kw = converter_kwargs(hls_config_for(model, io_type=io_type))
    if patch:
        patch(cfg["LayerName"])
    hls = hls4ml.converters.convert_from_keras_model(model, hls_config=cfg, output_dir=str(out_dir),
                                                     backend="Vivado", **kw)
    hls.write()
    return hls


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from hwflow.emu import examples
    from hwflow.emu.csim import CSim

    model = examples.mlp([8, 6, 4], output="linear", batchnorm=True, seed=3)

    def patch(layers):
        layers.setdefault("output", {}).setdefault("Precision", {})["result"] = OUTPUT_T

    hls = _convert(model, tmp_path_factory.mktemp("open-hls"), patch=patch)
    x = examples.inputs_for(model, 400, seed=5, scale=1.5)
    lsb = 2.0**-6
    x[:100] = np.round(x[:100] / lsb) * lsb + lsb / 2  # input ties (the input type rounds to even too)
    y = np.asarray(CSim(hls.config.get_output_dir(), cache_dir=tmp_path_factory.mktemp("csim")).predict(x),
                   dtype=np.float64)
    return hls, x, y


@pytest.fixture(scope="module")
def opened(tiny, tmp_path_factory):
    from hwflow.synth.open.flow import run_open

    hls, x, y = tiny
    out = tmp_path_factory.mktemp("open")
    lines: list[str] = []
    res = run_open(hls, x, y, out, design="tiny-open", part="xc7z020clg400-1", family="zynq7000",
                   clock_ns=4.0, pipelined=True, reference="C-sim", say=lines.append)
    return res, out, lines


def test_reference_exercises_rounding_and_saturation(tiny):
    hls, x, y = tiny
    assert np.sum(y == 1.0 - 2.0**-5) > 10 and np.sum(y == -1.0) > 10  # saturated at both ends of fixed<6,1>
    assert np.all(y * 2**5 == np.round(y * 2**5))


def test_rtl_equals_csim_bit_for_bit(opened):
    res, out, _ = opened
    sim = res["rtl_sim"]
    assert sim["samples"] == 400 and sim["exact_fraction"] == 1.0 and sim["mismatched_values"] == 0
    assert sim["engine"].startswith("verilator-5.") and sim["reference"] == "C-sim"


def test_verilog_is_pipelined_and_written(opened):
    res, out, _ = opened
    v = res["verilog"]
    assert v["pipelined"] and v["pipeline_stages"] >= 2 and v["latency_cycles"] == v["pipeline_stages"] + 1
    src = out / "rtl" / "src" / "tiny_open.v"
    assert src.is_file() and "always @(posedge clk)" in src.read_text()
    assert [layer["class"] for layer in res["layers"]][:2] == ["Input", "Dense"]


def test_yosys_counts_are_labelled_open(opened):
    res, out, lines = opened
    r = res["resources"]
    assert r["source"].startswith("open:yosys-") and "pre-placement" in r["basis"]
    assert r["lut"] > 10 and r["ff"] > 0 and r["carry"] > 0 and r["dsp"] == 0 and r["bram_18k"] == 0
    assert 0.5 * res["da4ml_estimate"]["ff"] < r["ff"] <= res["da4ml_estimate"]["ff"]  # constant/duplicate bits removed
    assert res["da4ml_estimate"]["source"].startswith("estimate:da4ml-")
    t = res["timing"]
    assert t["source"] == r["source"] and 0 < t["logic_delay_ns"] < 20 and "no routing" in t["basis"]
    assert any("yosys:" in ln and "open:yosys-" in ln for ln in lines)


def test_a_mismatch_fails_naming_sample_and_output():
    from hwflow.synth.open.rtl import compare

    y = np.zeros((5, 3))
    bad = y.copy()
    bad[3, 2] = 0.25
    with pytest.raises(StepFailed, match=r"sample 3, output 2") as e:
        compare(bad, y, "verilator-x", "C-sim")
    assert e.value.exit_code == 4


def test_unsupported_layer_exits_2(tmp_path):
    import tensorflow as tf

    from hwflow.synth.open.flow import run_open

    inp = tf.keras.Input((4,))
    model = tf.keras.Model(inp, tf.keras.layers.Activation("tanh", name="squash")(tf.keras.layers.Dense(3, name="d")(inp)))
    hls = _convert(model, tmp_path / "hls")
    with pytest.raises(BadInput, match=r"layer 'squash'.*tanh.*HLS path") as e:
        run_open(hls, np.zeros((1, 4)), np.zeros((1, 3)), tmp_path / "o", design="t", part="xc7z020clg400-1",
                 family="zynq7000", clock_ns=10, synthesize=False, say=lambda m: None)
    assert e.value.exit_code == 2


def test_io_stream_exits_2(tmp_path):
    from hwflow.emu import examples
    from hwflow.synth.open.flow import run_open

    hls = _convert(examples.mlp([4, 3], output="linear"), tmp_path / "hls", io_type="io_stream")
    with pytest.raises(BadInput, match="io_parallel"):
        run_open(hls, np.zeros((1, 4)), np.zeros((1, 3)), tmp_path / "o", design="t", part="xc7z020clg400-1",
                 family="zynq7000", clock_ns=10, synthesize=False, say=lambda m: None)


@pytest.mark.parametrize("tool", ["verilator", "yosys", "da4ml"])
def test_missing_tool_exits_3(monkeypatch, tool):
    from hwflow.synth.open.flow import check_tools

    monkeypatch.setenv("HWFLOW_OPEN_DISABLE", tool)
    with pytest.raises(ToolMissing, match=rf"{tool} is missing.*") as e:
        check_tools()
    assert e.value.exit_code == 3 and "pip install" in (e.value.hint or "")


def test_entry_point_missing_tool_exit_code(monkeypatch, capsys):
    from hwflow.synth.open.__main__ import main

    monkeypatch.setenv("HWFLOW_OPEN_DISABLE", "yosys")
    assert main(["digits_mlp", "--board", "pynq-z2"]) == 3
    assert "yosys is missing" in capsys.readouterr().err


def test_results_block_and_report_section_keep_sources_apart(opened):
    from hwflow.report.doc import Section, Table
    from hwflow.synth.open.report import open_section
    from hwflow.synth.open.step import results_block

    res, _, _ = opened
    synth_json = {"tool": "open", "level": "open", "open": res}
    assert "resources" not in synth_json and "source" not in synth_json  # never read as a vendor report
    blk = results_block(synth_json)
    assert blk["rtl_sim"]["exact_fraction"] == 1.0
    o = blk["open_synth"]
    assert o["source"].startswith("open:yosys-") and o["resources"]["lut"] == res["resources"]["lut"]
    assert "cells" not in o["resources"]
    r = {**blk, "estimate": {"resources": {"lut": 1234, "ff": 56, "dsp": 7, "bram_18k": 0},
                             "source": "estimate:hwflow-analytic-v2"}}
    sec = open_section(r)
    assert isinstance(sec, Section)
    table = next(b for b in sec.blocks if isinstance(b, Table))
    lut_row = table.rows[0]
    assert lut_row[1].source == o["source"] and lut_row[3].source == "estimate:hwflow-analytic-v2"
    assert lut_row[3].text == "1,234" and lut_row[1].text == f"{res['resources']['lut']:,}"
    assert open_section({"estimate": r["estimate"]}) is None
    assert results_block({"level": "csynth", "resources": {"lut": 1}}) == {}


def test_combinational_verilog_equals_csim(tiny, tmp_path):
    """``--comb``: one combinational module, simulated without a clock; same bits."""
    from hwflow.synth.open.flow import run_open

    hls, x, y = tiny
    res = run_open(hls, x, y, tmp_path / "open", design="tiny_comb", part="xc7z020clg400-1", family="zynq7000",
                   clock_ns=4.0, pipelined=False, synthesize=False, say=lambda m: None)
    assert res["rtl_sim"]["exact_fraction"] == 1.0 and not res["verilog"]["pipelined"]
    assert "resources" not in res  # Yosys not asked for: no counts invented
    assert "posedge" not in (tmp_path / "open" / "rtl" / "src" / "tiny_comb.v").read_text()
