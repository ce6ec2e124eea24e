"""Design and board schemas (docs/contract.md), loading and validation.

Designs and boards are data files. They are loaded with ``yaml.safe_load`` (no
Python tags), validated by one pydantic schema each, and every rejection is a
:class:`~hwflow.errors.BadInput` naming the file and the key path, with a
"did you mean" for misspelt keys. Per-board overrides inside a design
(``boards: {zcu104: {...}}``) are merged before validation so that the merged
result is validated as a whole.
"""

from __future__ import annotations

import copy
import difflib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import BadInput
from .paths import boards_dir, designs_dir

# Names become folder names (build/<design>/<board>/): keep them boring.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_FILE_BYTES = 1_000_000


def check_safe_name(value: str, what: str = "name") -> str:
    if not isinstance(value, str) or not SAFE_NAME.match(value) or ".." in value:
        raise ValueError(
            f"{what} {value!r} is not a safe name: use 1-64 letters, digits, '_', '-', '.', "
            "starting with a letter or digit (it becomes a folder name)"
        )
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# --------------------------------------------------------------------------- design

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
    strategy: Literal["latency", "resource"] = "latency"
    reuse_factor: int = Field(default=1, ge=1, le=4096)
    clock_period_ns: float | None = Field(default=None, gt=0.5, le=100.0)
    # Output softmax in hardware: hls4ml's lookup-table softmax (stable | latency), or argmax: a
    # one-hot of the largest logit (exact class decision, no exp/division tables).
    softmax: Literal["stable", "latency", "argmax"] = "stable"


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


# --------------------------------------------------------------------------- board

class Resources(Strict):
    lut: int = Field(ge=0)
    ff: int = Field(ge=0)
    dsp: int = Field(ge=0)
    bram_18k: int = Field(ge=0)
    uram: int = Field(default=0, ge=0)


class BoardPower(Strict):
    method: Literal["pmbus", "hwmon", "xrt", "external", "none"] = "none"
    rails: list[str] = []
    idle_w: float | None = Field(default=None, ge=0.0, le=1000.0)
    active_w: float | None = Field(default=None, ge=0.0, le=1000.0)
    resolution_w: float | None = Field(default=None, gt=0.0, le=100.0)
    source: str | None = None


class BoardDataMovement(Strict):
    """Per-call data-movement figures (issue 15); unset keys take the family's cited defaults
    (hwflow/energy/datamove.py). ``null`` where nothing is published."""
    stream_bytes: int | None = Field(default=None, ge=1, le=1024)
    eff_mm2s: float | None = Field(default=None, gt=0.0, le=1.0)
    eff_s2mm: float | None = Field(default=None, gt=0.0, le=1.0)
    setup_clocks_mm2s: float | None = Field(default=None, ge=0.0)
    setup_clocks_s2mm: float | None = Field(default=None, ge=0.0)
    host_overhead_s: float | None = Field(default=None, ge=0.0, le=1.0)
    host_overhead_range_s: list[float] | None = None
    max_transfer_bytes: int | None = Field(default=None, ge=1)
    driver: str | None = None
    source: str | None = None


class BoardDeploy(Strict):
    transport: Literal["ssh", "local", "emulated"] = "ssh"
    user: str = "xilinx"
    host: str | None = None
    port: int = Field(default=22, ge=1, le=65535)
    workdir: str = "/home/xilinx/hwflow"


class Board(Strict):
    name: str
    description: str = ""
    part: str
    family: Literal["zynq7000", "zynqmp", "versal", "alveo"]
    hls4ml_board: str | None = None
    vivado_board_part: str | None = None   # Vivado board-file id (board presets for the processing system)
    clock_period_ns: float = Field(gt=0.5, le=100.0)
    resources: Resources
    power: BoardPower = BoardPower()
    data_movement: BoardDataMovement = BoardDataMovement()
    deploy: BoardDeploy = BoardDeploy()

    @field_validator("name")
    @classmethod
    def _safe(cls, v: str) -> str:
        return check_safe_name(v, "board name")

    @field_validator("part")
    @classmethod
    def _part(cls, v: str) -> str:
        if not re.match(r"^x[a-zA-Z0-9-]+$", v):
            raise ValueError(f"part {v!r} does not look like a Xilinx/AMD part number (e.g. xc7z020clg400-1)")
        return v


# --------------------------------------------------------------------------- loading

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _format_loc(loc: tuple[Any, ...]) -> str:
    import json

    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(str(part)):
            out += ("." if out else "") + str(part)
        else:  # a key with spaces or odd characters: quote it so the path stays readable
            out += "[" + json.dumps(str(part), ensure_ascii=True) + "]"
    return out or "(top level)"


def _allowed_keys(schema: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Walk the schema along ``loc`` (minus the last element) to list valid keys there."""
    model: Any = schema
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        field = model.model_fields.get(part)
        if field is None:
            return []
        model = _inner_model(field.annotation)
        if model is None:
            return []
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _inner_model(annotation: Any) -> Any:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


# Location parts pydantic adds for unions, validators and literals (never a key of the file).
_INTERNAL_LOC = re.compile(
    r"^(?:(?:function-(?:after|before|plain|wrap)|literal|list|dict|tuple|set|union|tagged-union|nullable"
    r"|lax-or-strict|json-or-python|model|default|chain|constrained-\w+)\[.*\]|int|float|str|bool|none)$",
    re.S)


def _user_loc(loc: tuple[Any, ...], data: Any = None, keep_last: bool = False) -> tuple[Any, ...]:
    """The key path of an error as the user wrote it: pydantic's internal parts removed.

    With the input ``data``, a part that is a key (or index) of the data at that level is the
    user's, whatever it looks like (a key may well be called ``function-x`` or ``literal[``);
    only parts that are not in the data and look like pydantic's internal tags are dropped.
    ``keep_last``: the last part is the offending key itself (an unknown key): always kept.
    """
    out: list[Any] = []
    cur: Any = data
    known = data is not None
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        in_data = False
        if known:
            if isinstance(cur, dict) and part in cur:
                in_data, nxt = True, cur[part]
            elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
                in_data, nxt = True, cur[part]
        if in_data:
            out.append(part)
            cur = nxt
            continue
        if (last and keep_last) or isinstance(part, int) or not _INTERNAL_LOC.match(str(part)):
            out.append(part)
            known = False  # below a key the data does not have: no more data to follow
    return tuple(out)


def _did_you_mean(value: Any, choices: list[str]) -> str | None:
    if not isinstance(value, str) or not choices:
        return None
    for c in choices:
        if c.lower() == value.lower():
            return c
    hint = difflib.get_close_matches(value.lower(), choices, n=1, cutoff=0.6)
    return hint[0] if hint else None


def validation_message(err: ValidationError, schema: type[BaseModel], source: str, data: Any = None) -> str:
    """One line per problem: ``key.path: what is wrong`` (with "did you mean" where it helps)."""
    import json

    lines = [f"{source}: invalid {schema.__name__.lower()} file"]
    seen: set[str] = set()
    for e in err.errors():
        extra = e["type"] == "extra_forbidden"
        loc = _user_loc(tuple(e["loc"]), data, keep_last=extra)
        path = _format_loc(loc)
        if extra and loc:
            key = str(loc[-1])
            allowed = _allowed_keys(schema, loc)
            hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            shown = f"'{key}'" if _PLAIN_KEY.match(key) else json.dumps(key, ensure_ascii=True)
            msg = f"unknown key {shown}"
            if hint:
                msg += f" (did you mean '{hint[0]}'?)"
            elif allowed:
                msg += f" (valid keys here: {', '.join(allowed)})"
            line = f"  {path}: {msg}"
        else:
            text = str(e.get("msg", "invalid value")).removeprefix("Value error, ")
            if e["type"] == "literal_error":
                choices = re.findall(r"'([^']*)'", str((e.get("ctx") or {}).get("expected", "")))
                hint = _did_you_mean(e.get("input"), choices)
                if hint is not None and hint != e.get("input"):
                    text += f" (did you mean '{hint}'?)"
            line = f"  {path}: {text}"
        if line not in seen:  # a union reports one problem once per member
            seen.add(line)
            lines.append(line)
    return "\n".join(lines)


def read_yaml(path: Path, what: str) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"{what} file not found: {path}") from None
    except OSError as exc:
        raise BadInput(f"cannot read {what} file {path}: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise BadInput(f"{path}: {what} file is larger than {MAX_FILE_BYTES} bytes; is it the right file?")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: not UTF-8 text (byte {exc.start}); save the {what} file as UTF-8") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BadInput(f"{path}: broken YAML{where}: {problem}") from None
    except RecursionError:
        raise BadInput(f"{path}: YAML nested too deeply") from None
    if data is None:
        raise BadInput(f"{path}: the {what} file is empty")
    if not isinstance(data, dict):
        raise BadInput(f"{path}: a {what} file must be a mapping of keys (got {type(data).__name__})")
    for key in data:
        if not isinstance(key, str):
            raise BadInput(f"{path}: key {key!r} at the top level is not a string")
    return data


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def resolve_design_path(design: str | Path) -> Path:
    p = Path(design)
    if p.suffix in (".yaml", ".yml") or p.exists() or "/" in str(design):
        return p
    if not SAFE_NAME.match(str(design)):
        raise BadInput(f"design {design!r}: not a design name in designs/ nor a path to a YAML file")
    candidate = designs_dir() / f"{design}.yaml"
    if not candidate.exists():
        by_name = [f for f, n in design_names().items() if n == str(design)]
        if len(by_name) == 1:  # `hwflow designs` shows a design's name: field too
            return designs_dir() / f"{by_name[0]}.yaml"
        known = sorted(x.stem for x in designs_dir().glob("*.yaml"))
        hint = difflib.get_close_matches(str(design), known, n=1)
        msg = f"no design named '{design}' in {designs_dir()}"
        if hint:
            msg += f" (did you mean '{hint[0]}'?)"
        elif known:
            msg += f" (known: {', '.join(known)})"
        raise BadInput(msg)
    return candidate


def resolve_board_path(board: str | Path) -> Path:
    p = Path(board)
    if p.suffix in (".yaml", ".yml") or "/" in str(board):
        return p
    if not SAFE_NAME.match(str(board)):
        raise BadInput(f"board {board!r}: not a board name in boards/ nor a path to a YAML file")
    candidate = boards_dir() / f"{board}.yaml"
    if not candidate.exists():
        known = list_boards()
        hint = difflib.get_close_matches(str(board), known, n=1)
        msg = f"no board named '{board}' in {boards_dir()}"
        msg += f" (did you mean '{hint[0]}'?)" if hint else f" (known: {', '.join(known)})"
        raise BadInput(msg)
    return candidate


def list_boards() -> list[str]:
    return sorted(x.stem for x in boards_dir().glob("*.yaml"))


def list_designs() -> list[str]:
    """Design file names (without .yaml): what `hwflow check NAME` accepts."""
    return sorted(x.stem for x in designs_dir().glob("*.yaml"))


def design_names() -> dict[str, str | None]:
    """File name -> the ``name:`` inside it (None when unreadable); cheap, no validation."""
    out: dict[str, str | None] = {}
    for stem in list_designs():
        try:
            with open(designs_dir() / f"{stem}.yaml", "rb") as f:
                raw = f.read(MAX_FILE_BYTES + 1)
            data = yaml.safe_load(raw.decode("utf-8")) if len(raw) <= MAX_FILE_BYTES else None
            name = data.get("name") if isinstance(data, dict) else None
            out[stem] = name if isinstance(name, str) else stem
        except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
            out[stem] = None
    return out


def load_board(board: str | Path) -> Board:
    path = resolve_board_path(board)
    data = read_yaml(path, "board")
    data.setdefault("name", path.stem)
    try:
        board = Board.model_validate(data)
    except ValidationError as exc:
        raise BadInput(validation_message(exc, Board, str(path), data)) from None
    board._source = str(path)  # type: ignore[attr-defined]
    return board


def load_design(design: str | Path, board: str | None = None) -> Design:
    """Load a design, apply the per-board overrides for ``board`` and validate the result."""
    path = resolve_design_path(design)
    data = read_yaml(path, "design")
    data.setdefault("name", path.stem)
    overrides = data.get("boards") or {}
    if not isinstance(overrides, dict):
        raise BadInput(f"{path}: boards: must be a mapping of board name to overrides")
    # Validate the base design first so an error names the key in the file, not in a merge.
    try:
        base = Design.model_validate(data)
    except ValidationError as exc:
        raise BadInput(validation_message(exc, Design, str(path), data)) from None
    known = list_boards()
    for bname in overrides:
        if not isinstance(bname, str) or (bname not in known and bname != board):
            hint = _did_you_mean(bname, known)
            msg = f"{path}: boards.{bname}: no board named {str(bname)!r} in {boards_dir()}"
            msg += f" (did you mean '{hint}'?)" if hint else f" (known: {', '.join(known)})"
            raise BadInput(msg)
    # Every board's overrides are validated (not only the one asked for): a mistake in the
    # zcu104 section is reported by `hwflow check` on any board, not first on the zcu104.
    selected = base
    for bname, over in overrides.items():
        if not isinstance(over, dict):
            raise BadInput(f"{path}: boards.{bname}: must be a mapping of overrides")
        if "boards" in over or "name" in over:
            raise BadInput(f"{path}: boards.{bname}: may not override 'name' or 'boards'")
        merged = deep_merge(data, over)
        try:
            merged_design = Design.model_validate(merged)
        except ValidationError as exc:
            msg = validation_message(exc, Design, f"{path} (with boards.{bname} overrides)", merged)
            raise BadInput(msg) from None
        if bname == board:
            selected = merged_design
        elif merged_design.model.layers is not None:
            _check_layer_semantics(merged_design, f"{path} (with boards.{bname} overrides)")
    base = selected
    _check_layer_semantics(base, str(path))
    base._source = str(path)  # type: ignore[attr-defined]
    return base


# --------------------------------------------------------------------------- semantic checks

def layer_names(design: Design) -> list[str]:
    """Resolved layer names: given names, else ``<type><index>``."""
    assert design.model.layers is not None
    return [ly.name or f"{ly.type}{i}" for i, ly in enumerate(design.model.layers)]


def _as_pair(v: int | list[int] | None, default: int) -> tuple[int, int]:
    if v is None:
        return (default, default)
    if isinstance(v, int):
        return (v, v)
    return (v[0], v[-1])


def infer_shapes(design: Design, source: str = "design") -> list[tuple[int, ...]]:
    """Propagate shapes through the layer list; raise BadInput at the first layer that cannot apply."""
    assert design.model.layers is not None and design.model.input_shape is not None
    shape: tuple[int, ...] = tuple(design.model.input_shape)
    shapes = []
    for i, ly in enumerate(design.model.layers):
        key = f"model.layers[{i}]"

        def bad(msg: str) -> BadInput:
            return BadInput(f"{source}: {key} ({ly.type}): {msg}")

        t = ly.type
        if t == "dense":
            if len(shape) != 1:
                raise bad(f"dense needs a flat input but gets shape {list(shape)}; add {{type: flatten}} before it")
            shape = (ly.units,)  # type: ignore[assignment]
        elif t in ("conv1d", "maxpool1d", "avgpool1d"):
            if len(shape) != 2:
                raise bad(f"{t} needs an input of shape [steps, channels] but gets {list(shape)}")
            k = _as_pair(ly.kernel if t == "conv1d" else ly.pool, 2)[0]
            s = _as_pair(ly.stride, 1 if t == "conv1d" else k)[0]
            steps = _out_len(shape[0], k, s, ly.padding or "valid")
            if steps < 1:
                raise bad(f"window {k} is larger than the input length {shape[0]}")
            shape = (steps, ly.filters if t == "conv1d" else shape[1])  # type: ignore[assignment]
        elif t in ("conv2d", "maxpool2d", "avgpool2d"):
            if len(shape) != 3:
                raise bad(f"{t} needs an input of shape [height, width, channels] but gets {list(shape)}")
            k = _as_pair(ly.kernel if t == "conv2d" else ly.pool, 2)
            s = _as_pair(ly.stride, 1) if t == "conv2d" else _as_pair(ly.stride, k[0])
            h = _out_len(shape[0], k[0], s[0], ly.padding or "valid")
            w = _out_len(shape[1], k[1], s[1], ly.padding or "valid")
            if h < 1 or w < 1:
                raise bad(f"window {list(k)} is larger than the input {list(shape[:2])}")
            shape = (h, w, ly.filters if t == "conv2d" else shape[2])  # type: ignore[assignment]
        elif t == "flatten":
            n = 1
            for d in shape:
                n *= d
            shape = (n,)
        shapes.append(shape)
    last = design.model.layers[-1]
    if len(shape) != 1:
        raise BadInput(f"{source}: model.layers: the output has shape {list(shape)}; end with flatten + dense")
    if last.type not in ("softmax", "linear", "sigmoid", "dense", "tanh", "relu"):
        raise BadInput(f"{source}: model.layers[-1]: a network should end with dense or an activation, not {last.type}")
    return shapes


def _out_len(n: int, k: int, s: int, padding: str) -> int:
    if padding == "same":
        return -(-n // s)
    return (n - k) // s + 1


def _check_layer_semantics(design: Design, source: str) -> None:
    if design.model.layers is None:  # a user's model file: its layers are checked when it is loaded
        return
    names = layer_names(design)
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            raise BadInput(f"{source}: model.layers[{i}].name: '{n}' is used twice; layer names must be unique")
        seen.add(n)
    for lname in design.quantization.layers:
        if lname not in seen:
            hint = difflib.get_close_matches(lname, names, n=1)
            msg = f"{source}: quantization.layers.{lname}: no layer named '{lname}'"
            msg += f" (did you mean '{hint[0]}'?)" if hint else f" (layers: {', '.join(names)})"
            raise BadInput(msg)
        q = design.quantization.for_layer(lname)
        for what in ("weight", "activation"):
            try:
                check_bits(q[f"{what}_bits"], q[f"{what}_integer_bits"], what)
            except ValueError as exc:
                raise BadInput(f"{source}: quantization.layers.{lname}: {exc}") from None
    if not any(ly.type in WEIGHT_LAYERS for ly in design.model.layers):
        raise BadInput(f"{source}: model.layers: the network has no dense or conv layer")
    infer_shapes(design, source)


def resolved_dict(design: Design, board: Board) -> dict[str, Any]:
    """The resolved configuration printed by ``hwflow check`` and hashed by the flow."""
    d = design.model_dump(mode="json")
    d.pop("boards", None)
    if design.dataset.name == "npz":
        d["dataset"].pop("test_fraction", None)  # the npz file carries its own train/test split
    if design.quantization.default is None:
        d["quantization"].pop("default", None)  # unchanged configuration (and cache keys) for designs without it
    if d["hls"]["clock_period_ns"] is None:
        d["hls"]["clock_period_ns"] = board.clock_period_ns
    if design.model.layers is not None:
        names = layer_names(design)
        d["model"]["layers"] = [{k: v for k, v in ly.items() if v is not None} for ly in d["model"]["layers"]]
        for ly, n in zip(d["model"]["layers"], names):
            ly["name"] = n
    return {"design": d, "board": board.model_dump(mode="json")}


# --------------------------------------------------------------------------- files a design names

EXAMPLE_NPZ = "npz_example.npz"


def design_file_path(design: Design, value: str) -> Path:
    """A path written in a design: absolute as is; relative to the design file's folder, else to
    the repository (designs/ files name repository paths such as ``build/data/x.npz``)."""
    from .paths import project_root

    p = Path(value)
    if p.is_absolute():
        return p
    src = getattr(design, "_source", None)
    repo = project_root() / p
    if src:
        near = Path(src).parent / p
        if near.exists() or not repo.exists() and Path(src).resolve().parent != designs_dir().resolve():
            return near  # (a missing file of a design outside designs/ is looked for next to it)
    return repo


def dataset_file(design: Design) -> Path | None:
    """The npz file of a ``dataset: {name: npz}`` design (resolved like ``model.file``)."""
    if design.dataset.name != "npz" or not design.dataset.path:
        return None
    return design_file_path(design, design.dataset.path)


def model_file(design: Design) -> Path | None:
    if not design.model.file:
        return None
    return design_file_path(design, design.model.file)


def missing_file_hint(path: Path) -> str | None:
    if path.name == EXAMPLE_NPZ:
        return "for the example, run `python scripts/make_npz_example.py` (or `make demo-npz`) first"
    return ("write your data with numpy.savez(path, x_train=..., y_train=..., x_test=..., y_test=...); "
            "a relative dataset.path is read from the design file's folder")


def check_files(design: Design, source: str | None = None) -> None:
    """The files a design names exist (``hwflow check`` says "valid" only when they do)."""
    src = source or getattr(design, "_source", "design")
    npz = dataset_file(design)
    if npz is not None and not npz.is_file():
        raise BadInput(f"{src}: dataset.path: file not found: {npz}", hint=missing_file_hint(npz))
    mf = model_file(design)
    if mf is not None and not mf.is_file():
        raise BadInput(f"{src}: model.file: file not found: {mf}",
                       hint="a relative model.file is read from the design file's folder")


# Clock periods at or below which timing closure of an hls4ml design is doubtful on a family's usual
# speed grade (a warning, not an error), with the evidence the warning cites. The fixtures are the
# vendor reports of public hls4ml projects (../shared/fixtures, summarised here, not shipped).
FAST_CLOCK_NS: dict[str, tuple[float, str]] = {
    "zynq7000": (5.0, "public hls4ml projects targeting 5 ns on an xc7z020-1 were estimated at 4.0-7.2 ns by HLS "
                      "(two of them met timing after implementation, with 0.15-0.39 ns of slack); PYNQ's default "
                      "fabric clock is 100 MHz"),
    "zynqmp": (3.0, "public hls4ml projects targeting 5 ns on -2 Zynq UltraScale+ parts were estimated at "
                    "3.4-4.2 ns by HLS (all but one)"),
    "alveo": (3.0, "Vitis' default kernel clock on Alveo cards is 300 MHz (3.33 ns)"),
}


def design_warnings(design: Design, board: Board) -> list[str]:
    """Things that are valid but probably not what the user wants (printed by ``hwflow check``)."""
    out: list[str] = []
    clock = design.hls.clock_period_ns or board.clock_period_ns
    limit = FAST_CLOCK_NS.get(board.family)
    if limit is not None and clock <= limit[0]:
        out.append(f"hls.clock_period_ns: {clock:g} ns ({1000 / clock:.0f} MHz) on {board.part} ({board.family}) "
                   f"may not close timing: {limit[1]}; synthesize to check "
                   f"(`hwflow synth {design.name} --board {board.name} --level vsynth`)")
    if design.dataset.name == "npz" and "test_fraction" in design.dataset.model_fields_set:
        out.append("dataset.test_fraction: ignored for npz data (the file carries its own x_test/y_test split)")
    if design.quantization.default is not None and design.model.layers is not None:
        out.append("quantization.default: applies only to a model.file without quantizers; "
                   "layers built from model.layers use the weight/activation bits")
    return out


def check(design: str | Path, board: str | Path = "pynq-z2") -> dict[str, Any]:
    """What ``hwflow check`` does: load and validate a design on a board, check the files it
    names, and return the resolved configuration (with layer shapes and warnings).

    Raises :class:`~hwflow.errors.BadInput` (exit 2) naming the file and key when it is not valid.
    """
    b = load_board(board)
    d = load_design(design, b.name)
    check_files(d)
    resolved = resolved_dict(d, b)
    if d.model.layers:
        resolved["shapes"] = [list(s) for s in infer_shapes(d)]
    resolved["warnings"] = design_warnings(d, b)
    return resolved
