"""The analytical cost model: physically meaningful per-layer features x fitted coefficients.

Why this shape: Vivado/Vitis HLS builds an hls4ml layer out of a countable set of parts -
multipliers (on DSP slices or in LUTs, decided by operand widths, by whether the weight is a
constant, and by ``config_op mul -impl``), adders of the accumulator width, multiplexers in front
of shared multipliers (reuse factor > 1), lookup tables for sigmoid/softmax, weight memories
(resource strategy), FIFOs between io_stream layers, line buffers for convolutions. Counting those
parts is exact arithmetic from the LayerSpec; how many LUTs/FFs/cycles each part costs is what the
calibration fits (one non-negative coefficient per feature, see ``bench/estimator.py --fit``).

Latency and initiation interval follow the schedule hls4ml asks for: see
:mod:`hwflow.estimate.schedule`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .catalog import DEFAULT_HYPER, FEATURES, PRIORS, TOOL_GROUPS, tool_groups  # noqa: F401 (re-exported)
from .channels import fifo_features, without_fifo
from .composite import general_on_dsp, layernorm_features, multiply_features, scale_products
from .devices import dsps_per_multiplier, family_of, speed_grade_delay
from .layerspec import LayerSpec
from .rnn import rnn_features
from .schedule import (
    T_ACT_NS,
    T_ADD_NS,
    T_MULT_NS,
    Context,
    _bits,
    _parallel_elems,
    _stream_words,
    _table_lookups,
    activation_elems,
    adder_ns,
    as_built,
    exp_table_features,
    latency_stages,
    layer_ii,
    logic_speed,
    pack_chained,
    pipeline_stages,
    quant_bits,
    registered_activation_ns,
    select_products,
    softmax_delay,
    softmax_elems,
    split_chained,
    two_stage_dsp_core,
)

MODEL_NAME = "hwflow-analytic-v2"
#: Products per kernel above which Vitis HLS leaves the latency kernel's adders a chain.
VITIS_CHAIN_MIN_PRODUCTS = 4096


def layer_features(spec: LayerSpec, ctx: Context, hyper: dict[str, float]) -> dict[str, float]:
    """Every feature value one layer contributes (all metrics), from its LayerSpec alone."""
    spec = as_built(spec)
    f: dict[str, float] = {}
    w = _bits(spec.weight_bits)
    a = _bits(spec.input_bits)
    acc = _bits(spec.accum_bits, w + a)
    res = _bits(spec.result_bits, a)
    rf = max(1, spec.reuse_factor)

    def add(name: str, v: float) -> None:
        f[name] = f.get(name, 0.0) + float(v)

    if not spec.is_known:
        return f
    if spec.kind == "dense_da":
        # Distributed arithmetic: constant products already unrolled into the adder graph hls4ml
        # wrote - no multiplier, no DSP; an adder costs a LUT per bit on the carry chain; the
        # graph's depth (adder levels) is chained within the clock period like any adder tree.
        speed = logic_speed(ctx, hyper)
        t = spec.da_depth * adder_ns(_bits(spec.accum_bits, 16), hyper) * speed
        stages = max(0.25, t / max(0.5, ctx.clock_ns))
        add("lut_add", spec.da_adder_bits)
        add("ff_pipe", spec.n_out * _bits(spec.result_bits, 16) * stages)
        add("ff_acc", spec.da_adder_bits * min(1.0, stages) / 2.0)
        add("lut_layer", 100)
        add("ff_layer", 100)
        add("lat_layer", 1)
        add("lat_depth", stages)
        return f
    if spec.kind == "rnn":
        return rnn_features(spec, ctx, hyper, layer_features)
    if spec.kind == "layernorm":
        return layernorm_features(spec, ctx, hyper)
    add("lut_layer", 100)
    add("ff_layer", 100)
    add("lat_layer", 1)
    # Values a layer emits at once: all of them (io_parallel) or one stream word.
    outs = spec.n_out if spec.io_type == "io_parallel" else max(1, spec.out_pack or spec.n_filt or 1)

    if spec.has_weights:
        m = spec.n_multipliers
        nnz_total = spec.kernel_nonzero * spec.parallel_pixels
        if select_products(spec):
            m = max(m, nnz_total)  # no product is a multiplier: every one is built in place
        const = spec.strategy == "latency" and m >= nnz_total  # each multiplier sees one fixed weight
        # RF > 1, but the multiplier_limit is not binding: only the products whose constant has
        # three or more signed digits need a multiplier, and there are no more of them than
        # multipliers allowed - each is bound as a constant product, none shared (a 274x8 layer
        # at RF 2: 122 such products, 119 DSPs reported, not the limit's 634). The rest of the
        # layer keeps its RF schedule (held inputs, multiplexers).
        real_const = (not const and spec.strategy == "latency" and spec.w_other is not None
                      and m >= max(0, spec.w_other - (spec.w_two or 0)) * spec.parallel_pixels)
        if const or real_const:
            # A constant product goes to a DSP when the product is wide (constant + data bits:
            # 9-10-bit weights times 12-19-bit data are bound to DSPs, 8-9 bits times 8-9 bits
            # are not); a shared (non-constant) multiplier is a general one (general_on_dsp).
            dspable = ctx.mul_impl == "dsp" or (ctx.mul_impl != "fabric" and w + a >= hyper["dsp_sum_bits"])
        else:
            dspable = general_on_dsp(w, a, ctx, hyper)
        dpm = dsps_per_multiplier(w, a, ctx.family)
        # Without weight values a constant's signed digits are those of a random w-bit number:
        # about w / 3 in canonical signed-digit form.
        m_keep, m_other, m_dsp, w_eff = m, m, m, min(float(w), 1.5 * max(1.0, w / 3.0))
        if const and spec.w_other is not None and spec.kernel_nonzero:
            # Weight-aware: constants quantized to 0 vanish, powers of two are shifts (no
            # multiplier), two-signed-digit constants are one adder (no DSP); the rest cost
            # about their signed digits in a shift-and-add, or a DSP.
            ratio = float(spec.parallel_pixels)  # the same constants at every pixel in parallel
            m_other = min(m, spec.w_other * ratio)
            m_dsp = min(m, max(0, spec.w_other - (spec.w_two or 0)) * ratio)
            m_keep = min(m, spec.kernel_products * ratio)
            w_eff = min(float(w), 1.5 * (spec.w_csd or 1.0))
        if real_const:
            m_dsp = max(0, spec.w_other - (spec.w_two or 0)) * float(spec.parallel_pixels)
        if dspable:
            n_dsp_mul = m_dsp if const or real_const else m
            add("dsp_const" if const or real_const else "dsp_shared", n_dsp_mul * dpm)
            if spec.strategy == "latency" and dpm == 1 and two_stage_dsp_core(w, a, ctx, hyper):
                # a two-stage multiplier core: its registers are booked as FF (67 for a
                # 10 x 16 -> 26-bit core at 5 ns on a -1 Zynq-7000); a resource-strategy
                # multiplier's operand registers are ff_resmul already
                add("ff_dspcore", n_dsp_mul * (w + a))
        if const:
            # Constant-weight products: shift-and-add in LUTs unless bound to a DSP; where DSPs
            # are allowed HLS keeps only part of them (small / power-of-two weights) in fabric.
            add("lut_mul_cdsp" if dspable else "lut_mul_const", m_other * w_eff * a / 2.0)
        elif not dspable:
            add("lut_mul_fabric", m * w * a / 2.0)
        if dspable and const:
            # A DSP slice's post-adder takes the sum its product feeds (a*b + c, or the cascade
            # of the slice before): those adders of the tree leave the fabric.
            n_dsp_add = min(m_keep, m_dsp)
            add("lut_add_dsp", n_dsp_add * acc)
            add("lut_add", (m_keep - n_dsp_add) * acc)
        elif spec.strategy == "latency" and not const:
            # RF > 1: the ALLOCATION pragma shares the multipliers only; every nonzero product
            # keeps its adder in the tree that sums the held products
            add("lut_add", max(m_keep, spec.kernel_products * spec.parallel_pixels) * acc)
        else:
            add("lut_add", m_keep * acc)
        shared_inputs = 0 if const else max(0, nnz_total - m)
        if spec.strategy == "resource":
            # Weights come from memory; each multiplier's input is picked from the RF (at most
            # fan-in) values it is fed in turn: a log2-deep mux tree of `a` bits.
            kin = spec.kernel_mults // max(1, spec.n_filt if spec.is_conv else spec.n_out)
            sel = min(rf, kin)
            mux_bits = m * a * math.ceil(math.log2(sel)) if sel > 1 else 0.0
        else:
            # Latency strategy, RF > 1: constants and inputs of RF products funnel into one multiplier.
            mux_bits = shared_inputs * (a + w) / 2.0
        # (a resource strategy's log-deep operand mux is another structure: its own coefficient)
        add("lut_mux_r" if spec.strategy == "resource" else "lut_mux", mux_bits)
        stages = pipeline_stages(spec, ctx, hyper.get("t_add_ns", T_ADD_NS), hyper.get("usp_speed"))
        if spec.io_type == "io_parallel" and spec.strategy == "resource" and outs * res > 18432:
            # A large io_parallel output of a resource-strategy (dataflow) design is a
            # ping-pong buffer in block RAM, not a pipeline register.
            add("bram_buffer", 2 * math.ceil(outs * res / 18432.0))
        elif spec.strategy == "resource":
            # the resource strategy accumulates into one register per output over RF cycles:
            # its pipeline stages carry the M multiplier operands (ff_resmul), not the outputs
            add("ff_pipe", outs * res)
        else:
            add("ff_pipe", outs * res * stages)
        if spec.io_type == "io_stream" and spec.kind == "dense":
            add("ff_pipe", spec.n_in * a)  # the whole input vector is gathered before the product
        if spec.strategy == "resource":
            # A shared multiplier of the resource strategy is its own pipeline: the weight word
            # read from memory, the selected input and the running sum are registered.
            add("ff_resmul", m * (w + a + acc))
        # partial sums registered at the adder tree's pipeline cuts: none when the whole
        # multiply-add fits in one clock period (stages < 1)
        add("ff_acc", m_keep * acc * min(1.0, stages))
        # A multiply-add that spans several clock cycles: the products and partial sums not yet
        # consumed are registered at every further pipeline cut, not just at one, so the
        # registers grow with the number of stages (issue 12: FF of fast clocks / slow parts).
        # (The resource strategy accumulates over RF cycles in one running sum: no such tree.)
        if spec.strategy == "latency" and stages > 1.0:
            per_out = spec.n_filt if spec.is_conv else spec.n_out
            levels = max(1.0, math.log2(max(2, spec.kernel_nonzero // max(1, per_out))))
            # an adder tree halves the live values per level: after cut k (of the stages),
            # m / 2^(levels * k / stages) of them remain to be registered
            live = sum(2.0 ** (-levels * k / stages) for k in range(1, math.ceil(stages)))
            add("ff_delay", m_keep * acc * live)
        # LUT multipliers register their products; wide products cascade DSPs and register the
        # partial products in fabric. A product inside one DSP slice uses its internal registers.
        if not dspable and not const:  # constant shift-and-add products are not registered
            add("ff_mul", m * (w + a))
        elif dpm > 1:
            add("ff_mul", m * (w + a) * dpm)
        if not const and spec.strategy == "latency":
            # RF > 1: the layer's inputs are held in registers while the RF products are made.
            n_hold = spec.kernel_mults // max(1, spec.n_filt if spec.is_conv else spec.n_out)
            add("ff_inreg", n_hold * spec.parallel_pixels * a)
            if not real_const and not spec.is_conv:
                # a product made early in the RF waits, at the accumulator width (hls4ml's accum_t
                # array), for the adder tree: 13-21 FF per nonzero product at 8-bit weights and
                # 16-bit sums, RF 100; 11-14 at 16 / 16 bits, RF 16
                add("ff_hold", spec.kernel_products * acc)
        # Weight memories of the resource strategy: block_factor = M words of w bits, RF deep.
        if spec.strategy == "resource":
            rom_bits = spec.kernel_mults * w
            if rom_bits >= hyper["rom_bram_bits"] and rf > 1:
                per_kernel_m = max(1, m // max(1, spec.parallel_pixels))
                add("bram_weights", math.ceil(per_kernel_m * w / 36.0) * math.ceil(rf / 512.0))
            else:
                add("lut_wrom", rom_bits / 32.0)
        if ctx.vitis and spec.strategy == "latency" and spec.io_type == "io_parallel":
            # Vitis HLS: in a kernel of more than 4,096 products (the unroll limit hls4ml
            # documents for Vivado HLS, which Vitis HLS passes without error) the unrolled
            # `acc[j] += product` loop stays a chain of adders per output rather than a
            # balanced tree: 561 x 20 and 196 x 56 layers take 192 and 48 cycles, while a
            # 274 x 8 layer of fan-in 158 takes 9, like the tree of a smaller kernel. The extra
            # adder delay of the chain, in cycles, and the accumulators and inputs carried
            # through its stages.
            per_out = spec.n_filt if spec.is_conv else spec.n_out
            fan = max(1.0, spec.kernel_products / max(1, per_out))
            extra = max(0.0, fan - math.log2(max(2.0, fan)) - 1.0)
            t_add = adder_ns(acc, hyper) * logic_speed(ctx, hyper)
            chain = extra * t_add / max(0.5, ctx.clock_ns)
            if chain > 0 and spec.kernel_mults > VITIS_CHAIN_MIN_PRODUCTS:
                add("lat_chain", chain)
                n_kin = spec.kernel_mults // max(1, per_out)
                add("ff_chain", (per_out * acc + n_kin * a / 2.0) * spec.parallel_pixels * chain)
        ii = layer_ii(spec, ctx, hyper)
        per_kernel_ii = ii / max(1, spec.sequential_steps) if spec.io_type == "io_stream" else ii
        add("lat_depth", latency_stages(spec, ctx, hyper, stages, per_kernel_ii))
        add("lat_serial", max(0.0, per_kernel_ii - 1))
        if spec.io_type == "io_parallel" and stages < 1.0 and per_kernel_ii <= 1:
            # A multiply-add that fits in a fraction of the clock period is chained with its
            # neighbours like an activation: no register stage of its own (at a slow clock a
            # whole small network is combinational: 0 FF in every layer of two 25 ns encoders).
            f["lat_layer"] = stages
            f["ff_layer"] = 100 * stages
    elif spec.kind in ("activation", "softmax"):
        par = activation_elems(spec, ctx) if spec.kind == "activation" else _parallel_elems(spec, spec.n_in)
        units = par
        if spec.kind == "softmax" and spec.implementation is not None:
            # the multipliers and tables per element (softmax_elems), but the values held and
            # compared: every element of the vector (io_parallel, whatever the RF) or of the
            # stream word (io_stream: 144-1,088 FF and 0.7-3.3 k LUT for 3-12-wide words at
            # RF 1-64, in proportion to the word)
            units = softmax_elems(spec)
            par = spec.n_in if spec.io_type == "io_parallel" else par
        add("lut_act", par * res)
        if spec.kind == "activation" and quant_bits(spec):
            # rounding / saturation of the result type: logic per element, on top of the relu
            # (a 16-bit relu to 6-bit ap_ufixed<6,0,AP_RND_CONV,AP_SAT>: 56-65 LUT per element
            # reported, against 28 for the same relu to ap_fixed<16,6>)
            add("lut_quant", par * quant_bits(spec))
        lookups = _table_lookups(spec, ctx)
        # A table-free activation (relu, linear, hard_*) is a LUT level or two (~1 ns): in a
        # pipelined io_parallel function HLS chains it with its neighbours and registers its
        # outputs only where a clock edge falls (a fraction 1 ns / clock of the time).
        chained = spec.io_type == "io_parallel" and not lookups
        frac = min(1.0, 1.0 / max(0.5, ctx.clock_ns)) if chained else 1.0
        ff_par = _parallel_elems(spec, spec.n_in) if spec.kind == "activation" else par
        f["lat_layer"] = frac  # no stage of its own when chained
        f["lut_layer"] = 100 * frac
        registered = None
        if chained and spec.kind == "activation" and not ctx.dataflow:
            # Inside the one pipelined top the activation follows its layer's last adder: it is
            # chained there when both fit in the clock period, else it takes a cycle of its own -
            # per-layer reports: 0 cycles at 5 and 25 ns (Vivado and Vitis HLS, 22 layers), 1 at
            # 3.33 ns on a 7-series part (Vitis HLS, 24 layers), whatever the RF
            f["lat_layer"] = 0.0
            registered = 1.0 if ctx.clock_ns < registered_activation_ns(spec, ctx, hyper) else 0.0
            add("lat_depth", registered)
        if registered is not None and ctx.vitis:
            # Vitis HLS books its registers in the layer's row, all or nothing with the cycle: 0 FF
            # without it; with it every element's input and result, whatever the RF (2,143 FF for
            # 64 elements at RF 1 and 100)
            add("ff_pipe", spec.n_in * (a + res) * registered)
            f["ff_layer"] = 100 * registered
        else:
            # a fraction of the outputs, keeping the sharing over the RF (counted unrolled, the
            # held-out FF got worse, 44 -> 49 %). Vivado HLS keeps this form: all or nothing for
            # both tools gave held-out FF 38.7 -> 37.8 % but median 26.6 -> 29.2 and external
            # 51.4 -> 54.3 % (Vivado HLS inlines the dense layers of these tops)
            add("ff_pipe", ff_par * res * frac)
            f["ff_layer"] = 100 * frac
        # No registers of its own: a stream activation of one word per inference is a single pass
        # from read to write, no loop pipeline (3 FF reported in four such relus; 13-1,100 where
        # convolutions loop); in Vivado HLS an io_parallel table read's result is the memory's own
        # output register (a sigmoid reported at 3 FF; a GRU cell's 40- and 20-wide gate tables at 2)
        single_pass = spec.io_type == "io_stream" and not lookups and _stream_words(spec) == 1
        table_reg = spec.io_type == "io_parallel" and bool(lookups) and not ctx.vitis
        if spec.kind == "activation" and (single_pass or table_reg):
            f.pop("ff_pipe", None)
            f["ff_layer"] = 0.0
        tb = _bits(spec.table_bits, 18)
        if lookups:
            size = spec.table_size or 1024
            add("lut_table", lookups * tb)
            copies = math.ceil(lookups / 2.0)  # a BRAM has two read ports
            add("bram_tables", copies * math.ceil(size * tb / 18432.0) + (1 if spec.kind == "softmax" else 0))
            add("lat_depth", 2)
        elif "lat_depth" not in f:
            add("lat_depth", frac)
        if spec.kind == "softmax" and spec.implementation == "argmax":
            # hls4ml's argmax softmax: a one-hot of the largest input, a tree of comparisons
            add("lat_softmax", math.ceil(math.log2(max(2, spec.n_in))) * frac)
        elif spec.kind == "softmax":
            if ctx.mul_impl == "fabric":  # multipliers forced to fabric: 0 DSPs reported
                add("lut_mul_fabric", units * tb * tb / 2.0)
            else:
                add("dsp_softmax", units * dsps_per_multiplier(tb, tb, ctx.family))
            add("lat_softmax", softmax_delay(spec, ctx, hyper) / max(0.5, ctx.clock_ns))
            if spec.io_type == "io_stream" and spec.implementation is not None:
                # The word's exponentials and, after their sum, its normalising products pass
                # in turn through the same ceil(word / RF) units: the second pass adds its cycles
                # to the fill (10-wide words at RF 16: 23-25 cycles reported, RF 1: 5)
                word = max(1, spec.in_pack or spec.n_chan or spec.n_in)
                add("lat_depth", math.ceil(word / max(1, units)) - 1)
    elif spec.kind == "batchnorm":
        par = _parallel_elems(spec, spec.n_in)
        if spec.io_type == "io_parallel":
            par = max(1, math.ceil(spec.n_in / rf))
        scale_products(f, par, _bits(spec.weight_bits), a, spec, ctx, hyper)  # weight-aware
        add("lut_add", par * res)
        if spec.io_type == "io_parallel" and spec.w_other == 0 and not ctx.dataflow:
            # every scale a power of two (QKeras' po2 alpha, hls4ml's ApplyAlpha): a shift and the
            # bias adder, chained after the layer before like a table-free activation - 0 cycles
            # and 0 FF reported for four such layers at 5 ns (56 LUT each)
            frac = min(1.0, adder_ns(res, hyper) * logic_speed(ctx, hyper) / max(0.5, ctx.clock_ns))
            add("ff_pipe", par * res * frac)
            f["ff_layer"] = 100 * frac
            f["lat_layer"] = 0.0
            add("lat_depth", 1.0 if ctx.clock_ns < registered_activation_ns(spec, ctx, hyper) else 0.0)
        elif spec.io_type == "io_parallel":
            # a multiply-add per element, chained with its neighbours within the clock period
            speed = logic_speed(ctx, hyper)
            frac = min(2.0, (T_MULT_NS + hyper.get("t_add_ns", T_ADD_NS)) * speed / max(0.5, ctx.clock_ns))
            add("ff_pipe", par * res * frac)
            add("lat_depth", frac)
            f["lat_layer"] = frac
            f["ff_layer"] = 100 * min(1.0, frac)
        else:
            add("ff_pipe", par * res * 2)
            add("lat_depth", 2)
    elif spec.kind in ("global_pooling1d", "global_pooling2d") and spec.io_type == "io_stream":
        # A streaming global pool is one running accumulator (max or sum) per channel of the
        # stream word, updated once per pixel - not the parallel comparison tree.
        par = max(1, spec.in_pack or spec.n_chan or 1)
        pixels = max(1, spec.n_in // max(1, spec.n_chan or 1))
        acc_bits = a + math.ceil(math.log2(pixels)) if spec.op != "max" else a
        add("lut_pool", par * acc_bits)
        add("ff_pipe", par * (acc_bits + res))
        add("lat_depth", 1)
    elif spec.kind in ("pooling1d", "pooling2d", "global_pooling1d", "global_pooling2d"):
        pool = max(1, spec.filt_height * spec.filt_width)
        par = _parallel_elems(spec, spec.n_out) if spec.io_type == "io_parallel" else (spec.in_pack or spec.n_chan)
        add("lut_pool", par * pool * a)
        add("ff_pipe", par * res)
        add("lat_depth", 1)
        # Streaming pooling keeps (pool height - 1) rows of the input and a pool-sized window.
        # The window feeds a tree of log2(pool) compare-and-select levels; where the tree spans
        # clock edges the window is registered again at each cut (`ff_cmp`: a 4x4 max pool of a
        # 16-bit 4-channel stream reports 1.7 k FF on UltraScale+ at 10-25 ns, 2.8 k on a
        # 7-series part at 25 ns, 5.0 k at 10 ns). 1-D pools are left out: the NeutDetector's
        # report no more FF for twice the channels, and charging them their window lost.
        if spec.io_type == "io_stream" and spec.filt_height > 1:
            add("lut_srl", (spec.filt_height - 1) * spec.in_width * spec.n_chan * a / 32.0)
            levels = math.ceil(math.log2(pool))
            cmp_stages = levels * (adder_ns(a, hyper) + T_ACT_NS) * logic_speed(ctx, hyper) / max(0.5, ctx.clock_ns)
            add("ff_cmp", pool * spec.n_chan * a * (1.0 + cmp_stages))
    else:  # padding, merge, concat, clone, reshape, resize, slice: wiring + a little control
        par = _parallel_elems(spec, spec.n_out)
        add("lut_act", par * res / 2.0)
        if spec.kind == "merge" and spec.op == "multiply":  # a product per element, not wiring
            for k, v in multiply_features(spec, ctx, hyper, par).items():
                add(k, v)
        if spec.io_type == "io_parallel":  # wiring (an adder for add/subtract) inside the pipeline
            frac = min(1.0, 1.0 / max(0.5, ctx.clock_ns))
            add("lat_depth", frac)
            f["lat_layer"] = frac
            f["ff_layer"] = 100 * frac
            f["lut_layer"] = 100 * frac
        else:
            add("lat_depth", 1)

    for k, v in fifo_features(spec, ctx, hyper).items():
        add(k, v)
    if ctx.io_type == "io_stream" and spec.io_type == "io_stream":
        # Line buffer of a streaming convolution: (filter height - 1) rows of the input.
        if spec.is_conv:
            add("ff_window", spec.filt_height * spec.filt_width * spec.n_chan * a)
        if spec.is_conv and spec.filt_height > 1:
            lb_bits = spec.in_width * a
            if lb_bits > 1024:
                add("bram_linebuf", (spec.filt_height - 1) * spec.n_chan * math.ceil(lb_bits / 18432.0))
            else:
                add("lut_srl", (spec.filt_height - 1) * spec.n_chan * lb_bits / 32.0)
    if spec.io_type == "io_stream" and "ff_pipe" in f:
        # The registers of a small dataflow process are not those of the one big unrolled
        # pipeline of an io_parallel design: their own coefficient (and their own Vitis HLS
        # deviation - one learnt on io_parallel designs must not carry over to streams).
        f["ff_pipe_s"] = f.pop("ff_pipe")
    if spec.io_type == "io_stream" and "lut_layer" in f:
        # A dataflow process has its own control (counters, FSM, stream handshakes); a layer
        # function inside one io_parallel pipeline has next to none (a 3-element batchnorm:
        # 56 LUT reported, where one shared coefficient gave it 445).
        f["lut_layer_s"] = f.pop("lut_layer")
    return split_chained(f, spec, ctx) | exp_table_features(spec, ctx)


def design_features(layers: Iterable[LayerSpec], ctx: Context, hyper: dict[str, float]) -> tuple[
        dict[str, float], list[dict[str, float]], int]:
    """Summed features of a design, the per-layer features, and the design's II."""
    layers = list(layers)
    per_layer = pack_chained([layer_features(l, ctx, hyper) for l in layers])
    if per_layer and ctx.io_type == "io_parallel":  # the last layer writes the top's port, not a channel
        per_layer[-1] = without_fifo(per_layer[-1], fifo_features(layers[-1], ctx, hyper))
    iis = [layer_ii(l, ctx, hyper) for l in layers if l.is_known]
    ii = max(iis) if iis else 1
    total: dict[str, float] = {}
    for f in per_layer:
        for k, v in f.items():
            total[k] = total.get(k, 0.0) + v
    total["lat_ii"] = float(ii)
    if ctx.io_type == "io_parallel":
        # One pipelined function: latency is the sum of depths, not the II.
        total["lat_ii"] = 0.0
    else:
        # A dataflow pipeline: the slowest stage sets the pace, the others only add fill time.
        total["lat_serial"] = 0.0
    return total, per_layer, ii


def design_io_type(layers: Iterable[LayerSpec]) -> str:
    layers = list(layers)
    n_stream = sum(1 for l in layers if l.io_type == "io_stream")
    return "io_stream" if n_stream * 2 >= max(1, len(layers)) and n_stream else "io_parallel"


def make_context(layers: list[LayerSpec], part: str | None, clock_ns: float | None,
                 mul_impl: str = "auto", family: str | None = None, tool: str | None = None,
                 tool_version: str | None = None) -> Context:
    io_type = design_io_type(layers)
    # hls4ml's pipeline style: a dataflow top for io_stream, for any resource-strategy layer
    # (recurrent ones included) and for an io_parallel convolution computed in several
    # partitions (n_partitions != 1, hls4ml >= 0.8's default; older configs carry no partitions
    # and unroll every pixel in one pipeline) - the reports agree: the three io_parallel CNNs
    # with partitions are "dataflow", the one without is "function"
    dataflow = io_type == "io_stream" or any(
        l.strategy == "resource" and (l.has_weights or l.kind == "rnn") for l in layers) or any(
        l.is_conv and l.io_type == "io_parallel" and (l.cfg_partitions or 1) > 1 for l in layers)
    return Context(family=family_of(part, family), clock_ns=float(clock_ns or 5.0),
                   grade_delay=speed_grade_delay(part),
                   mul_impl=mul_impl or "auto", io_type=io_type,
                   tool=tool if tool in ("vivado_hls", "vitis_hls") else "vivado_hls",
                   tool_version=str(tool_version) if tool_version else None, dataflow=dataflow)


def predict_linear(features: dict[str, float], coef: dict[str, float], metric: str) -> float:
    return float(sum(coef.get(name, 0.0) * features.get(name, 0.0) for name in FEATURES[metric]))


def effective_coef(calib: dict[str, Any], metric: str, groups: Iterable[str]) -> dict[str, float]:
    """A metric's coefficients for a design of the given tool groups (base x each group's multipliers)."""
    coef = dict((calib.get("coef") or {}).get(metric) or {})
    for g in groups:
        mult = ((calib.get("tool_coef") or {}).get(g) or {}).get(metric) or {}
        for name, k in mult.items():
            if name in coef:
                coef[name] *= float(k)
    return coef


def predict(layers: list[LayerSpec], ctx: Context, calib: dict[str, Any]) -> dict[str, Any]:
    """Totals and per-layer figures for one design under one calibration."""
    hyper = {**DEFAULT_HYPER, **(calib.get("hyper") or {})}
    total, per_layer, ii = design_features(layers, ctx, hyper)
    out: dict[str, Any] = {}
    groups = tool_groups(ctx.tool, ctx.tool_version)
    coefs = {m: effective_coef(calib, m, groups) for m in FEATURES}
    for metric in FEATURES:
        out[metric] = max(0.0, predict_linear(total, coefs.get(metric, {}), metric))
    if ctx.io_type == "io_stream":
        out["latency"] = max(out["latency"], float(ii))
    out["ii"] = float(ii)
    rows = []
    for spec, f in zip(layers, per_layer):
        row: dict[str, Any] = {"name": spec.name, "kind": spec.kind, "known": spec.is_known,
                               "reuse_factor": spec.reuse_factor, "strategy": spec.strategy,
                               "io_type": spec.io_type, "n_multipliers": spec.n_multipliers}
        if spec.w_other is not None:  # weight-aware counts (issue 12): products that vanish / shift / stay
            row.update({"w_zero": spec.w_zero, "w_pow2": spec.w_pow2, "w_other": spec.w_other,
                        "w_two_digit": spec.w_two})
        for metric in ("lut", "ff", "dsp", "bram_18k"):
            row[metric] = round(max(0.0, predict_linear(f, coefs.get(metric, {}), metric)), 1)
        lf = dict(f)
        lii = layer_ii(spec, ctx, hyper) if spec.is_known else None
        if ctx.io_type == "io_stream" and lii is not None:
            lf["lat_ii"] = float(lii)
        row["latency_cycles"] = round(predict_linear(lf, coefs["latency"], "latency"), 1) if spec.is_known else None
        row["ii_cycles"] = lii
        if not spec.is_known:
            row["warning"] = f"unknown layer type {spec.func or spec.kind}: not estimated (counted as 0)"
        rows.append(row)
    out["layers"] = rows
    return out
