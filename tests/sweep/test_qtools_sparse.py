"""The sweep's sparse QTools figure: the arithmetic of zero weights is removed, nothing else."""

from __future__ import annotations

import numpy as np
import pytest


def _model(zero_fraction: float):
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu
    from tensorflow import keras

    inp = keras.Input((16,))
    x = QDense(8, kernel_quantizer=quantized_bits(6, 0, 1), bias_quantizer=quantized_bits(6, 0, 1), name="d1")(inp)
    x = QActivation(quantized_relu(6), name="r1")(x)
    out = QDense(4, kernel_quantizer=quantized_bits(6, 0, 1), bias_quantizer=quantized_bits(6, 0, 1), name="d2")(x)
    m = keras.Model(inp, out)
    rng = np.random.default_rng(0)
    for name in ("d1", "d2"):
        layer = m.get_layer(name)
        k, b = layer.get_weights()
        k = rng.uniform(0.2, 0.5, size=k.shape).astype(np.float32)
        k[rng.random(k.shape) < zero_fraction] = 0.0
        layer.set_weights([k, b])
    return m


def test_sparse_figure_drops_only_the_arithmetic_of_zero_weights():
    pytest.importorskip("qkeras")
    from hwflow.sweep.qtools import qtools_energy

    dense = qtools_energy(_model(0.0), input_bits=8)
    sparse = qtools_energy(_model(0.75), input_bits=8)
    assert dense["energy_sparse_pj"] == pytest.approx(dense["energy_pj"], rel=1e-9)
    assert sparse["energy_sparse_pj"] is not None
    assert sparse["energy_sparse_pj"] < 0.9 * sparse["energy_pj"]
    # memory terms are not touched: the saving is at most the arithmetic of the pruned layers
    from hwflow.estimate.energy import qtools_energy as base

    ops = base(_model(0.75), input_bits=8)["per_layer_op_pj"]
    assert sum(ops.values()) > 0
    assert sparse["energy_pj"] - sparse["energy_sparse_pj"] <= sum(ops.values()) + 1e-6
