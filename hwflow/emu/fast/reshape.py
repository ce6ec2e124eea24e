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


def _build_resize(layer, src, out_t, out_shape, project_dir, io_type):
    """UpSampling1D/2D (nearest): io_parallel ``resize_nearest`` picks source pixel
    ``(i * ((H << 16) / H' + 1)) >> 16`` per axis; io_stream repeats each pixel H'/H times."""
    algo = str(layer.get_attr("algorithm", "nearest")).lower()
    if algo != "nearest":
        raise Unsupported(f"layer {layer.name}: {algo} resize not emulated")
    h = int(layer.get_attr("in_height", 1) or 1)
    w = int(layer.get_attr("in_width"))
    nh = int(layer.get_attr("out_height", 1) or 1)
    nw = int(layer.get_attr("out_width"))
    c = int(layer.get_attr("n_chan"))
    if int(np.prod(src.shape)) != h * w * c or int(np.prod(out_shape)) != nh * nw * c:
        raise Unsupported(f"layer {layer.name}: resize geometry {src.shape} -> {out_shape}")
    if io_type == "io_stream":
        if nh % h or nw % w:
            raise Unsupported(f"layer {layer.name}: non-integer resize factor in io_stream")
        rows, cols = np.arange(nh) // (nh // h), np.arange(nw) // (nw // w)
    else:
        y_ratio = ((h << 16) // nh) + 1
        x_ratio = ((w << 16) // nw) + 1
        rows = (np.arange(nh, dtype=np.int64) * y_ratio) >> 16
        cols = (np.arange(nw, dtype=np.int64) * x_ratio) >> 16
    same = out_t.same_value_set(src.type)

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        n = a.shape[0]
        y = a.reshape(n, h, w, c)[:, rows][:, :, cols]
        if not same:
            y = cast_raw(y, src.type.frac, _type_range(src.type), out_t, inplace=True)
        return y.reshape((n, *out_shape))

    return fn, {"algorithm": algo, "factor": [nh // max(h, 1), nw // max(w, 1)]}


def _build_cropping(layer, src, out_t, out_shape, project_dir, io_type):
    """Cropping1D/2D (channels last): the kept window, each value assigned to res_T."""
    dims = 2 if layer.class_name.endswith("2D") else 1
    top = int(layer.get_attr("crop_top", 0) or 0) if dims == 2 else 0
    left = int(layer.get_attr("crop_left", 0) or 0)
    oh = int(layer.get_attr("out_height", 1) or 1) if dims == 2 else 1
    ow = int(layer.get_attr("out_width"))
    ih = int(layer.get_attr("in_height", 1) or 1) if dims == 2 else 1
    iw = int(layer.get_attr("in_width"))
    c = int(layer.get_attr("n_chan"))
    if ih * iw * c != int(np.prod(src.shape)) or oh * ow * c != int(np.prod(out_shape)) \
            or top + oh > ih or left + ow > iw:
        raise Unsupported(f"layer {layer.name}: cropping geometry {src.shape} -> {out_shape}")
    same = out_t.same_value_set(src.type)

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        n = a.shape[0]
        y = a.reshape(n, ih, iw, c)[:, top:top + oh, left:left + ow]
        y = np.ascontiguousarray(y) if same else cast_raw(y, src.type.frac, _type_range(src.type), out_t)
        return y.reshape((n, *out_shape))

    return fn, {"crop": [top, left]}
