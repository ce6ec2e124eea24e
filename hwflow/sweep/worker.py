"""What runs on a worker: one sweep point through the flow, in its own work folder.

The task is a plain dict (picklable for a process pool, serialisable for Dask); the record
returned is also written to ``<point>/point.json``, so a point finished by a worker is on
disk even if the process that dispatched it dies. Failures are records too (status
"failed" with the error and the log path), never exceptions: one bad point must not stop
a sweep of a hundred.

TensorFlow sizes its thread pools from the machine when it first starts; N workers each
using every core would oversubscribe the CPU, so the thread counts are fixed in the
environment before TensorFlow is imported (and again through tf.config, if it already was).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from ..config import Design, _check_layer_semantics, load_board
from ..errors import HwflowError
from ..fileio import atomic_write_json, read_json
from ..flow import Options, make_context, run_flow
from ..steps.train import load_quantized_model
from .qtools import qtools_energy

POINT_FILE = "point.json"
QTOOLS_FILE = "qtools.json"


def limit_threads(threads: int) -> None:
    """Cap TensorFlow / OpenMP / BLAS threads in this process (call before importing TF)."""
    t = str(max(1, int(threads)))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                "TF_NUM_INTEROP_THREADS"):
        os.environ[var] = t
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        with contextlib.suppress(Exception):  # RuntimeError once TF's context is initialised
            tf.config.threading.set_intra_op_parallelism_threads(int(t))
            tf.config.threading.set_inter_op_parallelism_threads(int(t))


def init_worker(threads: int, root: str | None) -> None:
    """Process-pool initializer: thread caps and the project root, before any TF import."""
    limit_threads(threads)
    if root:
        os.environ["HWFLOW_ROOT"] = root


def _import_tf_limited(threads: int) -> None:
    limit_threads(threads)
    import tensorflow as tf

    with contextlib.suppress(Exception):
        tf.config.threading.set_intra_op_parallelism_threads(max(1, threads))
        tf.config.threading.set_inter_op_parallelism_threads(max(1, threads))
    # TF's Python logger holds the console stream it found at import, past any redirection:
    # quiet it, or N workers interleave deprecation notices into the sweep's progress lines.
    tf.get_logger().setLevel("ERROR")
    with contextlib.suppress(Exception):
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)


def run_point(task: dict[str, Any]) -> dict[str, Any]:
    """Run one point; return (and write) its record. Never raises for a failing point."""
    workdir = Path(task["workdir"])
    workdir.mkdir(parents=True, exist_ok=True)
    if task.get("root"):
        os.environ["HWFLOW_ROOT"] = task["root"]
    t0 = time.monotonic()
    record: dict[str, Any] = {"id": task["id"], "index": task["index"], "board": task["board"],
                              "design": task["values"], "to": task["to"], "workdir": str(workdir),
                              "worker": f"pid {os.getpid()} on {os.uname().nodename}"}
    log_path = workdir / "sweep.log"
    try:
        # A worker machine may say how many threads a point gets (e.g. in a Slurm job script).
        env_threads = os.environ.get("HWFLOW_SWEEP_THREADS", "")
        threads = int(env_threads) if env_threads.isdigit() and int(env_threads) > 0 else int(task.get("threads", 1))
        _import_tf_limited(threads)
        with open(log_path, "a", encoding="utf-8") as log, contextlib.redirect_stdout(log), \
                contextlib.redirect_stderr(log):
            print(f"--- point {task['id'][:12]} at {time.strftime('%Y-%m-%d %H:%M:%S')} "
                  f"({record['worker']})", flush=True)
            results, summary = _run_flow(task, workdir)
        record.update({"status": "ok", "steps": summary, "results": results})
    except Exception as exc:  # noqa: BLE001 - a failing point is data, not a crash
        if isinstance(exc, HwflowError):
            err = str(exc)
        else:
            err = f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_exc(limit=-4))
        record.update({"status": "failed", "error": err[:4000], "log": str(log_path)})
    record["duration_s"] = round(time.monotonic() - t0, 3)
    record["finished"] = time.time()
    atomic_write_json(workdir / POINT_FILE, record)
    return record


def _run_flow(task: dict[str, Any], workdir: Path) -> tuple[dict[str, Any], dict[str, str]]:
    design = Design.model_validate(task["design_data"])
    _check_layer_semantics(design, task.get("source") or "sweep point")
    if task.get("source"):
        design._source = task["source"]  # type: ignore[attr-defined]
    board = load_board(task["board"])
    ctx = make_context(design, board, Options(engine=task.get("engine", "fast"), quiet=True))
    ctx.workdir = workdir
    ctx.reports_dir = workdir / "report"
    # run_flow reuses a sibling point's training when the train key is the same (StepSpec.board_independent)
    summary = run_flow(ctx, to=task["to"])
    results = read_json(workdir / "results.json")
    results = point_results(ctx, results)
    return results, summary


def point_results(ctx, results: dict[str, Any]) -> dict[str, Any]:
    """results.json trimmed for sweep.json, plus the training extras and the QTools energy."""
    prov = results.get("provenance") or {}
    results["provenance"] = {k: prov.get(k) for k in ("hwflow", "git_commit")}
    train = ctx.step_json("train") or {}
    layers = train.get("layers") or {}
    zeros = sum(v.get("zero_weights", 0) for v in layers.values())
    weights = sum(v.get("weights", 0) for v in layers.values())
    results["train"] = {
        "parameters": train.get("parameters"),
        "nonzero_weights": (weights - zeros) if weights else None,
        "sparsity": (zeros / weights) if weights else None,
        "accuracy_quantized_no_distillation": train.get("accuracy_quantized_no_distillation"),
        "distilled": train.get("distilled"), "pruned": train.get("pruned"),
        "pruning": train.get("pruning"), "distillation": train.get("distillation"),
    }
    # QTools is cheap (~0.1 s) but needs TF and the model: cache it against the train step's key.
    qpath = ctx.path(QTOOLS_FILE)
    key = ctx.keys.get("train")
    cached = None
    if qpath.exists():
        with contextlib.suppress(Exception):
            q = read_json(qpath)
            if q.get("train_key") == key:
                cached = q
    if cached is None:
        try:
            inp = ctx.design.quantization.input
            cached = qtools_energy(load_quantized_model(ctx), inp.bits, inp.integer_bits)
            cached["train_key"] = key
            atomic_write_json(qpath, cached)
        except Exception as exc:  # noqa: BLE001 - an objective missing is not a failed point
            cached = {"energy_pj": None, "energy_sparse_pj": None, "error": f"{type(exc).__name__}: {exc}"}
    results["qtools"] = {k: cached.get(k) for k in ("energy_pj", "energy_sparse_pj", "source", "sparse_source",
                                                     "error") if k in cached}
    return results
