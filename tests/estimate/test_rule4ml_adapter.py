"""rule4ml side by side: the design -> rule4ml-input mapping (pure, no rule4ml needed) and the
bench's answer when HWFLOW_RULE4ML_PYTHON points nowhere."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, mod)
    spec.loader.exec_module(mod)
    return sys.modules[name]


ra = _load("rule4ml_adapter")


def _layer(name, kind, n_in, n_out, op=None, rf=1, strategy="latency", io="io_parallel", wb=None):
    return {"name": name, "kind": kind, "op": op, "n_in": n_in, "n_out": n_out, "reuse_factor": rf,
            "strategy": strategy, "io_type": io, "weight_bits": wb}


def _payload(**kw):
    p = {"name": "d1", "repo": "a/b", "part": "xc7z020clg400-1", "tool": "vivado_hls",
         "tool_version": "2019.2", "mul_impl": "auto",
         "layers": [_layer("fc1", "dense", 16, 64, wb=16), _layer("relu1", "activation", 64, 64, op="relu"),
                    _layer("fc2", "dense", 64, 5, wb=16), _layer("lin", "activation", 5, 5, op="linear"),
                    _layer("sm", "softmax", 5, 5, op="softmax")]}
    p.update(kw)
    return p


def test_mapping_of_a_plain_mlp():
    r = ra.to_rule4ml(_payload())
    assert r["ok"], r
    q = r["request"]
    assert q["n_in"] == 16
    assert [(x["type"], x.get("units"), x.get("activation")) for x in q["layers"]] == [
        ("Dense", 64, None), ("Activation", None, "relu"), ("Dense", 5, None), ("Activation", None, "softmax")]
    assert q["hls_config"] == {"board": "pynq-z2", "model": {"strategy": "latency",
                                                            "precision": "ap_fixed<16,6>", "reuse_factor": 1}}
    assert q["tool_version"] == "2019.2" and q["hls4ml_version"] == "0.8.1"
    assert r["notes"] == ["board pynq-z2: same device"]


def test_mapping_reuse_precision_versions_and_boards():
    layers = [_layer("fc1", "dense", 8, 4, rf=4, wb=6), _layer("bn", "batchnorm", 4, 4),
              _layer("fc2", "dense", 4, 2, rf=2, wb=9)]
    r = ra.to_rule4ml(_payload(layers=layers, part="xcvu9p-flga2104-2L-e", tool="vitis_hls",
                               tool_version="2025.1", clock_ns=5.0))
    assert r["ok"], r
    q = r["request"]
    assert [x["type"] for x in q["layers"]] == ["Dense", "BatchNormalization", "Dense"]
    assert q["hls_config"]["board"] == "alveo-u200"
    assert q["hls_config"]["model"]["precision"] == "ap_fixed<9,6>"  # the widest dense weight width
    assert q["hls_config"]["layer_name"] == {"dense_0": {"reuse_factor": 4}, "dense_2": {"reuse_factor": 2}}
    assert q["tool_version"] == "2024.2" and q["hls4ml_version"] == "1.1.0"
    assert any("2025.1 unknown to rule4ml" in n for n in r["notes"])
    assert any("[6, 9]" in n for n in r["notes"])
    assert "clock 5 ns; rule4ml's data are at 10 ns" in r["notes"]
    assert ra.board_for_part("xczu7ev-ffvc1156-2-e")[0] == "zcu102"
    assert ra.board_for_part("xcu250-figd2104-2L-e") == ("alveo-u250", "same device")
    assert ra._tool_version("2019.2.1") == ("2019.2", True)
    assert ra._tool_version("2016.4") == ("2019.1", False)


@pytest.mark.parametrize("change, reason", [
    ({"part": "xc7vx690tffg1927-2"}, "has no rule4ml board"),
    ({"part": None}, "no FPGA part"),
    ({"mul_impl": "fabric"}, "forced to fabric"),
    ({"layers": [_layer("fc", "dense", 4, 4, io="io_stream", wb=8)]}, "io_stream"),
    ({"layers": [_layer("c", "conv2d", 4, 4, wb=8), _layer("fc", "dense", 4, 4, wb=8)]}, "c (conv2d)"),
    ({"layers": [_layer("fc", "dense", 4, 4, wb=8), _layer("a", "activation", 4, 4, op="leaky_relu")]},
     "'leaky_relu'"),
    ({"layers": [_layer("fc", "dense", 4, 4, wb=8), _layer("g", "dense", 4, 4, strategy="resource", wb=8)]},
     "mixed strategies"),
    ({"layers": [_layer("fc", "dense", 4, 4)]}, "precision unknown"),
    ({"layers": []}, "no layers"),
])
def test_designs_rule4ml_cannot_take_are_skipped_with_a_reason(change, reason):
    r = ra.to_rule4ml(_payload(**change))
    assert not r["ok"] and reason in r["reason"]


def test_design_payload_reads_a_calibration_design():
    from hwflow.estimate.dataset import load_table

    d = next(d for d in load_table() if any(l.kind == "dense" for l in d.layers))
    p = ra.design_payload(d)
    assert p["name"] == d.folder and len(p["layers"]) == len(d.layers)
    assert p["clock_ns"] == d.clock_ns
    assert {"kind", "n_in", "n_out", "reuse_factor", "strategy", "io_type", "weight_bits"} <= set(p["layers"][0])


def test_run_rule4ml_names_a_missing_interpreter(tmp_path):
    with pytest.raises(RuntimeError, match="no such interpreter"):
        ra.run_rule4ml(str(tmp_path / "nowhere" / "python"), [])


def test_run_rule4ml_reports_an_interpreter_without_rule4ml():
    # hwflow's own interpreter has no rule4ml: the adapter must fail with a readable message
    with pytest.raises(RuntimeError, match="exited 3: rule4ml is not installed in "):
        ra.run_rule4ml(sys.executable, [ra.to_rule4ml(_payload())["request"]], timeout=60)


def test_bench_says_clearly_when_the_env_var_points_nowhere(tmp_path, monkeypatch, capsys):
    est = _load("estimator")
    monkeypatch.setenv("HWFLOW_RULE4ML_PYTHON", str(tmp_path / "no-venv" / "bin" / "python"))
    rc = est.main([])
    err = capsys.readouterr().err
    assert rc == 3
    assert "HWFLOW_RULE4ML_PYTHON=" in err and "is not an interpreter" in err and "docs/estimator.md" in err
