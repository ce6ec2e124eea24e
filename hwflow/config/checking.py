"""What ``hwflow check`` does: the resolved configuration (also what the flow hashes), warnings for
valid but doubtful settings, and :func:`check` itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .board import Board
from .design import Design
from .files import check_files
from .loading import load_board, load_design
from .semantics import infer_shapes, layer_names


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
