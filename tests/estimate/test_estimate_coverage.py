"""Issue 12 item 2: every layer hls4ml 1.3 converts gets a model, and nothing is silently partial.

Tiny Keras models (GRU + bidirectional GRU + LSTM; a functional CNN with up-sampling, depthwise and separable
convolutions, add / multiply / concatenate, zero-padding, global average and max pooling) are
converted by hls4ml 1.3 (``write()``, no compile) for both io types and estimated from the
project folder, as ``hwflow estimate --project`` does.
"""

from __future__ import annotations

import pytest

from hwflow.estimate import LayerSpec, estimate_layers


def _gru(**kw):
    base = dict(name="gru1", kind="rnn", op="gru", func="nnet::gru_stack", n_in=16, n_state=32, n_timesteps=20,
                n_out=32, weight_bits=8, input_bits=8, accum_bits=16, result_bits=8, reuse_factor=1)
    return LayerSpec(**{**base, **kw})


def test_rnn_cell_is_counted_once_and_stepped_through_time():
    short = estimate_layers([_gru(n_timesteps=10)], part="xczu7ev-ffvc1156-2-e", clock_ns=5)
    long = estimate_layers([_gru(n_timesteps=40)], part="xczu7ev-ffvc1156-2-e", clock_ns=5)
    assert short["complete"] and short["not_modelled"] == []
    assert any("rnn" in r for r in short["out_of_domain"])  # no RNN in the calibration data: said
    assert long["resources"] == short["resources"]  # one cell, reused over the time steps
    assert long["ii_cycles"] == 4 * short["ii_cycles"]
    assert 3.0 < long["latency_cycles"] / short["latency_cycles"] < 4.5
    lstm = estimate_layers([_gru(op="lstm")], part="xczu7ev-ffvc1156-2-e", clock_ns=5)
    gru = estimate_layers([_gru()], part="xczu7ev-ffvc1156-2-e", clock_ns=5)
    assert lstm["resources"]["lut"] > gru["resources"]["lut"]  # four gates instead of three
    wide = estimate_layers([_gru(n_state=64)], part="xczu7ev-ffvc1156-2-e", clock_ns=5)
    assert wide["resources"]["lut"] > 2.5 * gru["resources"]["lut"]


def test_non_static_rnn_is_unrolled_over_time_in_io_parallel():
    static = estimate_layers([_gru(n_timesteps=10)], part="xczu7ev-ffvc1156-2-e", clock_ns=5)
    unrolled = estimate_layers([_gru(n_timesteps=10, rnn_static=False)], part="xczu7ev-ffvc1156-2-e", clock_ns=5)
    # one cell per time step inside the pipelined top function: ten times the cell, a new
    # sequence every per-step interval, the same sequential latency
    assert 9.0 < unrolled["resources"]["lut"] / static["resources"]["lut"] < 11.0
    assert unrolled["ii_cycles"] == 1  # RF 1: a new sequence every cycle
    # the static cell waits for each step's state: ten steps of a step's latency (several cycles)
    assert static["ii_cycles"] % 10 == 0 and static["ii_cycles"] >= 10 * 5
    assert abs(unrolled["latency_cycles"] - static["latency_cycles"]) <= 0.05 * static["latency_cycles"]
    # a streaming layer's time loop is not unrolled: one cell, static or not
    stream = estimate_layers([_gru(n_timesteps=10, rnn_static=False, io_type="io_stream")],
                             part="xczu7ev-ffvc1156-2-e", clock_ns=5)
    assert stream["ii_cycles"] == static["ii_cycles"]
    # nor is the stack's under a dataflow top (resource strategy at RF > 1): a process whose time
    # loop calls one cell per iteration
    flow = [_gru(n_timesteps=10, rnn_static=s, reuse_factor=4, strategy="resource") for s in (True, False)]
    rolled = [estimate_layers([g], part="xczu7ev-ffvc1156-2-e", clock_ns=5) for g in flow]
    assert rolled[0]["resources"]["lut"] == rolled[1]["resources"]["lut"]
    assert rolled[0]["ii_cycles"] == rolled[1]["ii_cycles"] >= 10 * 4


def test_streaming_global_pooling_is_one_running_accumulator():
    def gp(io):
        return LayerSpec(name="gap", kind="global_pooling2d", op="max", func="nnet::global_pooling2d_cl",
                         n_in=32 * 32 * 16, n_out=16, in_height=32, in_width=32, n_chan=16, n_filt=16,
                         filt_height=32, filt_width=32, input_bits=16, result_bits=16, io_type=io,
                         in_pack=16 if io == "io_stream" else None)
    par = estimate_layers([gp("io_parallel")], part="xczu7ev-ffvc1156-2-e", clock_ns=5)
    stream = estimate_layers([gp("io_stream")], part="xczu7ev-ffvc1156-2-e", clock_ns=5)
    # a 16-channel accumulator vs a 1,024-input comparison tree per channel
    assert stream["layers"][0]["lut"] * 50 < par["layers"][0]["lut"]
    assert stream["layers"][0]["ff"] < 5000
    assert stream["ii_cycles"] == 32 * 32  # one pixel per cycle


def _convert(model, io_type, out):
    hls4ml = pytest.importorskip("hls4ml")
    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis")
    hm = hls4ml.converters.convert_from_keras_model(model, hls_config=cfg, output_dir=str(out), backend="Vitis",
                                                    io_type=io_type, part="xczu7ev-ffvc1156-2-e")
    hm.write()
    from hwflow.estimate import estimate_project

    return estimate_project(out)


@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
def test_hls4ml_layer_zoo_is_fully_modelled(tmp_path, io_type):
    tf = pytest.importorskip("tensorflow")
    L = tf.keras.layers
    i = L.Input((8, 6), name="seq_in")
    g = L.GRU(8, return_sequences=True, name="gru")(i)
    if io_type == "io_parallel":  # hls4ml 1.3 converts Bidirectional for io_parallel only
        g = L.Bidirectional(L.GRU(4, return_sequences=True), name="bi")(g)
    x = L.LSTM(6, name="lstm")(g)
    rnn = tf.keras.Model(i, L.Dense(4, name="d0")(x))
    est = _convert(rnn, io_type, tmp_path / "rnn")
    assert est["complete"] is True and est["not_modelled"] == []
    want = ["rnn", "rnn", "rnn", "rnn", "dense"] if io_type == "io_parallel" else ["rnn", "rnn", "dense"]
    assert [row["kind"] for row in est["layers"]] == want
    assert est["ii_cycles"] >= 8 and set(est["interval_80"]) >= {"lut", "latency_cycles"}

    i = L.Input((8, 8, 3), name="img")
    c = L.Conv2D(4, 3, padding="same", name="c1")(i)
    p = L.MaxPooling2D(2, name="mp")(L.UpSampling2D(2, name="up")(c))
    s = L.SeparableConv2D(4, 3, padding="same", name="sep")(L.DepthwiseConv2D(3, padding="same", name="dw")(p))
    m = L.Multiply(name="mul")([L.Add(name="add")([s, p]), p])
    cc = L.Concatenate(name="cat")([m, p])
    ga = L.GlobalAveragePooling2D(name="gap")(L.ZeroPadding2D(1, name="zp")(cc))
    gm = L.GlobalMaxPooling2D(name="gmp")(cc)
    o = L.Activation("softmax", name="sm")(L.Dense(3, name="out")(L.Concatenate(name="cat2")([ga, gm])))
    est = _convert(tf.keras.Model(i, o), io_type, tmp_path / "cnn")
    assert est["complete"] is True and est["not_modelled"] == []
    kinds = {row["kind"] for row in est["layers"]}
    assert kinds >= {"conv2d", "resize", "pooling2d", "depthwise_conv2d", "pointwise_conv2d", "merge", "concat",
                     "padding", "global_pooling2d", "dense", "softmax"}
    assert all(row["known"] for row in est["layers"])


def test_a_project_without_layer_calls_is_not_called_complete(tmp_path):
    """hls4ml 1.3's Vitis writer emits no layer call for a lone SimpleRNN: that must not read as 0 LUT."""
    tf = pytest.importorskip("tensorflow")
    L = tf.keras.layers
    i = L.Input((8, 6), name="seq_in")
    est = _convert(tf.keras.Model(i, L.SimpleRNN(5, name="srnn")(i)), "io_parallel", tmp_path / "srnn")
    if est["layers"]:
        assert est["complete"] is True and est["layers"][0]["kind"] == "rnn"
    else:
        assert est["complete"] is False and "no layers found" in est["out_of_domain"][0]
        assert est["interval_80"] is None


def test_distributed_arithmetic_dense_is_estimated_from_its_adder_graph(tmp_path):
    """hls4ml 1.3's distributed-arithmetic dense layers are generated kernels without a config
    struct (``nnet::dense_da_<i>`` in nnet_code_gen.h): counted from their adder graph, no DSP."""
    tf = pytest.importorskip("tensorflow")
    hls4ml = pytest.importorskip("hls4ml")
    L = tf.keras.layers
    i = L.Input((16,), name="x")
    m = tf.keras.Model(i, L.Dense(3, name="d2")(L.Activation("relu", name="r1")(L.Dense(8, name="d1")(i))))
    cfg = hls4ml.utils.config_from_keras_model(m, granularity="name", backend="Vitis",
                                               default_precision="ap_fixed<8,3>")
    for name in ("d1", "d2"):
        cfg["LayerName"][name]["Strategy"] = "distributed_arithmetic"
    hm = hls4ml.converters.convert_from_keras_model(m, hls_config=cfg, output_dir=str(tmp_path / "da"),
                                                    backend="Vitis", io_type="io_parallel",
                                                    part="xczu7ev-ffvc1156-2-e")
    hm.write()
    from hwflow.estimate import estimate_project

    est = estimate_project(tmp_path / "da")
    assert [(row["name"], row["kind"]) for row in est["layers"]] == [("d1", "dense_da"), ("r1", "activation"),
                                                                     ("d2", "dense_da")]
    assert est["complete"] is True and est["resources"]["dsp"] == 0
    assert est["layers"][0]["lut"] > est["layers"][2]["lut"] > 0  # 128 vs 24 constant products
    assert any("dense_da" in r for r in est["out_of_domain"])


def test_a_layer_call_without_config_is_never_dropped_silently():
    from hwflow.estimate.project import parse_calls

    cpp = """
    void myproject(input_t x[4], result_t y[2]) {
        nnet::load_weights_from_txt<w_t, 8>(w2, "w2.txt");
        nnet::dense<input_t, layer2_t, config2>(x, layer2_out, w2, b2); // fc
        nnet::my_custom_kernel<layer2_t, result_t>(layer2_out, y); // custom
    }
    """
    calls = parse_calls(cpp, {"config2"})
    assert [(c["func"], c["config"]) for c in calls] == [("nnet::dense", "config2"),
                                                         ("nnet::my_custom_kernel", None)]


def test_a_static_rnn_step_waits_for_the_previous_state():
    from hwflow.estimate import load_calibration
    from hwflow.estimate.model import DEFAULT_HYPER, make_context
    from hwflow.estimate.schedule import rnn_step_cycles

    spec = _gru(n_timesteps=20, reuse_factor=30, strategy="resource")
    ctx = make_context([spec], "xcu250-figd2104-2L-e", 5.0)
    step = rnn_step_cycles(spec, ctx, {**DEFAULT_HYPER, **load_calibration()["hyper"]})
    # RF 30 shared multipliers, then the gates, products and tanh: more than the RF per step
    assert 30 < step < 60
    est = estimate_layers([spec], part="xcu250-figd2104-2L-e", clock_ns=5)
    assert est["ii_cycles"] == 20 * step  # not 20 x 30: the state recurrence serialises the steps


def test_resource_strategy_at_reuse_factor_one_is_built_like_the_latency_strategy():
    def dense(strategy):
        return LayerSpec(name="fc", kind="dense", func="nnet::dense", n_in=32, n_out=16, reuse_factor=1,
                         strategy=strategy, weight_bits=16, input_bits=16, accum_bits=16, result_bits=16,
                         n_weights=512)

    res = estimate_layers([dense("resource")], part="xcu250-figd2104-2L-e", clock_ns=5)
    lat = estimate_layers([dense("latency")], part="xcu250-figd2104-2L-e", clock_ns=5)
    assert res["resources"] == lat["resources"] and res["ii_cycles"] == lat["ii_cycles"]
    # an RNN cell's state products keep both operands variable: they are not folded
    from hwflow.estimate.schedule import VARIABLE_OPERANDS, as_built, rnn_parts

    prods = [p for p in rnn_parts(_gru()) if p.name.endswith(".products")]
    assert prods and VARIABLE_OPERANDS in prods[0].notes and as_built(prods[0]).strategy == "resource"


def test_recurrent_kernel_keeps_its_own_reuse_factor(tmp_path):
    """hls4ml writes the recurrent kernel's own reuse factor into ``mult_config2`` (hls4ml 1.3
    moves a ReuseFactor of 12 to the closest valid one for the 20 x 60 recurrent kernel, 10, and
    keeps 12 for the 6 x 60 input kernel): its shared multipliers are counted with that RF."""
    tf = pytest.importorskip("tensorflow")
    hls4ml = pytest.importorskip("hls4ml")
    L = tf.keras.layers
    i = L.Input((10, 6), name="seq_in")
    model = tf.keras.Model(i, L.GRU(20, name="gru")(i))
    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")
    cfg["Model"]["Strategy"] = "Resource"
    cfg["LayerName"]["gru"].update({"ReuseFactor": 12, "Strategy": "Resource"})
    out = tmp_path / "gru"
    hls4ml.converters.convert_from_keras_model(model, hls_config=cfg, output_dir=str(out), backend="Vivado",
                                               io_type="io_parallel", part="xcu250-figd2104-2L-e").write()
    from hwflow.estimate.project import layers_from_project

    specs, _ = layers_from_project(out)
    gru = [s for s in specs if s.kind == "rnn"][0]
    assert (gru.reuse_factor, gru.recurrent_reuse) == (12, 10)
    est = estimate_layers([gru], part="xcu250-figd2104-2L-e", clock_ns=5)
    # input kernel 6 x 60 / 12 + recurrent 20 x 60 / 10 + 60 state products = 210 DSP (not 190)
    assert est["resources"]["dsp"] == pytest.approx(210, rel=0.05)
    # the GRU reads its sequence from the packed input port (ARRAY_RESHAPE) in a dataflow top:
    # a variable part-select per input element and time step loop - six wide shifters
    from dataclasses import replace

    assert gru.input_reshaped is True
    unpacked = estimate_layers([replace(gru, input_reshaped=False)], part="xcu250-figd2104-2L-e", clock_ns=5)
    from hwflow.estimate.rnn import SEQ_SELECT_LUT

    extra = est["resources"]["lut"] - unpacked["resources"]["lut"]
    assert extra == pytest.approx(6 * SEQ_SELECT_LUT, rel=0.3)


def test_rnn_gate_tables_are_read_in_parallel_whatever_the_reuse_factor():
    """hls4ml's sigmoid / tanh are pipelined at II 1 with the element loop unrolled: a GRU(20)
    cell reads its 40 gate and 20 candidate tables at once - 30 BRAM_18K of tables whether the
    kernels share their multipliers over 1 or 30 cycles."""
    from hwflow.estimate.model import make_context
    from hwflow.estimate.schedule import activation_elems, rnn_parts

    for rf in (1, 30):
        spec = _gru(n_in=6, n_state=20, reuse_factor=rf, strategy="resource", weight_bits=16, input_bits=16)
        ctx = make_context([spec], "xcu250-figd2104-2L-e", 5.0)
        acts = [p for p in rnn_parts(spec) if p.kind == "activation"]
        assert [activation_elems(p, ctx) for p in acts] == [40, 20]
    lo = estimate_layers([_gru(n_in=6, n_state=20, reuse_factor=1)], part="xcu250-figd2104-2L-e", clock_ns=5)
    hi = estimate_layers([_gru(n_in=6, n_state=20, reuse_factor=30, strategy="resource")],
                         part="xcu250-figd2104-2L-e", clock_ns=5)
    assert hi["resources"]["bram_18k"] >= 30 and lo["resources"]["bram_18k"] >= 30


def test_a_pipelined_top_unrolls_the_time_loop_so_no_shifters():
    """Latency strategy: hls4ml's top is one pipeline, the time loop unrolls and every
    part-select of the packed input word has a constant index (a GRU(1) on 5 x 10 inputs is
    reported at 2.3 k LUT in all) - no shifters counted."""
    spec = _gru(n_in=10, n_state=1, n_timesteps=5, input_reshaped=True, weight_bits=16, input_bits=16)
    packed = estimate_layers([spec], part="xc7z020clg400-1", clock_ns=5)
    from dataclasses import replace

    plain = estimate_layers([replace(spec, input_reshaped=False)], part="xc7z020clg400-1", clock_ns=5)
    assert packed["resources"]["lut"] == plain["resources"]["lut"] < 10_000


def test_a_hand_written_recurrent_cell_is_said_not_modelled(tmp_path):
    """A top calling ``nnet::lstm`` with a dense_config (a hand-written cell, not hls4ml's
    ``lstm_stack`` / ``lstm_config``) is not guessed at: the estimate says it is incomplete."""
    import textwrap

    from hwflow.estimate import estimate_project

    fw = tmp_path / "firmware"
    fw.mkdir()
    (fw / "defines.h").write_text("typedef ap_fixed<16,6> input_t;\ntypedef ap_fixed<16,6> layer2_t;\n"
                                  "typedef ap_fixed<16,6> model_default_t;\n")
    (fw / "parameters.h").write_text(textwrap.dedent("""
        struct config_x : nnet::dense_config {
            static const unsigned reuse_factor = 1;
            static const unsigned n_in = 28;
            static const unsigned n_out = 128;
        };
        struct config_h : nnet::dense_config {
            static const unsigned reuse_factor = 1;
            static const unsigned n_in = 32;
            static const unsigned n_out = 128;
        };
    """))
    (fw / "myproject.cpp").write_text(
        "void myproject(input_t input_1[784], layer2_t layer2_out[32]) {\n"
        "    nnet::lstm<input_t, input_t, config_x, config_h>(input_1, w2, wr2, b2, layer2_out);\n}\n")
    est = estimate_project(tmp_path)
    assert est["complete"] is False and est["not_modelled"]
    assert est["layers"][0]["known"] is False
