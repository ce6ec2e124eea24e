"""Where points run: a local process pool (default) or a Dask cluster.

Processes, not threads: TensorFlow keeps global state (graphs, RNG, thread pools) and holds
the GIL in places, so two points in one process would neither be isolated nor parallel.
The pool uses the ``spawn`` start method: forking a parent that has already touched
TensorFlow or OpenMP can deadlock the child, and ``spawn`` behaves the same on every OS.

Dask: ``tcp://host:port`` connects to a running scheduler (workers anywhere that can import
hwflow and see the same build folder, e.g. started by dask-jobqueue on Slurm);
``local-dask`` starts a LocalCluster with one single-threaded worker process per --workers.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterator

from ..errors import BadInput, ToolMissing, Unreachable
from .worker import init_worker, run_point

MAX_ATTEMPTS = 2  # a point whose worker process dies is tried once more, then recorded as failed


SCHEMES = ("tcp://", "tls://", "ucx://", "inproc://")


def check_scheduler(scheduler: str | None) -> None:
    """Reject a malformed --scheduler before anything runs (not only when a point is sent)."""
    if scheduler is None or scheduler == "local-dask":
        return
    if not scheduler.startswith(SCHEMES) or len(scheduler.split("://", 1)[1]) == 0:
        raise BadInput(f"--scheduler {scheduler!r}: give tcp://host:port (a running Dask scheduler) or local-dask")


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def threads_per_worker(workers: int) -> int:
    """Cores divided among the workers (at least 1): N workers never oversubscribe the CPU."""
    env = os.environ.get("HWFLOW_SWEEP_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, cpu_count() // max(1, workers))


def _failed(task: dict[str, Any], why: str) -> dict[str, Any]:
    return {"id": task["id"], "index": task["index"], "board": task["board"], "design": task["values"],
            "to": task["to"], "workdir": task["workdir"], "status": "failed", "error": why}


def run_local(tasks: list[dict[str, Any]], workers: int, root: str,
              on_start: Callable[[dict[str, Any]], None] | None = None) -> Iterator[dict[str, Any]]:
    """Run tasks on a spawn-context process pool; yield each record as it completes."""
    workers = max(1, min(workers, len(tasks)))
    threads = tasks[0].get("threads", 1) if tasks else 1
    pending = list(tasks)
    attempts: dict[str, int] = {}
    ctx = multiprocessing.get_context("spawn")
    while pending:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_worker,
                                   initargs=(threads, root))
        futures: dict[Future, dict[str, Any]] = {}
        try:
            for t in pending:
                attempts[t["id"]] = attempts.get(t["id"], 0) + 1
                futures[pool.submit(run_point, t)] = t
                if on_start:
                    on_start(t)
            pending = []
            not_done = set(futures)
            broken = False
            while not_done:
                done, not_done = wait(not_done, return_when=FIRST_COMPLETED)
                for fut in done:
                    task = futures[fut]
                    try:
                        yield fut.result()
                    except BrokenProcessPool:
                        broken = True
                        if attempts[task["id"]] < MAX_ATTEMPTS:
                            pending.append(task)
                        else:
                            yield _failed(task, "the worker process died (killed, out of memory or a crash) "
                                                f"twice while running this point; see {task['workdir']}/sweep.log")
                    except Exception as exc:  # noqa: BLE001 - e.g. a record that cannot be unpickled
                        yield _failed(task, f"{type(exc).__name__}: {exc}")
            if broken:
                logging.getLogger("hwflow.sweep").warning("worker pool broke; restarting it for %d point(s)",
                                                          len(pending))
            pool.shutdown(wait=True, cancel_futures=True)
        except BaseException:
            # Ctrl-C, or the consumer stopped: do not wait for running points (they may take
            # minutes). Their work folders say "running", and the next sweep redoes them.
            _stop_pool(pool)
            raise


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        try:
            proc.terminate()
        except Exception:  # noqa: BLE001 - already gone
            pass
    for proc in procs:
        proc.join(timeout=5)


def _dask_env(threads: int, root: str) -> dict[str, str]:
    t = str(threads)
    return {"OMP_NUM_THREADS": t, "OPENBLAS_NUM_THREADS": t, "MKL_NUM_THREADS": t, "TF_NUM_INTRAOP_THREADS": t,
            "TF_NUM_INTEROP_THREADS": t, "TF_CPP_MIN_LOG_LEVEL": "3", "HWFLOW_ROOT": root}


def run_dask(tasks: list[dict[str, Any]], scheduler: str, workers: int, root: str,
             on_start: Callable[[dict[str, Any]], None] | None = None) -> Iterator[dict[str, Any]]:
    """Run tasks on Dask (a scheduler address or ``local-dask``); yield records as they complete."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        raise ToolMissing("dask.distributed is not installed", hint="pip install 'dask[distributed]'") from None
    cluster = None
    if scheduler == "local-dask":
        n = max(1, min(workers, len(tasks)))
        threads = tasks[0].get("threads", 1) if tasks else 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR, env=_dask_env(threads, root))
        client = Client(cluster)
    elif scheduler.startswith(SCHEMES):
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise Unreachable(f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                              hint="start one (`dask scheduler`, or dask-jobqueue on Slurm; see docs/sweep.md), "
                                   "or run without --scheduler for a local process pool") from None
    else:
        raise BadInput(f"--scheduler {scheduler!r}: give tcp://host:port or local-dask")
    try:
        futures = {}
        for t in tasks:
            fut = client.submit(run_point, t, pure=False, key=f"hwflow-point-{t['id'][:16]}-{os.getpid()}")
            futures[fut] = t
            if on_start:
                on_start(t)
        for fut in as_completed(list(futures)):
            task = futures[fut]
            try:
                yield fut.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker, lost connection...
                yield _failed(task, f"{type(exc).__name__}: {exc}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
