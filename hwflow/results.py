"""results.json, built once from the step outputs, and a typed view of it.

Every key of docs/contract.md exists; a figure that no step has produced is null, never
invented. Where several steps give the same figure, the strongest source wins:
measured on a board > vendor tool > emulated > hwflow estimate. The weaker figures
stay available under ``estimate`` / ``synth`` for side-by-side display.
Results are read only from steps that completed under the current cache keys.

API
---
``StepOutputs``             the JSON results of the steps (train, convert, emulate, estimate, synth,
                            deploy), the board's resources and the target clock ``clock_period_ns``.
``build(outputs)``          -> the results.json dict (contract keys exactly as before, extended only).
``Results(data)``           a typed, read-only view of a results.json dict: ``accuracy(stage)``,
                            ``best_accuracy()``, ``latency``, ``latency_cycles``, ``ii_cycles``,
                            ``throughput``, ``power_active``, ``energy``, ``inferences_per_joule``,
                            ``accuracy_per_joule``, ``resource(key)`` — each a :class:`figures.Figure`.
                            Derived figures come from :mod:`hwflow.figures`, nowhere else.
``build_results(ctx)`` / ``merge_results(ctx)``  the flow's entry points (the latter writes the file).

The clock has one name end to end: ``clock_period_ns`` (the design's target; results.json also
keeps the contract's ``clock_ns`` with the same value).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._version import __version__
from .energy.flow import apply as energy_issue15
from .figures import (
    Figure,
    accuracy_per_joule,
    inferences_per_joule,
    latency_seconds,
    num,
    pick,
    source_kind,
    throughput_per_second,
)
from .fileio import atomic_write_json
from .manifest import git_commit, load_manifest, package_versions
from .models.user import FLOAT_MODEL, QKERAS_MODEL
from .synth.open.step import results_block as open_results_block

RESOURCE_KEYS = ("lut", "ff", "dsp", "bram_18k", "uram")
ACCURACY_STAGES = ("float", "quantized", "csim", "board")  # weakest -> closest to hardware
ACCURACY_SOURCE = {"float": "software:keras-float", "quantized": "software:qkeras", "csim": "emulated"}


def empty_results(design: str, board: str) -> dict[str, Any]:
    return {
        "design": design, "board": board, "part": None, "clock_ns": None,
        "accuracy": {"float": None, "quantized": None, "csim": None, "board": None},
        "csim": {"samples": None, "argmax_agreement": None, "exact_fraction": None, "max_abs_diff": None,
                 "samples_per_s": None},
        "resources": {**{k: None for k in RESOURCE_KEYS}, "source": None},
        "utilization": {"lut": None, "ff": None, "dsp": None, "bram_18k": None},
        "latency": {"cycles": None, "ii_cycles": None, "seconds": None, "source": None},
        "power": {"active_w": None, "idle_w": None, "source": None},
        "energy": {"uj_per_inference": None, "inferences_per_joule": None, "accuracy_per_joule": None,
                   "source": None},
        "provenance": {"hwflow": __version__, "git_commit": None, "packages": {}, "tools": {}},
    }


@dataclass
class StepOutputs:
    """What the steps produced (their JSON results), plus the two facts of the board and design
    that results need. Missing steps are empty dicts."""

    design: str
    board: str
    part: str | None
    clock_period_ns: float
    board_resources: dict[str, Any]
    train: dict[str, Any] = field(default_factory=dict)
    convert: dict[str, Any] = field(default_factory=dict)
    emulate: dict[str, Any] = field(default_factory=dict)
    estimate: dict[str, Any] = field(default_factory=dict)
    synth: dict[str, Any] = field(default_factory=dict)
    deploy: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, Any] = field(default_factory=dict)   # issue 15: host CPU/GPU baselines
    board_info: dict[str, Any] = field(default_factory=dict)  # family, power, data_movement (energy model)
    workdir: str | None = None                                # to read a synthesis power report
    steps_info: dict[str, Any] = field(default_factory=dict)
    tools: dict[str, Any] = field(default_factory=dict)
    task: dict[str, Any] = field(default_factory=dict)        # dataset (+ .npz file name) the design learns

    @classmethod
    def from_context(cls, ctx: Any) -> StepOutputs:
        """Read the current (complete, same-key) step results of a flow context."""
        man = load_manifest(ctx.workdir)
        steps_info = {}
        for n, e in man.get("steps", {}).items():
            current = e.get("status") == "complete" and (n not in ctx.keys or ctx.keys[n] == e.get("key"))
            steps_info[n] = {"status": e.get("status") if current or e.get("status") != "complete" else "stale",
                             "duration_s": e.get("duration_s"), "current": current}
        return cls(design=ctx.design.name, board=ctx.board.name, part=ctx.board.part,
                   clock_period_ns=ctx.clock_period_ns, board_resources=ctx.board.resources.model_dump(),
                   steps_info=steps_info, tools=man.get("tools", {}), workdir=str(ctx.workdir),
                   task=_task_of_design(ctx.design),
                   board_info={"family": ctx.board.family, "power": ctx.board.power.model_dump(),
                               "data_movement": ctx.board.data_movement.model_dump()},
                   **{s: ctx.step_json(s) or {} for s in ("train", "convert", "emulate", "estimate", "synth",
                                                          "deploy", "baseline")})


def _hardware_block(r: dict[str, Any], o: StepOutputs) -> None:
    """Resources, utilization, latency and throughput: vendor synthesis beats the estimate."""
    syn, est = o.synth, o.estimate
    res_src = syn if (syn.get("resources") and syn.get("source")) else (est if est.get("resources") else None)
    if res_src:
        for k in RESOURCE_KEYS:
            r["resources"][k] = num(res_src["resources"].get(k))
        r["resources"]["source"] = res_src.get("source")
        if res_src is est and est.get("error_label"):
            r["resources"]["error"] = est.get("error_label")
        caps = o.board_resources
        for k in ("lut", "ff", "dsp", "bram_18k"):
            v = r["resources"][k]
            r["utilization"][k] = (v / caps[k]) if (v is not None and caps.get(k)) else None
    lat_src = syn if (syn.get("latency_cycles") is not None and syn.get("source")) else est
    if lat_src and lat_src.get("latency_cycles") is not None:
        cyc = num(pick(lat_src.get("latency_cycles"), "worst", "best"))
        r["latency"]["cycles"] = cyc
        r["latency"]["ii_cycles"] = num(pick(lat_src.get("ii_cycles"), "max", "min"))
        # The design runs at its target clock: latency and throughput both use it (the tool's
        # estimated clock period is shown beside it in the report, never mixed in).
        r["latency"]["seconds"] = latency_seconds(cyc, o.clock_period_ns)
        r["latency"]["source"] = lat_src.get("latency_source") or lat_src.get("source")
    if syn:
        r["timing"] = syn.get("timing")
        r["synth"] = {k: syn.get(k) for k in ("level", "tool", "version", "resources", "latency_cycles",
                                             "ii_cycles", "clock_ns", "source", "timing", "power_w")}
        r.update(open_results_block(syn))  # --tool open: open_synth and rtl_sim, never the vendor slot
    if est:
        r["estimate"] = {k: est.get(k) for k in ("resources", "latency_cycles", "ii_cycles", "source",
                                                 "error", "error_label", "energy", "qtools", "fits",
                                                 # issue 12 (docs/contract.md)
                                                 "interval_80", "complete", "not_modelled", "out_of_domain",
                                                 "calibration", "fit_verdict")}


def _energy_block(r: dict[str, Any], o: StepOutputs) -> None:
    """Power and energy: a measured or emulated deployment beats the estimate."""
    dep, est = o.deploy, o.estimate
    if dep:
        r["accuracy"]["board"] = num(dep.get("accuracy_board"))
        r["deploy"] = {k: dep.get(k) for k in ("transport", "outputs_match_csim", "exact_fraction",
                                               "n_inferences", "sensor", "source", "energy_note", "harness",
                                               "accuracy_csim_on_vectors")}
        r["deploy"]["test_vectors"] = (dep.get("comparison") or {}).get("samples")
    if dep and dep.get("energy"):
        e = dep["energy"]
        r["power"] = {"active_w": num(dep.get("power", {}).get("active_w")),
                      "idle_w": num(dep.get("power", {}).get("idle_w")), "source": dep.get("source")}
        r["energy"] = {"uj_per_inference": num(e.get("uj_per_inference")),
                       "inferences_per_joule": num(e.get("inferences_per_joule")),
                       "accuracy_per_joule": num(e.get("accuracy_per_joule")), "source": dep.get("source")}
        for extra in ("uncertainty_uj", "dynamic_uj_per_inference", "model", "mode"):
            if e.get(extra) is not None:
                r["energy"][extra] = e.get(extra)
    elif est.get("energy"):
        e = est["energy"]
        r["power"] = {"active_w": num(e.get("active_w")), "idle_w": num(e.get("idle_w")),
                      "source": e.get("source")}
        r["energy"] = {"uj_per_inference": num(e.get("uj_per_inference")),
                       "inferences_per_joule": num(e.get("inferences_per_joule")),
                       "accuracy_per_joule": num(e.get("accuracy_per_joule")), "source": e.get("source"),
                       "mode": e.get("mode")}

    # Throughput: measured on a board when deployed there, else one result per II (vendor/estimate).
    r["throughput"] = {"samples_per_s": None, "source": None}
    runner_m = ((dep.get("runner") or {}).get("measurement") or {}) if dep else {}
    if dep and str(dep.get("source") or "").startswith("measured") and runner_m.get("inferences_per_second"):
        r["throughput"] = {"samples_per_s": runner_m["inferences_per_second"], "source": dep.get("source")}
        r["latency"]["measured_batch1_s"] = runner_m.get("latency_batch1_s")
    elif r["latency"]["ii_cycles"]:
        r["throughput"] = {"samples_per_s": throughput_per_second(r["latency"]["ii_cycles"], o.clock_period_ns),
                           "source": r["latency"]["source"]}
    if dep:
        r["accuracy"]["board_source"] = "emulated" if dep.get("transport") == "emulated" else \
            f"measured:{dep.get('transport')}"
        if runner_m.get("power_active_w_uncertainty") is not None and r["power"]["source"] == dep.get("source"):
            r["power"]["active_w_uncertainty"] = runner_m.get("power_active_w_uncertainty")


def _task_of_design(design: Any) -> dict[str, Any]:
    ds = getattr(design, "dataset", None)
    if ds is None:
        return {}
    path = getattr(ds, "path", None)
    return {"dataset": ds.name, "dataset_file": Path(path).name if (ds.name == "npz" and path) else None}


def build(o: StepOutputs, *, provenance: bool = True) -> dict[str, Any]:
    """The results.json dict from the step outputs (``provenance=False`` skips git and package
    versions, for a quick in-flow look)."""
    r = empty_results(o.design, o.board)
    r["part"] = o.part
    r["clock_ns"] = o.clock_period_ns          # the contract's name
    r["clock_period_ns"] = o.clock_period_ns   # the one name used everywhere else
    train, conv, emu, syn = o.train, o.convert, o.emulate, o.synth

    r["accuracy"]["float"] = num(train.get("accuracy_float"))
    r["accuracy"]["quantized"] = num(train.get("accuracy_quantized"))
    if train.get("distillation"):
        r["accuracy"]["quantized_no_distillation"] = num(train.get("accuracy_quantized_no_distillation"))
        r["distillation"] = train.get("distillation")
    if train.get("pruning"):
        r["pruning"] = train.get("pruning")
    if emu:
        r["accuracy"]["csim"] = num(emu.get("accuracy_csim"))
        for k in ("samples", "argmax_agreement", "exact_fraction", "max_abs_diff", "samples_per_s"):
            r["csim"][k] = num(emu.get(k))
        r["csim"]["engine"] = emu.get("engine")
        r["csim"]["first_divergent_layer"] = emu.get("first_divergent_layer")
        r["csim"]["exact_fraction_before_tables"] = num(emu.get("exact_fraction_before_tables"))
    _hardware_block(r, o)
    _energy_block(r, o)

    acc_best = next((r["accuracy"][k] for k in reversed(ACCURACY_STAGES) if r["accuracy"].get(k) is not None), None)
    energy_issue15(r, o, acc_best)
    r["board_resources"] = o.board_resources
    r["provenance"] = {"hwflow": __version__, "git_commit": git_commit() if provenance else None,
                       "packages": package_versions() if provenance else {},
                       "tools": (syn.get("tools") if syn else None) or o.tools, "steps": o.steps_info}
    r["layers"] = train.get("layers")
    # which task the design solves: a comparison never puts different tasks on one Pareto front
    if o.task or train.get("dataset"):
        r["task"] = {"dataset": o.task.get("dataset") or train.get("dataset"),
                     "dataset_file": o.task.get("dataset_file"),
                     "classes": train.get("classes") or train.get("output_units")}
    r["hls"] = {k: conv.get(k) for k in ("backend", "io_type", "strategy", "reuse_factor", "layers")} if conv else None
    r["model_kind"] = model_kind_of(train, conv, emu)
    return r


def model_kind_of(train: dict[str, Any], conv: dict[str, Any], emu: dict[str, Any]) -> str | None:
    """"QKeras model" | "float Keras model" | None: what the steps recorded (convert, else train,
    else emulate). A model hwflow built from a design's layer list always has QKeras quantizers;
    train.json names the kind only for a user's model file."""
    for step in (conv, train, emu):
        if step.get("model_kind"):
            return str(step["model_kind"])
    if train and not str(train.get("model_source") or "").startswith("user file"):
        return QKERAS_MODEL
    return None


class Results:
    """A typed, read-only view of a results.json dict. Every figure is a :class:`Figure`; one
    that no step produced has ``value None`` (and no source)."""

    def __init__(self, data: dict[str, Any] | None):
        self.data = data if isinstance(data, dict) else {}

    def _block(self, key: str) -> dict[str, Any]:
        v = self.data.get(key)
        return v if isinstance(v, dict) else {}

    @property
    def clock_period_ns(self) -> float | None:
        return num(self.data.get("clock_period_ns")) or num(self.data.get("clock_ns"))

    @property
    def model_kind(self) -> str | None:
        """"QKeras model" | "float Keras model" | None (results.json ``model_kind``)."""
        v = self.data.get("model_kind")
        return str(v) if v else None

    @property
    def is_float_model(self) -> bool:
        """A user's float Keras model: no quantization-aware version exists (never label it QKeras)."""
        return self.model_kind == FLOAT_MODEL

    def accuracy(self, stage: str) -> Figure:
        acc = self._block("accuracy")
        src = self._board_accuracy_source() if stage == "board" else ACCURACY_SOURCE.get(stage)
        return Figure.of(acc.get(stage), "fraction", src)

    def _board_accuracy_source(self) -> str:
        """Accuracy on the board is counted on the board's outputs: 'emulated' on the emulated board,
        'measured:<transport>' on a real one; unknown -> 'emulated' (the cautious label, never 'measured')."""
        explicit = self._block("accuracy").get("board_source")
        if explicit:
            return str(explicit)
        dep = self._block("deploy")
        transport, src = str(dep.get("transport") or ""), str(dep.get("source") or "")
        if transport == "emulated" or src == "emulated" or source_kind(src) == "emulated":
            return "emulated"
        return "measured:board" if transport else "emulated"

    def best_accuracy(self) -> Figure:
        """The accuracy closest to hardware that exists (board > C-sim > QKeras > float)."""
        for stage in reversed(ACCURACY_STAGES):
            f = self.accuracy(stage)
            if f.known:
                return f
        return Figure.missing("fraction")

    def resource(self, key: str) -> Figure:
        res = self._block("resources")
        return Figure.of(res.get(key), "count", res.get("source"))

    @property
    def latency_cycles(self) -> Figure:
        lat = self._block("latency")
        return Figure.of(lat.get("cycles"), "cycles", lat.get("source"))

    @property
    def ii_cycles(self) -> Figure:
        lat = self._block("latency")
        return Figure.of(lat.get("ii_cycles"), "cycles", lat.get("source"))

    @property
    def latency(self) -> Figure:
        """Latency of one inference in the accelerator, at the target clock."""
        lat = self._block("latency")
        secs = num(lat.get("seconds"))
        if secs is None:
            secs = latency_seconds(lat.get("cycles"), self.clock_period_ns)
        return Figure(secs, "s", lat.get("source") if secs is not None else None, "accelerator")

    @property
    def throughput(self) -> Figure:
        """Inferences per second: measured on the board when deployed there, else 1 / (II x clock)."""
        tp = self._block("throughput")
        if num(tp.get("samples_per_s")) is not None:
            return Figure.of(tp["samples_per_s"], "1/s", tp.get("source"))
        return Figure(throughput_per_second(self.ii_cycles.value, self.clock_period_ns), "1/s",
                      self.ii_cycles.source, "accelerator")

    @property
    def power_active(self) -> Figure:
        p = self._block("power")
        return Figure.of(p.get("active_w"), "W", p.get("source"))

    @property
    def energy(self) -> Figure:
        e = self._block("energy")
        return Figure.of(e.get("uj_per_inference"), "uJ", e.get("source"))

    @property
    def inferences_per_joule(self) -> Figure:
        e = self._block("energy")
        v = num(e.get("inferences_per_joule"))
        return Figure(v if v is not None else inferences_per_joule(e.get("uj_per_inference")), "1/J", e.get("source"))

    @property
    def accuracy_per_joule(self) -> Figure:
        e = self._block("energy")
        v = num(e.get("accuracy_per_joule"))
        if v is None:
            v = accuracy_per_joule(self.best_accuracy().value, e.get("uj_per_inference"))
        return Figure(v, "1/J", e.get("source"))


def build_results(ctx: Any) -> dict[str, Any]:
    return build(StepOutputs.from_context(ctx))


def merge_results(ctx: Any) -> dict[str, Any]:
    r = build_results(ctx)
    atomic_write_json(ctx.path("results.json"), r)
    return r
