"""Typed errors with the exit codes of docs/contract.md.

Every expected failure is one of these; the CLI prints the message (never a
traceback) and exits with ``exit_code``.
"""

from __future__ import annotations


class HwflowError(Exception):
    """Base class: an expected failure with a user-facing message."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:  # pragma: no cover - trivial
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class BadInput(HwflowError):
    """Exit 2: a design, board, flag or input file is wrong. Name the file and key path."""

    exit_code = 2


class ToolMissing(HwflowError):
    """Exit 3: a required external tool, dataset download or board is missing/unreachable."""

    exit_code = 3


class Busy(ToolMissing):
    """Exit 3 (the contract's "resource missing"): the work folder is locked by another run that
    did not finish in time. Its own class so callers can tell it from a missing tool."""


class Unreachable(ToolMissing):
    """Exit 3: a board, host or scheduler did not answer (ssh, Dask); not a missing program."""


class StepFailed(HwflowError):
    """Exit 4: a step failed (tool error, timeout, numerical check); name the log and its tail."""

    exit_code = 4

    def __init__(self, message: str, *, log: str | None = None, tail: str | None = None,
                 hint: str | None = None) -> None:
        full = message
        if log:
            full += f"\n  log: {log}"
        if tail:
            full += "\n  last lines:\n" + "\n".join("    " + ln for ln in tail.splitlines())
        super().__init__(full, hint=hint)
        self.log = log
        self.tail = tail
