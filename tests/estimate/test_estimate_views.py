"""Issue 12: an incomplete or out-of-domain estimate reads so in every text view."""

from __future__ import annotations

from hwflow.estimate import LayerSpec, estimate_fit, estimate_layers
from hwflow.estimate.views import console_suffix, incomplete_note, text_lines


def _dense(bits=8):
    return LayerSpec(name="fc", kind="dense", func="nnet::dense", n_in=64, n_out=32, weight_bits=bits,
                     input_bits=bits, accum_bits=16, result_bits=bits, n_weights=64 * 32)


def test_incomplete_estimate_is_said_everywhere():
    est = estimate_layers([_dense(), LayerSpec(name="enc", kind="unknown", func="nnet::einsum_dense")],
                          part="xczu7ev-ffvc1156-2-e", clock_ns=5)
    assert incomplete_note(est) == "incomplete: EinsumDense not modelled (totals are a lower bound)"
    est["fit_verdict"] = estimate_fit(est, {"lut": 1e9, "ff": 1e9, "dsp": 1e9, "bram_18k": 1e9})
    assert est["fit_verdict"]["verdict"] == "may not fit"  # a lower bound cannot promise a fit
    line = console_suffix(est)
    assert "INCOMPLETE: EinsumDense not modelled" in line and "may not fit" in line
    text = "\n".join(text_lines(est, "prj"))
    assert "INCOMPLETE" in text and "enc (EinsumDense)" in text and "80 % interval: LUT" in text
    assert "calibration: shipped" in text


def test_complete_estimate_text_has_interval_and_no_warning():
    est = estimate_layers([_dense()], part="xczu7ev-ffvc1156-2-e", clock_ns=5, tool="vivado_hls")
    assert incomplete_note(est) is None and console_suffix(est) == ""
    text = "\n".join(text_lines(est, "prj"))
    assert "INCOMPLETE" not in text and "outside the calibration" not in text
    lo, hi = est["interval_80"]["lut"]
    assert f"LUT {lo:,}–{hi:,}" in text


def test_recalibrate_cli_without_runs_is_bad_input(tmp_path, monkeypatch):
    import pytest

    from hwflow.errors import BadInput
    from hwflow.estimate.views import recalibrate_cli

    monkeypatch.setenv("HWFLOW_CACHE", str(tmp_path))
    with pytest.raises(BadInput, match="hwflow synth"):
        recalibrate_cli([])
    bad = tmp_path / "runs.json"
    bad.write_text("not json")
    with pytest.raises(BadInput, match="runs.json"):
        recalibrate_cli([str(bad)])


def test_cli_estimate_project_text_and_recalibrate_exit_codes(tmp_path, monkeypatch, capsys):
    """`hwflow estimate --project` prints the interval and completeness; `--recalibrate` without
    runs exits 2 with what to do (no traceback)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_estimate_project import _write_project

    from hwflow.cli import main

    _write_project(tmp_path / "prj", weights=",".join(["0.5", "0", "0.25", "-0.375"] * 256))
    assert main(["estimate", "--project", str(tmp_path / "prj")]) == 0
    out = capsys.readouterr().out
    assert "80 % interval: LUT" in out and "calibration: shipped" in out and "INCOMPLETE" not in out
    monkeypatch.setenv("HWFLOW_CACHE", str(tmp_path / "cache"))
    assert main(["estimate", "--recalibrate"]) == 2
    assert "hwflow synth" in capsys.readouterr().err
