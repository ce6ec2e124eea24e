"""The board schema (docs/contract.md): part, clock, resources, power, data movement, deploy."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from .base import Strict, check_safe_name


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
