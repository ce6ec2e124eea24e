"""The hls4ml project front-end: C text parsing, and a round trip through hls4ml itself.

The round trip regenerates projects comparable to a few public fixtures with
hls4ml 1.3.0 (``convert_from_keras_model`` + ``write()``, no compile) from the
fixture's own layer description, and checks that the project front-end recovers
the LayerSpecs the layers.json front-end reads from the fixture.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from hwflow.estimate import estimate_project, layers_from_layers_json
from hwflow.estimate.project import (
    ProjectParseError,
    count_weights,
    eval_c_expr,
    layers_from_project,
    parse_calls,
    parse_structs,
    parse_tcl,
    parse_typedefs,
    read_project,
)

PARAMS = textwrap.dedent("""
    #include "nnet_utils/nnet_dense.h"
    typedef ap_fixed<18,8> accum_default_t;   // old hls4ml: file-scope defaults
    // fc1
    struct config2 : nnet::dense_config {
        static const unsigned n_in = N_INPUT_1_1;
        static const unsigned n_out = 64;
        static const unsigned io_type = nnet::io_stream;
        static const unsigned strategy = nnet::resource;
        static const unsigned reuse_factor = 8;
        static const unsigned n_zeros = 100;
        static const unsigned multiplier_limit = DIV_ROUNDUP(n_in * n_out, reuse_factor) - n_zeros / reuse_factor;
        static const bool store_weights_in_bram = false;
        typedef fc1_accum_t accum_t;
        typedef weight2_t weight_t;
        template<class x_T, class y_T>
        using product = nnet::product::mult<x_T, y_T>;
    };
    // relu1
    struct relu_config4 : nnet::activ_config {
        static const unsigned n_in = 64;
        static const unsigned table_size = 1024;
        static const unsigned io_type = nnet::io_stream;
    };
""")
DEFINES = textwrap.dedent("""
    #define N_INPUT_1_1 16
    typedef nnet::array<ap_fixed<16,6>, 16*1> input_t;
    typedef ap_fixed<27,12> fc1_accum_t;
    typedef nnet::array<ap_fixed<16,6>, 64*1> layer2_t;
    typedef ap_fixed<6,1> weight2_t;
    typedef nnet::array<ap_ufixed<6,0,AP_RND_CONV,AP_SAT,0>, 64*1> layer4_t;
""")
CPP = textwrap.dedent("""
    void myproject(hls::stream<input_t> &input_1, hls::stream<layer4_t> &layer4_out) {
        nnet::dense<input_t, layer2_t, config2>(input_1, layer2_out, w2, b2); // fc1
        nnet::relu<layer2_t, layer4_t, relu_config4>(layer2_out, layer4_out); // relu1
    }
""")


def test_eval_c_expr_follows_c_semantics():
    assert eval_c_expr("DIV_ROUNDUP(16 * 64, 8) - 100 / 8", {}) == 128 - 12
    assert eval_c_expr("n_in * n_out", {"n_in": 3, "n_out": 4}) == 12
    assert eval_c_expr("-7 / 2", {}) == -3  # truncation toward zero
    assert eval_c_expr("nnet::io_parallel", {}) == "io_parallel"
    assert eval_c_expr("nnet::conv_implementation::linebuffer", {}) == "linebuffer"
    assert eval_c_expr("true", {}) is True
    assert eval_c_expr("16u", {}) == 16
    with pytest.raises(ValueError):
        eval_c_expr("some_function(3)", {})


def test_eval_c_expr_is_bounded_and_never_uses_python_eval():
    """Issue 16 item 13: hostile parameters.h expressions fail fast with ValueError, never hang."""
    import time

    t0 = time.perf_counter()
    for bad in ("9**9**9**9", "1 << 100000000", "1 << (1 << 40)", "(1 << 63) * (1 << 63)",
                "18446744073709551615 + 1", "1 << -1", "(" * 5000 + "1" + ")" * 5000,
                "-" * 200 + "1", "pow2(1000)", "__import__('os')", "n_in.__class__", "1 / 0",
                "DIV_ROUNDUP(1, 0)", "7 % 0", "1 +", "(1", "x ? 1", "9" * 30):
        with pytest.raises(ValueError):
            eval_c_expr(bad, {"n_in": 3})
    from hwflow.estimate.layerspec import array_len, eval_int_expr

    for bad in ("9**9**9**9", "9*9*9*9*9*9*9*9*9*9*9*9*9*9*9*9*9*9*9*9*9*9*9*9", "1<<999999999"):
        with pytest.raises(ValueError):
            eval_int_expr(bad)
    assert array_len("nnet::array<ap_fixed<8,3>, 9**9**9**9>") is None
    assert time.perf_counter() - t0 < 1.0
    assert eval_int_expr("4*1") == 4 and eval_int_expr("16u / 3") == 5
    # C semantics that the old evaluator got through Python's
    assert eval_c_expr("-7 % 3", {}) == -1 and eval_c_expr("7 / -2", {}) == -3
    assert eval_c_expr("1 << 63", {}) == 1 << 63 and eval_c_expr("0x10 | 3", {}) == 19
    assert eval_c_expr("2 + 3 * 4 << 1", {}) == 28 and eval_c_expr("1 < 2 && 3 > 4 || 5 == 5", {}) is True
    assert eval_c_expr("n > 2 ? n * 2 : 0", {"n": 3}) == 6 and eval_c_expr("~0 & 255", {}) == 255
    assert eval_c_expr("static_cast<unsigned>(12) / 5", {}) == 2
    assert eval_c_expr("config2::n_out + MIN(4, 2)", {"config2::n_out": 10}) == 12
    assert eval_c_expr("nnet::ceillog2(9) + floorlog2(9) + pow2(3)", {}) == 4 + 3 + 8


def test_parse_structs_typedefs_and_calls():
    from hwflow.estimate.project import parse_defines

    typedefs = {**parse_typedefs(DEFINES), **parse_typedefs(PARAMS)}
    assert typedefs["accum_default_t"] == "ap_fixed<18,8>"
    assert "accum_t" not in typedefs  # member typedefs stay in their struct
    structs = parse_structs(PARAMS, parse_defines(DEFINES), typedefs)
    cfg = {s["name"]: s for s in structs}
    f = cfg["config2"]["fields"]
    assert f["n_in"] == 16 and f["multiplier_limit"] == 116 and f["strategy"] == "resource"
    assert cfg["config2"]["typedefs_resolved"]["weight_t"] == "ap_fixed<6,1>"
    assert cfg["config2"]["templates"]["product"].startswith("nnet::product::mult")
    assert cfg["config2"]["comment"] == "fc1"
    calls = parse_calls(CPP, set(cfg))
    assert [c["config"] for c in calls] == ["config2", "relu_config4"]
    assert calls[0]["comment"] == "fc1" and calls[0]["args"][2] == "w2"


def _write_project(root, *, weights: str | None = None, tcl: str | None = None):
    fw = root / "firmware"
    (fw / "weights").mkdir(parents=True)
    (fw / "parameters.h").write_text(PARAMS)
    (fw / "defines.h").write_text(DEFINES)
    (fw / "myproject.cpp").write_text(CPP)
    if weights is not None:
        (fw / "weights" / "w2.txt").write_text(weights)
    if tcl is not None:
        (root / "build_prj.tcl").write_text(tcl)


def test_project_directory_with_tcl_and_weights(tmp_path):
    _write_project(tmp_path, weights="0.5, 0, -0.25, 0.0, 1e-3",
                   tcl="set_part {xczu3eg-sbva484-1-e}\ncreate_clock -period 4 -name default\n"
                       "config_op mul -impl fabric\n")
    doc = read_project(tmp_path)
    assert doc["project"]["part"] == "xczu3eg-sbva484-1-e"
    assert doc["project"]["clock_ns"] == 4.0
    assert doc["project"]["mul_impl"] == "fabric"
    assert doc["layers"][0]["weights_file_nonzero"] == 3
    r = estimate_project(tmp_path)
    assert r["part"] == "xczu3eg-sbva484-1-e" and r["family"] == "ultrascale_plus"
    assert r["io_type"] == "io_stream"
    assert r["resources"]["dsp"] == 0  # fabric multipliers
    dense = r["layers"][0]
    assert dense["kind"] == "dense" and dense["reuse_factor"] == 8 and dense["strategy"] == "resource"
    # arguments win over what the project says
    r2 = estimate_project(tmp_path, part="xc7z020clg400-1", clock_ns=10)
    assert r2["family"] == "series7" and r2["clock_ns"] == 10
    assert r2["project"]["part_source"] == "argument"


def _csynth_xml(version: str, part: str, figures: str = "") -> str:
    """A C-synthesis XML report: its settings header (5 ns target) and, after it, ``figures``."""
    return ("<profile>\n<ReportVersion>\n<Version>" + version + "</Version>\n</ReportVersion>\n"
            "<UserAssignments>\n<Part>" + part + "</Part>\n<TopModelName>myproject</TopModelName>\n"
            "<TargetClockPeriod>5.00</TargetClockPeriod>\n</UserAssignments>\n" + figures + "</profile>\n")


def test_the_run_of_a_vitis_unified_workspace_is_found(tmp_path):
    """hls4ml's VitisUnified backend leaves its C-synthesis report in an hls component of a Vitis
    workspace, not under <name>_prj/solution1: the tool, version, part and clock come from there."""
    _write_project(tmp_path)
    rep = tmp_path / "vitis_workspace" / "myproject" / "vitis_unified_project" / "hls" / "syn" / "report"
    rep.mkdir(parents=True)
    (rep / "myproject_csynth.xml").write_text(_csynth_xml("2025.2", "xck26-sfvc784-2LV-c"))
    r = estimate_project(tmp_path)
    assert r["project"]["tool"] == "vitis_hls" and r["project"]["tool_version"] == "2025.2"
    assert r["project"]["tool_source"].startswith("vitis_workspace/myproject/vitis_unified_project/hls/syn/report/")
    assert r["part"] == "xck26-sfvc784-2LV-c" and r["clock_ns"] == 5.0


def test_the_run_of_a_vitis_accelerator_kernel_is_found(tmp_path):
    """hls4ml's VitisAccelerator backend compiles the core inside a kernel_wrapper with v++: its
    C-synthesis reports sit in <build>/xo/reports/<kernel>/hls_reports/ - the version is read there
    (a sub-module's report sorted first must not be taken for the kernel's)."""
    _write_project(tmp_path, tcl="set backend \"vitisaccelerator\"\nset part \"xcu55c-fsvh2892-2L-e\"\n")
    rep = tmp_path / "build_hw_rel" / "xo" / "reports" / "myproject_kernel" / "hls_reports"
    rep.mkdir(parents=True)
    header = ("================================================================\n"
              "== Vitis HLS Report for '{top}'\n"
              "================================================================\n"
              "* Version:        2022.2 (Build 3670227 on Oct 13 2022)\n"
              "* Target device:  xcu55c-fsvh2892-2L-e\n")
    (rep / "kernel_wrapper_csynth.rpt").write_text(header.format(top="kernel_wrapper"))
    (rep / "dense_latency_csynth.rpt").write_text(header.format(top="dense_latency"))
    r = estimate_project(tmp_path)
    assert r["project"]["tool"] == "vitis_hls" and r["project"]["tool_version"] == "2022.2"
    assert r["project"]["tool_source"] == ("build_hw_rel/xo/reports/myproject_kernel/hls_reports/"
                                           "kernel_wrapper_csynth.rpt")
    assert r["part"] == "xcu55c-fsvh2892-2L-e"


def test_the_tool_that_ran_beats_the_backend_name(tmp_path):
    _write_project(tmp_path, tcl="set backend \"vivado\"\nset_part {xczu7ev-ffvc1156-2-e}\n")
    plain = estimate_project(tmp_path)
    assert plain["project"]["tool"] == "vivado_hls" and plain["project"]["tool_source"] == "backend"
    # hls4ml's Vivado backend synthesised with Vitis HLS: the report header says so (its
    # figures are never read: a report with nonsense numbers changes nothing)
    rep = tmp_path / "myproject_prj" / "solution1" / "syn" / "report"
    rep.mkdir(parents=True)
    (rep / "myproject_csynth.rpt").write_text(
        "================================================================\n"
        "== Vitis HLS Report for 'myproject'\n"
        "================================================================\n"
        "* Date:           Mon Jan  1 00:00:00 2024\n\n"
        "* Version:        2024.1 (Build 5069499 on May 21 2024)\n"
        "* Project:        myproject_prj\n"
        "    |ap_clk  |  5.00 ns|  99999 ns|     1.35 ns|\n")
    ran = estimate_project(tmp_path)
    assert ran["project"]["tool"] == "vitis_hls" and ran["project"]["tool_version"] == "2024.1"
    assert ran["project"]["tool_source"] == "myproject_prj/solution1/syn/report/myproject_csynth.rpt"
    assert ran["tool"] == "vitis_hls"
    # a sub-module's report of the same run (its name sorts first) is not shown as the source
    (rep / "dense_latency_ap_fixed_config2_csynth.rpt").write_text(
        (rep / "myproject_csynth.rpt").read_text().replace("'myproject'", "'dense_latency'"))
    assert estimate_project(tmp_path)["project"]["tool_source"] == \
        "myproject_prj/solution1/syn/report/myproject_csynth.rpt"
    # a run log wins over a report, and an explicit --tool over both
    (tmp_path / "vivado_hls.log").write_text("****** Vivado(TM) HLS - High-Level Synthesis from C, C++ and "
                                             "SystemC v2019.2 (64-bit)\n")
    assert estimate_project(tmp_path)["project"]["tool_version"] == "2019.2"
    forced = estimate_project(tmp_path, tool="vitis_hls")
    assert forced["project"]["tool_source"] == "argument" and forced["project"]["tool_version"] is None
    # the build script names the part; without one, the part of the run made here (a csynth
    # XML's settings, cut before its figures), not a stale hls4ml_config.yml
    other = tmp_path / "other"
    _write_project(other)
    (other / "hls4ml_config.yml").write_text("Part: xc7z020clg400-1\nClockPeriod: 10\n")
    rep = other / "myproject_prj" / "solution1" / "syn" / "report"
    rep.mkdir(parents=True)
    (rep / "csynth.xml").write_text(_csynth_xml(
        "2019.2", "xczu5ev-sfvc784-2LV-e", "<PerformanceEstimates><Part>not-this-one</Part></PerformanceEstimates>\n"))
    r = estimate_project(other)
    assert r["part"] == "xczu5ev-sfvc784-2LV-e" and r["clock_ns"] == 5.0
    assert r["project"]["tool"] == "vivado_hls" and r["project"]["tool_version"] == "2019.2"


def test_a_project_without_its_top_function_says_so(tmp_path):
    _write_project(tmp_path)
    whole = estimate_project(tmp_path)
    assert not any("top function" in r for r in whole["out_of_domain"])
    (tmp_path / "firmware" / "myproject.cpp").unlink()
    part = estimate_project(tmp_path)
    assert any("no top function" in r for r in part["out_of_domain"])
    assert any("no top function" in w for w in part["warnings"])
    lo, hi = part["interval_80"]["lut"]
    wlo, whi = whole["interval_80"]["lut"]
    assert hi / max(lo, 1) > whi / max(wlo, 1)  # a wider interval for what could not be read


def test_missing_weight_values_are_said_and_widen_the_interval(tmp_path):
    _write_project(tmp_path / "blind")
    blind = estimate_project(tmp_path / "blind")
    assert any("no weight values" in r and "fc1" in r for r in blind["out_of_domain"])
    # the layer's weight file (n_in x n_out values): the caveat goes, the counts are used
    n = 16 * 64
    _write_project(tmp_path / "seen", weights=", ".join("0.5" if i % 3 else "0" for i in range(n)))
    seen = estimate_project(tmp_path / "seen")
    assert not any("no weight values" in r for r in seen["out_of_domain"])
    assert seen["layers"][0]["w_zero"] == len(range(0, n, 3))


def test_not_a_project(tmp_path):
    with pytest.raises(ProjectParseError):
        estimate_project(tmp_path)


def test_count_weights_header_and_txt(tmp_path):
    h = tmp_path / "w5.h"
    h.write_text("//Numpy array shape [2, 2]\nweight5_t w5[4] = {0.5, 0.00000, -1.25e-2, 0};\n")
    assert count_weights(h) == (4, 2)
    t = tmp_path / "w5.txt"
    t.write_text("0, 0, 3, 4")
    assert count_weights(t) == (4, 2)


def test_parse_tcl_variants():
    new = parse_tcl('variable part\nset part "xc7z020clg400-1"\nset clock_period 10\nset backend "vitis"\n')
    assert new == {"part": "xc7z020clg400-1", "clock_ns": 10.0, "backend": "vitis"}
    old = parse_tcl("set_part {xcu250-figd2104-2L-e}\ncreate_clock -period 5 -name default\n")
    assert old["part"] == "xcu250-figd2104-2L-e" and old["clock_ns"] == 5.0


def test_config_struct_without_base_class(tmp_path):
    """hls4ml writes ``struct hard_tanh_config4 {`` with no base: its n_in must still be read."""
    params = PARAMS + textwrap.dedent("""
        // qtanh1
        struct hard_tanh_config5 {
            static const unsigned n_in = 64;
            static const slope5_t slope;
            static const unsigned io_type = nnet::io_stream;
            static const unsigned reuse_factor = 1;
        };
        const slope5_t hard_tanh_config5::slope = 0.5;
    """)
    cpp = CPP.replace("}\n", "    nnet::hard_tanh<layer4_t, layer5_t, hard_tanh_config5>(layer4_out, layer5_out); // qtanh1\n}\n")
    _write_project(tmp_path)
    (tmp_path / "firmware" / "parameters.h").write_text(params)
    (tmp_path / "firmware" / "myproject.cpp").write_text(cpp)
    doc = read_project(tmp_path)
    cfg = {s["name"]: s for s in doc["layers"]}
    assert cfg["hard_tanh_config5"]["base"] is None
    assert cfg["hard_tanh_config5"]["fields"]["n_in"] == 64
    assert "accum_t" not in parse_typedefs(params)  # struct bodies still dropped from file scope
    specs, _ = layers_from_project(tmp_path)
    tanh = [s for s in specs if s.name == "qtanh1"]
    assert len(tanh) == 1 and tanh[0].kind == "activation" and tanh[0].n_in == 64 and tanh[0].n_out == 64


def test_define_guard_does_not_swallow_the_next_define():
    """A value-less ``#define DEFINES_H_`` followed (after a blank line) by ``#define N 16``."""
    from hwflow.estimate.project import parse_defines

    text = "#ifndef DEFINES_H_\n#define DEFINES_H_\n\n#define N_INPUT_1_1 16\n#define N_IN N_INPUT_1_1*2\n"
    d = parse_defines(text)
    assert d["N_INPUT_1_1"] == 16 and d["N_IN"] == 32
    assert "DEFINES_H_" not in d


# --------------------------------------------------------------- round trip through hls4ml

ROUND_TRIP = [
    # (fixture, io_type): MLPs whose sizes / reuse / strategy / precision we regenerate
    ("15_Hector-Plata_hls4ml-tutorial_tutorial_mlp_rf1", "io_parallel"),
    ("60_pominiq_DNNonSilicon_dnnsil_mlp_stream_rf8", "io_stream"),
]
COMPARED = ("kind", "n_in", "n_out", "reuse_factor", "strategy", "io_type", "weight_bits", "input_bits",
            "accum_bits", "n_weights")


def _keras_mlp_from_fixture(layers):
    import tensorflow as tf

    dense = [l for l in layers if l.kind == "dense"]
    acts = [l for l in layers if l.kind in ("activation", "softmax")]
    inp = tf.keras.layers.Input((dense[0].n_in,), name="input_1")
    x = inp
    act_names = iter(acts)
    for i, d in enumerate(dense):
        x = tf.keras.layers.Dense(d.n_out, name=d.name)(x)
        a = next(act_names, None)
        if a is not None:
            x = tf.keras.layers.Activation("softmax" if a.kind == "softmax" else (a.op or "relu"), name=a.name)(x)
    return tf.keras.Model(inp, x)


@pytest.mark.parametrize("fixture,io_type", ROUND_TRIP)
def test_round_trip_through_hls4ml(fixtures_dir, tmp_path, fixture, io_type):
    hls4ml = pytest.importorskip("hls4ml")
    pytest.importorskip("tensorflow")
    folder = fixtures_dir / fixture
    if not folder.is_dir():
        pytest.skip(f"{fixture} absent")
    doc = json.loads((folder / "layers.json").read_text())
    want = layers_from_layers_json(doc)
    model = _keras_mlp_from_fixture(want)
    dense = [l for l in want if l.kind == "dense"]
    precision = f"ap_fixed<{dense[0].weight_bits},6>"
    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis",
                                               default_precision=precision)
    cfg["Model"]["Strategy"] = dense[0].strategy.capitalize()
    for spec in want:
        lc = cfg["LayerName"].setdefault(spec.name, {})
        lc["ReuseFactor"] = spec.reuse_factor
        if spec.kind == "dense":
            lc["Precision"] = {"weight": precision, "bias": precision, "result": precision, "accum": precision}
        elif spec.kind == "activation":
            lc["Precision"] = {"result": precision}
    cfg["LayerName"].setdefault("input_1", {})["Precision"] = {"result": precision}
    out = tmp_path / "prj"
    hm = hls4ml.converters.convert_from_keras_model(
        model, hls_config=cfg, output_dir=str(out), backend="Vitis", io_type=io_type,
        part=doc["project"]["part"], clock_period=doc["project"]["clock_ns"])
    hm.write()

    from hwflow.estimate import layers_from_model_graph, layers_from_project

    got, facts = layers_from_project(out)
    assert facts["part"] == doc["project"]["part"]
    assert facts["clock_ns"] == doc["project"]["clock_ns"]
    assert facts["tool"] == "vitis_hls"
    got_w = [l for l in got if l.kind in ("dense", "activation", "softmax")]
    want_w = [l for l in want if l.kind in ("dense", "activation", "softmax")]
    assert len(got_w) == len(want_w)
    for g, w in zip(got_w, want_w):
        for key in COMPARED:
            if w.kind == "softmax" and key in ("input_bits", "accum_bits"):
                continue  # hls4ml 1.x gives softmax its own accumulator/table types
            if w.kind != "dense" and key in ("weight_bits", "accum_bits"):
                continue
            assert getattr(g, key) == getattr(w, key), (w.name, key, getattr(g, key), getattr(w, key))
        if w.kind == "dense":
            # random weights: hls4ml counts the zeros it wrote, the weights files agree
            assert 0 < g.n_nonzero <= g.n_weights
    # front-end (c): the in-memory ModelGraph gives the same LayerSpecs as the written project
    mg = layers_from_model_graph(hm)
    assert [(l.kind, l.n_in, l.n_out, l.reuse_factor, l.weight_bits) for l in mg] == \
        [(l.kind, l.n_in, l.n_out, l.reuse_factor, l.weight_bits) for l in got]
    r = estimate_project(out)
    assert r["resources"]["lut"] > 0 and r["latency_cycles"] >= 1


def test_c_parser_agrees_with_every_fixture_expression(fixtures_dir):
    """Every computed field of the public projects' parameters.h (layers.json keeps the expression and
    the value its own parser found) evaluates to the same value with the bounded C parser."""
    n = 0
    for folder in sorted(fixtures_dir.iterdir()):
        p = folder / "layers.json"
        if not p.is_file():
            continue
        doc = json.loads(p.read_text())
        defines = doc.get("defines") or {}
        for layer in doc.get("layers") or []:
            fields = layer.get("fields") or {}
            for key, expr in (layer.get("exprs") or {}).items():
                if key in fields:
                    scope = {**defines, **{k: v for k, v in fields.items() if k != key}}
                    got = eval_c_expr(expr, scope)
                    assert got == fields[key], (folder.name, layer.get("name"), key, expr, got, fields[key])
                    n += 1
    assert n > 2000
