#!/usr/bin/env python3
"""rule4ml side by side: map hwflow's calibration designs to rule4ml inputs and run rule4ml.

Two halves in one file:

* the pure mapping (standard library only; imported by ``bench/estimator.py`` and the tests):
  ``design_payload`` turns a calibration design into plain data, ``to_rule4ml`` turns that into
  the request rule4ml needs (dense layer sizes, activations, one precision, reuse factors,
  strategy, board, tool version) or a reason why rule4ml cannot take it;
* ``serve`` runs under rule4ml's own interpreter (it needs Keras 3 and PyTorch, which cannot
  live next to hwflow's TensorFlow 2.15 / Keras 2): it reads ``{"requests": [...]}`` as JSON on
  stdin, builds the equivalent Keras model of each request, asks rule4ml's default estimators
  (the v2 GNN models that ``MultiModelWrapper.load_default_models`` loads) for LUT, FF, DSP,
  BRAM, cycles and interval, and writes ``{"rule4ml_version": ..., "predictions": {...}}`` as
  JSON on stdout.

``run_rule4ml(python, requests)`` starts the second half as a subprocess (argument list, no
shell). Nothing here is fitted on our data: rule4ml was trained on its own synthesis runs.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

#: rule4ml 0.2.0's boards (rule4ml/parsers/supported_boards.json) and the FPGA each carries.
RULE4ML_BOARDS = {
    "pynq-z2": "xc7z020clg400-1",
    "zcu102": "xczu9eg-ffvb1156-2-e",
    "alveo-u200": "xcu200-fsgd2104-2-e",
    "alveo-u250": "xcu250-figd2104-2L-e",
}
#: Part prefix -> (rule4ml board, how close). Families only where the fabric and DSP slice are
#: the same (Zynq-7000 on pynq-z2, Zynq UltraScale+ on zcu102, the VU9P of the U200, the VU13P
#: of the U250); any other part is skipped with its reason rather than guessed.
PART_TO_BOARD = (
    ("xc7z020", "pynq-z2", "same device"),
    ("xc7z", "pynq-z2", "same family (Zynq-7000), other device"),
    ("xczu9eg", "zcu102", "same device"),
    ("xczu", "zcu102", "same family (Zynq UltraScale+), other device"),
    ("xcu200", "alveo-u200", "same device"),
    ("xcvu9p", "alveo-u200", "same device (the U200 carries a VU9P)"),
    ("xcu250", "alveo-u250", "same device"),
    ("xcvu13p", "alveo-u250", "same device (the U250 carries a VU13P)"),
)
#: Tool versions rule4ml's v2 estimators know (its ``vivado_version`` category); others go as unknown.
RULE4ML_TOOL_VERSIONS = ("2019.1", "2019.2", "2020.1", "2020.2", "2021.1", "2021.2", "2022.1",
                         "2022.2", "2023.1", "2023.2", "2024.1", "2024.2")
#: hwflow activation ops rule4ml has a layer type for ("linear" is dropped, as rule4ml does).
RULE4ML_ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax")
#: rule4ml's training data use one clock (its README: "clock_period (10 ns) and io_type
#: (io_parallel)"); designs at other clocks are scored but carry a note.
RULE4ML_CLOCK_NS = 10.0
METRICS = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram_18k": "BRAM", "latency": "CYCLES", "ii": "INTERVAL"}
SERVE_TIMEOUT_S = 900


def board_for_part(part: str | None) -> tuple[str | None, str]:
    """(rule4ml board, how close the match is) for an FPGA part, or (None, reason)."""
    if not part:
        return None, "no FPGA part known"
    p = part.lower()
    for prefix, board, how in PART_TO_BOARD:
        if p.startswith(prefix):
            return board, how
    return None, (f"part {part} has no rule4ml board (it knows {', '.join(RULE4ML_BOARDS)}: "
                  "Zynq-7000, Zynq UltraScale+, VU9P, VU13P)")


def design_payload(d: Any) -> dict:
    """Plain data of an ``hwflow.estimate.dataset.Design`` (duck-typed; no hwflow import here)."""
    return {
        "name": d.folder,
        "repo": d.repo,
        "part": d.part,
        "tool": d.tool,
        "tool_version": (d.extra or {}).get("tool_version"),
        "mul_impl": d.mul_impl,
        "clock_ns": d.clock_ns,
        "layers": [{"name": l.name, "kind": l.kind, "op": l.op, "n_in": l.n_in, "n_out": l.n_out,
                    "reuse_factor": l.reuse_factor, "strategy": l.strategy, "io_type": l.io_type,
                    "weight_bits": l.weight_bits} for l in d.layers],
    }


def _tool_version(v: str | None) -> tuple[str, bool]:
    """rule4ml's version category for a tool version ("2019.2.1" -> "2019.2") and whether it is
    exact; a version it does not know goes as the nearest one it knows (its embeddings have no
    "unknown" entry)."""
    m = re.match(r"(\d{4})\.(\d)", str(v or ""))
    if not m:
        return RULE4ML_TOOL_VERSIONS[-1], False
    tv = f"{m.group(1)}.{m.group(2)}"
    if tv in RULE4ML_TOOL_VERSIONS:
        return tv, True
    return (RULE4ML_TOOL_VERSIONS[0] if tv < RULE4ML_TOOL_VERSIONS[0] else RULE4ML_TOOL_VERSIONS[-1]), False


def _hls4ml_version(tool: str | None) -> str:
    """rule4ml knows hls4ml 0.8.1 and 1.1.0 only, and requires one; the fixtures do not record
    theirs. Fixed rule: Vitis HLS designs -> 1.1.0, Vivado HLS designs -> 0.8.1."""
    return "1.1.0" if tool == "vitis_hls" else "0.8.1"


def to_rule4ml(p: dict) -> dict:
    """The rule4ml request for one design payload: ``{"ok": True, "request": {...}}`` or
    ``{"ok": False, "reason": "..."}``. Pure: no rule4ml, no Keras."""
    layers = p.get("layers") or []
    if not layers:
        return {"ok": False, "reason": "no layers"}
    if p.get("mul_impl", "auto") != "auto":
        return {"ok": False, "reason": f"multipliers forced to {p['mul_impl']} (HLS config_op mul -impl); "
                                       "rule4ml has no input for it"}
    io = {l.get("io_type", "io_parallel") for l in layers}
    if io != {"io_parallel"}:
        return {"ok": False, "reason": f"io_type {'/'.join(sorted(io))}: rule4ml has no io_type input "
                                       "(its training data are io_parallel only)"}
    board, how = board_for_part(p.get("part"))
    if board is None:
        return {"ok": False, "reason": how}
    out: list[dict] = []
    dense = [l for l in layers if l["kind"] == "dense"]
    if not dense:
        return {"ok": False, "reason": "no dense layer"}
    for l in layers:
        kind, op = l["kind"], (l.get("op") or "")
        if kind == "dense":
            out.append({"type": "Dense", "name": f"dense_{len(out)}", "units": int(l["n_out"]),
                        "reuse_factor": int(l.get("reuse_factor") or 1)})
        elif kind in ("activation", "softmax"):
            act = "softmax" if kind == "softmax" else op
            if act == "linear":
                continue
            if act not in RULE4ML_ACTIVATIONS:
                return {"ok": False, "reason": f"activation {act!r} ({l['name']}) has no rule4ml layer type"}
            out.append({"type": "Activation", "name": f"act_{len(out)}", "activation": act})
        elif kind == "batchnorm":
            out.append({"type": "BatchNormalization", "name": f"bn_{len(out)}"})
        else:
            return {"ok": False, "reason": f"layer {l['name']} ({kind}) is not a dense-subset layer"}
    strategies = {l.get("strategy", "latency") for l in dense}
    if len(strategies) != 1:
        return {"ok": False, "reason": f"mixed strategies {sorted(strategies)}: rule4ml takes one per model"}
    widths = [int(l["weight_bits"]) for l in dense if l.get("weight_bits")]
    if not widths:
        return {"ok": False, "reason": "dense weight precision unknown"}
    # rule4ml takes one model precision (its data use one ap_fixed for everything); we give the
    # widest dense weight width - the multiplier operand - and note when the layers differ.
    w = max(widths)
    rfs = [x["reuse_factor"] for x in out if x["type"] == "Dense"]
    strategy = strategies.pop()
    hls_config: dict = {"board": board, "model": {"strategy": strategy, "precision": f"ap_fixed<{w},{min(w, 6)}>",
                                                  "reuse_factor": rfs[0]}}
    if len(set(rfs)) > 1:
        hls_config["layer_name"] = {x["name"]: {"reuse_factor": x["reuse_factor"]}
                                    for x in out if x["type"] == "Dense"}
    notes = [f"board {board}: {how}"]
    if len(set(widths)) > 1:
        notes.append(f"dense weight widths {sorted(set(widths))}; rule4ml given the widest, {w} bits")
    clock = p.get("clock_ns")
    if clock and abs(float(clock) - RULE4ML_CLOCK_NS) > 1e-6:
        notes.append(f"clock {float(clock):g} ns; rule4ml's data are at {RULE4ML_CLOCK_NS:g} ns")
    tv, exact = _tool_version(p.get("tool_version"))
    if not exact:
        notes.append(f"tool version {p.get('tool_version')} unknown to rule4ml; given {tv}")
    return {"ok": True, "notes": notes, "request": {
        "name": p["name"], "n_in": int(dense[0]["n_in"]), "layers": out, "hls_config": hls_config,
        "tool_version": tv, "hls4ml_version": _hls4ml_version(p.get("tool"))}}


def run_rule4ml(python: str, requests: list[dict], timeout: float = SERVE_TIMEOUT_S) -> dict:
    """Run ``serve`` under rule4ml's interpreter; raise RuntimeError with a readable message."""
    exe = Path(python).expanduser()
    if not exe.is_file():
        raise RuntimeError(f"HWFLOW_RULE4ML_PYTHON={python}: no such interpreter "
                           "(create rule4ml's environment as docs/estimator.md shows)")
    try:
        cp = subprocess.run([str(exe), str(Path(__file__).resolve()), "--serve"],
                            input=json.dumps({"requests": requests}), capture_output=True, text=True,
                            timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RuntimeError(f"rule4ml adapter under {python} failed to run: {e}") from None
    if cp.returncode != 0:
        tail = (cp.stderr or "").strip().splitlines()[-3:]
        raise RuntimeError(f"rule4ml adapter under {python} exited {cp.returncode}: " + " | ".join(tail))
    try:
        return json.loads(cp.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RuntimeError(f"rule4ml adapter under {python} printed no JSON result") from None


def serve() -> int:  # pragma: no cover - runs only under rule4ml's interpreter
    import contextlib
    import importlib.util
    import io
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    if importlib.util.find_spec("rule4ml") is None:  # say so before TensorFlow takes seconds to load
        print(f"rule4ml is not installed in {sys.executable}", file=sys.stderr)
        return 3
    data = json.load(sys.stdin)
    # rule4ml and TensorFlow print progress and warnings on stdout: keep stdout for our JSON.
    with contextlib.redirect_stdout(io.StringIO()):
        import keras
        import rule4ml
        from rule4ml.models.wrappers import MultiModelWrapper

        mmw = MultiModelWrapper()
        mmw.load_default_models()
        preds: dict[str, dict] = {}
        errors: dict[str, str] = {}
        for req in data["requests"]:
            try:
                # A built Sequential model: rule4ml reads the input shape from its build shapes.
                model = keras.Sequential(name="m")
                for spec in req["layers"]:
                    if spec["type"] == "Dense":
                        model.add(keras.layers.Dense(spec["units"], name=spec["name"]))
                    elif spec["type"] == "Activation":
                        model.add(keras.layers.Activation(spec["activation"], name=spec["name"]))
                    else:
                        model.add(keras.layers.BatchNormalization(name=spec["name"]))
                model.build((None, req["n_in"]))
                row: dict[str, float] = {}
                for key, wrapper in mmw._models.items():
                    y = wrapper.predict([model], [req["hls_config"]], [req["hls4ml_version"]], [req["tool_version"]])
                    for label, v in zip(key.split("-"), list(y[0])):
                        row[label.upper()] = float(v)
                preds[req["name"]] = {m: row.get(k) for m, k in METRICS.items()}
            except Exception as e:  # one design's failure must not hide the others
                errors[req["name"]] = f"{type(e).__name__}: {e}"[:300]
        version = getattr(rule4ml, "__version__", "unknown")
        models = sorted(type(w.model).__name__ for w in mmw._models.values())
    print(json.dumps({"rule4ml_version": version, "estimators": sorted(set(models)),
                      "predictions": preds, "errors": errors}))
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        raise SystemExit(serve())
    print("usage: rule4ml_adapter.py --serve  (JSON on stdin; run by bench/estimator.py)", file=sys.stderr)
    raise SystemExit(2)
