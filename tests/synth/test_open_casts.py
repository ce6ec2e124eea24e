"""The open path's ap_fixed casts (hwflow.synth.open.fixedops) against the emulator's FixedType.

Every code of a source type goes through the traced cast and da4ml's own bit-exact interpreter
of the adder graph (``CombLogic.predict``); the result must equal ``FixedType.quantize``, the
emulator's ap_fixed model that is checked against C-sim on every run. RND_CONV ties are the
interesting case: da4ml alone rounds them up (checked below, so the test can tell the difference).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("da4ml")

from hwflow.emu.fixed import FixedType  # noqa: E402

SOURCES = [FixedType(10, 4, True), FixedType(9, 3, False), FixedType(12, 2, True)]
TARGETS = [
    FixedType(6, 2, True, "RND_CONV", "SAT"),
    FixedType(6, 0, False, "RND_CONV", "SAT"),
    FixedType(7, 3, True, "RND_CONV", "WRAP"),
    FixedType(5, 2, True, "TRN", "WRAP"),
    FixedType(5, 1, True, "RND", "SAT_SYM"),
    FixedType(4, 4, False, "TRN", "SAT"),
    FixedType(8, 2, True, "RND_CONV", "SAT"),
]


def _traced(src: FixedType, fn):
    from da4ml.trace import FixedVariableArrayInput, HWConfig, comb_trace

    from hwflow.synth.open.fixedops import kif

    inp = FixedVariableArrayInput((1,), hwconf=HWConfig(1, -1, -1))
    x = inp.quantize(*kif(src))
    return comb_trace(inp, fn(x))


def _all_values(src: FixedType) -> np.ndarray:
    return (np.arange(src.raw_min, src.raw_max + 1) * src.lsb).reshape(-1, 1)


@pytest.mark.parametrize("src", SOURCES, ids=str)
def test_every_code_casts_like_ap_fixed(src):
    from hwflow.synth.open.fixedops import cast

    x = _all_values(src)
    for dst in TARGETS:
        got = _traced(src, lambda v: cast(v, dst)).predict(x).ravel()
        want = dst.quantize(x.ravel())
        bad = np.flatnonzero(got != want)
        assert bad.size == 0, (f"{src} -> {dst}: {bad.size} codes differ, first x={x[bad[0], 0]} "
                               f"got {got[bad[0]]} want {want[bad[0]]}")


def test_da4ml_alone_rounds_ties_up_so_rnd_conv_is_needed():
    """Without the RND_CONV construction the ties would differ (the test above would fail)."""
    src, dst = FixedType(10, 4, True), FixedType(6, 2, True, "RND_CONV", "SAT")
    k, i, f = 1, 1, 4
    x = _all_values(src)
    naive = _traced(src, lambda v: v.quantize(k, i, f, "SAT", "RND")).predict(x).ravel()
    want = dst.quantize(x.ravel())
    ties = np.flatnonzero(naive != want)
    assert ties.size > 0
    # every difference is a tie between two codes, rounded up instead of to even
    assert np.all(np.isclose((x.ravel()[ties] * 2**f) % 1, 0.5))


def test_unsupported_mode_is_named():
    from hwflow.synth.open.fixedops import UnsupportedType, check_type

    with pytest.raises(UnsupportedType, match="AP_RND_ZERO"):
        check_type(FixedType(8, 3, True, "RND_ZERO", "SAT"), "result_t")
