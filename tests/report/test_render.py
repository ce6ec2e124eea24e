"""Per-design report on synthetic results: every section, every source kind, nothing invented."""

from __future__ import annotations

import base64
import copy
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from _report_data import ESTIMATE, PYNQ_Z2, VENDOR, power_rows

from hwflow.report.doc import CSP
from hwflow.report.extras import collect_extras, read_power_csv
from hwflow.report.render import render_report
from hwflow.report.sections import fits, missing_word, resource_views
from hwflow.report.sources import fmt_num, source_kind
from hwflow.results import empty_results

SECTION_IDS = ("summary", "accuracy", "resources", "latency", "power", "energy", "layers", "provenance")


class _Spans(HTMLParser):
    """Collects (class, text) of every <span>, the cards' classes, <img> srcs and all attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.spans: list[tuple[str, str]] = []
        self.cards: list[tuple[str, str]] = []  # (class, title)
        self.imgs: list[dict[str, str]] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.ids: list[str] = []
        self._card: str | None = None
        self._want_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for k, v in a.items():
            self.attrs.append((tag, k, v))
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "img":
            self.imgs.append(a)
        if tag == "div" and a.get("class", "").startswith("card "):
            self._card = a["class"]
        if tag == "div" and a.get("class") == "t" and self._card:
            self._want_title = True
        self.stack.append(a.get("class", "") if tag == "span" else "")

    def handle_endtag(self, tag: str) -> None:
        if self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self._want_title:
            self.cards.append((self._card or "", data))
            self._want_title = False
            self._card = None
        if self.stack and self.stack[-1] and data.strip():
            self.spans.append((self.stack[-1], data.strip()))


def parse(html: str) -> _Spans:
    p = _Spans()
    p.feed(html)
    return p


def render(
    tmp_path: Path, results: dict[str, Any], work: Path | None = None, board: dict | None = PYNQ_Z2
) -> tuple[str, str, _Spans]:
    out = tmp_path / "report"
    paths = render_report(results, out, workdir=work, board=board)
    html = paths["html"].read_text(encoding="utf-8")
    md = paths["md"].read_text(encoding="utf-8")
    return html, md, parse(html)


# ------------------------------------------------------------------------------ all null


@pytest.mark.parametrize(
    "results",
    [
        empty_results("nothing_mlp", "pynq-z2"),
        {},
        {"design": "partial", "board": "zcu104", "accuracy": None, "resources": {"lut": None}, "provenance": None},
    ],
    ids=["empty_results", "empty_dict", "partial_blocks"],
)
def test_all_null_renders_not_run_everywhere(tmp_path: Path, results: dict[str, Any]) -> None:
    html, md, p = render(tmp_path, results, board=None)
    for sid in SECTION_IDS:
        assert sid in p.ids, f"section {sid} missing"
        assert f'<a id="{sid}"></a>' in md
    assert "not run" in html and "not measured" in html
    # No made-up figure: no number of this design appears styled as a figure of any source.
    for cls, text in p.spans:
        if re.match(r"v k-(measured|vendor|estimate|emulated)\b", cls) and "legend-ex" not in cls:
            pytest.fail(f"a figure was shown although nothing ran: {cls} {text!r}")
    for bad in ("None", "nan", "NaN", "inf"):
        assert not re.search(rf">\s*{bad}\s*<", html), f"{bad!r} shown as a value"
    # Only the reference plots (energy/latency of ANCHORS.md systems) exist; no plot of this design.
    assert not (tmp_path / "report" / "accuracy_chain.png").exists()
    assert not (tmp_path / "report" / "utilization.png").exists()
    assert not (tmp_path / "report" / "power_trace.png").exists()
    # every card says it has no figure
    assert p.cards and all("k-none" in c for c, _ in p.cards), p.cards
    assert not re.search(r"\*≈\d|\*\*\d|\d°", md), "a figure of this design in the Markdown"


def test_all_null_markdown_lists_every_figure_as_not_run(tmp_path: Path) -> None:
    _, md, _ = render(tmp_path, empty_results("d", "b"))
    summary = md.split("## Summary")[1].split("## Accuracy chain")[0]
    for title in ("Accuracy", "Fits on the board", "Latency (hardware)", "Energy per inference", "Efficiency"):
        line = next(ln for ln in summary.splitlines() if ln.startswith(f"| {title} |"))
        assert "_not run_" in line or "_not measured_" in line or "_not known_" in line, line


# ------------------------------------------------------------------------------ full


def test_full_results_every_section_with_figures(tmp_path: Path, full: dict[str, Any], workdir: Path) -> None:
    html, md, p = render(tmp_path, full, workdir)
    for sid in SECTION_IDS:
        assert sid in p.ids
    out = tmp_path / "report"
    for png in ("accuracy_chain.png", "utilization.png", "latency.png", "power_trace.png", "energy.png"):
        assert (out / png).stat().st_size > 5000, png
        assert f"]({png})" in md
    # summary cards carry the strongest source of each figure
    cards = dict((t, c) for c, t in p.cards)
    assert "k-measured" in cards["Accuracy"]
    assert "k-vendor" in cards["Fits on the board"]
    assert "k-vendor" in cards["Latency (hardware)"]
    assert "k-measured" in cards["Energy per inference"]
    text = " ".join(t for _, t in p.spans)
    assert "97.22 %" in text and "8.1 µJ" in text and "90 ns" in text and "yes" in text
    # vendor and estimate side by side in the resources table
    assert ("v k-vendor", "5,231") in p.spans
    assert ("v k-estimate", "≈4,817") in p.spans
    # per-layer: bits, parameters, sparsity, estimates and agreement
    layers = html.split('id="layers"')[1].split('id="provenance"')[0]
    for s in (
        "6 (1 int)",
        "29 (14 int)",
        "u6 (0 int)",
        "2,080",
        "5.22 %",
        "≈4,102 / 2,011 / 9 / 0",
        "99.8 % exact, max |Δ| 0.0039",
    ):
        assert s in layers, s
    # power phases from power.csv, with time-weighted means
    assert "From power.csv (161 samples)" in html
    for ph in ("idle", "warmup", "run", "cooldown"):
        assert f"<td>{ph}</td>" in html
    # baselines and references in the energy comparison
    energy = html.split('id="energy"')[1].split('id="layers"')[0]
    assert "baseline CPU (x86_64), batch 360" in energy and "not measurable here" in energy
    assert "MLPerf Tiny v0.7 open, hls4ml-finn results" in energy and ">reference<" in energy
    # provenance
    prov = html.split('id="provenance"')[1]
    for s in ("0123456789abcdef0123456789abcdef01234567", "vivado_hls", "2019.2", "312 s", "hls4ml"):
        assert s in prov, s
    assert "*≈4,817*" in md and "**8.1 µJ**" in md


def test_estimate_figures_are_never_styled_as_measured(tmp_path: Path) -> None:
    """Only an estimate exists: every resource/latency/energy figure must look like an estimate."""
    r = empty_results("est_only", "pynq-z2")
    r["accuracy"].update({"float": 0.95, "quantized": 0.94})
    r["resources"] = {
        "lut": 61234,
        "ff": 7777,
        "dsp": 333,
        "bram_18k": 3,
        "uram": 0,
        "source": ESTIMATE,
        "error": "±25 %",
    }
    r["utilization"] = {k: r["resources"][k] / PYNQ_Z2["resources"][k] for k in ("lut", "ff", "dsp", "bram_18k")}
    r["latency"] = {"cycles": 17, "ii_cycles": 2, "seconds": 1.7e-7, "source": ESTIMATE}
    r["power"] = {"active_w": 1.61, "idle_w": None, "source": "estimate:board-power"}
    r["energy"] = {
        "uj_per_inference": 0.0277,
        "inferences_per_joule": 3.6e7,
        "accuracy_per_joule": 3.38e7,
        "source": "estimate:board-power",
    }
    r["estimate"] = {
        "resources": dict(r["resources"]),
        "latency_cycles": 17,
        "ii_cycles": 2,
        "source": ESTIMATE,
        "error_label": "±25 %",
        "energy": {"uj_per_inference": 0.0277, "source": "estimate:board-power"},
    }
    html, md, p = render(tmp_path, r)
    for value in ("61,234", "7,777", "333", "170 ns", "27.7 nJ", "36,000,000"):
        styled = [c for c, t in p.spans if t.lstrip("≈") == value]
        assert styled, f"{value} not shown"
        assert all("k-estimate" in c for c in styled), (value, styled)
        assert all(t.startswith("≈") for c, t in p.spans if t.lstrip("≈") == value)
        assert f"*≈{value}" in md
    cards = dict((t, c) for c, t in p.cards)
    # does not fit: 61,234 LUT > 53,200 (and 333 DSP > 220) -- an estimated "NO"
    assert "k-estimate" in cards["Fits on the board"] and ("v k-estimate", "NO") in p.spans
    assert "k-estimate" in cards["Latency (hardware)"] and "k-estimate" in cards["Energy per inference"]
    assert not any("k-measured" in c or "k-vendor" in c for c, _ in p.cards)
    assert "expected error ±25 %" in html


def test_emulated_deployment_is_labelled_emulated(tmp_path: Path, full: dict[str, Any]) -> None:
    r = copy.deepcopy(full)
    r["deploy"].update({"transport": "emulated", "source": "emulated", "sensor": "simulated"})
    r["power"]["source"] = r["energy"]["source"] = "emulated"
    html, _, p = render(tmp_path, r)
    cards = dict((t, c) for c, t in p.cards)
    assert "k-emulated" in cards["Accuracy"] and "k-emulated" in cards["Energy per inference"]
    assert not any("k-measured" in c for c, t in p.spans if t in ("97.22 %", "8.1 µJ"))


def test_html_is_self_contained(tmp_path: Path, full: dict[str, Any], workdir: Path) -> None:
    html, _, p = render(tmp_path, full, workdir)
    assert CSP in html  # no fetch of anything but data: images and the inline style
    assert "<script" not in html.lower() and "<link" not in html.lower() and "@import" not in html
    for tag, attr, val in p.attrs:
        if attr in ("src", "href", "action", "srcset", "poster", "data"):
            assert not re.match(r"\s*(https?:|//|ftp:|file:)", val, re.I), (tag, attr, val[:60])
            if tag == "a":
                assert val.startswith("#"), val
    assert len(p.imgs) == 5
    for img in p.imgs:
        assert img["src"].startswith("data:image/png;base64,")
        raw = base64.b64decode(img["src"].split(",", 1)[1])
        assert raw[:8] == b"\x89PNG\r\n\x1a\n"
        assert img.get("alt")


def test_plots_removed_when_figures_disappear(tmp_path: Path, full: dict[str, Any], workdir: Path) -> None:
    render(tmp_path, full, workdir)
    assert (tmp_path / "report" / "power_trace.png").exists()
    render(tmp_path, empty_results("d", "b"))
    assert not (tmp_path / "report" / "power_trace.png").exists()


def test_report_is_fast(tmp_path: Path, full: dict[str, Any], workdir: Path) -> None:
    render(tmp_path, full, workdir)  # imports (matplotlib) happen once per process
    t0 = time.process_time()
    render(tmp_path, full, workdir)
    cpu = time.process_time() - t0
    assert cpu < 2.5, f"report rendering took {cpu:.2f} s of CPU"


# ------------------------------------------------------------------------------ pieces


def test_missing_word() -> None:
    r = empty_results("d", "b")
    assert missing_word(r, "estimate") == "not run"
    assert missing_word(r, "deploy", measured=True) == "not measured"
    r["provenance"]["steps"] = {"estimate": {"status": "complete"}}
    assert missing_word(r, "estimate") == "not run"  # complete but maybe stale: not claimed current
    r["provenance"]["steps"] = {"estimate": {"status": "complete", "current": True}}
    assert missing_word(r, "estimate") == "not reported"


def test_resource_views_and_fits(full: dict[str, Any]) -> None:
    vendor, est = resource_views(full)
    assert vendor and vendor["source"] == VENDOR and vendor["used"]["lut"] == 5231
    assert est and est["source"] == ESTIMATE and est["used"]["lut"] == 4817
    f = fits(full, PYNQ_Z2["resources"])
    assert f["fits"] is True and f["worst"][0] == "lut"
    r = copy.deepcopy(full)
    r["resources"]["uram"] = 4  # the board has no URAM
    assert fits(r, PYNQ_Z2["resources"])["fits"] is False
    assert fits(empty_results("d", "b"), PYNQ_Z2["resources"])["fits"] is None


def test_source_kinds() -> None:
    assert source_kind("measured:pmbus") == "measured"
    assert source_kind("vendor:vitis_hls-2023.2") == "vendor"
    assert source_kind("estimate:rule4ml") == "estimate"
    assert source_kind("emulated") == "emulated"
    assert source_kind(None) is None and source_kind("") is None
    assert source_kind("guess:whatever") == "estimate"  # unknown origin is never a measurement


def test_fmt_num() -> None:
    assert fmt_num(None) is None and fmt_num(float("nan")) is None and fmt_num(True) is None
    assert fmt_num(53200) == "53,200" and fmt_num(2080.0) == "2,080" and fmt_num(0.1892) == "0.1892"
    assert fmt_num(12345679.0) == "12,350,000" and fmt_num(0) == "0" and fmt_num(1e-5) == "1.000e-05"


def test_power_csv_phases(tmp_path: Path) -> None:
    f = tmp_path / "power.csv"
    f.write_text("t_s,watts,phase\n" + "\n".join(f"{t},{w},{p}" for t, w, p in power_rows()) + "\nbad,row,x\n")
    tr = read_power_csv(f)
    assert tr is not None and len(tr) == 161
    segs = {s["phase"]: s for s in tr.phases()}
    assert list(segs) == ["idle", "warmup", "run", "cooldown"]
    assert segs["run"]["mean_w"] == pytest.approx(1.62, abs=0.005)
    assert segs["idle"]["mean_w"] == pytest.approx(1.55, abs=0.005)
    d = tr.decimated(20)
    assert len(d) <= 24 and max(d.w) == max(tr.w) and min(d.w) == min(tr.w)
    (tmp_path / "empty.csv").write_text("t_s,watts,phase\n")
    assert read_power_csv(tmp_path / "empty.csv") is None
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    assert read_power_csv(tmp_path / "other.csv") is None
    assert read_power_csv(tmp_path / "absent.csv") is None


def test_collect_extras_tolerates_broken_files(tmp_path: Path) -> None:
    wd = tmp_path / "w"
    wd.mkdir()
    (wd / "deploy.json").write_text("{not json")
    (wd / "baseline.json").write_text("[1, 2]")
    (wd / "estimate.json").write_text('{"layers": "nope"}')
    ex = collect_extras(wd)
    assert ex.deploy is None and ex.baselines == [] and ex.estimate_layers == {}
    html_dir = tmp_path / "r"
    render_report(empty_results("d", "b"), html_dir, workdir=wd)
    assert (html_dir / "report.html").exists()


def test_collect_extras_uses_step_json(tmp_path: Path, workdir: Path) -> None:
    """With the flow's step_json, a stale deploy (None) hides power.csv even though the file exists."""
    ex = collect_extras(workdir, step_json=lambda name: None)
    assert ex.power is None and ex.deploy is None and ex.estimate_layers == {}
    assert ex.baselines  # baseline.json is not a step: read as it is
    ex = collect_extras(workdir, step_json=lambda name: {"measurement": {}} if name == "deploy" else None)
    assert ex.power is not None and len(ex.power) == 161
