"""Independent training jobs of one simulation seed, spread over spawned processes.

Small networks (width ~24, N ~ 128) do not use a second core inside one torch op, so a seed
whose trainings are independent (one per depth, say) runs them in ``workers`` processes with one
torch thread each. Spawned workers re-import ``__main__``: a script that calls such a
``simulate`` needs the ``if __name__ == "__main__":`` guard. Where processes cannot be used (one
worker or job, inside a daemonic process, a broken pool) the jobs run serially here, with the
same results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["run_jobs", "run_keyed"]


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def _serial(fn: Callable[..., Any], jobs: Sequence[tuple]) -> list[Any]:
    return [fn(*args) for args in jobs]


def run_jobs(fn: Callable[..., Any], jobs: Sequence[tuple], workers: int) -> list[Any]:
    """``[fn(*args) for args in jobs]``, in ``workers`` spawned processes when possible.

    ``fn`` must be a module-level function (picklable). Results come back in the order of
    ``jobs``; put the longest jobs first so that the pool finishes early.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    if workers <= 1 or len(jobs) <= 1 or multiprocessing.current_process().daemon:
        return _serial(fn, jobs)
    ctx = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(
            min(workers, len(jobs)), mp_context=ctx, initializer=_one_thread
        ) as pool:
            futures = [pool.submit(fn, *args) for args in jobs]
            return [f.result() for f in futures]
    except BrokenProcessPool:
        return _serial(fn, jobs)


def run_keyed(
    fn: Callable[..., Any], keys: Sequence[Any], args: tuple, workers: int
) -> dict[Any, Any]:
    """``{key: fn(*args, key)}`` for every key, through :func:`run_jobs` (keys in the order
    given: put the longest first), e.g. one training job per depth of one simulation seed."""
    results = run_jobs(fn, [(*args, key) for key in keys], workers)
    return dict(zip(keys, results, strict=True))
