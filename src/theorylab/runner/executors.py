"""Executors: where tasks run. All follow ``concurrent.futures.Executor``.

* ``local``  – this machine: in-process for one job, else a process pool (``--jobs``).
* ``dask``   – ``dask.distributed``: a scheduler address, or a LocalCluster of ``jobs`` workers
               (dask-jobqueue clusters reach PBS/SGE/Slurm through a scheduler address).
* ``slurm``  – Slurm job arrays through submitit; ``submitit-local`` runs the same code path in
               local subprocesses (for tests and for trying a cluster configuration).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

__all__ = ["EXECUTORS", "ExecutorSpec", "SerialExecutor", "SubmititExecutor", "open_executor"]

EXECUTORS = ("local", "dask", "slurm", "submitit-local")


@dataclass(frozen=True)
class ExecutorSpec:
    """How to run tasks: ``name`` in :data:`EXECUTORS`, ``jobs`` workers, backend options.

    ``address`` is a dask scheduler address; ``folder`` is submitit's log folder; ``slurm`` holds
    extra ``slurm_*`` parameters for submitit (partition, time, memory, ...).
    """

    name: str = "local"
    jobs: int = 1
    address: str | None = None
    folder: str = "theorylab-jobs"
    slurm: dict[str, Any] = field(default_factory=dict)

    @property
    def threads_per_task(self) -> int | None:
        """BLAS/torch threads of each task: this machine's cores shared among ``jobs`` workers
        when they run here (None — the worker's own default — for one in-process job and for
        remote dask/Slurm workers, whose cores this machine does not know)."""
        if self.name == "slurm" or (self.name == "dask" and self.address):
            return None
        if self.name == "local" and self.jobs == 1:
            return None
        return max(1, (os.cpu_count() or 1) // self.jobs)

    def __post_init__(self) -> None:
        if self.name not in EXECUTORS:
            raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got '{self.name}'")
        if self.jobs < 1:
            raise ValueError(f"jobs must be >= 1, got {self.jobs}")


class SerialExecutor(Executor):
    """Runs each task at submission, in this process (one job: no pool overhead, easy debugging)."""

    def submit(self, fn, /, *args, **kwargs):
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut


def _limit_threads(threads: int) -> None:
    """Pool initializer: share the cores between workers instead of oversubscribing them."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass


def _run_chunk(fn: Callable, chunk: list[tuple]) -> list[tuple[bool, Any]]:
    """Run ``fn(*a)`` for every ``a`` of ``chunk`` in one job: ``(True, result)`` or
    ``(False, exception)`` per task, so that one failing task does not fail its neighbours."""
    out: list[tuple[bool, Any]] = []
    for args in chunk:
        try:
            out.append((True, fn(*args)))
        except Exception as exc:
            out.append((False, exc))
    return out


class SubmititExecutor(Executor):
    """``concurrent.futures`` façade over submitit jobs (Slurm job arrays or local subprocesses).

    Tasks submitted through :meth:`map_batch` go out as one job array. On Slurm, each task is
    one array element and ``slurm_array_parallelism = jobs`` bounds how many run at once.
    submitit's local executor starts every job at once, so there the tasks are split into
    ``jobs`` chunks, one local job each (each task still writes its own record when it ends).
    A watcher thread turns finished jobs into resolved futures.
    """

    def __init__(self, cluster: str, folder: str, jobs: int, slurm: dict[str, Any]):
        import submitit

        self._cluster = cluster
        self._jobs = jobs
        self._executor = submitit.AutoExecutor(folder=folder, cluster=cluster)
        params: dict[str, Any] = {"timeout_min": 60}
        if cluster == "slurm":
            params["slurm_array_parallelism"] = jobs
            params.update(
                {k if k.startswith("slurm_") else f"slurm_{k}": v for k, v in slurm.items()}
            )
        self._executor.update_parameters(**params)
        # (job, futures, chunked): a chunked job resolves one future per task of its chunk
        self._pending: list[tuple[Any, list[Future], bool]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                pending = list(self._pending)
            for entry in pending:
                job, futures, chunked = entry
                try:
                    if not job.done():
                        continue
                    result = job.result()
                except BaseException as exc:
                    for fut in futures:
                        fut.set_exception(exc)
                else:
                    if chunked:
                        for fut, (ok, value) in zip(futures, result, strict=True):
                            if ok:
                                fut.set_result(value)
                            else:
                                fut.set_exception(value)
                    else:
                        futures[0].set_result(result)
                with self._lock:
                    self._pending.remove(entry)
            time.sleep(0.2)

    def _track(self, job: Any, n: int = 1, chunked: bool = False) -> list[Future]:
        futures: list[Future] = [Future() for _ in range(n)]
        with self._lock:
            self._pending.append((job, futures, chunked))
        return futures

    def submit(self, fn, /, *args, **kwargs):
        return self._track(self._executor.submit(fn, *args, **kwargs))[0]

    def map_batch(self, fn: Callable, args: list[tuple]) -> list[Future]:
        """Submit ``fn(*a)`` for every ``a`` as one job array (``jobs`` chunks when local)."""
        if self._cluster == "local":
            n = min(self._jobs, len(args))
            chunks = [args[i::n] for i in range(n)]
            with self._executor.batch():
                jobs = [self._executor.submit(_run_chunk, fn, c) for c in chunks]
            by_chunk = [
                self._track(j, len(c), chunked=True) for j, c in zip(jobs, chunks, strict=True)
            ]
            # back in submission order: task k is element k // n of chunk k % n
            return [by_chunk[k % n][k // n] for k in range(len(args))]
        with self._executor.batch():
            jobs = [self._executor.submit(fn, *a) for a in args]
        return [self._track(j)[0] for j in jobs]

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if wait:
            while True:
                with self._lock:
                    if not self._pending:
                        break
                time.sleep(0.2)
        self._stop.set()


@contextlib.contextmanager
def open_executor(spec: ExecutorSpec) -> Iterator[Executor]:
    """Context manager yielding a ready executor for ``spec`` (and closing what it opened)."""
    if spec.name == "local":
        if spec.jobs == 1:
            yield SerialExecutor()
            return
        threads = max(1, (os.cpu_count() or 1) // spec.jobs)
        with ProcessPoolExecutor(
            max_workers=spec.jobs,
            mp_context=get_context("spawn"),
            initializer=_limit_threads,
            initargs=(threads,),
        ) as pool:
            yield pool
        return
    if spec.name == "dask":
        from distributed import Client, LocalCluster

        if spec.address:
            with Client(spec.address) as client:
                yield client.get_executor(pure=False)
            return
        with (
            LocalCluster(
                n_workers=spec.jobs, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client.get_executor(pure=False)
        return
    cluster = "slurm" if spec.name == "slurm" else "local"
    Path(spec.folder).mkdir(parents=True, exist_ok=True)
    ex = SubmititExecutor(cluster, spec.folder, spec.jobs, spec.slurm)
    try:
        yield ex
    finally:
        ex.shutdown(wait=False)


def submit_all(executor: Executor, fn: Callable, args: list[tuple]) -> list[Future]:
    """Submit every ``fn(*a)``: as one job array where the executor supports it."""
    if isinstance(executor, SubmititExecutor):
        return executor.map_batch(fn, args)
    return [executor.submit(fn, *a) for a in args]
