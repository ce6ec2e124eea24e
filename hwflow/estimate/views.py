"""How an estimate reads in every view (CLI text, the flow's console line, the advisor, the
report's summary card): one place, so that an incomplete or out-of-domain estimate and its
interval are said the same way everywhere and never silently dropped."""

from __future__ import annotations

import sys
from typing import Any

from ..errors import BadInput
from ..fileio import print_json
from .store import recalibrate

_RES = (("lut", "LUT"), ("ff", "FF"), ("dsp", "DSP"), ("bram_18k", "BRAM18K"))


def _n(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float) and not v.is_integer():
        return f"{v:,.1f}"
    return f"{int(round(float(v))):,}"


def incomplete_note(est: dict[str, Any] | None) -> str | None:
    """``"incomplete: GRU not modelled"`` (the types of the layers left out), or None when whole."""
    if not est or est.get("complete", True):
        return None
    nm = est.get("not_modelled") or []
    if not nm:
        return "incomplete: no layers found in the project"
    kinds = []
    for item in nm:
        k = item.rsplit("(", 1)[-1].rstrip(")") if "(" in item else item
        if k not in kinds:
            kinds.append(k)
    return "incomplete: " + ", ".join(kinds) + " not modelled (totals are a lower bound)"


def interval_text(est: dict[str, Any], key: str) -> str | None:
    iv = (est.get("interval_80") or {}).get(key)
    if not iv:
        return None
    return f"{_n(iv[0])}–{_n(iv[1])}"


def verdict_text(verdict: dict[str, Any] | None) -> str | None:
    """``"may not fit (80 % prediction interval: LUT: the high end ...)"``."""
    if not verdict:
        return None
    notes = verdict.get("notes") or []
    return verdict["verdict"] + (f" ({'; '.join(notes)})" if notes else "")


def console_suffix(est: dict[str, Any]) -> str:
    """What the flow's ``[estimate]`` line adds after the point figures."""
    parts = []
    if est.get("fit_verdict"):
        parts.append(f"on the board: {est['fit_verdict']['verdict']} (from the 80 % interval)")
    note = incomplete_note(est)
    if note:
        parts.append(note.replace("incomplete:", "INCOMPLETE:", 1))
    if est.get("out_of_domain") and est.get("complete", True):
        parts.append("outside the calibration data: " + "; ".join(est["out_of_domain"]))
    return ("; " + "; ".join(parts)) if parts else ""


def text_lines(est: dict[str, Any], label: str) -> list[str]:
    """``hwflow estimate --project DIR`` (text): figures with their 80 % interval, completeness,
    domain and which calibration was used."""
    r = est.get("resources") or {}
    head = " ".join(f"{name} {_n(r.get(k))}" for k, name in _RES)
    lines = [f"{label}: {head} latency {_n(est.get('latency_cycles'))} cycles II {_n(est.get('ii_cycles'))}"
             f"  [{est.get('source')}]"]
    iv = est.get("interval_80") or {}
    if iv:
        parts = [f"{name} {interval_text(est, k)}" for k, name in _RES if iv.get(k)]
        for k, name in (("latency_cycles", "latency"), ("ii_cycles", "II")):
            if iv.get(k):
                parts.append(f"{name} {interval_text(est, k)}")
        lines.append("  80 % interval: " + ", ".join(parts))
    note = incomplete_note(est)
    if note:
        names = ", ".join(est.get("not_modelled") or [])
        lines.append("  " + note.replace("incomplete:", "INCOMPLETE:", 1) + (f": {names}" if names else ""))
    for reason in est.get("out_of_domain") or []:
        lines.append(f"  outside the calibration data: {reason}" + (" (interval widened)" if iv else ""))
    proj = est.get("project") or {}
    if proj.get("tool"):
        src = proj.get("tool_source")
        where = {"argument": "as given", "backend": "from the hls4ml backend", "default": "assumed"}.get(
            src, f"from {src}" if src else "")
        lines.append(f"  as {proj['tool'].replace('_', ' ').title().replace('Hls', 'HLS')}"
                     + (f" {proj['tool_version']}" if proj.get("tool_version") else "")
                     + (f" ({where})" if where else "")
                     + f", part {est.get('part') or 'unknown'}, clock {_n(est.get('clock_ns'))} ns")
    cal = est.get("calibration") or {}
    if cal:
        lines.append(f"  calibration: {cal.get('name')} ({cal.get('designs')} designs, "
                     f"{cal.get('repositories')} repositories"
                     + (f", {cal.get('user_runs')} of your own vendor runs" if cal.get("user_runs") else "") + ")")
    if est.get("error_label"):
        lines.append(f"  ({est['error_label']})")
    return lines


def recalibrate_cli(with_files: list[str] | None, as_json: bool = False) -> int:
    """``hwflow estimate --recalibrate [--with FILE ...]``: exit 0 done, 2 bad input (no runs,
    unreadable --with file)."""
    def progress(msg: str) -> None:
        if not as_json:
            print(f"  recalibrate: {msg}", file=sys.stderr, flush=True)

    try:
        summary = recalibrate(with_files or [], progress=progress)
    except ValueError as exc:
        raise BadInput(f"estimate --recalibrate: {exc}") from None
    if as_json:
        print_json(summary)
        return 0
    print(f"calibration written: {summary['path']}")
    print(f"  {summary['designs']} designs, {summary['user_runs']} of them your own vendor runs")
    held = summary.get("heldout") or {}
    print("  held-out MAPE (leave-one-repository-out): "
          + ", ".join(f"{k} {v.get('mape')} %" for k, v in held.items() if v.get("mape") is not None))
    cov = summary.get("interval_80_coverage") or {}
    print("  80 % interval coverage: " + ", ".join(f"{k} {v['coverage']:.0%}" for k, v in cov.items()
                                                    if isinstance(v, dict) and "coverage" in v))
    if summary.get("user_runs_skipped"):
        for k, v in summary["user_runs_skipped"].items():
            print(f"  skipped {k}: {v}")
    print("  estimates now use it (HWFLOW_CALIBRATION=shipped uses the shipped one)")
    return 0
