"""The files a design names (its npz dataset, its model file): where they are looked for, and the
hint given when one is missing."""

from __future__ import annotations

from pathlib import Path

from ..errors import BadInput
from ..paths import designs_dir, project_root
from .design import Design

EXAMPLE_NPZ = "npz_example.npz"


def design_file_path(design: Design, value: str) -> Path:
    """A path written in a design: absolute as is; relative to the design file's folder, else to
    the repository (designs/ files name repository paths such as ``build/data/x.npz``)."""
    p = Path(value)
    if p.is_absolute():
        return p
    src = getattr(design, "_source", None)
    repo = project_root() / p
    if src:
        near = Path(src).parent / p
        if near.exists() or not repo.exists() and Path(src).resolve().parent != designs_dir().resolve():
            return near  # (a missing file of a design outside designs/ is looked for next to it)
    return repo


def dataset_file(design: Design) -> Path | None:
    """The npz file of a ``dataset: {name: npz}`` design (resolved like ``model.file``)."""
    if design.dataset.name != "npz" or not design.dataset.path:
        return None
    return design_file_path(design, design.dataset.path)


def model_file(design: Design) -> Path | None:
    if not design.model.file:
        return None
    return design_file_path(design, design.model.file)


def missing_file_hint(path: Path) -> str | None:
    if path.name == EXAMPLE_NPZ:
        return "for the example, run `python scripts/make_npz_example.py` (or `make demo-npz`) first"
    return ("write your data with numpy.savez(path, x_train=..., y_train=..., x_test=..., y_test=...); "
            "a relative dataset.path is read from the design file's folder")


def check_files(design: Design, source: str | None = None) -> None:
    """The files a design names exist (``hwflow check`` says "valid" only when they do)."""
    src = source or getattr(design, "_source", "design")
    npz = dataset_file(design)
    if npz is not None and not npz.is_file():
        raise BadInput(f"{src}: dataset.path: file not found: {npz}", hint=missing_file_hint(npz))
    mf = model_file(design)
    if mf is not None and not mf.is_file():
        raise BadInput(f"{src}: model.file: file not found: {mf}",
                       hint="a relative model.file is read from the design file's folder")
