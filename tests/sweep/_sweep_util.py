"""Tiny designs and sweeps for the sweep tests (digits, 300 samples, 1 epoch: seconds per point)."""

from __future__ import annotations

from pathlib import Path

TINY_DESIGN = """
name: tiny_sw
dataset: {name: digits, max_samples: 300}
model:
  input_shape: [64]
  layers:
    - {type: dense, units: 8, name: fc1}
    - {type: relu, name: relu1}
    - {type: dense, units: 10, name: out}
    - {type: softmax, name: softmax}
quantization: {weight_bits: 6, activation_bits: 6, input: {bits: 8, integer_bits: 1}}
training: {epochs: 1, batch_size: 64}
hls: {io_type: io_parallel, strategy: latency, reuse_factor: 1, clock_period_ns: 10}
boards:
  zcu104: {hls: {reuse_factor: 4, clock_period_ns: 5}}
"""


def write_sweep(folder: Path, text: str, name: str = "sw") -> Path:
    (folder / "tiny_sw.yaml").write_text(TINY_DESIGN)
    p = folder / f"{name}.yaml"
    p.write_text(text)
    return p
