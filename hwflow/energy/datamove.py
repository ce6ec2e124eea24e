"""Data movement between the host and the accelerator: what one driver call costs in time.

One call carries a batch of ``n`` samples through the overlay (host -> AXI DMA MM2S -> IP ->
AXI DMA S2MM -> host). Its time is modelled as::

    t_call(n) = t_host                                  host driver overhead per call
              + (setup_mm2s + setup_s2mm) / f           DMA set-up + completion, in PL clocks
              + max(t_in(n), t_out(n), n * II / f)      the three streams overlap (dataflow)
              + (latency - II) / f                      pipeline fill: the last result's latency

    t_in(n)  = n * in_bytes  / (stream_bytes * f * eff_mm2s)
    t_out(n) = n * out_bytes / (stream_bytes * f * eff_s2mm)

``f`` is the overlay clock (the DMA and the IP share it in hls4ml's VivadoAccelerator design),
``stream_bytes`` the AXI-stream data width in bytes. Every parameter is a board-family figure
with its source (:data:`FAMILY_DEFAULTS`), overridable from a board file's ``data_movement:``.
A parameter that nothing published is ``None``: the figures that need it are then None, with a
note - never a guessed number.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

# -- cited parameters -------------------------------------------------------------------------

PG021 = ("AMD PG021 AXI DMA v7.1, 'Performance': 10,000-byte transfers at 100 MHz, 32-bit stream: "
         "MM2S 399.04 MB/s (99.76 % of theoretical), S2MM 298.59 MB/s (74.64 %); set-up latency "
         "MM2S 10+28+6 = 44 clocks (tail descriptor write to first stream beat), S2MM 10+39 = 49 clocks")
PYNQ_PY = ("PYNQ Python driver on a PYNQ-Z2: 120-130 us per call, nearly independent of transfer size "
           "(100 to 32,768 words), timed with %timeit (KastnerRG/Read_the_docs issue #25, 2021)")
PYNQ_MAX = ("PYNQ DMA driver: maximum transfer length 2^sg_length_width - 1 bytes, width up to 26 "
            "(Xilinx/PYNQ pull request #1013)")
XRT_CALL = ("XRT on an Alveo-class card: buffer sync to device ~19 us, kernel run + wait ~40 us per call "
            "(Xilinx/XRT issue #6590, 2022)")


@dataclass(frozen=True)
class DataMovement:
    """Per-call data-movement parameters of one board (family defaults + board overrides)."""

    stream_bytes: int = 4                     # AXI-stream data width (hls4ml VivadoAccelerator: 32 bit)
    eff_mm2s: float | None = 0.9976
    eff_s2mm: float | None = 0.7464
    setup_clocks_mm2s: float | None = 44.0
    setup_clocks_s2mm: float | None = 49.0
    host_overhead_s: float | None = None      # per driver call (Python PYNQ driver, XRT, ...)
    host_overhead_range_s: tuple[float, float] | None = None
    max_transfer_bytes: int = (1 << 26) - 1
    driver: str = "unknown"
    sources: dict[str, str] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        d = asdict(self)
        d["host_overhead_range_s"] = list(self.host_overhead_range_s) if self.host_overhead_range_s else None
        return d


FAMILY_DEFAULTS: dict[str, DataMovement] = {
    # Zynq-7000 with the Python PYNQ driver (what `hwflow deploy` runs on the board).
    "zynq7000": DataMovement(host_overhead_s=125e-6, host_overhead_range_s=(120e-6, 130e-6),
                             driver="pynq-python",
                             sources={"dma": PG021, "host": PYNQ_PY, "max_transfer": PYNQ_MAX}),
    # Zynq UltraScale+: same AXI DMA IP (PG021); no published per-call figure of the Python
    # driver on the Cortex-A53 was found, so the host overhead is not estimated.
    "zynqmp": DataMovement(driver="pynq-python",
                           sources={"dma": PG021, "host": "no published per-call figure (not estimated)",
                                    "max_transfer": PYNQ_MAX}),
    # Alveo: PCIe + XRT instead of an AXI DMA driven from the SoC.
    "alveo": DataMovement(stream_bytes=64, eff_mm2s=None, eff_s2mm=None, setup_clocks_mm2s=0.0,
                          setup_clocks_s2mm=0.0, host_overhead_s=59e-6, host_overhead_range_s=(51e-6, 72e-6),
                          driver="xrt", sources={"host": XRT_CALL,
                                                 "dma": "PCIe bandwidth not modelled (no cited figure)"}),
    "versal": DataMovement(driver="unknown", sources={"host": "no published figure (not estimated)"}),
}


def for_board(family: str, overrides: dict[str, Any] | None = None) -> DataMovement:
    """Family defaults with a board file's ``data_movement:`` overrides applied."""
    base = FAMILY_DEFAULTS.get(family, DataMovement(sources={"host": "unknown family"}))
    ov = {k: v for k, v in (overrides or {}).items() if v is not None and k != "source"}
    if "host_overhead_range_s" in ov:
        ov["host_overhead_range_s"] = tuple(ov["host_overhead_range_s"])
    if ov:
        src = dict(base.sources)
        if (overrides or {}).get("source"):
            src["board"] = str(overrides["source"])
        base = replace(base, **ov, sources=src)
    return base


# -- the model --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Accelerator:
    """What the IP does per sample: bytes in/out on the stream, latency and II in clocks."""

    in_bytes: int
    out_bytes: int
    latency_cycles: float
    ii_cycles: float
    clock_ns: float


def call_time(n: int, acc: Accelerator, dm: DataMovement, *, host_overhead_s: float | None = None
              ) -> dict[str, Any]:
    """Time of one driver call carrying ``n`` samples, with its parts (seconds).

    ``total_s`` is None when a needed parameter is unknown (``missing`` names it).
    """
    if n < 1:
        raise ValueError("batch size must be >= 1")
    f = 1e9 / acc.clock_ns
    host = dm.host_overhead_s if host_overhead_s is None else host_overhead_s
    missing = []
    bytes_in, bytes_out = n * acc.in_bytes, n * acc.out_bytes
    if dm.eff_mm2s is None or dm.eff_s2mm is None:
        missing.append("DMA/PCIe bandwidth")
        t_in = t_out = None
    else:
        t_in = bytes_in / (dm.stream_bytes * f * dm.eff_mm2s)
        t_out = bytes_out / (dm.stream_bytes * f * dm.eff_s2mm)
    if dm.setup_clocks_mm2s is None or dm.setup_clocks_s2mm is None:
        missing.append("DMA set-up latency")
        t_setup = None
    else:
        t_setup = (dm.setup_clocks_mm2s + dm.setup_clocks_s2mm) / f
    if host is None:
        missing.append("host driver overhead per call")
    t_compute = n * acc.ii_cycles / f
    t_fill = max(0.0, acc.latency_cycles - acc.ii_cycles) / f
    parts = {"host_s": host, "dma_setup_s": t_setup, "transfer_in_s": t_in, "transfer_out_s": t_out,
             "compute_s": t_compute, "pipeline_fill_s": t_fill}
    total = None
    if not missing:
        total = host + t_setup + max(t_in, t_out, t_compute) + t_fill
    return {"batch": n, "bytes_in": bytes_in, "bytes_out": bytes_out, "parts": parts, "total_s": total,
            "busy_s": t_compute + t_fill,  # the IP computing (for its share of dynamic power)
            "missing": missing,
            "fits_dma": max(bytes_in, bytes_out) <= dm.max_transfer_bytes}


def max_batch(acc: Accelerator, dm: DataMovement) -> int:
    """Largest batch one DMA transfer can carry."""
    per = max(acc.in_bytes, acc.out_bytes, 1)
    return max(1, dm.max_transfer_bytes // per)


def batch_grid(limit: int = 65536, n_max: int | None = None) -> list[int]:
    """1, 2, 4, ... up to ``limit`` (and ``n_max`` when smaller, which is then included)."""
    top = min(limit, n_max) if n_max else limit
    grid = [1 << k for k in range(int(math.log2(max(top, 1))) + 1)]
    if grid[-1] != top:
        grid.append(top)
    return grid
