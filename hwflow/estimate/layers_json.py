"""Front-end (a): a fixture's ``layers.json`` (config structs parsed from a real project)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .layerspec import LayerSpec
from .structs import layers_from_document


def load_layers_json(path: str | Path) -> dict[str, Any]:
    """Read ``layers.json`` (a file, or the folder holding it)."""
    p = Path(path)
    if p.is_dir():
        p = p / "layers.json"
    return json.loads(p.read_text())


def layers_from_layers_json(doc_or_path: dict[str, Any] | str | Path) -> list[LayerSpec]:
    """LayerSpecs of a ``layers.json`` document; empty when it has no parameters.h facts."""
    doc = doc_or_path if isinstance(doc_or_path, dict) else load_layers_json(doc_or_path)
    if doc.get("status") not in (None, "ok") or not doc.get("layers"):
        return []
    return layers_from_document(doc)


def project_meta(doc: dict[str, Any]) -> dict[str, Any]:
    """Part, clock period and project name as the fixture states them."""
    proj = doc.get("project") or {}
    cfg = doc.get("hls4ml_config") or {}
    part = proj.get("part") or cfg.get("Part") or cfg.get("XilinxPart")
    clock = proj.get("clock_ns") or cfg.get("ClockPeriod")
    return {"name": proj.get("name") or cfg.get("ProjectName") or "myproject",
            "part": part, "clock_ns": float(clock) if clock else None}
