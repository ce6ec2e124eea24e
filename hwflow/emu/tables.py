"""Lookup tables of hls4ml's softmax, rebuilt exactly as the C-simulation builds them.

Why a separate module: the C++ fills these tables on its first call with single-precision
``std::exp`` and ``1/x`` and converts the results to ``ap_fixed``. A table entry differs by one
LSB if our ``exp`` differs from glibc's ``expf`` by one ulp near a rounding boundary - rare per
entry, but likely somewhere in a 1024-entry table. So ``expf`` is called from the C library
itself (ctypes), float32 arithmetic is done in numpy float32 (IEEE, the same as C), and only the
final float -> ``ap_fixed`` conversion uses :mod:`hwflow.emu.fixed`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache

import numpy as np

from hwflow.emu.fixed import FixedType


@lru_cache(maxsize=1)
def _libm_expf():
    name = ctypes.util.find_library("m") or "libm.so.6"
    lib = ctypes.CDLL(name)
    fn = lib.expf
    fn.argtypes = [ctypes.c_float]
    fn.restype = ctypes.c_float
    return fn


def expf(values: np.ndarray) -> np.ndarray:
    """glibc's single-precision ``expf`` on each value (the function the C-sim calls)."""
    fn = _libm_expf()
    flat = np.asarray(values, dtype=np.float32).ravel()
    out = np.fromiter((fn(float(v)) for v in flat), dtype=np.float32, count=flat.size)
    return out.reshape(np.shape(values))


def index_values(addr_type: FixedType, table_size: int) -> np.ndarray:
    """``softmax_real_val_from_idx``: the value whose top ``log2(size)`` bits are the index.

    Returned as float32, as the C++ casts it with ``(float)x``.
    """
    n = _address_bits(table_size)
    if addr_type.width < n:
        raise ValueError(f"table of {table_size} entries cannot be addressed by {addr_type}")
    codes = np.arange(table_size, dtype=np.float64) * 2.0 ** (addr_type.width - n)
    if addr_type.signed:
        codes = np.where(codes >= 2.0 ** (addr_type.width - 1), codes - 2.0**addr_type.width, codes)
    return np.ldexp(codes, -addr_type.frac).astype(np.float32)


def _address_bits(table_size: int) -> int:
    """``ceillog2`` of hls4ml's nnet_common.h."""
    return int(np.ceil(np.log2(table_size))) if table_size > 1 else 0


def to_fixed(values_f32: np.ndarray, t: FixedType) -> np.ndarray:
    """float -> ``ap_fixed`` (``T t = f;``) including the C++ conversion of +-inf.

    ``ap_fixed_base(double)`` treats inf as a huge power of two: saturating types give their
    extreme, wrapping types lose every bit (0). 2**1000 reproduces both.
    """
    v = np.asarray(values_f32, dtype=np.float64).copy()
    v[np.isposinf(v)] = 2.0**1000
    v[np.isneginf(v)] = -(2.0**1000)
    return t.quantize(v)


def softmax_exp_table(addr_type: FixedType, table_t: FixedType, size: int, *, negative: bool,
                      exp_scale: float = 1.0) -> np.ndarray:
    """``init_exp_table``: ``table[i] = table_t(expf(+-x_i * exp_scale))`` (real values)."""
    x = index_values(addr_type, size) * np.float32(exp_scale)
    if negative:
        x = -x
    return to_fixed(expf(x), table_t)


def softmax_invert_table(addr_type: FixedType, table_t: FixedType, size: int) -> np.ndarray:
    """``init_invert_table``: ``table[i] = table_t(1 / x_i)`` with a float division."""
    x = index_values(addr_type, size)
    with np.errstate(divide="ignore"):
        inv = np.float32(1.0) / x
    return to_fixed(inv, table_t)


def table_index(raw: np.ndarray, t: FixedType, table_size: int) -> np.ndarray:
    """``softmax_idx_from_real_val``: the top ``log2(size)`` bits of the two's-complement code."""
    n = _address_bits(table_size)
    code = raw.astype(np.float64)
    if t.signed:
        code = np.where(code < 0, code + 2.0**t.width, code)
    idx = np.floor(code * 2.0 ** -(t.width - n))
    return idx.astype(np.intp)


@lru_cache(maxsize=1)
def _libm_tanhf():
    name = ctypes.util.find_library("m") or "libm.so.6"
    fn = ctypes.CDLL(name).tanhf
    fn.argtypes = [ctypes.c_float]
    fn.restype = ctypes.c_float
    return fn


def tanhf(values: np.ndarray) -> np.ndarray:
    """glibc's single-precision ``tanhf`` (what ``tanh(float)`` resolves to in nnet_activation.h)."""
    fn = _libm_tanhf()
    flat = np.asarray(values, dtype=np.float32).ravel()
    out = np.fromiter((fn(float(v)) for v in flat), dtype=np.float32, count=flat.size)
    return out.reshape(np.shape(values))


def _table_inputs(size: int, half_range: float) -> np.ndarray:
    """``float in_val = 2 * R * (ii - float(N) / 2.0) / float(N)`` (double arithmetic, float result)."""
    ii = np.arange(size, dtype=np.float64)
    n = np.float64(np.float32(size))
    return (2 * half_range * (ii - n / 2.0) / n).astype(np.float32)


def sigmoid_table(table_t: FixedType, size: int) -> np.ndarray:
    """``init_sigmoid_table``: ``table_t(float(1.0 / float(1 + expf(-x))))`` over [-8, 8) (real values)."""
    x = _table_inputs(size, 8.0)
    den = (np.float32(1.0) + expf(-x)).astype(np.float32)  # int + float: float arithmetic
    return to_fixed((1.0 / den.astype(np.float64)).astype(np.float32), table_t)


def tanh_table(table_t: FixedType, size: int) -> np.ndarray:
    """``init_tanh_table``: ``table_t(tanhf(x))`` over [-4, 4) (real values)."""
    return to_fixed(tanhf(_table_inputs(size, 4.0)), table_t)


def act_table_index(raw: np.ndarray, t: FixedType, table_size: int, span: int) -> np.ndarray:
    """``int data_round = x * N / span; index = data_round + (span/2) * N / span``, clamped to
    [0, N-1]; ap_fixed's division and the int conversion both truncate towards zero."""
    q = np.trunc(np.asarray(raw, dtype=np.float64) * table_size / (span * 2.0**t.frac))
    idx = q + (span // 2) * table_size // span
    return np.clip(idx, 0, table_size - 1).astype(np.intp)
