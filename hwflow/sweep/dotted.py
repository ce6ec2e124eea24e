"""Dotted paths into a design (``quantization.weight_bits``, ``model.layers[2].units``): parsing,
checking them against the design schema, and setting a value at one."""

from __future__ import annotations

import copy
import difflib
import re
import typing
from typing import Any

from pydantic import BaseModel

from ..config import Design
from ..errors import BadInput

_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]")


def parse_path(path: str) -> list[str | int]:
    """``model.layers[0].units`` -> ['model', 'layers', 0, 'units']; ValueError if malformed."""
    out: list[str | int] = []
    pos = 0
    expect_name = True
    while pos < len(path):
        if path[pos] == "." and not expect_name and out:
            pos += 1
            expect_name = True
            continue
        m = _TOKEN.match(path, pos)
        if not m:
            raise ValueError(f"cannot read key path '{path}' at character {pos + 1}")
        if m.group(1) is not None:
            if not expect_name:
                raise ValueError(f"cannot read key path '{path}': missing '.' before '{m.group(1)}'")
            out.append(m.group(1))
            expect_name = False
        else:
            if not out:
                raise ValueError(f"key path '{path}' cannot start with an index")
            out.append(int(m.group(2)))
            expect_name = False
        pos = m.end()
    if not out or expect_name:
        raise ValueError(f"key path '{path}' is empty or ends with '.'")
    return out


def format_path(parts: list[str | int]) -> str:
    s = ""
    for p in parts:
        s += f"[{p}]" if isinstance(p, int) else (("." if s else "") + p)
    return s


def check_path_in_schema(parts: list[str | int], where: str) -> None:
    """Walk the Design schema along ``parts``; unknown keys get a "did you mean"."""
    node: Any = Design
    for i, part in enumerate(parts):
        here = format_path(parts[: i + 1])
        if isinstance(part, int):
            list_of = _list_item(node)
            if list_of is None:
                raise BadInput(f"{where}: '{here}': {format_path(parts[:i]) or 'this key'} is not a list")
            node = list_of
            continue
        model = _model_of(node)
        if model is not None:
            if part not in model.model_fields:
                allowed = list(model.model_fields)
                hint = difflib.get_close_matches(part, allowed, n=1, cutoff=0.6)
                msg = f"{where}: '{format_path(parts)}': unknown key '{part}'"
                msg += f" (did you mean '{hint[0]}'?)" if hint else f" (valid keys here: {', '.join(allowed)})"
                raise BadInput(msg)
            if model is Design and part in ("name", "boards"):
                raise BadInput(f"{where}: '{here}': the sweep sets the design name and board itself")
            node = model.model_fields[part].annotation
            continue
        dict_of = _dict_value(node)
        if dict_of is not None:  # e.g. quantization.layers.<layer name>
            node = dict_of
            continue
        raise BadInput(f"{where}: '{format_path(parts)}': '{format_path(parts[:i])}' has no sub-keys")


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None


def _container_arg(annotation: Any, origin: type, index: int) -> Any:
    """Type argument ``index`` of ``origin[...]`` or ``origin[...] | None``; None otherwise."""
    for cand in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(cand) is origin:
            return typing.get_args(cand)[index]
    return None


def _list_item(annotation: Any) -> Any:
    """The item type of ``list[X]`` or ``list[X] | None``; None if not a list."""
    return _container_arg(annotation, list, 0)


def _dict_value(annotation: Any) -> Any:
    """The value type of ``dict[K, V]`` or ``dict[K, V] | None``; None if not a dict."""
    return _container_arg(annotation, dict, 1)


def set_path(data: dict[str, Any], parts: list[str | int], value: Any, where: str) -> None:
    """Set ``value`` at ``parts`` inside a design dict, creating mappings on the way."""
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if isinstance(part, int):
            if not isinstance(node, list) or not -len(node) <= part < len(node):
                n = len(node) if isinstance(node, list) else 0
                raise BadInput(f"{where}: '{format_path(parts)}': index {part} is out of range "
                               f"({format_path(parts[:i])} has {n} entries)")
            node = node[part]
            continue
        if node.get(part) is None:
            if isinstance(nxt, int):
                raise BadInput(f"{where}: '{format_path(parts)}': the base design has no "
                               f"'{format_path(parts[: i + 1])}' list")
            node[part] = {}
        node = node[part]
        if not isinstance(node, (dict, list)):
            raise BadInput(f"{where}: '{format_path(parts)}': '{format_path(parts[: i + 1])}' is a value, "
                           "not a mapping")
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or not -len(node) <= last < len(node):
            raise BadInput(f"{where}: '{format_path(parts)}': index {last} is out of range")
        node[last] = copy.deepcopy(value)
    else:
        node[last] = copy.deepcopy(value)


