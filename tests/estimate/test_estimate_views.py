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
    from dataclasses import replace

    known = replace(_dense(), w_zero=0, w_pow2=0, w_other=64 * 32, w_two=0)  # weight values read
    est = estimate_layers([known], part="xczu7ev-ffvc1156-2-e", clock_ns=5, tool="vivado_hls")
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
    assert "as Vivado HLS (assumed), part" in out  # which tool's figures, and why (no backend named)
    monkeypatch.setenv("HWFLOW_CACHE", str(tmp_path / "cache"))
    assert main(["estimate", "--recalibrate"]) == 2
    assert "hwflow synth" in capsys.readouterr().err


def test_report_summary_card_says_incomplete_and_the_interval_verdict():
    """results.json's estimate block -> the report's summary card: 'incomplete: GRU not modelled'
    and fits / may not fit / does not fit from the interval (issue 12)."""
    from hwflow.report.extras import Extras
    from hwflow.report.sections.summary import summary

    caps = {"lut": 53200, "ff": 106400, "dsp": 220, "bram_18k": 280, "uram": 0}
    est = estimate_layers([_dense(), LayerSpec(name="gru1", kind="unknown", func="nnet::gru_stack")],
                          part="xc7z020clg400-1", clock_ns=10)
    est["fit_verdict"] = estimate_fit(est, caps)
    r = {"design": "d", "board": "pynq-z2",
         "resources": {**est["resources"], "source": est["source"]},
         "latency": {"cycles": est["latency_cycles"], "ii_cycles": est["ii_cycles"], "seconds": 1e-7,
                     "source": est["source"]},
         "estimate": {k: est.get(k) for k in ("resources", "source", "interval_80", "complete", "not_modelled",
                                              "out_of_domain", "calibration", "fit_verdict")}}
    text = repr(summary(r, Extras(anchors={}), caps))
    assert "incomplete: GRU not modelled" in text
    assert "may not fit" in text  # an incomplete estimate cannot promise a fit


def test_an_estimate_without_weight_values_says_so_in_the_text():
    est = estimate_layers([_dense()], part="xczu7ev-ffvc1156-2-e", clock_ns=5, tool="vivado_hls")
    assert est["complete"] is True and any("no weight values for 1 of 1" in r for r in est["out_of_domain"])
    assert "no weight values" in "\n".join(text_lines(est, "prj"))
