"""Optional inputs of a report beyond results.json: reference figures and work-folder files.

results.json holds the headline figures; the detail a report shows around them (the power
trace, per-layer estimates and agreement, CPU/GPU baselines, the deployment's timing) lives in
the files the steps leave in the work folder. Each is optional: a missing or unreadable file
means that section says "not run", it never stops the report. Readers accept the few shapes
these files have had (a baseline as one object, a list, or ``{"cpu": ..., "gpu": ...}``), so the
report does not break when another engineer's step evolves.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from ..config import load_board
from .sources import get, num

ANCHORS_FILE = Path(__file__).with_name("anchors.json")

#: power.csv rows beyond this are decimated for plotting (the table uses all of them).
MAX_TRACE_POINTS = 4000


@lru_cache(maxsize=1)
def _anchors_cached() -> str:
    return ANCHORS_FILE.read_text(encoding="utf-8")


def load_anchors() -> dict[str, Any]:
    """The reference figures of ANCHORS.md (a fresh copy, callers may modify it)."""
    return json.loads(_anchors_cached())


@dataclass
class PowerTrace:
    """power.csv: time from the first mark (s), watts, phase name."""

    t: list[float] = field(default_factory=list)
    w: list[float] = field(default_factory=list)
    phase: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.t)

    def phases(self) -> list[dict[str, Any]]:
        """Contiguous phase segments in order, with time-weighted mean power.

        Time weighting (trapezoid) rather than a plain sample mean because samplers do not
        always read at a fixed rate (the same definition as runtime.energy).
        """
        segs: list[dict[str, Any]] = []
        start = 0
        n = len(self.t)
        for i in range(1, n + 1):
            if i == n or self.phase[i] != self.phase[start]:
                ts, ws = self.t[start:i], self.w[start:i]
                dur = ts[-1] - ts[0] if len(ts) > 1 else 0.0
                if dur > 0:
                    e = sum((ts[j + 1] - ts[j]) * (ws[j + 1] + ws[j]) / 2 for j in range(len(ts) - 1))
                    mean = e / dur
                else:
                    mean = sum(ws) / len(ws)
                    e = None
                segs.append(
                    {
                        "phase": self.phase[start],
                        "t_start_s": ts[0],
                        "t_end_s": ts[-1],
                        "seconds": dur,
                        "samples": len(ts),
                        "mean_w": mean,
                        "min_w": min(ws),
                        "max_w": max(ws),
                        "energy_j": e,
                    }
                )
                start = i
        return segs

    def decimated(self, max_points: int = MAX_TRACE_POINTS) -> "PowerTrace":
        """At most ``max_points`` samples, keeping each bucket's min and max so spikes survive."""
        n = len(self)
        if n <= max_points:
            return self
        bucket = max(1, (2 * n) // max_points)
        out = PowerTrace()
        for s in range(0, n, bucket):
            idx = range(s, min(s + bucket, n))
            lo = min(idx, key=lambda k: self.w[k])
            hi = max(idx, key=lambda k: self.w[k])
            for k in sorted({lo, hi}):
                out.t.append(self.t[k])
                out.w.append(self.w[k])
                out.phase.append(self.phase[k])
        return out


def read_power_csv(path: Path) -> PowerTrace | None:
    """power.csv with columns t_s, watts, phase; None if absent, empty or malformed."""
    if not path.is_file():
        return None
    tr = PowerTrace()
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rd = csv.DictReader(f)
            if not rd.fieldnames or not {"t_s", "watts"} <= set(rd.fieldnames):
                return None
            for row in rd:
                try:
                    t, w = float(row["t_s"]), float(row["watts"])
                except (TypeError, ValueError):
                    continue
                if t != t or w != w:  # NaN
                    continue
                tr.t.append(t)
                tr.w.append(w)
                tr.phase.append((row.get("phase") or "").strip() or "run")
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if not tr.t:
        return None
    order = sorted(range(len(tr.t)), key=tr.t.__getitem__)
    if order != list(range(len(tr.t))):
        tr = PowerTrace([tr.t[i] for i in order], [tr.w[i] for i in order], [tr.phase[i] for i in order])
    return tr


def _read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def normalise_baselines(doc: Any) -> list[dict[str, Any]]:
    """Baseline runs as a flat list of ``{label, device, batch, uj_per_inference, latency_s,
    samples_per_s, accuracy, source}``, one entry per (device, batch size) that has a figure.

    ``hwflow baseline`` writes ``{"cpu": {...}, "gpu": {...}}`` with ``batch1`` and ``batched``
    sub-measurements; a single object or a list of objects is accepted as well.
    """
    if doc is None:
        return []
    if isinstance(doc, dict) and ("device" in doc or "energy" in doc or "samples_per_s" in doc):
        items = [doc]
    elif isinstance(doc, dict):
        items = [dict(v, device=v.get("device") or k) for k, v in doc.items() if isinstance(v, dict)]
    elif isinstance(doc, list):
        items = [d for d in doc if isinstance(d, dict)]
    else:
        return []
    out: list[dict[str, Any]] = []
    for b in items:
        dev = str(b.get("device") or "baseline")
        name = b.get("device_name")
        label = dev.upper() + (f" ({name})" if name and name not in (dev,) else "")
        acc = num(b.get("accuracy"))
        subs = [(k, b.get(k)) for k in ("batch1", "batched") if isinstance(b.get(k), dict)]
        if subs:
            for key, m in subs:
                e = m.get("energy") or {}
                batch = m.get("batch") if m.get("batch") is not None else (1 if key == "batch1" else None)
                out.append(
                    {
                        "label": f"{label}, batch {batch}",
                        "device": dev,
                        "batch": batch,
                        "uj_per_inference": num(e.get("uj_per_inference")),
                        "source": e.get("source"),
                        "note": e.get("note"),
                        "latency_s": num(m.get("latency_s")),
                        "samples_per_s": num(m.get("samples_per_s")),
                        "accuracy": acc,
                        "framework": b.get("framework"),
                    }
                )
        else:
            e = b.get("energy") or {}
            out.append(
                {
                    "label": label,
                    "device": dev,
                    "batch": b.get("batch"),
                    "uj_per_inference": num(e.get("uj_per_inference")),
                    "source": e.get("source"),
                    "note": e.get("note"),
                    "latency_s": num(b.get("latency_s")),
                    "samples_per_s": num(b.get("samples_per_s")),
                    "accuracy": acc,
                    "framework": b.get("framework"),
                }
            )
    return out


def _layers_by_name(doc: Any) -> dict[str, dict[str, Any]]:
    """Per-layer rows keyed by layer name, from a list of ``{"name": ...}`` or a dict by name."""
    layers = doc.get("layers") if isinstance(doc, dict) else None
    out: dict[str, dict[str, Any]] = {}
    if isinstance(layers, list):
        for i, ly in enumerate(layers):
            if isinstance(ly, dict):
                # emulate.json names each row by its hls4ml and Keras layer; either may be asked for
                names = [ly.get(k) for k in ("name", "layer", "hls_layer", "keras_layer") if ly.get(k)]
                for n in names or [f"layer{i}"]:
                    out.setdefault(str(n), ly)
    elif isinstance(layers, dict):
        for k, v in layers.items():
            if isinstance(v, dict):
                out[str(k)] = v
    return out


@dataclass
class Extras:
    """Everything a report may show beyond results.json; every field may be empty."""

    power: PowerTrace | None = None
    baselines: list[dict[str, Any]] = field(default_factory=list)
    deploy: dict[str, Any] | None = None
    estimate_layers: dict[str, dict[str, Any]] = field(default_factory=dict)
    emulate_layers: dict[str, dict[str, Any]] = field(default_factory=dict)
    board: dict[str, Any] | None = None
    anchors: dict[str, Any] = field(default_factory=load_anchors)
    files: dict[str, str] = field(default_factory=dict)  # what was read, for provenance

    @property
    def measurement(self) -> dict[str, Any]:
        """deploy.json's timing/energy measurement (runtime.runner writes it under
        ``measurement``; the flow's deploy step may flatten it)."""
        d = self.deploy or {}
        m = d.get("measurement")
        return m if isinstance(m, dict) else d


StepJson = Callable[[str], "dict[str, Any] | None"]


def collect_extras(
    workdir: Path | None, *, step_json: StepJson | None = None, board: dict[str, Any] | None = None
) -> Extras:
    """Read the optional files of a work folder.

    ``step_json`` (the flow's ``ctx.step_json``) is used where given, so a stale result of an
    upstream step whose inputs changed is not shown; the power trace is read only when deploy
    is current. Without it (a bare folder), the files are read as they are.
    """
    ex = Extras(board=board)
    if workdir is None or not Path(workdir).is_dir():
        return ex
    wd = Path(workdir)

    def step(name: str) -> dict[str, Any] | None:
        if step_json is not None:
            try:
                doc = step_json(name)
            except Exception:  # a broken upstream file must not take the report down
                doc = None
            if doc is not None:
                ex.files[f"{name}.json"] = str(wd / f"{name}.json")
            return doc if isinstance(doc, dict) else None
        doc = _read_json(wd / f"{name}.json")
        if isinstance(doc, dict):
            ex.files[f"{name}.json"] = str(wd / f"{name}.json")
            return doc
        return None

    emu = step("emulate")
    if emu:
        ex.emulate_layers = _layers_by_name(emu)
    est = step("estimate")
    if est:
        ex.estimate_layers = _layers_by_name(est)
    dep = step("deploy")
    if dep:
        ex.deploy = dep
        trace = read_power_csv(wd / "power.csv")
        if trace is not None:
            ex.power = trace
            ex.files["power.csv"] = str(wd / "power.csv")
    elif step_json is None:
        trace = read_power_csv(wd / "power.csv")
        if trace is not None:
            ex.power = trace
            ex.files["power.csv"] = str(wd / "power.csv")
    base = _read_json(wd / "baseline.json")
    if base is None:  # `hwflow baseline` also leaves one file per device
        per = [d for d in (_read_json(wd / f"baseline_{dev}.json") for dev in ("cpu", "gpu")) if d]
        base = per or None
    if base is not None:
        ex.baselines = normalise_baselines(base)
        ex.files["baseline.json"] = str(wd / "baseline.json")
    return ex


def board_capacity(results: dict[str, Any], board: dict[str, Any] | None = None) -> dict[str, Any]:
    """Board resources: the board file when given, else recovered from results.json
    (``board_resources``/``available`` if the lead adds them, else resources / utilization),
    else the board's YAML by name. Unknown entries are None."""
    keys = ("lut", "ff", "dsp", "bram_18k", "uram")
    caps: dict[str, Any] = {k: None for k in keys}
    src = (board or {}).get("resources") if board else None
    src = src or results.get("board_resources") or results.get("available")
    if isinstance(src, dict):
        for k in keys:
            caps[k] = num(src.get(k))
    if all(caps[k] is None for k in keys):
        for k in keys:
            used, frac = num(get(results, f"resources.{k}")), num(get(results, f"utilization.{k}"))
            if used is not None and frac:
                caps[k] = round(used / frac)
    if all(caps[k] is None for k in ("lut", "ff", "dsp")) and results.get("board"):
        try:
            b = load_board(str(results["board"]))
            caps.update({k: num(v) for k, v in b.resources.model_dump().items() if k in caps})
        except Exception:  # an unknown board just leaves the capacity unknown
            pass
    return caps
