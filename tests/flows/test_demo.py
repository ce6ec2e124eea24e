"""The demo: digits_mlp on pynq-z2, every step, as `make demo` runs it (in a temporary root)."""

from __future__ import annotations

import json
import os
import time

import pytest

from hwflow.cli import main
from hwflow.paths import PACKAGE_DIR


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    for d in ("designs", "boards"):
        os.symlink(PACKAGE_DIR.parent / d, root / d)
    old = os.environ.get("HWFLOW_ROOT")
    os.environ["HWFLOW_ROOT"] = str(root)
    try:
        t0 = time.monotonic()
        rc = main(["run", "digits_mlp", "--board", "pynq-z2"])
        first = time.monotonic() - t0
        t0 = time.monotonic()
        rc2 = main(["run", "digits_mlp", "--board", "pynq-z2"])
        second = time.monotonic() - t0
    finally:
        if old is None:
            os.environ.pop("HWFLOW_ROOT", None)
        else:
            os.environ["HWFLOW_ROOT"] = old
    return {"root": root, "rc": rc, "rc2": rc2, "first": first, "second": second}


def test_demo_exits_0_and_writes_the_report(demo):
    assert demo["rc"] == 0
    rep = demo["root"] / "reports" / "digits_mlp" / "pynq-z2"
    for f in ("report.html", "report.md", "results.json"):
        assert (rep / f).exists(), f


def test_demo_meets_the_accuracy_bar(demo):
    r = json.loads((demo["root"] / "reports" / "digits_mlp" / "pynq-z2" / "results.json").read_text())
    assert r["accuracy"]["csim"] >= 0.90
    assert r["csim"]["argmax_agreement"] >= 0.99
    assert r["accuracy"]["board"] == r["accuracy"]["csim"]  # emulated board == C-sim on the test vectors
    assert r["resources"]["source"].startswith("estimate:")
    # the emulated board's energy, or the board power model (with its version and data-movement terms)
    src = r["energy"]["source"]
    assert src == "emulated" or src.startswith("estimate:board-power-model"), src
    assert r["energy"]["uj_per_inference"] > 0
    assert r["provenance"]["packages"]["hls4ml"] == "1.3.0"


def test_second_unchanged_run_is_served_from_cache(demo):
    assert demo["rc2"] == 0
    assert demo["second"] < 0.2 * demo["first"], (demo["second"], demo["first"])
