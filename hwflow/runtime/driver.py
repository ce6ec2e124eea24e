"""Host driver for an hls4ml accelerator behind an AXI DMA (the VivadoAccelerator / PYNQ flow).

The accelerator wrapper (``myproject_axi``) reads one sample's inputs from an AXI stream and writes
its outputs to another; an AXI DMA moves whole batches between DDR and those streams. On the board
that is ``Overlay(bitfile).axi_dma_0.sendchannel / .recvchannel`` plus ``pynq.allocate``.

Why this module exists rather than hls4ml's generated ``axi_stream_driver.py``:

* **one code path, two backends** - the driver only needs ``allocate(shape, dtype)`` and two
  channels with ``transfer(buf)``, ``wait()`` and ``idle``. :class:`PynqBackend` supplies them from
  a real overlay; :class:`~.emulated.EmulatedOverlay` supplies the same API on a PC. Tests and the
  emulated deployment therefore exercise exactly the code that runs on the board.
* **no silent hangs** - ``pynq``'s ``wait()`` spins forever when the IP never finishes (the boards
  that "hang after *Transfer OK*"). We poll ``idle`` with a deadline and raise :class:`DMATimeout`
  naming the channel, the byte count and the usual causes.
* **bounded buffers** - batches are cut into chunks that fit one contiguous DMA buffer.
* **exact fixed-point I/O** - when the stream carries ``ap_fixed`` words, inputs are quantised
  exactly like Vivado's ``ap_fixed`` (see :mod:`.fixedpoint`).

Only the standard library and numpy are imported at module level; ``pynq`` is imported lazily.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .fixedpoint import FloatType, WireType, parse_wire_type, wire_type_to_dict

#: Default cap on one DMA buffer. Small enough for any CMA pool and for AXI DMAs built with a
#: 23-bit length register; large enough that per-transfer overhead is negligible.
DEFAULT_MAX_BUFFER_BYTES = 1 << 22


class DriverError(RuntimeError):
    """A misuse or a board-side problem that is not a timeout (bad shape, missing DMA, ...)."""


class BoardUnavailable(DriverError):
    """The board side cannot be reached: ``pynq`` missing, bitfile/hwh missing, overlay failed."""


class DMATimeout(TimeoutError):
    """A DMA channel did not become idle before its deadline.

    Attributes: ``channel`` ("sendchannel"/"recvchannel"), ``nbytes``, ``timeout_s``, ``detail``.
    """

    HINTS = (
        ("the bitfile and its .hwh do not describe the same build (copy both from one build, same "
         "file stem), so the driver talks to a different design"),
        ("the accelerator IP is not running: an ap_ctrl_hs top must be started (start_ip=...), or its "
         "clock/reset is not connected - the classic symptom is a hang right after 'Transfer OK'"),
        ("the transfer size does not match what the IP consumes/produces per sample (input/output "
         "shape or word width in the I/O spec vs. the HLS design)"),
        "an earlier timed-out transfer left the DMA busy: reload the overlay (or reboot) before retrying",
    )

    def __init__(self, channel: str, nbytes: int, timeout_s: float, *, dma: str = "axi_dma_0",
                 detail: str = "") -> None:
        self.channel = channel
        self.nbytes = int(nbytes)
        self.timeout_s = float(timeout_s)
        self.detail = detail
        msg = (f"DMA timeout: {dma}.{channel} did not finish a {self.nbytes}-byte transfer "
               f"within {self.timeout_s:g} s")
        if detail:
            msg += f" ({detail})"
        msg += ".\n  Likely causes:\n" + "\n".join(f"   - {h}" for h in self.HINTS)
        super().__init__(msg)


@dataclass(frozen=True)
class IOSpec:
    """Shapes and wire precisions of one accelerator (per sample, batch dimension excluded).

    ``IOSpec.from_dict({"input_shape": [64], "output_shape": [10], "input": "float",
    "output": "ap_fixed<16,6>"})``. Precisions: see :func:`.fixedpoint.parse_wire_type`.
    """

    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    input: WireType = field(default_factory=FloatType)
    output: WireType = field(default_factory=FloatType)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IOSpec:
        unknown = set(d) - {"input_shape", "output_shape", "input", "output"}
        if unknown:
            raise ValueError(f"unknown keys in I/O spec: {sorted(unknown)}")
        for key in ("input_shape", "output_shape"):
            if key not in d:
                raise ValueError(f"I/O spec lacks {key!r}")
        return cls(tuple(int(v) for v in d["input_shape"]), tuple(int(v) for v in d["output_shape"]),
                   parse_wire_type(d.get("input", "float")), parse_wire_type(d.get("output", "float")))

    def to_dict(self) -> dict[str, Any]:
        return {"input_shape": list(self.input_shape), "output_shape": list(self.output_shape),
                "input": wire_type_to_dict(self.input), "output": wire_type_to_dict(self.output)}

    @property
    def in_words(self) -> int:
        return int(np.prod(self.input_shape, dtype=np.int64))

    @property
    def out_words(self) -> int:
        return int(np.prod(self.output_shape, dtype=np.int64))

    @property
    def in_bytes(self) -> int:
        """Bytes per sample on the input stream."""
        return self.in_words * self.input.word_dtype.itemsize

    @property
    def out_bytes(self) -> int:
        return self.out_words * self.output.word_dtype.itemsize


# ---------------------------------------------------------------------------------------------
# Waiting with a deadline
# ---------------------------------------------------------------------------------------------

def wait_channel(channel: Any, *, name: str, nbytes: int, timeout_s: float, dma: str = "axi_dma_0",
                 poll_s: float = 5e-5) -> None:
    """Wait for one DMA channel, raising :class:`DMATimeout` after ``timeout_s``.

    Polls the channel's ``idle`` flag (cheap register read) and only then calls ``wait()``, which
    returns at once and does pynq's bookkeeping (cache invalidate, ``_active`` flag). A channel
    without ``idle`` is waited on in a daemon thread instead; that thread may stay blocked after a
    timeout, which is why polling is preferred.
    """
    deadline = time.monotonic() + timeout_s
    if _has_idle(channel):
        spins = 0
        while not channel.idle:
            spins += 1
            if spins % 256 == 0 and _channel_error(channel):
                raise DriverError(f"{dma}.{name} reports a DMA error (DMASR error bits) during a "
                                  f"{nbytes}-byte transfer; reload the overlay")
            if time.monotonic() >= deadline:
                raise DMATimeout(name, nbytes, timeout_s, dma=dma, detail=_diagnostic(channel))
            # Yield the GIL (the power recorder thread must keep sampling); sleep once it is slow.
            time.sleep(0 if spins < 2000 else poll_s)
        channel.wait()
        return
    failure: list[BaseException] = []

    def target() -> None:
        try:
            channel.wait()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread and re-raised
            failure.append(exc)

    worker = threading.Thread(target=target, name=f"dma-wait-{name}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise DMATimeout(name, nbytes, timeout_s, dma=dma, detail=_diagnostic(channel))
    if failure:
        raise failure[0]


def _has_idle(channel: Any) -> bool:
    try:
        _ = channel.idle  # a property read may touch a register; that is the test
    except AttributeError:
        return False
    return True


def _channel_error(channel: Any) -> bool:
    # Newer pynq channels expose DMASR error bits as an ``error`` property; anything callable is
    # of unknown meaning and ignored rather than mistaken for an error.
    value = getattr(channel, "error", False)
    return False if callable(value) else bool(value)


def _diagnostic(channel: Any) -> str:
    # The emulated overlay explains why it hangs; real channels do not have this attribute.
    return str(getattr(channel, "diagnostic", "") or "")


# ---------------------------------------------------------------------------------------------
# Backends
# ---------------------------------------------------------------------------------------------

class PynqBackend:
    """A real PYNQ overlay: ``Overlay(bitfile)``, its AXI DMA, and ``pynq.allocate``.

    ``dma`` is the DMA's attribute path in the overlay (``"axi_dma_0"`` in hls4ml's block designs,
    ``"hier_0.axi_dma_0"`` in some older ones); when it is absent we look for a unique
    ``axi_dma`` in ``ip_dict``. ``start_ip`` names an ``ap_ctrl_hs`` IP to start in auto-restart
    mode (hls4ml's stream wrapper is ``ap_ctrl_none`` and needs nothing).
    ``pynq_module`` exists for tests (a stand-in for ``import pynq``).
    """

    emulated = False

    def __init__(self, bitfile: str | Path, *, dma: str = "axi_dma_0", download: bool = True,
                 start_ip: str | None = None, pynq_module: Any = None) -> None:
        bit = Path(bitfile)
        if not bit.is_file():
            raise BoardUnavailable(f"bitfile not found: {bit}")
        hwh = bit.with_suffix(".hwh")
        if not hwh.is_file():
            raise BoardUnavailable(f"{hwh.name} not found next to {bit.name}: PYNQ needs the hardware "
                                   "handoff file of the same build, with the same stem")
        if pynq_module is None:
            try:
                pynq_module = importlib.import_module("pynq")
            except ImportError as exc:
                raise BoardUnavailable(f"cannot import pynq ({exc}): run this on a PYNQ image, "
                                       "or use the emulated overlay (runner.py --emulated)") from exc
        self._pynq = pynq_module
        try:
            self.overlay = pynq_module.Overlay(str(bit), download=download)
        except Exception as exc:  # pynq raises many kinds; all mean "no overlay"
            raise BoardUnavailable(f"loading overlay {bit} failed: {type(exc).__name__}: {exc}") from exc
        self.dma_name, self.dma = _resolve_dma(self.overlay, dma)
        if start_ip:
            ip = _resolve_attr(self.overlay, start_ip)
            if ip is None:
                raise BoardUnavailable(f"IP {start_ip!r} not found in overlay {bit.name}")
            ip.write(0x00, 0x81)  # ap_start | auto_restart in the ap_ctrl_hs control register
        self.label = f"pynq:{bit.name}"

    @property
    def sendchannel(self) -> Any:
        return self.dma.sendchannel

    @property
    def recvchannel(self) -> Any:
        return self.dma.recvchannel

    def allocate(self, shape: Sequence[int] | int, dtype: Any) -> Any:
        return self._pynq.allocate(shape=shape, dtype=dtype)

    def close(self) -> None:
        """Nothing to release beyond the buffers the driver frees; the overlay stays loaded."""


def _resolve_attr(obj: Any, path: str) -> Any:
    cur = obj
    for part in path.replace("/", ".").split("."):
        try:
            cur = getattr(cur, part)
        except AttributeError:
            return None
    return cur


def _resolve_dma(overlay: Any, path: str) -> tuple[str, Any]:
    dma = _resolve_attr(overlay, path)
    if dma is not None and hasattr(dma, "sendchannel"):
        return path, dma
    names = list(getattr(overlay, "ip_dict", {}) or {})
    candidates = [n for n in names if "axi_dma" in n.lower()]
    if len(candidates) == 1:
        dma = _resolve_attr(overlay, candidates[0])
        if dma is not None and hasattr(dma, "sendchannel"):
            return candidates[0].replace("/", "."), dma
    raise BoardUnavailable(f"no AXI DMA {path!r} in the overlay (DMA-like IPs: {candidates or 'none'}; "
                           f"all IPs: {names or 'unknown'}); pass the right 'dma' path")


# ---------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------

class AcceleratorDriver:
    """Runs batches through the accelerator: encode -> DMA out/in -> decode.

    ``backend`` provides ``allocate(shape, dtype)``, ``sendchannel``, ``recvchannel`` (and
    optionally ``dma_name``, ``emulated``, ``close()``); see :class:`PynqBackend` and
    :class:`~.emulated.EmulatedOverlay`. ``max_batch`` and ``max_buffer_bytes`` bound one
    transfer. Each channel wait may last ``timeout_s + n * timeout_per_sample_s`` for a chunk of
    ``n`` samples: the fixed part covers start-up, the per-sample part slow designs (10 ms per
    sample covers hls4ml designs up to the ~8 ms CNNs of MLPerf Tiny; raise it for slower ones).
    """

    def __init__(self, backend: Any, io: IOSpec | Mapping[str, Any], *, max_batch: int | None = None,
                 max_buffer_bytes: int = DEFAULT_MAX_BUFFER_BYTES, timeout_s: float = 5.0,
                 timeout_per_sample_s: float = 0.01, poll_s: float = 5e-5) -> None:
        self.backend = backend
        self.io = io if isinstance(io, IOSpec) else IOSpec.from_dict(io)
        self.timeout_s = float(timeout_s)
        self.timeout_per_sample_s = float(timeout_per_sample_s)
        self.poll_s = float(poll_s)
        self.dma_name = str(getattr(backend, "dma_name", "axi_dma_0"))
        per_sample = max(self.io.in_bytes, self.io.out_bytes)
        limit = int(max_buffer_bytes)
        for ch in (backend.sendchannel, backend.recvchannel):
            hw_max = getattr(ch, "max_size", None) or getattr(ch, "_max_size", None)
            if isinstance(hw_max, (int, np.integer)) and hw_max > 0:
                limit = min(limit, int(hw_max))
        if per_sample > limit:
            raise DriverError(f"one sample needs {per_sample} bytes, more than one DMA buffer "
                              f"({limit} bytes); raise max_buffer_bytes or the DMA's length width")
        self.chunk_size = limit // per_sample
        if max_batch is not None:
            if int(max_batch) < 1:
                raise ValueError("max_batch must be >= 1")
            self.chunk_size = min(self.chunk_size, int(max_batch))
        self._buffers: dict[int, tuple[Any, Any]] = {}
        self._lock = threading.Lock()
        self._broken: str | None = None
        self.transfers = 0
        self.bytes_moved = 0

    # -- encode / decode ------------------------------------------------------------------
    def _as_batch(self, x: Any) -> tuple[np.ndarray, bool]:
        a = np.asarray(x)
        shape = self.io.input_shape
        if a.shape == shape:
            return a.reshape((1,) + shape), True
        if a.ndim >= 1 and a.shape[1:] == shape:
            return a, False
        if a.ndim == 2 and a.shape[1] == self.io.in_words:  # already flattened samples
            return a.reshape((a.shape[0],) + shape), False
        raise DriverError(f"input of shape {a.shape} does not match the accelerator's input shape "
                          f"{shape} (batch dimension first)")

    def encode_inputs(self, x: Any) -> np.ndarray:
        """Batch of inputs -> stream words, shape ``(n, in_words)``."""
        batch, _ = self._as_batch(x)
        return self.io.input.encode(batch.reshape(batch.shape[0], -1))

    def decode_outputs(self, words: np.ndarray) -> np.ndarray:
        """Stream words ``(n * out_words,)`` -> outputs ``(n, *output_shape)``."""
        vals = self.io.output.decode(words)
        return vals.reshape((-1,) + self.io.output_shape)

    # -- running --------------------------------------------------------------------------
    def predict(self, x: Any) -> np.ndarray:
        """Outputs of the accelerator for a batch ``(n, *input_shape)`` (or one sample)."""
        batch, single = self._as_batch(x)
        words = self.io.input.encode(batch.reshape(batch.shape[0], -1))
        out = self.run_words(words)
        y = self.decode_outputs(out)
        return y[0] if single else y

    def run_words(self, words: np.ndarray) -> np.ndarray:
        """Stream words ``(n, in_words)`` in, raw output words ``(n * out_words,)`` back."""
        words = np.asarray(words).reshape(-1, self.io.in_words)
        n = words.shape[0]
        out = np.empty(n * self.io.out_words, dtype=self.io.output.word_dtype)
        with self._lock:  # one DMA pair at a time: the channels are not reentrant
            if self._broken:
                raise DriverError(f"the DMA is stuck since an earlier timeout ({self._broken}); "
                                  "reload the overlay (new backend) before running again")
            for start in range(0, n, self.chunk_size):
                stop = min(n, start + self.chunk_size)
                try:
                    chunk = self._run_chunk(words[start:stop])
                except DMATimeout as exc:
                    self._broken = f"{exc.channel}, {exc.nbytes} bytes"
                    raise
                out[start * self.io.out_words: stop * self.io.out_words] = chunk
        return out

    def _run_chunk(self, words: np.ndarray) -> np.ndarray:
        n = words.shape[0]
        inbuf, outbuf = self._buffers_for(n)
        inbuf[:] = words.reshape(-1)
        _call(inbuf, "flush")
        send, recv = self.backend.sendchannel, self.backend.recvchannel
        timeout = self.timeout_s + n * self.timeout_per_sample_s
        # Receive first: the IP may start pushing results before the last input word arrives.
        recv.transfer(outbuf)
        send.transfer(inbuf)
        wait_channel(send, name="sendchannel", nbytes=inbuf.nbytes, timeout_s=timeout,
                     dma=self.dma_name, poll_s=self.poll_s)
        wait_channel(recv, name="recvchannel", nbytes=outbuf.nbytes, timeout_s=timeout,
                     dma=self.dma_name, poll_s=self.poll_s)
        _call(outbuf, "invalidate")
        self.transfers += 1
        self.bytes_moved += int(inbuf.nbytes) + int(outbuf.nbytes)
        return np.array(outbuf, copy=True)  # the buffer is reused by the next chunk

    def _buffers_for(self, n: int) -> tuple[Any, Any]:
        # Contiguous buffers are expensive to allocate; keep the full-chunk pair and the last
        # remainder pair (a repeated batch of the same size then never re-allocates).
        if n not in self._buffers:
            if len(self._buffers) >= 2:
                victim = next(k for k in self._buffers if k != self.chunk_size)
                self._free(self._buffers.pop(victim))
            inbuf = self.backend.allocate(shape=(n * self.io.in_words,), dtype=self.io.input.word_dtype)
            outbuf = self.backend.allocate(shape=(n * self.io.out_words,), dtype=self.io.output.word_dtype)
            self._buffers[n] = (inbuf, outbuf)
        return self._buffers[n]

    @staticmethod
    def _free(pair: tuple[Any, Any]) -> None:
        for buf in pair:
            if not _call(buf, "freebuffer"):
                _call(buf, "close")

    def close(self) -> None:
        """Free the DMA buffers (the CMA pool is small on the Zynq boards)."""
        with self._lock:
            for pair in self._buffers.values():
                self._free(pair)
            self._buffers.clear()
        _call(self.backend, "close")

    def __enter__(self) -> AcceleratorDriver:  # noqa: PYI034 - typing.Self needs Python 3.11
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> dict[str, Any]:
        """JSON-ready settings (for deploy.json)."""
        return {"io": self.io.to_dict(), "chunk_size": self.chunk_size, "timeout_s": self.timeout_s,
                "timeout_per_sample_s": self.timeout_per_sample_s,
                "dma": self.dma_name, "backend": str(getattr(self.backend, "label", type(self.backend).__name__)),
                "emulated": bool(getattr(self.backend, "emulated", False))}


def _call(obj: Any, method: str) -> bool:
    fn: Callable[[], Any] | None = getattr(obj, method, None)
    if fn is None:
        return False
    fn()
    return True
