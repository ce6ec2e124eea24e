"""The constants of hls4ml's ``distributed_arithmetic`` kernels, read from the generated code.

With ``Strategy: distributed_arithmetic`` hls4ml 1.3 hands a Dense/Conv layer's quantized
weights to da4ml, which writes a straight-line C++ function ``dense_da_<index>``: every
intermediate is ``vN = vA +/- bit_shift<s>(vB)`` (or a constant), each in an ``ap_fixed`` type
da4ml sized so that nothing is rounded or overflows, and each output is one of them cast to the
type da4ml computed for it. hls4ml then deletes the layer's weight and bias attributes, so the
only record of what the firmware computes is that code.

:func:`affine_of_kernel` reads the function back: since it only adds, subtracts and shifts, it
is an affine map ``y = x @ W + b``, and carrying one coefficient vector per variable gives ``W``
and ``b`` exactly (powers of two and sums of them, exact in float64). Any other statement makes it
refuse (:class:`Unsupported`), so the emulator falls back to the C-simulation rather than guess.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from hwflow.emu.fast.core import Unsupported
from hwflow.emu.fixed import FixedType

_TYPE = r"ap_(u?)fixed<\s*(-?\d+)\s*,\s*(-?\d+)\s*>"
_TERM = re.compile(rf"^(-?)\s*(?:v(\d+)|bit_shift<(-?\d+)>\(v(\d+)\)|{_TYPE}\(([-+0-9.eE]+)\))$")
_DEF = re.compile(rf"^{_TYPE}\s+v(\d+)\s*=\s*(.+);$")
_OUT = re.compile(rf"^model_out\[(\d+)\]\s*=\s*(?:{_TYPE}\((.+)\)|(.+));$")
_INP = re.compile(r"^model_inp\[(\d+)\]$")


def _fixed(u: str, w: str, i: str) -> FixedType:
    return FixedType(int(w), int(i), signed=not u)


def _body(code: str, fn_name: str) -> list[str]:
    m = re.search(rf"\bvoid\s+{re.escape(fn_name)}\s*\([^)]*\)\s*\{{", code)
    if not m:
        raise Unsupported(f"distributed-arithmetic kernel {fn_name} not found in the generated code")
    end = code.find("\n}", m.end())
    if end < 0:
        raise Unsupported(f"distributed-arithmetic kernel {fn_name}: end of function not found")
    lines = []
    for raw in code[m.end():end].splitlines():
        line = raw.split("//", 1)[0].strip()
        if line and not line.startswith("#pragma"):
            lines.append(line)
    return lines


def affine_of_kernel(code: str, fn_name: str, n_in: int, n_out: int,
                     x_t: FixedType | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(W, b)`` with ``W`` of shape (n_in, n_out) such that the kernel computes ``x @ W + b``
    exactly. With ``x_t`` (the kernel's input type), it also checks that reading the input and
    writing each output lose nothing, so that the sum is exact and only the caller's final cast
    to the layer's result type remains."""
    coef: dict[int, np.ndarray] = {}  # variable -> [w_0 .. w_{n_in-1}, constant]
    out = np.full((n_out, n_in + 1), np.nan)

    def term(text: str) -> np.ndarray:
        m = _TERM.match(text.strip())
        if not m:
            raise Unsupported(f"{fn_name}: statement term {text.strip()!r} not understood")
        neg, v_plain, shift, v_shift, u, w, i, const = m.groups()
        if const is not None:
            val = float(const)
            if _fixed(u, w, i).quantize(np.array([val]))[0] != val:
                raise Unsupported(f"{fn_name}: constant {const} not exact in its type")
            vec = np.zeros(n_in + 1)
            vec[-1] = val
        else:
            var = int(v_plain if v_plain is not None else v_shift)
            if var not in coef:
                raise Unsupported(f"{fn_name}: v{var} used before it is defined")
            vec = coef[var] * (2.0 ** int(shift) if shift is not None else 1.0)
        return -vec if neg else vec

    def expr(text: str) -> np.ndarray:
        # terms joined by " + " / " - " (a sign inside a term, as in bit_shift<-2>, has no spaces)
        parts = re.split(r"\s+([+-])\s+", text.strip())
        acc = term(parts[0])
        for op, t in zip(parts[1::2], parts[2::2]):
            acc = acc + term(t) if op == "+" else acc - term(t)
        return acc

    def bounds(vec: np.ndarray) -> tuple[float, float]:
        c = vec[:-1]
        lo = np.minimum(c * x_t.min_value, c * x_t.max_value).sum() + vec[-1]
        hi = np.maximum(c * x_t.min_value, c * x_t.max_value).sum() + vec[-1]
        return float(lo), float(hi)

    for line in _body(code, fn_name):
        m = _DEF.match(line)
        if m:
            u, w, i, var, rhs = m.groups()
            t = _fixed(u, w, i)
            inp = _INP.match(rhs.strip())
            if inp:
                j = int(inp.group(1))
                if not 0 <= j < n_in:
                    raise Unsupported(f"{fn_name}: input index {j} out of range")
                if x_t is not None and (t.frac < x_t.frac or t.min_value > x_t.min_value
                                        or t.max_value < x_t.max_value):
                    raise Unsupported(f"{fn_name}: input read as {t}, narrower than {x_t}")
                vec = np.zeros(n_in + 1)
                vec[j] = 1.0
            else:
                vec = expr(rhs)
            coef[int(var)] = vec
            continue
        m = _OUT.match(line)
        if m:
            j, u, w, i, inner, plain = m.groups()
            j = int(j)
            if not 0 <= j < n_out:
                raise Unsupported(f"{fn_name}: output index {j} out of range")
            if plain is not None:
                vec = expr(plain) if plain.strip() != "0" else np.zeros(n_in + 1)
            else:
                vec = expr(inner)
                t = _fixed(u, w, i)
                if x_t is not None:
                    lo, hi = bounds(vec)
                    if _frac_needed(vec, x_t) > t.frac or lo < t.min_value or hi > t.max_value:
                        raise Unsupported(f"{fn_name}: output {j} cast to {t} may round or overflow")
            out[j] = vec
            continue
        raise Unsupported(f"{fn_name}: statement {line!r} not understood")
    if np.isnan(out).any():
        raise Unsupported(f"{fn_name}: not every output is written")
    return out[:, :-1].T.copy(), out[:, -1].copy()


def _frac_needed(vec: np.ndarray, x_t: FixedType) -> int:
    """Fractional bits of ``x @ vec[:-1] + vec[-1]`` for inputs on ``x_t``'s grid."""
    need = -64
    for k, c in enumerate(vec):
        if c == 0:
            continue
        f = 0
        while c * 2.0**f != round(c * 2.0**f) and f < 64:
            f += 1
        while f > -64 and (c * 2.0 ** (f - 1)) == round(c * 2.0 ** (f - 1)):
            f -= 1
        need = max(need, f + (x_t.frac if k < len(vec) - 1 else 0))
    return need


def da_kernel(layer: Any, n_in: int, n_out: int, x_t: FixedType) -> tuple[np.ndarray, np.ndarray]:
    """``(W, b)`` of a distributed-arithmetic Dense/Conv layer, from its generated kernel."""
    src = layer.get_attr("da_codegen")
    code = getattr(src, "code", src)
    if not isinstance(code, str):
        raise Unsupported(f"layer {layer.name}: distributed-arithmetic kernel code not found")
    return affine_of_kernel(code, f"dense_da_{layer.index}", n_in, n_out, x_t)
