"""Running vendor tools under discipline: own process group, log file, timeout, memory kills.

Every command is recorded in ``synth/commands.json`` before it starts (status ``running``) and
again when it ends (return code, duration, status ``ok``/``failed``/``timeout``/``killed``), each
write atomic - so even a run that is itself killed leaves an honest record. The tool's stdout
and stderr go straight into its log file (no pipe to fill up and stall a chatty Vivado).

A timeout ends the whole process group, not just the top process: ``vivado_hls`` and
``vivado`` are shell wrappers that start the real binary, which starts compilers, simulators
and implementation runs; killing only the wrapper would leave those running for hours.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..fileio import atomic_write_json

#: How long a tool gets between SIGTERM and SIGKILL when its time is up.
TERM_GRACE_S = 5.0
#: Log lines that mean the process (or a child) ran out of memory.
MEMORY_PATTERNS = (
    (re.compile(r"^\s*Killed\s*$", re.MULTILINE), "the log ends with 'Killed' (the kernel's out-of-memory killer)"),
    (re.compile(r"std::bad_alloc"), "std::bad_alloc in the log (an allocation failed)"),
    (re.compile(r"out of memory", re.IGNORECASE), "'out of memory' in the log"),
    (re.compile(r"Cannot allocate memory"), "'Cannot allocate memory' in the log"),
)
_LOG_SCAN_BYTES = 256 * 1024


@dataclass
class CommandRecord:
    """One entry of commands.json; paths are relative to the work folder."""

    index: int
    name: str
    tool: str
    version: str | None
    argv: list[str]
    cwd: str
    log: str
    purpose: str = ""
    status: str = "planned"        # planned | running | ok | failed | timeout | killed | not-run
    returncode: int | None = None
    started: float | None = None   # Unix time
    duration_s: float | None = None
    timeout_s: float | None = None
    reason: str | None = None


@dataclass
class CommandLog:
    """commands.json: every command of one synth run, rewritten atomically on each change."""

    path: Path
    level: str
    dry_run: bool = False
    records: list[CommandRecord] = field(default_factory=list)

    def add(self, record: CommandRecord) -> CommandRecord:
        self.records.append(record)
        self.save()
        return record

    def save(self) -> None:
        atomic_write_json(self.path, {"level": self.level, "dry_run": self.dry_run,
                                      "commands": [asdict(r) for r in self.records]})


@dataclass
class Outcome:
    returncode: int
    duration_s: float
    timed_out: bool
    memory: str | None      # why we think it ran out of memory, else None

    @property
    def ok(self) -> bool:
        """Exited 0 in time. (A memory message in the log of a run that exited 0 is kept in
        ``memory`` for the error about its missing reports, but does not fail it by itself.)"""
        return self.returncode == 0 and not self.timed_out


def _signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def kill_group(proc: subprocess.Popen, grace_s: float = TERM_GRACE_S) -> None:
    """SIGTERM the process group, wait ``grace_s``, then SIGKILL whatever is left of it."""
    pgid = proc.pid   # start_new_session=True: the child leads its own group
    if _signal_group(pgid, signal.SIGTERM):
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            if proc.poll() is not None and not _group_alive(pgid):
                break
            time.sleep(0.05)
    _signal_group(pgid, signal.SIGKILL)
    proc.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def memory_kill_reason(returncode: int, log_text: str) -> str | None:
    """Why a finished process looks killed for memory, or None.

    SIGKILL shows as -9 (we waited on it directly) or 137 (a wrapper shell reported 128+9);
    the tools themselves print ``std::bad_alloc`` or "out of memory" and exit 1.
    """
    for rx, why in MEMORY_PATTERNS:
        if rx.search(log_text):
            return why
    if returncode in (-signal.SIGKILL, 128 + signal.SIGKILL):
        return f"killed by SIGKILL (exit {returncode}); with no timeout set by hwflow this is usually " \
               "the kernel's out-of-memory killer"
    return None


def read_log_tail(path: Path, max_bytes: int = _LOG_SCAN_BYTES) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def tail_lines(text: str, n: int = 20) -> str:
    return "\n".join(text.rstrip("\n").splitlines()[-n:])


def error_lines(text: str, n: int = 5) -> list[str]:
    """The first vendor ``ERROR:`` lines: usually the cause, while the tail is the aftermath."""
    return [ln.strip() for ln in text.splitlines() if ln.lstrip().startswith(("ERROR:", "CRITICAL WARNING:"))
            and "ERROR:" in ln][:n]


def run_logged(argv: list[str], *, cwd: Path, log_path: Path, timeout_s: float | None,
               env: dict[str, str] | None = None) -> Outcome:
    """Run one command (never through a shell) with its output in ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    timed_out = False
    with open(log_path, "wb") as logf:
        logf.write(f"# hwflow: {' '.join(argv)}\n# cwd: {cwd}\n".encode())
        logf.flush()
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                start_new_session=True, env=env)
        try:
            rc = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(proc)
            rc = proc.returncode
        except BaseException:   # Ctrl-C or an error here: never leave the tool running
            kill_group(proc, grace_s=2.0)
            raise
        # The leader exited; anything it left behind in its group goes with it.
        _signal_group(proc.pid, signal.SIGKILL)
    duration = time.monotonic() - t0
    memory = None if timed_out else memory_kill_reason(rc, read_log_tail(log_path))
    return Outcome(returncode=rc, duration_s=duration, timed_out=timed_out, memory=memory)


