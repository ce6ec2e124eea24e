"""Run a deployment bundle on the board (or on the emulated overlay) and write the results.

Usage (on the board, from the bundle)::

    python3 runtime/runner.py --bundle DIR --out DIR [--emulated] [--predict FILE.py:FUNC]
                              [--meter-csv LOG.csv] [--quick]

--bundle DIR      the deployment bundle (``bundle.json`` inside, format below)
--out DIR         where ``deploy.json`` and ``power.csv`` go (created; files replaced atomically)
--emulated        no board: the emulated overlay runs ``predict`` behind the same driver, and a
                  simulated power model stands in for the sensor; every figure is labelled emulated
--predict F:FUNC  the emulator's ``predict(x) -> y`` (a Python file, relative to the bundle);
                  default ``emulation.predict`` of bundle.json, else a replay of the expected
                  outputs (then the comparison proves only the plumbing; deploy.json says so)
--meter-csv LOG   an external meter's CSV log readable on the board (power.method: external)
--quick           short windows (smoke tests, demo): idle 0.2 s, run >= 0.3 s

Exit codes: 0 ran (read ``comparison`` for agreement), 2 bad bundle or arguments, 3 board not
usable (no pynq, bitfile/hwh missing, overlay or DMA not found), 4 the run failed (DMA timeout,
driver error); deploy.json is written in every case but 2, with ``status`` and ``error``.

``bundle.json``::

    {"format": 1, "design": "digits_mlp", "board": "pynq-z2",
     "bitfile": "design.bit",                    # .hwh with the same stem next to it
     "dma": "axi_dma_0", "start_ip": null,
     "io": {"input_shape": [64], "output_shape": [10],
            "input": "float" | "ap_fixed<16,6,AP_RND,AP_SAT>", "output": "..."},
     "vectors": {"x": "vectors/x.npy", "expected": "vectors/y_csim.npy", "labels": "vectors/y_true.npy"},
     "driver": {"max_batch": 1024, "timeout_s": 5.0, "timeout_per_sample_s": 0.01,
                "max_buffer_bytes": 4194304},
     "power": {"method": "pmbus"|"hwmon"|"xrt"|"external"|"none", "rails": [...],
               "resolution_w": 0.125, "idle_w": null},
     "measure": {"idle_s": 2.0, "warmup_s": 0.5, "min_run_s": 5.0, "max_run_s": 60.0,
                 "min_samples": 100, "interval_s": null, "target_uncertainty_w": null},
     "emulation": {"predict": "emulator.py:predict", "seconds_per_sample": 0.0,
                   "power": {"idle_w": 1.5, "active_w": 1.6, "noise_w": 0.0, "resolution_w": 0.001}}}

Only ``io`` is required; vectors default to the paths shown. Test vectors are read with
``np.load(allow_pickle=False)``. Only the standard library and numpy are imported.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:
    # Run as a script from the copied runtime folder: load that folder as a package under a
    # fixed name so the relative imports below work whatever the folder is called.
    _here = Path(__file__).resolve().parent
    _spec = importlib.util.spec_from_file_location("hwflow_runtime", _here / "__init__.py",
                                                   submodule_search_locations=[str(_here)])
    _pkg = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
    sys.modules["hwflow_runtime"] = _pkg
    _spec.loader.exec_module(_pkg)  # type: ignore[union-attr]
    __package__ = "hwflow_runtime"

import argparse
import csv
import io
import json
import os
import platform
import tempfile
import traceback
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .driver import AcceleratorDriver, BoardUnavailable, DMATimeout, DriverError, IOSpec, PynqBackend
from .emulated import EmulatedOverlay
from .energy import measure
from .sensors import NoSensor, PowerSensor, SensorError, make_sensor, utc_now_iso

FORMAT = 1
BUNDLE_KEYS = {"format", "design", "board", "bitfile", "dma", "start_ip", "io", "vectors", "driver",
               "power", "measure", "emulation", "manifest", "notes", "energy_model"}
VECTOR_DEFAULTS = {"x": "vectors/x.npy", "expected": "vectors/y_csim.npy", "labels": "vectors/y_true.npy"}
MEASURE_KEYS = {"idle_s", "warmup_s", "min_run_s", "max_run_s", "min_samples", "interval_s",
                "target_uncertainty_w", "batch1_calls", "cooldown_s"}
QUICK = {"idle_s": 0.2, "warmup_s": 0.05, "min_run_s": 0.3, "max_run_s": 5.0, "min_samples": 10,
         "interval_s": 0.01, "batch1_calls": 5}


class BundleError(ValueError):
    """bundle.json or a file it names is missing or wrong (exit 2)."""


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------

def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write a whole file or nothing: temp file in the same folder, fsync, ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def power_csv_text(trace: list[tuple[float, float, str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["t_s", "watts", "phase"])
    for t, watts, phase in trace:
        w.writerow([f"{t:.6f}", f"{watts:.6f}", phase])
    return buf.getvalue()


def load_bundle(bundle_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check ``bundle.json``; returns it with ``_dir`` set. Raises :class:`BundleError`."""
    root = Path(bundle_dir)
    f = root / "bundle.json"
    if not f.is_file():
        raise BundleError(f"{f}: not found (is {root} a deployment bundle?)")
    try:
        b = json.loads(f.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BundleError(f"{f}: not valid JSON: {exc}") from exc
    if not isinstance(b, dict):
        raise BundleError(f"{f}: top level must be an object")
    unknown = set(b) - BUNDLE_KEYS
    if unknown:
        raise BundleError(f"{f}: unknown keys {sorted(unknown)} (known: {sorted(BUNDLE_KEYS)})")
    if int(b.get("format", FORMAT)) > FORMAT:
        raise BundleError(f"{f}: format {b['format']} is newer than this runner ({FORMAT})")
    if "io" not in b:
        raise BundleError(f"{f}: key 'io' is required")
    try:
        b["_io"] = IOSpec.from_dict(b["io"])
    except (ValueError, TypeError, KeyError) as exc:
        raise BundleError(f"{f}: key 'io': {exc}") from exc
    bad = set(b.get("measure") or {}) - MEASURE_KEYS
    if bad:
        raise BundleError(f"{f}: key 'measure': unknown {sorted(bad)} (known: {sorted(MEASURE_KEYS)})")
    b["_dir"] = root
    return b


def _load_npy(root: Path, rel: str | None, key: str, required: bool) -> np.ndarray | None:
    if not rel:
        if required:
            raise BundleError(f"bundle.json: vectors.{key} is required")
        return None
    p = root / rel
    if not p.is_file():
        if required:
            raise BundleError(f"bundle.json: vectors.{key}: {p} not found")
        return None
    try:
        return np.load(str(p), allow_pickle=False)
    except ValueError as exc:
        raise BundleError(f"bundle.json: vectors.{key}: {p} cannot be read without pickle: {exc}") from exc


def load_predict(spec: str, base: Path) -> Callable[[np.ndarray], Any]:
    """``"file.py:func"`` (relative to ``base``) -> the function."""
    file_part, _, func = spec.rpartition(":")
    if not file_part or not func:
        raise BundleError(f"predict must be FILE.py:FUNCTION, got {spec!r}")
    path = (base / file_part) if not Path(file_part).is_absolute() else Path(file_part)
    if not path.is_file():
        raise BundleError(f"predict file {path} not found")
    mod_spec = importlib.util.spec_from_file_location(f"hwflow_bundle_predict_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(mod_spec)  # type: ignore[arg-type]
    sys.path.insert(0, str(path.parent))  # let the emulator import its neighbours
    try:
        mod_spec.loader.exec_module(module)  # type: ignore[union-attr]
    finally:
        sys.path.remove(str(path.parent))
    fn = getattr(module, func, None)
    if not callable(fn):
        raise BundleError(f"{path} has no function {func!r}")
    return fn


def replay_predict(x: np.ndarray, expected: np.ndarray, io_spec: IOSpec) -> Callable[[np.ndarray], np.ndarray]:
    """A stand-in accelerator that returns the expected output of each known input.

    Inputs are looked up by the exact words the IP receives, so encode/decode still runs.
    """
    words = io_spec.input.decode(io_spec.input.encode(np.asarray(x).reshape(len(x), -1)))
    table = {row.tobytes(): i for i, row in enumerate(np.ascontiguousarray(words))}
    exp = np.asarray(expected).reshape(len(expected), -1)

    def predict(batch: np.ndarray) -> np.ndarray:
        flat = np.ascontiguousarray(np.asarray(batch).reshape(len(batch), -1).astype(words.dtype))
        try:
            return exp[[table[r.tobytes()] for r in flat]]
        except KeyError as exc:
            raise KeyError("replay predict got an input that is not among the test vectors") from exc

    return predict


# ---------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------

def compare_outputs(board: np.ndarray, expected: np.ndarray) -> dict[str, Any]:
    """Board vs. C-simulation outputs: exact equality per sample, max |diff|, argmax agreement."""
    b = np.asarray(board, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if len(b) != len(e) or b.size != e.size:
        return {"samples": len(b), "error": f"shape mismatch: board {b.shape} vs expected {e.shape}"}
    b, e = b.reshape(len(b), -1), e.reshape(len(e), -1)
    exact = np.all(b == e, axis=1)
    diff = np.abs(b - e)
    per_sample = diff.max(axis=1) if diff.size else np.zeros(len(b))
    out: dict[str, Any] = {
        "samples": len(b),
        "exact_equal": int(exact.sum()),
        "exact_fraction": float(exact.mean()) if len(b) else None,
        "max_abs_diff": float(per_sample.max()) if len(b) else None,
        "worst_sample": int(np.argmax(per_sample)) if len(b) else None,
        "argmax_agreement": None,
    }
    if b.shape[1] > 1 and len(b):
        out["argmax_agreement"] = float(np.mean(np.argmax(b, axis=1) == np.argmax(e, axis=1)))
    return out


def accuracy(board: np.ndarray, labels: np.ndarray) -> float | None:
    """Top-1 accuracy for class-index or one-hot labels; None when it does not apply."""
    b = np.asarray(board).reshape(len(board), -1)
    y = np.asarray(labels)
    if len(y) != len(b) or b.shape[1] < 2:
        return None
    if y.ndim == 2 and y.shape[1] == b.shape[1]:
        y = np.argmax(y, axis=1)
    if y.ndim != 1:
        return None
    return float(np.mean(np.argmax(b, axis=1) == y.astype(np.int64)))


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------

class RunFailed(RuntimeError):
    """The run failed after deploy.json was written (exit 3 or 4)."""

    def __init__(self, message: str, exit_code: int, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.result = result


def _versions() -> dict[str, Any]:
    pynq_version = None
    spec = importlib.util.find_spec("pynq")
    if spec is not None:
        try:
            import pynq

            pynq_version = getattr(pynq, "__version__", "unknown")
        except Exception:  # noqa: BLE001 - a broken pynq install must not stop the report
            pynq_version = "unimportable"
    return {"python": platform.python_version(), "numpy": np.__version__, "pynq": pynq_version,
            "host": platform.node(), "machine": platform.machine()}


def run_bundle(bundle_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, emulated: bool = False,
               predict: Callable[[np.ndarray], Any] | str | None = None, sensor: PowerSensor | None = None,
               meter_csv: str | None = None, quick: bool = False,
               measure_overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Run a bundle; write ``deploy.json`` (+ ``power.csv`` when a trace exists); return the result.

    In-process callers (the host's emulated deploy step) may pass ``predict`` as a callable and a
    ready ``sensor``. Raises :class:`BundleError` (nothing written) or :class:`RunFailed` (written).
    """
    b = load_bundle(bundle_dir)
    root: Path = b["_dir"]
    io_spec: IOSpec = b["_io"]
    vec = {**VECTOR_DEFAULTS, **(b.get("vectors") or {})}
    x = _load_npy(root, vec.get("x"), "x", required=True)
    expected = _load_npy(root, vec.get("expected"), "expected", required=False)
    labels = _load_npy(root, vec.get("labels"), "labels", required=False)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    emu_cfg = dict(b.get("emulation") or {})
    mcfg = {**(b.get("measure") or {}), **(QUICK if quick else {}), **dict(measure_overrides or {})}
    result: dict[str, Any] = {
        "format": FORMAT, "status": "running", "error": None, "design": b.get("design"), "board": b.get("board"),
        "emulated": bool(emulated), "created": utc_now_iso(), "bundle": str(root.resolve()),
        "runtime": _versions(), "driver": None, "sensor": None, "emulation": None,
        "comparison": None, "accuracy": {"board": None}, "measurement": None,
    }

    def fail(message: str, code: int) -> RunFailed:
        result["status"], result["error"] = "failed", message
        write_atomic(out / "deploy.json", json.dumps(result, indent=2, default=_json_default) + "\n")
        return RunFailed(message, code, result)

    # -- backend --------------------------------------------------------------------------
    dcfg = dict(b.get("driver") or {})
    try:
        if emulated:
            fn, how = _emulation_predict(predict, emu_cfg, root, x, expected, io_spec)
            backend: Any = EmulatedOverlay(fn, io_spec, dma=str(b.get("dma") or "axi_dma_0"),
                                           seconds_per_sample=float(emu_cfg.get("seconds_per_sample", 0.0)))
            result["emulation"] = {"predict": how, "seconds_per_sample": backend.seconds_per_sample}
        else:
            if not b.get("bitfile"):
                raise BundleError("bundle.json: key 'bitfile' is required for a board run (or use --emulated)")
            backend = PynqBackend(root / str(b["bitfile"]), dma=str(b.get("dma") or "axi_dma_0"),
                                  start_ip=b.get("start_ip"))
    except BoardUnavailable as exc:
        raise fail(str(exc), 3) from exc
    try:
        driver = AcceleratorDriver(backend, io_spec, max_batch=dcfg.get("max_batch"),
                                   timeout_s=float(dcfg.get("timeout_s", 5.0)),
                                   timeout_per_sample_s=float(dcfg.get("timeout_per_sample_s", 0.01)),
                                   max_buffer_bytes=int(dcfg.get("max_buffer_bytes", 1 << 22)))
    except (DriverError, ValueError) as exc:
        raise fail(f"driver set-up: {exc}", 4) from exc
    result["driver"] = driver.describe()

    # -- sensor ---------------------------------------------------------------------------
    if sensor is None:
        power_cfg = dict(b.get("power") or {})
        if emulated:
            power_cfg["simulated"] = emu_cfg.get("power") or {}
        try:
            sensor = make_sensor(power_cfg, emulated=emulated, meter_csv=meter_csv)
        except (SensorError, ValueError, TypeError) as exc:
            sensor = NoSensor(f"power sensor unavailable: {exc}")
    result["sensor"] = sensor.describe()

    # -- run --------------------------------------------------------------------------------
    try:
        with driver:
            m = measure(driver, x, sensor, **mcfg)
    except DMATimeout as exc:
        raise fail(str(exc), 4) from exc
    except Exception as exc:
        result["traceback"] = traceback.format_exc(limit=20)
        raise fail(f"{type(exc).__name__}: {exc}", 4) from exc
    finally:
        sensor.close()
    result["measurement"] = m.summary
    if expected is not None:
        result["comparison"] = compare_outputs(m.outputs, expected)
    if labels is not None:
        result["accuracy"]["board"] = accuracy(m.outputs, labels)
    result["energy"] = energy_views(m.summary, emulated=emulated, emu_cfg=emu_cfg, model=b.get("energy_model"))
    result["status"] = "ok"
    if m.trace:
        write_atomic(out / "power.csv", power_csv_text(m.trace))
    write_atomic(out / "deploy.json", json.dumps(result, indent=2, default=_json_default) + "\n")
    return result


def _emulation_predict(predict: Any, emu_cfg: Mapping[str, Any], root: Path, x: np.ndarray,
                       expected: np.ndarray | None, io_spec: IOSpec) -> tuple[Callable[[np.ndarray], Any], str]:
    if callable(predict):
        return predict, getattr(predict, "__qualname__", "callable")
    spec = predict or emu_cfg.get("predict")
    if spec:
        return load_predict(str(spec), root), str(spec)
    if expected is None:
        raise BundleError("emulated run needs a predict (--predict FILE:FUNC or emulation.predict) "
                          "or expected outputs to replay")
    return replay_predict(x, expected, io_spec), "replay of expected outputs (plumbing check only)"


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


# ---------------------------------------------------------------------------------------------
# Energy per inference, each figure with its basis (issue 16, item 7)
# ---------------------------------------------------------------------------------------------

#: The basis of an emulated run's own timing: simulated power x this PC's wall-clock time.
HOST_TIMING = "host_timing"


def energy_views(m: Mapping[str, Any], *, emulated: bool, emu_cfg: Mapping[str, Any],
                 model: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Every energy-per-inference figure of this run, each naming its basis.

    Emulated: ``accelerator`` (the simulated run power x the modelled time per result, II x clock:
    the figure the flow's deploy step reports) and ``host_timing`` (the same power x this PC's
    wall-clock time per inference: a harness figure, not the FPGA's). On a board: the measured
    ``batched_system`` figure (batches through the DMA, run-phase energy / inferences). Then the
    model's three bases as the package carried them from the estimate step (``energy_model``).
    """
    views: list[dict[str, Any]] = []
    e = m.get("energy_uj_per_inference")
    if emulated:
        sps = float(emu_cfg.get("seconds_per_sample") or 0.0)
        p = m.get("power_active_w")
        if sps > 0 and p is not None:
            views.append({"basis": "accelerator", "uj_per_inference": p * sps * 1e6, "source": "emulated",
                          "how": f"simulated run power {p:.3g} W x {fmt_seconds(sps)} per result (II x clock, "
                                 f"{emu_cfg.get('seconds_per_sample_source') or 'modelled'})"})
        if e is not None:
            views.append({"basis": HOST_TIMING, "uj_per_inference": e, "source": "emulated",
                          "how": "simulated power x this PC's wall-clock time per inference: "
                                 "a harness figure, not the FPGA's"})
    elif e is not None:
        views.append({"basis": "batched_system", "uj_per_inference": e, "source": m.get("source"),
                      "how": "measured: run-phase energy / inferences, batches through the DMA"})
    for basis, fig in ((model or {}).get("bases") or {}).items():
        fig = fig or {}
        views.append({"basis": basis, "uj_per_inference": fig.get("uj"), "source": fig.get("source"),
                      "how": "model (hwflow estimate)", "note": fig.get("note")})
    return views


def fmt_seconds(s: float) -> str:
    """A duration for people, 3 significant digits, in s/ms/us/ns."""
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us")):
        if abs(s) >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"


def fmt_energy(uj: float | None) -> str:
    """Energy for people, 3 significant digits: nJ below 1 µJ, mJ from 1000 µJ."""
    if uj is None:
        return "not estimated"
    if abs(uj) < 1.0:
        return f"{uj * 1e3:.3g} nJ"
    if abs(uj) >= 1000.0:
        return f"{uj / 1e3:.3g} mJ"
    return f"{uj:.3g} uJ"


def energy_lines(views: list[dict[str, Any]]) -> list[str]:
    """One console line per figure: ``energy/inference [basis] value (source; how)``."""
    if not views:
        return ["energy/inference: not measured (no power figure)"]
    out = []
    for v in views:
        val = fmt_energy(v.get("uj_per_inference")) if v.get("uj_per_inference") is not None else \
            (v.get("note") or "not estimated")
        src = "; ".join(x for x in (v.get("source"), v.get("how")) if x)
        out.append(f"energy/inference [{v['basis']}]: {val}" + (f" ({src})" if src else ""))
    return out



def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="runner.py", description="Run an hwflow deployment bundle.")
    p.add_argument("--bundle", required=True, help="bundle folder (contains bundle.json)")
    p.add_argument("--out", required=True, help="output folder for deploy.json and power.csv")
    p.add_argument("--emulated", action="store_true", help="use the emulated overlay and a power model")
    p.add_argument("--predict", help="emulator FILE.py:FUNCTION (relative to the bundle)")
    p.add_argument("--meter-csv", help="external power meter CSV log readable on this machine")
    p.add_argument("--quick", action="store_true", help="short measurement windows (smoke test)")
    args = p.parse_args(argv)
    try:
        r = run_bundle(args.bundle, args.out, emulated=args.emulated, predict=args.predict,
                       meter_csv=args.meter_csv, quick=args.quick)
    except BundleError as exc:
        print(f"runner: error: {exc}", file=sys.stderr)
        return 2
    except RunFailed as exc:
        print(f"runner: failed: {exc}\n  details: {Path(args.out) / 'deploy.json'}", file=sys.stderr)
        return exc.exit_code
    m, c = r["measurement"], r["comparison"] or {}
    print(f"runner: {m['n_inferences']:,} inferences in {m['seconds']:.3g} s"
          + (f", exact {c.get('exact_equal')}/{c.get('samples')} (outputs equal to C-sim)" if c else "")
          + f" -> {Path(args.out) / 'deploy.json'}")
    for line in energy_lines(r.get("energy") or []):
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
