"""Energy per inference and efficiency, next to the baselines and the references."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...energy.compare import report_blocks
from ...figures import accuracy_per_joule, inferences_per_joule
from .. import plots
from ..doc import Details, Section, Table, V
from ..extras import Extras
from ..sources import (
    NOT_MEASURED,
    NOT_RUN,
    fmt_energy_uj,
    fmt_num,
    get,
    num,
    source_kind,
)
from .accuracy import best_accuracy
from .common import _kind_word, _plot, _short_task, _v, missing_word


def energy_section(r: dict[str, Any], ex: Extras, out: Path) -> Section:
    s = Section("energy", "Energy per inference and efficiency")
    # Issue 15: the section leads with one like-for-like table (three bases), its verdict and the
    # batch sweep (hwflow/energy/compare.py).
    s.blocks.extend(report_blocks(r, ex.anchors.get("energy_per_inference", []), out))
    en = r.get("energy") or {}
    src = en.get("source")
    m = ex.measurement
    miss = missing_word(r, "deploy", True)
    uj = num(en.get("uj_per_inference"))
    ipj = num(en.get("inferences_per_joule")) or inferences_per_joule(uj)
    apj = num(en.get("accuracy_per_joule"))
    unc = num(en.get("uncertainty_uj")) or num(m.get("energy_uj_per_inference_uncertainty"))
    est_e = get(r, "estimate.energy")
    show_est = isinstance(est_e, dict) and source_kind(src) != "estimate"
    esrc = (est_e.get("source") if isinstance(est_e, dict) else None) or get(r, "estimate.source") or "estimate"
    eu = num(est_e.get("uj_per_inference")) if isinstance(est_e, dict) else None
    e_ipj = (num(est_e.get("inferences_per_joule")) or inferences_per_joule(eu)) if isinstance(est_e, dict) else None
    acc0 = best_accuracy(r)
    e_apj = (
        (num(est_e.get("accuracy_per_joule")) or (acc0["value"] * e_ipj if (acc0 and e_ipj) else None))
        if isinstance(est_e, dict)
        else None
    )
    dash = V(None, missing="—")
    # (figure, this design's strongest figure, hwflow's estimate when a stronger figure exists)
    table: list[tuple[str, V, V]] = [
        ("energy per inference", _v(fmt_energy_uj(uj), src, miss), _v(fmt_energy_uj(eu), esrc, "—")),
        (
            "uncertainty (one standard uncertainty)",
            _v(f"± {fmt_energy_uj(unc)}" if unc is not None and uj is not None else None, src, "—"),
            dash,
        ),
        (
            "energy above idle (dynamic)",
            _v(fmt_energy_uj(m.get("energy_dynamic_uj_per_inference")
                             if m.get("energy_dynamic_uj_per_inference") is not None
                             else en.get(f"{en.get('basis')}_above_idle_uj")), src, miss),
            dash,
        ),
        (
            "time basis",
            V(str(en.get("mode"))) if en.get("mode") else dash,
            V(str(est_e.get("mode") or "batch-1: latency")) if isinstance(est_e, dict) else dash,
        ),
        (
            "energy per inference when streaming (one result per II)",
            _v(fmt_energy_uj(uj), src, miss) if "II" in str(en.get("mode") or "") else dash,
            _v(fmt_energy_uj(num(est_e.get("streaming_uj_per_inference"))), esrc, "—")
            if isinstance(est_e, dict) else dash,
        ),
        ("inferences per joule", _v(fmt_num(ipj), src, miss), _v(fmt_num(e_ipj), esrc, "—")),
        ("accuracy per joule (accuracy × inferences/J)", _v(fmt_num(apj), src, miss), _v(fmt_num(e_apj), esrc, "—")),
        (
            "source",
            V(src, source=src, only_badge=True) if src else V(None, missing=miss),
            V(esrc, source=esrc, only_badge=True),
        ),
    ]
    qt = get(r, "estimate.qtools")
    if isinstance(qt, dict) and num(qt.get("uj_per_inference")) is not None:
        qsrc = qt.get("source") or "estimate:qtools"
        table.insert(
            1,
            (
                "arithmetic and on-chip memory only (QTools, 45 nm energy table)",
                _v(fmt_energy_uj(qt["uj_per_inference"]), qsrc),
                dash,
            ),
        )
    headers = ["figure", "value"] + (["hwflow estimate"] if show_est else [])
    rows = [[a, b] + ([c] if show_est else []) for a, b, c in table]
    s.blocks.append(Table(headers, rows))

    # Comparison rows: this design, the baselines, the references.
    acc = best_accuracy(r)
    cmp_rows: list[dict[str, Any]] = [
        {
            "label": f"this design ({r.get('board') or '?'})",
            "uj": uj,
            "kind": source_kind(src),
            "acc_per_j": apj if apj is not None else ((acc["value"] * ipj) if (acc and ipj) else None),
            "highlight": True,
            "missing": miss,
            "source": src,
            "cite": "this report",
        }
    ]
    if isinstance(est_e, dict) and num(est_e.get("uj_per_inference")) and source_kind(src) != "estimate":
        eu = num(est_e["uj_per_inference"])
        cmp_rows.append(
            {
                "label": "this design (hwflow estimate)",
                "uj": eu,
                "kind": "estimate",
                "highlight": True,
                "acc_per_j": accuracy_per_joule(acc["value"], eu) if acc else None,
                "source": est_e.get("source"),
                "cite": "this report",
            }
        )
    table_rows: list[list[Any]] = []
    for b in ex.baselines:
        bu = b.get("uj_per_inference")
        cmp_rows.append(
            {
                "label": f"baseline {b['label']}",
                "uj": bu,
                "kind": source_kind(b.get("source")) or "measured",
                "acc_per_j": accuracy_per_joule(b.get("accuracy"), bu),
                "missing": "not measurable here" if bu is None else None,
                "source": b.get("source"),
                "cite": b.get("note") if bu is None else (b.get("framework") or "hwflow baseline"),
            }
        )
    for a in ex.anchors.get("energy_per_inference", []):
        au = num(a.get("uj_per_inference"))
        cmp_rows.append(
            {
                "label": f"{a['system']}: {_short_task(a)}",
                "uj": au,
                "kind": "reference",
                "acc_per_j": accuracy_per_joule(a.get("accuracy"), au),
                "source": "reference",
                "cite": a.get("source"),
            }
        )
    _plot(
        s,
        plots.energy_comparison,
        cmp_rows,
        out / "energy.png",
        "Energy per inference and efficiency",
        alt="energy and efficiency comparison plot",
        caption="Log scales. Top axis of the left panel: the same bars read as inferences per joule. "
        "Reference systems run other models and tasks (ANCHORS.md); CPU/GPU baselines run this model.",
    )
    for row in cmp_rows:
        kind, ru = row.get("kind"), num(row.get("uj"))
        miss_r = row.get("missing") or NOT_MEASURED
        table_rows.append(
            [
                row["label"],
                V(fmt_energy_uj(ru), source=row.get("source"), kind=kind, missing=miss_r),
                V(fmt_num(inferences_per_joule(ru)), kind=kind, missing="—"),
                V(fmt_num(row.get("acc_per_j")), kind=kind, missing="—"),
                V(_kind_word(kind), kind=kind) if (kind and ru is not None) else V(None, missing="—"),
                row.get("cite") or "",
            ]
        )
    if not ex.baselines:
        table_rows.insert(
            sum(1 for x in cmp_rows if x.get("highlight")),
            [
                "baseline CPU/GPU",
                V(None, missing=NOT_RUN),
                V(None, missing="—"),
                V(None, missing="—"),
                V(None, missing="—"),
                "run `hwflow baseline DESIGN --device cpu|gpu`",
            ],
        )
    s.blocks.append(
        Table(["system", "energy / inference", "inferences / J", "accuracy / J", "kind", "citation"], table_rows)
    )
    ar = ex.anchors.get("arithmetic_energy_pj") or {}
    if ar.get("rows"):
        s.blocks.append(
            Details(
                "Reference: energy of one arithmetic operation (45 nm)",
                [
                    Table(
                        ["operation", "energy"],
                        [
                            [
                                x["op"],
                                V(
                                    f"{fmt_num(x['pj'])} pJ"
                                    if "pj" in x
                                    else f"{fmt_num(x['pj_min'])}–{fmt_num(x['pj_max'])} pJ",
                                    kind="reference",
                                ),
                            ]
                            for x in ar["rows"]
                        ],
                        caption=ar.get("source"),
                    )
                ],
            )
        )
    return s
