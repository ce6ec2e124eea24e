"""A stable softmax whose exp table HLS cannot fold: rebuilt with a float exp on every call.

hls4ml >= 1.1 addresses the table with ``inp_norm_t`` (``ap_ufixed<W-1, I-1>`` of the softmax
input); public Vitis HLS reports show the table folded into a ROM up to 2^5 and rebuilt from 2^10
(a 1,024-trip loop, ~1,045 cycles a call). The estimator reads the range, counts the rebuild where it
is measured (a Vitis HLS stream), and says so - or says what it does not know - everywhere else.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwflow.estimate import estimate_layers
from hwflow.estimate.dataset import load_external
from hwflow.estimate.layerspec import LayerSpec
from hwflow.estimate.model import make_context
from hwflow.estimate.project import parse_structs
from hwflow.estimate.schedule import EXP_TABLE_COST, FEXP_LOOP_DEPTH, exp_table_cycles, exp_table_notes, layer_ii
from hwflow.estimate.structfields import exp_arg_log2

ROOT = Path(__file__).resolve().parents[2]

SOFTMAX_STRUCT = """
struct softmax_config9 : nnet::activ_config {
    static const unsigned n_in = 2;
    static const unsigned exp_table_size = 1024;
    static const unsigned inv_table_size = 1024;
    static const nnet::softmax_implementation implementation = nnet::softmax_implementation::stable;
    static constexpr float exp_scale = %s;
    typedef model_default_t accum_t;
    typedef ap_ufixed<35, 15> inp_norm_t;
};
"""


def _softmax(arg_log2, io_type="io_stream", n=10):
    return LayerSpec(name="smx", kind="softmax", op="softmax", n_in=n, n_out=n, io_type=io_type,
                     implementation="stable", table_size=1024, input_bits=36, input_int=16,
                     in_pack=n if io_type == "io_stream" else None, exp_arg_log2=arg_log2)


def _dense(io_type="io_stream"):
    return LayerSpec(name="fc", kind="dense", n_in=16, n_out=10, n_weights=160, n_nonzero=160,
                     io_type=io_type, weight_bits=16, input_bits=16, accum_bits=36, result_bits=36,
                     in_pack=16 if io_type == "io_stream" else None)


def test_the_table_range_is_read_from_inp_norm_t_and_exp_scale():
    cfg = parse_structs(SOFTMAX_STRUCT % "1.0", {}, {"model_default_t": "ap_fixed<16,6>"})[0]
    assert exp_arg_log2(cfg["fields"], cfg["typedefs_resolved"]) == 15.0
    cfg = parse_structs(SOFTMAX_STRUCT % "0.5", {}, {})[0]
    assert exp_arg_log2(cfg["fields"], cfg["typedefs_resolved"]) == 14.0
    old = parse_structs(SOFTMAX_STRUCT.replace("    typedef ap_ufixed<35, 15> inp_norm_t;\n", "") % "1.0", {}, {})[0]
    assert exp_arg_log2(old["fields"], old["typedefs_resolved"]) is None  # older code: nothing to say


def test_a_vitis_stream_softmax_with_a_wide_table_rebuilds_it_on_every_call():
    layers = [_dense(), _softmax(15.0)]
    ctx = make_context(layers, "xczu7ev-ffvc1156-2-e", 5.0, tool="vitis_hls", tool_version="2024.2")
    assert exp_table_cycles(layers[1], ctx) == 1024 + FEXP_LOOP_DEPTH
    assert layer_ii(layers[1], ctx, {}) >= 1024 + FEXP_LOOP_DEPTH
    r = estimate_layers(layers, part="xczu7ev-ffvc1156-2-e", clock_ns=5.0, tool="vitis_hls", tool_version="2024.2")
    assert r["ii_cycles"] >= 1045 and r["latency_cycles"] >= r["ii_cycles"]
    note = [o for o in r["out_of_domain"] if o.startswith("softmax smx: exp table rebuilt")]
    assert len(note) == 1 and "2^15" in note[0] and "ap_fixed<16,6>" in note[0]
    assert note[0] in r["warnings"]
    # the same design with the table folded (a 16-bit softmax input: ap_ufixed<15,5>)
    folded = estimate_layers([_dense(), _softmax(5.0)], part="xczu7ev-ffvc1156-2-e", clock_ns=5.0,
                             tool="vitis_hls", tool_version="2024.2")
    assert folded["ii_cycles"] < 100 and not any("exp table" in o for o in folded["out_of_domain"])
    # the rebuild's hardware, at the measured costs
    assert r["resources"]["dsp"] - folded["resources"]["dsp"] == pytest.approx(EXP_TABLE_COST["dsp_exptab"], abs=1)
    assert r["resources"]["lut"] - folded["resources"]["lut"] == pytest.approx(EXP_TABLE_COST["lut_exptab"], abs=2)


@pytest.mark.parametrize("tool,io_type,where", [("vivado_hls", "io_stream", "Vivado HLS"),
                                                ("vitis_hls", "io_parallel", "io_parallel")])
def test_where_the_rebuild_is_not_measured_the_estimate_says_so_and_does_not_guess(tool, io_type, where):
    layers = [_dense(io_type), _softmax(15.0, io_type)]
    ctx = make_context(layers, "xczu7ev-ffvc1156-2-e", 5.0, tool=tool)
    assert exp_table_cycles(layers[1], ctx) == 0
    notes = exp_table_notes(layers, ctx)
    assert len(notes) == 1 and f"cost under {where} is not measured" in notes[0]


def test_a_range_between_those_seen_folded_and_rebuilt_is_said_to_be_unknown():
    layers = [_dense(), _softmax(8.0)]
    ctx = make_context(layers, "xczu7ev-ffvc1156-2-e", 5.0, tool="vitis_hls")
    notes = exp_table_notes(layers, ctx)
    assert any("whether HLS folds it is not known (taken as rebuilt)" in n for n in notes)  # 2^8 > 87.3
    six = exp_table_notes([_dense(), _softmax(6.0)], ctx)
    assert len(six) == 1 and "(taken as folded)" in six[0]  # 2^6 < 87.3: nothing added, but said
    assert not exp_table_notes([_dense(), _softmax(5.0)], ctx)  # seen folded: nothing to say
    assert not exp_table_notes([_dense(), _softmax(None)], ctx)  # older code


def test_the_rebuild_costs_are_not_moved_by_the_fit():
    calib = json.loads((ROOT / "hwflow" / "estimate" / "calibration.json").read_text())
    for metric, name in (("dsp", "dsp_exptab"), ("ff", "ff_exptab"), ("lut", "lut_exptab")):
        assert calib["coef"][metric][name] == pytest.approx(1.0)


def test_the_external_cnn_whose_softmax_rebuilds_its_table():
    """kojos03/fpga_cnn_hls4ml (Vitis HLS 2024.2): II 1,054 reported, set by the softmax process."""
    d = next(x for x in load_external() if x.folder == "kojos03_cnn_vitis")
    r = estimate_layers(d.layers, part=d.part, clock_ns=d.clock_ns, tool=d.tool,
                        tool_version=d.extra.get("tool_version"))
    assert abs(r["ii_cycles"] - d.truth["ii"]) / d.truth["ii"] < 0.05
    assert abs(r["latency_cycles"] - d.truth["latency"]) / d.truth["latency"] < 0.05
    lo, hi = r["interval_80"]["ii_cycles"]
    assert lo <= d.truth["ii"] <= hi


def _dense_softmax_model():
    tf = pytest.importorskip("tensorflow")
    inp = tf.keras.layers.Input((8,), name="input_1")
    return tf.keras.Model(inp, tf.keras.layers.Dense(4, name="fc", activation="softmax")(inp))


def _written(model, hls_config, out, **kwargs):
    """(the softmax's table range, the estimate) of the io_stream Vitis project hls4ml writes."""
    hls4ml = pytest.importorskip("hls4ml")
    from hwflow.estimate import estimate_project, layers_from_project

    kwargs.setdefault("io_type", "io_stream")
    hls4ml.converters.convert_from_keras_model(model, hls_config=hls_config, output_dir=str(out), backend="Vitis",
                                               part="xczu7ev-ffvc1156-2-e", clock_period=5, **kwargs).write()
    smx = [s for s in layers_from_project(out)[0] if s.kind == "softmax"][0]
    return smx.exp_arg_log2, estimate_project(out)


def test_hls4ml_writes_the_range_the_estimator_reads(tmp_path):
    """The project hls4ml 1.3 writes: a dense of 36-bit results into a stable softmax gives
    ``inp_norm_t = ap_ufixed<35, 15>``; a 16-bit one ``ap_ufixed<15, 5>``."""
    hls4ml = pytest.importorskip("hls4ml")
    model = _dense_softmax_model()
    got = {}
    for res in ("ap_fixed<36,16>", "ap_fixed<16,6>"):
        cfg = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis",
                                                   default_precision="ap_fixed<16,6>")
        cfg["LayerName"]["fc"]["Precision"]["result"] = res
        got[res] = _written(model, cfg, tmp_path / res[9:11])
    wide, narrow = got["ap_fixed<36,16>"], got["ap_fixed<16,6>"]
    assert wide[0] == 15.0 and narrow[0] == 5.0
    assert wide[1]["ii_cycles"] > 1000 and narrow[1]["ii_cycles"] < 100
    assert any("exp table rebuilt" in o for o in wide[1]["out_of_domain"])


def test_the_flows_softmax_sizing_keeps_the_table_foldable(tmp_path):
    """hwflow's own hls4ml config ("accurate" softmax, the default) addresses the exp table with
    ufixed<12,3> - arguments up to 2^3, folded; hls4ml's own sizing of a float dense's 'auto' output
    gives 2^15 and the rebuild."""
    from hwflow.hlsconfig import converter_kwargs, hls_config_for

    model = _dense_softmax_model()
    got = {}
    for mode in ("accurate", "hls4ml"):
        hc, kw = converter_kwargs(hls_config_for(model, io_type="io_stream", softmax=mode))
        got[mode] = _written(model, hc, tmp_path / mode, **kw)
    assert got["accurate"][0] == 3.0 and got["accurate"][1]["ii_cycles"] < 100
    assert not any("exp table" in o for o in got["accurate"][1]["out_of_domain"])
    assert got["hls4ml"][0] > 10 and got["hls4ml"][1]["ii_cycles"] > 1000
