"""GRU and LSTM (io_parallel and io_stream), step by step as nnet_recurrent.h computes them, whole batch at once.

Per time step (Keras gate order; ``accum_t`` is the layer's, ``res_T`` its result type):

* ``tmpres = dense(x_t)`` and ``tmpres_state = dense(h)`` - DenseLatency with each mult config's
  weight/bias/accumulator types, results cast to ``accum_t`` (the exact affine kernel of Dense);
* gate sums ``accum_t(tmpres + tmpres_state)``; the recurrent activation (sigmoid/tanh tables, or
  relu) maps ``accum_t -> accum_t``;
* GRU: ``accum_t(r * tmpres_state_h)``, ``accum_t(tmpres_h + that)``, activation, then
  ``h = res_T(hh * (1 - z) + h * z)``;
* LSTM: ``s = res_T(c * i + s * f)``, ``h = res_T(o * act<res_T -> accum_t>(s))``.

Products and sums are exact in ap_fixed before the one assignment, so each step is a few
exact float64 operations followed by a rounding/overflow pass. ``use_static`` (state kept in
static variables, reset at the first step of every sample) and the non-static variant compute
the same values. Tables are rebuilt as the C++ builds them (:mod:`hwflow.emu.tables`).
"""

from __future__ import annotations

import re

import numpy as np

from hwflow.emu.fast.affine import _Affine, _strategy_ok
from hwflow.emu.fast.core import Unsupported, _check_product, _dtype_for, _typedef_in, _weights, cast_raw
from hwflow.emu.fixed import FixedType
from hwflow.emu.tables import act_table_index, sigmoid_table, tanh_table


def _structs(cpp: str) -> dict[str, str]:
    """``struct NAME : base { body };`` blocks of a layer's config text, by name."""
    return {m.group(1): m.group(2) for m in re.finditer(r"struct\s+(\w+)\s*(?::[^{]*)?\{(.*?)\};", cpp, re.S)}


def _value(body: str, name: str) -> str | None:
    m = re.search(rf"\b{re.escape(name)}\s*=\s*([^;]+);", body)
    return m.group(1).strip() if m else None


def _alias(body: str, what: str) -> str | None:
    """``using what = nnet::activation::NAME<...>`` -> NAME."""
    m = re.search(rf"using\s+{what}\s*=\s*nnet::activation::(\w+)<", body)
    return m.group(1) if m else None


class _Act:
    """``nnet::activation::{sigmoid,tanh,relu}<data_T, res_T, ACT_CONFIG>`` on raw codes."""

    def __init__(self, layer, kind: str, cfg_body: str, in_t: FixedType, out_t: FixedType) -> None:
        self.kind, self.in_t, self.out_t = kind, in_t, out_t
        if kind in ("sigmoid", "tanh"):
            table_t = _typedef_in(layer, cfg_body, "table_t")
            size = int(_value(cfg_body, "table_size") or 1024)
            if table_t is None:
                raise Unsupported(f"layer {layer.name}: no table_t for its {kind}")
            table = sigmoid_table(table_t, size) if kind == "sigmoid" else tanh_table(table_t, size)
            self.size, self.span = size, (16 if kind == "sigmoid" else 8)
            self.table = out_t.to_raw(table)  # res[ii] = (res_T) table[index]
            self.info = {"table_t": str(table_t), "table_size": size}
        elif kind == "relu":
            self.info = {}
        else:
            raise Unsupported(f"layer {layer.name}: recurrent activation {kind!r} not emulated")

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        if self.kind == "relu":
            y = np.maximum(raw, 0.0)
            return cast_raw(y, self.in_t.frac, None, self.out_t, inplace=True).astype(np.float64)
        return self.table[act_table_index(raw, self.in_t, self.size, self.span)]


class _Cell:
    """One GRU/LSTM cell as a config struct describes it (``config<i>`` of a GRU/LSTM layer, or
    ``config<i>_forward``/``_backward`` of a Bidirectional one), on a batch of raw codes."""

    def __init__(self, layer, structs: dict[str, str], body: str, kind: str, prefix: str,
                 x_t: FixedType, h_t: FixedType, transposed: bool, project_dir) -> None:
        if (_value(body, "pytorch_order") or "false") != "false":
            raise Unsupported(f"layer {layer.name}: PyTorch gate order not emulated")
        self.kind = kind
        self.n_in, self.n = int(_value(body, "n_in")), int(_value(body, "n_state"))
        acc_t = _typedef_in(layer, body, "accum_t")
        if acc_t is None:
            raise Unsupported(f"layer {layer.name}: no accum_t in its {kind.upper()} config")
        mult = []
        for which in ("mult_config1", "mult_config2"):
            m = re.search(rf"typedef\s+(\w+)\s+{which}\s*;", body)
            mb = structs.get(m.group(1)) if m else None
            kern = re.search(r"using\s+kernel\s*=\s*nnet::(\w+)<", mb or "")
            if kern is None or kern.group(1) not in ("DenseLatency", "DenseResource_rf_leq_nin",
                                                     "DenseResource_rf_gt_nin_rem0"):
                raise Unsupported(f"layer {layer.name}: {which} kernel {kern.group(1) if kern else '?'} not emulated")
            mult.append(mb)
        acts = []
        for alias, cfg_name in (("activation_recr", f"ACT_CONFIG_{kind.upper()}"), ("activation", "ACT_CONFIG_T")):
            m = re.search(rf"typedef\s+(\w+)\s+{cfg_name}\s*;", body)
            acts.append((_alias(body, alias) or "", structs.get(m.group(1), "") if m else ""))
        gates = (3 if kind == "gru" else 4) * self.n

        def affine(mb: str, wkey: str, bkey: str, rows: int, in_t: FixedType) -> _Affine:
            w_t, b_t, m_acc = (_typedef_in(layer, mb, k) for k in ("weight_t", "bias_t", "accum_t"))
            w = _weights(layer, prefix + wkey, w_t, project_dir)
            w = w.reshape(gates, rows).T if transposed else w.reshape(rows, gates)
            b = _weights(layer, prefix + bkey, b_t, project_dir).reshape(-1)
            return _Affine(layer.name, np.ldexp(w, w_t.frac), w_t, m_acc.to_raw(b), in_t, m_acc, acc_t)

        self.k_in = affine(mult[0], "weight", "bias", self.n_in, x_t)
        self.k_rec = affine(mult[1], "recurrent_weight", "recurrent_bias", self.n, h_t)
        self.act_recr = _Act(layer, acts[0][0], acts[0][1], acc_t, acc_t)
        self.act = _Act(layer, acts[1][0], acts[1][1], acc_t, acc_t)
        self.act_state = _Act(layer, acts[1][0], acts[1][1], h_t, acc_t) if kind == "lstm" else None
        if 2 * max(acc_t.width, h_t.width) + 2 >= 53 or x_t.width > 52:
            raise Unsupported(f"layer {layer.name}: {kind.upper()} intermediate products wider than 53 bits")
        self.acc_t, self.h_t = acc_t, h_t
        self.info = {"accum_t": str(acc_t), "recurrent_activation": acts[0][0], "activation": acts[1][0],
                     **{f"act_{k}": v for k, v in self.act.info.items()}}

    def _acc_sum(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:  # accum_t(a + b), both accum_t
        return cast_raw(a + b, self.acc_t.frac, None, self.acc_t, inplace=True).astype(np.float64)

    def init(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros((m, self.n)), np.zeros((m, self.n))  # h, and the LSTM cell state

    def step(self, x: np.ndarray, state: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        h, c = state
        s, fa, fh = self.n, self.acc_t.frac, self.h_t.frac
        tmp = self.k_in(x).astype(np.float64)
        tmp_s = self.k_rec(h).astype(np.float64)
        f = max(2 * fa, fh + fa)  # a sum of accum*accum and res*accum products, exactly
        if self.kind == "gru":
            zr = self.act_recr(self._acc_sum(tmp[:, :2 * s], tmp_s[:, :2 * s]))
            z, r = zr[:, :s], zr[:, s:]
            state_h = cast_raw(r * tmp_s[:, 2 * s:], 2 * fa, None, self.acc_t, inplace=True).astype(np.float64)
            hh = self.act(self._acc_sum(tmp[:, 2 * s:], state_h))
            # res_T(hh * (1 - z) + h * z)
            v = hh * (2.0**fa - z) * 2.0 ** (f - 2 * fa) + h * z * 2.0 ** (f - fh - fa)
            return cast_raw(v, f, None, self.h_t, inplace=True).astype(np.float64), c
        ifo_idx = np.r_[0:2 * s, 3 * s:4 * s]
        ifo = self.act_recr(self._acc_sum(tmp[:, ifo_idx], tmp_s[:, ifo_idx]))
        i_g, f_g, o_g = ifo[:, :s], ifo[:, s:2 * s], ifo[:, 2 * s:]
        cc = self.act(self._acc_sum(tmp[:, 2 * s:3 * s], tmp_s[:, 2 * s:3 * s]))
        v = cc * i_g * 2.0 ** (f - 2 * fa) + c * f_g * 2.0 ** (f - fh - fa)  # res_T(c*i + s*f)
        c_new = cast_raw(v, f, None, self.h_t, inplace=True).astype(np.float64)
        s_act = self.act_state(c_new)
        h_new = cast_raw(o_g * s_act, 2 * fa, None, self.h_t, inplace=True).astype(np.float64)
        return h_new, c_new


def _common_checks(layer) -> bool:
    if _strategy_ok(layer) == "distributed_arithmetic":
        raise Unsupported(f"layer {layer.name}: recurrent layer with the distributed_arithmetic strategy")
    _check_product(layer)
    return bool(layer.get_attr("_weights_transposed", False))  # resource: stored (n_out, n_in)


def _build_rnn(layer, src, out_t, out_shape, project_dir, io_type):
    cls = layer.class_name
    transposed = _common_checks(layer)
    if str(layer.get_attr("direction", "forward")) != "forward":
        raise Unsupported(f"layer {layer.name}: {layer.get_attr('direction')} {cls} not emulated")
    structs = _structs(layer.get_attr("config_cpp", "") or "")
    main = next((b for b in structs.values() if re.search(rf"typedef\s+\w+\s+ACT_CONFIG_{cls}\b", b)), None)
    if main is None:
        raise Unsupported(f"layer {layer.name}: {cls} config not found")
    cell = _Cell(layer, structs, main, cls.lower(), "", src.type, out_t, transposed, project_dir)
    n_seq, n_seq_out = int(_value(main, "n_sequence")), int(_value(main, "n_sequence_out"))
    if tuple(src.shape) != (n_seq, cell.n_in) or out_shape not in ((cell.n,), (n_seq_out, cell.n)):
        raise Unsupported(f"layer {layer.name}: {cls} shapes {src.shape} -> {out_shape}")
    dt = _dtype_for(out_t)

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        m = a.shape[0]
        xs = a.reshape(m, n_seq, cell.n_in)
        state = cell.init(m)
        outs = []
        for t in range(n_seq):
            state = cell.step(xs[:, t], state)
            if n_seq_out > 1:
                outs.append(state[0])
        y = np.stack(outs, axis=1) if n_seq_out > 1 else state[0]
        return y.astype(dt).reshape((m, *out_shape))

    static = (_value(main, "use_static") or "true") == "true"
    return fn, {**cell.info, "static": static, "return_sequences": n_seq_out > 1}


def _build_bidirectional(layer, src, out_t, out_shape, project_dir, io_type):
    """nnet::bidirectional_stack: the forward cell over x_0..x_T-1 and the backward cell over
    x_T-1..x_0; per step ``[h_fwd(t), h_bwd]``, the backward state written at position T-1-t."""
    if io_type != "io_parallel":  # hls4ml 1.3's bidirectional_stack takes arrays only
        raise Unsupported(f"layer {layer.name}: Bidirectional in {io_type} not emulated")
    transposed = _common_checks(layer)
    structs = _structs(layer.get_attr("config_cpp", "") or "")
    main = next((b for b in structs.values() if "FORWARD_CONFIG" in b), None)
    if main is None:
        raise Unsupported(f"layer {layer.name}: Bidirectional config not found")
    cells = []
    for d in ("forward", "backward"):
        m = re.search(rf"typedef\s+(\w+)\s+{d.upper()}_CONFIG\s*;", main)
        k = re.search(rf"RNNfunc_{d}\s*=\s*nnet::(gru|lstm)_class", main)
        body = structs.get(m.group(1)) if m else None
        if body is None or k is None:
            raise Unsupported(f"layer {layer.name}: {d} RNN config not found")
        cells.append(_Cell(layer, structs, body, k.group(1), f"{d}_", src.type, out_t, transposed, project_dir))
    fwd, bwd = cells
    n_seq, n_seq_out = int(_value(main, "n_sequence")), int(_value(main, "n_sequence_out"))
    n_out = fwd.n + bwd.n
    if tuple(src.shape) != (n_seq, fwd.n_in) or out_shape not in ((n_out,), (n_seq_out, n_out)):
        raise Unsupported(f"layer {layer.name}: Bidirectional shapes {src.shape} -> {out_shape}")
    dt = _dtype_for(out_t)

    def fn(a: np.ndarray, owned: bool) -> np.ndarray:
        m = a.shape[0]
        xs = a.reshape(m, n_seq, fwd.n_in)
        sf, sb = fwd.init(m), bwd.init(m)
        y = np.zeros((m, n_seq, n_out)) if n_seq_out > 1 else None
        for t in range(n_seq):
            sf = fwd.step(xs[:, t], sf)
            sb = bwd.step(xs[:, n_seq - 1 - t], sb)
            if y is not None:
                y[:, t, :fwd.n] = sf[0]
                y[:, n_seq - 1 - t, fwd.n:] = sb[0]
        if y is None:
            y = np.concatenate([sf[0], sb[0]], axis=1)
        return y.astype(dt).reshape((m, *out_shape))

    static = (_value(main, "use_static") or "true") == "true"
    return fn, {"forward": fwd.kind, "backward": bwd.kind, **fwd.info, "static": static,
                "return_sequences": n_seq_out > 1}
