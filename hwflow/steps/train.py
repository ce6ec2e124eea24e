"""Step train: dataset -> float reference + QKeras model (pruning, distillation) -> model/."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..config import dataset_file, model_file
from ..context import Context
from ..data import load_dataset
from ..errors import BadInput
from ..fileio import atomic_write_json, hash_file
from ..models import build as mb
from ..models import train as mt
from ..models.build import custom_objects
from ..models.user import describe_user_model
from ..registry import StepSpec, register


def _settings(ctx: Context) -> dict[str, Any]:
    d = ctx.design_cfg
    keys = ("dataset", "model", "quantization", "pruning", "distillation", "training")
    s = {k: d.get(k) for k in keys}
    if d["model"].get("file"):
        p = _model_file(ctx)
        s["model_file_hash"] = hash_file(p) if p.exists() else None
    if d["dataset"]["name"] == "npz" and d["dataset"].get("path"):
        p = dataset_file(ctx.design)
        s["npz_hash"] = hash_file(p) if p is not None and p.exists() else None
    return s


def _model_file(ctx: Context) -> Path:
    return model_file(ctx.design) or Path("")


def save_keras(model, path: Path) -> None:
    """Save atomically: write into a temp file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".h5", dir=path.parent, prefix=f".{path.stem}.")
    os.close(fd)
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.save(tmp, include_optimizer=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".npz", dir=path.parent, prefix=f".{path.stem}.")
    os.close(fd)
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_test_split(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    with np.load(ctx.path("model", "test_split.npz"), allow_pickle=False) as z:
        return z["x_test"], z["y_test"]


def load_quantized_model(ctx: Context):
    if "qmodel" in ctx.memo:
        return ctx.memo["qmodel"]
    import tensorflow as tf

    m = tf.keras.models.load_model(ctx.path("model", "qkeras_model.h5"), custom_objects=custom_objects(),
                                   compile=False)
    ctx.memo["qmodel"] = m
    return m


def quantized_sparsity(model) -> dict[str, dict[str, Any]]:
    """Per weight layer: parameters and the fraction of weights that are exactly zero after quantization."""
    out: dict[str, dict[str, Any]] = {}
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights or weights[0].ndim < 2:
            continue
        k = weights[0]
        qs = getattr(layer, "get_quantizers", None)
        if qs is not None:
            quantizers = layer.get_quantizers()
            if quantizers and quantizers[0] is not None:
                k = np.asarray(quantizers[0](k.astype(np.float32)))
        out[layer.name] = {"parameters": int(sum(w.size for w in weights)), "weights": int(k.size),
                           "zero_weights": int(np.sum(k == 0)), "sparsity": float(np.mean(k == 0))}
    return out


def run(ctx: Context) -> dict[str, Any]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    d = ctx.design
    t = d.training
    split = load_dataset(d.dataset, d.quantization.input, d.model.input_shape, source="design", design=d)
    ctx.log(f"data: {split.description}; train {len(split.x_train)}, test {len(split.x_test)} samples")
    mdir = ctx.path("model")
    mdir.mkdir(parents=True, exist_ok=True)
    save_npz(mdir / "test_split.npz", x_test=split.x_test, y_test=split.y_test)
    result: dict[str, Any] = {"dataset": d.dataset.name, "train_samples": len(split.x_train),
                              "test_samples": len(split.x_test), "classes": split.classes, "seed": t.seed}

    if d.model.file:
        import tensorflow as tf

        p = _model_file(ctx)
        if not p.exists():
            raise BadInput(f"model.file: {p} not found")
        try:
            qmodel = tf.keras.models.load_model(p, custom_objects=mb.custom_objects(), compile=False)
        except Exception as exc:
            raise BadInput(f"model.file: {p} could not be loaded as a Keras/QKeras model: {exc}") from None
        shutil.copyfile(p, mdir / ".user_model.tmp")
        os.replace(mdir / ".user_model.tmp", mdir / "qkeras_model.h5")

        result.update(describe_user_model(qmodel, p, mt.accuracy(qmodel, split.x_test, split.y_test), ctx.log))
        out_units = qmodel.output_shape[-1]
    else:
        out_units = _output_units(d)
        if out_units != split.classes:
            raise BadInput(f"model.layers: the last dense layer has {out_units} units but dataset "
                           f"'{d.dataset.name}' has {split.classes} classes")
        # 1. float reference (also the teacher for distillation)
        mt.set_seeds(t.seed)
        fmodel = mb.build_model(d, quantized=False)
        f_epochs = (d.distillation.teacher_epochs if d.distillation and d.distillation.teacher_epochs else t.epochs)
        hist_f = mt.fit(fmodel, split.x_train, split.y_train, epochs=f_epochs, batch_size=t.batch_size,
                        lr=t.learning_rate, val_fraction=t.validation_fraction, callbacks=[],
                        label="float", log=ctx.log)
        acc_f = mt.accuracy(fmodel, split.x_test, split.y_test)
        ctx.log(f"float reference: test accuracy {acc_f:.4f}")
        save_keras(fmodel, mdir / "float_model.h5")

        # 2. quantization-aware training, optionally pruned and/or distilled
        teacher_logits = None
        if d.distillation:
            teacher_logits = mb.strip_softmax_logits(fmodel)
            if teacher_logits is None:
                raise BadInput("distillation: the model must end with {type: softmax} (logits are distilled)")
        qmodel, hist_q, prune_info = _train_student(ctx, split, teacher_logits)
        acc_q = mt.accuracy(qmodel, split.x_test, split.y_test)
        ctx.log(f"quantized (QKeras): test accuracy {acc_q:.4f}")
        result.update({"accuracy_float": acc_f, "accuracy_quantized": acc_q, "model_source": "layers",
                       "history": {"float": hist_f, "quantized": hist_q},
                       "distilled": bool(d.distillation), "pruned": prune_info is not None})
        if prune_info is not None:
            prune_info["achieved"] = _pruning_achieved(qmodel, prune_info["target_sparsity"])
            result["pruning"] = prune_info
            if not prune_info["achieved"]["reached"]:
                ctx.log(f"WARNING: pruning reached {prune_info['achieved']['overall']:.3f}, "
                        f"below the target {prune_info['target_sparsity']:.3f}")
        if d.distillation:
            # The same student, trained the same way (seed, epochs, pruning) without the teacher:
            # the only difference is the loss, so the accuracy gap is the effect of distillation.
            ctx.log("training the same student without the teacher, for comparison")
            plain, hist_nd, _ = _train_student(ctx, split, None)
            acc_nd = mt.accuracy(plain, split.x_test, split.y_test)
            ctx.log(f"distillation effect: {acc_q:.4f} with the teacher vs {acc_nd:.4f} without "
                    f"({acc_q - acc_nd:+.4f})")
            result["accuracy_quantized_no_distillation"] = acc_nd
            result["history"]["quantized_no_distillation"] = hist_nd
            result["distillation"] = {
                "temperature": d.distillation.temperature, "alpha": d.distillation.alpha,
                "teacher_epochs": f_epochs, "teacher_accuracy": acc_f,
                "accuracy_with": acc_q, "accuracy_without": acc_nd, "gain": acc_q - acc_nd,
            }
    save_keras(qmodel, mdir / "qkeras_model.h5")
    ctx.memo["qmodel"] = qmodel
    layers = quantized_sparsity(qmodel)
    result["layers"] = layers
    result["parameters"] = int(qmodel.count_params())
    result["output_units"] = int(out_units)
    atomic_write_json(mdir / "train.json", result)
    return {"accuracy_float": result["accuracy_float"], "accuracy_quantized": result["accuracy_quantized"],
            "accuracy_quantized_no_distillation": result.get("accuracy_quantized_no_distillation")}


def _train_student(ctx: Context, split, teacher_logits) -> tuple[Any, dict[str, Any], dict[str, Any] | None]:
    """Quantization-aware training of a fresh QKeras student (pruned if the design says so).

    Seeds are reset first so that two calls (with and without a teacher) start from the same
    initial weights and see the same batches. Returns (stripped model, history, pruning info).
    """
    import tensorflow as tf

    d = ctx.design
    t = d.training
    mt.set_seeds(t.seed)
    qmodel = mb.build_model(d, quantized=True)
    callbacks: list = []
    train_model = qmodel
    prune_info: dict[str, Any] | None = None
    if d.pruning and d.pruning.sparsity > 0:
        import tensorflow_model_optimization as tfmot

        steps = mt.steps_per_epoch(len(split.x_train), t.batch_size, t.validation_fraction) * t.epochs
        begin, end, freq = mt.pruning_schedule_steps(steps, d.pruning.begin_fraction, d.pruning.end_fraction)
        train_model = mt.pruning_wrap(qmodel, d.pruning.sparsity, steps, d.pruning.begin_fraction,
                                      d.pruning.end_fraction)
        callbacks.append(tfmot.sparsity.keras.UpdatePruningStep())
        prune_info = {"target_sparsity": d.pruning.sparsity, "schedule": "polynomial_decay (TF-MOT)",
                      "steps_total": steps, "begin_step": begin, "end_step": end, "frequency": freq}
        ctx.log(f"pruning to {d.pruning.sparsity:.0%} sparsity (TF-MOT polynomial decay, steps {begin}..{end} "
                f"of {steps}, every {freq})")
    if teacher_logits is not None:
        assert d.distillation is not None
        distiller = mt.make_distiller(train_model, teacher_logits, d.distillation.temperature,
                                      d.distillation.alpha)
        distiller.compile(optimizer=tf.keras.optimizers.Adam(t.learning_rate))
        ctx.log(f"distilling from the float teacher (T={d.distillation.temperature}, alpha={d.distillation.alpha})")
        hist = mt.fit(distiller, split.x_train, split.y_train, epochs=t.epochs, batch_size=t.batch_size,
                      lr=t.learning_rate, val_fraction=t.validation_fraction, callbacks=callbacks,
                      label="quantized+distilled", log=ctx.log, compile_model=False)
    else:
        hist = mt.fit(train_model, split.x_train, split.y_train, epochs=t.epochs, batch_size=t.batch_size,
                      lr=t.learning_rate, val_fraction=t.validation_fraction, callbacks=callbacks,
                      label="quantized", log=ctx.log)
    if prune_info is not None:
        # strip_pruning returns the original layer objects, which still carry the inbound nodes of
        # the wrapped clone: graph walkers (QTools, estimators) then see two graphs. A freshly built
        # model with the stripped (masked) weights is the same network as an unpruned one, zeros included.
        stripped = mt.strip_pruning(train_model)
        qmodel = mb.build_model(d, quantized=True)
        qmodel.set_weights(stripped.get_weights())
    return qmodel, hist, prune_info


def _pruning_achieved(model, target: float) -> dict[str, Any]:
    """Sparsity of the *quantized* weights per pruned layer: what hls4ml and the estimator see.

    A layer counts as reaching the target when its zero fraction is within one weight of it
    (TF-MOT rounds the number of weights to keep).
    """
    layers = quantized_sparsity(model)
    zeros = sum(v["zero_weights"] for v in layers.values())
    total = sum(v["weights"] for v in layers.values())
    reached = all(v["sparsity"] >= target - 1.0 / max(1, v["weights"]) - 1e-9 for v in layers.values())
    return {"per_layer": {k: v["sparsity"] for k, v in layers.items()},
            "overall": zeros / total if total else 0.0, "reached": bool(reached)}


def _output_units(design) -> int:
    for ly in reversed(design.model.layers):
        if ly.type == "dense":
            return int(ly.units)
    return -1


register(StepSpec(name="train", run=run, settings=_settings, needs=(),
                  outputs=("model/qkeras_model.h5", "model/test_split.npz", "model/train.json"),
                  result_file="model/train.json", version=3,
                  code=("hwflow/models", "hwflow/data"), board_independent="model"))
