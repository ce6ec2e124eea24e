"""hls4ml 1.3's EinsumDense (``nnet::einsum_dense``, from Keras 3 / HGQ2 models) as a LayerSpec.

What hls4ml builds (``nnet_einsum_dense.h``): the input is transposed (wiring) into ``I`` slices
of ``L0 x C`` values; for every free data index ``l0`` and every slice ``i`` a latency-strategy
dense kernel ``C -> L1`` runs with slice ``i``'s own weights, and the result is transposed back
(wiring). The weights of a slice are the same for every ``l0`` - exactly a pointwise convolution
over ``L0`` positions with ``C`` input channels and ``L1 x I`` filters (each output sums ``C``
products), which is how it is modelled. The ``l0`` loop carries ``UNROLL factor =
parallelization_factor``, but hls4ml only accepts EinsumDense in io_parallel with the latency or
distributed-arithmetic strategy, and such a design's top function is one pipeline (unless
another layer uses the resource strategy) - a pipeline unrolls every loop inside it - so all
``L0`` positions are modelled side by side.

The distributed-arithmetic variant calls one generated adder graph per slice
(``einsum_<index>_da_<i>_of_<I>`` in ``nnet_code_gen.h``, the same form as a DA dense kernel) for
each ``l0``, then adds the bias: it is modelled as a DA dense layer whose graph is ``L0`` copies
of the slices' graphs plus the ``L0 x L1 x I`` bias adders.
"""

from __future__ import annotations

import re
from typing import Any

from .layerspec import LayerSpec, type_bits
from .structfields import copy_weight_stats, int_field


def einsum_dense_spec(doc: dict[str, Any], cfgs: dict[str, dict[str, Any]], cfg: dict[str, Any] | None,
                      base: LayerSpec) -> LayerSpec:
    """Fill ``base`` (built from the einsum config struct: name, io type, types) with the sizes
    of the EinsumDense, as a pointwise conv1d (latency) or a DA dense (distributed arithmetic)."""
    fields = (cfg or {}).get("fields") or {}
    sizes = {k: int_field(fields, k) for k in ("n_free_data", "n_free_kernel", "n_contract", "n_inplace")}
    if cfg is None or any(v is None or v <= 0 for v in sizes.values()):
        base.kind = "unknown"
        base.notes.append("EinsumDense config struct without its sizes (n_free_data, n_free_kernel, "
                          "n_contract, n_inplace)")
        return base
    l0, l1, c, n_inplace = (sizes[k] for k in ("n_free_data", "n_free_kernel", "n_contract", "n_inplace"))
    base.n_in, base.n_out = l0 * c * n_inplace, l0 * l1 * n_inplace
    strategy = str(fields.get("strategy") or "").lower()
    if "distributed" in strategy:
        index = re.sub(r"\D", "", str(cfg.get("name") or ""))
        graphs = [g for name, g in (doc.get("da_kernels") or {}).items()
                  if re.fullmatch(rf"einsum_{index}_da_\d+_of_{n_inplace}", name)]
        if len(graphs) != n_inplace:
            base.kind = "unknown"
            base.notes.append(f"EinsumDense (distributed arithmetic): {len(graphs)} of {n_inplace} adder "
                              "graphs found in nnet_code_gen.h")
            return base
        acc = type_bits(((cfg.get("typedefs_resolved") or {}).get("accum_t"))) or base.accum_bits or 16
        base.kind = "dense_da"
        base.accum_bits = acc
        base.n_weights = c * l1 * n_inplace
        base.da_adders = l0 * sum(int(g["adders"]) for g in graphs) + base.n_out
        base.da_adder_bits = l0 * sum(int(g["adder_bits"]) for g in graphs) + base.n_out * acc
        base.da_depth = max(float(g["depth"]) for g in graphs) + 1.0
        base.notes.append(f"EinsumDense: {l0} x {n_inplace} distributed-arithmetic kernels {c} -> {l1}")
        return base
    dense = cfgs.get(((cfg.get("config_refs") or {}).get("dense_conf")) or "") or {}
    dfields, dtypes = dense.get("fields") or {}, dense.get("typedefs_resolved") or {}
    base.kind = "pointwise_conv1d"
    base.n_chan, base.n_filt = c, l1 * n_inplace
    base.in_width = base.out_width = l0
    base.filt_width = base.stride_width = 1
    base.n_partitions = 1  # every position at once (see the module doc)
    base.n_weights = base.kernel_mults
    base.reuse_factor = max(1, int_field(dfields, "reuse_factor") or base.reuse_factor or 1)
    base.strategy = "latency"
    base.weight_bits = type_bits(dtypes.get("weight_t")) or base.weight_bits
    base.accum_bits = type_bits(dtypes.get("accum_t")) or base.accum_bits
    base.bias_bits = type_bits(dtypes.get("bias_t")) or base.bias_bits
    zeros = int_field(dfields, "n_zeros")
    if zeros is not None and zeros >= 0:  # hls4ml writes -1 when the slices have different kernels
        base.n_nonzero = max(0, base.n_weights - zeros)
    copy_weight_stats(base, cfg)
    base.notes.append(f"EinsumDense: {l0} positions x {n_inplace} kernels {c} -> {l1}, "
                      "built as a pointwise convolution")
    return base
