"""The common layer IR of the estimator: one :class:`LayerSpec` per hls4ml layer call.

Every front-end (a fixture's ``layers.json``, an hls4ml project directory, an
hls4ml ``ModelGraph``) reduces what it reads to this one dataclass, so the cost
model in :mod:`hwflow.estimate.model` sees the same facts whatever the source.
The fields mirror what hls4ml itself puts into the ``static const`` members of
a layer's config struct in ``firmware/parameters.h`` (``n_in``, ``reuse_factor``,
``multiplier_limit``, ...) plus the bit widths of the types the layer uses,
because those two things are what Vivado/Vitis HLS sees when it schedules and
binds the layer.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

#: Kinds whose multipliers hold trained weights (the ones reuse factors and pruning act on).
WEIGHT_KINDS = (
    "dense",
    "conv1d",
    "conv2d",
    "depthwise_conv1d",
    "depthwise_conv2d",
    "pointwise_conv1d",
    "pointwise_conv2d",
)

#: Layer kinds the cost model knows. Anything else becomes ``unknown``.
KNOWN_KINDS = (
    *WEIGHT_KINDS,
    "pooling1d",
    "pooling2d",
    "global_pooling1d",
    "global_pooling2d",
    "activation",
    "softmax",
    "batchnorm",
    "layernorm",
    "padding",
    "merge",
    "concat",
    "clone",
    "reshape",
    "resize",
    "slice",
    "rnn",
    "dense_da",
)


@dataclass
class LayerSpec:
    """What one hls4ml layer costs depends on: its shape, its reuse/strategy/io settings, its widths.

    Sizes are element counts *per inference* (``n_in``/``n_out``); for
    convolutions and pooling the spatial fields are filled too (1-D layers use
    ``*_width`` and leave heights at 1). ``n_nonzero`` counts the weights that
    survive pruning; hls4ml removes zero multiplications for the latency
    strategy (constant weights), so it matters for DSP/LUT counts.
    """

    name: str
    kind: str
    op: str | None = None  # relu / sigmoid / softmax / max / average / add ...
    func: str | None = None  # the nnet:: function the project calls, when known
    n_in: int = 0
    n_out: int = 0
    in_height: int = 1
    in_width: int = 1
    n_chan: int = 1
    out_height: int = 1
    out_width: int = 1
    n_filt: int = 1
    filt_height: int = 1
    filt_width: int = 1
    stride_height: int = 1
    stride_width: int = 1
    reuse_factor: int = 1
    strategy: str = "latency"  # latency | resource
    io_type: str = "io_parallel"  # io_parallel | io_stream
    implementation: str | None = None  # conv: linebuffer / encoded; softmax: stable / latency / legacy
    weight_bits: int | None = None
    bias_bits: int | None = None
    input_bits: int | None = None
    accum_bits: int | None = None
    result_bits: int | None = None
    input_int: int | None = None  # integer bits of the input / result types (fixed point)
    result_int: int | None = None
    result_rnd: bool = False  # the result type rounds (AP_RND*) / saturates (AP_SAT*)
    result_sat: bool = False
    table_bits: int | None = None
    table_size: int | None = None
    # softmax, hls4ml >= 1.1's stable code: log2 of the largest argument its exp table is built for
    # (2^integer bits of ``inp_norm_t`` x ``exp_scale``); None: older code or not said
    exp_arg_log2: float | None = None
    n_weights: int = 0
    n_nonzero: int | None = None
    multiplier_limit: int | None = None
    n_partitions: int | None = None  # io_parallel conv: output pixels processed one partition at a time
    # the config's own n_partitions (hls4ml picks a dataflow top when it is not 1, even where an
    # old pointwise kernel then unrolls the partitions and n_partitions above is 1)
    cfg_partitions: int | None = None
    # io_parallel: the top function partitions the arrays between layers (an ARRAY_PARTITION
    # pragma; hls4ml >= 0.6 always writes one). None: not known, assumed
    top_partitioned: bool | None = None
    in_pack: int | None = None  # io_stream: elements per stream word in / out (nnet::array<T, N>)
    out_pack: int | None = None
    fifo_depth: int | None = None  # io_stream: depth of the FIFO this layer writes, when the project says
    store_weights_in_bram: bool = False
    # Weight-aware counts (hwflow.estimate.weights), when the weight values are known: constant
    # products that vanish (quantized to 0), become shifts (±2^k) or stay, and the mean number
    # of nonzero signed digits of the ones that stay. None = weights not seen.
    w_zero: int | None = None
    w_pow2: int | None = None
    w_other: int | None = None
    w_two: int | None = None  # of w_other: constants of two signed digits (one adder)
    w_csd: float | None = None
    # Recurrent layers (kind "rnn", op gru / lstm / simple_rnn): state size, time steps, and
    # hls4ml's use_static (one cell reused over the time steps, its state kept between calls).
    n_state: int = 0
    n_timesteps: int = 1
    rnn_static: bool = True
    # the recurrent kernel's own reuse factor (hls4ml's mult_config2; None: the layer's)
    recurrent_reuse: int | None = None
    # the layer reads its sequence from the top's input port packed into one word (io_parallel
    # ARRAY_RESHAPE): every time step selects its inputs out of that word with variable shifts
    input_reshaped: bool = False
    # Distributed-arithmetic dense (hls4ml 1.3 ``dense_da_<i>``): its explicit adder graph.
    da_adders: int = 0
    da_adder_bits: int = 0
    da_depth: float = 0.0
    notes: list[str] = field(default_factory=list)

    # ----------------------------------------------------------------- derived
    @property
    def is_known(self) -> bool:
        return self.kind in KNOWN_KINDS

    @property
    def has_weights(self) -> bool:
        return self.kind in WEIGHT_KINDS

    @property
    def out_pixels(self) -> int:
        """Output positions that reuse one kernel (1 for dense)."""
        if self.kind in ("conv1d", "conv2d", "depthwise_conv1d", "depthwise_conv2d",
                         "pointwise_conv1d", "pointwise_conv2d"):
            return max(1, self.out_height * self.out_width)
        return 1

    @property
    def is_conv(self) -> bool:
        return self.kind in ("conv1d", "conv2d", "depthwise_conv1d", "depthwise_conv2d",
                             "pointwise_conv1d", "pointwise_conv2d")

    @property
    def parallel_pixels(self) -> int:
        """Output pixels computed at once: all of them for old io_parallel convs, out/n_partitions
        for hls4ml >= 0.7 io_parallel convs (ParallelizationFactor), one for io_stream."""
        if not self.is_conv or self.io_type == "io_stream":
            return 1
        if self.n_partitions and self.n_partitions > 0:
            return max(1, self.out_pixels // self.n_partitions)
        if self.strategy == "resource":  # conv_*_large_cl: im2col, one pixel after the other
            return 1
        return self.out_pixels

    @property
    def sequential_steps(self) -> int:
        """Kernel invocations done one after the other per inference (pixels / partitions)."""
        if not self.is_conv:
            return 1
        if self.io_type == "io_stream":
            return max(1, self.in_height * self.in_width)
        return max(1, self.out_pixels // self.parallel_pixels)

    @property
    def kernel_mults(self) -> int:
        """Multiplications of one kernel invocation (one output pixel, all filters)."""
        if self.kind == "dense":
            return self.n_in * self.n_out
        if self.kind in ("conv1d", "conv2d", "pointwise_conv1d", "pointwise_conv2d"):
            return self.filt_height * self.filt_width * self.n_chan * self.n_filt
        if self.kind in ("depthwise_conv1d", "depthwise_conv2d"):
            return self.filt_height * self.filt_width * self.n_chan * max(1, self.n_filt // max(1, self.n_chan))
        return 0

    @property
    def kernel_nonzero(self) -> int:
        """Nonzero weights of the kernel (pruned weights removed)."""
        km = self.kernel_mults
        if self.n_nonzero is None or self.n_weights <= 0:
            return km
        return max(0, min(km, self.n_nonzero))

    @property
    def kernel_products(self) -> int:
        """Products of the kernel that stay: the nonzero weights, less those quantized to 0 when the
        weight values are known (zeros, ±2^k shifts and the rest: ``w_zero`` + ``w_pow2`` + ``w_other``)."""
        nz = self.kernel_nonzero
        if self.w_other is None:
            return nz
        return min(nz, self.w_other + (self.w_pow2 or 0))

    @property
    def macs(self) -> int:
        """Multiply-accumulates per inference."""
        return self.kernel_mults * self.out_pixels

    @property
    def n_multipliers(self) -> int:
        """Multiplier instances HLS is allowed to build for this layer.

        hls4ml caps them with ``#pragma HLS ALLOCATION ... limit=multiplier_limit``
        (latency strategy: ceil(n/RF) minus the pruned ones, because constant
        zero weights vanish) or by the block factor ceil(n/RF) (resource
        strategy: weights sit in memories, pruning does not remove hardware).
        """
        if not self.has_weights:
            return 0
        rf = max(1, self.reuse_factor)
        km = self.kernel_mults
        if self.strategy == "resource":
            per_kernel = math.ceil(km / rf)
        else:
            nnz = self.kernel_nonzero
            limit = math.ceil(km / rf) - (km - nnz) // rf
            if self.multiplier_limit is not None and 0 < self.multiplier_limit <= km:
                limit = self.multiplier_limit
            per_kernel = max(1 if nnz else 0, min(limit, nnz))
        return per_kernel * self.parallel_pixels

    @property
    def weight_bits_total(self) -> int:
        """Bits of weight storage (nonzero weights for latency, all for resource)."""
        if not self.has_weights:
            return 0
        wb = self.weight_bits or 16
        n = self.kernel_mults if self.strategy == "resource" else self.kernel_nonzero
        return n * wb

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["is_known"] = self.is_known
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LayerSpec:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in names})


# --------------------------------------------------------------------------- types

_FIXED_RE = re.compile(r"ap_u?fixed\s*<\s*(\d+)")
_INT_RE = re.compile(r"ap_u?int\s*<\s*(\d+)")
_FIXED_INT_RE = re.compile(r"ap_u?fixed\s*<\s*(\d+)\s*,\s*(-?\d+)")
_ARRAY_RE = re.compile(r"nnet::array\s*<\s*(.+)\s*,\s*([^,>]+)\s*>\s*$")
_PLAIN_BITS = {"float": 32, "double": 64, "int": 32, "unsigned": 32, "bool": 1, "char": 8, "short": 16}


def _element_type(type_str: str) -> str:
    """The element type of an io_stream word (``nnet::array<T, N>`` -> T), else the type itself."""
    s = type_str.strip()
    m = _ARRAY_RE.match(s)
    return m.group(1) if m else s


def type_bits(type_str: str | None) -> int | None:
    """Width in bits of a C++ type as hls4ml writes it (``ap_fixed<16,6>``, ``nnet::array<...>``)."""
    if not type_str:
        return None
    s = _element_type(type_str)
    m = _FIXED_RE.search(s) or _INT_RE.search(s)
    if m:
        return int(m.group(1))
    base = s.replace("unsigned ", "").strip()
    return _PLAIN_BITS.get(base)


def type_int_bits(type_str: str | None) -> int | None:
    """Integer bits of a fixed-point type (``ap_fixed<16,6>``: 6; ``ap_int<8>``: 8), else None."""
    if not type_str:
        return None
    s = _element_type(type_str)
    m = _FIXED_INT_RE.search(s)
    if m:
        return int(m.group(2))
    m = _INT_RE.search(s)
    return int(m.group(1)) if m else None


def type_quant(type_str: str | None) -> tuple[bool, bool]:
    """(rounds, saturates): whether a value converted to this type is rounded (an ``AP_RND*``
    quantization mode, not the default truncation) and saturated (``AP_SAT*``, not the default
    wrap-around) - each is logic on every element converted, not just wires."""
    if not type_str:
        return False, False
    s = type_str.upper()
    return "RND" in s, "SAT" in s


def array_len(type_str: str | None) -> int | None:
    """Elements per stream word of an ``nnet::array<T, N>`` (io_stream), else None."""
    if not type_str:
        return None
    m = _ARRAY_RE.match(type_str.strip())
    if not m:
        return None
    try:
        return int(eval_int_expr(m.group(2)))
    except ValueError:
        return None


def eval_int_expr(expr: str) -> int:
    """Evaluate a small integer C expression (``4*1``, ``16u``) with C's integer division.

    Bounded (see :mod:`hwflow.estimate.cexpr`): no Python ``eval``; raises ValueError
    for anything that is not a constant integer within 64 bits.
    """
    from .cexpr import eval_c_expr

    v = eval_c_expr(expr, {})
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"not a constant integer expression: {expr!r}")
    return v
