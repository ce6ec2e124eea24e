"""Shared pieces of the fast engine: raw-code casts, the op/tensor records, model reading.

Tensors flow between layers as *raw codes*: integer-valued float arrays ``k`` with the real value
``k * 2**-F`` of the producing layer's result type. float32 is used where the type has at most
24 bits (and matrix products where the sum provably stays below ``2**24``), float64 elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hwflow.emu.fixed import FixedType, _round_inplace, apply_overflow

F32_EXACT = 2.0**24
F64_EXACT = 2.0**53


class Unsupported(Exception):
    """The model contains something the fast path does not reproduce exactly."""


def _dtype_for(t: FixedType) -> type:
    return np.float32 if t.width <= 24 else np.float64


def _raw_abs_max(t: FixedType) -> float:
    return max(abs(t.raw_min), abs(t.raw_max))


def cast_raw(raw: np.ndarray, src_frac: int, src_range: tuple[float, float] | None, dst: FixedType,
             *, inplace: bool = False) -> np.ndarray:
    """Assignment ``dst_t y = x`` on raw codes (``x = raw * 2**-src_frac``), exact.

    ``src_range`` (min, max real value the source can hold) lets the overflow pass be skipped
    when it provably cannot trigger.
    """
    out = raw if inplace else raw.copy()
    shift = src_frac - dst.frac
    if shift != 0:
        out *= out.dtype.type(2.0 ** (-shift))
        if shift > 0:
            _round_inplace(out, dst.rounding)
    need_check = True
    if src_range is not None:
        lo, hi = src_range
        lo_ok = dst.min_value
        if lo >= lo_ok and hi + (dst.lsb if shift > 0 else 0.0) <= dst.max_value:
            need_check = False
    if need_check:
        _overflow_inplace(out, dst)
    want = _dtype_for(dst)
    return out if out.dtype == want else out.astype(want)


def _overflow_inplace(out: np.ndarray, dst: FixedType) -> None:
    """Overflow mode on integer codes, in place. Saturation is one clip pass (cheaper than
    checking first); wrap-around checks the range first because it almost never triggers."""
    if out.size == 0:
        return
    if dst.overflow in ("SAT", "SAT_SYM"):
        lo = dst.raw_min + (1 if (dst.signed and dst.overflow == "SAT_SYM") else 0)
        np.clip(out, lo, dst.raw_max, out=out)
    elif out.dtype == np.float64:
        apply_overflow(out, dst, out=out)
    elif out.min() < dst.raw_min or out.max() > dst.raw_max:
        out[...] = apply_overflow(out.astype(np.float64), dst)


def _finish_activation(y: np.ndarray, shift: int, dst: FixedType, relu: bool,
                       src_range: tuple[float, float] | None) -> np.ndarray:
    """relu/linear: ``res_T r = max(x, 0)`` (or ``= x``) on codes already scaled to ``dst``'s LSB
    (``shift`` > 0: they still carry fraction bits to round away)."""
    if relu and not (not dst.signed and dst.overflow in ("SAT", "SAT_SYM")):
        np.maximum(y, 0, out=y)  # unsigned saturating results clip negatives to 0 anyway
    if shift > 0:
        _round_inplace(y, dst.rounding)
    need = True
    if src_range is not None:
        lo, hi = src_range
        if relu:
            lo, hi = 0.0, max(hi, 0.0)
        need = not (lo >= dst.min_value and hi + (dst.lsb if shift > 0 else 0.0) <= dst.max_value)
    if need:
        _overflow_inplace(y, dst)
    want = _dtype_for(dst)
    return y if y.dtype == want else y.astype(want)


@dataclass
class Tensor:
    """A named activation: raw codes plus the type that gives them meaning."""

    type: FixedType
    shape: tuple[int, ...]


@dataclass
class Op:
    """One firmware layer as a vectorised function of raw input tensors."""

    name: str
    kind: str
    inputs: list[str]
    output: str
    out_type: FixedType
    out_shape: tuple[int, ...]
    fn: Callable[..., np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)



# ------------------------------------------------------------------------------ model reading
def _ftype(precision: Any, what: str) -> FixedType:
    try:
        return FixedType.from_hls4ml(precision)
    except (TypeError, ValueError) as e:
        raise Unsupported(f"{what}: {e}") from None


def _layer_type(layer: Any, attr: str) -> FixedType:
    t = layer.get_attr(attr)
    if t is None:
        raise Unsupported(f"layer {layer.name}: no {attr}")
    return _ftype(t.precision, f"layer {layer.name} {attr}")


def _config_typedef(layer: Any, name: str) -> FixedType | None:
    """The type the layer's C++ config struct declares as ``name`` (e.g. ``accum_t``).

    The config struct is what the firmware compiles, so it has the last word: hls4ml sometimes
    writes a literal there that differs from the graph's attribute (softmax ``accum_t`` when it
    is the model default, ``inp_norm_t``). A named type is resolved through the layer's types.
    """
    cpp = layer.get_attr("config_cpp", "") or ""
    return _typedef_in(layer, cpp, name)


def _typedef_in(layer: Any, cpp: str, name: str) -> FixedType | None:
    """The type ``cpp`` (a config struct's text) declares as ``name``, resolved through the layer."""
    m = re.search(rf"typedef\s+(.+?)\s+{re.escape(name)}\s*;", cpp)
    if not m:
        return None
    text = m.group(1).strip()
    try:
        return FixedType.parse(text)
    except ValueError:
        pass
    candidates = list(getattr(layer, "types", {}).values())
    candidates += [v for v in layer.attributes.values() if hasattr(v, "precision") and hasattr(v, "name")]
    candidates += [getattr(w, "type", None) for w in layer.weights.values()]
    for t in candidates:
        if t is not None and getattr(t, "name", None) == text:
            return _ftype(t.precision, f"layer {layer.name} {name}")
    raise Unsupported(f"layer {layer.name}: cannot resolve {name} = {text}")


def _cfg_type(layer: Any, typedef: str, attr: str) -> FixedType:
    """A layer type as its config struct declares it, else from the graph attribute."""
    t = _config_typedef(layer, typedef)
    return t if t is not None else _layer_type(layer, attr)


def _config_value(layer: Any, name: str) -> str | None:
    cpp = layer.get_attr("config_cpp", "") or ""
    m = re.search(rf"\b{re.escape(name)}\s*=\s*([^;]+);", cpp)
    return m.group(1).strip() if m else None


def _check_product(layer: Any) -> None:
    cpp = layer.get_attr("config_cpp", "") or ""
    prods = re.findall(r"using\s+product\s*=\s*nnet::product::(\w+)<", cpp)
    bad = [p for p in prods if p != "mult"]
    if bad:
        raise Unsupported(f"layer {layer.name}: product kernel {bad[0]} (binary/ternary/po2 weights)")


def _weights(layer: Any, key: str, wtype: FixedType, project_dir: Path | None) -> np.ndarray:
    """The weight values the firmware holds: its text file parsed into ``weight_t`` (as
    ``istream >> ap_fixed`` does: text -> double -> ``weight_t(double)``)."""
    var = layer.weights[key]
    txt = project_dir / "firmware" / "weights" / f"{var.name}.txt" if project_dir else None
    if txt is not None and txt.is_file():
        text = txt.read_text().strip()
        vals = np.array([float(v) for v in text.split(",")], dtype=np.float64) if text else np.zeros(0)
    else:
        vals = np.array([float(s) for s in var], dtype=np.float64)  # the strings hls4ml writes
    if vals.size != var.data.size:
        raise Unsupported(f"layer {layer.name}: {key} has {vals.size} values, expected {var.data.size}")
    return wtype.quantize(vals).reshape(var.data.shape)


def _read_defines(project_dir: Path | None) -> dict[str, str]:
    if project_dir is None:
        return {}
    path = project_dir / "firmware" / "defines.h"
    if not path.is_file():
        return {}
    out = {}
    for m in re.finditer(r"^typedef\s+(.+?)\s+(\w+)\s*;", path.read_text(), re.MULTILINE):
        out[m.group(2)] = m.group(1)
    return out


def _type_range(t: FixedType) -> tuple[float, float]:
    return (t.min_value, t.max_value)


def _windows(a: np.ndarray, g: dict[str, int], pad_value: float, kh: int, kw: int, sh: int, sw: int,
             oh: int, ow: int) -> np.ndarray:
    """(N, H, W, C) -> (N, OH, OW, KH, KW, C) windows, padded with ``pad_value`` (a view when possible)."""
    pt, pb, pl, pr = g["pad_top"], g["pad_bottom"], g["pad_left"], g["pad_right"]
    if pt or pb or pl or pr:
        a = np.pad(a, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=pad_value)
    win = np.lib.stride_tricks.sliding_window_view(a, (kh, kw), axis=(1, 2))  # N, H', W', C, KH, KW
    win = win[:, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw]
    if win.shape[1] != oh or win.shape[2] != ow:
        raise Unsupported(f"window geometry mismatch: got {win.shape[1:3]}, expected {(oh, ow)}")
    return np.moveaxis(win, 3, 5)  # N, OH, OW, KH, KW, C
