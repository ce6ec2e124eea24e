"""The tiny design of the flow tests, in one place (exposed as the ``tiny_yaml`` fixture by
tests/conftest.py; imported directly where a module-level constant needs it)."""

from __future__ import annotations


def tiny_design_yaml(name: str, *, max_samples: int = 400, units: int = 8, softmax: bool = True,
                     quantization: bool = True, epochs: int = 2, batch_size: int | None = 64, hls: bool = True,
                     extra: str = "") -> str:
    """The tiny digits MLP (64 -> units -> 10) that the flow, deploy, robustness and sweep tests run:
    seconds per flow. One definition; each test picks its name and the few knobs it needs."""
    layers = [f"    - {{type: dense, units: {units}, name: fc1}}", "    - {type: relu, name: relu1}",
              "    - {type: dense, units: 10, name: out}"] + (["    - {type: softmax, name: softmax}"] if softmax else [])
    training = f"{{epochs: {epochs}, batch_size: {batch_size}}}" if batch_size else f"{{epochs: {epochs}}}"
    lines = [f"name: {name}", f"dataset: {{name: digits, max_samples: {max_samples}}}", "model:",
             "  input_shape: [64]", "  layers:", *layers]
    if quantization:
        lines.append("quantization: {weight_bits: 6, activation_bits: 6, input: {bits: 8, integer_bits: 1}}")
    lines.append(f"training: {training}")
    if hls:
        lines.append("hls: {io_type: io_parallel, strategy: latency, reuse_factor: 1, clock_period_ns: 10}")
    return "\n".join(lines) + "\n" + extra
