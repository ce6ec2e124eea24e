"""Training: float reference, quantization-aware (QKeras), pruning (TF-MOT), distillation."""

from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np


def set_seeds(seed: int) -> None:
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    try:
        tf.config.experimental.enable_op_determinism()
    except Exception:  # pragma: no cover - older TF
        pass


def progress_callback(label: str, epochs: int, log: Callable[[str], None]):
    import tensorflow as tf

    every = max(1, epochs // 8)

    class Progress(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.t0 = time.monotonic()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            if (epoch + 1) % every == 0 or epoch + 1 == epochs:
                parts = [f"{k} {v:.4f}" for k, v in logs.items() if k in ("loss", "accuracy", "val_accuracy",
                                                                           "student_loss")]
                el = time.monotonic() - self.t0
                log(f"{label}: epoch {epoch + 1}/{epochs} " + " ".join(parts) + f" ({el:.1f} s)")

    return Progress()


def make_distiller(student, teacher_logits, temperature: float, alpha: float):
    """A Keras model whose fit() trains ``student`` against labels and a float teacher.

    loss = alpha * CE(y, student) + (1 - alpha) * T^2 * KL(softmax(t/T) || softmax(s/T)),
    with s and t the logits below the final softmax (Hinton et al. 2015). The T^2 factor keeps
    the soft-target gradients on the same scale as the hard ones whatever the temperature.

    ``student`` may be wrapped for pruning: its logits sub-model shares the wrapped layers, so
    the single training call per batch advances the pruning step exactly once, and
    ``UpdatePruningStep`` finds the wrappers through the distiller's tracked sub-models.
    """
    import tensorflow as tf

    student_logits = tf.keras.Model(student.input, student.layers[-2].output)

    class Distiller(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.student = student
            self.student_logits = student_logits
            self.teacher_logits = teacher_logits
            # From logits: softmax then log inside one op is stable where probabilities underflow.
            self.ce = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            self.kl = tf.keras.losses.KLDivergence()
            self.acc = tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")
            self.loss_tracker = tf.keras.metrics.Mean(name="loss")
            self.soft_tracker = tf.keras.metrics.Mean(name="distillation_loss")

        @property
        def metrics(self):
            return [self.loss_tracker, self.acc, self.soft_tracker]

        def call(self, x, training=False):
            return self.student(x, training=training)

        def train_step(self, data):
            x, y = data
            t = self.teacher_logits(x, training=False)
            with tf.GradientTape() as tape:
                s = self.student_logits(x, training=True)
                hard = self.ce(y, s)
                soft = self.kl(tf.nn.softmax(t / temperature), tf.nn.softmax(s / temperature))
                loss = alpha * hard + (1.0 - alpha) * (temperature ** 2) * soft
            # Only the student learns: the teacher is a separate, already trained float model.
            grads = tape.gradient(loss, self.student.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.student.trainable_variables))
            self.loss_tracker.update_state(loss)
            self.soft_tracker.update_state(soft)
            self.acc.update_state(y, s)
            return {m.name: m.result() for m in self.metrics}

        def test_step(self, data):
            x, y = data
            s = self.student_logits(x, training=False)
            self.loss_tracker.update_state(self.ce(y, s))
            self.acc.update_state(y, s)
            return {m.name: m.result() for m in self.metrics[:2]}

    return Distiller()


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    p = model.predict(x, batch_size=4096, verbose=0)
    return float(np.mean(np.argmax(p, axis=1) == y))


def fit(model, x, y, *, epochs: int, batch_size: int, lr: float, val_fraction: float,
        callbacks: list, label: str, log: Callable[[str], None], compile_model: bool = True) -> dict[str, Any]:
    import tensorflow as tf

    if compile_model:
        model.compile(optimizer=tf.keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    hist = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_split=val_fraction or 0.0,
                     verbose=0, shuffle=True,
                     callbacks=callbacks + [progress_callback(label, epochs, log)])
    return {k: [float(v) for v in vals] for k, vals in hist.history.items()}


def pruning_schedule_steps(steps_total: int, begin_fraction: float,
                           end_fraction: float) -> tuple[int, int, int]:
    """(begin_step, end_step, frequency) such that the final sparsity is really applied.

    TF-MOT updates the masks only at steps where ``(step - begin) % frequency == 0`` and
    ``begin <= step <= end``; if ``end - begin`` is not a multiple of the frequency, the last
    update happens before ``end_step`` with a sparsity below the target. The pruning step
    counts training batches from 1, so ``end`` must also be at most ``steps_total``.
    """
    steps_total = max(1, int(steps_total))
    begin = min(int(steps_total * begin_fraction), steps_total - 1)
    end = min(steps_total, max(begin + 1, int(steps_total * end_fraction)))
    frequency = max(1, (end - begin) // 20)
    # Snap end down onto the update grid; it stays >= begin + frequency > begin.
    end = begin + frequency * ((end - begin) // frequency)
    return begin, end, frequency


def pruning_wrap(model, sparsity: float, steps_total: int, begin_fraction: float, end_fraction: float):
    """Wrap every prunable layer (QDense/QConv included) for magnitude pruning to ``sparsity``."""
    import tensorflow_model_optimization as tfmot

    begin, end, frequency = pruning_schedule_steps(steps_total, begin_fraction, end_fraction)
    schedule = tfmot.sparsity.keras.PolynomialDecay(initial_sparsity=0.0, final_sparsity=sparsity,
                                                    begin_step=begin, end_step=end, frequency=frequency)
    return tfmot.sparsity.keras.prune_low_magnitude(model, pruning_schedule=schedule)


def strip_pruning(model):
    import tensorflow_model_optimization as tfmot

    return tfmot.sparsity.keras.strip_pruning(model)



def steps_per_epoch(n: int, batch_size: int, val_fraction: float) -> int:
    """Batches per epoch exactly as Keras counts them with ``validation_split``.

    Keras keeps ``floor(n * (1 - val))`` samples for training; over-counting here would put
    the pruning schedule's end after the last step, and the target sparsity would never be hit.
    """
    n_train = int(math.floor(n * (1.0 - (val_fraction or 0.0)))) if val_fraction else n
    return max(1, math.ceil(n_train / batch_size))
