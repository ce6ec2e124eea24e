"""Encode/decode of the accelerator's I/O words: ``float`` or Vivado ``ap_fixed<W,I,Q,O>``.

The hls4ml accelerator wrapper either takes 32-bit floats on its AXI stream (and converts them to
``ap_fixed`` in hardware), or takes the fixed-point values directly, one value per stream word.
In the second case the host must quantise exactly as Vivado's ``ap_fixed`` constructor does
(quantisation mode ``Q`` and overflow mode ``O``), or board outputs will differ from C-simulation.

A fixed-point value with ``W`` total bits and ``I`` integer bits (sign included when signed) is an
integer ``q`` with ``value = q * 2**-(W-I)``. On the wire ``q`` sits in the low ``W`` bits of a
8/16/32-bit word; we write it sign-extended (so an ``int16`` view shows the natural integer) and on
reading we mask to ``W`` bits and sign-extend ourselves, so either hardware convention decodes.

Only the standard library and numpy are imported: this file ships to the board.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

#: Vivado quantisation modes (``AP_`` prefix optional). TRN is the ap_fixed default.
ROUNDING_MODES = ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_INF", "RND_MIN_INF", "RND_CONV")
#: Vivado overflow modes. WRAP is the ap_fixed default.
OVERFLOW_MODES = ("WRAP", "SAT", "SAT_ZERO", "SAT_SYM")

_AP_RE = re.compile(r"^\s*ap_(u?)fixed\s*<\s*([^>]*)>\s*$", re.IGNORECASE)
_AP_INT_RE = re.compile(r"^\s*ap_(u?)int\s*<\s*(\d+)\s*>\s*$", re.IGNORECASE)


def _mode(name: str, allowed: tuple[str, ...], what: str) -> str:
    key = str(name).strip().upper()
    if key.startswith("AP_"):  # noqa: FURB188 - str.removeprefix needs Python 3.9; boards run 3.8
        key = key[3:]
    if key not in allowed:
        raise ValueError(f"unknown {what} mode {name!r}; expected one of {', '.join(allowed)}")
    return key


@dataclass(frozen=True)
class FixedType:
    """One ``ap_fixed<width, integer, rounding, overflow>`` (or ``ap_ufixed``) type.

    ``word_bits`` is the container width on the AXI stream (8, 16 or 32); by default the
    smallest one that holds ``width`` bits.
    """

    width: int
    integer: int
    signed: bool = True
    rounding: str = "TRN"
    overflow: str = "WRAP"
    word_bits: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= int(self.width) <= 32:
            raise ValueError(f"fixed-point width must be 1..32 bits to fit one stream word, got {self.width}")
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "integer", int(self.integer))
        object.__setattr__(self, "rounding", _mode(self.rounding, ROUNDING_MODES, "rounding"))
        object.__setattr__(self, "overflow", _mode(self.overflow, OVERFLOW_MODES, "overflow"))
        word = self.word_bits
        if word is None:
            word = next(b for b in (8, 16, 32) if b >= self.width)
        if int(word) not in (8, 16, 32) or int(word) < self.width:
            raise ValueError(f"word_bits must be 8, 16 or 32 and >= width ({self.width}), got {word}")
        object.__setattr__(self, "word_bits", int(word))

    # -- parsing -------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str, word_bits: int | None = None) -> FixedType:
        """Parse ``ap_fixed<16,6>``, ``ap_fixed<8,1,AP_RND,AP_SAT>``, ``ap_ufixed<8,0>``, ``ap_int<8>``."""
        m = _AP_INT_RE.match(text)
        if m:
            width = int(m.group(2))
            return cls(width, width, signed=not m.group(1), word_bits=word_bits)
        m = _AP_RE.match(text)
        if not m:
            raise ValueError(f"not an ap_fixed type: {text!r} (expected e.g. 'ap_fixed<16,6,AP_RND,AP_SAT>')")
        parts = [p.strip() for p in m.group(2).split(",") if p.strip()]
        if len(parts) < 2:
            raise ValueError(f"{text!r}: ap_fixed needs at least <W,I>")
        rounding = parts[2] if len(parts) > 2 else "TRN"
        overflow = parts[3] if len(parts) > 3 else "WRAP"
        # A fifth parameter (saturation bits) only matters for WRAP with N>0; unsupported on purpose.
        if len(parts) > 4 and parts[4] not in ("0",):
            raise ValueError(f"{text!r}: saturation-bits parameter is not supported")
        return cls(int(parts[0]), int(parts[1]), signed=not m.group(1), rounding=rounding,
                   overflow=overflow, word_bits=word_bits)

    # -- properties -----------------------------------------------------------------------
    @property
    def frac_bits(self) -> int:
        return self.width - self.integer

    @property
    def lsb(self) -> float:
        """Value of one least-significant bit (the quantisation step)."""
        return float(2.0 ** -self.frac_bits)

    @property
    def int_min(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def int_max(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def word_dtype(self) -> np.dtype:
        return np.dtype(f"{'int' if self.signed else 'uint'}{self.word_bits}")

    def __str__(self) -> str:
        kind = "ap_fixed" if self.signed else "ap_ufixed"
        return f"{kind}<{self.width},{self.integer},AP_{self.rounding},AP_{self.overflow}>"

    # -- arithmetic -----------------------------------------------------------------------
    def to_int(self, x: Any) -> np.ndarray:
        """Quantise real values to the integer representation ``q`` (int64), as ap_fixed would.

        NaN becomes 0 (ap_fixed has no NaN; hardware behaviour is undefined, 0 is deterministic).
        """
        v = np.asarray(x, dtype=np.float64) * (2.0 ** self.frac_bits)  # exact: power-of-two scale
        v = np.where(np.isnan(v), 0.0, v)
        r = self.rounding
        with np.errstate(invalid="ignore"):
            if r == "TRN":
                q = np.floor(v)
            elif r == "TRN_ZERO":
                q = np.trunc(v)
            elif r == "RND":  # half toward +inf
                q = np.floor(v + 0.5)
            elif r == "RND_MIN_INF":  # half toward -inf
                q = np.ceil(v - 0.5)
            elif r == "RND_ZERO":  # half toward zero
                q = np.sign(v) * np.ceil(np.abs(v) - 0.5)
            elif r == "RND_INF":  # half away from zero
                q = np.sign(v) * np.floor(np.abs(v) + 0.5)
            else:  # RND_CONV: half to even
                q = np.rint(v)
        lo, hi = float(self.int_min), float(self.int_max)
        o = self.overflow
        if o == "SAT":
            q = np.clip(q, lo, hi)
        elif o == "SAT_SYM":
            q = np.clip(q, -hi if self.signed else lo, hi)
        elif o == "SAT_ZERO":
            q = np.where((q < lo) | (q > hi), 0.0, q)
        else:  # WRAP: keep the low W bits. fmod on integral floats is exact.
            q = np.where(np.isfinite(q), q, 0.0)
            span = float(1 << self.width)
            q = np.mod(q, span)
            if self.signed:
                q = np.where(q > hi, q - span, q)
        return q.astype(np.int64)

    def from_int(self, q: Any) -> np.ndarray:
        """Real values (float64, exact for W <= 32) of integer representations."""
        return np.asarray(q, dtype=np.float64) * self.lsb

    def quantize(self, x: Any) -> np.ndarray:
        """Real values after the ap_fixed round trip (what C-simulation would hold)."""
        return self.from_int(self.to_int(x))

    def encode(self, x: Any) -> np.ndarray:
        """Real values -> stream words (``word_dtype``), sign-extended into the container."""
        return self.to_int(x).astype(self.word_dtype)

    def decode(self, words: Any) -> np.ndarray:
        """Stream words -> real values (float64). Bits above ``width`` are ignored."""
        w = np.asarray(words)
        u = w.astype(np.int64) & ((1 << self.width) - 1)  # low W bits, as unsigned
        if self.signed:
            u = np.where(u >= (1 << (self.width - 1)), u - (1 << self.width), u)
        return self.from_int(u)


@dataclass(frozen=True)
class FloatType:
    """IEEE float on the stream (hls4ml's default ``input_type='float'``)."""

    bits: int = 32

    def __post_init__(self) -> None:
        if self.bits not in (32, 64):
            raise ValueError(f"float I/O must be 32 or 64 bits, got {self.bits}")

    @property
    def word_dtype(self) -> np.dtype:
        return np.dtype(np.float32 if self.bits == 32 else np.float64)

    @property
    def word_bits(self) -> int:
        return self.bits

    def __str__(self) -> str:
        return "float" if self.bits == 32 else "double"

    def quantize(self, x: Any) -> np.ndarray:
        return np.asarray(x, dtype=self.word_dtype).astype(np.float64)

    def encode(self, x: Any) -> np.ndarray:
        return np.asarray(x, dtype=self.word_dtype)

    def decode(self, words: Any) -> np.ndarray:
        """Stream words -> values, in the word's float type (no rounding happens)."""
        return np.asarray(words, dtype=self.word_dtype)


WireType = Union[FixedType, FloatType]  # noqa: UP007 - X | Y at runtime needs Python 3.10


def parse_wire_type(spec: Any) -> WireType:
    """Accept ``"float"``, ``"double"``, ``"ap_fixed<...>"`` or a dict.

    Dict form: ``{"type": "fixed", "width": 16, "integer": 6, "signed": true,
    "rounding": "RND", "overflow": "SAT", "word_bits": 16}`` or ``{"type": "float"}``;
    a dict may also give ``"precision": "ap_fixed<16,6>"`` plus ``word_bits``.
    """
    if isinstance(spec, (FixedType, FloatType)):
        return spec
    if spec is None:
        return FloatType()
    if isinstance(spec, str):
        key = spec.strip().lower()
        if key in ("float", "float32", "f32"):
            return FloatType(32)
        if key in ("double", "float64", "f64"):
            return FloatType(64)
        return FixedType.parse(spec)
    if isinstance(spec, Mapping):
        kind = str(spec.get("type", "fixed" if ("width" in spec or "precision" in spec) else "float")).lower()
        if kind in ("float", "float32", "double", "float64"):
            return FloatType(64 if kind in ("double", "float64") else int(spec.get("bits", 32)))
        if "precision" in spec:
            return FixedType.parse(str(spec["precision"]), word_bits=spec.get("word_bits"))
        unknown = set(spec) - {"type", "width", "integer", "signed", "rounding", "overflow", "word_bits"}
        if unknown:
            raise ValueError(f"unknown keys in fixed-point spec: {sorted(unknown)}")
        return FixedType(int(spec["width"]), int(spec["integer"]), signed=bool(spec.get("signed", True)),
                         rounding=spec.get("rounding", "TRN"), overflow=spec.get("overflow", "WRAP"),
                         word_bits=spec.get("word_bits"))
    raise ValueError(f"cannot read an I/O precision from {spec!r}")


def wire_type_to_dict(t: WireType) -> dict[str, Any]:
    """JSON-ready description (round-trips through :func:`parse_wire_type`)."""
    if isinstance(t, FloatType):
        return {"type": "float", "bits": t.bits}
    return {"type": "fixed", "width": t.width, "integer": t.integer, "signed": t.signed,
            "rounding": t.rounding, "overflow": t.overflow, "word_bits": t.word_bits}
