"""Checks a schema cannot express: unique layer names, quantization entries that name a layer,
shapes propagated through the layer list."""

from __future__ import annotations

import difflib

from ..errors import BadInput
from .design import WEIGHT_LAYERS, Design, check_bits


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
