#!/usr/bin/env python3
"""Write build/data/npz_example.npz: a synthetic 4-class problem for designs/npz_example.yaml.

Four Gaussian clusters in 16 dimensions. Generated, never committed, so the repository
stays small and anyone can see exactly what the data is.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "build/data/npz_example.npz"))
    ap.add_argument("--samples", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    centers = rng.normal(0.0, 1.5, size=(4, 16))
    y = rng.integers(0, 4, size=args.samples)
    x = centers[y] + rng.normal(0.0, 1.0, size=(args.samples, 16))
    n_test = args.samples // 5
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.npz")
    np.savez(tmp, x_train=x[n_test:].astype(np.float32), y_train=y[n_test:],
             x_test=x[:n_test].astype(np.float32), y_test=y[:n_test])
    os.replace(tmp, out)
    print(f"wrote {out} ({args.samples} samples, 16 features, 4 classes)")


if __name__ == "__main__":
    main()
