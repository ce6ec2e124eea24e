"""Energy counters of the host: RAPL (CPU package domains) and NVML (NVIDIA GPU total energy).

A counter that is not readable here says why (``reason``); nothing is guessed.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

RAPL_ROOT = "/sys/class/powercap"


class EnergyCounter:
    """A monotonic energy counter in joules with wrap-around handling."""

    name = "none"
    reason: str | None = None

    def available(self) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def start(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def stop_j(self) -> float:  # pragma: no cover - interface
        """Joules since start()."""
        raise NotImplementedError


class RaplCounter(EnergyCounter):
    def __init__(self, root: str = RAPL_ROOT) -> None:
        self.domains: list[tuple[Path, float]] = []
        for d in sorted(glob.glob(os.path.join(root, "intel-rapl:[0-9]*"))):
            p = Path(d)
            if ":" in p.name and p.name.count(":") == 1:  # package domains only (not sub-zones)
                try:
                    rng = float((p / "max_energy_range_uj").read_text())
                    float((p / "energy_uj").read_text())
                except (OSError, ValueError):
                    continue
                self.domains.append((p, rng))
        if not self.domains:
            found = glob.glob(os.path.join(root, "intel-rapl:*"))
            self.reason = ("RAPL energy counters not readable here" +
                           (" (present but permission denied: run as root or chmod energy_uj)" if found
                            else f" (no {root}/intel-rapl:*; a VM or a non-x86 CPU)"))
        self.name = "rapl"
        self._last: list[float] = []
        self._acc = 0.0

    def available(self) -> bool:
        return bool(self.domains)

    def _raw(self) -> list[float]:
        return [float((p / "energy_uj").read_text()) for p, _ in self.domains]

    def start(self) -> None:
        self._last = self._raw()
        self._acc = 0.0

    def stop_j(self) -> float:
        now = self._raw()
        total = 0.0
        for (p, rng), a, b in zip(self.domains, self._last, now):
            delta = b - a
            if delta < 0:  # the counter wrapped
                delta += rng
            total += delta
        return total * 1e-6


class NvmlCounter(EnergyCounter):
    def __init__(self, index: int = 0) -> None:
        self.name = "nvml"
        self.handle = None
        try:
            import pynvml  # provided by nvidia-ml-py

            pynvml.nvmlInit()
            self.handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            self._nv = pynvml
            self.device_name = pynvml.nvmlDeviceGetName(self.handle)
            pynvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)
        except Exception as exc:  # ImportError, NVMLError (no driver / not supported)
            self.reason = f"NVML energy counter not readable here ({type(exc).__name__}: {exc})"
            self.handle = None

    def available(self) -> bool:
        return self.handle is not None

    def start(self) -> None:
        self._mj0 = self._nv.nvmlDeviceGetTotalEnergyConsumption(self.handle)

    def stop_j(self) -> float:
        return (self._nv.nvmlDeviceGetTotalEnergyConsumption(self.handle) - self._mj0) * 1e-3
