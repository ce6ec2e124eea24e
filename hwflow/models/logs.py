"""Library log lines a user cannot act on, dropped at the source (and only those).

QKeras' QTools (the chip-level energy estimate) logs ``unsupported kernel shape, it is neither a
dense kernel of length 2, nor a convolution kernel of length 4`` at absl's FATAL level for every
Conv1D layer (its kernel has rank 3), then counts that layer's additions correctly anyway
(product of the kernel shape without the output dimension). On the console it reads
``CRITICAL:absl:unsupported kernel shape ...`` on every Conv1D run.
"""

from __future__ import annotations

import logging

_SPURIOUS = ("unsupported kernel shape",)


class _DropSpurious(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = str(record.getMessage())
        except Exception:  # noqa: BLE001 - a broken record is not ours to judge
            return True
        return not msg.startswith(_SPURIOUS)


_FILTER = _DropSpurious()


def quiet_spurious_library_logs() -> None:
    """Install the filter on the ``absl`` logger (idempotent)."""
    log = logging.getLogger("absl")
    if _FILTER not in log.filters:
        log.addFilter(_FILTER)
