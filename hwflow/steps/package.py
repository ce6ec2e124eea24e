"""Step package: a self-contained deployment bundle in package/ and package.tar.gz.

Contents: ``bundle.json`` (I/O precision, DMA, power sensing, measurement windows, the
emulation settings), ``runtime/`` (the numpy-only driver, sensors, recorder, energy maths
and runner), ``vectors/`` (test inputs, the C-simulation outputs they must produce, labels),
``board.yaml``, the bitfile and ``.hwh`` when synthesis produced them, a README and a
``manifest.json`` with the SHA-256 of every file.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

from ..config import resolve_board_path
from ..context import Context
from ..energy.flow import energy_block
from ..figures import seconds_per_result
from ..fileio import atomic_write_bytes, atomic_write_json, atomic_write_text, hash_file
from ..paths import PACKAGE_DIR
from ..registry import StepSpec, register
from ..results import Results, StepOutputs, build
from .emulate import TEST_VECTORS
from .train import load_test_split

RUNTIME_DIR = PACKAGE_DIR / "runtime"


def _settings(ctx: Context) -> dict[str, Any]:
    # The runtime files it bundles enter the key through the StepSpec's ``code``.
    return {"board": ctx.board_cfg}


def io_spec(ctx: Context) -> dict[str, Any]:
    x, y = _vectors(ctx)
    spec: dict[str, Any] = {"input_shape": list(x.shape[1:]), "output_shape": list(y.shape[1:])}
    # Both hls4ml's VivadoAccelerator wrapper and hwflow's own AXI-stream wrapper (synth) carry
    # 32-bit floats; a synthesized overlay states its wire format in synth.json and that wins.
    overlay = ((ctx.step_json("synth") or {}).get("overlay") or {}).get("io")
    wire = "float"
    if isinstance(overlay, dict):
        wire_in, wire_out = overlay.get("input", "float"), overlay.get("output", "float")
    elif isinstance(overlay, str):
        wire_in = wire_out = overlay
    else:
        wire_in = wire_out = wire
    spec.update(input=_wire(wire_in), output=_wire(wire_out))
    return spec


def network_io(ctx: Context) -> dict[str, str] | None:
    """The network's own input/output precisions (inside the wrapper), for reference."""
    layers = (ctx.step_json("convert") or {}).get("layers") or []
    if not layers:
        return None
    return {"input": to_ap_type(layers[0].get("result")), "output": to_ap_type(layers[-1].get("result"))}


def _wire(v: str) -> str:
    return "float" if v in ("float", "float32", None) else to_ap_type(v)


def to_ap_type(precision: str | None) -> str:
    """hls4ml's precision string ('fixed<8,2,RND_CONV,SAT,0>') as the C++ type the wire carries."""
    import re

    if not precision:
        return "float"
    m = re.match(r"^(u?)fixed<(\d+),(-?\d+)(?:,([A-Z_]+))?(?:,([A-Z_]+))?", precision.replace(" ", ""))
    if not m:
        m2 = re.match(r"^(u?)int<(\d+)>", precision.replace(" ", ""))
        if m2:
            return f"ap_{'u' if m2.group(1) else ''}fixed<{m2.group(2)},{m2.group(2)}>"
        return precision
    u, w, i, q, o = m.groups()
    parts = [w, i] + ([f"AP_{q}"] if q else []) + ([f"AP_{o}"] if o else [])
    return f"ap_{'u' if u else ''}fixed<{','.join(parts)}>"


def _vectors(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    x, _ = load_test_split(ctx)
    with np.load(ctx.path("emulate_outputs.npz"), allow_pickle=False) as z:
        y = z["y_csim_vectors"]
    n = min(TEST_VECTORS, len(x), len(y))
    return x[:n], y[:n]


def modeled_seconds_per_inference(ctx: Context) -> tuple[float | None, str | None]:
    """Time per inference of the accelerator when streaming: II x clock (vendor, else estimate),
    else its latency; from the same results model the report reads (results.py)."""
    res = Results(build(StepOutputs.from_context(ctx), provenance=False))
    ii = res.ii_cycles
    per = seconds_per_result(ii.value, res.clock_period_ns)
    if per is not None:
        return per, ii.source
    lat = res.latency
    return (lat.value, lat.source) if lat.known else (None, None)


def energy_model(ctx: Context) -> dict[str, Any] | None:
    """The three energy bases of the model (the block results.json shows: estimate, or vendor
    figures when synthesis ran), so the runner prints the same figures with their basis."""
    block = energy_block(StepOutputs.from_context(ctx)) or {}
    if not block.get("bases"):
        return None
    return {"basis": block.get("basis"),
            "bases": {b: {k: (f or {}).get(k) for k in ("uj", "source", "note", "best_batch")}
                      for b, f in block["bases"].items()}}


def emulated_power(ctx: Context) -> dict[str, Any] | None:
    """The board's power model for the simulated sensor; None when the board has none.
    With the estimate's energy model (issue 15, hwflow/energy) the phases differ: idle, warm-up
    (batch-1 calls: driver-bound) and run (the run batch: the accelerator busier)."""
    p = ctx.board.power
    if p.active_w is None and p.idle_w is None:
        return None
    ph = ((ctx.step_json("estimate") or {}).get("energy_bases") or {}).get("phases") or {}
    if ph.get("idle_w") is not None and ph.get("run_w") is not None:
        return {"idle_w": float(ph["idle_w"]), "active_w": float(ph["run_w"]), "noise_w": 0.0,
                "resolution_w": float(p.resolution_w or 0.001),
                "phase_w": {"idle": ph["idle_w"], "warmup": ph.get("warmup_w") or ph["run_w"], "run": ph["run_w"],
                            "cooldown": ph["idle_w"]}}
    idle = p.idle_w if p.idle_w is not None else p.active_w
    active = p.active_w if p.active_w is not None else p.idle_w
    return {"idle_w": float(idle), "active_w": float(active), "noise_w": 0.0,
            "resolution_w": float(p.resolution_w or 0.001)}


def emulated_power_model(ctx: Context) -> dict[str, Any] | None:
    p = ctx.board.power
    if p.active_w is None and p.idle_w is None:
        return None
    ph = ((ctx.step_json("estimate") or {}).get("energy_bases") or {}).get("power_model") or {}
    if ph.get("idle_w") is not None:
        return {"source": ph.get("source"), "note": f"idle {ph['idle_w']:.4g} W ({ph.get('idle_source')}); "
                f"PL dynamic {(ph.get('dynamic_w') or 0) * 1e3:.3g} mW x duty ({ph.get('dynamic_source')})"}
    return {"source": p.source, "note": ("active power = idle power: the board file has no active-power figure"
                                         if p.active_w is None else None)}


def _bitfiles(ctx: Context) -> tuple[Path | None, Path | None]:
    syn = ctx.step_json("synth") or {}
    bit = syn.get("bitfile")
    hwh = syn.get("hwh")
    bitp = ctx.path(bit) if bit else None
    hwhp = ctx.path(hwh) if hwh else None
    if bitp is not None and bitp.exists() and hwhp is not None and hwhp.exists():
        return bitp, hwhp
    return None, None


def run(ctx: Context) -> dict[str, Any]:
    pkg = ctx.path("package")
    tmp = ctx.path(".package.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "vectors").mkdir(parents=True)
    (tmp / "runtime").mkdir()
    x, y_csim = _vectors(ctx)

    _, labels = load_test_split(ctx)
    np.save(tmp / "vectors" / "x.npy", np.ascontiguousarray(x.astype(np.float32)))
    np.save(tmp / "vectors" / "y_csim.npy", np.ascontiguousarray(y_csim))
    np.save(tmp / "vectors" / "y_true.npy", labels[: len(x)].astype(np.int64))
    for p in sorted(RUNTIME_DIR.glob("*.py")):
        shutil.copyfile(p, tmp / "runtime" / p.name)
    shutil.copyfile(_board_file(ctx), tmp / "board.yaml")
    bit, hwh = _bitfiles(ctx)
    bitfile = None
    if bit is not None and hwh is not None:
        bitfile = f"{ctx.design.name}.bit"
        shutil.copyfile(bit, tmp / bitfile)
        shutil.copyfile(hwh, tmp / f"{ctx.design.name}.hwh")
    sps, sps_source = modeled_seconds_per_inference(ctx)
    power = ctx.board.power
    bundle = {
        "format": 1, "design": ctx.design.name, "board": ctx.board.name,
        "bitfile": bitfile, "dma": "axi_dma_0", "start_ip": None,
        "io": io_spec(ctx), "notes": {"network_io": network_io(ctx)},
        "vectors": {"x": "vectors/x.npy", "expected": "vectors/y_csim.npy", "labels": "vectors/y_true.npy"},
        "driver": {"max_batch": 1024, "timeout_s": 5.0, "max_buffer_bytes": 4 << 20},
        "power": {"method": power.method, "rails": list(power.rails), "resolution_w": power.resolution_w,
                  "idle_w": power.idle_w},
        "measure": {"idle_s": 2.0, "warmup_s": 0.5, "min_run_s": 5.0, "max_run_s": 60.0, "min_samples": 100},
        "emulation": {"seconds_per_sample": sps or 0.0, "seconds_per_sample_source": sps_source,
                      "power": emulated_power(ctx), "power_model": emulated_power_model(ctx)},
    }
    model = energy_model(ctx)
    if model:
        bundle["energy_model"] = model
    atomic_write_json(tmp / "bundle.json", bundle)
    atomic_write_text(tmp / "README.txt", README.format(design=ctx.design.name, board=ctx.board.name,
                                                        bit="yes" if bitfile else "no (run `hwflow synth --level bitfile`)"))
    manifest = {"design": ctx.design.name, "board": ctx.board.name,
                "files": {str(p.relative_to(tmp)): hash_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()}}
    atomic_write_json(tmp / "manifest.json", manifest)
    if pkg.exists():
        shutil.rmtree(pkg)
    os.replace(tmp, pkg)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for p in sorted(pkg.rglob("*")):
            if p.is_file():
                info = tar.gettarinfo(str(p), arcname=f"{ctx.design.name}-{ctx.board.name}/{p.relative_to(pkg)}")
                info.mtime = 0  # reproducible tarball
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                with open(p, "rb") as f:
                    tar.addfile(info, f)
    atomic_write_bytes(ctx.path("package.tar.gz"), buf.getvalue())
    ctx.log(f"bundle: {pkg} ({len(manifest['files'])} files, bitfile: {'yes' if bitfile else 'not synthesized'})")
    return {"files": len(manifest["files"]), "bitfile": bool(bitfile)}


def _board_file(ctx: Context) -> Path:
    src = getattr(ctx.board, "_source", None)
    return Path(src) if src else resolve_board_path(ctx.board.name)


README = """hwflow deployment bundle: {design} on {board}
bitfile included: {bit}

On the board (PYNQ image, as root or in PYNQ's venv):
    python3 runtime/runner.py --bundle . --out out
Without a board (emulated overlay; needs a predict function):
    python3 runtime/runner.py --bundle . --out out --emulated
PYNQ-Z1/Z2 have no power sensors: log an external meter to CSV and pass --meter-csv LOG.csv.
Results: out/deploy.json (outputs vs C-simulation, accuracy, power, energy) and out/power.csv.
"""

register(StepSpec(name="package", run=run, settings=_settings, needs=("emulate", "estimate", "synth"),
                  outputs=("package/bundle.json", "package.tar.gz"), result_file="package/manifest.json",
                  version=1, code=("hwflow/runtime",)))
