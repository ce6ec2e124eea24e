"""The interval's quantile groups (weight values read or not) and nominal levels: chosen per metric
and per group, each group on its own designs (the synthetic pools below use two tools as groups)."""

from __future__ import annotations

import numpy as np
import pytest

from hwflow.estimate.interval import LEVEL_GRID, choose_levels, conformal_quantiles


def _pool(vitis_scale: float):
    """12 Vivado HLS repositories and 6 Vitis HLS ones, three designs each, residuals that err
    together per repository (a repository offset plus a small spread)."""
    rng = np.random.default_rng(7)
    repos, tools, res = [], [], []
    for k in range(18):
        tool = "vivado_hls" if k < 12 else "vitis_hls"
        offset = rng.normal(0, 0.3) * (vitis_scale if tool == "vitis_hls" else 1.0)
        for j in range(3):
            repos.append(f"{tool}/repo{k}")
            tools.append(tool)
            res.append(offset + rng.normal(0, 0.1))
    return {"lut": np.array(res)}, repos, tools


def _heldout_coverage(res, repos, tools, levels, group):
    hits = []
    for repo in sorted(set(repos)):
        train = [i for i, r in enumerate(repos) if r != repo]
        q = conformal_quantiles({"lut": res["lut"][train]}, [repos[i] for i in train],
                                [tools[i] for i in train], levels)
        for i, r in enumerate(repos):
            if r == repo and tools[i] == group:
                lo, hi = (q.get(tools[i]) or q["all"])["lut"]
                hits.append(lo - 1e-9 <= res["lut"][i] <= hi + 1e-9)
    return float(np.mean(hits))


def test_each_tool_gets_the_level_its_own_unseen_repositories_need():
    res, repos, tools = _pool(vitis_scale=1.0)
    levels = choose_levels(res, repos, tools)
    assert set(levels["lut"]) == {"all", "vivado_hls", "vitis_hls"}
    for tool in ("vivado_hls", "vitis_hls"):
        level = levels["lut"][tool]
        assert level in LEVEL_GRID
        got = _heldout_coverage(res, repos, tools, levels, tool)
        assert got >= 0.8 or level == LEVEL_GRID[-1], (tool, level, got)


def test_one_tools_scattered_residuals_do_not_widen_the_other_tools_interval():
    calm, repos, tools = _pool(vitis_scale=1.0)
    wild, _, _ = _pool(vitis_scale=4.0)
    viv = [i for i, t in enumerate(tools) if t == "vivado_hls"]
    assert np.allclose(calm["lut"][viv], wild["lut"][viv])  # only the Vitis HLS residuals differ
    lv_calm, lv_wild = choose_levels(calm, repos, tools), choose_levels(wild, repos, tools)
    assert lv_calm["lut"]["vivado_hls"] == lv_wild["lut"]["vivado_hls"]
    q_calm = conformal_quantiles(calm, repos, tools, lv_calm)
    q_wild = conformal_quantiles(wild, repos, tools, lv_wild)
    assert q_calm["vivado_hls"]["lut"] == q_wild["vivado_hls"]["lut"]
    # while the scattered tool's own interval widens
    width = {k: q["vitis_hls"]["lut"][1] - q["vitis_hls"]["lut"][0] for k, q in (("calm", q_calm), ("wild", q_wild))}
    assert width["wild"] > 2 * width["calm"]


def test_a_design_without_weight_values_gets_the_interval_of_its_group(tmp_path):
    import sys
    from pathlib import Path

    from hwflow.estimate import LayerSpec, estimate_project, load_calibration
    from hwflow.estimate.interval import WEIGHTS_KNOWN, WEIGHTS_UNKNOWN, interval, interval_group, weights_unread

    sys.path.insert(0, str(Path(__file__).parent))
    from test_estimate_project import _write_project

    def dense(**w):
        return LayerSpec(name="fc", kind="dense", func="nnet::dense", n_in=4, n_out=2, io_type="io_parallel",
                         weight_bits=8, input_bits=8, n_weights=8, **w)

    relu = LayerSpec(name="r", kind="activation", op="relu", n_in=2, n_out=2, io_type="io_parallel")
    assert interval_group([dense(w_zero=1, w_pow2=2, w_other=5, w_two=1), relu]) == WEIGHTS_KNOWN
    assert interval_group([dense(), relu]) == WEIGHTS_UNKNOWN and weights_unread([dense(), relu]) == ["fc"]
    assert interval_group([relu]) == WEIGHTS_KNOWN  # nothing to read

    # the shipped calibration: quantiles per group, the one without weight values wider (its
    # held-out residuals spread 2-4x wider)
    conf = load_calibration()["conformal"]
    for m in ("lut", "ff"):
        known, unknown = conf[WEIGHTS_KNOWN][m], conf[WEIGHTS_UNKNOWN][m]
        assert unknown[1] - unknown[0] > known[1] - known[0], m

    # a project without weight files: said once, and its interval is its group's - not widened again
    _write_project(tmp_path / "blind")
    blind = estimate_project(tmp_path / "blind")
    notes = [r for r in blind["out_of_domain"] if "no weight values" in r]
    assert len(notes) == 1 and "fc1" in notes[0] and any("no weight values" in w for w in blind["warnings"])
    others = len(blind["out_of_domain"]) - 1
    lo, hi = interval(blind["resources"]["lut"], "lut", conf[WEIGHTS_UNKNOWN]["lut"], 1.0 + 0.5 * others)
    assert blind["interval_80"]["lut"] == pytest.approx([lo, hi], rel=1e-3)
    # with its weight values the same design gets the narrower interval of the designs whose weights are read
    n = 16 * 64
    _write_project(tmp_path / "seen", weights=", ".join("0.5" if i % 3 else "0.3" for i in range(n)))
    seen = estimate_project(tmp_path / "seen")
    assert not any("no weight values" in r for r in seen["out_of_domain"])
    (blo, bhi), (slo, shi) = blind["interval_80"]["lut"], seen["interval_80"]["lut"]
    assert bhi / max(blo, 1) > shi / max(slo, 1)
