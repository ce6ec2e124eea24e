"""A user's own model file (``model: {file: model.h5}``): what it is, said plainly.

A QKeras model carries its quantizers, so its accuracy is the quantized model's and the firmware
can be bit-exact with it. A plain (float) Keras model has none: its accuracy is a float model's,
and the firmware precision is a choice of the design (``quantization.default``) that rounds what
the model computes. train.json records which one it is (``model_kind``) so that nothing labels a
float model "quantized (QKeras)".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

QKERAS_MODEL = "QKeras model"
FLOAT_MODEL = "float Keras model"


def model_kind(model: Any) -> str:
    from ..hlsconfig import has_quantizers

    return QKERAS_MODEL if has_quantizers(model) else FLOAT_MODEL


def describe_user_model(model: Any, path: Path, accuracy: float, log: Callable[[str], None]) -> dict[str, Any]:
    """train.json fields of a user's model file: its accuracy under the right label."""
    kind = model_kind(model)
    out: dict[str, Any] = {"model_source": f"user file {Path(path).name}", "model_kind": kind}
    if kind == FLOAT_MODEL:
        out.update({"accuracy_float": accuracy, "accuracy_quantized": None,
                    "float_note": "user float Keras model: no quantization-aware training; the firmware "
                                  "precision comes from quantization.default"})
        log(f"user model {Path(path).name}: {kind}, test accuracy {accuracy:.3f}")
    else:
        out.update({"accuracy_float": None, "accuracy_quantized": accuracy,
                    "float_note": "user model: no float reference trained"})
        log(f"user model {Path(path).name}: {kind}, test accuracy {accuracy:.3f}")
    return out
