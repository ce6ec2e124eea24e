"""An emulated PYNQ overlay: the minimal pynq API the driver uses, with a Python ``predict`` inside.

It stands in for ``Overlay(bitfile)`` + ``pynq.allocate`` so that the *same* driver code runs on a
PC (the emulated deployment, the tests) as on the board. What it keeps of real DMA behaviour,
because those are the ways a real deployment goes wrong:

* buffers come from :meth:`EmulatedOverlay.allocate` (numpy arrays with ``flush()``,
  ``invalidate()``, ``physical_address``, ``freebuffer()``); a plain numpy array or a freed buffer
  is refused, as pynq refuses memory it cannot give the DMA;
* the accelerator runs only when a send *and* a receive transfer are both pending; the output
  buffer is filled with junk at ``transfer()`` time and holds the results only after the receive
  channel's ``wait()`` (or ``invalidate()`` once idle) - a driver that reads early sees junk;
* sizes are checked: a transfer larger than its buffer or than the DMA's maximum raises
  ``ValueError``; a send/receive pair whose sizes are not whole, equal numbers of samples never
  completes (the IP stalls, like real hardware) so the driver's timeout fires. ``diagnostic`` on
  the channel then says why, which a real board cannot;
* ``transfer()`` on a busy channel raises ``RuntimeError('DMA channel not idle')``.

The inputs given to ``predict`` are what the IP would see: for ``ap_fixed`` I/O the decoded
fixed-point values, for float I/O the float32 words. ``predict``'s outputs are encoded to the
output wire type, as the IP's output stage would.

Only the standard library and numpy are imported: this file ships to the board.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .driver import IOSpec

_JUNK = 0xA5  # byte pattern of an output buffer that the "hardware" has not written yet


class EmulatedBuffer(np.ndarray):
    """A numpy array that looks like a ``pynq`` contiguous buffer."""

    physical_address: int
    owner: Any
    freed: bool

    def __array_finalize__(self, obj: Any) -> None:
        self.physical_address = getattr(obj, "physical_address", 0)
        self.owner = getattr(obj, "owner", None)
        self.freed = getattr(obj, "freed", False)

    @property
    def device_address(self) -> int:
        return self.physical_address

    def flush(self) -> None:
        """CPU cache -> DDR. Nothing to do in emulation; kept for API parity."""

    def invalidate(self) -> None:
        """DDR -> CPU view: makes finished DMA results visible."""
        owner = self.owner
        if owner is not None:
            owner._deliver(self)

    def freebuffer(self) -> None:
        self.freed = True

    close = freebuffer


class EmulatedChannel:
    """One direction of an AXI DMA (MM2S = send, S2MM = receive)."""

    def __init__(self, overlay: EmulatedOverlay, direction: str, max_size: int) -> None:
        self._ov = overlay
        self.direction = direction
        self.max_size = int(max_size)
        self.running = True
        self.diagnostic = ""
        self._active = False
        self._done_at: float | None = None
        self.buffer: EmulatedBuffer | None = None
        self.nbytes = 0
        self.payload: bytes = b""
        self._start = 0

    @property
    def idle(self) -> bool:
        with self._ov._lock:
            if not self._active:
                return True
            return self._done_at is not None and time.monotonic() >= self._done_at

    def transfer(self, array: Any, start: int = 0, nbytes: int = 0) -> None:
        if not isinstance(array, EmulatedBuffer) or array.owner is not self._ov:
            raise ValueError("DMA transfers need a buffer from this overlay's allocate() "
                             "(a plain numpy array has no physical address)")
        if array.freed:
            raise ValueError("transfer from a freed buffer")
        size = int(nbytes) or int(array.nbytes) - int(start)
        if start < 0 or size <= 0 or start + size > array.nbytes:
            raise ValueError(f"transfer of {size} bytes at offset {start} does not fit a "
                             f"{array.nbytes}-byte buffer")
        if size > self.max_size:
            raise ValueError(f"transferred array is {size} bytes, which exceeds the maximum DMA "
                             f"buffer size {self.max_size}")
        with self._ov._lock:
            if self._active and not (self._done_at is not None and time.monotonic() >= self._done_at):
                raise RuntimeError("DMA channel not idle")
            raw = array.view(np.uint8).reshape(-1)
            self.buffer, self.nbytes, self._active, self._done_at = array, size, True, None
            self.diagnostic = ""
            if self.direction == "send":
                self.payload = raw[start:start + size].tobytes()  # what the DMA reads from DDR
            else:
                raw[start:start + size] = _JUNK
                self._start = start
        self._ov._try_run()

    def wait(self) -> None:
        """Block until done, like pynq. A channel that never completes raises after the
        overlay's ``wait_limit_s`` (a real board would hang forever)."""
        if not self._active:
            raise RuntimeError("DMA channel not started")
        deadline = time.monotonic() + self._ov.wait_limit_s
        while not self.idle:
            if time.monotonic() > deadline:
                raise RuntimeError(f"emulated DMA {self.direction} channel never completes "
                                   f"({self.diagnostic or 'no matching transfer'}); a real board "
                                   "would hang here forever")
            time.sleep(1e-4)
        if self.direction == "recv" and self.buffer is not None:
            self._ov._deliver(self.buffer)
        self._active = False


class EmulatedDMA:
    def __init__(self, overlay: EmulatedOverlay, max_size: int) -> None:
        self.sendchannel = EmulatedChannel(overlay, "send", max_size)
        self.recvchannel = EmulatedChannel(overlay, "recv", max_size)


class EmulatedOverlay:
    """Stands in for ``pynq.Overlay`` + ``pynq.allocate``; also a driver backend.

    ``predict(x) -> y`` gets ``(n, *input_shape)`` and must return ``n * prod(output_shape)``
    values. ``seconds_per_sample`` delays both channels (the IP's throughput), ``fixed_latency_s``
    delays the receive channel further (its latency); ``hang=True`` makes every transfer stall
    (a dead IP).
    """

    emulated = True
    label = "emulated"

    def __init__(self, predict: Callable[[np.ndarray], Any], io: IOSpec | Mapping[str, Any], *,
                 dma: str = "axi_dma_0", seconds_per_sample: float = 0.0, fixed_latency_s: float = 0.0,
                 max_transfer_bytes: int = (1 << 26) - 1, hang: bool = False,
                 wait_limit_s: float = 10.0) -> None:
        self.predict = predict
        self.io = io if isinstance(io, IOSpec) else IOSpec.from_dict(io)
        self.seconds_per_sample = float(seconds_per_sample)
        self.fixed_latency_s = float(fixed_latency_s)
        self.hang = bool(hang)
        self.wait_limit_s = float(wait_limit_s)
        self.dma_name = dma
        self._lock = threading.RLock()
        self._next_address = 0x1000_0000
        self._results: dict[int, bytes] = {}  # id(recv buffer) -> bytes the IP wrote
        self.dma = EmulatedDMA(self, max_transfer_bytes)
        setattr(self, dma.split(".")[-1], self.dma)  # ol.axi_dma_0, as on the board
        self.ip_dict = {dma: {"type": "xilinx.com:ip:axi_dma:7.1"}}
        self.samples_run = 0
        self.runs = 0

    # -- the pynq surface the driver uses ------------------------------------------------
    @property
    def sendchannel(self) -> EmulatedChannel:
        return self.dma.sendchannel

    @property
    def recvchannel(self) -> EmulatedChannel:
        return self.dma.recvchannel

    def allocate(self, shape: Sequence[int] | int, dtype: Any = np.uint32) -> EmulatedBuffer:
        arr = np.zeros(shape, dtype=dtype).view(EmulatedBuffer)
        arr.owner, arr.freed = self, False
        with self._lock:
            arr.physical_address = self._next_address
            self._next_address += (arr.nbytes + 0xFFF) & ~0xFFF  # page-aligned, like CMA
        return arr

    def reset(self) -> None:
        """What reloading the overlay does: abandon any stalled transfer."""
        with self._lock:
            self.dma = EmulatedDMA(self, self.dma.sendchannel.max_size)
            setattr(self, self.dma_name.split(".")[-1], self.dma)
            self._results.clear()

    def close(self) -> None:
        """Nothing to release."""

    # -- the "hardware" -------------------------------------------------------------------
    def _try_run(self) -> None:
        with self._lock:
            send, recv = self.dma.sendchannel, self.dma.recvchannel
            if not (send._active and recv._active) or send._done_at is not None or recv._done_at is not None:
                return
            if self.hang:
                send.diagnostic = recv.diagnostic = "emulated IP set to hang (hang=True)"
                return
            n_in, r_in = divmod(send.nbytes, self.io.in_bytes)
            n_out, r_out = divmod(recv.nbytes, self.io.out_bytes)
            if r_in or r_out or n_in != n_out or n_in == 0:
                why = (f"send carries {send.nbytes} B = {send.nbytes / self.io.in_bytes:g} samples of "
                       f"{self.io.in_bytes} B, receive expects {recv.nbytes} B = "
                       f"{recv.nbytes / self.io.out_bytes:g} samples of {self.io.out_bytes} B: the IP stalls")
                send.diagnostic = recv.diagnostic = why
                return
            words = np.frombuffer(send.payload, dtype=self.io.input.word_dtype)
            x = self.io.input.decode(words).reshape((n_in,) + self.io.input_shape)
            y = np.asarray(self.predict(x))
            if y.size != n_in * self.io.out_words:
                raise ValueError(f"emulated predict returned shape {y.shape} for {n_in} samples; "
                                 f"expected {n_in} x {self.io.output_shape}")
            out = self.io.output.encode(y.reshape(n_in, -1)).reshape(-1)
            self._results[id(recv.buffer)] = out.tobytes()
            # The IP drains its input at its throughput; the last result follows one latency later.
            send._done_at = time.monotonic() + n_in * self.seconds_per_sample
            recv._done_at = send._done_at + self.fixed_latency_s
            self.samples_run += n_in
            self.runs += 1

    def _deliver(self, buf: EmulatedBuffer) -> None:
        """Make finished results visible in ``buf`` (done by wait()/invalidate())."""
        with self._lock:
            recv = self.dma.recvchannel
            if recv.buffer is not buf or not recv._active or recv._done_at is None \
                    or time.monotonic() < recv._done_at:
                return
            data = self._results.pop(id(buf), None)
            if data is None:
                return
            raw = buf.view(np.uint8).reshape(-1)
            start = getattr(recv, "_start", 0)
            raw[start:start + len(data)] = np.frombuffer(data, dtype=np.uint8)
