"""Turn hls4ml config structs + the top function's calls into :class:`LayerSpec` lists.

Both the fixture front-end (``layers.json``, already in this form) and the project front-end
(which parses ``firmware/parameters.h`` etc. into this form) end here, so the two can only
disagree about what they *read*, never about how it is interpreted. The "document" is a dict with:

``layers``   list of config structs: ``{name, base, fields, typedefs_resolved, config_refs, comment}``
``calls``    the ``nnet::`` calls of the top function in order: ``{func, template_args, config, comment}``
``typedefs`` file-scope typedefs: ``{name: {"resolved": "ap_fixed<16,6>", ...}}``
``hls4ml_config`` model-level defaults (``IOType``, ``Model.Strategy``), may be None.
"""

from __future__ import annotations

import re
from typing import Any

from .einsum import einsum_dense_spec
from .layerspec import LayerSpec, array_len, type_bits, type_int_bits, type_quant
from .structfields import copy_weight_stats as _weight_stats
from .structfields import exp_arg_log2 as _exp_arg_log2
from .structfields import int_field as _i

# Function name (without ``nnet::`` and fork-specific suffixes) -> (kind, op).
_FUNC_KIND: dict[str, tuple[str, str | None]] = {
    "dense": ("dense", None),
    "compute_layer": ("dense", None),  # hls4ml <= 0.1 name of the dense layer
    "dense_large": ("dense", None),
    "dense_latency": ("dense", None),
    "dense_resource": ("dense", None),
    "dense_compressed": ("dense", None),
    "conv_1d": ("conv1d", None),
    "conv_1d_cl": ("conv1d", None),
    "conv_1d_large_cl": ("conv1d", None),
    "conv_1d_latency_cl": ("conv1d", None),
    "conv_1d_resource_cl": ("conv1d", None),
    "conv_2d": ("conv2d", None),
    "conv_2d_cl": ("conv2d", None),
    "conv_2d_large_cl": ("conv2d", None),
    "conv_2d_latency_cl": ("conv2d", None),
    "conv_2d_resource_cl": ("conv2d", None),
    "pointwise_conv_1d_cl": ("pointwise_conv1d", None),
    "pointwise_conv_2d_cl": ("pointwise_conv2d", None),
    "depthwise_conv_1d_cl": ("depthwise_conv1d", None),
    "depthwise_conv_2d_cl": ("depthwise_conv2d", None),
    "pooling1d_cl": ("pooling1d", None),
    "pooling1d": ("pooling1d", None),
    "pooling2d_cl": ("pooling2d", None),
    "pooling2d": ("pooling2d", None),
    "pooling2d_large_cl_nopad_pad": ("pooling2d", None),
    "global_pooling1d_cl": ("global_pooling1d", None),
    "global_pooling2d_cl": ("global_pooling2d", None),
    "softmax": ("softmax", "softmax"),
    "normalize": ("batchnorm", None),
    "batchnorm": ("batchnorm", None),
    "layernormalize": ("layernorm", None),
    "zeropad1d_cl": ("padding", None),
    "zeropad2d_cl": ("padding", None),
    "cropping1d_cl": ("padding", None),
    "cropping2d_cl": ("padding", None),
    "add": ("merge", "add"),
    "subtract": ("merge", "subtract"),
    "multiply": ("merge", "multiply"),
    "average": ("merge", "average"),
    "maximum": ("merge", "maximum"),
    "minimum": ("merge", "minimum"),
    "concatenate1d": ("concat", None),
    "concatenate2d": ("concat", None),
    "concatenate3d": ("concat", None),
    "clone_stream": ("clone", None),
    "broadcast_stream": ("clone", None),
    "unary_lut": ("activation", "unary_lut"),
    "repack_stream": ("reshape", None),
    "transpose": ("reshape", None),
    "transpose_2d": ("reshape", None),
    "resize_nearest": ("resize", None),
    "slice_tensor1d": ("slice", None),
    "gru_stack": ("rnn", "gru"),
    "gru": ("rnn", "gru"),
    "gru_static": ("rnn", "gru"),
    "lstm_stack": ("rnn", "lstm"),
    "lstm": ("rnn", "lstm"),
    "lstm_static": ("rnn", "lstm"),
    "simple_rnn": ("rnn", "simple_rnn"),
    "simple_rnn_static": ("rnn", "simple_rnn"),
    "simple_rnn_pytorch": ("rnn", "simple_rnn"),
    "simple_rnn_pytorch_static": ("rnn", "simple_rnn"),
}

_ACTIVATIONS = {
    "relu", "relu6", "relu_max", "leaky_relu", "thresholded_relu", "elu", "selu", "prelu",
    "softplus", "softsign", "sigmoid", "tanh", "linear", "hard_sigmoid", "hard_tanh",
    "binary_tanh", "ternary_tanh",
}

# Suffixes that forks of hls4ml append to the stock function names.
_SUFFIX_RE = re.compile(r"(_switch|_me|_ss|_array|_stream)+$")


def classify_func(func: str | None) -> tuple[str, str | None]:
    """Map an ``nnet::`` function name to (kind, op); unknown functions give ``("unknown", name)``."""
    if not func:
        return "unknown", None
    name = func.split("::")[-1]
    stem = _SUFFIX_RE.sub("", name)
    for cand in (name, stem):
        if cand in _FUNC_KIND:
            return _FUNC_KIND[cand]
        if cand in _ACTIVATIONS:
            return "activation", cand
    return "unknown", stem


def _resolve_type(doc: dict[str, Any], name: str | None) -> str | None:
    if not name:
        return None
    td = (doc.get("typedefs") or {}).get(name)
    if isinstance(td, dict):
        return td.get("resolved") or td.get("type")
    if isinstance(td, str):
        return td
    if "<" in name or name in ("float", "double", "int"):
        return name
    return None


def _model_defaults(doc: dict[str, Any]) -> tuple[str | None, str | None, int | None]:
    cfg = doc.get("hls4ml_config") or {}
    io = cfg.get("IOType")
    model = cfg.get("Model") or {}
    strat = model.get("Strategy")
    rf = model.get("ReuseFactor")
    return (
        str(io).lower() if io else None,
        str(strat).lower() if strat else None,
        int(rf) if isinstance(rf, int) else None,
    )


def _global_type(doc: dict[str, Any], *names: str) -> str | None:
    for n in names:
        t = _resolve_type(doc, n)
        if t:
            return t
    return None


def _rnn_fields(spec: LayerSpec, cfgs: dict[str, dict[str, Any]], cfg: dict[str, Any] | None,
                fields: dict[str, Any], doc: dict[str, Any]) -> None:
    """GRU / LSTM / SimpleRNN: sizes, the time steps, static or not, and the kernels' settings."""
    refs = (cfg or {}).get("config_refs") or {}
    if cfg is not None and "n_state" not in fields and "n_sequence" not in fields:
        # not hls4ml's recurrent config (a hand-written cell whose last template argument is,
        # say, a dense_config): its structure is unknown - said, not guessed
        spec.kind = "unknown"
        spec.notes.append(f"recurrent function {spec.func} with a config struct that is not hls4ml's "
                          "(no n_state / n_sequence): not modelled")
        return
    spec.n_in = _i(fields, "n_in", default=0) or 0
    spec.n_state = _i(fields, "n_state", "n_out", default=0) or 0
    spec.n_timesteps = max(1, _i(fields, "n_sequence", default=1) or 1)
    seq_out = _i(fields, "n_sequence_out", default=1) or 1
    spec.n_out = spec.n_state * max(1, seq_out)
    static = fields.get("use_static")
    spec.rnn_static = bool(static) if static is not None else True
    kernel = (cfgs.get(refs.get("mult_config1", "")) or {}).get("fields") or {}
    ktdr = (cfgs.get(refs.get("mult_config1", "")) or {}).get("typedefs_resolved") or {}
    rf = _i(kernel, "reuse_factor")
    if rf and rf > 0:
        spec.reuse_factor = rf
    recurrent = (cfgs.get(refs.get("mult_config2", "")) or {}).get("fields") or {}
    rrf = _i(recurrent, "reuse_factor")
    spec.recurrent_reuse = rrf if rrf and rrf > 0 else None
    strat = kernel.get("strategy")
    if isinstance(strat, str):
        spec.strategy = "resource" if strat.lower().startswith("resource") else "latency"
    spec.weight_bits = spec.weight_bits or type_bits(ktdr.get("weight_t")) or \
        type_bits(_global_type(doc, "weight_default_t", "model_default_t"))
    spec.accum_bits = spec.accum_bits or type_bits(ktdr.get("accum_t")) or spec.accum_bits
    gates = {"gru": 3, "lstm": 4}.get(spec.op or "", 1)
    spec.n_weights = gates * spec.n_state * (spec.n_in + spec.n_state)
    acts = [str(refs.get(k) or "") for k in ("ACT_CONFIG_GRU", "ACT_CONFIG_LSTM", "ACT_CONFIG_T")]
    spec.implementation = "hard" if any(a.startswith("hard_") for a in acts if a) else None


def _spec_from_config(
    doc: dict[str, Any],
    cfgs: dict[str, dict[str, Any]],
    cfg: dict[str, Any] | None,
    kind: str,
    op: str | None,
    func: str | None,
    name: str,
    in_type: str | None,
    out_type: str | None,
) -> LayerSpec:
    """Build one LayerSpec from one config struct (the heart of both front-ends)."""
    fields: dict[str, Any] = dict((cfg or {}).get("fields") or {})
    tdr: dict[str, str] = dict((cfg or {}).get("typedefs_resolved") or {})
    refs: dict[str, str] = dict((cfg or {}).get("config_refs") or {})
    mult = cfgs.get(refs.get("mult_config", "")) if refs.get("mult_config") else None
    mult_fields = (mult or {}).get("fields") or {}
    mult_tdr = (mult or {}).get("typedefs_resolved") or {}
    io_default, strat_default, rf_default = _model_defaults(doc)

    spec = LayerSpec(name=name, kind=kind, op=op, func=func)

    # io type: the struct says it for most layers; stream types give it away otherwise.
    io = fields.get("io_type")
    if isinstance(io, str) and "stream" in io:
        io = "io_stream"
    elif isinstance(io, str) and "parallel" in io:
        io = "io_parallel"
    else:
        io = "io_stream" if array_len(in_type) is not None else (io_default or "io_parallel")
        io = "io_stream" if "stream" in io else "io_parallel"
    spec.io_type = io

    strat = fields.get("strategy")
    if not isinstance(strat, str):
        strat = mult_fields.get("strategy") if isinstance(mult_fields.get("strategy"), str) else None
    if not isinstance(strat, str):
        strat = strat_default or "latency"
    if func and func.split("::")[-1].startswith(("dense_large", "conv_2d_large", "conv_1d_large")):
        strat = "resource"
    strat = strat.lower()
    spec.strategy = "resource" if strat in ("resource", "resource_unrolled") else "latency"

    rf = _i(fields, "reuse_factor", "reuse")
    if rf is None:
        rf = _i(mult_fields, "reuse_factor")
    if rf is None or rf <= 0 or rf > 1_000_000:
        rf = rf_default or 1
    spec.reuse_factor = rf
    impl = fields.get("implementation")
    spec.implementation = str(impl) if isinstance(impl, str) else None
    spec.store_weights_in_bram = bool(fields.get("store_weights_in_bram", False))
    spec.table_size = _i(fields, "table_size", "exp_table_size")

    # widths
    spec.in_pack = array_len(in_type)
    spec.out_pack = array_len(out_type)
    spec.input_bits = type_bits(in_type)
    spec.result_bits = type_bits(out_type)
    spec.input_int = type_int_bits(in_type)
    spec.result_int = type_int_bits(out_type)
    spec.result_rnd, spec.result_sat = type_quant(out_type)
    wt = tdr.get("weight_t") or mult_tdr.get("weight_t")
    at = tdr.get("accum_t") or mult_tdr.get("accum_t")
    bt = tdr.get("bias_t") or mult_tdr.get("bias_t")
    if spec.kind in ("dense", "conv1d", "conv2d", "pointwise_conv1d", "pointwise_conv2d",
                     "depthwise_conv1d", "depthwise_conv2d", "batchnorm"):
        wt = wt or _global_type(doc, "weight_default_t", "model_default_t")
        bt = bt or _global_type(doc, "bias_default_t", "model_default_t")
        at = at or _global_type(doc, "accum_default_t", "model_default_t")
    if spec.kind in ("batchnorm", "layernorm"):
        wt = tdr.get("scale_t") or wt
    spec.weight_bits = type_bits(wt)
    spec.bias_bits = type_bits(bt)
    spec.accum_bits = type_bits(at)
    tt = tdr.get("table_t") or tdr.get("exp_table_t")
    spec.table_bits = type_bits(tt)
    spec.exp_arg_log2 = _exp_arg_log2(fields, tdr) if kind == "softmax" and spec.implementation == "stable" else None

    k = kind
    if k == "dense":
        spec.n_in = _i(fields, "n_in", default=0) or 0
        spec.n_out = _i(fields, "n_out", default=0) or 0
        spec.n_weights = spec.n_in * spec.n_out
        nnz = _i(fields, "n_nonzeros")
        nz = _i(fields, "n_zeros")
        if nnz is None and nz is not None:
            nnz = spec.n_weights - nz
        spec.n_nonzero = nnz
        spec.multiplier_limit = _i(fields, "multiplier_limit")
        _weight_stats(spec, cfg)
    elif k == "rnn":
        _rnn_fields(spec, cfgs, cfg, fields, doc)
    elif k in ("conv1d", "conv2d", "pointwise_conv1d", "pointwise_conv2d",
               "depthwise_conv1d", "depthwise_conv2d"):
        two_d = k.endswith("2d")
        spec.n_chan = _i(fields, "n_chan", default=1) or 1
        spec.n_filt = _i(fields, "n_filt", default=1) or 1
        spec.in_width = _i(fields, "in_width", "y_in", default=1) or 1
        spec.out_width = _i(fields, "out_width", "y_out", default=1) or 1
        spec.filt_width = _i(fields, "filt_width", "y_filt", default=1) or 1
        spec.stride_width = _i(fields, "stride_width", "stride", default=1) or 1
        if two_d:
            spec.in_height = _i(fields, "in_height", default=1) or 1
            spec.out_height = _i(fields, "out_height", default=1) or 1
            spec.filt_height = _i(fields, "filt_height", default=1) or 1
            spec.stride_height = _i(fields, "stride_height", default=1) or 1
        spec.n_in = spec.in_height * spec.in_width * spec.n_chan
        spec.n_out = spec.out_height * spec.out_width * spec.n_filt
        spec.n_weights = spec.kernel_mults
        nz = _i(fields, "n_zeros")
        if nz is None:
            nz = _i(mult_fields, "n_zeros")
        mnnz = _i(mult_fields, "n_nonzeros")
        if mnnz is not None:
            spec.n_nonzero = mnnz
        elif nz is not None:
            spec.n_nonzero = max(0, spec.n_weights - nz)
        spec.multiplier_limit = _i(mult_fields, "multiplier_limit")
        if spec.multiplier_limit is None:
            spec.multiplier_limit = _i(fields, "multiplier_limit")
        spec.n_partitions = spec.cfg_partitions = _i(fields, "n_partitions")
        _weight_stats(spec, cfg)
        templates = (cfg or {}).get("templates") or {}
        if (spec.io_type == "io_parallel" and spec.implementation == "pointwise"
                and spec.n_partitions and "conv_kernel" not in templates):
            # hls4ml 0.6/0.7 pointwise_conv_1d_cl unrolled its partitions (all pixels at once);
            # from 0.8 (configs carry a conv_kernel alias) partitions run one after the other.
            spec.notes.append("pre-0.8 pointwise conv: partitions unrolled")
            spec.n_partitions = 1
    elif k in ("pooling1d", "pooling2d", "global_pooling1d", "global_pooling2d"):
        spec.op = str(fields.get("pool_op") or op or "max").lower()
        spec.n_chan = spec.n_filt = _i(fields, "n_filt", "n_chan", default=1) or 1
        if k == "pooling2d":
            spec.in_height = _i(fields, "in_height", default=1) or 1
            spec.in_width = _i(fields, "in_width", default=1) or 1
            spec.out_height = _i(fields, "out_height", default=1) or 1
            spec.out_width = _i(fields, "out_width", default=1) or 1
            spec.filt_height = _i(fields, "pool_height", "filt_height", default=1) or 1
            spec.filt_width = _i(fields, "pool_width", "filt_width", default=1) or 1
            spec.stride_height = _i(fields, "stride_height", default=1) or 1
            spec.stride_width = _i(fields, "stride_width", default=1) or 1
        elif k == "global_pooling2d":
            spec.in_height = _i(fields, "in_height", default=1) or 1
            spec.in_width = _i(fields, "in_width", default=1) or 1
            spec.filt_height, spec.filt_width = spec.in_height, spec.in_width
        else:
            spec.in_width = _i(fields, "n_in", "in_width", default=1) or 1
            spec.out_width = _i(fields, "n_out", "out_width", default=1) or 1
            if k == "global_pooling1d":
                spec.out_width = 1
                spec.filt_width = spec.in_width
            else:
                spec.filt_width = _i(fields, "pool_width", "filt_width", default=1) or 1
                spec.stride_width = _i(fields, "stride_width", default=1) or 1
        spec.n_in = spec.in_height * spec.in_width * spec.n_chan
        spec.n_out = spec.out_height * spec.out_width * spec.n_filt
    elif k in ("activation", "softmax"):
        spec.n_in = spec.n_out = _i(fields, "n_in", default=0) or 0
        spec.n_chan = _i(fields, "n_chan", default=1) or 1
    elif k == "batchnorm":
        spec.n_in = spec.n_out = _i(fields, "n_in", default=0) or 0
        spec.n_chan = spec.n_filt = _i(fields, "n_filt", "n_chan", default=1) or 1
        spec.multiplier_limit = _i(fields, "multiplier_limit")
        # one scale per channel (per element where n_filt is -1 / absent)
        spec.n_weights = spec.n_filt if spec.n_filt > 1 else spec.n_in
        _weight_stats(spec, cfg)
    elif k == "layernorm":
        # hls4ml's LayerNormalization over the last axis of (seq_len, dim): one scale per dim
        spec.n_in = spec.n_out = _i(fields, "n_in", default=0) or 0
        spec.in_width = spec.out_width = max(1, _i(fields, "seq_len", default=1) or 1)
        spec.n_chan = spec.n_filt = spec.n_weights = max(1, spec.n_in // spec.in_width)
        _weight_stats(spec, cfg)
    elif k == "padding":
        spec.n_chan = spec.n_filt = _i(fields, "n_chan", default=1) or 1
        spec.in_height = _i(fields, "in_height", default=1) or 1
        spec.in_width = _i(fields, "in_width", default=1) or 1
        spec.out_height = _i(fields, "out_height", default=1) or 1
        spec.out_width = _i(fields, "out_width", default=1) or 1
        spec.n_in = spec.in_height * spec.in_width * spec.n_chan
        spec.n_out = spec.out_height * spec.out_width * spec.n_chan
    else:
        n = _i(fields, "n_in", "n_elem", "n_elem1_0", default=0) or 0
        spec.n_in = n
        spec.n_out = _i(fields, "n_out", default=n) or n
    return spec


def layers_from_document(doc: dict[str, Any]) -> list[LayerSpec]:
    """LayerSpecs of every layer the top function calls, in call order.

    Falls back to the config structs in file order (minus the ones only
    referenced by others, e.g. ``config2_mult``) when no calls are known.
    """
    cfg_list: list[dict[str, Any]] = list(doc.get("layers") or [])
    cfgs = {c.get("name"): c for c in cfg_list if c.get("name")}
    calls: list[dict[str, Any]] = list(doc.get("calls") or [])
    specs: list[LayerSpec] = []

    if not calls:
        referenced = {r for c in cfg_list for r in (c.get("config_refs") or {}).values()}
        for c in cfg_list:
            if c.get("name") in referenced:
                continue
            base = str(c.get("base") or "")
            kind, op = _kind_from_base(base, c)
            specs.append(_spec_from_config(doc, cfgs, c, kind, op, None, c.get("comment") or c["name"], None, None))
        return specs

    for idx, call in enumerate(calls):
        func = call.get("func")
        kind, op = classify_func(func)
        args = [a for a in (call.get("template_args") or []) if isinstance(a, str)]
        cfg_name = call.get("config")
        types = [a for a in args if a != cfg_name and a not in cfgs]
        in_t = _resolve_type(doc, types[0]) if types else None
        out_t = _resolve_type(doc, types[-1]) if len(types) > 1 else None
        if out_t is None and idx + 1 < len(calls):
            nxt = [a for a in (calls[idx + 1].get("template_args") or []) if a not in cfgs]
            out_t = _resolve_type(doc, nxt[0]) if nxt else None
        name = call.get("comment") or cfg_name or f"layer{idx}"
        cfg = cfgs.get(cfg_name) if cfg_name else None
        refs = (cfg or {}).get("config_refs") or {}
        fname = (func or "").split("::")[-1]
        if fname.startswith("separable_conv") and ("depthwise_config" in refs or "pointwise_config" in refs):
            mid_t = _resolve_type(doc, types[1]) if len(types) > 2 else out_t
            two_d = "2d" in fname
            dw = cfgs.get(refs.get("depthwise_config", ""))
            pw = cfgs.get(refs.get("pointwise_config", ""))
            specs.append(_spec_from_config(doc, cfgs, dw, "depthwise_conv2d" if two_d else "depthwise_conv1d",
                                           None, func, f"{name}_depthwise", in_t, mid_t))
            specs.append(_spec_from_config(doc, cfgs, pw, "pointwise_conv2d" if two_d else "pointwise_conv1d",
                                           None, func, f"{name}_pointwise", mid_t, out_t))
            continue
        if fname.startswith("bidirectional") and ("FORWARD_CONFIG" in refs or "BACKWARD_CONFIG" in refs):
            # Bidirectional RNN (hls4ml 1.3): a forward and a backward cell over the same sequence,
            # each with its own kernels; the time steps and staticness are on the outer config.
            outer = (cfg or {}).get("fields") or {}
            templates = (cfg or {}).get("templates") or {}
            for direction in ("forward", "backward"):
                dcfg = cfgs.get(refs.get(f"{direction.upper()}_CONFIG", ""))
                if dcfg is None:
                    continue
                tmpl = str(templates.get(f"RNNfunc_{direction}") or "").lower()
                op = "lstm" if "lstm" in tmpl else "gru" if "gru" in tmpl else "simple_rnn"
                spec = _spec_from_config(doc, cfgs, dcfg, "rnn", op, func, f"{name}_{direction}", in_t, out_t)
                spec.n_timesteps = max(1, _i(outer, "n_sequence", default=1) or 1)
                spec.n_out = spec.n_state * max(1, _i(outer, "n_sequence_out", default=1) or 1)
                static = outer.get("use_static")
                spec.rnn_static = bool(static) if static is not None else True
                spec.input_reshaped = _reads_packed_port(call, doc)
                specs.append(spec)
            continue
        if fname == "einsum_dense":
            base = _spec_from_config(doc, cfgs, cfg, "unknown", None, func, name, in_t, out_t)
            specs.append(einsum_dense_spec(doc, cfgs, cfg, base))
            continue
        da = (doc.get("da_kernels") or {}).get(fname)
        if da is not None:
            # hls4ml 1.3 distributed arithmetic: the dense layer is an explicit adder graph
            spec = _spec_from_config(doc, cfgs, None, "dense_da", None, func, name, in_t, out_t)
            spec.n_in, spec.n_out = int(da["n_in"]), int(da["n_out"])
            spec.n_weights = spec.n_in * spec.n_out
            spec.da_adders, spec.da_adder_bits = int(da["adders"]), int(da["adder_bits"])
            spec.da_depth = float(da["depth"])
            specs.append(spec)
            continue
        if kind == "unknown" and cfg is not None:
            kind2, op2 = _kind_from_base(str(cfg.get("base") or ""), cfg)
            if kind2 != "unknown" and kind2 not in ("activation",):
                kind, op = kind2, op2
        spec = _spec_from_config(doc, cfgs, cfg, kind, op, func, name, in_t, out_t)
        if kind == "rnn":
            spec.input_reshaped = _reads_packed_port(call, doc)
        if isinstance(call.get("fifo_depth"), int):
            spec.fifo_depth = call["fifo_depth"]
        if kind == "unknown":
            spec.notes.append(f"unmodelled layer function {func}")
        specs.append(spec)
    pragmas = doc.get("top_pragmas")
    if isinstance(pragmas, list):  # what the top function's pragmas say of the arrays between layers
        partitioned = "ARRAY_PARTITION" in {str(p).upper() for p in pragmas}
        for spec in specs:
            spec.top_partitioned = partitioned
    return specs


def _reads_packed_port(call: dict[str, Any], doc: dict[str, Any]) -> bool:
    """Whether a layer call's input is an array the top function packs into one wide word
    (``#pragma HLS ARRAY_RESHAPE``: hls4ml's io_parallel input port)."""
    args = call.get("args") or []
    return bool(args) and str(args[0]).strip() in set(doc.get("top_reshaped") or [])


def _kind_from_base(base: str, cfg: dict[str, Any]) -> tuple[str, str | None]:
    """Kind from the config struct's base class, for projects without a parsed top function."""
    fields = cfg.get("fields") or {}
    if base in ("dense_config", "layer_config"):
        return "dense", None
    if base in ("conv1d_config", "conv_config"):
        return "conv1d", None
    if base == "conv2d_config":
        return "conv2d", None
    if base == "pooling1d_config":
        return "pooling1d", None
    if base == "pooling2d_config":
        return "pooling2d", None
    if base == "batchnorm_config":
        return "batchnorm", None
    if base == "layernorm_config":
        return "layernorm", None
    if base in ("padding1d_config", "padding2d_config"):
        return "padding", None
    if base == "activ_config":
        name = str(cfg.get("name") or "")
        for a in ("softmax",):
            if name.startswith(a):
                return "softmax", "softmax"
        for a in sorted(_ACTIVATIONS, key=len, reverse=True):
            if name.startswith(a):
                return "activation", a
        return "activation", None
    if base == "merge_config":
        return "merge", None
    if base == "concat_config":
        return "concat", None
    if base == "resize_config":
        return "resize", None
    if base == "slice_tensor1d_config":
        return "slice", None
    _ = fields
    return "unknown", base or None


__all__ = ["classify_func", "layers_from_document"]
