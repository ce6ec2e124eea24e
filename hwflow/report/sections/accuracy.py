"""The accuracy chain: float -> QKeras -> C-sim -> board, with C-sim agreement and the board check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...results import ACCURACY_SOURCE, Results
from .. import plots
from ..doc import Missing, Section, Table, V
from ..extras import Extras
from ..sources import (
    fmt_acc,
    fmt_num,
    fmt_pct,
    get,
    source_kind,
)
from .common import _plot, _v, missing_word


def board_accuracy_source(r: dict[str, Any]) -> str | None:
    """Accuracy on the board comes from the deployment: emulated board -> 'emulated', real
    board -> 'measured:board' (it is counted on the board's outputs, not by a power sensor)."""
    return Results(r).accuracy("board").source  # None when there is no board accuracy


def accuracy_stages(r: dict[str, Any]) -> list[dict[str, Any]]:
    """float -> quantized -> C-sim -> board, each with its source."""
    engine = get(r, "csim.engine")
    res = Results(r)
    if res.is_float_model:
        # a user's float Keras model: nothing quantization-aware exists, never call it QKeras
        quantized_stage = {
            "key": "quantized",
            "label": "no QAT\n(float model)",
            "name": "quantization-aware model: none (float Keras model)",
            "value": res.accuracy("quantized").value,
            "source": ACCURACY_SOURCE["quantized"],
            "step": "train",
            "what": "a float Keras model has no quantization-aware version; the firmware rounds its layers "
                    "to quantization.default",
            "missing": "none (float Keras model)",
        }
    else:
        quantized_stage = {
            "key": "quantized",
            "label": "quantized\n(QKeras)",
            "name": "quantized model (QKeras)",
            "value": res.accuracy("quantized").value,
            "source": ACCURACY_SOURCE["quantized"],
            "step": "train",
            "what": "the quantization-aware model, still floating-point arithmetic",
        }
    return [
        {
            "key": "float",
            "label": "float\n(Keras)",
            "name": "float Keras model (your model file)" if res.is_float_model else "float model (Keras)",
            "value": res.accuracy("float").value,
            "source": ACCURACY_SOURCE["float"],
            "step": "train",
            "what": "the float reference model on the test split",
        },
        quantized_stage,
        {
            "key": "csim",
            "label": "C-sim\n(hls4ml)",
            "name": "firmware C-simulation" + (f" ({engine} engine)" if engine else ""),
            "value": res.accuracy("csim").value,
            "source": ACCURACY_SOURCE["csim"],
            "step": "emulate",
            "what": "the generated HLS C++ (bit-accurate fixed point) on the test split",
        },
        {
            "key": "board",
            "label": "board",
            "name": "on the board",
            "value": res.accuracy("board").value,
            "source": res.accuracy("board").source,
            "step": "deploy",
            "what": "the deployed accelerator's outputs",
            "measured": True,
        },
    ]


def best_accuracy(r: dict[str, Any]) -> dict[str, Any] | None:
    """The accuracy closest to hardware that exists (board > C-sim > QKeras > float)."""
    for st in reversed(accuracy_stages(r)):
        if st["value"] is not None:
            return st
    return None


def reference_name(r: dict[str, Any]) -> str:
    """What the firmware is compared with: 'QKeras' or, for a user's float model, 'the float Keras model'."""
    return "the float Keras model" if Results(r).is_float_model else "QKeras"


def _exact_rows(cs: dict[str, Any], csrc: str, ref: str = "QKeras") -> list[list[Any]]:
    """Bit-exactness. When the output is a table-based activation (softmax/sigmoid/tanh tables
    approximate their float function, so the final outputs cannot be bit-exact), the exactness
    of the layer before the table is the figure that says whether the firmware is right."""
    bt = cs.get("exact_fraction_before_tables")
    if bt is None:
        return [[f"outputs bit-exact with {ref}", _v(fmt_pct(cs.get("exact_fraction"), 4), csrc)]]
    return [
        [f"bit-exact with {ref} before the output table", _v(fmt_pct(bt, 4), csrc)],
        ["final outputs bit-exact (the table approximates its float function)",
         _v(fmt_pct(cs.get("exact_fraction"), 4), csrc)],
    ]


def accuracy_section(r: dict[str, Any], ex: Extras, out: Path) -> Section:
    s = Section("accuracy", "Accuracy chain")
    stages = accuracy_stages(r)
    title = f"Accuracy chain: {r.get('design') or '?'} on {r.get('board') or '?'}"
    _plot(
        s,
        plots.accuracy_chain,
        [
            dict(st, kind=source_kind(st["source"]),
                 missing=st.get("missing") or missing_word(r, st["step"], st.get("measured", False)))
            for st in stages
        ],
        out / "accuracy_chain.png",
        title,
        alt="accuracy chain plot",
        caption="Test accuracy at each stage; bars start at the axis minimum to show differences (not at zero).",
    )
    rows, prev = [], None
    for st in stages:
        v = st["value"]
        delta = f"{100 * (v - prev):+.2f} pt" if (v is not None and prev is not None) else ""
        rows.append(
            [
                st["name"],
                _v(fmt_acc(v), st["source"], st.get("missing") or missing_word(r, st["step"], st.get("measured", False))),
                delta,
                V(st["source"], source=st["source"], only_badge=True) if v is not None else "",
                st["what"],
            ]
        )
        if v is not None:
            prev = v
    s.blocks.append(Table(["stage", "accuracy", "change", "source", "what"], rows))

    dist = r.get("distillation") or {}
    if dist:
        src = "software:qkeras"
        gain = dist.get("gain")
        s.blocks.append(
            Table(
                ["knowledge distillation", "value"],
                [
                    ["float teacher", _v(fmt_acc(dist.get("teacher_accuracy")), src)],
                    ["quantized student, with the teacher", _v(fmt_acc(dist.get("accuracy_with")), src)],
                    ["the same student without the teacher", _v(fmt_acc(dist.get("accuracy_without")), src)],
                    ["effect of distillation", f"{100 * gain:+.2f} pt" if gain is not None else "not known"],
                    ["temperature, alpha", f"{dist.get('temperature')}, {dist.get('alpha')}"],
                ],
                caption="Same seed, epochs and pruning for both students: the difference is the teacher's loss.",
            )
        )
    pr = r.get("pruning") or {}
    if pr.get("achieved"):
        ach = pr["achieved"]
        s.blocks.append(
            Table(
                ["pruning", "value"],
                [
                    ["target sparsity", fmt_pct(pr.get("target_sparsity"), 1)],
                    ["achieved on the quantized weights", fmt_pct(ach.get("overall"), 2)],
                ],
            )
        )
    cs = r.get("csim") or {}
    ref = reference_name(r)
    kind = Results(r).model_kind
    if any(cs.get(k) is not None for k in ("samples", "argmax_agreement", "exact_fraction", "max_abs_diff")):
        csrc = "emulated"
        rows = [
            *([["model", kind]] if kind else []),
            ["test samples", _v(fmt_num(cs.get("samples")), csrc)],
            [f"argmax agreement with {ref}", _v(fmt_pct(cs.get("argmax_agreement"), 4), csrc)],
            *_exact_rows(cs, csrc, ref),
            ["largest output difference |Δ|", _v(fmt_num(cs.get("max_abs_diff")), csrc)],
            ["first divergent layer", cs.get("first_divergent_layer") or "none found"],
            ["engine", str(cs.get("engine") or "unknown")],
        ]
        s.blocks.append(
            Table(
                [f"C-simulation vs {ref}", "value"],
                rows,
                caption=f"How closely the generated firmware reproduces {ref if ref != 'QKeras' else 'the QKeras model'}."
                + (" A float model's layers are rounded to quantization.default in the firmware, so its outputs "
                   "are close to the model's, not bit-exact." if Results(r).is_float_model else ""),
            )
        )
    else:
        s.blocks.append(
            Missing(
                "C-simulation: " + missing_word(r, "emulate"),
                f"run `hwflow emulate DESIGN` to compare the firmware with {ref if ref != 'QKeras' else 'the QKeras model'}",
            )
        )
    dep = r.get("deploy") or {}
    if dep:
        src = board_accuracy_source(r) or dep.get("source") or "emulated"
        match = dep.get("outputs_match_csim")
        s.blocks.append(
            Table(
                ["board vs C-simulation", "value"],
                [
                    ["inferences", _v(fmt_num(dep.get("n_inferences")), src)],
                    [
                        "outputs identical to C-sim",
                        "yes" if match is True else ("NO" if match is False else "not known"),
                    ],
                    ["bit-exact fraction", _v(fmt_pct(dep.get("exact_fraction"), 4), src)],
                    ["transport", str(dep.get("transport") or "unknown")],
                ],
            )
        )
    return s
