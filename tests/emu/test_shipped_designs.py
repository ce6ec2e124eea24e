"""Every shipped design: the fast emulator equals C-simulation on every test sample.

Each design is taken from designs/ as shipped (layers, quantization, hls settings), with a short
training run (the firmware's arithmetic does not depend on how well it was trained). jets_mlp's
OpenML dataset is not reachable offline, so it runs on generated data of the same shape.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from hwflow.config import Design, list_designs
from hwflow.flow import Options, make_context, run_flow
from hwflow.paths import designs_dir

SHIPPED = [d for d in list_designs()]


def _prepare(name: str, tmp_path) -> Design:
    doc = yaml.safe_load((designs_dir() / f"{name}.yaml").read_text())
    doc["training"] = {**doc.get("training", {}), "epochs": 1}
    ds = doc.setdefault("dataset", {})
    if ds.get("name") == "jets" or ds.get("name") == "npz":
        n_in = doc["model"]["input_shape"][0]
        n_cls = [ly for ly in doc["model"]["layers"] if ly["type"] == "dense"][-1]["units"]
        rng = np.random.default_rng(0)
        x = rng.normal(0, 1.5, size=(600, n_in)).astype(np.float32)
        y = rng.integers(0, n_cls, size=600)
        p = tmp_path / f"{name}.npz"
        np.savez(p, x_train=x[:400], y_train=y[:400], x_test=x[400:], y_test=y[400:])
        doc["dataset"] = {"name": "npz", "path": str(p)}
    else:
        ds["max_samples"] = 400
    return Design.model_validate(doc)


@pytest.mark.parametrize("name", SHIPPED)
def test_fast_emulator_equals_csim_on_every_sample(name, tmp_path):
    from hwflow.config import load_board
    from hwflow.emu.csim import CSim
    from hwflow.emu.fast import FastEmulator
    from hwflow.steps.convert import get_hls_model
    from hwflow.steps.train import load_test_split

    design = _prepare(name, tmp_path)
    ctx = make_context(design, load_board("pynq-z2"), Options(quiet=True), build_dir=tmp_path / "b")
    run_flow(ctx, to="convert")
    x, _ = load_test_split(ctx)
    emu = FastEmulator.from_hls_model(get_hls_model(ctx))
    assert emu.supported, emu.reason
    y_fast = np.asarray(emu.predict(x), dtype=np.float64).reshape(len(x), -1)
    y_csim = np.asarray(CSim(ctx.path("hls")).predict(x), dtype=np.float64).reshape(len(x), -1)
    assert y_fast.shape == y_csim.shape
    assert np.array_equal(y_fast, y_csim), f"{int(np.sum(np.any(y_fast != y_csim, axis=1)))} samples differ"
