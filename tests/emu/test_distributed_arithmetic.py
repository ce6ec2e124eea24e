"""``hls.strategy: distributed_arithmetic`` (issue 14): the schema rule, reading hls4ml's generated
``dense_da_<i>`` kernels back, and convert -> emulate on a tiny model, layer by layer against C-sim."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hwflow.cli import main
from hwflow.emu.fast.core import Unsupported
from hwflow.emu.fast.da import affine_of_kernel
from hwflow.emu.fixed import FixedType

DESIGN = Path(__file__).resolve().parents[2] / "designs" / "digits_mlp_da.yaml"


# ------------------------------------------------------------------------------ schema
def test_shipped_da_design_checks(capsys) -> None:
    assert main(["check", str(DESIGN)]) == 0
    assert main(["check", str(DESIGN), "--board", "pynq-z2"]) == 0


@pytest.mark.parametrize("old, new", [
    ("  reuse_factor: 1\n", "  reuse_factor: 4\n"),                               # the design itself
    ("zcu104: {hls: {clock_period_ns: 5}}", "zcu104: {hls: {reuse_factor: 2}}"),  # a board override
])
def test_da_needs_reuse_factor_one(tmp_path, capsys, old, new) -> None:
    text = DESIGN.read_text()
    assert old in text
    p = tmp_path / "da.yaml"
    p.write_text(text.replace(old, new))
    assert main(["check", str(p)]) == 2
    err = capsys.readouterr().err
    assert "reuse_factor must be 1 with strategy distributed_arithmetic" in err
    assert "hls" in err and "Traceback" not in err


def test_hls_config_puts_da_on_dense_layers_only() -> None:
    pytest.importorskip("hls4ml")
    from hwflow.emu import examples
    from hwflow.hlsconfig import hls_config_for

    model = examples.mlp([16, 8, 4], output="linear")
    cfg = hls_config_for(model, strategy="distributed_arithmetic")
    strategies = {n: e.get("Strategy") for n, e in cfg["LayerName"].items()}
    assert strategies["fc1"] == strategies["output"] == "distributed_arithmetic"
    assert strategies["relu1"] is None and cfg["Model"]["Strategy"] == "Latency"
    with pytest.raises(ValueError, match="reuse_factor 1"):
        hls_config_for(model, strategy="distributed_arithmetic", reuse_factor=2)


# ------------------------------------------------------------------------------ kernel reader
KERNEL = """
template <typename inp_t, typename out_t>
void dense_da_3(inp_t model_inp[2], out_t model_out[2]) { // ap_fixed<4,2> -> ap_fixed<8,5>
    #pragma HLS INLINE

    ap_fixed<4,2> v0 = model_inp[0]; // 0.0
    ap_fixed<4,2> v1 = model_inp[1]; // 0.0
    ap_fixed<7,4> v2 = v0 - bit_shift<1>(v1); // 1.0
    ap_fixed<8,5> v3 = bit_shift<-1>(v2) + ap_ufixed<2,1>(1.5) + v2; // 2.0

    model_out[0] = ap_fixed<8,5>(v3);
    model_out[1] = ap_fixed<6,3>(-bit_shift<-1>(v0));
}
"""


def test_kernel_read_back_as_exact_affine_map() -> None:
    w, b = affine_of_kernel(KERNEL, "dense_da_3", 2, 2, FixedType(4, 2))
    assert w.tolist() == [[1.5, -0.5], [-3.0, 0.0]] and b.tolist() == [1.5, 0.0]


@pytest.mark.parametrize("edit, words", [
    ("v0 - bit_shift<1>(v1)", "not understood"),                       # a multiplication
    ("ap_fixed<8,5>(v3)", "may round or overflow"),                    # a lossy output cast
    ("model_out[1] =", "not every output"),                            # an output never written
])
def test_kernel_reader_refuses_what_it_cannot_prove(edit, words) -> None:
    bad = {"v0 - bit_shift<1>(v1)": "v0 * v1", "ap_fixed<8,5>(v3)": "ap_fixed<5,3>(v3)",
           "model_out[1] =": "// model_out[1] ="}[edit]
    with pytest.raises(Unsupported, match=words):
        affine_of_kernel(KERNEL.replace(edit, bad), "dense_da_3", 2, 2, FixedType(4, 2))


# ------------------------------------------------------------------------------ convert -> emulate
def test_da_model_converts_and_emulates_bit_exactly_layer_by_layer(tmp_path) -> None:
    """VivadoAccelerator (pynq-z2), so hls4ml's DA pass runs through hwflow's backend shim too."""
    pytest.importorskip("hls4ml")
    pytest.importorskip("da4ml")
    import hls4ml

    from hwflow.emu import examples
    from hwflow.emu.fast import FastEmulator
    from hwflow.hlsconfig import converter_kwargs, hls_config_for
    from hwflow.hlsgraph import accelerator_da_codegen

    model = examples.mlp([16, 8, 4], output="linear")
    cfg, kw = converter_kwargs(hls_config_for(model, strategy="distributed_arithmetic"))
    with accelerator_da_codegen():
        hls = hls4ml.converters.convert_from_keras_model(model, hls_config=cfg, output_dir=str(tmp_path / "prj"),
                                                         backend="VivadoAccelerator", board="pynq-z2", **kw)
    da = [lyr.name for lyr in hls.get_layers() if lyr.get_attr("strategy") == "distributed_arithmetic"]
    assert da == ["fc1", "output"]
    hls.write()
    assert "dense_da_" in (tmp_path / "prj" / "firmware" / "myproject.cpp").read_text()
    fast = FastEmulator.from_hls_model(hls)
    assert fast.supported, fast.reason
    x = examples.inputs_for(model, 400, seed=5, scale=1.0)
    y_fast, layers = fast.predict_layers(x)
    y_csim, trace = hls.trace(np.ascontiguousarray(x, dtype=np.float64))  # compiles the C-sim
    y_csim = np.asarray(y_csim, dtype=np.float64).reshape(len(x), -1)
    compared = 0
    for name, ref in trace.items():
        if name in layers:
            mine = layers[name].reshape(len(x), -1)
            assert np.array_equal(mine, np.asarray(ref, dtype=np.float64).reshape(len(x), -1)), name
            compared += 1
    assert compared >= 3  # fc1, relu1, output
    assert np.array_equal(y_fast.reshape(len(x), -1), y_csim)
    # the outputs are not trivially equal: the model really computes something
    assert len(np.unique(y_csim)) > 50
    # the open path traces the same DA layers (constants read from the same kernels): same bits
    pytest.importorskip("da4ml")
    from hwflow.synth.open.trace import trace_hls_model

    net = trace_hls_model(hls)
    assert [lyr.get("strategy") for lyr in net.layers if lyr["class"] == "Dense"] == ["distributed_arithmetic"] * 2
    y_open = net.output_values(net.comb().predict(net.input_values(x)))
    assert np.array_equal(y_open.reshape(len(x), -1), y_csim)


@pytest.mark.slow  # ~25 s of C-sim compile on a 2-core machine; the MLP case above covers the default suite
def test_da_conv2d_emulates_bit_exactly(tmp_path) -> None:
    """A Conv2D -> maxpool -> dense network with every kernel in DA (io_parallel, Vivado backend)."""
    pytest.importorskip("hls4ml")
    pytest.importorskip("da4ml")
    import hls4ml
    import tensorflow as tf

    from hwflow.emu import examples
    from hwflow.emu.csim import CSim
    from hwflow.emu.fast import FastEmulator
    from hwflow.hlsconfig import converter_kwargs, hls_config_for

    full = examples.small_cnn(filters=3, seed=1)
    model = tf.keras.Model(full.input, full.get_layer("output").output)  # the logits: nothing hidden by softmax
    cfg, kw = converter_kwargs(hls_config_for(model, strategy="distributed_arithmetic"))
    hls = hls4ml.converters.convert_from_keras_model(model, hls_config=cfg, output_dir=str(tmp_path / "prj"),
                                                     backend="Vivado", **kw)
    assert {lyr.class_name for lyr in hls.get_layers() if lyr.get_attr("strategy") == "distributed_arithmetic"} \
        == {"Conv2D", "Dense"}
    hls.write()
    fast = FastEmulator.from_hls_model(hls)
    assert fast.supported, fast.reason
    x = examples.inputs_for(model, 300, seed=2, scale=1.0)
    y_csim = CSim(tmp_path / "prj", cache_dir=tmp_path / "cache").predict(x)
    assert np.array_equal(fast.predict(x), y_csim)
    assert len(np.unique(y_csim)) > 50


def test_open_report_says_the_architecture_is_the_same() -> None:
    from hwflow.report.doc import Para, Table
    from hwflow.synth.open.report import open_section

    base = {"open_synth": {"source": "open:yosys-0.23", "resources": {"lut": 100, "ff": 10}},
            "estimate": {"resources": {"lut": 120}, "source": "estimate:hwflow-analytic-v2"}}

    def texts(sec):
        return " ".join(str(p) for b in sec.blocks if isinstance(b, Para) for p in b.parts)

    da = open_section({**base, "hls": {"strategy": "distributed_arithmetic"}})
    other = open_section({**base, "hls": {"strategy": "latency"}})
    assert "Same architecture on both sides" in texts(da) and "Same architecture" not in texts(other)
    head = next(b for b in da.blocks if isinstance(b, Table)).headers[-1]
    assert "distributed_arithmetic" in head
    assert "distributed_arithmetic" not in next(b for b in other.blocks if isinstance(b, Table)).headers[-1]
