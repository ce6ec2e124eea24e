"""Step package (being implemented)."""

from __future__ import annotations

from typing import Any

from ..errors import ToolMissing
from ..flow import Context, StepSpec, register


def _settings(ctx: Context) -> dict[str, Any]:
    return {}


def _preflight(ctx: Context) -> None:
    raise ToolMissing("step 'package' is not available in this version of hwflow")


def run(ctx: Context) -> dict[str, Any]:
    raise ToolMissing("step 'package' is not available in this version of hwflow")


register(StepSpec(name="package", run=run, settings=_settings, needs=(), preflight=_preflight))
