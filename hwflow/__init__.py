"""hwflow: FPGA/edge hardware co-design of quantized neural networks.

Design YAML + board YAML -> QKeras training -> hls4ml conversion -> bit-accurate
emulation -> estimates / vendor synthesis -> deployment (real or emulated board)
-> report of accuracy, resources, latency, power and energy per inference.

Python API (see :mod:`hwflow.api`)::

    import hwflow
    results = hwflow.Flow("digits_mlp", board="pynq-z2").run(to="emulate")
    hwflow.check("digits_mlp", board="zcu104")
    hwflow.estimate_project("path/to/hls4ml_prj", board="zcu104")

The names are loaded on first use, so ``import hwflow`` stays cheap (no TensorFlow).
"""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["Flow", "check", "estimate_project", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("Flow", "check", "estimate_project"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'hwflow' has no attribute {name!r}")
