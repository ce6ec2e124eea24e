"""The report's header and its summary cards."""

from __future__ import annotations

import time
from typing import Any

from ...estimate.views import incomplete_note
from ...figures import inferences_per_joule
from ...results import Results
from ..doc import Card, Cards, Legend, Section, V
from ..extras import Extras
from ..sources import (
    NOT_RUN,
    fmt_acc,
    fmt_energy_uj,
    fmt_num,
    fmt_pct,
    fmt_power,
    fmt_rate,
    fmt_time,
    get,
    num,
    source_kind,
)
from .accuracy import accuracy_stages, best_accuracy
from .common import RES_LABEL, _mape, _v, missing_word
from .latency import throughput
from .resources import fits


def header(r: dict[str, Any]) -> tuple[str, list[Any]]:
    design, board = r.get("design") or "unknown design", r.get("board") or "unknown board"
    clk = Results(r).clock_period_ns
    sub: list[Any] = [
        f"part {r.get('part') or 'unknown'}",
        f"target clock {fmt_num(clk)} ns ({fmt_num(1e3 / clk)} MHz)" if clk else "clock unknown",
        f"hwflow {get(r, 'provenance.hwflow') or '?'}",
        f"commit {str(get(r, 'provenance.git_commit') or 'unknown')[:16]}",
        time.strftime("generated %Y-%m-%d %H:%M UTC", time.gmtime()),
    ]
    return f"{design} on {board}", sub


def summary(r: dict[str, Any], ex: Extras, caps: dict[str, Any]) -> Section:
    s = Section("summary", "Summary")
    cards: list[Card] = []
    best = best_accuracy(r)
    if best:
        others = [
            f"{st['name']}: {fmt_acc(st['value'])}"
            for st in accuracy_stages(r)
            if st["value"] is not None and st is not best and st["key"] != best["key"]
        ]
        cards.append(
            Card(
                "Accuracy",
                _v(fmt_acc(best["value"]), best["source"]),
                [f"{best['name']}, on the test split"] + others[-2:]
                + ([f"model: {Results(r).model_kind}"] if Results(r).model_kind else []),
            )
        )
    else:
        cards.append(Card("Accuracy", V(None, missing=NOT_RUN), ["train has not run"]))

    f = fits(r, caps)
    if f["fits"] is None:
        cards.append(
            Card(
                "Fits on the board",
                V(None, missing="not known"),
                [f"resources {missing_word(r, 'estimate')}: run estimate or synth"],
            )
        )
    else:
        sub: list[Any] = []
        if f["worst"]:
            k, u = f["worst"]
            sub.append(
                f"largest: {RES_LABEL[k].split(' ')[0]} at "
                + (fmt_pct(u) if u != float("inf") else "n/a (board has none)")
                + (f" of {int(caps[k]):,}" if caps.get(k) else "")
            )
        if source_kind(f["source"]) == "estimate":
            by_key = get(r, "estimate.error")
            if isinstance(by_key, dict) and f["worst"] and by_key.get(f["worst"][0]) is not None:
                sub.append(
                    f"estimate error on {RES_LABEL[f['worst'][0]].split(' ')[0]}: {_mape(by_key[f['worst'][0]])}"
                )
            elif get(r, "resources.error"):
                sub.append(f"estimate error: {get(r, 'resources.error')}")
        value = "yes" if f["fits"] else "NO"
        if source_kind(f["source"]) == "estimate":
            # issue 12: fits / may not fit / does not fit from the 80 % interval; never silently partial
            verdict = get(r, "estimate.fit_verdict.verdict")
            value = verdict or value
            note = incomplete_note(r.get("estimate"))
            if note:
                sub.insert(0, note)
            cal = get(r, "estimate.calibration") or {}
            if cal.get("user_runs"):
                sub.append(f"calibration: {cal.get('name')} ({cal['user_runs']} of your own vendor runs)")
        v = V(value, source=f["source"])
        cards.append(Card("Fits on the board", v, sub))

    lat = r.get("latency") or {}
    secs = num(lat.get("seconds"))
    lsub: list[Any] = []
    if num(lat.get("cycles")) is not None:
        lsub.append(
            f"{fmt_num(lat['cycles'])} cycles"
            + (f", II {fmt_num(lat.get('ii_cycles'))} cycles" if num(lat.get("ii_cycles")) is not None else "")
        )
    tp = throughput(r, ex)
    if tp:
        lsub.append(f"throughput {fmt_rate(tp['value'])} ({tp['how']})")
    if source_kind(lat.get("source")) == "estimate" and incomplete_note(r.get("estimate")):
        lsub.insert(0, incomplete_note(r.get("estimate")))
    cards.append(
        Card(
            "Latency (hardware)",
            _v(fmt_time(secs), lat.get("source"), missing_word(r, "synth")),
            lsub or ["needs estimate or synth"],
        )
    )

    en = r.get("energy") or {}
    uj = num(en.get("uj_per_inference"))
    esub: list[Any] = []
    unc = num(en.get("uncertainty_uj"))
    if uj is not None and unc is not None:
        esub.append(f"± {fmt_energy_uj(unc)} (one standard uncertainty)")
    if uj is not None and en.get("basis"):  # issue 15: the basis is printed wherever the figure is
        esub.append(f"basis: {en.get('mode') or en['basis']}")
    if num(get(r, "power.active_w")) is not None:
        esub.append(
            f"active power {fmt_power(get(r, 'power.active_w'))}"
            + (f", idle {fmt_power(get(r, 'power.idle_w'))}" if num(get(r, "power.idle_w")) is not None else "")
        )
    cards.append(
        Card(
            "Energy per inference",
            _v(fmt_energy_uj(uj), en.get("source"), missing_word(r, "deploy", True)),
            esub or ["needs deploy (board or emulated board) or a power estimate"],
        )
    )

    ipj, apj = num(en.get("inferences_per_joule")), num(en.get("accuracy_per_joule"))
    if ipj is None and uj:
        ipj = inferences_per_joule(uj)
    cards.append(
        Card(
            "Efficiency",
            _v(
                f"{fmt_num(ipj)} inferences/J" if ipj is not None else None,
                en.get("source"),
                missing_word(r, "deploy", True),
            ),
            [f"accuracy per joule: {fmt_num(apj)} /J"] if apj is not None else ["accuracy per joule: not measured"],
        )
    )
    s.blocks += [Cards(cards), Legend()]
    return s
