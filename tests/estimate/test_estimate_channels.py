"""What the top books between layers: io_stream FIFOs, and the channels between the layer
processes of an io_parallel dataflow top.

hls4ml (>= 0.8) builds an io_parallel design whose convolution runs in several partitions
as a dataflow of layer processes; the arrays between them are partitioned completely, so
every element is a depth-2 FIFO booked at the top level (a Vitis HLS CNN: 98 k of its 197 k
FF). The vendor reports' own FIFO rows check the cost per channel.
"""

from __future__ import annotations

import re
import textwrap

import pytest

from hwflow.estimate import LayerSpec, load_calibration
from hwflow.estimate.channels import CHANNEL_FF, STREAM_FIFO_FF, fifo_features
from hwflow.estimate.dataset import load_design
from hwflow.estimate.fit import _context
from hwflow.estimate.model import make_context
from hwflow.estimate.project import read_project
from hwflow.estimate.structs import layers_from_document


def _conv(partitions=16, cfg_partitions=None):
    return LayerSpec(name="pw1", kind="pointwise_conv1d", func="nnet::pointwise_conv_1d_cl", n_in=16 * 21,
                     n_out=16 * 32, n_chan=21, n_filt=32, in_width=16, out_width=16, reuse_factor=1,
                     io_type="io_parallel", weight_bits=9, input_bits=16, accum_bits=16, result_bits=16,
                     n_weights=21 * 32, n_partitions=partitions,
                     cfg_partitions=partitions if cfg_partitions is None else cfg_partitions)


def _relu(n=512, bits=9):
    return LayerSpec(name="relu1", kind="activation", op="relu", func="nnet::relu", n_in=n, n_out=n,
                     io_type="io_parallel", input_bits=16, result_bits=bits)


def test_a_convolution_in_partitions_makes_the_io_parallel_top_a_dataflow():
    assert make_context([_conv(16), _relu()], "xcvu9p-flga2104-2L-e", 2.8).dataflow
    # an old pointwise kernel unrolls its partitions, but hls4ml still chose a dataflow top
    assert make_context([_conv(1, cfg_partitions=10), _relu()], None, 5).dataflow
    # one partition, or a config without partitions (hls4ml < 0.8): one pipelined function
    assert not make_context([_conv(1, cfg_partitions=1), _relu()], None, 5).dataflow
    assert not make_context([_conv(None, cfg_partitions=0), _relu()], None, 5).dataflow


def test_channels_cost_registers_per_tool_and_exist_only_where_the_top_partitions():
    layers = [_conv(16), _relu()]
    vitis = make_context(layers, "xcvu9p-flga2104-2L-e", 2.8, tool="vitis_hls")
    vivado = make_context(layers, "xcvu9p-flga2104-2L-e", 2.8, tool="vivado_hls")
    h = load_calibration()["hyper"]
    relu = layers[1]
    assert fifo_features(relu, vitis, h)["ff_chan"] == 512 * CHANNEL_FF["vitis_hls"] == 512 * 36
    assert fifo_features(relu, vivado, h)["ff_chan"] == 512 * 5
    assert fifo_features(relu, vivado, h)["lut_chan"] == 512 * (9 + 12)
    # no ARRAY_PARTITION in the top (an old writer's ping-pong memories): no channels
    relu.top_partitioned = False
    assert fifo_features(relu, vitis, h) == {}
    relu.top_partitioned = None
    # a flatten writes no channel; an output over a block RAM stays an array
    flat = LayerSpec(name="flat", kind="reshape", n_in=512, n_out=512, io_type="io_parallel")
    assert fifo_features(flat, vitis, h) == {}
    assert fifo_features(_relu(n=4096, bits=16), vitis, h) == {}
    # a pipelined io_parallel top (no convolution in partitions) has no channels
    mlp = make_context([relu], None, 5, tool="vitis_hls")
    assert not mlp.dataflow and fifo_features(relu, mlp, h) == {}
    # and the estimate grows by them
    from hwflow.estimate import estimate_layers

    with_ch = estimate_layers([_conv(16), _relu()], part="xcvu9p-flga2104-2L-e", clock_ns=2.8, tool="vitis_hls")
    old = [_conv(16), _relu()]
    for l in old:
        l.top_partitioned = False
    without = estimate_layers(old, part="xcvu9p-flga2104-2L-e", clock_ns=2.8, tool="vitis_hls")
    assert with_ch["resources"]["ff"] > without["resources"]["ff"] + 0.5 * (512 + 512) * 36


def test_the_top_functions_pragmas_are_read_from_the_project(tmp_path):
    fw = tmp_path / "firmware"
    fw.mkdir()
    (fw / "defines.h").write_text("#define N_INPUT_1_1 16\ntypedef ap_fixed<16,6> input_t;\n"
                                  "typedef ap_fixed<16,6> layer2_t;\ntypedef ap_fixed<8,3> weight2_t;\n")
    (fw / "parameters.h").write_text(textwrap.dedent("""
        // fc1
        struct config2 : nnet::dense_config {
            static const unsigned n_in = 16;
            static const unsigned n_out = 8;
            static const unsigned io_type = nnet::io_parallel;
            static const unsigned reuse_factor = 1;
            typedef weight2_t weight_t;
        };
    """))
    body = "    nnet::dense<input_t, layer2_t, config2>(input_1, layer2_out, w2, b2); // fc1\n"
    commented = "// #pragma HLS ARRAY_PARTITION variable=layer2_out complete dim=0\n    #pragma HLS DATAFLOW\n"
    for pragmas, expect in (("#pragma HLS ARRAY_PARTITION variable=layer2_out complete dim=0\n"
                             "    #pragma hls dataflow\n", True), (commented, False)):
        (fw / "myproject.cpp").write_text(
            "void myproject(input_t input_1[16], layer2_t layer2_out[8]) {\n    " + pragmas + body + "}\n")
        doc = read_project(tmp_path)
        assert ("ARRAY_PARTITION" in doc["top_pragmas"]) is expect and "DATAFLOW" in doc["top_pragmas"]
        assert [s.top_partitioned for s in layers_from_document(doc)] == [expect]


def _fixture_features(fixtures_dir, folder):
    """A fixture's folder, design context and the top-level (FIFO / channel) features per layer."""
    path = fixtures_dir / folder
    if not path.is_dir():
        pytest.skip(f"fixture {folder} absent")
    d = load_design(path)
    ctx = _context(d)
    h = load_calibration()["hyper"]
    return path, ctx, [fifo_features(s, ctx, h) for s in d.layers]


def _fifo_row(report: str) -> tuple[int, int, int]:
    """FF, LUT and BRAM_18K of the top's FIFO row in a csynth report's utilization summary."""
    m = re.search(r"^\|FIFO\s*\|([^\n]*)", report, re.M)
    cells = [c.strip() for c in m.group(1).split("|")]
    return int(cells[2]), int(cells[3]), int(cells[0]) if cells[0].isdigit() else 0


@pytest.mark.parametrize("folder, report", [
    ("101_CMS-L1T-Jet-Tagging_CL2TaggerFirmware_cl2tagger_deepsets_vu9p", "JetTaggerNN_csynth.rpt"),
    ("48_calwilee_hls4ml-automated-testing_qkmodel_cnn_u250", "myproject_csynth.rpt"),
    ("12_Brainz22_L1JetTagger_l1jettagger_cnn1d", "myproject_csynth.rpt"),
])
def test_channel_costs_match_the_vendor_fifo_rows(fixtures_dir, folder, report):
    path, ctx, feats = _fixture_features(fixtures_dir, folder)
    assert ctx.dataflow and ctx.io_type == "io_parallel"
    ff = sum(f.get("ff_chan", 0.0) for f in feats)
    lut = sum(f.get("lut_chan", 0.0) for f in feats)
    ff_rep, lut_rep, _ = _fifo_row((path / report).read_text(errors="replace"))
    # the registers within 20 % of what the report books for its FIFOs (Vitis HLS: 98 k)
    assert abs(ff - ff_rep) <= 0.2 * ff_rep, (ff, ff_rep)
    # LUTs within a factor 2 (Vivado HLS drops some channels of a pruned design)
    assert lut_rep / 2 <= lut <= 2 * lut_rep, (lut, lut_rep)


def test_an_old_resource_design_without_partitioned_arrays_has_no_channels(fixtures_dir):
    path = fixtures_dir / "05_filipemlins_nas-hls4ml_nas_cnn_z7007s"
    if not path.is_dir():
        pytest.skip("fixture 05 absent")
    d = load_design(path)
    ctx = _context(d)
    assert ctx.dataflow and all(s.top_partitioned is False for s in d.layers)
    h = load_calibration()["hyper"]
    assert not any("ff_chan" in fifo_features(s, ctx, h) for s in d.layers)
    assert re.search(r"^\|FIFO\s*\|\s*-\|\s*-\|\s*-\|", (path / "myproject_csynth.rpt").read_text(), re.M)


def _stream_dense(n_out=64, depth=None, bits=16):
    return LayerSpec(name="fc", kind="dense", func="nnet::dense", n_in=16, n_out=n_out, io_type="io_stream",
                     weight_bits=bits, input_bits=bits, accum_bits=bits, result_bits=bits, n_weights=16 * n_out,
                     out_pack=n_out, fifo_depth=depth)


def test_vivado_splits_a_stream_word_into_fifos_vitis_packs_it_into_one():
    h = load_calibration()["hyper"]
    spec = _stream_dense(n_out=64, depth=1)
    for tool in ("vivado_hls", "vitis_hls"):
        ctx = make_context([spec], "xczu7ev-ffvc1156-2-e", 10, tool=tool)
        f = fifo_features(spec, ctx, h)
        n_fifo = 64 if tool == "vivado_hls" else 1
        assert f["ff_fifo"] == n_fifo * STREAM_FIFO_FF[tool, False], tool
        assert f["lut_fifo"] == n_fifo * 10.0
        assert f["lut_srl"] == 64 * 16 / 32.0 and "bram_fifo" not in f  # the same bits either way
    # a deep FIFO in block RAM: Vivado HLS one per element, Vitis HLS 18 bits of the word per BRAM
    deep = _stream_dense(n_out=25, depth=64)
    viv = fifo_features(deep, make_context([deep], None, 5, tool="vivado_hls"), h)
    vit = fifo_features(deep, make_context([deep], None, 5, tool="vitis_hls"), h)
    assert viv["bram_fifo"] == 25 and viv["ff_fifo"] == 25 * STREAM_FIFO_FF["vivado_hls", True]
    assert vit["bram_fifo"] == 23 and vit["ff_fifo"] == STREAM_FIFO_FF["vitis_hls", True]  # 400 bits / 18


@pytest.mark.parametrize("folder, tol", [
    ("61_pominiq_DNNonSilicon_dnnsil_cnn_rf16", 0.15),  # Vivado HLS: 46 FIFOs, 12 in BRAM
    ("60_pominiq_DNNonSilicon_dnnsil_mlp_stream_rf8", 0.15),  # Vivado HLS: 259 shift-register FIFOs
    ("105_abdennour-GUESSOUM_Lenet5-hls4ml_lenet5_q8_stream", 0.15),  # Vitis HLS: 13 packed FIFOs
])
def test_stream_fifo_registers_and_block_rams_match_the_vendor_fifo_rows(fixtures_dir, folder, tol):
    path, ctx, feats = _fixture_features(fixtures_dir, folder)
    assert ctx.io_type == "io_stream"
    ff = sum(f.get("ff_fifo", 0.0) for f in feats)
    bram = sum(f.get("bram_fifo", 0.0) for f in feats)
    ff_rep, _, bram_rep = _fifo_row((path / "myproject_csynth.rpt").read_text(errors="replace"))
    assert abs(ff - ff_rep) <= tol * ff_rep, (ff, ff_rep)
    assert abs(bram - bram_rep) <= 0.2 * bram_rep, (bram, bram_rep)
