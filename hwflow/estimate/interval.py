"""80 % prediction intervals: split-conformal on repository-held-out residuals, in log space.

Calibration (``bench/estimator.py --fit``): every design of the calibration table is
predicted by a model fitted without its repository (leave-one-repository-out), and
the log ratio ``r = log((truth + f) / (pred + f))`` (``f`` = the metric's floor, so
zero truths count) is collected. Its lower and upper percentiles - every design
counting once, with the finite-sample correction of split-conformal prediction -
give the interval ``[(pred + f) e^q_lo - f, (pred + f) e^q_hi - f]``. Designs of one
repository err together, so the 10th/90th percentiles pooled over designs cover fewer
than 80 % of an unseen repository's designs: the nominal level is raised per metric and
quantile group (0.80 ... 0.95, :func:`choose_levels`) until, leaving each repository out in
turn, 80 % of the group's designs are covered.
Percentiles (and their levels) are kept per group of designs (Mondrian conformal prediction):
designs whose weight values were read and designs estimated without them (every product taken as
a full constant multiplication) - leaving repositories out, the log residuals of the second
spread 2-4x wider (LUT 10th-90th percentile 2.5 against 0.7) - where the group has enough
designs, else for all designs. (Per HLS tool, the grouping of earlier releases, gave a median
hi/lo of 3.2 for LUT and 3.3 for FF at the same coverage; by weights 2.2 and 2.2.)

A design outside the calibration data (layer types, precision range, tool, part family
never seen) gets a wider interval - each reason widens the log half-widths by
:data:`WIDEN_PER_REASON` - and the reasons are returned in ``out_of_domain``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .layerspec import LayerSpec

LEVEL = 0.80
#: Log-space floors (the metric's unit): a design with 0 DSPs still has a finite ratio.
FLOOR = {"lut": 100.0, "ff": 100.0, "dsp": 2.0, "bram_18k": 1.0, "latency": 2.0, "ii": 1.0}
#: Metric names of the contract's ``interval_80`` block.
CONTRACT_KEY = {"lut": "lut", "ff": "ff", "dsp": "dsp", "bram_18k": "bram_18k",
                "latency": "latency_cycles", "ii": "ii_cycles"}
#: Each out-of-domain reason multiplies the interval's log half-widths by (1 + this).
WIDEN_PER_REASON = 0.5
#: Fewest designs of one group for a group-specific interval.
MIN_GROUP = 8
#: The interval groups: weight values read for every weighted layer, or not.
WEIGHTS_KNOWN, WEIGHTS_UNKNOWN = "weights_known", "weights_unknown"


def weighted_layers(layers: Sequence[LayerSpec]) -> list[LayerSpec]:
    """The layers whose weight values the estimate uses (recurrent cells and distributed-arithmetic
    kernels are costed without them by design)."""
    return [layer for layer in layers if layer.has_weights and layer.kind not in ("rnn", "dense_da")]


def weights_unread(layers: Sequence[LayerSpec]) -> list[str]:
    """Names of the :func:`weighted_layers` estimated without their weight values."""
    return [layer.name for layer in weighted_layers(layers) if layer.w_other is None]


def interval_group(layers: Sequence[LayerSpec]) -> str:
    """The quantile group of a design: :data:`WEIGHTS_UNKNOWN` when a weighted layer's values
    were not read, else :data:`WEIGHTS_KNOWN`."""
    return WEIGHTS_UNKNOWN if weights_unread(layers) else WEIGHTS_KNOWN


def log_residuals(pred: np.ndarray, truth: np.ndarray, metric: str) -> np.ndarray:
    f = FLOOR[metric]
    return np.log((np.maximum(truth, 0.0) + f) / (np.maximum(pred, 0.0) + f))


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Quantile of ``values`` with ``weights``, finite-sample corrected (split-conformal)."""
    order = np.argsort(values)
    v, w = values[order], weights[order]
    n = len(v)
    # split-conformal: the ceil((n+1) q)/n empirical quantile (upper side), mirrored below
    q_adj = min(1.0, math.ceil((n + 1) * q) / n) if q >= 0.5 else max(0.0, math.floor((n + 1) * q) / n)
    cw = np.cumsum(w) / np.sum(w)
    idx = int(np.searchsorted(cw, q_adj - 1e-12))
    return float(v[min(max(idx, 0), n - 1)])


def conformal_quantiles(residuals: dict[str, np.ndarray], repos: Sequence[str], keys: Sequence[str],
                        levels: dict[str, float] | None = None) -> dict[str, Any]:
    """``{group: {metric: [q_lo, q_hi], "n": n}}`` for group "all" and each well-populated group
    of ``keys`` (one per design, :func:`interval_group`), at the nominal ``levels`` per metric
    (default :data:`LEVEL`)."""
    repos = list(repos)
    out: dict[str, Any] = {}
    groups = {"all": np.ones(len(repos), bool)}
    for t in sorted(set(keys)):
        mask = np.array([x == t for x in keys])
        if mask.sum() >= MIN_GROUP:
            groups[t] = mask
    for g, mask in groups.items():
        w = np.ones(int(mask.sum()))
        entry: dict[str, Any] = {"n": int(mask.sum()), "n_repositories": len({r for r, m in zip(repos, mask) if m})}
        for m, r in residuals.items():
            level = _level((levels or {}).get(m, LEVEL), g)
            lo_q, hi_q = (1.0 - level) / 2.0, 1.0 - (1.0 - level) / 2.0
            lo = min(0.0, weighted_quantile(r[mask], w, lo_q))
            hi = max(0.0, weighted_quantile(r[mask], w, hi_q))
            entry[m] = [round(lo, 4), round(hi, 4)]
        out[g] = entry
    return out


#: Nominal levels tried so that the interval covers LEVEL of the designs of *unseen repositories*.
LEVEL_GRID = (0.80, 0.825, 0.85, 0.875, 0.90, 0.925, 0.95)


def _level(level: float | dict[str, float], group: str) -> float:
    """A metric's nominal level for one quantile group (one level for all, or one per group)."""
    if isinstance(level, dict):
        return float(level.get(group, level.get("all", LEVEL)))
    return float(level)


def _groups(keys: Sequence[str]) -> list[str]:
    """The quantile group each design is judged with: its own where that has enough designs."""
    counts = {t: list(keys).count(t) for t in set(keys)}
    return [t if counts[t] >= MIN_GROUP else "all" for t in keys]


def _covered(q: dict[str, Any], key: str, metric: str, r: float) -> bool:
    qq = q.get(key) or q["all"]
    return qq[metric][0] - 1e-9 <= r <= qq[metric][1] + 1e-9


def choose_levels(residuals: dict[str, np.ndarray], repos: Sequence[str], keys: Sequence[str],
                  target: float = LEVEL) -> dict[str, dict[str, float]]:
    """Per metric and quantile group (each well-populated group, and "all"), the smallest nominal
    level whose interval, calibrated without a repository, covers at least ``target`` of that
    repository's designs of the group (averaged over all of them).

    Designs of one repository err together (same author, tool version, coding style), so
    quantiles pooled over designs under-cover a repository never seen; this second calibration
    step - itself leave-one-repository-out - widens the interval just enough. Each group is
    judged on its own designs: one group's under-coverage must not widen the other's interval
    (a single level per metric once let the Vitis HLS LUT residuals raise the Vivado HLS level
    into that tool's far tail, when the groups were tools)."""
    repos, keys = list(repos), list(keys)
    groups = _groups(keys)
    out: dict[str, dict[str, float]] = {}
    for m, r in residuals.items():
        out[m] = {}
        for g in ["all"] + sorted(set(groups) - {"all"}):
            members = [i for i in range(len(repos)) if g == "all" or groups[i] == g]
            chosen = LEVEL_GRID[-1]
            for level in LEVEL_GRID:
                hits = []
                for repo in sorted({repos[i] for i in members}):
                    train = [i for i, x in enumerate(repos) if x != repo]
                    q = conformal_quantiles({m: r[train]}, [repos[i] for i in train], [keys[i] for i in train],
                                            {m: {g: level, "all": level}})
                    hits += [_covered(q, keys[i], m, float(r[i])) for i in members if repos[i] == repo]
                if hits and float(np.mean(hits)) >= target:
                    chosen = level
                    break
            out[m][g] = chosen
    return out


def interval(pred: float, metric: str, q: Sequence[float], widen: float = 1.0) -> list[float]:
    f = FLOOR[metric]
    base = max(0.0, pred) + f
    lo = max(0.0, base * math.exp(q[0] * widen) - f)
    hi = max(lo, base * math.exp(q[1] * widen) - f)
    return [lo, hi]


def quantiles_for(calib: dict[str, Any], group: str, tool: str | None = None) -> dict[str, Any] | None:
    """A design's quantiles: its group's, else (a calibration of an earlier release, grouped by
    HLS tool) its tool's, else those of all designs."""
    conf = calib.get("conformal") or {}
    q = conf.get(group) or (conf.get(tool) if tool else None) or conf.get("all")
    return q if isinstance(q, dict) else None


def out_of_domain(layers: Sequence[LayerSpec], ctx: Any, calib: dict[str, Any]) -> list[str]:
    """Reasons why a design lies outside the calibration data (empty when inside)."""
    dom = calib.get("domain") or {}
    if not dom:
        return ["calibration without a recorded domain"]
    reasons = []
    kinds = sorted({layer.kind for layer in layers if layer.is_known} - set(dom.get("layer_kinds") or []))
    if kinds:
        reasons.append("layer types not in the calibration data: " + ", ".join(kinds))
    wb = dom.get("weight_bits")
    bits = [int(layer.weight_bits) for layer in layers if layer.has_weights and layer.weight_bits]
    if wb and bits and (min(bits) < wb[0] or max(bits) > wb[1]):
        reasons.append(f"weight precision {min(bits)}-{max(bits)} bits outside the calibrated "
                       f"{wb[0]}-{wb[1]} bits")
    ab = dom.get("data_bits")  # (absent from calibrations made before it was recorded)
    abits = [int(layer.input_bits) for layer in layers if layer.has_weights and layer.input_bits]
    if ab and abits and (min(abits) < ab[0] or max(abits) > ab[1]):
        reasons.append(f"data precision {min(abits)}-{max(abits)} bits into weighted layers outside the "
                       f"calibrated {ab[0]}-{ab[1]} bits")
    if ctx.tool not in (dom.get("tools") or []):
        reasons.append(f"HLS tool {ctx.tool} not in the calibration data")
    if ctx.family.name not in (dom.get("families") or []):
        reasons.append(f"part family {ctx.family.name} not in the calibration data")
    return reasons


def intervals(pred: dict[str, float], ctx: Any, calib: dict[str, Any], n_reasons: int,
              group: str = WEIGHTS_KNOWN) -> dict[str, Any] | None:
    """``interval_80`` of one prediction (contract keys) from the quantiles of its ``group``,
    widened for ``n_reasons`` out-of-domain reasons; None without conformal data."""
    q = quantiles_for(calib, group, ctx.tool)
    if not q:
        return None
    widen = 1.0 + WIDEN_PER_REASON * n_reasons
    out = {}
    for m, key in CONTRACT_KEY.items():
        if m in q and pred.get(m) is not None:
            lo, hi = interval(float(pred[m]), m, q[m], widen)
            if m == "ii":  # a new input every cycle at best
                lo, hi = max(1.0, lo), max(1.0, hi)
            out[key] = [round(lo), round(hi)] if m != "bram_18k" else [round(lo, 1), round(hi, 1)]
    return out


def fit_verdict(interval_by_res: dict[str, list[float]], available: dict[str, float]) -> dict[str, Any]:
    """fits / may not fit / does not fit, from the interval against a board's resources."""
    worst, notes = "fits", []
    for k, (lo, hi) in interval_by_res.items():
        cap = available.get(k)
        if not cap:
            continue
        if lo > cap:
            worst = "does not fit"
            notes.append(f"{k}: even the low end {lo:,.0f} exceeds {cap:,.0f}")
        elif hi > cap and worst != "does not fit":
            worst = "may not fit"
            notes.append(f"{k}: the high end {hi:,.0f} exceeds {cap:,.0f}")
    return {"verdict": worst, "basis": f"{int(LEVEL * 100)} % prediction interval", "notes": notes}
