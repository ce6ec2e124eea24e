"""Every plot has a title, axis labels with units, and no fake bars; anchors match ANCHORS.md."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from _report_data import PYNQ_Z2, full_results, write_workdir

from hwflow.report import plots
from hwflow.report.compare import load_runs, render_comparison
from hwflow.report.extras import load_anchors
from hwflow.report.render import render_report
from hwflow.results import empty_results

UNIT = re.compile(r"\([^()]*(?:%|\bW\b|\bs\b|\bJ\b|1/J|\bcount\b)[^()]*\)")


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record titles/labels of every figure just before it is saved."""
    seen: list[dict[str, Any]] = []
    orig = plots._save

    def spy(fig: Any, out: Path) -> Path:
        axes = [ax for ax in fig.axes if ax.get_visible() and (ax.get_xlabel() or ax.get_ylabel() or ax.get_title())]
        seen.append(
            {
                "file": out.name,
                "suptitle": fig._suptitle.get_text() if fig._suptitle else "",
                "axes": [
                    {
                        "title": ax.get_title(),
                        "x": ax.get_xlabel(),
                        "y": ax.get_ylabel(),
                        "yticks": [t.get_text() for t in ax.get_yticklabels()],
                        "bars": [p.get_width() if hasattr(p, "get_width") else None for p in ax.patches],
                    }
                    for ax in axes
                ],
            }
        )
        return orig(fig, out)

    monkeypatch.setattr(plots, "_save", spy)
    return seen


def test_every_plot_has_title_labels_units(tmp_path: Path, captured: list[dict[str, Any]]) -> None:
    render_report(full_results(), tmp_path / "r", workdir=write_workdir(tmp_path / "w"), board=PYNQ_Z2)
    runs = []
    for n, lut in (("a", 3000), ("b", 5000)):
        r = full_results(n)
        r["resources"]["lut"] = lut
        p = tmp_path / f"{n}.json"
        import json

        p.write_text(json.dumps(r))
        runs.append(str(p))
    render_comparison(load_runs(runs), tmp_path / "c", title="c")
    files = {c["file"] for c in captured}
    assert files == {
        "accuracy_chain.png",
        "utilization.png",
        "latency.png",
        "power_trace.png",
        "energy.png",
        "pareto_accuracy_lut.png",
        "pareto_accuracy_energy.png",
    }
    for c in captured:
        assert c["suptitle"] or any(a["title"] for a in c["axes"]), c["file"]
        for a in c["axes"]:
            assert a["x"], (c["file"], "x label")
            # the value axis of each plot names its unit
            label = (
                a["x"]
                if c["file"] in ("utilization.png", "latency.png", "energy.png") or "pareto" in c["file"]
                else a["y"]
            )
            assert UNIT.search(label), (c["file"], label)


def test_missing_accuracy_stage_has_no_bar(tmp_path: Path, captured: list[dict[str, Any]]) -> None:
    r = empty_results("d", "b")
    r["accuracy"]["float"] = 0.9
    render_report(r, tmp_path / "r")
    acc = next(c for c in captured if c["file"] == "accuracy_chain.png")
    assert len(acc["axes"][0]["bars"]) == 1  # float only; quantized/C-sim/board say "not run"


def test_energy_plot_without_this_design_shows_references_only(tmp_path: Path, captured: list[dict[str, Any]]) -> None:
    render_report(empty_results("d", "b"), tmp_path / "r")
    en = next(c for c in captured if c["file"] == "energy.png")
    n_refs = len(load_anchors()["energy_per_inference"])
    assert len(en["axes"][0]["bars"]) == n_refs  # no bar for "this design": it says "not measured"
    assert "this design (b)" in en["axes"][0]["yticks"]


# ------------------------------------------------------------------------------ anchors

ANCHORS_MD = Path(__file__).resolve().parents[3] / "shared" / "ANCHORS.md"


def test_anchors_have_sources_and_figures() -> None:
    a = load_anchors()
    rows = a["energy_per_inference"]
    assert len(rows) == 9
    for r in rows:
        assert r["source"] and r["system"] and r["uj_per_inference"] > 0
        assert r["accuracy"] is None or 0 < r["accuracy"] <= 1
    assert a["hls4ml_hardware"]["source"].startswith("Fahim et al. 2021")
    assert {r["lut"] for r in a["hls4ml_hardware"]["rows"]} == {89209, 63251}
    assert a["arithmetic_energy_pj"]["source"].startswith("Horowitz")


def test_anchors_transcribed_from_anchors_md() -> None:
    if not ANCHORS_MD.is_file():
        pytest.skip(f"{ANCHORS_MD} not found (the shared folder is not checked out next to the repository)")
    text = ANCHORS_MD.read_text(encoding="utf-8")
    energy_table = text.split("## Energy per inference, measured")[1].split("\n## ")[0]
    md_uj = [float(m.replace(",", "")) for m in re.findall(r"\|\s*([\d,]+(?:\.\d+)?) µJ", energy_table)]
    ours = [r["uj_per_inference"] for r in load_anchors()["energy_per_inference"]]
    assert md_uj == ours
    md_lat = re.findall(r"\|\s*([\d.]+) (µs|ms) \|", energy_table)
    ours_lat = [r["latency_s"] for r in load_anchors()["energy_per_inference"] if r["latency_s"] is not None]
    assert [float(v) * (1e-6 if u == "µs" else 1e-3) for v, u in md_lat] == pytest.approx(ours_lat)
    for r in load_anchors()["hls4ml_hardware"]["rows"]:
        assert f"{r['lut']:,}" in text and f"{r['ff']:,}" in text
