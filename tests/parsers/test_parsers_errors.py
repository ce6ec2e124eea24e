"""Missing, empty, truncated and unrecognised reports raise BadInput (exit 2).

Truncated inputs are made in tmp_path by cutting real fixture files; nothing
is copied into the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hwflow.errors import BadInput
from hwflow.parsers import parse_file, parse_path, parse_text

# (folder prefix, file) of representative reports, one per format
XML_FILES = [
    ("01", "myproject_csynth.xml"),  # Vivado HLS 2016.4, DSP48E, no URAM
    ("19", "csynth.xml"),  # Vivado HLS 2019.2 accelerator wrapper
    ("73", "myproject_csynth.xml"),  # Vitis HLS 2021.1, DSP
    ("90", "myproject_csynth.xml"),  # Vitis HLS 2023.1
]
RPT_FILES = [("01", "myproject_csynth.rpt"), ("48", "myproject_csynth.rpt"), ("90", "myproject_csynth.rpt")]
FLAT_UTIL_FILES = [
    ("33", "vivado_synth.rpt"),
    ("49", "vivado_synth.rpt"),
    ("89", "vivado_synth.rpt"),
    ("19", "design_1_wrapper_utilization_placed.rpt"),
]


def _fixture(fixtures_dir: Path, prefix: str, name: str) -> Path:
    matches = [d for d in fixtures_dir.iterdir() if d.name.startswith(prefix + "_")]
    assert matches, f"fixture folder {prefix}_* not found"
    return matches[0] / name


def _write_cut(tmp_path: Path, src: Path, keep: int) -> Path:
    """A copy of src in tmp_path holding only its first ``keep`` characters."""
    dst = tmp_path / src.name
    dst.write_text(src.read_text()[:keep])
    return dst


def _cut_before(tmp_path: Path, src: Path, marker: str, after_lines: int = 0) -> Path:
    """A copy of src cut at the start of the first line containing marker (+ after_lines)."""
    lines = src.read_text().splitlines(keepends=True)
    idx = next(i for i, line in enumerate(lines) if marker in line) + after_lines
    dst = tmp_path / src.name
    dst.write_text("".join(lines[:idx]))
    return dst


def _assert_bad(path: Path, *words: str) -> BadInput:
    with pytest.raises(BadInput) as info:
        parse_file(path)
    err = info.value
    assert err.exit_code == 2
    assert path.name in str(err)
    message = str(err).replace(str(path), "<path>").lower()  # tmp_path holds the test's name
    for word in words:
        assert word in message
    return err


# --------------------------------------------------------------------------- truncation


@pytest.mark.parametrize(("prefix", "name"), XML_FILES)
@pytest.mark.parametrize("fraction", [0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
def test_truncated_xml_is_detected(fixtures_dir: Path, tmp_path: Path, prefix: str, name: str, fraction: float) -> None:
    src = _fixture(fixtures_dir, prefix, name)
    size = len(src.read_text())
    _assert_bad(_write_cut(tmp_path, src, int(size * fraction)), "truncated")


@pytest.mark.parametrize(("prefix", "name"), XML_FILES)
def test_xml_cut_just_before_closing_tag(fixtures_dir: Path, tmp_path: Path, prefix: str, name: str) -> None:
    src = _fixture(fixtures_dir, prefix, name)
    text = src.read_text()
    _assert_bad(_write_cut(tmp_path, src, text.rindex("</profile>")), "truncated")


@pytest.mark.parametrize(("prefix", "name"), RPT_FILES)
@pytest.mark.parametrize(
    ("marker", "after"),
    [
        ("== Performance Estimates", 0),  # nothing but the header
        ("+ Latency", 0),  # no latency table
        ("+ Latency", 6),  # latency table cut after its header
        ("== Utilization Estimates", 0),  # no utilisation table
        ("|Total", 0),  # utilisation table cut before its Total row
        ("|Total", 1),  # ... before its Available row
    ],
)
def test_truncated_csynth_rpt_is_detected(
    fixtures_dir: Path, tmp_path: Path, prefix: str, name: str, marker: str, after: int
) -> None:
    src = _fixture(fixtures_dir, prefix, name)
    _assert_bad(_cut_before(tmp_path, src, marker, after), "truncated")


@pytest.mark.parametrize(("prefix", "name"), FLAT_UTIL_FILES)
@pytest.mark.parametrize(
    ("marker", "after"),
    [
        ("Site Type", 0),  # header only
        ("Site Type", 4),  # first site table cut off
        ("| Block RAM Tile", -4),  # no BRAM / DSP tables
        ("| Block RAM Tile", 0),  # BRAM table cut off
        ("| DSPs", 0),  # DSP row missing
    ],
)
def test_truncated_flat_utilization_is_detected(
    fixtures_dir: Path, tmp_path: Path, prefix: str, name: str, marker: str, after: int
) -> None:
    src = _fixture(fixtures_dir, prefix, name)
    _assert_bad(_cut_before(tmp_path, src, marker, after), "truncated")


@pytest.mark.parametrize(("marker", "after"), [("Utilization by Hierarchy", 0), ("myproject_axi_0", 3)])
def test_truncated_hierarchical_utilization_is_detected(
    fixtures_dir: Path, tmp_path: Path, marker: str, after: int
) -> None:
    src = _fixture(fixtures_dir, "19", "util.rpt")
    _assert_bad(_cut_before(tmp_path, src, marker, after), "truncated")


@pytest.mark.parametrize(
    ("marker", "after"), [("1. Summary", 0), ("| Device Static (W)", 0), ("| Junction Temperature", 0)]
)
def test_truncated_power_is_detected(fixtures_dir: Path, tmp_path: Path, marker: str, after: int) -> None:
    # the first "1. Summary" is the table of contents: the Summary table is absent
    src = _fixture(fixtures_dir, "19", "design_1_wrapper_power_routed.rpt")
    _assert_bad(_cut_before(tmp_path, src, marker, after), "truncated")


@pytest.mark.parametrize(
    ("marker", "after"), [("| Timer Settings", 0), ("| Design Timing Summary", 0), ("| Design Timing Summary", 5)]
)
def test_truncated_timing_is_detected(fixtures_dir: Path, tmp_path: Path, marker: str, after: int) -> None:
    src = _fixture(fixtures_dir, "19", "design_1_wrapper_timing_summary_routed.rpt")
    _assert_bad(_cut_before(tmp_path, src, marker, after), "truncated")


@pytest.mark.parametrize("prefix", ["30", "90"])
@pytest.mark.parametrize(("marker", "after"), [("Solution", 1), ("VHDL", 0), ("Verilog", 0)])
def test_truncated_cosim_is_detected(fixtures_dir: Path, tmp_path: Path, prefix: str, marker: str, after: int) -> None:
    src = _fixture(fixtures_dir, prefix, "myproject_cosim.rpt")
    _assert_bad(_cut_before(tmp_path, src, marker, after), "truncated")


def test_cut_mid_row_is_detected(fixtures_dir: Path, tmp_path: Path) -> None:
    src = _fixture(fixtures_dir, "30", "myproject_cosim.rpt")
    text = src.read_text()
    _assert_bad(_write_cut(tmp_path, src, text.index("Verilog") + 20), "truncated")


# --------------------------------------------------------------------------- empty / garbage / missing

REPORT_NAMES = [
    "csynth.xml",
    "myproject_csynth.xml",
    "myproject_csynth.rpt",
    "vivado_synth.rpt",
    "util.rpt",
    "design_1_wrapper_utilization_placed.rpt",
    "x_power_routed.rpt",
    "x_timing_summary_routed.rpt",
    "myproject_cosim.rpt",
]


@pytest.mark.parametrize("name", REPORT_NAMES)
def test_empty_report_raises(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("")
    _assert_bad(path, "empty")


@pytest.mark.parametrize("name", REPORT_NAMES)
@pytest.mark.parametrize(
    "content",
    [
        "hello world\nthis is not a report\n",
        "<html><body>not csynth</body></html>\n",
        "+---+---+\n| a | b |\n+---+---+\n",
        "\n\n   \n",
    ],
)
def test_garbage_with_a_report_name_raises(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    _assert_bad(path)


def test_binary_garbage_raises(tmp_path: Path) -> None:
    path = tmp_path / "myproject_csynth.rpt"
    path.write_bytes(bytes(range(256)) * 8)
    _assert_bad(path)


def test_unrecognised_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("some notes\n")
    err = _assert_bad(path, "not a report")
    assert "csynth" in str(err)  # says what was expected


def test_missing_file_raises(tmp_path: Path) -> None:
    _assert_bad(tmp_path / "myproject_csynth.rpt", "no such file")
    with pytest.raises(BadInput, match="no such file"):
        parse_path(tmp_path / "nowhere")


def test_folder_given_to_parse_file_raises(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="folder"):
        parse_file(tmp_path)


def test_parse_text_without_kind_raises() -> None:
    with pytest.raises(BadInput, match="not a report"):
        parse_text("just text", "<stdin>")


def test_folder_skips_unrelated_files(fixtures_dir: Path, tmp_path: Path) -> None:
    src = _fixture(fixtures_dir, "30", "myproject_cosim.rpt")
    (tmp_path / src.name).write_text(src.read_text())
    (tmp_path / "hls4ml_config.yml").write_text("Backend: Vivado\n")
    (tmp_path / "truth.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("unrelated\n")
    (tmp_path / "sub").mkdir()
    reports = parse_path(tmp_path)
    assert [Path(r["file"]).name for r in reports] == ["myproject_cosim.rpt"]


def test_folder_with_a_broken_report_raises(tmp_path: Path) -> None:
    (tmp_path / "myproject_csynth.xml").write_text("<profile><ReportVersion><Version>2019.2</Ver")
    with pytest.raises(BadInput, match=re.escape("myproject_csynth.xml")):
        parse_path(tmp_path)


def test_folder_without_reports_raises(tmp_path: Path) -> None:
    (tmp_path / "hls4ml_config.yml").write_text("Backend: Vivado\n")
    with pytest.raises(BadInput, match="no vendor report"):
        parse_path(tmp_path)
