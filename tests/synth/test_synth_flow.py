"""`hwflow synth` end to end with fake vendor tools: results, failures, missing tools, dry runs."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from synth_common import COSIM_PASS, PYNQ_FULL, VITIS_2023, VIVADO_2022, synth

from hwflow import flow
from hwflow.cli import main


def _json(p: Path) -> dict:
    return json.loads(p.read_text())


def _calls(fake: dict) -> list[dict]:
    if not fake["log"].exists():
        return []
    return [json.loads(ln) for ln in fake["log"].read_text().splitlines() if ln.strip()]


def _runs(fake: dict) -> list[dict]:
    """Calls that ran something (not the version queries)."""
    return [c for c in _calls(fake) if c["argv"] and c["argv"][0] not in ("-version", "--version")]


def _no_result(w: dict) -> None:
    assert not (w["work"] / "synth" / "synth.json").exists(), "a failed synthesis left a synth.json"
    if (w["work"] / "results.json").exists():
        res = _json(w["work"] / "results.json")
        assert not str(res["resources"]["source"] or "").startswith("vendor:")


# --------------------------------------------------------------------------- success

def test_csynth_with_hls4ml_build_prj(workdir, fake_tools) -> None:
    """pynq-z2 + Vivado HLS: hls4ml's own build_prj.tcl runs; the network's report fills synth.json."""
    fake = fake_tools(["vivado_hls", "vivado"], fixtures=[PYNQ_FULL])
    w = workdir("pynq-z2")
    assert synth(w, "--quiet") == 0
    s = _json(w["work"] / "synth" / "synth.json")
    assert s["level"] == "csynth" and s["source"] == "vendor:vivado_hls-2019.2"
    assert s["resources"] == {"lut": 33690, "ff": 17330, "dsp": 9, "bram_18k": 4, "uram": 0}
    assert s["latency_cycles"]["worst"] == 52 and s["ii_cycles"]["min"] == 15
    assert s["clock_ns"] == {"target": 5, "estimated": 4.535}
    assert s["tools"] == {"vivado_hls": "2020.1"} and s["plan"]["driver"] == "hls4ml"
    assert s["ip"]["top"] == "myproject_axi" and s["ip"]["resources"]["lut"] == 40461
    assert s["timing"]["wns_ns"] is None and s["timing"]["met"] is None and s["power_w"]["total"] is None
    for rel in s["reports"].values():
        assert (w["work"] / rel).is_file(), rel
    runs = _runs(fake)
    assert len(runs) == 1 and runs[0]["tool"] == "vivado_hls"
    assert runs[0]["argv"] == ["-f", "build_prj.tcl", ("reset=1 csim=0 synth=1 cosim=0 validation=0 export=0 "
                                                      "vsynth=0 fifo_opt=0")]
    assert Path(runs[0]["cwd"]) == w["work"] / "synth" / "prj"
    cmds = _json(w["work"] / "synth" / "commands.json")["commands"]
    assert [(c["name"], c["status"], c["returncode"]) for c in cmds] == [("hls", "ok", 0)]
    assert (w["work"] / cmds[0]["log"]).is_file()
    res = _json(w["work"] / "results.json")
    assert res["resources"]["source"].startswith("vendor:") and res["resources"]["lut"] == 33690
    assert res["latency"]["source"] == "vendor:vivado_hls-2019.2" and res["latency"]["cycles"] == 52
    assert res["provenance"]["tools"] == {"vivado_hls": "2020.1"}
    # the convert step's project is untouched: the tools ran on a copy in synth/prj
    assert not (w["work"] / "hls" / "myproject_prj").exists()


def test_vsynth_on_zynqmp_with_vitis_run(workdir, fake_tools) -> None:
    """zcu104 (no hls4ml board): hwflow's HLS script, then out-of-context Vivado synthesis."""
    fake = fake_tools(["vitis-run", "vivado"], fixtures=[VITIS_2023, VIVADO_2022, PYNQ_FULL],
                      versions={"vivado": "2022.2"})
    w = workdir("zcu104")
    assert synth(w, "--level", "vsynth", "--quiet") == 0
    s = _json(w["work"] / "synth" / "synth.json")
    assert s["level"] == "vsynth" and s["tools"] == {"vitis-run": "2024.2", "vivado": "2022.2"}
    assert s["source"] == "vendor:vivado-2022.2"                      # resources: post-synthesis
    assert s["latency_source"] == "vendor:vitis_hls-2023.1"           # latency: C synthesis
    assert s["hls"]["resources"]["lut"] == 339116 and s["resources"]["lut"] != s["hls"]["resources"]["lut"]
    assert s["timing"]["wns_ns"] == 0.385 and s["timing"]["met"] is True
    assert s["power_w"]["total"] == 1.442
    assert [c["tool"] for c in _runs(fake)] == ["vitis-run", "vivado"]
    assert _runs(fake)[0]["argv"] == ["--mode", "hls", "--tcl", "../scripts/hls.tcl"]
    for f in ("scripts/hls.tcl", "scripts/vsynth.tcl", "scripts/vsynth.xdc", "scripts/run_synth.sh"):
        assert (w["work"] / "synth" / f).is_file(), f
    assert os.access(w["work"] / "synth" / "scripts" / "run_synth.sh", os.X_OK)
    res = _json(w["work"] / "results.json")
    assert res["resources"]["source"] == "vendor:vivado-2022.2" and res["timing"]["met"] is True


def test_bitfile_on_zynqmp_writes_bit_and_hwh(workdir, fake_tools) -> None:
    fake_tools(["vitis-run", "vivado"], fixtures=[VITIS_2023, PYNQ_FULL])
    w = workdir("zcu104")
    assert synth(w, "--level", "bitfile", "--quiet") == 0
    s = _json(w["work"] / "synth" / "synth.json")
    assert (w["work"] / s["bitfile"]).is_file() and (w["work"] / s["hwh"]).is_file()
    assert Path(s["bitfile"]).stem == Path(s["hwh"]).stem == "tiny_synth"     # PYNQ pairs them by stem
    b = s["overlay"]
    assert b["dma"] == "axi_dma_0" and b["block_design"] == "hwflow" and b["pl_clock_mhz"] == 100.0
    assert s["resources"]["lut"] == 17090 and b["system_resources"]["lut"] == 19879   # IP row vs whole design
    assert s["power_w"]["total"] == 1.442 and s["timing"]["met"] is True
    assert (w["work"] / "synth" / "prj" / "firmware" / "hwflow_axi.cpp").is_file()
    assert "zynq_ultra_ps_e" in (w["work"] / "synth" / "scripts" / "bitfile.tcl").read_text()


def test_hls_tool_can_be_chosen(workdir, fake_tools, monkeypatch) -> None:
    """HWFLOW_HLS_TOOL=vitis_hls on a board hls4ml knows: hwflow's scripts instead of build_prj.tcl."""
    fake = fake_tools(["vivado_hls", "vitis_hls"], fixtures=[VITIS_2023])
    monkeypatch.setenv("HWFLOW_HLS_TOOL", "vitis_hls")
    w = workdir("pynq-z2")
    assert synth(w, "--quiet") == 0
    runs = _runs(fake)
    assert [c["tool"] for c in runs] == ["vitis_hls"] and runs[0]["argv"] == ["-f", "../scripts/hls.tcl"]
    assert _json(w["work"] / "synth" / "synth.json")["plan"]["driver"] == "hwflow"


def test_cosim_pass_is_recorded(workdir, fake_tools) -> None:
    fake_tools(["vivado_hls"], fixtures=[PYNQ_FULL, COSIM_PASS])
    w = workdir("pynq-z2")
    assert synth(w, "--cosim", "--quiet") == 0
    s = _json(w["work"] / "synth" / "synth.json")
    assert s["cosim"]["status"] == "Pass" and s["cosim"]["latency_cycles"]["worst"] == 10


# --------------------------------------------------------------------------- failures (exit 4, no result)

@pytest.mark.parametrize("mode,status,words", [
    ("fail", "failed", ["failed with exit code 1", "ERROR: [HLS 200-70]"]),
    ("killed", "killed", ["killed for lack of memory", "exit 137", "Killed"]),
    ("oom", "killed", ["killed for lack of memory", "bad_alloc"]),
])
def test_tool_failure(workdir, fake_tools, capsys, mode, status, words) -> None:
    fake_tools(["vivado_hls"], mode=mode)
    w = workdir("pynq-z2")
    assert synth(w) == 4
    err = capsys.readouterr().err
    for word in words:
        assert word in err, (word, err)
    log = w["work"] / "synth" / "logs" / "01_hls.log"
    assert f"log: {log}" in err and "last lines:" in err
    assert "Traceback" not in err
    cmd = _json(w["work"] / "synth" / "commands.json")["commands"][0]
    assert cmd["status"] == status and cmd["returncode"] == (137 if mode == "killed" else 1)
    _no_result(w)
    man = _json(w["work"] / "manifest.json")
    assert man["steps"]["synth"]["status"] == "failed"


def test_timeout_kills_the_tool_and_its_children(workdir, fake_tools, capsys, tmp_path, monkeypatch) -> None:
    fake_tools(["vivado_hls"], mode="sleep")
    pidfile = tmp_path / "fake.pid"
    monkeypatch.setenv("HWFLOW_FAKE_PIDFILE", str(pidfile))
    w = workdir("pynq-z2")
    t0 = time.monotonic()
    assert synth(w, "--timeout", "2") == 4
    assert time.monotonic() - t0 < 60
    err = capsys.readouterr().err
    assert "timed out after 2 s" in err and "process group" in err and "01_hls.log" in err
    cmd = _json(w["work"] / "synth" / "commands.json")["commands"][0]
    assert cmd["status"] == "timeout" and cmd["timeout_s"] == 2
    for pid in map(int, pidfile.read_text().split()):
        for _ in range(50):
            try:
                os.kill(pid, 0)
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().split(")")[-1].split()[0] == "Z":
                        break
            except (ProcessLookupError, FileNotFoundError):
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"process {pid} of the timed-out tool is still running")
    _no_result(w)


@pytest.mark.parametrize("mode,words", [
    ("noreport", ["finished but wrote no C-synthesis report", "myproject_csynth.xml"]),
    ("truncated", ["unreadable", "truncated"]),
])
def test_missing_or_truncated_report(workdir, fake_tools, capsys, mode, words) -> None:
    fake_tools(["vivado_hls"], mode=mode)
    w = workdir("pynq-z2")
    assert synth(w) == 4
    err = capsys.readouterr().err
    for word in words:
        assert word in err, (word, err)
    assert "01_hls.log" in err
    assert _json(w["work"] / "synth" / "commands.json")["commands"][0]["status"] == "ok"   # the tool said 0
    _no_result(w)


def test_cosim_failure_is_a_step_failure(workdir, fake_tools, capsys) -> None:
    fake_tools(["vivado_hls"], fixtures=[PYNQ_FULL, COSIM_PASS], mode="cosim_fail")
    w = workdir("pynq-z2")
    assert synth(w, "--cosim") == 4
    assert "co-simulation FAIL" in capsys.readouterr().err
    _no_result(w)


def test_vivado_failure_after_hls(workdir, fake_tools, capsys) -> None:
    fake_tools(["vitis-run", "vivado"], fixtures=[VITIS_2023, PYNQ_FULL], modes={"vivado": "fail"})
    w = workdir("zcu104")
    assert synth(w, "--level", "vsynth") == 4
    assert "02_vsynth.log" in capsys.readouterr().err
    cmds = _json(w["work"] / "synth" / "commands.json")["commands"]
    assert [c["status"] for c in cmds] == ["ok", "failed"]
    _no_result(w)


def test_a_failed_rerun_drops_the_old_result(workdir, fake_tools, monkeypatch) -> None:
    fake_tools(["vivado_hls"])
    w = workdir("pynq-z2")
    assert synth(w, "--quiet") == 0
    assert (w["work"] / "synth" / "synth.json").exists()
    monkeypatch.setenv("HWFLOW_FAKE_MODE", "fail")
    assert synth(w, "--quiet", "--cosim") == 4   # new settings: the step runs again, and fails
    _no_result(w)


# --------------------------------------------------------------------------- no tools, dry run

def test_no_vendor_tool_exits_3_and_still_writes_the_scripts(workdir, capsys) -> None:
    w = workdir("zcu104")
    assert synth(w) == 3
    out, err = capsys.readouterr()
    assert "pre-flight" in out                       # said before the first step ran
    for word in ("vitis-run", "vitis_hls", "PATH searched", "settings64.sh", "make emu", "hwflow estimate",
                 "--dry-run", "run_synth.sh"):
        assert word in err, (word, err)
    assert "Traceback" not in err
    synth_dir = w["work"] / "synth"
    assert (synth_dir / "scripts" / "hls.tcl").is_file() and (synth_dir / "prj" / "firmware").is_dir()
    assert all(c["status"] == "not-run" for c in _json(synth_dir / "commands.json")["commands"])
    assert not (synth_dir / "synth.json").exists()


def test_missing_vivado_for_vsynth(workdir, fake_tools, capsys) -> None:
    fake_tools(["vitis-run"], fixtures=[VITIS_2023])
    w = workdir("zcu104")
    assert synth(w, "--level", "vsynth") == 3
    err = capsys.readouterr().err
    assert "needs Vivado" in err and "vivado: not found" in err
    assert "needs an HLS tool" not in err


def test_dry_run_writes_everything_and_runs_nothing(workdir, fake_tools, capsys) -> None:
    fake = fake_tools(["vivado_hls", "vivado"])
    w = workdir("pynq-z2")
    assert synth(w, "--dry-run", "--level", "bitfile") == 0
    out = capsys.readouterr().out
    assert "dry run" in out and "ran nothing" in out and "vivado_hls -f build_prj.tcl" in out
    assert _runs(fake) == []
    synth_dir = w["work"] / "synth"
    cmds = _json(synth_dir / "commands.json")
    assert cmds["dry_run"] is True and all(c["status"] == "not-run" for c in cmds["commands"])
    assert (synth_dir / "scripts" / "bitfile.tcl").is_file() and (synth_dir / "prj" / "design.tcl").is_file()
    assert not (synth_dir / "synth.json").exists()


def test_dry_run_without_tools_exits_0(workdir, capsys) -> None:
    w = workdir("zcu104")
    assert synth(w, "--dry-run", "--level", "bitfile") == 0
    assert (w["work"] / "synth" / "scripts" / "bitfile.tcl").is_file()
    assert (w["work"] / "synth" / "prj" / "firmware" / "hwflow_axi.cpp").is_file()


def test_run_skips_synth_without_tools(workdir, monkeypatch, capsys) -> None:
    """`hwflow run` past synth without vendor tools: one notice, synth skipped, exit 0."""
    for name in ("package", "deploy", "report"):
        monkeypatch.setitem(flow.STEPS, name, flow.StepSpec(name=name, run=lambda ctx: {}, settings=lambda ctx: {}))
    w = workdir("pynq-z2")
    assert main(["run", w["design"], "--board", "pynq-z2", "--build-dir", w["build"], "--to", "package"]) == 0
    out = capsys.readouterr().out
    assert "[synth] skipped: no vendor tool installed" in out
    assert not (w["work"] / "synth").exists()


def test_bitfile_on_alveo_is_bad_input_before_training(tmp_path, capsys, prepared) -> None:
    rc = main(["synth", str(prepared["design"]), "--board", "alveo-u250", "--build-dir", str(tmp_path),
               "--level", "bitfile"])
    assert rc == 2
    assert "--level vsynth" in capsys.readouterr().err
    assert not (tmp_path / "tiny_synth" / "alveo-u250" / "model").exists()
