"""The design schema (docs/contract.md): model layers, quantization, dataset, training, hls.

One pydantic model per section; unknown keys are rejected (:class:`~hwflow.config.base.Strict`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .base import Strict, check_safe_name

LayerType = Literal[
    "dense", "conv1d", "conv2d", "maxpool1d", "maxpool2d", "avgpool1d", "avgpool2d",
    "flatten", "batchnorm", "dropout", "relu", "tanh", "sigmoid", "linear", "softmax",
]

# Which keys each layer type accepts (besides type and name), and which it needs.
LAYER_KEYS: dict[str, tuple[set[str], set[str]]] = {
    "dense": ({"units", "use_bias"}, {"units"}),
    "conv1d": ({"filters", "kernel", "stride", "padding", "use_bias"}, {"filters", "kernel"}),
    "conv2d": ({"filters", "kernel", "stride", "padding", "use_bias"}, {"filters", "kernel"}),
    "maxpool1d": ({"pool", "stride", "padding"}, set()),
    "maxpool2d": ({"pool", "stride", "padding"}, set()),
    "avgpool1d": ({"pool", "stride", "padding"}, set()),
    "avgpool2d": ({"pool", "stride", "padding"}, set()),
    "flatten": (set(), set()),
    "batchnorm": (set(), set()),
    "dropout": ({"rate"}, {"rate"}),
    "relu": (set(), set()),
    "tanh": (set(), set()),
    "sigmoid": (set(), set()),
    "linear": (set(), set()),
    "softmax": (set(), set()),
}
RESERVED_LAYER_NAMES = {"input", "x_in", "myproject"}
WEIGHT_LAYERS = {"dense", "conv1d", "conv2d"}
ACTIVATION_LAYERS = {"relu", "tanh", "sigmoid", "linear", "softmax"}


class Layer(Strict):
    type: LayerType
    name: str | None = None
    units: int | None = Field(default=None, ge=1, le=65536)
    filters: int | None = Field(default=None, ge=1, le=4096)
    kernel: int | list[int] | None = None
    stride: int | list[int] | None = None
    padding: Literal["valid", "same"] | None = None
    pool: int | list[int] | None = None
    rate: float | None = Field(default=None, ge=0.0, lt=1.0)
    use_bias: bool | None = None

    @field_validator("name")
    @classmethod
    def _safe(cls, v: str | None) -> str | None:
        if v is None:
            return None
        if v in RESERVED_LAYER_NAMES:
            raise ValueError(f"layer name {v!r} is reserved by hls4ml/hwflow; choose another")
        return check_safe_name(v, "layer name")

    @field_validator("kernel", "stride", "pool")
    @classmethod
    def _positive(cls, v: Any) -> Any:
        vals = v if isinstance(v, list) else [v]
        for x in vals:
            if x is not None and not (1 <= x <= 64):
                raise ValueError(f"must be between 1 and 64, got {x}")
        if isinstance(v, list) and not (1 <= len(v) <= 2):
            raise ValueError("give one number or a list of one or two")
        return v

    @model_validator(mode="after")
    def _keys_fit_type(self) -> "Layer":
        allowed, required = LAYER_KEYS[self.type]
        given = {k for k in self.model_fields_set if k not in ("type", "name")}
        extra = given - allowed
        if extra:
            raise ValueError(
                f"key(s) {sorted(extra)} do not apply to a {self.type} layer "
                f"(it takes: {sorted(allowed) or 'no settings'})"
            )
        missing = {k for k in required if getattr(self, k) is None}
        if missing:
            raise ValueError(f"a {self.type} layer needs {sorted(missing)}")
        return self


class Model(Strict):
    input_shape: list[int] | None = None
    layers: list[Layer] | None = None
    file: str | None = None

    @field_validator("input_shape")
    @classmethod
    def _shape(cls, v: list[int] | None) -> list[int] | None:
        if v is None:
            return v
        if not 1 <= len(v) <= 3:
            raise ValueError("input_shape needs 1 to 3 dimensions, e.g. [64] or [8, 8, 1]")
        for d in v:
            if not 1 <= d <= 100_000:
                raise ValueError(f"dimension {d} out of range 1..100000")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> "Model":
        if self.file and self.layers:
            raise ValueError("give either model.layers or model.file, not both")
        if not self.file and not self.layers:
            raise ValueError("give model.layers (with model.input_shape) or model.file")
        if self.layers and not self.input_shape:
            raise ValueError("model.input_shape is required with model.layers")
        return self


class InputQuant(Strict):
    bits: int = Field(default=8, ge=2, le=32)
    integer_bits: int = Field(default=1, ge=0, le=32)

    @model_validator(mode="after")
    def _fits(self) -> "InputQuant":
        if self.integer_bits >= self.bits:
            raise ValueError(f"integer_bits ({self.integer_bits}) must be below bits ({self.bits}); one bit is the sign")
        return self


class DefaultQuant(Strict):
    """Precision of every layer that has no quantizer (a plain Keras model given as ``model.file``).

    QKeras' convention, as for the input: ``integer_bits`` excludes the sign, so
    ``{bits: 16, integer_bits: 5}`` is ``ap_fixed<16,6>`` (hls4ml's own default).
    """
    bits: int = Field(ge=2, le=32)
    integer_bits: int = Field(ge=0, le=31)

    @model_validator(mode="after")
    def _fits(self) -> "DefaultQuant":
        if self.integer_bits >= self.bits:
            raise ValueError(f"integer_bits ({self.integer_bits}) must be below bits ({self.bits}); one bit is the sign")
        return self

    def hls4ml(self) -> str:
        return f"fixed<{self.bits},{self.integer_bits + 1}>"


class LayerQuant(Strict):
    weight_bits: int | None = Field(default=None, ge=2, le=16)
    weight_integer_bits: int | None = Field(default=None, ge=0, le=15)
    activation_bits: int | None = Field(default=None, ge=2, le=16)
    activation_integer_bits: int | None = Field(default=None, ge=0, le=15)


class Quantization(Strict):
    weight_bits: int = Field(default=6, ge=2, le=16)
    weight_integer_bits: int = Field(default=0, ge=0, le=15)
    activation_bits: int = Field(default=6, ge=2, le=16)
    activation_integer_bits: int = Field(default=0, ge=0, le=15)
    input: InputQuant = InputQuant()
    default: DefaultQuant | None = None
    layers: dict[str, LayerQuant] = {}

    @model_validator(mode="after")
    def _fits(self) -> "Quantization":
        check_bits(self.weight_bits, self.weight_integer_bits, "weight")
        check_bits(self.activation_bits, self.activation_integer_bits, "activation")
        return self

    def for_layer(self, name: str) -> dict[str, int]:
        """Resolved bit widths of one layer: defaults, then the per-layer override."""
        q = {
            "weight_bits": self.weight_bits,
            "weight_integer_bits": self.weight_integer_bits,
            "activation_bits": self.activation_bits,
            "activation_integer_bits": self.activation_integer_bits,
        }
        if name in self.layers:
            for k, v in self.layers[name].model_dump(exclude_none=True).items():
                q[k] = v
        return q


def check_bits(bits: int, integer: int, what: str) -> None:
    # weights are signed: the sign bit is extra to integer bits in QKeras' quantized_bits.
    if integer >= bits:
        raise ValueError(
            f"{what}_integer_bits ({integer}) must be below {what}_bits ({bits}): "
            "one bit is the sign, the rest are integer + fraction"
        )


class Dataset(Strict):
    name: Literal["digits", "mnist5k", "jets", "npz"] = "digits"
    path: str | None = None
    test_fraction: float = Field(default=0.2, gt=0.0, lt=0.9)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    max_samples: int | None = Field(default=None, ge=10)

    @model_validator(mode="after")
    def _npz_path(self) -> "Dataset":
        if self.name == "npz" and not self.path:
            raise ValueError("dataset.path is required for name: npz (a .npz with x_train, y_train, x_test, y_test)")
        return self


class Pruning(Strict):
    sparsity: float = Field(ge=0.0, le=0.99)
    begin_fraction: float = Field(default=0.2, ge=0.0, lt=1.0)
    end_fraction: float = Field(default=0.8, gt=0.0, le=1.0)


class Distillation(Strict):
    temperature: float = Field(default=4.0, gt=0.0, le=100.0)
    alpha: float = Field(default=0.5, ge=0.0, le=1.0)
    teacher_epochs: int | None = Field(default=None, ge=1, le=10000)


class Training(Strict):
    epochs: int = Field(default=30, ge=1, le=10000)
    batch_size: int = Field(default=64, ge=1, le=65536)
    learning_rate: float = Field(default=0.001, gt=0.0, le=10.0)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    validation_fraction: float = Field(default=0.1, ge=0.0, lt=0.5)


class Hls(Strict):
    io_type: Literal["io_parallel", "io_stream"] = "io_parallel"
    # distributed_arithmetic: hls4ml 1.3's multiplier-free Dense/Conv kernels (da4ml adder graphs),
    # io_parallel or io_stream, fully parallel only (reuse factor 1)
    strategy: Literal["latency", "resource", "distributed_arithmetic"] = "latency"
    reuse_factor: int = Field(default=1, ge=1, le=4096)
    clock_period_ns: float | None = Field(default=None, gt=0.5, le=100.0)
    # Output softmax in hardware: hls4ml's lookup-table softmax (stable | latency), or argmax: a
    # one-hot of the largest logit (exact class decision, no exp/division tables).
    softmax: Literal["stable", "latency", "argmax"] = "stable"

    @model_validator(mode="after")
    def _da_is_fully_parallel(self) -> "Hls":
        if self.strategy == "distributed_arithmetic" and self.reuse_factor != 1:
            raise ValueError(f"reuse_factor must be 1 with strategy distributed_arithmetic (got "
                             f"{self.reuse_factor}); use strategy resource to share multipliers")
        return self


class Design(Strict):
    name: str
    description: str = ""
    dataset: Dataset = Dataset()
    model: Model
    quantization: Quantization = Quantization()
    pruning: Pruning | None = None
    distillation: Distillation | None = None
    training: Training = Training()
    hls: Hls = Hls()
    boards: dict[str, dict[str, Any]] = {}

    @field_validator("name")
    @classmethod
    def _safe(cls, v: str) -> str:
        return check_safe_name(v, "design name")
