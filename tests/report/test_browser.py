"""The reports opened in a real browser (headless Chromium over the DevTools protocol).

Checks what a reader would hit: console errors, JavaScript exceptions, blocked or failed
loads (the page's CSP turns any external fetch into one), images that do not decode, and
requests to anything but the file itself and data: URIs. A full-page screenshot is saved
into the test's tmp dir (and to $HWFLOW_SCREENSHOT_DIR when set) for a person to look at.

Skips, saying why, only when no Chromium is installed (.ci/install-chromium.sh installs it).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from _chromium import PageCheck, check_page, find_chromium
from _report_data import PYNQ_Z2, full_results, write_workdir

from hwflow.report.compare import load_runs, render_comparison
from hwflow.report.render import render_report
from hwflow.results import empty_results

pytestmark = pytest.mark.skipif(
    find_chromium() is None,
    reason="headless Chromium not installed (run .ci/install-chromium.sh, or apt-get install -y chromium; "
    "HWFLOW_CHROMIUM=/path/to/chrome to use another)",
)


def _check(html: Path, shot: Path) -> PageCheck:
    res = check_page(html, shot)
    keep = os.environ.get("HWFLOW_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
    return res


def _assert_clean(res: PageCheck, n_images: int, html: Path) -> None:
    assert res.errors == [], res.errors
    assert len(res.images) == n_images, res.images
    for img in res.images:
        assert img["complete"] and img["naturalWidth"] > 0 and img["naturalHeight"] > 0, img
    own = html.resolve().as_uri()
    for url in res.requests:
        assert url == own or url.startswith("data:image/png;base64,"), f"unexpected request {url[:80]}"
    assert res.text_len > 500
    assert res.screenshot is not None and res.screenshot.stat().st_size > 20000
    assert res.screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_full_report_in_browser(tmp_path: Path) -> None:
    out = tmp_path / "report"
    render_report(full_results(), out, workdir=write_workdir(tmp_path / "work"), board=PYNQ_Z2)
    res = _check(out / "report.html", tmp_path / "report_full.png")
    _assert_clean(res, 5, out / "report.html")
    assert res.title == "demo_mlp on pynq-z2"


def test_empty_report_in_browser(tmp_path: Path) -> None:
    out = tmp_path / "report"
    render_report(empty_results("nothing_mlp", "pynq-z2"), out)
    res = _check(out / "report.html", tmp_path / "report_empty.png")
    _assert_clean(res, 2, out / "report.html")  # the reference latency and energy plots only


def test_compare_report_in_browser(tmp_path: Path) -> None:
    paths: list[str] = []
    for name, acc, lut in (("a", 0.95, 3000), ("b", 0.97, 5000)):
        r: dict[str, Any] = full_results(name, "pynq-z2")
        r["accuracy"]["board"], r["resources"]["lut"] = acc, lut
        p = tmp_path / f"{name}.json"
        p.write_text(json.dumps(r))
        paths.append(str(p))
    render_comparison(load_runs(paths), tmp_path / "cmp", title="two runs")
    res = _check(tmp_path / "cmp" / "report.html", tmp_path / "compare.png")
    _assert_clean(res, 2, tmp_path / "cmp" / "report.html")


def test_check_page_sees_broken_pages(tmp_path: Path) -> None:
    """The checker itself must notice a broken image, a script error and an external fetch."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>bad</title></head><body>'
        '<img alt="broken" src="data:image/png;base64,AAAA">'
        '<img alt="external" src="http://127.0.0.1:9/x.png">'
        "<script>undefinedFunction()</script><p>" + "text " * 200 + "</p></body></html>"
    )
    res = check_page(bad, tmp_path / "bad.png")
    assert any(i["naturalWidth"] == 0 for i in res.images)
    assert res.exceptions or any("undefinedFunction" in c["text"] for c in res.console)
    assert any(u.startswith("http://127.0.0.1:9/") for u in res.requests)
