"""Layers that move values without arithmetic: reshape/flatten and zero-padding."""

from __future__ import annotations

import numpy as np

from hwflow.emu.fast.core import Unsupported, _type_range, cast_raw


def _build_reshape(layer, src, out_t, out_shape, project_dir, io_type):
    if int(np.prod(out_shape)) != int(np.prod(src.shape)):
        raise Unsupported(f"layer {layer.name}: reshape changes size")
    same = out_t.same_value_set(src.type)

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        y = a.reshape((a.shape[0], *out_shape))
        if same:
            return y
        return cast_raw(y, src.type.frac, _type_range(src.type), out_t, inplace=False)

    return fn, {}


def _build_zeropad(layer, src, out_t, out_shape, project_dir, io_type):
    dims = 2 if layer.class_name.endswith("2D") else 1
    pt = int(layer.get_attr("pad_top", 0) or 0) if dims == 2 else 0
    pb = int(layer.get_attr("pad_bottom", 0) or 0) if dims == 2 else 0
    pl = int(layer.get_attr("pad_left", 0) or 0)
    pr = int(layer.get_attr("pad_right", 0) or 0)
    same = out_t.same_value_set(src.type)

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        if dims == 2:
            y = np.pad(a, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
        else:
            y = np.pad(a, ((0, 0), (pl, pr), (0, 0)))
        if same:
            return y
        return cast_raw(y, src.type.frac, _type_range(src.type), out_t, inplace=True)

    return fn, {}
