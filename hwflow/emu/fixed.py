"""Vivado ``ap_fixed`` / ``ap_ufixed`` / ``ap_int`` arithmetic in numpy, bit for bit.

Why this exists: the fast emulator (:mod:`hwflow.emu.fast`) must reproduce hls4ml's C-simulation
exactly, and every C-sim number is the result of an assignment to an ``ap_fixed`` type: the value
is quantised (``Q`` mode) to the type's LSB and then wrapped or saturated (``O`` mode) to its range.
Both steps are reproduced here on float64 arrays.

Representation. A fixed-point value with ``W`` bits of which ``I`` are integer bits (sign bit
included when signed) has ``F = W - I`` fractional bits and is ``k * 2**-F`` for an integer ``k``
in ``[-2**(W-1), 2**(W-1) - 1]`` (signed) or ``[0, 2**W - 1]`` (unsigned). float64 holds every such
``k`` exactly while ``W <= 53``; wider types are rejected (:class:`FixedType` raises), because
past that the emulation could no longer promise exactness.

Two families of functions:

* :meth:`FixedType.quantize` takes *real* values (any float64, e.g. a user's input or a weight
  read from text) and returns the real values the type would hold - what ``T(double)`` does in
  the C++ (``ap_fixed_base(double)``).
* :func:`requantize_raw` works on *raw* integers ``k`` (as float64 arrays, scaled by ``2**F``):
  it moves them from ``F_src`` to ``F_dst`` fractional bits with the destination's modes. The fast
  emulator keeps tensors raw so a quantisation is a multiply, a rounding and a range check.

Modes (Vivado HLS UG902 "Arbitrary precision fixed-point"): quantisation ``AP_TRN`` (floor),
``AP_TRN_ZERO`` (towards zero), ``AP_RND`` (half up), ``AP_RND_ZERO`` (half towards zero),
``AP_RND_MIN_INF`` (half down), ``AP_RND_INF`` (half away from zero), ``AP_RND_CONV`` (half to
even - the mode that matches QKeras, which rounds with ``tf.round``); overflow ``AP_WRAP``
(two's-complement modulo ``2**W``), ``AP_SAT`` (clip), ``AP_SAT_ZERO`` (0 on overflow),
``AP_SAT_SYM`` (clip to ``+-(2**(W-1)-1)``, so the most negative code never appears).
``AP_WRAP_SM`` and saturation bits ``N > 0`` are rare in hls4ml output and are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Quantisation modes, without the ``AP_`` prefix. ``TRN`` is the C++ default.
ROUNDING_MODES = ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_INF", "RND_MIN_INF", "RND_CONV")
#: Overflow modes, without the ``AP_`` prefix. ``WRAP`` is the C++ default.
OVERFLOW_MODES = ("WRAP", "SAT", "SAT_ZERO", "SAT_SYM")

#: float64 represents every integer below this exactly.
EXACT_LIMIT = 2.0**53

_FIXED_RE = re.compile(r"^(?:ap_)?(u?)fixed\s*<([^<>]*)>$", re.IGNORECASE)
_INT_RE = re.compile(r"^(?:ap_)?(u?)int\s*<\s*(\d+)\s*>$", re.IGNORECASE)


def _mode_name(mode: Any, allowed: tuple[str, ...], what: str) -> str:
    """Normalise ``AP_RND_CONV`` / ``RND_CONV`` / an hls4ml enum to ``RND_CONV``."""
    if mode is None:
        return allowed[0]
    name = getattr(mode, "name", None) or str(mode)
    key = name.strip().upper()
    for prefix in ("AP_", "AC_"):
        key = key.removeprefix(prefix)
    if key not in allowed:
        raise ValueError(f"unknown {what} mode {mode!r}; expected one of {', '.join(allowed)}")
    return key


@dataclass(frozen=True)
class FixedType:
    """One ``ap_fixed``-family type: width, integer bits (sign included), signedness, modes.

    ``ap_int<W>`` is ``FixedType(W, W)``; ``ap_uint<W>`` is ``FixedType(W, W, signed=False)``.
    """

    width: int
    integer: int
    signed: bool = True
    rounding: str = "TRN"
    overflow: str = "WRAP"
    sat_bits: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "rounding", _mode_name(self.rounding, ROUNDING_MODES, "quantisation"))
        object.__setattr__(self, "overflow", _mode_name(self.overflow, OVERFLOW_MODES, "overflow"))
        if self.width < 1:
            raise ValueError(f"fixed-point width must be >= 1, got {self.width}")
        if self.width > 53:
            raise ValueError(f"{self}: wider than 53 bits cannot be emulated exactly in float64")
        if self.sat_bits not in (0, None):
            raise ValueError(f"{self}: saturation bits N={self.sat_bits} are not supported")
        object.__setattr__(self, "sat_bits", 0)

    # ----------------------------------------------------------------------------- properties
    @property
    def frac(self) -> int:
        """Fractional bits ``F = W - I`` (may be negative: an LSB above 1)."""
        return self.width - self.integer

    @property
    def lsb(self) -> float:
        return 2.0 ** (-self.frac)

    @property
    def raw_min(self) -> float:
        return -(2.0 ** (self.width - 1)) if self.signed else 0.0

    @property
    def raw_max(self) -> float:
        return 2.0 ** (self.width - 1) - 1 if self.signed else 2.0**self.width - 1

    @property
    def min_value(self) -> float:
        lo = self.raw_min + (1 if (self.signed and self.overflow == "SAT_SYM") else 0)
        return lo * self.lsb

    @property
    def max_value(self) -> float:
        return self.raw_max * self.lsb

    def cpp(self) -> str:
        """The C++ spelling, e.g. ``ap_fixed<8,2,AP_RND_CONV,AP_SAT>``."""
        base = "ap_fixed" if self.signed else "ap_ufixed"
        if self.rounding == "TRN" and self.overflow == "WRAP":
            return f"{base}<{self.width},{self.integer}>"
        return f"{base}<{self.width},{self.integer},AP_{self.rounding},AP_{self.overflow}>"

    def hls4ml(self) -> str:
        """The spelling hls4ml's config accepts, e.g. ``fixed<8,2,RND_CONV,SAT>``."""
        base = "fixed" if self.signed else "ufixed"
        if self.rounding == "TRN" and self.overflow == "WRAP":
            return f"{base}<{self.width},{self.integer}>"
        return f"{base}<{self.width},{self.integer},{self.rounding},{self.overflow}>"

    def __str__(self) -> str:
        return self.cpp()

    def same_value_set(self, other: FixedType) -> bool:
        """True when both types hold the same set of values (modes may differ)."""
        return (self.width, self.integer, self.signed) == (other.width, other.integer, other.signed)

    # ----------------------------------------------------------------------------- parsing
    @classmethod
    def parse(cls, text: str) -> FixedType:
        """Parse ``ap_fixed<W,I[,Q[,O[,N]]]>``, ``ap_ufixed<..>``, ``ap_int<W>``, ``ap_uint<W>``.

        hls4ml's short spellings (``fixed<..>``, ``ufixed<..>``, ``int<W>``, ``uint<W>``) and modes
        with or without the ``AP_`` prefix are accepted, so strings from an hls4ml config and from
        the generated ``defines.h`` both parse.
        """
        s = re.sub(r"\s+", "", str(text))
        m = _INT_RE.match(s)
        if m:
            w = int(m.group(2))
            return cls(w, w, signed=not m.group(1))
        m = _FIXED_RE.match(s)
        if not m:
            raise ValueError(f"not an ap_fixed/ap_int type: {text!r}")
        parts = [p for p in m.group(2).split(",") if p != ""]
        if len(parts) < 1:
            raise ValueError(f"missing width in {text!r}")
        w = int(parts[0])
        i = int(parts[1]) if len(parts) > 1 else w
        q = parts[2] if len(parts) > 2 else "TRN"
        o = parts[3] if len(parts) > 3 else "WRAP"
        n = int(parts[4]) if len(parts) > 4 else 0
        return cls(w, i, signed=not m.group(1), rounding=q, overflow=o, sat_bits=n)

    @classmethod
    def from_hls4ml(cls, precision: Any) -> FixedType:
        """Convert an hls4ml ``PrecisionType`` (Fixed or Integer) to a :class:`FixedType`.

        Raises ``TypeError`` for the types we do not emulate (xnor, exponent, float).
        """
        kinds = {c.__name__ for c in type(precision).__mro__}  # backends subclass these
        kind = type(precision).__name__
        if "IntegerPrecisionType" in kinds:
            return cls(precision.width, precision.width, signed=bool(precision.signed))
        if "FixedPrecisionType" in kinds:
            return cls(
                precision.width,
                precision.integer,
                signed=bool(precision.signed),
                rounding=precision.rounding_mode,
                overflow=precision.saturation_mode,
                sat_bits=precision.saturation_bits or 0,
            )
        raise TypeError(f"precision {precision} ({kind}) is not a fixed-point/integer type")

    # ----------------------------------------------------------------------------- arithmetic
    def quantize(self, x: Any) -> np.ndarray:
        """Real values -> the real values this type holds after ``T t = x;`` (as float64).

        Exact for every finite float64 input (what ``ap_fixed_base(double)`` does); NaN/inf are
        not defined in ``ap_fixed`` and are refused.
        """
        x = np.asarray(x, dtype=np.float64)
        if not np.all(np.isfinite(x)):
            raise ValueError("cannot quantise NaN/inf to a fixed-point type")
        scaled = np.ldexp(x, self.frac)  # exact: a power-of-two scale
        raw = round_real(scaled, self.rounding)
        raw = apply_overflow(raw, self)
        return np.ldexp(raw, -self.frac)

    def to_raw(self, x: Any) -> np.ndarray:
        """Real values -> raw integer codes ``k`` (as float64) after quantisation."""
        return np.ldexp(self.quantize(x), self.frac)

    def representable(self, x: Any) -> np.ndarray:
        """Boolean mask: which values the type holds exactly (no rounding, no overflow)."""
        x = np.asarray(x, dtype=np.float64)
        return self.quantize(x) == x


def round_real(scaled: np.ndarray, mode: str) -> np.ndarray:
    """Round real (already ``2**F``-scaled) values to integers with a Vivado quantisation mode.

    Values of magnitude >= 2**52 are already integers in float64 and are returned unchanged; this
    guard keeps ``floor(s + 0.5)`` from rounding a large odd integer up.
    """
    s = np.asarray(scaled, dtype=np.float64)
    if mode == "TRN":
        r = np.floor(s)
    elif mode == "TRN_ZERO":
        r = np.trunc(s)
    elif mode == "RND":
        r = np.floor(s + 0.5)
    elif mode == "RND_ZERO":
        r = np.copysign(np.ceil(np.abs(s) - 0.5), s)
    elif mode == "RND_MIN_INF":
        r = np.ceil(s - 0.5)
    elif mode == "RND_INF":
        r = np.copysign(np.floor(np.abs(s) + 0.5), s)
    elif mode == "RND_CONV":
        r = np.rint(s)  # IEEE round-half-to-even
    else:  # pragma: no cover - FixedType validates modes
        raise ValueError(mode)
    if r.ndim == 0:
        return s if abs(float(s)) >= 2.0**52 else r + 0.0
    big = np.abs(s) >= 2.0**52
    if big.any():
        r[big] = s[big]
    return r + 0.0  # turn -0.0 into 0.0 so results compare/print cleanly


def apply_overflow(raw: np.ndarray, t: FixedType, *, out: np.ndarray | None = None) -> np.ndarray:
    """Bring integer codes into ``t``'s range with its overflow mode.

    In-range arrays (the common case) cost two reductions and no copy when ``out is raw``.
    """
    raw = np.asarray(raw, dtype=np.float64)
    if out is None:
        out = raw.copy() if raw.ndim else np.array(raw)
    elif out is not raw:
        np.copyto(out, raw)
    if out.size == 0:
        return out
    lo, hi = t.raw_min, t.raw_max
    mode = t.overflow
    sym = mode == "SAT_SYM" and t.signed
    lo_ok = lo + 1 if sym else lo
    if out.min() >= lo_ok and out.max() <= hi:
        return out
    if mode == "WRAP":
        span = 2.0**t.width
        bad = (out < lo) | (out > hi)
        v = np.mod(out[bad], span)  # exact (fmod semantics), result in [0, span)
        if t.signed:
            v = np.where(v >= 2.0 ** (t.width - 1), v - span, v)
        out[bad] = v
    elif mode == "SAT" or mode == "SAT_SYM":
        np.clip(out, lo_ok, hi, out=out)
    elif mode == "SAT_ZERO":
        out[(out < lo) | (out > hi)] = 0.0
    return out


def requantize_raw(raw: np.ndarray, src_frac: int, dst: FixedType, *, inplace: bool = False) -> np.ndarray:
    """Raw codes with ``src_frac`` fractional bits -> raw codes of ``dst`` (its Q then O mode).

    This is an assignment ``dst_t y = x;`` where ``x`` holds the exact value ``raw * 2**-src_frac``.
    Requires ``|raw| < 2**53`` (callers guarantee it by bounding accumulations).
    """
    out = raw if inplace else np.array(raw, dtype=raw.dtype, copy=True)
    shift = src_frac - dst.frac
    if shift > 0:
        out *= 2.0 ** (-shift)  # exact: power of two, no underflow at these magnitudes
        _round_inplace(out, dst.rounding)
    elif shift < 0:
        out *= 2.0 ** (-shift)
    if out.dtype != np.float64 and _needs_f64(dst):
        out = out.astype(np.float64)
    return apply_overflow(out, dst, out=out) if out.dtype == np.float64 else _overflow_any(out, dst)


def _needs_f64(t: FixedType) -> bool:
    return t.width > 24


def _overflow_any(out: np.ndarray, t: FixedType) -> np.ndarray:
    """Overflow handling for float32 raw arrays (values exact; width <= 24 checked by caller)."""
    if out.size == 0:
        return out
    lo, hi = t.raw_min, t.raw_max
    sym = t.overflow == "SAT_SYM" and t.signed
    lo_ok = lo + 1 if sym else lo
    if out.min() >= lo_ok and out.max() <= hi:
        return out
    tmp = apply_overflow(out.astype(np.float64), t)
    out[...] = tmp
    return out


def _round_inplace(a: np.ndarray, mode: str) -> None:
    """In-place rounding of scaled values; |a| < 2**52 so ``floor(a + 0.5)`` is exact."""
    if mode == "TRN":
        np.floor(a, out=a)
    elif mode == "RND_CONV":
        np.rint(a, out=a)
    elif mode == "RND":
        a += 0.5
        np.floor(a, out=a)
    elif mode == "TRN_ZERO":
        np.trunc(a, out=a)
    elif mode == "RND_MIN_INF":
        a -= 0.5
        np.ceil(a, out=a)
    elif mode == "RND_ZERO":
        sign = np.sign(a)
        np.abs(a, out=a)
        a -= 0.5
        np.ceil(a, out=a)
        a *= sign
    elif mode == "RND_INF":
        sign = np.sign(a)
        np.abs(a, out=a)
        a += 0.5
        np.floor(a, out=a)
        a *= sign
    else:  # pragma: no cover
        raise ValueError(mode)
    a += 0.0  # -0.0 -> 0.0


def quantize(x: Any, type_string: str) -> np.ndarray:
    """Convenience: ``quantize(x, "ap_fixed<8,2,AP_RND_CONV,AP_SAT>")``."""
    return FixedType.parse(type_string).quantize(x)


def strip_array_type(cpp_type: str) -> str:
    """``nnet::array<ap_fixed<8,2>, 4*1>`` -> ``ap_fixed<8,2>`` (io_stream element types)."""
    s = cpp_type.strip()
    m = re.match(r"^nnet::array<(.*),\s*[\d\s\*]+>$", s)
    return m.group(1).strip() if m else s
