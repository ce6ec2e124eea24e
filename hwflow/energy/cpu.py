"""CPU package power without counters: TDP x measured utilisation (the CodeCarbon approach).

Where RAPL is readable the baseline measures energy (``measured:rapl``). Elsewhere (VMs,
containers, non-x86) it estimates the package power as::

    P_cpu = TDP x u        u = process CPU time / (wall time x logical CPUs visible), 0..1

labelled ``estimate:cpu-tdp-load``. This is CodeCarbon's "CPU load" estimator; its older
"constant" mode uses 0.5 x TDP whatever the load (mlco2/codecarbon issues #184, #524), which
we report beside it as the upper end of the interval when it is higher.

TDP: ``HWFLOW_CPU_TDP_W`` when set (the user's figure), else a match of ``/proc/cpuinfo``'s
model name in :data:`TDP_TABLE` (each row cited), else CodeCarbon's default of 85 W for an
unknown CPU (mlco2/codecarbon pull request #389), said so in the note. Assumptions stated with
the figure: the TDP is the whole package's, and the share of it our process causes is its
share of the logical CPUs this machine shows (a VM may see only part of a package).
"""

from __future__ import annotations

import os
import platform
import re
from typing import Any

DEFAULT_TDP_W = 85.0
DEFAULT_TDP_SOURCE = "CodeCarbon's default for an unknown CPU (mlco2/codecarbon pull request #389)"
CONSTANT_FRACTION = 0.5
CONSTANT_SOURCE = "CodeCarbon constant mode: 50 % of TDP (mlco2/codecarbon issues #184, #524)"

# (regex on the model name, TDP W, source). Only figures with a public source.
TDP_TABLE: tuple[tuple[str, float, str], ...] = (
    (r"Xeon.*E5-2680 v3", 120.0, "Intel ARK via mlco2/codecarbon pull request #498"),
    (r"EPYC 7662", 225.0, "AMD product page via mlco2/codecarbon pull request #318"),
    (r"Core.*i7-12700H", 45.0, "Intel ARK via mlco2/codecarbon pull request #824"),
    (r"Threadripper 1950X", 180.0, "CodeCarbon cpu_power.csv (mlco2/codecarbon issue #184)"),
)


def cpu_model_name(cpuinfo: str | None = None) -> str:
    """The CPU's model name from /proc/cpuinfo (or ``platform.processor()``)."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
                cpuinfo = fh.read()
        except OSError:
            cpuinfo = ""
    for line in cpuinfo.splitlines():
        if line.lower().startswith(("model name", "hardware", "cpu model")):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def lookup_tdp(model_name: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """``{"tdp_w", "source", "known"}`` for this CPU."""
    env = os.environ if env is None else env
    user = env.get("HWFLOW_CPU_TDP_W")
    if user:
        try:
            v = float(user)
            if v > 0:
                return {"tdp_w": v, "source": "HWFLOW_CPU_TDP_W (set by the user)", "known": True}
        except ValueError:
            pass
    for pattern, tdp, src in TDP_TABLE:
        if re.search(pattern, model_name, flags=re.IGNORECASE):
            return {"tdp_w": tdp, "source": src, "known": True}
    return {"tdp_w": DEFAULT_TDP_W, "source": DEFAULT_TDP_SOURCE, "known": False}


def utilisation(cpu_seconds: float, wall_seconds: float, logical_cpus: int | None = None) -> float:
    """Share of this machine's logical CPUs our process kept busy (0..1)."""
    n = logical_cpus or os.cpu_count() or 1
    if wall_seconds <= 0:
        return 0.0
    return max(0.0, min(1.0, cpu_seconds / (wall_seconds * n)))


def cpu_power_estimate(u: float, tdp: dict[str, Any]) -> dict[str, Any]:
    """Package power of the process at utilisation ``u``, with its interval and assumptions."""
    p = tdp["tdp_w"] * u
    const = tdp["tdp_w"] * CONSTANT_FRACTION
    note = (f"estimate: TDP {tdp['tdp_w']:g} W ({tdp['source']}) x measured CPU utilisation {u:.2f}; "
            f"interval up to {CONSTANT_SOURCE}")
    if not tdp["known"]:
        note += "; this CPU's TDP is unknown (set HWFLOW_CPU_TDP_W to give it)"
    return {"power_w": p, "interval_w": [min(p, const), max(p, const)], "utilisation": u,
            "tdp_w": tdp["tdp_w"], "tdp_source": tdp["source"], "source": "estimate:cpu-tdp-load",
            "note": note}
