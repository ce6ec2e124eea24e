"""Subprocess discipline: logs, return codes, timeouts that end the whole process group, memory kills."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from hwflow.synth.runner import CommandLog, CommandRecord, error_lines, memory_kill_reason, run_logged


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0): read its state
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_output_goes_to_the_log(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "x.log"
    out = run_logged([sys.executable, "-c", "import sys; print('hello'); print('oops', file=sys.stderr); sys.exit(3)"],
                     cwd=tmp_path, log_path=log, timeout_s=30)
    assert out.returncode == 3 and not out.ok and not out.timed_out
    text = log.read_text()
    assert "hello" in text and "oops" in text and text.startswith("# hwflow: ")


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    """The tool's children (compilers, simulators, runs) die with it - not only the wrapper."""
    pidfile = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time\n"
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(c.pid))\n"
        "time.sleep(60)\n"
    )
    t0 = time.monotonic()
    out = run_logged([sys.executable, "-c", script], cwd=tmp_path, log_path=tmp_path / "t.log", timeout_s=1.0)
    assert out.timed_out and not out.ok
    assert time.monotonic() - t0 < 20
    child = int(pidfile.read_text())
    for _ in range(50):
        if not _alive(child):
            break
        time.sleep(0.1)
    assert not _alive(child), "the grandchild survived the timeout"


def test_memory_kill_detection() -> None:
    assert memory_kill_reason(137, "INFO: ...\n") is not None
    assert memory_kill_reason(-9, "") is not None
    assert "Killed" in memory_kill_reason(1, "line\nKilled\n")
    assert "bad_alloc" in memory_kill_reason(1, "terminate called ... std::bad_alloc")
    assert memory_kill_reason(1, "ERROR: [XSIM 43-3322] Out of memory") is not None
    assert memory_kill_reason(1, "ERROR: syntax error") is None
    assert memory_kill_reason(0, "all fine") is None


def test_error_lines_pick_the_vendor_errors() -> None:
    text = "INFO: a\nERROR: [HLS 200-70] Compilation errors found\nWARNING: b\nERROR: [Common 17-39] failed\n"
    assert error_lines(text) == ["ERROR: [HLS 200-70] Compilation errors found", "ERROR: [Common 17-39] failed"]


def test_command_log_is_rewritten_atomically(tmp_path: Path) -> None:
    import json

    log = CommandLog(tmp_path / "commands.json", level="csynth")
    rec = log.add(CommandRecord(index=1, name="hls", tool="vitis-run", version="2024.2", argv=["vitis-run"],
                                cwd="synth/prj", log="synth/logs/01_hls.log"))
    rec.status, rec.returncode = "ok", 0
    log.save()
    data = json.loads((tmp_path / "commands.json").read_text())
    assert data["commands"][0]["status"] == "ok" and data["commands"][0]["returncode"] == 0
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
