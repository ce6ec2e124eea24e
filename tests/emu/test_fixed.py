"""ap_fixed quantisation and overflow in numpy: known values, parsing, and Vivado's own headers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hwflow.emu import tables
from hwflow.emu.fixed import FixedType, quantize, requantize_raw, strip_array_type

# ap_fixed<4,2>: LSB 0.25, range [-2, 1.75]
QUANT_CASES = {
    #            0.125  0.375  -0.125 -0.375  0.3    -0.3   0.625  -0.625
    "TRN":       [0.0,  0.25,  -0.25, -0.5,   0.25,  -0.5,  0.5,   -0.75],
    "TRN_ZERO":  [0.0,  0.25,  0.0,   -0.25,  0.25,  -0.25, 0.5,   -0.5],
    "RND":       [0.25, 0.5,   0.0,   -0.25,  0.25,  -0.25, 0.75,  -0.5],
    "RND_ZERO":  [0.0,  0.25,  0.0,   -0.25,  0.25,  -0.25, 0.5,   -0.5],
    "RND_MIN_INF": [0.0, 0.25, -0.25, -0.5,   0.25,  -0.25, 0.5,   -0.75],
    "RND_INF":   [0.25, 0.5,   -0.25, -0.5,   0.25,  -0.25, 0.75,  -0.75],
    "RND_CONV":  [0.0,  0.5,   0.0,   -0.5,   0.25,  -0.25, 0.5,   -0.5],
}
QUANT_INPUTS = [0.125, 0.375, -0.125, -0.375, 0.3, -0.3, 0.625, -0.625]


@pytest.mark.parametrize("mode", sorted(QUANT_CASES))
def test_rounding_modes_known_values(mode: str) -> None:
    t = FixedType(4, 2, rounding=mode)
    assert t.quantize(QUANT_INPUTS).tolist() == QUANT_CASES[mode]


@pytest.mark.parametrize(("mode", "values", "expected"), [
    ("WRAP", [2.0, 2.25, -2.25, 1.75, -2.0], [-2.0, -1.75, 1.75, 1.75, -2.0]),
    ("SAT", [2.0, 9.0, -2.25, -9.0, -2.0], [1.75, 1.75, -2.0, -2.0, -2.0]),
    ("SAT_ZERO", [2.0, -2.25, 1.5], [0.0, 0.0, 1.5]),
    ("SAT_SYM", [2.0, -2.0, -9.0, -1.75], [1.75, -1.75, -1.75, -1.75]),
])
def test_overflow_modes_signed(mode: str, values: list[float], expected: list[float]) -> None:
    assert FixedType(4, 2, overflow=mode).quantize(values).tolist() == expected


def test_unsigned_types() -> None:
    t = FixedType(4, 2, signed=False, rounding="RND_CONV", overflow="SAT")  # [0, 3.75] step 0.25
    assert t.quantize([-0.5, 0.125, 0.375, 3.9, 100.0]).tolist() == [0.0, 0.0, 0.5, 3.75, 3.75]
    assert FixedType(4, 2, signed=False).quantize([-0.5, 4.0, 4.25]).tolist() == [3.5, 0.0, 0.25]


def test_integer_types_and_negative_fraction_bits() -> None:
    assert quantize([3.7, -3.7, 8.0], "ap_int<4>").tolist() == [3.0, -4.0, -8.0]
    assert quantize([17.0, 300.0], "ap_uint<8>").tolist() == [17.0, 44.0]
    t = FixedType(4, 6)  # LSB 4, range [-32, 28]
    assert t.lsb == 4.0
    assert t.quantize([5.0, 7.9, -1.0]).tolist() == [4.0, 4.0, -4.0]


@pytest.mark.parametrize(("text", "expected"), [
    ("ap_fixed<8,2,AP_RND_CONV,AP_SAT>", FixedType(8, 2, True, "RND_CONV", "SAT")),
    ("ap_fixed<8, 2, AP_RND_CONV, AP_SAT, 0>", FixedType(8, 2, True, "RND_CONV", "SAT")),
    ("fixed<16,6,TRN,WRAP,0>", FixedType(16, 6)),
    ("ufixed<6,0,RND_CONV,SAT,0>", FixedType(6, 0, False, "RND_CONV", "SAT")),
    ("ap_ufixed<18,1>", FixedType(18, 1, False)),
    ("ap_uint<4>", FixedType(4, 4, False)),
    ("int<6>", FixedType(6, 6, True)),
])
def test_parse(text: str, expected: FixedType) -> None:
    assert FixedType.parse(text) == expected
    assert FixedType.parse(expected.cpp()) == expected
    assert FixedType.parse(expected.hls4ml()) == expected


def test_parse_rejects_and_strips() -> None:
    with pytest.raises(ValueError):
        FixedType.parse("float")
    with pytest.raises(ValueError):
        FixedType.parse("ap_fixed<64,10>")  # beyond float64's exact range
    with pytest.raises(ValueError):
        FixedType(8, 2, overflow="SAT", sat_bits=2)
    assert strip_array_type("nnet::array<ap_fixed<8,2>, 4*1>") == "ap_fixed<8,2>"


def test_from_hls4ml_precisions() -> None:
    from hls4ml.model.types import FixedPrecisionType, IntegerPrecisionType, RoundingMode, SaturationMode

    p = FixedPrecisionType(8, 2, True, RoundingMode.RND_CONV, SaturationMode.SAT)
    assert FixedType.from_hls4ml(p) == FixedType(8, 2, True, "RND_CONV", "SAT")
    assert FixedType.from_hls4ml(IntegerPrecisionType(5, False)) == FixedType(5, 5, False)


def test_requantize_raw_equals_quantize_of_values() -> None:
    rng = np.random.default_rng(0)
    src = FixedType(20, 8)
    vals = src.quantize(rng.normal(0, 40, 5000))
    raw = np.ldexp(vals, src.frac)
    for dst in (FixedType(6, 1, True, "RND_CONV", "SAT"), FixedType(8, 3, False, "RND", "WRAP"),
                FixedType(10, 2, True, "TRN", "SAT_SYM"), FixedType(24, 10)):
        got = np.ldexp(requantize_raw(raw, src.frac, dst), -dst.frac)
        assert np.array_equal(got, dst.quantize(vals)), dst


# ------------------------------------------------------------------------ against Vivado's headers
AP_TYPES = None
try:
    import hls4ml

    AP_TYPES = Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"
    NNET = Path(hls4ml.__file__).parent / "templates" / "vivado" / "nnet_utils"
except ImportError:  # pragma: no cover
    pass

CHECK_TYPES = [FixedType(w, i, s, q, o)
               for (w, i, s) in [(8, 2, True), (6, 0, False), (5, 7, True), (10, -2, True)]
               for q in ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_INF", "RND_MIN_INF", "RND_CONV")
               for o in ("WRAP", "SAT", "SAT_ZERO", "SAT_SYM")]
TABLE_CASES = [  # (address type, table type, size, negative)
    (FixedType(12, 3, False, "TRN", "SAT"), FixedType(18, 1, False, "RND", "SAT"), 1024, True),
    (FixedType(17, 6, False), FixedType(18, 8, True, "RND", "SAT"), 1024, True),
    (FixedType(18, 8, True, "RND", "SAT"), FixedType(18, 8, True, "RND", "SAT"), 1024, False),
]
INV_CASES = [
    (FixedType(21, 4, False, "RND", "SAT"), FixedType(18, 1, False, "RND", "SAT"), 1024),
    (FixedType(18, 8, True, "RND", "SAT"), FixedType(18, 8, True, "RND", "SAT"), 1024),
    (FixedType(18, 8, True), FixedType(16, 4, True), 512),  # wrap-around inverse table
]


@pytest.fixture(scope="module")
def cpp_reference(tmp_path_factory) -> dict[str, np.ndarray]:
    """Compile one small program with hls4ml's ap_types/nnet_utils; print what it computes."""
    if shutil.which("g++") is None or AP_TYPES is None:
        pytest.skip("g++ or hls4ml not available")
    d = tmp_path_factory.mktemp("apcheck")
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0, 4, 1500), rng.normal(0, 300, 200),
                        np.round(rng.normal(0, 8, 800) * 64) / 64])
    lines = ['#include "ap_fixed.h"', '#include "nnet_activation.h"', "#include <cstdio>", "#include <cstdlib>"]
    for k, (addr, tab, size, _neg) in enumerate(TABLE_CASES):
        lines.append(f"struct ecfg{k} : nnet::activ_config {{ static const unsigned exp_table_size = {size};"
                     f" static constexpr float exp_scale = 1.0; typedef {tab.cpp()} exp_table_t; }};")
    for k, (addr, tab, size) in enumerate(INV_CASES):
        lines.append(f"struct icfg{k} : nnet::activ_config {{ static const unsigned inv_table_size = {size};"
                     f" typedef {tab.cpp()} inv_table_t; }};")
    lines.append("int main() { int n; if (scanf(\"%d\", &n) != 1) return 1; double *x = (double*)malloc(n * 8);")
    lines.append("for (int i = 0; i < n; i++) if (scanf(\"%lf\", &x[i]) != 1) return 1;")
    for t in CHECK_TYPES:
        lines.append(f'for (int i = 0; i < n; i++) {{ {t.cpp()} v = x[i]; printf("%.17g\\n", v.to_double()); }}')
    for k, (addr, tab, size, neg) in enumerate(TABLE_CASES):
        lines.append(f"{{ static {tab.cpp()} t[{size}]; nnet::init_exp_table<{addr.cpp()}, ecfg{k}>(t, "
                     f'{"true" if neg else "false"}); for (int i = 0; i < {size}; i++) printf("%.17g\\n", t[i].to_double()); }}')
    for k, (addr, tab, size) in enumerate(INV_CASES):
        lines.append(f"{{ static {tab.cpp()} t[{size}]; nnet::init_invert_table<{addr.cpp()}, icfg{k}>(t); "
                     f'for (int i = 0; i < {size}; i++) printf("%.17g\\n", t[i].to_double()); }}')
    lines.append("return 0; }")
    (d / "check.cpp").write_text("\n".join(lines))
    subprocess.run(["g++", "-O1", "-std=c++17", f"-I{AP_TYPES}", f"-I{NNET}", "check.cpp", "-o", "check"],
                   cwd=d, check=True, capture_output=True)
    out = subprocess.run([str(d / "check")], input=f"{len(x)}\n" + "\n".join(repr(float(v)) for v in x),
                         capture_output=True, text=True, check=True).stdout.split()
    vals = np.array([float(v) for v in out])
    n_q = len(CHECK_TYPES) * len(x)
    return {"x": x, "quant": vals[:n_q].reshape(len(CHECK_TYPES), len(x)), "tables": vals[n_q:]}


def test_quantize_matches_vivado_headers(cpp_reference) -> None:
    x = cpp_reference["x"]
    for t, ref in zip(CHECK_TYPES, cpp_reference["quant"]):
        mine = t.quantize(x)
        assert np.array_equal(mine, ref), f"{t}: {np.sum(mine != ref)} mismatches"


def test_softmax_tables_match_hls4ml_init(cpp_reference) -> None:
    ref = cpp_reference["tables"]
    pos = 0
    for addr, tab, size, neg in TABLE_CASES:
        mine = tables.softmax_exp_table(addr, tab, size, negative=neg)
        assert np.array_equal(mine, ref[pos:pos + size]), f"exp table {addr} -> {tab}"
        pos += size
    for addr, tab, size in INV_CASES:
        mine = tables.softmax_invert_table(addr, tab, size)
        assert np.array_equal(mine, ref[pos:pos + size]), f"invert table {addr} -> {tab}"
        pos += size
