"""Fast emulator == batched C-sim == hls4ml predict, and C-sim == QKeras, on the shipped shapes."""

from __future__ import annotations

import os

import numpy as np
import pytest
from emu_cases import SPECS

from hwflow.emu.csim import CSim, cache_root
from hwflow.emu.fast import FastEmulator, Unsupported
from hwflow.emu.precision import compare, format_layer_table

CASES = sorted(SPECS)


@pytest.fixture(scope="session")
def csim_of(build_case, csim_cache):
    sims: dict[str, CSim] = {}

    def get(name: str) -> CSim:
        if name not in sims:
            sims[name] = CSim(build_case(name).project, cache_dir=csim_cache)
        return sims[name]

    return get


@pytest.fixture(scope="session")
def outputs(build_case, csim_of):
    """(fast outputs, fast per-layer outputs, C-sim outputs) per case, computed once."""
    memo: dict[str, tuple] = {}

    def get(name: str):
        if name not in memo:
            case = build_case(name)
            fast = FastEmulator.from_hls_model(case.hls)
            assert fast.supported, fast.reason
            y_fast, layers = fast.predict_layers(case.x)
            memo[name] = (fast, y_fast, layers, csim_of(name).predict(case.x))
        return memo[name]

    return get


@pytest.mark.parametrize("name", CASES)
def test_fast_emulator_equals_csim_on_every_sample(name, outputs, build_case) -> None:
    fast, y_fast, layers, y_csim = outputs(name)
    assert y_fast.shape == y_csim.shape
    assert np.array_equal(y_fast, y_csim), f"{np.sum(np.any(y_fast != y_csim, axis=1))} samples differ"
    x = build_case(name).x
    # the fused fast path, other chunkings and thread counts give the same bits
    assert np.array_equal(fast.predict(x, chunk=97, threads=2), y_csim)
    assert np.array_equal(fast.predict(x, threads=1), y_csim)
    # the last layer output reported by predict_layers is the final output
    assert np.array_equal(list(layers.values())[-1].reshape(len(x), -1), y_csim)


@pytest.mark.parametrize("name", CASES)
def test_csim_matches_qkeras_bit_for_bit(name, outputs, build_case) -> None:
    case = build_case(name)
    _, _, layers, y_csim = outputs(name)
    r = compare(case.keras, case.x, y_csim, hls_model=case.hls, hls_layer_outputs=layers)
    table = format_layer_table(r)
    assert r["samples"] == len(case.x)
    assert r["layers"], table
    if name == "batchnorm":
        # float BN parameters cannot be exact; the BN output is within 2**-18 of Keras' and
        # the following quantizer rounds the same way on (almost) every sample
        assert r["first_divergent_layer"] in (None, "bn1"), table
        bn = next(row for row in r["layers"] if row["hls_layer"] == "bn1")
        assert bn["max_abs_diff"] < 1e-4, table
        assert r["exact_fraction"] >= 0.999, table
        return
    assert r["first_divergent_layer"] is None, table
    for row in r["layers"]:
        if not row["table_based"]:
            assert row["exact_fraction"] == 1.0, table
    if r["output_table_based"]:  # softmax: a lookup table, approximate by construction
        assert r["exact_fraction_before_tables"] == 1.0, table
        assert r["argmax_agreement"] >= 0.98, table
        assert r["max_abs_diff"] < 0.05, table
    else:
        assert r["exact_fraction"] == 1.0, table
        assert r["max_abs_diff"] == 0.0


@pytest.mark.parametrize("name", ["mlp", "cnn_stream",
                                  pytest.param("resource_rf4", marks=pytest.mark.slow)])
def test_batched_csim_equals_hls4ml_predict(name, compiled_case, csim_of) -> None:
    case = compiled_case(name)
    x = case.x[:400]
    y_batched = csim_of(name).predict(x)
    y_hls = np.asarray(case.hls.predict(np.ascontiguousarray(x, dtype=np.float64))).reshape(len(x), -1)
    assert np.array_equal(y_batched, y_hls)
    # float32 inputs (hls4ml's <project>_float wrapper) hold the same values
    y_hls32 = np.asarray(case.hls.predict(np.ascontiguousarray(x, dtype=np.float32))).reshape(len(x), -1)
    assert np.array_equal(y_batched, y_hls32.astype(np.float64))


def test_thread_safety_is_read_from_the_library(csim_of) -> None:
    mlp = csim_of("mlp")
    assert mlp.thread_safety.safe, mlp.thread_safety.reason()
    assert mlp.threads == len(os.sched_getaffinity(0))
    assert "loaded_weights" in mlp.thread_safety.init_once
    stream = csim_of("cnn_stream")  # io_stream conv/pool keep line buffers in statics
    assert not stream.thread_safety.safe
    assert stream.threads == 1
    assert "line_buffer" in stream.thread_safety.mutable


def test_threads_do_not_change_results(csim_of, build_case) -> None:
    sim, x = csim_of("jet"), build_case("jet").x
    assert np.array_equal(sim.predict(x, threads=1), sim.predict(x, threads=2))


def test_csim_library_is_cached_and_placed_atomically(build_case, csim_cache, csim_of) -> None:
    first = csim_of("jet")
    again = CSim(build_case("jet").project, cache_dir=csim_cache)
    assert again.cache_hit and again.lib_path == first.lib_path
    leftovers = [p for p in csim_cache.iterdir() if p.is_dir() or p.name.endswith(".tmp")]
    assert leftovers == []
    assert first.lib_path.with_suffix(".json").is_file() and first.lib_path.with_suffix(".log").is_file()


def test_cache_root_honours_env(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HWFLOW_CACHE", str(tmp_path))
    assert cache_root() == tmp_path / "csim"
    monkeypatch.delenv("HWFLOW_CACHE")
    assert cache_root().parts[-3:] == (".cache", "hwflow", "csim")


def test_emulate_picks_fast_and_verifies_it(build_case, csim_cache) -> None:
    from hwflow.emu.run import emulate

    case = build_case("mlp")
    res = emulate(case.hls, case.x, verify_samples=500, cache_dir=csim_cache, keep_layers=True)
    assert res.path == "fast" and res.fast_matches_csim is True and res.verified_samples == 500
    assert res.layer_outputs and "softmax" in res.layer_outputs
    assert res.summary()["samples"] == len(case.x)
    res_c = emulate(case.hls, case.x[:300], prefer="csim", cache_dir=csim_cache)
    assert res_c.path == "csim" and np.array_equal(res_c.y, res.y[:300])


# --------------------------------------------------------------------- beyond the exact set
def _convert(model, tmp_path, cfg_patch=None, io_type="io_parallel"):
    import hls4ml

    from hwflow.hlsconfig import converter_kwargs, hls_config_for

    cfg, kw = converter_kwargs(hls_config_for(model, io_type=io_type))
    if cfg_patch:
        cfg_patch(cfg)
    return hls4ml.converters.convert_from_keras_model(model, hls_config=cfg, output_dir=str(tmp_path),
                                                      backend="Vivado", **kw)


def test_unsupported_layer_reports_reason(tmp_path) -> None:
    import tensorflow as tf
    from qkeras import QActivation, QDense, quantized_bits

    inp = tf.keras.Input((8,), name="inp")
    x = QActivation(quantized_bits(8, 1, alpha=1), name="inq")(inp)
    x = QDense(4, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1),
               name="fc")(x)
    x = tf.keras.layers.Activation("softplus", name="soft")(x)
    fast = FastEmulator.from_hls_model(_convert(tf.keras.Model(inp, x), tmp_path))
    assert not fast.supported and "softplus" in fast.reason
    assert fast.unsupported_layer == ("soft", "Activation")
    with pytest.raises(Unsupported):
        fast.predict(np.zeros((2, 8), dtype=np.float32))
    from hwflow.emu.run import fallback_line

    line = fallback_line(fast, 360)
    assert "'soft' (Activation)" in line and "360 samples run on the batched C-sim" in line
    assert "\n" not in line


def test_saturating_accumulator_that_may_overflow_is_refused(tmp_path) -> None:
    from hwflow.emu import examples

    model = examples.mlp([16, 8, 4], output="linear")

    def narrow(cfg):
        cfg["LayerName"]["fc1"]["Precision"]["accum"] = "fixed<10,3,RND,SAT>"

    fast = FastEmulator.from_hls_model(_convert(model, tmp_path, narrow))
    assert not fast.supported and "saturating accumulator" in fast.reason


def test_narrow_wrapping_accumulator_rounds_every_product(tmp_path, csim_cache) -> None:
    """accum_t with fewer fractional bits than a product: each product is truncated before it
    is added, and the sum wraps around - reproduced exactly (per-product path)."""
    from hwflow.emu import examples

    model = examples.mlp([16, 8, 4], output="linear", input_bits=(10, 3))

    def narrow(cfg):
        cfg["LayerName"]["fc1"]["Precision"]["accum"] = "fixed<12,4>"
        cfg["LayerName"]["fc1"]["Precision"]["result"] = "fixed<10,3>"

    hls_model = _convert(model, tmp_path, narrow)
    hls_model.write()
    fast = FastEmulator.from_hls_model(hls_model)
    assert fast.supported, fast.reason
    info = fast.describe()["layers"][0]
    assert info["per_product_rounding"] and info["accum_may_wrap"]
    x = examples.inputs_for(model, 3000, seed=3, scale=4.0)
    assert np.array_equal(fast.predict(x), CSim(tmp_path, cache_dir=csim_cache).predict(x))


@pytest.mark.slow
def test_compare_finds_first_divergent_layer_with_hls4ml_trace(compiled_case, csim_of) -> None:
    case = compiled_case("batchnorm")
    y = csim_of("batchnorm").predict(case.x)
    r = compare(case.keras, case.x, y, hls_model=case.hls, trace_samples=300, per_layer=True)
    assert r["layer_source"] == "hls4ml-trace" and r["layer_samples"] == 300
    assert r["first_divergent_layer"] == "bn1"
    assert [row["hls_layer"] for row in r["layers"]][:2] == ["fc1", "bn1"]
