"""results.json: every figure of a run in one place, each with its source.

Every key of CONTRACT.md exists; a figure that no step has produced is null, never
invented. Where several steps give the same figure, the strongest source wins:
measured on a board > vendor tool > emulated > hwflow estimate. The weaker figures
stay available under ``estimate`` / ``synth`` for side-by-side display.
Results are read only from steps that completed under the current cache keys.
"""

from __future__ import annotations

from typing import Any

from . import __version__
from .fileio import atomic_write_json

RESOURCE_KEYS = ("lut", "ff", "dsp", "bram_18k", "uram")


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


def _num(v: Any) -> Any:
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def build_results(ctx) -> dict[str, Any]:
    from .flow import git_commit, load_manifest, package_versions

    r = empty_results(ctx.design.name, ctx.board.name)
    r["part"] = ctx.board.part
    r["clock_ns"] = ctx.clock_ns
    train = ctx.step_json("train") or {}
    conv = ctx.step_json("convert") or {}
    emu = ctx.step_json("emulate") or {}
    est = ctx.step_json("estimate") or {}
    syn = ctx.step_json("synth") or {}
    dep = ctx.step_json("deploy") or {}

    r["accuracy"]["float"] = _num(train.get("accuracy_float"))
    r["accuracy"]["quantized"] = _num(train.get("accuracy_quantized"))
    if train.get("distillation"):
        r["accuracy"]["quantized_no_distillation"] = _num(train.get("accuracy_quantized_no_distillation"))
        r["distillation"] = train.get("distillation")
    if train.get("pruning"):
        r["pruning"] = train.get("pruning")
    if emu:
        r["accuracy"]["csim"] = _num(emu.get("accuracy_csim"))
        for k in ("samples", "argmax_agreement", "exact_fraction", "max_abs_diff", "samples_per_s"):
            r["csim"][k] = _num(emu.get(k))
        r["csim"]["engine"] = emu.get("engine")
        r["csim"]["first_divergent_layer"] = emu.get("first_divergent_layer")

    # Resources and latency: vendor synthesis beats the estimate.
    res_src = None
    if syn.get("resources") and syn.get("source"):
        res_src = syn
    elif est.get("resources"):
        res_src = est
    if res_src:
        for k in RESOURCE_KEYS:
            r["resources"][k] = _num(res_src["resources"].get(k))
        r["resources"]["source"] = res_src.get("source")
        if res_src is est and est.get("error_label"):
            r["resources"]["error"] = est.get("error_label")
        caps = ctx.board.resources.model_dump()
        for k in ("lut", "ff", "dsp", "bram_18k"):
            v = r["resources"][k]
            r["utilization"][k] = (v / caps[k]) if (v is not None and caps.get(k)) else None
    lat_src = syn if (syn.get("latency_cycles") is not None and syn.get("source")) else est
    if lat_src and lat_src.get("latency_cycles") is not None:
        cyc = lat_src.get("latency_cycles")
        if isinstance(cyc, dict):
            cyc = cyc.get("worst") or cyc.get("best")
        ii = lat_src.get("ii_cycles")
        if isinstance(ii, dict):
            ii = ii.get("max") or ii.get("min")
        r["latency"]["cycles"] = _num(cyc)
        r["latency"]["ii_cycles"] = _num(ii)
        clk = lat_src.get("clock_ns") or ctx.clock_ns
        if isinstance(clk, dict):
            clk = clk.get("estimated") or clk.get("target") or ctx.clock_ns
        if _num(cyc) is not None:
            r["latency"]["seconds"] = float(cyc) * float(clk) * 1e-9
        r["latency"]["source"] = lat_src.get("latency_source") or lat_src.get("source")
    if syn:
        r["timing"] = syn.get("timing")
        r["synth"] = {k: syn.get(k) for k in ("level", "tool", "version", "resources", "latency_cycles",
                                             "ii_cycles", "clock_ns", "source", "timing", "power_w")}
    if est:
        r["estimate"] = {k: est.get(k) for k in ("resources", "latency_cycles", "ii_cycles", "source",
                                                 "error", "error_label", "energy", "qtools", "fits")}

    # Power and energy: measured or emulated deployment beats the estimate.
    if dep:
        r["accuracy"]["board"] = _num(dep.get("accuracy_board"))
        r["deploy"] = {k: dep.get(k) for k in ("transport", "outputs_match_csim", "exact_fraction",
                                               "n_inferences", "sensor", "source", "energy_note", "harness",
                                               "accuracy_csim_on_vectors")}
        r["deploy"]["test_vectors"] = (dep.get("comparison") or {}).get("samples")
    if dep and dep.get("energy"):
        e = dep["energy"]
        r["power"] = {"active_w": _num(dep.get("power", {}).get("active_w")),
                      "idle_w": _num(dep.get("power", {}).get("idle_w")), "source": dep.get("source")}
        r["energy"] = {"uj_per_inference": _num(e.get("uj_per_inference")),
                       "inferences_per_joule": _num(e.get("inferences_per_joule")),
                       "accuracy_per_joule": _num(e.get("accuracy_per_joule")), "source": dep.get("source")}
        for extra in ("uncertainty_uj", "dynamic_uj_per_inference", "model", "mode"):
            if e.get(extra) is not None:
                r["energy"][extra] = e.get(extra)
    elif est.get("energy"):
        e = est["energy"]
        r["power"] = {"active_w": _num(e.get("active_w")), "idle_w": _num(e.get("idle_w")),
                      "source": e.get("source")}
        r["energy"] = {"uj_per_inference": _num(e.get("uj_per_inference")),
                       "inferences_per_joule": _num(e.get("inferences_per_joule")),
                       "accuracy_per_joule": _num(e.get("accuracy_per_joule")), "source": e.get("source"),
                       "mode": e.get("mode")}

    # Throughput: measured on a board when deployed there, else one result per II (vendor/estimate).
    r["throughput"] = {"samples_per_s": None, "source": None}
    runner_m = ((dep.get("runner") or {}).get("measurement") or {}) if dep else {}
    if dep and dep.get("source", "") and str(dep.get("source")).startswith("measured") and \
            runner_m.get("inferences_per_second"):
        r["throughput"] = {"samples_per_s": runner_m["inferences_per_second"], "source": dep.get("source")}
        r["latency"]["measured_batch1_s"] = runner_m.get("latency_batch1_s")
    elif r["latency"]["ii_cycles"]:
        r["throughput"] = {"samples_per_s": 1.0 / (r["latency"]["ii_cycles"] * ctx.clock_ns * 1e-9),
                           "source": r["latency"]["source"]}
    if dep:
        r["accuracy"]["board_source"] = "emulated" if dep.get("transport") == "emulated" else \
            f"measured:{dep.get('transport')}"
        if runner_m.get("power_active_w_uncertainty") is not None and r["power"]["source"] == dep.get("source"):
            r["power"]["active_w_uncertainty"] = runner_m.get("power_active_w_uncertainty")
    r["board_resources"] = ctx.board.resources.model_dump()

    man = load_manifest(ctx.workdir)
    steps_info = {}
    for n, e in man.get("steps", {}).items():
        current = e.get("status") == "complete" and (n not in ctx.keys or ctx.keys[n] == e.get("key"))
        steps_info[n] = {"status": e.get("status") if current or e.get("status") != "complete" else "stale",
                         "duration_s": e.get("duration_s"), "current": current}
    r["provenance"] = {"hwflow": __version__, "git_commit": git_commit(), "packages": package_versions(),
                       "tools": (syn.get("tools") if syn else None) or man.get("tools", {}),
                       "steps": steps_info}
    r["layers"] = train.get("layers")
    r["hls"] = {k: conv.get(k) for k in ("backend", "io_type", "strategy", "reuse_factor", "layers")} if conv else None
    return r


def merge_results(ctx) -> dict[str, Any]:
    r = build_results(ctx)
    atomic_write_json(ctx.path("results.json"), r)
    return r
