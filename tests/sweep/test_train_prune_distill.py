"""Pruning on QKeras layers reaches its sparsity on the quantized weights hls4ml converts;
distillation trains the student, and train.json shows the accuracy with and without it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _sweep_util import TINY_DESIGN

from hwflow.config import Design, deep_merge, load_board
from hwflow.flow import Options, make_context, run_flow


def _ctx(tmp_path, over):
    import yaml

    d = Design.model_validate(deep_merge(yaml.safe_load(TINY_DESIGN), over))
    return make_context(d, load_board("pynq-z2"), Options(quiet=True), build_dir=tmp_path)


def test_pruning_sparsity_is_in_the_quantized_and_converted_weights(tmp_path):
    ctx = _ctx(tmp_path, {"name": "tiny_pruned", "pruning": {"sparsity": 0.6}, "training": {"epochs": 3},
                          "model": {"layers": [{"type": "dense", "units": 16, "name": "fc1"}, {"type": "relu"},
                                               {"type": "dense", "units": 10, "name": "out"}, {"type": "softmax"}]}})
    run_flow(ctx, to="convert")
    tj = json.loads(ctx.path("model", "train.json").read_text())
    assert tj["pruned"] and tj["pruning"]["achieved"]["reached"]
    for name in ("fc1", "out"):
        assert tj["layers"][name]["sparsity"] >= 0.6 - 1.0 / tj["layers"][name]["weights"]
    # the end step sits on the schedule's update grid and inside the training
    p = tj["pruning"]
    assert p["begin_step"] < p["end_step"] <= p["steps_total"]
    assert (p["end_step"] - p["begin_step"]) % p["frequency"] == 0
    # hls4ml gets the zeros: the converted model's weights are zero where the QKeras ones are
    from hwflow.steps.convert import get_hls_model

    ctx.memo.clear()
    hls = get_hls_model(ctx)
    layer = next(ly for ly in hls.get_layers() if ly.name == "fc1")
    w = np.asarray(layer.get_weights("weight").data)
    assert np.mean(w == 0) >= 0.6 - 1.0 / w.size
    # the saved model is a plain QKeras model (no pruning wrappers)
    import tensorflow as tf

    from hwflow.models.build import custom_objects

    m = tf.keras.models.load_model(ctx.path("model", "qkeras_model.h5"), custom_objects=custom_objects(), compile=False)
    assert [type(ly).__name__ for ly in m.layers][1:3] == ["QDense", "QActivation"]


def test_distillation_trains_and_records_the_comparison(tmp_path):
    ctx = _ctx(tmp_path, {"name": "tiny_distilled", "training": {"epochs": 2},
                          "distillation": {"temperature": 2.0, "alpha": 0.5, "teacher_epochs": 3}})
    run_flow(ctx, to="train")
    tj = json.loads(ctx.path("model", "train.json").read_text())
    assert tj["distilled"] is True
    assert 0.0 <= tj["accuracy_quantized_no_distillation"] <= 1.0
    d = tj["distillation"]
    assert d["accuracy_with"] == tj["accuracy_quantized"]
    assert d["gain"] == pytest.approx(tj["accuracy_quantized"] - tj["accuracy_quantized_no_distillation"])
    hist = tj["history"]
    # the distilled student learned (its loss went down) and is a different model from the plain one
    assert hist["quantized"]["loss"][-1] < hist["quantized"]["loss"][0]
    assert "distillation_loss" in hist["quantized"]
    assert hist["quantized"]["loss"] != hist["quantized_no_distillation"]["loss"]
    assert len(hist["float"]["loss"]) == 3 and len(hist["quantized"]["loss"]) == 2


@pytest.mark.parametrize("total,begin,end", [(410, 0.2, 0.8), (6, 0.2, 0.8), (1, 0.2, 0.8), (2, 0.0, 1.0),
                                             (100, 0.0, 1.0), (41, 0.2, 0.8), (7, 0.99, 1.0), (1000, 0.3, 0.31)])
def test_pruning_schedule_reaches_its_final_step(total, begin, end):
    from hwflow.models.train import pruning_schedule_steps

    b, e, f = pruning_schedule_steps(total, begin, end)
    # TF-MOT applies the final sparsity only at a step begin + k*f <= end, within 1..total
    assert 0 <= b < e <= total and (e - b) % f == 0


def test_steps_per_epoch_matches_keras_validation_split():
    from hwflow.models.train import steps_per_epoch

    # 65 samples, 10 % validation: Keras trains on floor(58.5) = 58 -> 1 batch of 64, not 2
    assert steps_per_epoch(65, 64, 0.1) == 1
    assert steps_per_epoch(1437, 32, 0.1) == 41 and steps_per_epoch(100, 32, 0.0) == 4
