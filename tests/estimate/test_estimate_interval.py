"""The interval's nominal levels: chosen per metric and per tool, each tool on its own designs."""

from __future__ import annotations

import numpy as np

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
