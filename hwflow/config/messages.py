"""A pydantic validation error as a message for people: the file, the key path as written in the
YAML (not pydantic's internal location), what is wrong, and a "did you mean" for misspelt keys."""

from __future__ import annotations

import difflib
import json
import re
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _format_loc(loc: tuple[Any, ...]) -> str:

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
