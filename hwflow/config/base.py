"""What every schema shares: safe names (they become folder names) and the strict base model."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

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
