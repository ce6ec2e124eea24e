"""Calibration regression guard: held-out error must not get worse than what the model achieves.

Leave-one-repository-out over the public fixtures, with the hyperparameters of
calibration.json kept fixed (a few seconds). ``bench/estimator.py --json`` reports
the slower, fully honest variant that also re-chooses hyperparameters per fold;
the two agree to about a point of MAPE. Thresholds are the achieved levels plus a
small margin - they document today's accuracy, they are not the goals.
"""

from __future__ import annotations

import numpy as np
import pytest

from hwflow.estimate import load_calibration
from hwflow.estimate.dataset import load_designs
from hwflow.estimate.fit import cross_validate, error_summary, fit, usable
from hwflow.estimate.model import make_context

# achieved (held-out MAPE %, Nov 2026, 48 designs / 10 repositories) -> asserted ceiling
CEILING_MAPE = {"lut": 50.0, "ff": 88.0, "dsp": 105.0, "bram_18k": 33.0, "latency": 65.0, "ii": 25.0}
CEILING_MEDIAN = {"lut": 48.0, "ff": 75.0, "dsp": 27.0, "bram_18k": 20.0, "latency": 40.0, "ii": 1.0}
# the part of the design space the model is good at: streaming dataflows
CEILING_STREAM = {"latency": 8.0, "ii": 7.0, "dsp": 25.0, "bram_18k": 28.0}


@pytest.fixture(scope="module")
def cv_result(fixtures_dir):
    designs, skipped = usable(load_designs(fixtures_dir))
    calib = load_calibration()
    return designs, skipped, calib, cross_validate(designs, search=False, hyper=calib["hyper"])


def test_heldout_error_does_not_regress(cv_result):
    designs, skipped, _, cv = cv_result
    assert len(designs) >= 45 and len({d.repo for d in designs}) >= 10
    for metric, ceiling in CEILING_MAPE.items():
        got = cv["per_metric"][metric]
        assert got["mape"] <= ceiling, (metric, got)
        assert got["median_ape"] <= CEILING_MEDIAN[metric], (metric, got)
    # every excluded design carries its reason
    assert all(isinstance(v, str) and v for v in skipped.values())


def test_streaming_designs_are_estimated_closely(cv_result):
    designs, _, _, cv = cv_result
    stream = {d.folder for d in designs if make_context(d.layers, d.part, d.clock_ns).io_type == "io_stream"}
    rows = [r for r in cv["per_design"] if r["design"] in stream]
    assert len(rows) >= 15
    for metric, ceiling in CEILING_STREAM.items():
        s = error_summary(np.array([r[metric]["pred"] for r in rows]), np.array([r[metric]["truth"] for r in rows]))
        assert s["mape"] <= ceiling, (metric, s)


def test_calibration_json_is_reproducible(cv_result):
    designs, _, calib, _ = cv_result
    refit = fit(designs, search=False, hyper=calib["hyper"])
    for metric, coefs in calib["coef"].items():
        for name, value in coefs.items():
            assert refit["coef"][metric][name] == pytest.approx(value, rel=2e-3, abs=1e-6), (metric, name)
    assert sorted(calib["trained_on"]) == sorted(d.folder for d in designs)
