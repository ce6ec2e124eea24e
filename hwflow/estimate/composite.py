"""Parts the layer models share - when a general multiplier goes to DSP slices, what a
per-channel constant scale costs - and the layers built only from such parts, without a
calibration design of their own: hls4ml's LayerNormalization and the element-wise Multiply. Their figures use the
fitted cost of each part (adders, multipliers, lookup tables, registers), and the estimate says
they are outside the calibration data (``out_of_domain``) with a wider interval."""

from __future__ import annotations

import math

from .devices import dsps_per_multiplier
from .layerspec import LayerSpec
from .schedule import T_MULT_NS, Context, _bits, adder_ns, logic_speed


def general_on_dsp(x: int, y: int, ctx: Context, hyper: dict[str, float]) -> bool:
    """Whether HLS binds a general (non-constant) ``x`` by ``y``-bit multiplier to DSP slices:
    once the wider operand is wide, unless the narrower is only a few bits (``config_op mul
    -impl`` overrides)."""
    if ctx.mul_impl in ("fabric", "dsp"):
        return ctx.mul_impl == "dsp"
    return max(x, y) >= hyper["dsp_min_bits"] and min(x, y) >= 4


def _variable_product(f: dict[str, float], n: float, x: int, y: int, ctx: Context, hyper: dict[str, float]) -> None:
    """``n`` products of two variables: a general multiplier each, on DSPs or in LUTs."""
    if n <= 0:
        return
    if general_on_dsp(x, y, ctx, hyper):
        f["dsp_shared"] = f.get("dsp_shared", 0.0) + n * dsps_per_multiplier(x, y, ctx.family)
    else:
        f["lut_mul_fabric"] = f.get("lut_mul_fabric", 0.0) + n * x * y / 2.0


def scale_products(f: dict[str, float], n: float, scale_bits: int, data_bits: int, spec: LayerSpec | None,
                   ctx: Context, hyper: dict[str, float]) -> None:
    """``n`` products of a value by a per-channel constant scale (batch / layer normalisation).
    Weight-aware where ``spec`` carries the scale values: a scale that quantizes to 0 or +-2^k
    is a shift, one of two signed digits an adder, only the others a multiplier (QKeras alpha
    scales of 2.0: 0 DSPs reported; 8-bit scales, 15 of 16 two-digit: 0; 6 of 16 others: 8)."""
    mul = float(n)
    if spec is not None and spec.w_other is not None and spec.n_weights:
        two = spec.w_two or 0
        mul = n * max(0, spec.w_other - two) / float(spec.n_weights)
        f["lut_add"] = f.get("lut_add", 0.0) + n * two / float(spec.n_weights) * (data_bits + scale_bits)
    if ctx.mul_impl != "fabric" and min(scale_bits, data_bits) >= hyper["dsp_min_bits"]:
        f["dsp_bn"] = f.get("dsp_bn", 0.0) + mul * dsps_per_multiplier(scale_bits, data_bits, ctx.family)
    else:
        f["lut_mul_fabric"] = f.get("lut_mul_fabric", 0.0) + mul * scale_bits * data_bits / 2.0


def multiply_features(spec: LayerSpec, ctx: Context, hyper: dict[str, float], par: int) -> dict[str, float]:
    """``Multiply`` of two tensors (hls4ml's ``nnet::multiply``): one product per element."""
    f: dict[str, float] = {}
    a = _bits(spec.input_bits)
    _variable_product(f, par, a, a, ctx, hyper)
    return f


def layernorm_features(spec: LayerSpec, ctx: Context, hyper: dict[str, float]) -> dict[str, float]:
    """hls4ml 1.3's LayerNormalization (``nnet::layernormalize``, io_parallel), per sequence position
    of ``dim`` values: the sum, the mean (a constant product), ``dim`` differences, ``dim``
    squares and their sum, the variance (a constant product), one lookup of 1/sqrt(var) in a
    table, then per value (difference x 1/sqrt) x scale + bias. The positions' loop is pipelined
    (II 1); inside hls4ml's pipelined top function it is unrolled - all positions at once -
    while under a dataflow top (a resource-strategy layer elsewhere) one position per cycle."""
    f: dict[str, float] = {}

    def add(name: str, v: float) -> None:
        f[name] = f.get(name, 0.0) + float(v)

    seq = max(1, spec.in_width)
    dim = max(1, spec.n_chan)
    pos = 1 if ctx.dataflow else seq  # positions built side by side
    a = _bits(spec.input_bits)
    acc = _bits(spec.accum_bits, 2 * a)
    res = _bits(spec.result_bits, a)
    tb = _bits(spec.table_bits, 18)
    sb = _bits(spec.weight_bits, 16)
    # adders: the two sums, the differences, and the bias
    add("lut_add", pos * (3 * dim * acc + dim * res))
    # squares and the normalising product: variable x variable
    _variable_product(f, pos * dim, acc, acc, ctx, hyper)
    _variable_product(f, pos * dim, acc, tb, ctx, hyper)
    # the scale (gamma): a constant per value, weight-aware; and the two constant products by
    # 1/dim (mean, variance)
    scale_products(f, pos * dim, sb, acc, spec, ctx, hyper)
    scale_products(f, pos * 2, sb, acc, None, ctx, hyper)
    # the 1/sqrt table: one lookup per position (a block RAM has two read ports)
    size = spec.table_size or 1024
    add("lut_table", pos * tb)
    add("bram_tables", math.ceil(pos / 2.0) * math.ceil(size * tb / 18432.0))
    # schedule: two adder trees of log2(dim) levels, four products in a row, the table read
    speed = logic_speed(ctx, hyper)
    t = (2 * math.ceil(math.log2(max(2, dim))) * adder_ns(acc, hyper)
         + 4 * T_MULT_NS) * speed
    stages = t / max(0.5, ctx.clock_ns) + 2.0
    add("ff_pipe", pos * dim * acc * stages)  # the values carried through every pipeline cut
    add("lut_act", pos * dim * res)  # the result's conversion / clamping
    add("lut_layer", 100)
    add("ff_layer", 100)
    add("lat_layer", 1)
    add("lat_depth", stages)
    if pos < seq:
        add("lat_serial", seq - 1)
    return f
