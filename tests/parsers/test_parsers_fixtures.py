"""Every report file of every fixture folder parses to the numbers of its truth.json.

The fixtures live in ../shared/fixtures (read in place, never copied); the
tests skip when that folder is absent. Mapping truth.json -> normalised fields
follows the table in the fixtures README.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from hwflow.parsers import detect_kind, parse_file, parse_path

METADATA = {"truth.json", "source.json", "layers.json", "hls4ml_config.yml"}
SECTION_KIND = {
    "csynth_xml": "csynth",
    "csynth_rpt": "csynth",
    "utilization": "utilization",
    "power": "power",
    "timing": "timing",
    "cosim": "cosim",
}
HLS_KEYS = {"LUT": "lut", "FF": "ff", "DSP": "dsp", "BRAM_18K": "bram_18k", "URAM": "uram"}
NOT_NUMBERS = {"NA", "undef", "-", ""}


def _fixtures_root() -> Path:
    env = os.environ.get("HWFLOW_FIXTURES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"


def _folders() -> list[str]:
    root = _fixtures_root()
    if not root.is_dir():
        return []
    return sorted(d.name for d in root.iterdir() if (d / "truth.json").is_file())


def _cases() -> list[Any]:
    cases = []
    root = _fixtures_root()
    for folder in _folders():
        truth = json.loads((root / folder / "truth.json").read_text())
        for section in SECTION_KIND:
            for name in sorted(truth.get(section, {})):
                cases.append(pytest.param(folder, section, name, id=f"{folder[:2]}-{section}-{name}"))
    # without fixtures: one placeholder, skipped by the fixtures_dir fixture
    return cases or [pytest.param("none", "none", "none", id="no-fixtures")]


def _folder_params() -> list[Any]:
    return [pytest.param(f, id=f[:2]) for f in _folders()] or [pytest.param("none", id="no-fixtures")]


# --------------------------------------------------------------------------- truth -> expected


def _val(value: Any) -> Any:
    """Non-numeric strings of truth.json (NA, undef, -) are null in the parse."""
    if isinstance(value, str) and value.strip() in NOT_NUMBERS:
        return None
    return value


def _hls_resources(block: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {f"{prefix}.{key}": _val(block.get(name)) for name, key in HLS_KEYS.items()}


def _expect_csynth_xml(t: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": t["version"],
        "part": t["part"],
        "top": t["top"],
        "clock_ns.target": _val(t["TargetClockPeriod"]),
        "clock_ns.estimated": _val(t["EstimatedClockPeriod"]),
        "latency_cycles.best": _val(t["Best-caseLatency"]),
        "latency_cycles.average": _val(t["Average-caseLatency"]),
        "latency_cycles.worst": _val(t["Worst-caseLatency"]),
        "ii_cycles.min": _val(t["Interval-min"]),
        "ii_cycles.max": _val(t["Interval-max"]),
        **_hls_resources(t["resources"], "resources"),
        **_hls_resources(t["available"], "available"),
    }


def _expect_csynth_rpt(t: dict[str, Any]) -> dict[str, Any]:
    return {
        "tool": t["tool"].lower().replace(" ", "_"),
        "version": t["version"],
        "part": t["part"],
        "top": t["top"],
        "clock_ns.target": _val(t["target_ns"]),
        "clock_ns.estimated": _val(t["estimated_ns"]),
        "latency_cycles.best": _val(t["latency_min"]),
        "latency_cycles.average": None,
        "latency_cycles.worst": _val(t["latency_max"]),
        "ii_cycles.min": _val(t["interval_min"]),
        "ii_cycles.max": _val(t["interval_max"]),
        **_hls_resources(t["total"], "resources"),
        **_hls_resources(t["available"], "available"),
    }


def _vivado_common(t: dict[str, Any]) -> dict[str, Any]:
    m = re.search(r"v\.(\d{4}\.\d+(?:\.\d+)?)", t["tool_version"])
    return {"tool": "vivado", "version": m.group(1) if m else None, "part": t["device"], "top": t["design"]}


def _double(value: Any) -> Any:
    return None if value is None else 2 * value


def _expect_utilization(t: dict[str, Any]) -> dict[str, Any]:
    out = _vivado_common(t)
    if t.get("hierarchical"):
        row = t["hls_ip_row"]
        out.update(
            {
                "resources.lut": row["LUT"],
                "resources.ff": row["FF"],
                "resources.dsp": row["DSP"],
                "resources.bram_18k": 2 * row["RAMB36"] + row["RAMB18"],
                "resources.uram": row.get("URAM"),
            }
        )
        out.update({f"available.{k}": None for k in HLS_KEYS.values()})
        return out
    out.update(
        {
            "resources.lut": t["LUT"],
            "resources.ff": t["FF"],
            "resources.dsp": t["DSP"],
            "resources.bram_18k": t["BRAM_18K_equiv"],
            "resources.uram": t["URAM"],
            "available.lut": t["LUT_available"],
            "available.ff": t["FF_available"],
            "available.dsp": t["DSP_available"],
            "available.bram_18k": _double(t["BRAM_tile_available"]),
            "available.uram": t["URAM_available"],
        }
    )
    return out


def _expect_power(t: dict[str, Any]) -> dict[str, Any]:
    out = _vivado_common(t)
    out.update({"power_w.total": t["total_W"], "power_w.dynamic": t["dynamic_W"], "power_w.static": t["static_W"]})
    return out


def _expect_timing(t: dict[str, Any]) -> dict[str, Any]:
    out = _vivado_common(t)
    out.update(
        {
            "timing.wns_ns": _val(t["WNS(ns)"]),
            "timing.tns_ns": _val(t["TNS(ns)"]),
            "timing.whs_ns": _val(t["WHS(ns)"]),
            "timing.met": t.get("constraints_met"),
        }
    )
    clocks = t.get("clocks") or {}
    if len(clocks) == 1:
        out["clock_ns.target"] = next(iter(clocks.values()))["period_ns"]
    return out


def _expect_cosim(t: dict[str, Any]) -> dict[str, Any]:
    row = next((r for r in t["rows"] if r["status"] != "NA"), None) or {}
    return {
        "latency_cycles.best": _val(row.get("latency_min")),
        "latency_cycles.average": _val(row.get("latency_avg")),
        "latency_cycles.worst": _val(row.get("latency_max")),
        "ii_cycles.min": _val(row.get("interval_min")),
        "ii_cycles.max": _val(row.get("interval_max")),
    }


EXPECT = {
    "csynth_xml": _expect_csynth_xml,
    "csynth_rpt": _expect_csynth_rpt,
    "utilization": _expect_utilization,
    "power": _expect_power,
    "timing": _expect_timing,
    "cosim": _expect_cosim,
}


def _get(report: dict[str, Any], dotted: str) -> Any:
    node: Any = report
    for part in dotted.split("."):
        node = node[part]
    return node


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize(("folder", "section", "name"), _cases())
def test_report_matches_truth(fixtures_dir: Path, folder: str, section: str, name: str) -> None:
    truth = json.loads((fixtures_dir / folder / "truth.json").read_text())[section][name]
    report = parse_file(fixtures_dir / folder / name)
    assert report["kind"] == SECTION_KIND[section]
    expected = EXPECT[section](truth)
    got = {key: _get(report, key) for key in expected}
    assert got == expected
    for key, value in expected.items():  # same value, and int where the truth is an int
        if isinstance(value, int) and not isinstance(value, bool):
            assert isinstance(got[key], int), key


@pytest.mark.parametrize("folder", _folder_params())
def test_every_report_file_is_recognised(fixtures_dir: Path, folder: str) -> None:
    d = fixtures_dir / folder
    truth = json.loads((d / "truth.json").read_text())
    kinds = {name: SECTION_KIND[s] for s in SECTION_KIND for name in truth.get(s, {})}
    files = sorted(f.name for f in d.iterdir() if f.is_file() and f.name not in METADATA)
    assert files == sorted(kinds), "a report file without a truth entry, or the reverse"
    for name in files:
        assert detect_kind(d / name, (d / name).read_text()) == kinds[name], name
    for name in METADATA:
        if (d / name).exists():
            assert detect_kind(d / name, (d / name).read_text()) is None, name
    reports = parse_path(d)
    assert [Path(r["file"]).name for r in reports] == files
    assert [r["kind"] for r in reports] == [kinds[n] for n in files]
