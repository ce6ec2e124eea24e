"""Synthetic results and work folders for the report tests (imported by conftest and tests).

``full_results`` has every block a finished run can have (vendor synthesis, hwflow estimate,
a measured deployment), with deliberately different vendor and estimate figures so a test
can tell which one a cell shows. ``write_workdir`` adds the optional files a report reads.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hwflow.results import empty_results

PYNQ_Z2 = {
    "name": "pynq-z2",
    "part": "xc7z020clg400-1",
    "resources": {"lut": 53200, "ff": 106400, "dsp": 220, "bram_18k": 280, "uram": 0},
}

VENDOR = "vendor:vivado_hls-2019.2"
ESTIMATE = "estimate:hwflow-rf"
MEASURED = "measured:external-meter"


def full_results(design: str = "demo_mlp", board: str = "pynq-z2") -> dict[str, Any]:
    r = empty_results(design, board)
    r["part"] = "xc7z020clg400-1"
    r["clock_ns"] = 10.0
    r["accuracy"] = {"float": 0.9611, "quantized": 0.9694, "csim": 0.9722, "board": 0.9722}
    r["csim"] = {
        "samples": 360,
        "argmax_agreement": 0.9972,
        "exact_fraction": 1.0,
        "max_abs_diff": 0.0,
        "samples_per_s": 17347.3,
        "engine": "csim",
        "first_divergent_layer": None,
    }
    r["resources"] = {"lut": 5231, "ff": 2100, "dsp": 12, "bram_18k": 2, "uram": 0, "source": VENDOR}
    r["utilization"] = {k: r["resources"][k] / PYNQ_Z2["resources"][k] for k in ("lut", "ff", "dsp", "bram_18k")}
    r["latency"] = {"cycles": 9, "ii_cycles": 1, "seconds": 9e-8, "source": VENDOR}
    r["power"] = {"active_w": 1.62, "idle_w": 1.55, "source": MEASURED}
    r["energy"] = {
        "uj_per_inference": 8.1,
        "inferences_per_joule": 123456.8,
        "accuracy_per_joule": 120024.7,
        "source": MEASURED,
        "uncertainty_uj": 0.05,
    }
    r["synth"] = {
        "level": "csynth",
        "tool": "vivado_hls",
        "version": "2019.2",
        "resources": {"lut": 5231, "ff": 2100, "dsp": 12, "bram_18k": 2, "uram": 0},
        "latency_cycles": {"best": 9, "average": 9, "worst": 9},
        "ii_cycles": {"min": 1, "max": 1},
        "clock_ns": {"target": 10.0, "estimated": 7.3},
        "source": VENDOR,
        "timing": {"wns_ns": 2.7, "met": True},
        "power_w": None,
    }
    r["timing"] = {"wns_ns": 2.7, "met": True}
    r["estimate"] = {
        "resources": {"lut": 4817, "ff": 2333, "dsp": 11, "bram_18k": 0, "uram": 0},
        "latency_cycles": 8,
        "ii_cycles": 1,
        "source": ESTIMATE,
        "error": {"lut": 0.2},
        "error_label": "±20 % (LUT)",
        "energy": {"uj_per_inference": 6.3, "source": "estimate:qtools-board"},
        "qtools": None,
        "fits": True,
    }
    r["deploy"] = {
        "transport": "ssh",
        "outputs_match_csim": True,
        "exact_fraction": 1.0,
        "n_inferences": 360000,
        "sensor": "external-meter",
        "source": MEASURED,
    }
    r["provenance"] = {
        "hwflow": "0.1.0",
        "git_commit": "0123456789abcdef0123456789abcdef01234567",
        "packages": {"hls4ml": "1.3.0", "tensorflow": "2.15.1", "python": "3.11.7"},
        "tools": {"vivado_hls": "2019.2"},
        "steps": {
            s: {"status": "complete", "duration_s": d}
            for s, d in (
                ("train", 14.6),
                ("convert", 0.4),
                ("emulate", 6.6),
                ("estimate", 0.2),
                ("synth", 312.0),
                ("package", 3.1),
                ("deploy", 42.0),
            )
        },
    }
    r["layers"] = {
        "fc1": {"parameters": 2080, "weights": 2048, "zero_weights": 107, "sparsity": 0.0522},
        "out": {"parameters": 330, "weights": 320, "zero_weights": 2, "sparsity": 0.00625},
    }
    r["hls"] = {
        "backend": "VivadoAccelerator",
        "io_type": "io_parallel",
        "strategy": "latency",
        "reuse_factor": 1,
        "layers": [
            {"name": "x_in", "class": "Input", "result": "fixed<16,6,TRN,WRAP,0>", "reuse_factor": 1},
            {
                "name": "fc1",
                "class": "Dense",
                "result": "fixed<29,14,TRN,WRAP,0>",
                "weight": "fixed<6,1,TRN,WRAP,0>",
                "bias": "fixed<6,1,TRN,WRAP,0>",
                "accum": "fixed<29,14,TRN,WRAP,0>",
                "reuse_factor": 1,
            },
            {"name": "relu1", "class": "Activation", "result": "ufixed<6,0,RND_CONV,SAT,0>", "reuse_factor": 1},
            {
                "name": "out",
                "class": "Dense",
                "result": "fixed<18,7,TRN,WRAP,0>",
                "weight": "fixed<6,1,TRN,WRAP,0>",
                "bias": "fixed<6,1,TRN,WRAP,0>",
                "accum": "fixed<18,7,TRN,WRAP,0>",
                "reuse_factor": 1,
            },
            {"name": "softmax", "class": "Softmax", "result": "fixed<16,6,TRN,WRAP,0>", "reuse_factor": 1},
        ],
    }
    return r


def power_rows() -> list[tuple[float, float, str]]:
    """idle 0-2 s at ~1.55 W, warm-up 2-2.5 s, run 2.5-7.5 s at ~1.62 W, cool-down 7.5-8 s (20 Hz)."""
    rows = []
    for i in range(161):
        t = i * 0.05
        phase = "idle" if t < 2 else "warmup" if t < 2.5 else "run" if t < 7.5 else "cooldown"
        base = {"idle": 1.55, "warmup": 1.60, "run": 1.62, "cooldown": 1.56}[phase]
        rows.append((t, base + 0.004 * math.sin(7.0 * t), phase))
    return rows


def write_workdir(wd: Path) -> Path:
    wd.mkdir(parents=True, exist_ok=True)
    lines = ["t_s,watts,phase"] + [f"{t:.6f},{w:.6f},{p}" for t, w, p in power_rows()]
    (wd / "power.csv").write_text("\n".join(lines) + "\n")
    (wd / "deploy.json").write_text(
        json.dumps(
            {
                "status": "ok",
                "measurement": {
                    "n_inferences": 360000,
                    "inferences_per_second": 200000.0,
                    "latency_s_per_inference": 5e-6,
                    "latency_batch1_s": 8.2e-5,
                    "latency_source": "measured:host-timer",
                    "power_active_w": 1.62,
                    "power_active_w_uncertainty": 0.002,
                    "energy_uj_per_inference": 8.1,
                    "energy_uj_per_inference_uncertainty": 0.05,
                    "energy_dynamic_uj_per_inference": 0.35,
                    "sensor": "external-meter",
                    "sensor_resolution_w": 0.001,
                    "notes": ["meter log aligned by wall clock"],
                },
            }
        )
    )
    (wd / "baseline.json").write_text(
        json.dumps(
            {
                "cpu": {
                    "device": "cpu",
                    "device_name": "x86_64",
                    "framework": "tensorflow 2.15.1",
                    "accuracy": 0.9694,
                    "batch1": {
                        "batch": 1,
                        "latency_s": 4.4e-4,
                        "samples_per_s": 2280.0,
                        "energy": {"uj_per_inference": 8000.0, "source": "measured:rapl"},
                    },
                    "batched": {
                        "batch": 360,
                        "latency_s": 1e-3,
                        "samples_per_s": 360000.0,
                        "energy": {"uj_per_inference": 25.0, "source": "measured:rapl"},
                    },
                    "samples_per_s": 360000.0,
                    "latency_s": 4.4e-4,
                    "energy": {"uj_per_inference": 25.0, "source": "measured:rapl"},
                },
                "gpu": {
                    "device": "gpu",
                    "device_name": "NVIDIA H100",
                    "accuracy": 0.9694,
                    "batch1": {
                        "batch": 1,
                        "latency_s": 7e-6,
                        "samples_per_s": 140000.0,
                        "energy": {"uj_per_inference": None, "source": None, "note": "not measurable here: no NVML"},
                    },
                    "batched": {
                        "batch": 360,
                        "latency_s": 2e-5,
                        "samples_per_s": 1.8e7,
                        "energy": {"uj_per_inference": None, "source": None, "note": "not measurable here: no NVML"},
                    },
                    "samples_per_s": 1.8e7,
                    "latency_s": 7e-6,
                    "energy": {"uj_per_inference": None, "source": None},
                },
            }
        )
    )
    (wd / "estimate.json").write_text(
        json.dumps(
            {
                "source": ESTIMATE,
                "layers": [
                    {"name": "fc1", "resources": {"lut": 4102, "ff": 2011, "dsp": 9, "bram_18k": 0}},
                    {"name": "out", "lut": 611, "ff": 301, "dsp": 2, "bram_18k": 0},
                    {"name": "softmax", "resources": {"lut": 104, "ff": 21, "dsp": 0, "bram_18k": 0}},
                ],
            }
        )
    )
    (wd / "emulate.json").write_text(
        json.dumps(
            {
                "engine": "csim",
                "layers": [
                    {"name": "fc1", "exact_fraction": 1.0, "max_abs_diff": 0.0},
                    {"name": "relu1", "exact_fraction": 1.0, "max_abs_diff": 0.0},
                    {"name": "out", "exact_fraction": 0.998, "max_abs_diff": 0.0039},
                ],
            }
        )
    )
    return wd
