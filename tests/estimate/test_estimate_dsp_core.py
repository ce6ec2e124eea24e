"""Issue 12: two-stage DSP multiplier cores, whose registers the C-synthesis report books as FF
(feature ``ff_dspcore``): at 5 ns on -1 Zynq-7000 / Artix-7 parts, not on faster grades,
faster families or slower clocks."""

from __future__ import annotations

import pytest

from hwflow.estimate import LayerSpec
from hwflow.estimate.devices import speed_grade_delay
from hwflow.estimate.model import DEFAULT_HYPER, layer_features, make_context
from hwflow.estimate.schedule import DSP_CORE_WINDOW, dsp_core_ratio, two_stage_dsp_core


@pytest.mark.parametrize("part,delay", [
    ("xc7z020clg400-1", 1.0), ("xc7z020-clg400-1", 1.0), ("xc7a50t-csg324-1", 1.0),
    ("xc7vx690tffg1927-2", 0.86), ("xcu250-figd2104-2L-e", 0.86), ("xczu7ev-ffvc1156-2-e", 0.86),
    ("xcvu13p-flga2577-3-e", 0.75), ("xck26-sfvc784-2LV-c", 1.0), (None, 1.0), ("xc7z020", 1.0)])
def test_speed_grade_delay(part, delay):
    assert speed_grade_delay(part) == pytest.approx(delay)


def _ctx(part, clock):
    return make_context([], part, clock)


def test_two_stage_core_where_the_reports_show_one():
    h = dict(DEFAULT_HYPER, usp_speed=0.35)
    # 16-bit data x 10-bit constants at 5 ns on -1 Zynq-7000 / Artix-7: two-stage cores (67 FF each)
    assert two_stage_dsp_core(16, 10, _ctx("xc7z020-clg400-1", 5.0), h)
    assert two_stage_dsp_core(16, 10, _ctx("xc7a50t-csg324-1", 5.0), h)
    # a slower clock, a faster grade, a faster family: no booked core registers
    assert not two_stage_dsp_core(16, 10, _ctx("xc7z020-clg400-1", 10.0), h)
    assert not two_stage_dsp_core(18, 18, _ctx("xc7vx690tffg1927-2", 5.0), h)
    assert not two_stage_dsp_core(16, 13, _ctx("xczu7ev-ffvc1156-2-e", 5.0), h)
    assert not two_stage_dsp_core(8, 5, _ctx("xc7z007s-clg225-2", 5.0), h)
    # the ratio falls with the clock period and with a faster grade
    r5 = dsp_core_ratio(16, 16, _ctx("xc7z020-clg400-1", 5.0), h)
    assert dsp_core_ratio(16, 16, _ctx("xc7z020-clg400-1", 10.0), h) == pytest.approx(r5 / 2)
    assert dsp_core_ratio(16, 16, _ctx("xc7z020-clg400-2", 5.0), h) == pytest.approx(r5 * 0.86)
    assert DSP_CORE_WINDOW[0] <= r5 < DSP_CORE_WINDOW[1]


def _dense(strategy="latency", rf=1):
    return LayerSpec(name="fc", kind="dense", func="nnet::dense", n_in=16, n_out=4, reuse_factor=rf,
                     strategy=strategy, io_type="io_parallel", weight_bits=16, input_bits=16,
                     accum_bits=16, result_bits=16, n_weights=64)


def test_feature_counts_the_dsp_products_of_a_latency_layer_only():
    spec = _dense()
    f = layer_features(spec, make_context([spec], "xc7z020-clg400-1", 5.0), dict(DEFAULT_HYPER))
    assert f["ff_dspcore"] == pytest.approx(f["dsp_const"] * (16 + 16))
    slow = layer_features(spec, make_context([spec], "xc7z020-clg400-1", 10.0), dict(DEFAULT_HYPER))
    assert "ff_dspcore" not in slow and slow["dsp_const"] == f["dsp_const"]
    # a resource-strategy multiplier's operand registers are ff_resmul already
    res = _dense(strategy="resource", rf=4)
    fr = layer_features(res, make_context([res], "xc7z020-clg400-1", 5.0), dict(DEFAULT_HYPER))
    assert "ff_dspcore" not in fr and fr["ff_resmul"] > 0


def test_shipped_calibration_books_the_cores_as_ff():
    from hwflow.estimate import estimate_layers
    spec = _dense()
    fast = estimate_layers([spec], part="xc7z020-clg400-1", clock_ns=5.0, tool="vivado_hls")
    # the same layer on a -2 part of the same family books no core registers
    grade2 = estimate_layers([spec], part="xc7z020-clg400-2", clock_ns=5.0, tool="vivado_hls")
    assert fast["resources"]["dsp"] == grade2["resources"]["dsp"]
    assert fast["resources"]["ff"] > grade2["resources"]["ff"] + 0.5 * 64 * 32
