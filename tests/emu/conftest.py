"""Session fixtures: small QKeras models converted with hwflow's precisions, written once.

Each converted project is shared by every test that needs it; the batched C-sim library is
compiled once per project into a session cache folder (so these tests do not touch the user's
~/.cache), and hls4ml's own ``compile()`` is only run for the projects whose tests compare with
``ModelGraph.predict``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

pytest.importorskip("hls4ml")
pytest.importorskip("qkeras")

from emu_cases import SPECS


@dataclass
class Case:
    name: str
    keras: Any
    hls: Any
    x: np.ndarray
    project: Path
    compiled: bool = False


@pytest.fixture(scope="session")
def csim_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("csim-cache")


@pytest.fixture(scope="session")
def build_case(tmp_path_factory):
    import hls4ml

    from hwflow.emu import examples
    from hwflow.hlsconfig import converter_kwargs, hls_config_for

    cache: dict[str, Case] = {}

    def build(name: str, n: int = 3000) -> Case:
        if name in cache:
            return cache[name]
        spec = SPECS[name]
        fn, kw = spec["build"]
        model = getattr(examples, fn)(**kw)
        cfg, conv_kw = converter_kwargs(hls_config_for(
            model, io_type=spec["io_type"], strategy=spec.get("strategy", "latency"),
            reuse_factor=spec.get("reuse_factor", 1)))
        out = tmp_path_factory.mktemp(f"hls-{name}")
        hls_model = hls4ml.converters.convert_from_keras_model(
            model, hls_config=cfg, output_dir=str(out), backend=spec["backend"], **conv_kw,
            **spec.get("backend_kw", {}))
        hls_model.write()
        x = examples.inputs_for(model, n, seed=7, scale=spec["x_scale"])
        cache[name] = Case(name, model, hls_model, x, out)
        return cache[name]

    return build


@pytest.fixture(scope="session")
def compiled_case(build_case):
    """A case whose ModelGraph is compiled (for comparisons with hls4ml's own predict)."""

    def get(name: str) -> Case:
        case = build_case(name)
        if not case.compiled:
            case.hls.compile()
            case.compiled = True
        return case

    return get
