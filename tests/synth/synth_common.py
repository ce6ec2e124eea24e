"""Constants and helpers shared by the synth tests (imported by name: a module called ``conftest``
exists in several test folders, so tests never import it directly)."""

from __future__ import annotations

import os
from pathlib import Path

from hwflow.cli import main

ORIGINAL_PATH = os.environ.get("PATH", "")
FAKE_BIN = Path(__file__).resolve().parents[1] / "fake_tools" / "bin"
VENDOR_TOOLS = ("vivado", "vivado_hls", "vitis_hls", "vitis-run")
XILINX_VARS = ("XILINX_VITIS", "XILINX_HLS", "XILINX_VIVADO_HLS", "XILINX_VIVADO")

TINY = """
name: tiny_synth
dataset: {name: digits, test_fraction: 0.2, seed: 0}
model:
  input_shape: [64]
  layers:
    - {type: dense, units: 8, name: fc1}
    - {type: relu, name: relu1}
    - {type: dense, units: 10, name: out}
    - {type: softmax, name: softmax}
quantization: {weight_bits: 6, activation_bits: 6, input: {bits: 8, integer_bits: 1}}
training: {epochs: 1, batch_size: 64, seed: 0}
hls: {io_type: io_parallel, strategy: latency, reuse_factor: 1, clock_period_ns: 10}
"""

# Fixture projects whose reports the fakes drop (see tests/fake_tools/fake_xilinx.py):
PYNQ_FULL = "19_Hector-Plata_hls4ml-tutorial_tutorial_mlp_pynq"      # Vivado HLS 2019.2: csynth, axi, util, timing, power
VITIS_2023 = "90_SpAllen0726_HG-DREAM-Pulse-Detection-Project_hgdream_cnn1d_rfsoc"   # Vitis HLS 2023.1
COSIM_PASS = "41_astitwlathe_example-hls4ml_example_mlp_vu9p"        # cosim Pass, vivado_synth.rpt
VIVADO_2022 = "89_nycu-pcs-lab_LFADs-model-template_lfads_gru_vsynth_only"   # Vivado 2022.2 utilisation


def synth(w: dict, *extra: str) -> int:
    """``hwflow synth`` in-process on a copied work folder."""
    return main(["synth", w["design"], "--board", w["board"], "--build-dir", w["build"], *extra])
