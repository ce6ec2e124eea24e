"""Finding and loading design and board files: ``yaml.safe_load`` with a size limit, per-board
overrides merged before validation, every rejection a :class:`~hwflow.errors.BadInput` naming
the file and the key."""

from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import BadInput
from ..paths import boards_dir, designs_dir
from .base import MAX_FILE_BYTES, SAFE_NAME
from .board import Board
from .design import Design
from .messages import _did_you_mean, validation_message
from .semantics import _check_layer_semantics


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
