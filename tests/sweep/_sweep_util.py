"""Tiny designs and sweeps for the sweep tests (digits, 300 samples, 1 epoch: seconds per point)."""

from __future__ import annotations

from pathlib import Path

from _tiny import tiny_design_yaml

TINY_DESIGN = tiny_design_yaml("tiny_sw", max_samples=300, epochs=1,
                               extra="boards:\n  zcu104: {hls: {reuse_factor: 4, clock_period_ns: 5}}\n")


def write_sweep(folder: Path, text: str, name: str = "sw") -> Path:
    (folder / "tiny_sw.yaml").write_text(TINY_DESIGN)
    p = folder / f"{name}.yaml"
    p.write_text(text)
    return p
