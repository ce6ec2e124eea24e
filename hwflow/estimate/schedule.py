"""How hls4ml schedules a layer, as the analytical cost model (:mod:`hwflow.estimate.model`) counts it.

Latency and initiation interval follow the schedule hls4ml asks for:

* ``io_parallel``: the whole network is one pipelined function; the II is the
  slowest layer's II (reuse factor, or nonzeros / multipliers when pruning
  lets fewer multipliers do the work), the latency the sum of the layers'
  pipeline depths (multiply, adder tree of log2(fan-in) levels - more levels
  per cycle at a slower clock - plus II-1 cycles of serialisation).
* ``io_stream``: a dataflow of layers connected by FIFOs; the II is the
  slowest stage (a convolution visits every input pixel, each costing
  nonzeros/multipliers cycles for the latency strategy or RF + a fixed
  overhead for the resource strategy), the latency that II plus each stage's
  fill time.

An RNN cell is costed as parts the model already knows (:func:`rnn_parts`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .devices import DeviceFamily
from .layerspec import LayerSpec

#: Relative combinational speed of a family's fabric (7-series = 1; from Xilinx speed-grade data:
#: UltraScale+ LUT/carry paths are roughly 1.4x faster). Used to turn ns of logic into cycles.
FAMILY_SPEED = {"series7": 1.0, "ultrascale": 0.85, "ultrascale_plus": 0.7, "versal": 0.6, "unknown": 0.8}
#: Nominal delays on a 7-series -1/-2 part (ns): a DSP multiply, one 16-bit adder level.
T_MULT_NS = 3.0
T_ADD_NS = 1.2


@dataclass
class Context:
    """Design-wide facts a layer's cost depends on."""

    family: DeviceFamily
    clock_ns: float
    mul_impl: str = "auto"  # auto | dsp | fabric  (HLS ``config_op mul -impl``)
    io_type: str = "io_parallel"
    tool: str = "vivado_hls"  # vivado_hls | vitis_hls
    tool_version: str | None = None  # e.g. "2023.2" (None: unknown - the current version assumed)
    # the top function is a dataflow of layer processes (io_stream, or a resource-strategy
    # layer in an io_parallel design - see make_context), not one pipeline
    dataflow: bool = False
    # DSP delay of the part's speed grade against -1 (devices.speed_grade_delay)
    grade_delay: float = 1.0

    @property
    def vitis(self) -> bool:
        return self.tool == "vitis_hls"


def _bits(v: int | None, default: int = 16) -> int:
    return int(v) if v else default


def _parallel_elems(spec: LayerSpec, n: int) -> int:
    """Elements a non-weight layer handles per cycle: one stream word (io_stream), else all of
    them shared over the reuse factor (an io_parallel pipeline of II = RF needs n / RF units)."""
    if spec.io_type == "io_stream":
        return max(1, spec.in_pack or spec.n_chan or 1)
    return max(1, math.ceil(n / max(1, spec.reuse_factor)))


def activation_elems(spec: LayerSpec, ctx: Context) -> int:
    """Elements an activation works on at once. In an io_parallel design whose top function is
    one pipeline (hls4ml's "pipeline" style: no resource-strategy layer) every element of an
    activation is unrolled whatever the reuse factor - a relu after an RF 100 dense is reported
    at the same LUT as after the RF 1 one (3,528 LUT for the same layer in both; of 35 relu layers
    at RF 2-100 in the per-layer reports, 30 were under-estimated when shared over the RF).
    Under a dataflow top (a resource-strategy design) the activation is a process of its own,
    sharing its units over the RF (a 6,728-element relu at RF 15,000: 8 k LUT for the whole
    design). An io_stream activation handles one stream word per cycle."""
    if spec.io_type == "io_parallel" and not ctx.dataflow:
        return max(1, spec.n_in)
    return _parallel_elems(spec, spec.n_in)


def quant_bits(spec: LayerSpec) -> int:
    """Bits of conversion logic per element when a layer's result type rounds or saturates
    (QKeras ``quantized_relu`` becomes ``ap_ufixed<6,0,AP_RND_CONV,AP_SAT>``): rounding is an
    incrementer of the result width plus the dropped fraction bits it looks at, saturation a
    check of the dropped integer bits and a clamp of the result. Truncation and wrap-around
    (the default modes) are wires. 0 where the widths are not known."""
    if not (spec.result_rnd or spec.result_sat) or spec.result_bits is None or spec.input_bits is None:
        return 0
    if spec.input_int is None or spec.result_int is None:
        return 0
    res = spec.result_bits
    in_frac, res_frac = spec.input_bits - spec.input_int, res - spec.result_int
    bits = 0
    if spec.result_rnd and in_frac > res_frac:  # fraction bits are dropped: round
        bits += res + (in_frac - res_frac)
    if spec.result_sat:  # the clamp, and the integer bits dropped
        bits += res + max(0, spec.input_int - spec.result_int)
    return bits


def _stream_words(spec: LayerSpec) -> int:
    """Stream words a layer reads per inference (pixels, for a channels-last tensor)."""
    pack = spec.in_pack or (max(1, spec.n_chan))
    return max(1, math.ceil(max(1, spec.n_in) / max(1, pack)))


def rnn_parts(spec: LayerSpec) -> list[LayerSpec]:
    """The hardware of one GRU / LSTM / SimpleRNN cell as parts the model already knows:
    the input kernel (n_in -> gates x n_state) and the recurrent kernel (n_state -> gates x
    n_state) as dense layers with the layer's reuse factor and strategy, the gate activations
    (sigmoid / tanh tables, or hard_* without tables) and the element-wise state products
    (multipliers without constants)."""
    gates = {"gru": 3, "lstm": 4}.get(spec.op or "", 1)
    n = max(1, spec.n_state)
    base = dict(io_type="io_parallel", reuse_factor=spec.reuse_factor, strategy=spec.strategy,
                weight_bits=spec.weight_bits, input_bits=spec.input_bits, accum_bits=spec.accum_bits,
                result_bits=spec.result_bits or spec.input_bits, n_nonzero=None, w_zero=None, w_pow2=None,
                w_other=None, w_csd=None, func=spec.func, notes=[])
    kernel = replace(spec, name=f"{spec.name}.kernel", kind="dense", op=None, n_in=max(1, spec.n_in),
                     n_out=gates * n, n_weights=max(1, spec.n_in) * gates * n, **base)
    recurrent = replace(spec, name=f"{spec.name}.recurrent", kind="dense", op=None, n_in=n, n_out=gates * n,
                        n_weights=n * gates * n, **dict(base, reuse_factor=spec.recurrent_reuse or spec.reuse_factor))
    hard = spec.implementation == "hard"
    parts = [kernel, recurrent]
    n_sig = (gates - 1) * n if gates > 1 else 0
    n_tanh = (2 if gates == 4 else 1) * n
    # hls4ml's sigmoid / tanh functions are pipelined at II 1 with their element loop unrolled,
    # whatever the reuse factor of the cell: every gate element has its own table read
    act = dict(base, reuse_factor=1)
    if n_sig:
        parts.append(replace(spec, name=f"{spec.name}.gates", kind="activation",
                             op="hard_sigmoid" if hard else "sigmoid", n_in=n_sig, n_out=n_sig, **act))
    parts.append(replace(spec, name=f"{spec.name}.act", kind="activation", op="hard_tanh" if hard else "tanh",
                         n_in=n_tanh, n_out=n_tanh, **act))
    n_prod = {"gru": 3, "lstm": 3}.get(spec.op or "", 0) * n
    if n_prod:
        prod = dict(base, strategy="resource", reuse_factor=1, notes=[VARIABLE_OPERANDS])
        parts.append(replace(spec, name=f"{spec.name}.products", kind="dense", op=None, n_in=1, n_out=n_prod,
                             n_weights=n_prod, **prod))
    return parts


def rnn_step_cycles(spec: LayerSpec, ctx: Context, hyper: dict[str, float]) -> int:
    """Cycles from a step's input (and state) to its new state, structurally: the slower of
    the input and recurrent kernels (their pipeline depth, RF - 1 cycles of sharing and a
    register), then the gates' table lookups, the state products, the candidate's tanh and the
    state update (GRU: sigmoid -> r * (h U) -> tanh -> update; LSTM: sigmoid / tanh -> c ->
    tanh(c) -> o * tanh(c))."""
    parts = rnn_parts(spec)
    t_add = hyper.get("t_add_ns", T_ADD_NS)
    kern = max(pipeline_stages(p, ctx, t_add, hyper.get("usp_speed")) + max(0, layer_ii(p, ctx, hyper) - 1) + 1
               for p in parts[:2])
    table = 1 if spec.implementation == "hard" else 2
    return int(math.ceil(kern + 2 * table + 2))


def rnn_copies(spec: LayerSpec, ctx: Context) -> int:
    """Cells HLS builds for a recurrent layer: one per time step for the non-static
    io_parallel variant inside a pipelined top function (the pipeline unrolls its time loop),
    else one - a static cell keeps its state in one instance, and under a dataflow top (a
    resource-strategy design) the stack is a process of its own whose time loop stays a loop."""
    if spec.kind == "rnn" and not spec.rnn_static and spec.io_type == "io_parallel" and not ctx.dataflow:
        return max(1, spec.n_timesteps)
    return 1


#: Marks an RNN cell's element-wise state products: both operands vary, nothing folds.
VARIABLE_OPERANDS = "variable operands"


def as_built(spec: LayerSpec) -> LayerSpec:
    """The layer as HLS builds it: the resource strategy at reuse factor 1 reads every weight
    at a constant index of its (fully reshaped) weight array in a one-iteration loop, so the
    weights fold into constant products exactly as in the latency strategy - no weight memory,
    no operand multiplexers, no shared multiplier pipelines."""
    if (spec.has_weights and spec.strategy == "resource" and spec.reuse_factor <= 1
            and VARIABLE_OPERANDS not in spec.notes):
        return replace(spec, strategy="latency")
    return spec


#: A product whose data operand has at most this many bits is no multiplication for HLS: a
#: select of the constant (1 bit) or of its shifted copies and one adder (2 bits).
SELECT_DATA_BITS = 2


def select_products(spec: LayerSpec) -> bool:
    """A latency-strategy layer whose data operand is at most :data:`SELECT_DATA_BITS` wide: its
    products are selects / one adder, built in place - none is a ``mul`` that the
    ALLOCATION pragma of RF > 1 could share, so the layer is scheduled, and built, as at RF 1."""
    return spec.has_weights and spec.strategy == "latency" and _bits(spec.input_bits, 16) <= SELECT_DATA_BITS


def layer_ii(spec: LayerSpec, ctx: Context, hyper: dict[str, float]) -> int:
    """Cycles between successive inputs of one layer (its stage interval)."""
    spec = as_built(spec)
    if spec.kind == "rnn":
        per_step = max(layer_ii(p, ctx, hyper) for p in rnn_parts(spec))
        if rnn_copies(spec, ctx) > 1:
            return max(1, per_step)  # one cell per step: a new sequence every per-step interval
        # One cell reused over the steps: step t + 1 needs the state of step t, so the cell
        # cannot start the next step before this one's result is there - a step costs its
        # latency, not just its interval.
        return max(1, per_step, rnn_step_cycles(spec, ctx, hyper)) * spec.n_timesteps
    rf = max(1, spec.reuse_factor)
    if spec.has_weights:
        m = max(1, spec.n_multipliers // max(1, spec.parallel_pixels))
        if spec.strategy == "resource":
            per_kernel = rf + (hyper["res_pixel_overhead"] if spec.io_type == "io_stream" else 0)
        else:
            real = 0 if select_products(spec) else spec.kernel_nonzero
            if (spec.w_other is not None and spec.w_two is not None and spec.kernel_nonzero
                    and spec.io_type == "io_parallel"):
                # Constants that are 0, ±2^k or two signed digits need no multiplier: only the
                # others compete for the multiplier_limit instances of the ALLOCATION pragma of
                # the io_parallel function (in the calibration data io_stream kernels keep their RF
                # schedule).
                real = min(real, max(1, spec.w_other - spec.w_two))
            per_kernel = max(1, math.ceil(real / m)) if real else 1
        steps = spec.sequential_steps
        ii = int(per_kernel * steps)
        if spec.io_type == "io_stream" and spec.kind == "dense":
            ii = max(ii, _stream_words(spec))
        if ctx.vitis and spec.io_type == "io_stream" and spec.is_conv:
            ii = max(ii, int(steps * hyper.get("vitis_stream_ii", 1)))
        return max(1, ii)
    if spec.io_type == "io_stream" and spec.kind in (
            "activation", "softmax", "batchnorm", "pooling1d", "pooling2d", "global_pooling1d",
            "global_pooling2d", "padding", "merge", "concat", "clone", "reshape", "resize", "slice"):
        words = _stream_words(spec)
        if spec.kind == "padding":
            words = max(words, math.ceil(spec.n_out / max(1, spec.out_pack or spec.n_chan or 1)))
        if spec.kind == "softmax" and spec.implementation is not None:
            # ceil(word / RF) elements per cycle (a 2704-element softmax at RF 4 on 4-wide
            # words: 2717 cycles reported, not 676)
            words = max(words, math.ceil(max(1, spec.n_in) / softmax_elems(spec))) + exp_table_cycles(spec, ctx)
        if ctx.vitis and spec.kind in ("pooling1d", "pooling2d", "padding"):
            words = int(words * hyper.get("vitis_stream_ii", 1))
        return words
    return 1


def pack_chained(per_layer: list[dict[str, float]]) -> list[dict[str, float]]:
    """Chained layers one after another (``lat_frac``, see :func:`split_chained`) share clock
    periods along the pipeline: HLS registers where the accumulated delay would pass the period,
    so a run of fractions takes as many cycles as the periods it fills in order (0.55, 0.88, 0.71,
    0.71 of a period: four cycles, not 2.85; 0.2 + 0.3 + 0.4: one; a lone chained layer: one). A
    layer with a stage of its own ends a run. Each fraction is scaled to its share of its run's
    periods."""
    out = [dict(f) for f in per_layer]
    run: list[int] = []

    def close() -> None:
        fr = [out[i]["lat_frac"] for i in run]
        periods, open_ = 0, 1.0
        for x in fr:
            if open_ + x > 1.0:
                periods, open_ = periods + 1, x
            else:
                open_ += x
        total = sum(fr)
        for i in run:
            out[i]["lat_frac"] *= periods / total if total > 0 else 0.0
        run.clear()

    for i, f in enumerate(out):
        if "lat_frac" in f:
            run.append(i)
        elif run and (f.get("lat_depth", 0.0) > 0 or f.get("lat_layer", 0.0) >= 1.0):
            close()
    if run:
        close()
    return out


#: A stable softmax of hls4ml >= 1.1 fills its exp table in a loop of ``std::exp`` calls that
#: runs on every call unless HLS folds it into a constant ROM (hls4ml writes the table flag non-
#: static for synthesis). The reports of public projects separate the two by the largest argument
#: the table is built for (``inp_norm_t``'s 2^integer bits x ``exp_scale``): up to 2^5 folded
#: (three Vitis HLS 2025.1-2025.2 projects, three repositories: a 4-9-cycle softmax), from 2^10 up
#: rebuilt (Vitis HLS 2024.2 and 2025.2, two repositories, and report files of the public index
#: for tables up to 2^18: a 1,024-trip loop through a floating-point ``fexp`` core, 1,045 cycles,
#: in a softmax process that is no longer pipelined). Older code (no ``inp_norm_t``) folded even at 2^10 (the fixtures'
#: Vitis HLS 2023.2 LeNet). The edge taken between the two - where exp(-x) leaves float32's normal
#: range, x > 87.3 - is a reading of the cause, not a measurement (nothing between 2^5 and 2^10 seen).
EXP_FOLDED_LOG2 = 5.0
EXP_REBUILT_LOG2 = 10.0
EXP_EDGE_LOG2 = math.log2(87.3)
#: Pipeline depth of the table loop (float conversion, scaling, a 13-stage ``fexp``): 21 at 5 ns in
#: both rebuilt designs' reports.
FEXP_LOOP_DEPTH = 21


def exp_table_rebuilt(spec: LayerSpec) -> bool:
    """Whether a softmax rebuilds its exp table on every call (see :data:`EXP_EDGE_LOG2`)."""
    return (spec.kind == "softmax" and spec.implementation == "stable" and spec.exp_arg_log2 is not None
            and spec.exp_arg_log2 > EXP_EDGE_LOG2)


def exp_table_cycles(spec: LayerSpec, ctx: Context) -> int:
    """Cycles a call spends rebuilding the exp table, where that is measured: a Vitis HLS stream
    softmax (a dataflow process: the rebuild overlaps the layers before it, but the process's
    interval - the design's II at most - is the rebuild plus its own work). 0 elsewhere."""
    if not (exp_table_rebuilt(spec) and ctx.vitis and spec.io_type == "io_stream"):
        return 0
    return (spec.table_size or 1024) + FEXP_LOOP_DEPTH


#: What a rebuilt table adds: the table loop's module in both rebuilt designs' reports (a 7-DSP
#: ``fexp`` core; 1,003 / 1,045 FF; 3,121 / 3,368 LUT; the tables' block RAMs as when folded) -
#: both UltraScale+ parts at 5 ns; on other families the float core may differ (not measured).
#: Features of their own at these measured costs (prior coefficient 1): no calibration design
#: rebuilds a table, so the fit leaves them at 1.
EXP_TABLE_COST = {"dsp_exptab": 7.0, "ff_exptab": 1024.0, "lut_exptab": 3245.0}


def exp_table_features(spec: LayerSpec, ctx: Context) -> dict[str, float]:
    """The rebuild's hardware (:data:`EXP_TABLE_COST`) where :func:`exp_table_cycles` counts its time."""
    return dict(EXP_TABLE_COST) if exp_table_cycles(spec, ctx) else {}


def exp_table_notes(layers: list[LayerSpec], ctx: Context) -> list[str]:
    """What an estimate says about softmax tables outside the calibration data (none of its
    designs rebuilds one): the modelled rebuild, a likely rebuild whose cost is not measured, and
    an argument range between those seen folded and rebuilt."""
    notes = []
    for s in layers:
        if s.kind != "softmax" or s.implementation != "stable" or s.exp_arg_log2 is None:
            continue
        span = f"its table is built for arguments up to 2^{s.exp_arg_log2:g}"
        fix = "a narrower softmax input precision (e.g. ap_fixed<16,6>) lets HLS fold the table into a ROM"
        cyc = exp_table_cycles(s, ctx)
        if cyc:
            notes.append(f"softmax {s.name}: exp table rebuilt with a floating-point exp on every call ({span}): "
                         f"{cyc:,} cycles a call in the estimate, from Vitis HLS reports outside the calibration "
                         f"data; {fix}")
        elif exp_table_rebuilt(s):
            where = "io_parallel" if s.io_type == "io_parallel" else "Vivado HLS"
            notes.append(f"softmax {s.name}: exp table likely rebuilt on every call ({span}); its cost under "
                         f"{where} is not measured and not in the estimate; {fix}")
        if EXP_FOLDED_LOG2 < s.exp_arg_log2 < EXP_REBUILT_LOG2:
            taken = "rebuilt" if exp_table_rebuilt(s) else "folded"
            notes.append(f"softmax {s.name}: {span}, between the largest range seen folded (2^5) and the "
                         f"smallest seen rebuilt (2^10): whether HLS folds it is not known (taken as {taken})")
    return notes


def softmax_elems(spec: LayerSpec) -> int:
    """Elements a softmax works on at once. hls4ml's io_parallel softmax is pipelined without
    regard to the reuse factor: every element has its own exp lookup and normalising product
    (3 DSPs for 3 outputs at RF 1, 8 and 16; 16 for 16 at RF 2). The io_stream softmax
    pipelines its loop over a stream word at II = RF: ceil(word / RF) of each (1 DSP for a
    10-wide word at RF 16, 3 at RF 4, 10 at RF 1) - per-layer reports of 38 softmax layers."""
    if spec.implementation is None:
        # a config struct without an implementation field: hls4ml before the latency / stable /
        # argmax variants, whose softmax shared its units over the reuse factor
        return _parallel_elems(spec, spec.n_in)
    if spec.io_type == "io_stream":
        pack = max(1, spec.in_pack or spec.n_chan or 1)
        return max(1, math.ceil(pack / max(1, spec.reuse_factor)))
    return max(1, spec.n_in)


def softmax_delay(spec: LayerSpec, ctx: Context, hyper: dict[str, float]) -> float:
    """Logic delay (ns) of one softmax evaluation besides its two table reads: the sum of the
    exponentials (an adder tree of log2(n) levels) and the normalising product; the stable (and
    legacy) implementation first finds the largest input (a comparator tree) and subtracts it,
    the latency implementation does not. Divided by the clock period it is the cycles the
    softmax spends - at 25 ns a 3-input softmax takes 2 cycles in all, at 3.3 ns a 5-input one
    on a 7-series part 13-16."""
    levels = math.ceil(math.log2(max(2, spec.n_in)))
    t = levels * adder_ns(_bits(spec.table_bits, 18), hyper) + T_MULT_NS
    if spec.implementation in ("stable", "legacy"):
        t += (levels + 1) * adder_ns(_bits(spec.input_bits), hyper)
    return t * logic_speed(ctx, hyper)


def _table_lookups(spec: LayerSpec, ctx: Context) -> int:
    """Parallel table lookups (sigmoid/tanh/softmax): one per element in flight. hls4ml's
    ``argmax`` softmax is a comparator tree: no table."""
    if spec.kind == "softmax" and spec.implementation == "argmax":
        return 0
    if spec.kind == "softmax":
        return softmax_elems(spec)
    if (spec.kind == "activation" and spec.op in (
            "sigmoid", "tanh", "softplus", "softsign", "elu", "selu", "unary_lut")):
        return activation_elems(spec, ctx)
    return 0


#: The multiply-delay-to-period window (:func:`dsp_core_ratio`) in which HLS builds a product as a
#: two-stage DSP multiplier core (``mul_<a>_<b>_<p>_2_*``) whose registers the C-synthesis report
#: books as fabric FF. From the layers' own sub-module reports (Vivado HLS 2019.2, Vitis HLS
#: 2023.2-2025.1, five repositories): two-stage cores at 5 ns on -1 Zynq-7000 / Artix-7 parts for
#: 16-bit data times 7-12-bit constants (ratio 0.6; 67 FF each for a 26-bit product, about 2.6 FF
#: per product bit). No FF for the multipliers of: UltraScale+ at 2.8-5 ns (one-stage cores, ratio
#: <= 0.19), a -2 Zynq-7000 at 5 ns (8-bit operands, one-stage, 0.31) and at 3.33 ns (three-stage
#: cores, 0.46), a -2 Virtex-7 at 5 ns (Vivado HLS 2016.4, expression multipliers, 0.52). Missed: a
#: 12 x 8-bit two-stage core at 5 ns on a -1 Zynq-7000 (0.36; narrow operands are taken as faster
#: than they were). The lower edge lies between the measured 0.52 and 0.60 (a -1 part at 5.5 ns or
#: slower is unmeasured); the upper edge - a multiply longer than the period gets a deeper core - is
#: not measured at all.
DSP_CORE_WINDOW = (0.55, 1.0)


def mult_ns(w: int, a: int) -> float:
    """Nominal delay (ns, 7-series -1) of a ``w`` x ``a`` DSP multiply: operands under 10 bits are
    faster. Scale by :func:`logic_speed` for a part."""
    return T_MULT_NS * (1.0 if min(w, a) >= 10 else 0.6)


def dsp_core_ratio(w: int, a: int, ctx: Context, hyper: dict[str, float] | None = None) -> float:
    """A DSP multiply's delay (narrow operands are faster) on this part and grade, as a fraction
    of the clock period."""
    t = mult_ns(w, a) * logic_speed(ctx, hyper) * ctx.grade_delay
    return t / max(0.5, ctx.clock_ns)


def two_stage_dsp_core(w: int, a: int, ctx: Context, hyper: dict[str, float] | None = None) -> bool:
    """Whether a ``w`` x ``a`` product bound to a DSP is a two-stage core (see DSP_CORE_WINDOW)."""
    lo, hi = DSP_CORE_WINDOW
    return lo <= dsp_core_ratio(w, a, ctx, hyper) < hi


def adder_ns(bits: int, hyper: dict[str, float] | None = None) -> float:
    """Delay (ns, 7-series) of one adder level of ``bits`` bits: the calibrated 16-bit adder delay
    (``t_add_ns``), longer carry chains for wider sums. Scale by :func:`logic_speed` for a part."""
    return (hyper or {}).get("t_add_ns", T_ADD_NS) * (0.5 + bits / 32.0)


#: Delay (ns, 7-series) of a table-free activation: a comparator and a multiplexer, a LUT level
#: or two with their routing.
T_ACT_NS = 1.0


def registered_activation_ns(spec: LayerSpec, ctx: Context, hyper: dict[str, float] | None = None) -> float:
    """The clock period below which an activation chained after its layer's last adder (an adder
    of the activation's input width) no longer fits in the same cycle."""
    return (adder_ns(_bits(spec.input_bits), hyper) + T_ACT_NS) * logic_speed(ctx, hyper)


def logic_speed(ctx: Context, hyper: dict[str, float] | None = None) -> float:
    """Logic delay of the part's family relative to a 7-series part (UltraScale and newer scaled
    by the calibrated ``usp_speed``)."""
    speed = FAMILY_SPEED.get(ctx.family.name, 0.8)
    usp = (hyper or {}).get("usp_speed")
    if usp is not None and ctx.family.name != "series7":
        speed = usp * speed / FAMILY_SPEED["ultrascale_plus"]
    return speed


def pipeline_stages(spec: LayerSpec, ctx: Context, t_add_ns: float = T_ADD_NS,
                    usp_speed: float | None = None, fan_in: int | None = None) -> float:
    """Cycles of one kernel evaluation: multiply + an adder tree of log2(fan-in) levels.

    Physical delays (ns) scaled by the family's speed and divided by the clock
    period - a slower clock packs more adder levels into one cycle. ``fan_in``: the tree's inputs
    where they are not the layer's own (the last serial cycle's, see :func:`latency_stages`).
    """
    if not spec.has_weights:
        return 1.0
    w = _bits(spec.weight_bits)
    a = _bits(spec.input_bits)
    acc = _bits(spec.accum_bits, w + a)
    per_out = spec.n_filt if spec.is_conv else spec.n_out
    fan_in = max(2, fan_in or spec.kernel_nonzero // max(1, per_out))
    speed = logic_speed(ctx, None if usp_speed is None else {"usp_speed": usp_speed})
    t = (mult_ns(w, a)
         + math.ceil(math.log2(fan_in)) * adder_ns(acc, {"t_add_ns": t_add_ns})) * speed
    return max(0.25, t / max(0.5, ctx.clock_ns))


def split_chained(f: dict[str, float], spec: LayerSpec, ctx: Context) -> dict[str, float]:
    """A layer of the one pipelined io_parallel function whose whole delay is a fraction of the
    clock period (``lat_layer`` = ``lat_depth`` < 1, no serial cycles) has no register stage of its
    own: its delay adds to its neighbours' along the path, one register per period of accumulated
    delay. Its fraction is the feature ``lat_frac`` (a cycle per period of delay), not a stage
    count and a layer boundary, whose coefficients price whole registered layers. (Under a
    dataflow top every layer is a process of its own: nothing chains across the channels.)"""
    frac = f.get("lat_layer")
    if (spec.io_type == "io_parallel" and not ctx.dataflow and frac is not None and 0.0 < frac < 1.0
            and frac == f.get("lat_depth") and not f.get("lat_serial")):
        f = {k: v for k, v in f.items() if k not in ("lat_layer", "lat_depth")}
        f["lat_frac"] = frac
    return f


def latency_stages(spec: LayerSpec, ctx: Context, hyper: dict[str, float], stages: float,
                   per_kernel_ii: float) -> float:
    """Cycles a layer's multiply-add adds to its latency after its serial (RF) cycles.

    Vitis HLS overlaps the adder tree of a multiplier-limited io_parallel layer (latency
    strategy, ALLOCATION limit below its products) with its serial cycles: what follows the last
    serial cycle is one multiply and the tree of that cycle's products into the partial sums, not
    the whole fan-in's tree. Per-layer reports of three repositories: RF 100 layers at 11, 14 and
    32 cycles against 11, 14 and 31 serial (Vitis HLS 2021.1), RF 16 layers at 15 against 14
    serial (2024.1), RF 4 at 5-6 against 3 (2023.2). Vivado HLS keeps the whole tree: the 2016
    example MLP at RF 1 / 2 / 4 reports 12 / 14 / 17 cycles, the serial cycles on top of the full
    depth (the same rule for both tools: held-out latency 15.3 -> 14.6 %, Vitis HLS only 14.4 %).
    """
    if (not ctx.vitis or spec.io_type != "io_parallel" or spec.strategy != "latency"
            or per_kernel_ii <= 1):
        return stages
    per_out = spec.n_filt if spec.is_conv else spec.n_out
    m = max(1, spec.n_multipliers // max(1, spec.parallel_pixels))
    last = math.ceil(m / max(1, per_out)) + 1  # the last cycle's products and the partial sum
    return min(stages, pipeline_stages(spec, ctx, hyper.get("t_add_ns", T_ADD_NS), hyper.get("usp_speed"), last))
