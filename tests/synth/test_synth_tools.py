"""Tool contracts: discovery on PATH and in install roots, version banners, supported ranges, doctor."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hwflow import tools
from hwflow.cli import main
from hwflow.tools import CONTRACTS, find_tool, judge_version, parse_version, version_from_output

# Banners as the tools print them (first lines of `<tool> -version` / `vitis-run --version`).
BANNERS = [
    ("Vivado v2020.1 (64-bit)\nSW Build 2902540 on Wed May 27 19:54:35 MDT 2020\n", "2020.1"),
    ("Vivado v2019.2.1 (64-bit)\nCopyright 1986-2019 Xilinx, Inc.", "2019.2.1"),
    ("Vivado(TM) HLS - High-Level Synthesis from C, C++ and SystemC v2019.2 (64-bit)\n", "2019.2"),
    (("****** Vitis HLS - High-Level Synthesis from C, C++ and OpenCL v2023.1 (64-bit)\n"
     "  **** SW Build 3854077 on 2023-05-04-22:13:10\n    ** Copyright 1986-2022 Xilinx, Inc."), "2023.1"),
    ("****** vitis-run v2024.2 (64-bit)\n  **** SW Build 5238294 on 2024-11-07-22:06:08\n", "2024.2"),
    ("Copyright 1986-2022 Xilinx, Inc. All Rights Reserved.\n", None),
    ("", None),
]


@pytest.mark.parametrize("text,version", BANNERS)
def test_version_banner(text: str, version: str | None) -> None:
    assert version_from_output(text) == version


@pytest.mark.parametrize("tool,version,status", [
    ("vivado_hls", "2019.2", "supported"), ("vivado_hls", "2020.1", "supported"),
    ("vivado_hls", "2018.3", "unsupported"), ("vivado_hls", "2019.1", "unsupported"),
    ("vitis_hls", "2022.2", "supported"), ("vitis_hls", "2024.1", "supported"),
    ("vitis_hls", "2022.1", "unsupported"), ("vitis_hls", "2024.2", "unsupported"),
    ("vitis-run", "2023.1", "supported"), ("vitis-run", "2025.1", "supported"),
    ("vitis-run", "2022.2", "unsupported"), ("vitis-run", "2031.1", "untested"),
    ("vivado", "2019.2.1", "supported"), ("vivado", "2018.3", "unsupported"),
    ("vivado", None, "unknown-version"), ("vivado", "abc", "unknown-version"),
])
def test_supported_ranges(tool: str, version: str | None, status: str) -> None:
    assert judge_version(CONTRACTS[tool], version)[0] == status


def test_parse_version() -> None:
    assert parse_version("2020.1") == (2020, 1)
    assert parse_version("2019.2.1") == (2019, 2, 1)
    assert parse_version("v2020") is None


def test_found_on_path_with_version(fake_tools) -> None:
    fake_tools(["vivado", "vitis-run"], versions={"vitis-run": "2024.2", "vivado": "2023.2"})
    v = find_tool("vivado")
    assert v.found and v.version == "2023.2" and v.status == "supported" and v.usable
    assert find_tool("vitis-run").version == "2024.2"
    missing = find_tool("vivado_hls")
    assert not missing.found and not missing.usable and missing.searched


def test_found_in_install_root(tmp_path: Path, monkeypatch) -> None:
    """$XILINX_VIVADO/bin is searched when PATH has no vivado (no settings64.sh sourced)."""
    root = tmp_path / "Vivado" / "2020.1"
    (root / "bin").mkdir(parents=True)
    exe = root / "bin" / "vivado"
    exe.write_text("#!/bin/sh\necho 'Vivado v2020.1 (64-bit)'\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("XILINX_VIVADO", str(root))
    info = find_tool("vivado")
    assert info.found and info.path == str(exe) and info.version == "2020.1"
    assert str(root / "bin") in info.searched


def test_unsupported_version_is_not_usable(fake_tools, monkeypatch) -> None:
    fake_tools(["vivado_hls"], versions={"vivado_hls": "2018.3"})
    info = find_tool("vivado_hls")
    assert info.found and info.status == "unsupported" and not info.usable
    assert "2019.2-2020.1" in info.detail
    monkeypatch.setenv("HWFLOW_ALLOW_UNSUPPORTED_TOOLS", "1")
    assert info.usable


def test_version_query_has_a_timeout(tmp_path: Path, monkeypatch) -> None:
    """A tool that hangs on -version (license server, broken install) cannot hang the pre-flight."""
    exe = tmp_path / "vivado"
    exe.write_text("#!/bin/sh\nsleep 30\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    version, err = tools.read_version(str(exe), CONTRACTS["vivado"], timeout_s=0.5)
    assert version is None and "did not answer" in err


def test_doctor_lists_every_tool_and_what_works(fake_tools, capsys) -> None:
    fake_tools(["vitis-run"])
    rep = tools.doctor_report()
    text = "\n".join(rep["lines"])
    for name in CONTRACTS:
        assert name in text
    assert rep["tools"]["vitis-run"]["found"] and not rep["tools"]["vivado"]["found"]
    assert rep["works"]["csynth"] and not rep["works"]["bitfile"]
    assert "synth --level bitfile: no: needs vivado" in text
    assert "settings64.sh" in text
    assert main(["doctor"]) == 0
    assert "vitis-run" in capsys.readouterr().out


def test_doctor_without_any_tool(capsys) -> None:
    assert main(["doctor", "--json"]) == 0
    import json

    rep = json.loads(capsys.readouterr().out)
    assert not any(t["found"] for t in rep["tools"].values())
    assert rep["works"]["csynth"] is False and rep["works"]["synth_dry_run"] is True
