"""Output form, number conversion and the documented report quirks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hwflow.errors import BadInput
from hwflow.parsers import (
    detect_kind,
    parse_cosim,
    parse_csynth_rpt,
    parse_csynth_xml,
    parse_path,
    parse_text,
    parse_vivado_util,
)
from hwflow.parsers._common import leading_number, time_to_ns, to_number

SHAPE = {
    "file": None,
    "kind": None,
    "tool": None,
    "version": None,
    "part": None,
    "top": None,
    "clock_ns": {"target", "estimated"},
    "latency_cycles": {"best", "average", "worst"},
    "ii_cycles": {"min", "max"},
    "resources": {"lut", "ff", "dsp", "bram_18k", "uram"},
    "available": {"lut", "ff", "dsp", "bram_18k", "uram"},
    "power_w": {"total", "dynamic", "static"},
    "timing": {"wns_ns", "tns_ns", "whs_ns", "met"},
}


def _fixture(fixtures_dir: Path, prefix: str, name: str) -> Path:
    return next(d for d in fixtures_dir.iterdir() if d.name.startswith(prefix + "_")) / name


def _numbers(report: dict[str, Any]) -> list[Any]:
    return [
        v
        for key in SHAPE
        if isinstance(SHAPE[key], set)
        for v in report[key].values()
        if not isinstance(v, bool) and v is not None
    ]


# --------------------------------------------------------------------------- conversions


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("5.00", 5),
        ("4.535", 4.535),
        ("0", 0),
        ("12", 12),
        ("-0.385", -0.385),
        ("1.5", 1.5),
        ("NA", None),
        ("undef", None),
        ("-", None),
        ("~0", None),
        ("", None),
        ("?", None),
        (None, None),
    ],
)
def test_to_number(text: str | None, value: Any) -> None:
    got = to_number(text)
    assert got == value
    assert type(got) is type(value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("5.00 ns", 5),
        ("4.535 ns", 4.535),
        ("0.137 us", 137),
        ("4.33", 4.33),
        ("NA", None),
        ("1250 ps", 1.25),
    ],
)
def test_time_to_ns(text: str, value: Any) -> None:
    assert time_to_ns(text) == value


def test_leading_number() -> None:
    assert leading_number("17090(32.12%)") == 17090
    assert leading_number("   9(4.09%)") == 9
    assert leading_number("1.5") == 1.5
    assert leading_number("n/a") is None


# --------------------------------------------------------------------------- output form


def test_every_fixture_report_has_the_full_shape(fixtures_dir: Path) -> None:
    count = 0
    for folder in sorted(d for d in fixtures_dir.iterdir() if (d / "truth.json").is_file()):
        for report in parse_path(folder):
            assert set(report) == set(SHAPE)
            for key, sub in SHAPE.items():
                if isinstance(sub, set):
                    assert set(report[key]) == sub, (report["file"], key)
            assert report["tool"] in ("vivado_hls", "vitis_hls", "vivado", None)
            for value in _numbers(report):  # int where integral, float otherwise
                assert isinstance(value, int) or (isinstance(value, float) and not value.is_integer())
            json.dumps(report)  # plain JSON types only
            count += 1
    assert count > 200


def test_tool_names(fixtures_dir: Path) -> None:
    assert parse_path(_fixture(fixtures_dir, "01", "myproject_csynth.xml"))[0]["tool"] == "vivado_hls"
    assert parse_path(_fixture(fixtures_dir, "73", "myproject_csynth.xml"))[0]["tool"] == "vitis_hls"
    assert parse_path(_fixture(fixtures_dir, "90", "myproject_csynth.rpt"))[0]["tool"] == "vitis_hls"
    assert parse_path(_fixture(fixtures_dir, "48", "myproject_csynth.rpt"))[0]["tool"] == "vivado_hls"


def test_dsp48e_and_dsp_are_the_same_column(fixtures_dir: Path) -> None:
    old = parse_csynth_xml(_fixture(fixtures_dir, "01", "myproject_csynth.xml").read_text())
    new = parse_csynth_xml(_fixture(fixtures_dir, "90", "myproject_csynth.xml").read_text())
    assert (old["resources"]["dsp"], old["available"]["dsp"]) == (163, 3600)
    assert (new["resources"]["dsp"], new["available"]["dsp"]) == (29, 4272)
    assert old["resources"]["uram"] is None  # 2016.4 has no URAM column
    assert new["resources"]["uram"] == 0


# --------------------------------------------------------------------------- quirks


def test_interval_quirk_each_file_as_written(fixtures_dir: Path) -> None:
    xml = parse_csynth_xml(_fixture(fixtures_dir, "19", "myproject_axi_csynth.xml").read_text())
    rpt = parse_csynth_rpt(_fixture(fixtures_dir, "19", "myproject_axi_csynth.rpt").read_text())
    assert xml["latency_cycles"]["worst"] == rpt["latency_cycles"]["worst"] == 92
    assert xml["ii_cycles"]["min"] == 93  # XML: latency + 1 for a non-pipelined top
    assert rpt["ii_cycles"]["min"] == 92  # .rpt: latency


def test_rounded_units_in_rpt_are_converted(fixtures_dir: Path) -> None:
    text = _fixture(fixtures_dir, "19", "myproject_csynth.rpt").read_text()
    assert "4.535 ns" in text
    report = parse_csynth_rpt(text.replace("4.535 ns", "0.137 us", 1))
    assert report["clock_ns"]["estimated"] == 137
    assert report["clock_ns"]["target"] == 5


def test_old_rpt_without_units(fixtures_dir: Path) -> None:
    report = parse_csynth_rpt(_fixture(fixtures_dir, "01", "myproject_csynth.rpt").read_text())
    assert report["clock_ns"] == {"target": 5, "estimated": 4.33}
    assert report["latency_cycles"] == {"best": 12, "average": None, "worst": 12}


def test_slr_rows_are_not_the_available_row(fixtures_dir: Path) -> None:
    report = parse_csynth_rpt(_fixture(fixtures_dir, "48", "myproject_csynth.rpt").read_text())
    assert report["available"]["uram"] == 1280  # not the 'Available SLR' 320


def test_half_bram_tiles_count_in_18k_blocks(fixtures_dir: Path) -> None:
    report = parse_vivado_util(_fixture(fixtures_dir, "41", "vivado_synth.rpt").read_text())
    assert report["resources"]["bram_18k"] == 3  # 1.5 tiles
    assert isinstance(report["resources"]["bram_18k"], int)
    mixed = parse_vivado_util(_fixture(fixtures_dir, "89", "vivado_synth.rpt").read_text())
    assert mixed["resources"]["bram_18k"] == 2 * 248 + 6  # RAMB36 x 2 + RAMB18


def test_iob_over_utilisation_does_not_matter(fixtures_dir: Path) -> None:
    report = parse_vivado_util(_fixture(fixtures_dir, "33", "vivado_synth.rpt").read_text())
    assert report["resources"] == {"lut": 264101, "ff": 298539, "dsp": 4752, "bram_18k": 754, "uram": 115}


def test_hierarchical_picks_the_hls_ip_row(fixtures_dir: Path) -> None:
    text = _fixture(fixtures_dir, "19", "util.rpt").read_text()
    ip = parse_vivado_util(text)
    assert ip["resources"] == {"lut": 17090, "ff": 17068, "dsp": 9, "bram_18k": 4, "uram": None}
    assert ip["available"] == dict.fromkeys(ip["available"])
    whole = parse_vivado_util(text, ip_match="no_such_ip")  # no match: the top row
    assert whole["resources"] == {"lut": 19879, "ff": 20767, "dsp": 9, "bram_18k": 14, "uram": None}


def test_cosim_first_row_not_na(fixtures_dir: Path) -> None:
    report = parse_cosim(_fixture(fixtures_dir, "30", "myproject_cosim.rpt").read_text())
    assert report["latency_cycles"] == {"best": 965, "average": 965, "worst": 965}
    assert report["ii_cycles"] == {"min": None, "max": None}
    failed = parse_cosim(_fixture(fixtures_dir, "90", "myproject_cosim.rpt").read_text())
    assert failed["latency_cycles"] == {"best": None, "average": None, "worst": None}


def test_timing_met_and_clock(fixtures_dir: Path) -> None:
    path = _fixture(fixtures_dir, "19", "design_1_wrapper_timing_summary_routed.rpt")
    report = parse_text(path.read_text(), path)
    assert report["timing"] == {"wns_ns": 0.385, "tns_ns": 0, "whs_ns": 0.015, "met": True}
    assert report["clock_ns"]["target"] == 10
    violated = path.read_text().replace(
        "All user specified timing constraints are met.", "Timing constraints are not met."
    )
    assert parse_text(violated, path)["timing"]["met"] is False
    silent = path.read_text().replace("All user specified timing constraints are met.", "")
    assert parse_text(silent, path)["timing"]["met"] is None


def test_detect_kind_prefers_content(fixtures_dir: Path) -> None:
    text = _fixture(fixtures_dir, "30", "myproject_cosim.rpt").read_text()
    assert detect_kind("renamed.rpt", text) == "cosim"
    assert detect_kind("renamed.txt", text) == "cosim"
    assert detect_kind("hls4ml_config.yml", text) is None
    assert detect_kind("myproject_csynth.rpt", "") == "csynth"  # by name; parsing then fails
    assert detect_kind("readme.md", "nothing") is None


# --------------------------------------------------------------------------- without the shared fixtures

_SMALL_XML = """<profile>
<ReportVersion><Version>2020.1</Version></ReportVersion>
<UserAssignments><unit>ns</unit><Part>xc7z020-clg400-1</Part><TopModelName>myproject</TopModelName>
<TargetClockPeriod>10.00</TargetClockPeriod></UserAssignments>
<PerformanceEstimates><PipelineType>dataflow</PipelineType>
<SummaryOfTimingAnalysis><unit>ns</unit><EstimatedClockPeriod>8.518</EstimatedClockPeriod></SummaryOfTimingAnalysis>
<SummaryOfOverallLatency><Best-caseLatency>20</Best-caseLatency><Average-caseLatency>undef</Average-caseLatency>
<Worst-caseLatency>22</Worst-caseLatency><Interval-min>9</Interval-min><Interval-max>9</Interval-max>
</SummaryOfOverallLatency></PerformanceEstimates>
<AreaEstimates><Resources><BRAM_18K>2</BRAM_18K><DSP48E>73</DSP48E><FF>7969</FF><LUT>2532</LUT><URAM>0</URAM>
</Resources><AvailableResources><BRAM_18K>280</BRAM_18K><DSP48E>220</DSP48E><FF>106400</FF><LUT>53200</LUT>
<URAM>0</URAM></AvailableResources></AreaEstimates>
</profile>
"""


def test_small_xml_without_fixtures() -> None:
    report = parse_text(_SMALL_XML, "csynth.xml")
    assert report["kind"] == "csynth"
    assert report["tool"] == "vivado_hls"
    assert report["clock_ns"] == {"target": 10, "estimated": 8.518}
    assert report["latency_cycles"] == {"best": 20, "average": None, "worst": 22}
    assert report["ii_cycles"] == {"min": 9, "max": 9}
    assert report["resources"] == {"lut": 2532, "ff": 7969, "dsp": 73, "bram_18k": 2, "uram": 0}
    assert report["available"]["bram_18k"] == 280


def test_small_xml_truncated_without_fixtures() -> None:
    for cut in range(1, len(_SMALL_XML) - 2, 37):
        with pytest.raises(BadInput):
            parse_text(_SMALL_XML[:cut], "csynth.xml")


def test_xml_entities_are_refused() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]><profile>&a;</profile>'
    with pytest.raises(BadInput, match="DOCTYPE"):
        parse_text(bomb, "csynth.xml")
