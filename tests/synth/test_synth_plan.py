"""Reading the hls4ml project and planning a level: which tool runs which script."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwflow.errors import BadInput
from hwflow.synth.plan import BoardInfo, choose_hls_tool, hls4ml_build_args, make_plan
from hwflow.synth.project import parse_top_signature, read_hls_project
from hwflow.tools import ToolInfo

PYNQ = BoardInfo(name="pynq-z2", part="xc7z020clg400-1", family="zynq7000", hls4ml_board="pynq-z2")
ZCU104 = BoardInfo(name="zcu104", part="xczu7ev-ffvc1156-2-e", family="zynqmp")
U250 = BoardInfo(name="alveo-u250", part="xcu250-figd2104-2L-e", family="alveo", hls4ml_board="alveo-u250")


def test_reads_the_projects_convert_wrote(prepared) -> None:
    acc = read_hls_project(prepared["build"] / "tiny_synth" / "pynq-z2" / "hls")
    assert acc.backend == "vivadoaccelerator" and acc.accelerator
    assert acc.name == "myproject" and acc.part == "xc7z020clg400-1" and acc.clock_period_ns == 10.0
    assert acc.has_hls4ml_build_prj and acc.has_hls4ml_design_tcl and acc.has_hls4ml_axi_wrapper
    assert [(p.type_name, p.size) for p in acc.inputs] == [("input_t", 64)]
    assert [(p.type_name, p.size) for p in acc.outputs] == [("result_t", 10)]
    vit = read_hls_project(prepared["build"] / "tiny_synth" / "zcu104" / "hls")
    assert vit.backend == "vitis" and not vit.accelerator and not vit.has_hls4ml_build_prj
    assert vit.clock_uncertainty == "27%" and vit.io_type == "io_parallel"


def test_stream_signature_sizes_come_from_the_bridge(tmp_path: Path) -> None:
    (tmp_path / "firmware").mkdir()
    (tmp_path / "project.tcl").write_text('set project_name "myproject"\nset backend "vitis"\n'
                                          'set part "xck26-sfvc784-2LV-c"\nset clock_period 5\n')
    (tmp_path / "firmware" / "myproject.h").write_text(
        "void myproject(\n    hls::stream<input_t> &x_in,\n    hls::stream<result_t> &layer8_out\n);\n")
    (tmp_path / "myproject_bridge.cpp").write_text(
        "void myproject_float(\n    float *x_in,\n    float *layer8_out\n) {\n"
        "    nnet::convert_data<float, input_t, 8*8*1>(x_in, x_in_ap);\n"
        "    nnet::convert_data<result_t, float, 10>(layer8_out_ap, layer8_out);\n}\n")
    p = read_hls_project(tmp_path)
    assert p.io_type == "io_stream" and p.clock_period_ns == 5.0
    assert (p.inputs[0].size, p.outputs[0].size) == (64, 10) and p.inputs[0].stream


def test_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="project.tcl"):
        read_hls_project(tmp_path)
    with pytest.raises(BadInput, match="unrecognised argument"):
        parse_top_signature("void myproject(int *x, result_t y[3]);", "myproject")


def _info(name: str, version: str) -> ToolInfo:
    return ToolInfo(name=name, found=True, path=f"/x/{name}", version=version, status="supported")


def test_tool_preference(monkeypatch) -> None:
    everything = {n: _info(n, v) for n, v in (("vivado_hls", "2020.1"), ("vitis_hls", "2023.2"),
                                             ("vitis-run", "2024.2"))}
    assert choose_hls_tool(True, everything).name == "vivado_hls"      # hls4ml's accelerator flow
    assert choose_hls_tool(False, everything).name == "vitis-run"      # Vitis projects need Vitis HLS
    only_vivado_hls = {"vivado_hls": everything["vivado_hls"]}
    assert choose_hls_tool(False, only_vivado_hls) is None
    monkeypatch.setenv("HWFLOW_HLS_TOOL", "vitis_hls")
    assert choose_hls_tool(True, everything).name == "vitis_hls"
    monkeypatch.setenv("HWFLOW_HLS_TOOL", "vivado_hls")
    with pytest.raises(BadInput, match="needs Vitis HLS"):
        choose_hls_tool(False, everything)


def test_plans(prepared) -> None:
    acc = read_hls_project(prepared["build"] / "tiny_synth" / "pynq-z2" / "hls")
    vit = read_hls_project(prepared["build"] / "tiny_synth" / "zcu104" / "hls")
    p = make_plan(acc, PYNQ, level="bitfile", cosim=False, design="d", hls_tool="vivado_hls")
    assert (p.driver, p.wrapper, p.block_design, p.dma) == ("hls4ml", "hls4ml", "hls4ml", "hier_0/axi_dma_0")
    p = make_plan(acc, PYNQ, level="bitfile", cosim=False, design="d", hls_tool="vitis-run")
    assert (p.driver, p.wrapper, p.block_design, p.dma) == ("hwflow", "hwflow", "hwflow", "axi_dma_0")
    p = make_plan(vit, ZCU104, level="csynth", cosim=True, design="d", hls_tool="vitis_hls")
    assert [c.name for c in p.commands] == ["hls"] and p.vivado_tool is None and "cosim" in p.outputs
    p = make_plan(vit, ZCU104, level="bitfile", cosim=False, design="d", hls_tool="vitis-run", clock_ns=4.0)
    assert p.pl_clock_mhz == 250.0 and p.outputs["bit"] == "bitfile/d.bit"
    assert any("vivado_board_part" in n for n in p.notes)
    with pytest.raises(BadInput, match="Vitis backend"):
        make_plan(vit, ZCU104, level="csynth", cosim=False, design="d", hls_tool="vivado_hls")
    with pytest.raises(BadInput, match="not supported for board alveo-u250"):
        make_plan(acc, U250, level="bitfile", cosim=False, design="d", hls_tool="vivado_hls")


def test_hls4ml_arguments_keep_hls4mls_order() -> None:
    """build_prj.tcl takes the first `synth=` match; `vsynth=` contains it and must come later."""
    args = hls4ml_build_args(cosim=True, export=False)
    assert args == "reset=1 csim=0 synth=1 cosim=1 validation=0 export=0 vsynth=0 fifo_opt=0"
    assert args.index(" synth=") < args.index("vsynth=")
