"""Design and board schemas (docs/contract.md), loading and validation.

Designs and boards are data files. They are loaded with ``yaml.safe_load`` (no
Python tags), validated by one pydantic schema each, and every rejection is a
:class:`~hwflow.errors.BadInput` naming the file and the key path, with a
"did you mean" for misspelt keys. Per-board overrides inside a design
(``boards: {zcu104: {...}}``) are merged before validation so that the merged
result is validated as a whole.

The package is read in this order (each module imports only those before it):
``base`` (safe names, the strict model), ``design`` and ``board`` (the schemas), ``messages``
(validation errors for people), ``semantics`` (layer names, shapes), ``loading`` (files to
validated objects), ``files`` (the files a design names), ``checking`` (``hwflow check``).
Everything is imported from ``hwflow.config``; the modules are an implementation detail.
"""

from __future__ import annotations

from .base import MAX_FILE_BYTES, SAFE_NAME, Strict, check_safe_name
from .board import Board, BoardDataMovement, BoardDeploy, BoardPower, Resources
from .checking import FAST_CLOCK_NS, check, design_warnings, resolved_dict
from .design import (
    ACTIVATION_LAYERS,
    LAYER_KEYS,
    RESERVED_LAYER_NAMES,
    WEIGHT_LAYERS,
    Dataset,
    DefaultQuant,
    Design,
    Distillation,
    Hls,
    InputQuant,
    Layer,
    LayerQuant,
    LayerType,
    Model,
    Pruning,
    Quantization,
    Training,
    check_bits,
)
from .files import EXAMPLE_NPZ, check_files, dataset_file, design_file_path, missing_file_hint, model_file
from .loading import (
    deep_merge,
    design_names,
    list_boards,
    list_designs,
    load_board,
    load_design,
    read_yaml,
    resolve_board_path,
    resolve_design_path,
)
from .messages import _did_you_mean, validation_message
from .semantics import _check_layer_semantics, infer_shapes, layer_names

__all__ = [
    "ACTIVATION_LAYERS", "EXAMPLE_NPZ", "FAST_CLOCK_NS", "LAYER_KEYS", "MAX_FILE_BYTES", "RESERVED_LAYER_NAMES",
    "SAFE_NAME", "WEIGHT_LAYERS", "Board", "BoardDataMovement", "BoardDeploy", "BoardPower", "Dataset",
    "DefaultQuant", "Design", "Distillation", "Hls", "InputQuant", "Layer", "LayerQuant", "LayerType", "Model",
    "Pruning", "Quantization", "Resources", "Strict", "Training", "_check_layer_semantics", "_did_you_mean",
    "check", "check_bits", "check_files", "check_safe_name", "dataset_file", "deep_merge", "design_file_path",
    "design_names", "design_warnings", "infer_shapes", "layer_names", "list_boards", "list_designs",
    "load_board", "load_design", "missing_file_hint", "model_file", "read_yaml", "resolve_board_path",
    "resolve_design_path", "resolved_dict", "validation_message",
]
