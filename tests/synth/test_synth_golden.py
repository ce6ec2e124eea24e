"""Generated scripts are deterministic text, checked against tests/synth/golden/.

After an intended change of a template, regenerate the golden files and review the diff:

    HWFLOW_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/synth/test_synth_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hwflow.config import load_board
from hwflow.synth.plan import BoardInfo, make_plan
from hwflow.synth.project import HlsProject, TopPort
from hwflow.synth.scripts import render_scripts

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("HWFLOW_UPDATE_GOLDEN") == "1"


def board(name: str, **extra: str) -> BoardInfo:
    b = load_board(name)
    return BoardInfo(name=b.name, part=b.part, family=b.family, hls4ml_board=b.hls4ml_board, **extra)


def project(backend: str, part: str, *, io_type: str = "io_parallel", clock: float = 10.0) -> HlsProject:
    """What read_hls_project returns for a 64-in, 10-out hls4ml MLP (or an 8x8x1 CNN with io_stream)."""
    stream = io_type == "io_stream"
    accel = backend == "vivadoaccelerator"
    return HlsProject(
        root=Path("hls"), name="myproject", backend=backend, part=part, clock_period_ns=clock,
        clock_uncertainty="12.5%" if accel else "27%", io_type=io_type,
        inputs=(TopPort("x_in", "input_t", 64, stream),), outputs=(TopPort("layer7_out", "result_t", 10, stream),),
        has_hls4ml_axi_wrapper=accel, has_hls4ml_design_tcl=accel, has_hls4ml_build_prj=accel)


def cases() -> dict[str, dict[str, str]]:
    out = {}
    pynq = board("pynq-z2")
    acc = project("vivadoaccelerator", "xc7z020clg400-1")
    # hls4ml's own flow: Vivado HLS + hls4ml's build_prj.tcl and design.tcl
    plan = make_plan(acc, pynq, level="csynth", cosim=True, design="digits_mlp", hls_tool="vivado_hls")
    out["pynq-z2_csynth_vivado_hls"] = render_scripts(plan, pynq, acc)
    plan = make_plan(acc, pynq, level="bitfile", cosim=False, design="digits_mlp", hls_tool="vivado_hls",
                     vivado_version="2020.1")
    out["pynq-z2_bitfile_vivado_hls"] = render_scripts(plan, pynq, acc)
    # a board hls4ml knows, built with Vitis HLS: hwflow's wrapper and Zynq-7000 block design
    plan = make_plan(acc, pynq, level="bitfile", cosim=True, design="digits_mlp", hls_tool="vitis_hls")
    out["pynq-z2_bitfile_vitis_hls"] = render_scripts(plan, pynq, acc)
    # Zynq UltraScale+ boards hls4ml has no block design for
    zcu104 = board("zcu104", vivado_board_part="xilinx.com:zcu104:part0:1.1")
    vit = project("vitis", "xczu7ev-ffvc1156-2-e", clock=5.0)
    plan = make_plan(vit, zcu104, level="vsynth", cosim=False, design="digits_mlp", hls_tool="vitis-run")
    out["zcu104_vsynth_vitis-run"] = render_scripts(plan, zcu104, vit)
    plan = make_plan(vit, zcu104, level="bitfile", cosim=False, design="digits_mlp", hls_tool="vitis-run")
    out["zcu104_bitfile_vitis-run"] = render_scripts(plan, zcu104, vit)
    kv260 = board("kv260")
    cnn = project("vitis", "xck26-sfvc784-2LV-c", io_type="io_stream")
    plan = make_plan(cnn, kv260, level="bitfile", cosim=False, design="digits_cnn", hls_tool="vitis_hls")
    out["kv260_bitfile_vitis_hls_io_stream"] = render_scripts(plan, kv260, cnn)
    return out


CASES = cases()


@pytest.mark.parametrize("case", sorted(CASES))
def test_scripts_match_golden(case: str) -> None:
    folder = GOLDEN / case
    files = {rel.replace("/", "__"): text for rel, text in CASES[case].items()}
    if UPDATE:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        for name, text in files.items():
            (folder / name).write_text(text)
    assert folder.is_dir(), f"no golden files for {case}: run with HWFLOW_UPDATE_GOLDEN=1"
    assert sorted(p.name for p in folder.iterdir()) == sorted(files), f"{case}: the set of generated files changed"
    for name, text in files.items():
        expected = (folder / name).read_text()
        assert text == expected, f"{case}/{name} differs from its golden file (HWFLOW_UPDATE_GOLDEN=1 to accept)"


def test_rendering_is_deterministic() -> None:
    assert cases() == CASES


def test_scripts_hold_no_machine_specific_text() -> None:
    for files in CASES.values():
        for rel, text in files.items():
            assert "/tmp" not in text and "/home" not in text and str(Path.cwd()) not in text, rel
