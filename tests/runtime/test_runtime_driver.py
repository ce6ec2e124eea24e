"""The DMA driver over the emulated overlay and over a mock of the pynq API."""

from __future__ import annotations

import sys
import time
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hwflow.runtime.driver import AcceleratorDriver, BoardUnavailable, DMATimeout, DriverError, IOSpec, PynqBackend
from hwflow.runtime.emulated import EmulatedOverlay

W = np.random.default_rng(0).normal(size=(8, 3))
FIXED_IO = {"input_shape": [8], "output_shape": [3], "input": "ap_fixed<8,2,AP_RND,AP_SAT>",
            "output": "ap_fixed<16,6,AP_RND,AP_SAT>"}
FLOAT_IO = {"input_shape": [8], "output_shape": [3], "input": "float", "output": "float"}


def linear_predict(io: dict[str, Any]):
    spec = IOSpec.from_dict(io)

    def predict(x: np.ndarray) -> np.ndarray:
        return spec.output.quantize(x.reshape(len(x), -1) @ W) if hasattr(spec.output, "frac_bits") \
            else (x.reshape(len(x), -1) @ W).astype(np.float32)

    return predict


def test_fixed_io_bit_exact_and_chunked() -> None:
    spec = IOSpec.from_dict(FIXED_IO)
    ov = EmulatedOverlay(linear_predict(FIXED_IO), FIXED_IO)
    drv = AcceleratorDriver(ov, FIXED_IO, max_batch=64)
    x = np.random.default_rng(1).uniform(-3, 3, size=(150, 8))
    y = drv.predict(x)
    # The reference is what the IP computes on the quantised inputs.
    np.testing.assert_array_equal(y, linear_predict(FIXED_IO)(spec.input.quantize(x)))
    assert drv.chunk_size == 64 and drv.transfers == 3  # 64 + 64 + 22
    assert ov.samples_run == 150 and ov.runs == 3
    assert y.shape == (150, 3)


def test_words_round_trip_through_the_dma() -> None:
    io = {"input_shape": [4], "output_shape": [4], "input": "ap_fixed<12,3>", "output": "ap_fixed<12,3>"}
    ov = EmulatedOverlay(lambda x: x, io)  # an identity IP echoes the words
    drv = AcceleratorDriver(ov, io)
    codes = np.arange(-2048, 2048, dtype=np.int16).reshape(-1, 4)
    np.testing.assert_array_equal(drv.run_words(codes), codes.reshape(-1))


def test_buffer_size_limits_chunk_and_buffers_are_reused_and_freed() -> None:
    ov = EmulatedOverlay(linear_predict(FLOAT_IO), FLOAT_IO)
    drv = AcceleratorDriver(ov, FLOAT_IO, max_buffer_bytes=8 * 4 * 10)  # 10 samples of 8 float32
    assert drv.chunk_size == 10
    x = np.ones((25, 8), dtype=np.float32)
    drv.predict(x)
    drv.predict(x)
    assert set(drv._buffers) == {10, 5}
    bufs = [b for pair in drv._buffers.values() for b in pair]
    drv.close()
    assert all(b.freed for b in bufs)


def test_dma_max_size_of_the_channel_caps_chunks() -> None:
    ov = EmulatedOverlay(linear_predict(FLOAT_IO), FLOAT_IO, max_transfer_bytes=8 * 4 * 3)
    assert AcceleratorDriver(ov, FLOAT_IO).chunk_size == 3
    with pytest.raises(DriverError, match="one sample needs"):
        AcceleratorDriver(ov, FLOAT_IO, max_buffer_bytes=16)


def test_single_sample_and_bad_shapes() -> None:
    ov = EmulatedOverlay(linear_predict(FLOAT_IO), FLOAT_IO)
    drv = AcceleratorDriver(ov, FLOAT_IO)
    assert drv.predict(np.zeros(8)).shape == (3,)
    with pytest.raises(DriverError, match="does not match"):
        drv.predict(np.zeros((2, 7)))


def test_output_only_readable_after_wait() -> None:
    ov = EmulatedOverlay(lambda x: x[:, :3] * 2, FLOAT_IO)
    inbuf, outbuf = ov.allocate(8, np.float32), ov.allocate(3, np.float32)
    inbuf[:] = np.arange(8)
    ov.recvchannel.transfer(outbuf)
    ov.sendchannel.transfer(inbuf)
    assert ov.recvchannel.idle
    assert not np.array_equal(outbuf, [0, 2, 4])  # junk until the wait
    ov.sendchannel.wait()
    ov.recvchannel.wait()
    np.testing.assert_array_equal(outbuf, [0, 2, 4])
    with pytest.raises(ValueError, match="allocate"):
        ov.sendchannel.transfer(np.zeros(8, np.float32))


def test_dead_ip_times_out_quickly_with_a_clear_message() -> None:
    ov = EmulatedOverlay(linear_predict(FLOAT_IO), FLOAT_IO, hang=True)
    drv = AcceleratorDriver(ov, FLOAT_IO, timeout_s=0.2)
    t0 = time.monotonic()
    with pytest.raises(DMATimeout) as info:
        drv.predict(np.zeros((4, 8)))
    assert time.monotonic() - t0 < 1.0
    exc = info.value
    assert exc.channel == "sendchannel" and exc.nbytes == 4 * 8 * 4
    text = str(exc)
    assert "axi_dma_0.sendchannel" in text and "128-byte" in text
    assert ".hwh" in text and "Transfer OK" in text and "hang" in exc.detail
    with pytest.raises(DriverError, match="stuck"):  # the DMA stays hung: say so, do not retry blindly
        drv.predict(np.zeros((4, 8)))


def test_slow_result_times_out_on_the_receive_channel() -> None:
    ov = EmulatedOverlay(linear_predict(FLOAT_IO), FLOAT_IO, fixed_latency_s=5.0)
    drv = AcceleratorDriver(ov, FLOAT_IO, timeout_s=0.15)
    with pytest.raises(DMATimeout) as info:
        drv.predict(np.zeros((2, 8)))
    assert info.value.channel == "recvchannel" and info.value.nbytes == 2 * 3 * 4


def test_size_mismatch_hangs_like_hardware() -> None:
    # The bitstream produces 3 outputs per sample; the driver is told 4: the pair never completes.
    ov = EmulatedOverlay(linear_predict(FLOAT_IO), FLOAT_IO)
    wrong = dict(FLOAT_IO, output_shape=[4])
    drv = AcceleratorDriver(ov, wrong, timeout_s=0.1)
    with pytest.raises(DMATimeout) as info:
        drv.predict(np.zeros((5, 8)))
    assert "stalls" in info.value.detail


# ---------------------------------------------------------------------------------------------
# Mock of the pynq API
# ---------------------------------------------------------------------------------------------

class MockBuffer(np.ndarray):
    def flush(self) -> None:
        LOG.append(("flush", self.nbytes))

    def invalidate(self) -> None:
        LOG.append(("invalidate", self.nbytes))

    def freebuffer(self) -> None:
        LOG.append(("free", self.nbytes))


LOG: list[tuple[str, Any]] = []


class MockChannel:
    """Becomes idle after a few polls; the receive side doubles what the send side carried."""

    def __init__(self, name: str, dma: MockDMA) -> None:
        self.name, self.dma, self.polls, self.buf = name, dma, 0, None

    @property
    def idle(self) -> bool:
        self.polls += 1
        return self.polls > 3

    def transfer(self, buf: Any) -> None:
        LOG.append((f"{self.name}.transfer", buf.nbytes))
        self.buf, self.polls = buf, 0

    def wait(self) -> None:
        LOG.append((f"{self.name}.wait", self.polls))
        if self.name == "recv":
            self.buf[:] = self.dma.send.buf[: self.buf.size] * 2


class MockDMA:
    def __init__(self) -> None:
        self.send, self.recv = MockChannel("send", self), MockChannel("recv", self)
        self.sendchannel, self.recvchannel = self.send, self.recv


class MockIP:
    def __init__(self) -> None:
        self.writes: list[tuple[int, int]] = []

    def write(self, offset: int, value: int) -> None:
        self.writes.append((offset, value))


def make_pynq(dma_path: str = "axi_dma_0") -> types.ModuleType:
    mod = types.ModuleType("pynq")

    class Overlay:
        def __init__(self, bitfile: str, download: bool = True) -> None:
            self.bitfile, self.download = bitfile, download
            dma = MockDMA()
            if "." in dma_path:
                self.hier_0 = types.SimpleNamespace(axi_dma_0=dma)
            else:
                self.axi_dma_0 = dma
            self.ip_dict = {dma_path.replace(".", "/"): {}, "myproject_axi_0": {}}
            self.myproject_axi_0 = MockIP()

    def allocate(shape: Any, dtype: Any) -> MockBuffer:
        return np.zeros(shape, dtype=dtype).view(MockBuffer)

    mod.Overlay, mod.allocate = Overlay, allocate
    return mod


@pytest.fixture
def bitfile(tmp_path: Path) -> Path:
    bit = tmp_path / "design.bit"
    bit.write_bytes(b"\0")
    bit.with_suffix(".hwh").write_text("<hwh/>")
    return bit


def test_pynq_backend_over_mock(bitfile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynq", make_pynq())
    LOG.clear()
    backend = PynqBackend(bitfile, start_ip="myproject_axi_0")
    assert backend.overlay.myproject_axi_0.writes == [(0x00, 0x81)]
    io = {"input_shape": [4], "output_shape": [4], "input": "float", "output": "float"}
    drv = AcceleratorDriver(backend, io, max_batch=2)
    y = drv.predict(np.arange(12, dtype=np.float32).reshape(3, 4))
    np.testing.assert_array_equal(y, np.arange(12).reshape(3, 4) * 2)
    ops = [op for op, _ in LOG]
    # per chunk: flush, receive armed before send, send waited before receive, then invalidate
    assert ops[:6] == ["flush", "recv.transfer", "send.transfer", "send.wait", "recv.wait", "invalidate"]
    assert all(polls > 3 for op, polls in LOG if op.endswith(".wait"))  # wait only once idle
    drv.close()
    assert ("free", 32) in LOG


def test_pynq_backend_finds_dma_in_hierarchy(bitfile: Path) -> None:
    backend = PynqBackend(bitfile, pynq_module=make_pynq("hier_0.axi_dma_0"))
    assert backend.dma_name == "hier_0.axi_dma_0"


def test_pynq_backend_errors(tmp_path: Path, bitfile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BoardUnavailable, match="bitfile not found"):
        PynqBackend(tmp_path / "missing.bit")
    lonely = tmp_path / "lonely.bit"
    lonely.write_bytes(b"\0")
    with pytest.raises(BoardUnavailable, match="lonely.hwh"):
        PynqBackend(lonely)
    monkeypatch.setitem(sys.modules, "pynq", None)  # import pynq -> ImportError
    with pytest.raises(BoardUnavailable, match="--emulated"):
        PynqBackend(bitfile)
    with pytest.raises(BoardUnavailable, match="axi_dma_7"):
        PynqBackend(bitfile, dma="axi_dma_7", pynq_module=_no_dma_pynq())


def _no_dma_pynq() -> types.ModuleType:
    mod = make_pynq()
    base = mod.Overlay

    class NoDMA(base):  # type: ignore[misc, valid-type]
        def __init__(self, bitfile: str, download: bool = True) -> None:
            super().__init__(bitfile, download)
            del self.axi_dma_0
            self.ip_dict = {"myproject_axi_0": {}}

    mod.Overlay = NoDMA
    return mod


def test_channel_without_idle_uses_a_watchdog_thread(bitfile: Path) -> None:
    pynq = make_pynq()

    class Blocking:
        def transfer(self, buf: Any) -> None:
            pass

        def wait(self) -> None:
            time.sleep(30)  # a pynq wait() on a dead IP never returns

    backend = PynqBackend(bitfile, pynq_module=pynq)
    backend.dma = types.SimpleNamespace(sendchannel=Blocking(), recvchannel=Blocking())
    drv = AcceleratorDriver(backend, FLOAT_IO, timeout_s=0.1)
    t0 = time.monotonic()
    with pytest.raises(DMATimeout):
        drv.predict(np.zeros((1, 8)))
    assert time.monotonic() - t0 < 1.0


def test_timeout_grows_with_the_chunk() -> None:
    # A slow IP (5 ms per sample): 20 samples need 0.1 s, more than the 0.05 s fixed part.
    ov = EmulatedOverlay(linear_predict(FLOAT_IO), FLOAT_IO, seconds_per_sample=0.005)
    x = np.zeros((20, 8))
    assert AcceleratorDriver(ov, FLOAT_IO, timeout_s=0.05, timeout_per_sample_s=0.01).predict(x).shape == (20, 3)
    ov.reset()
    with pytest.raises(DMATimeout):
        AcceleratorDriver(ov, FLOAT_IO, timeout_s=0.05, timeout_per_sample_s=0.0).predict(x)


def test_dma_error_bits_are_reported() -> None:
    class Broken:
        idle = False
        error = True

        def transfer(self, buf: Any) -> None:
            pass

        def wait(self) -> None:  # pragma: no cover - never reached
            raise AssertionError

    ov = EmulatedOverlay(linear_predict(FLOAT_IO), FLOAT_IO)
    ov.dma = types.SimpleNamespace(sendchannel=Broken(), recvchannel=Broken())
    with pytest.raises(DriverError, match="DMA error"):
        AcceleratorDriver(ov, FLOAT_IO, timeout_s=2.0).predict(np.zeros((1, 8)))
