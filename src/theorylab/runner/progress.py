"""Run tasks on an executor and yield them as they finish, with a progress bar (tqdm, ETA)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, as_completed

from tqdm.auto import tqdm

from theorylab.runner.executors import ExecutorSpec, SerialExecutor, open_executor, submit_all

__all__ = ["run_tasks"]


def run_tasks(
    spec: ExecutorSpec, fn: Callable, args: list[tuple], *, desc: str, progress: bool
) -> Iterator[Future]:
    """Run ``fn(*a)`` for every ``a`` on the executor of ``spec``; yield finished futures.

    The bar (on stderr, silent unless ``progress``) advances as tasks finish; in-process
    execution runs each task as the loop reaches it, so the bar and ETA stay truthful there too.
    """
    if not args:  # nothing to do: do not start a pool, a cluster or a job array
        return
    with (
        open_executor(spec) as ex,
        tqdm(
            total=len(args),
            desc=desc,
            disable=not progress,
            unit="task",
            leave=False,
            dynamic_ncols=True,
        ) as bar,
    ):
        if isinstance(ex, SerialExecutor):
            for a in args:
                fut = ex.submit(fn, *a)
                bar.update(1)
                yield fut
            return
        for fut in as_completed(submit_all(ex, fn, args)):
            bar.update(1)
            yield fut
