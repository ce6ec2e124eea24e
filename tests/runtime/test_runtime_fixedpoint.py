"""ap_fixed encode/decode: Vivado's quantisation and overflow modes, bit-exact round trips."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from hwflow.runtime.fixedpoint import FixedType, FloatType, parse_wire_type, wire_type_to_dict


def test_parse_forms() -> None:
    t = FixedType.parse("ap_fixed<16,6,AP_RND,AP_SAT>")
    assert (t.width, t.integer, t.signed, t.rounding, t.overflow, t.word_bits) == (16, 6, True, "RND", "SAT", 16)
    u = FixedType.parse("ap_ufixed<8, 0>")
    assert (u.signed, u.rounding, u.overflow, u.word_bits, u.word_dtype) == (False, "TRN", "WRAP", 8, np.dtype(np.uint8))
    assert FixedType.parse("ap_int<12>").frac_bits == 0
    assert FixedType.parse("ap_fixed<18,8>").word_bits == 32
    assert str(t) == "ap_fixed<16,6,AP_RND,AP_SAT>"
    assert isinstance(parse_wire_type("float"), FloatType)
    assert parse_wire_type({"precision": "ap_fixed<8,1>", "word_bits": 32}).word_bits == 32
    assert parse_wire_type(wire_type_to_dict(t)) == t
    with pytest.raises(ValueError, match="ap_fixed"):
        FixedType.parse("fixed<8,1>")
    with pytest.raises(ValueError, match="rounding"):
        FixedType(8, 1, rounding="ROUND_UP")
    with pytest.raises(ValueError, match="word_bits"):
        FixedType(16, 1, word_bits=8)


# Reference quantisation with exact rationals and Python integers (independent of the numpy code).
def _ref_int(x: float, t: FixedType) -> int:
    v = Fraction(x) * (2 ** t.frac_bits)
    fl = math.floor(v)
    frac = v - fl
    half = Fraction(1, 2)
    if t.rounding == "TRN":
        q = fl
    elif t.rounding == "TRN_ZERO":
        q = math.trunc(v)
    elif frac != half:
        q = fl + (1 if frac > half else 0)
    else:  # exactly half way
        q = {"RND": fl + 1, "RND_MIN_INF": fl, "RND_ZERO": fl if v > 0 else fl + 1,
             "RND_INF": fl + 1 if v > 0 else fl, "RND_CONV": fl if fl % 2 == 0 else fl + 1}[t.rounding]
    lo, hi = t.int_min, t.int_max
    if t.overflow == "SAT":
        return min(max(q, lo), hi)
    if t.overflow == "SAT_SYM":
        return min(max(q, -hi if t.signed else lo), hi)
    if t.overflow == "SAT_ZERO":
        return q if lo <= q <= hi else 0
    q %= 1 << t.width
    return q - (1 << t.width) if t.signed and q > hi else q


@pytest.mark.parametrize("rounding", ["TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_INF", "RND_MIN_INF", "RND_CONV"])
@pytest.mark.parametrize("overflow", ["WRAP", "SAT", "SAT_ZERO", "SAT_SYM"])
@pytest.mark.parametrize("signed", [True, False])
def test_quantisation_matches_exact_reference(rounding: str, overflow: str, signed: bool) -> None:
    t = FixedType(6, 2, signed=signed, rounding=rounding, overflow=overflow)
    rng = np.random.default_rng(7)
    # Off-grid values, exact half-way points (ties), on-grid values and out-of-range values.
    lsb = t.lsb
    xs = np.concatenate([rng.uniform(-5, 5, 300), (np.arange(-80, 80) + 0.5) * lsb,
                         np.arange(-80, 80) * lsb, [0.0, -0.0, 1e9, -1e9]])
    got = t.to_int(xs)
    want = np.array([_ref_int(float(x), t) for x in xs])
    np.testing.assert_array_equal(got, want)


def test_known_values() -> None:
    t = FixedType(4, 2, rounding="RND", overflow="SAT")  # lsb 0.25, range [-2, 1.75]
    np.testing.assert_array_equal(t.quantize([0.125, -0.125, 0.3, 5.0, -5.0]), [0.25, 0.0, 0.25, 1.75, -2.0])
    w = FixedType(4, 2)  # TRN, WRAP
    np.testing.assert_array_equal(w.quantize([0.3, -0.1, 2.0]), [0.25, -0.25, -2.0])
    assert FixedType(8, 1).to_int([np.nan])[0] == 0


@pytest.mark.parametrize("width,integer,signed", [(8, 1, True), (8, 3, False), (12, 4, True), (16, 6, True),
                                                  (16, 0, False), (5, 5, True)])
def test_round_trip_all_codes_bit_exact(width: int, integer: int, signed: bool) -> None:
    t = FixedType(width, integer, signed=signed, rounding="RND", overflow="SAT")
    codes = np.arange(t.int_min, t.int_max + 1, dtype=np.int64)
    words = codes.astype(t.word_dtype)
    values = t.decode(words)
    np.testing.assert_array_equal(values, codes * t.lsb)
    np.testing.assert_array_equal(t.encode(values), words)  # words -> values -> the same words
    np.testing.assert_array_equal(t.decode(t.encode(values)), values)


def test_round_trip_32_bit_words() -> None:
    t = FixedType(32, 10)
    codes = np.random.default_rng(3).integers(-(2 ** 31), 2 ** 31 - 1, 5000, dtype=np.int64)
    words = codes.astype(np.int32)
    np.testing.assert_array_equal(t.encode(t.decode(words)), words)


def test_decode_ignores_bits_above_width() -> None:
    t = FixedType(10, 3, word_bits=16)
    # -3 in 10 bits, zero-extended into the 16-bit word (as some IP would write it).
    zero_extended = np.array([(1 << 10) - 3], dtype=np.int64).astype(np.int16)
    assert t.decode(zero_extended)[0] == -3 * t.lsb
    assert t.decode(t.encode([-3 * t.lsb]))[0] == -3 * t.lsb


def test_float_wire() -> None:
    f = FloatType()
    x = np.array([0.1, -2.5], dtype=np.float64)
    assert f.encode(x).dtype == np.float32
    np.testing.assert_array_equal(f.decode(f.encode(x)), x.astype(np.float32))
