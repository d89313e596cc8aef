"""A task is (slug, params, seed, kind); executing one gives a record, written atomically.

Tasks are plain picklable data and :func:`execute` is a module-level function, so the same task
runs in-process, in a process pool, on a dask worker or in a Slurm job.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from theorylab._version import __version__
from theorylab.experiments.params import make_params
from theorylab.experiments.result import to_jsonable

__all__ = ["Task", "execute", "thread_limit", "to_jsonable"]

Kind = Literal["theory", "simulation"]


@dataclass(frozen=True)
class Task:
    """One unit of work: the theory at a point, or one seed of its simulation.

    The key hashes (slug, params, seed, kind, protocol): the experiment's protocol version, not
    the package version, so records survive upgrades that do not change how a simulation is
    done. ``device`` and ``threads`` say where and how wide the task runs; they are not part
    of the key (a seed gives the same problem on every device).
    """

    slug: str
    params: str  # canonical JSON of the params dict (hashable, order-independent)
    seed: int | None
    kind: Kind
    protocol: int = 1
    device: str = "cpu"
    threads: int | None = None

    @classmethod
    def make(
        cls,
        slug: str,
        params: dict[str, Any],
        seed: int | None,
        kind: Kind,
        *,
        protocol: int = 1,
        device: str = "cpu",
        threads: int | None = None,
    ) -> Task:
        if kind == "theory":
            seed = None
        elif kind != "simulation":
            raise ValueError(f"kind must be 'theory' or 'simulation', got {kind!r}")
        elif seed is None:
            raise ValueError("a simulation task needs a seed")
        else:
            seed = int(seed)  # numpy integers too (the key and the record are JSON)
        canonical = json.dumps(to_jsonable(params), sort_keys=True, separators=(",", ":"))
        return cls(slug, canonical, seed, kind, int(protocol), device, threads)

    @property
    def params_dict(self) -> dict[str, Any]:
        return json.loads(self.params)

    @property
    def key(self) -> str:
        """Content hash of the task and of the experiment's protocol version."""
        blob = json.dumps([self.slug, self.params, self.seed, self.kind, self.protocol])
        return hashlib.sha256(blob.encode()).hexdigest()[:24]


def execute(task: Task, store_root: str | None = None, experiment: Any = None) -> dict[str, Any]:
    """Run ``task`` and return its record; with ``store_root``, also write it there atomically.

    ``experiment`` is the :class:`Experiment` to run; by default the registered one of
    ``task.slug`` (looked up in the worker, so that only the task is sent to it).
    """
    from theorylab.runner.registry import get

    exp = get(task.slug) if experiment is None else experiment
    params = make_params(exp.params, task.params_dict)
    with thread_limit(task.threads, torch_too=task.kind == "simulation"):
        return _execute(task, exp, params, store_root)


@contextlib.contextmanager
def thread_limit(threads: int | None, *, torch_too: bool = False):
    """Limit BLAS (threadpoolctl) and torch intra-op threads to ``threads`` for the block, so
    that parallel workers share the cores instead of spinning against each other.

    torch is limited when it is already imported, or imported here when ``torch_too`` (a
    simulation imports it anyway; a theory task never pays for it)."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    if torch_too and _torch_if_loaded() is None:
        with contextlib.suppress(ImportError):
            import torch
    torch = _torch_if_loaded()
    before = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(limits=threads):
        if torch is not None:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if torch is not None and before is not None:
                torch.set_num_threads(before)


def _torch_if_loaded():
    import sys

    return sys.modules.get("torch")


def _execute(task: Task, exp: Any, params: Any, store_root: str | None) -> dict[str, Any]:
    start = time.perf_counter()
    record: dict[str, Any] = {
        "key": task.key,
        "slug": task.slug,
        "kind": task.kind,
        "seed": task.seed,
        "params": task.params_dict,
        "protocol": task.protocol,
        "version": __version__,
    }
    if task.kind == "theory":
        observables, status = exp.split_theory(exp.theory(params))
        record["solver"] = status.as_dict()
    else:
        observables = exp.simulate(params, task.seed, device=task.device)
        record["device"] = task.device
    record["observables"] = to_jsonable(observables)
    record["elapsed_s"] = time.perf_counter() - start
    record["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    record["host"] = socket.gethostname()
    record["pid"] = os.getpid()
    if store_root is not None:
        from theorylab.runner.store import Store

        # a theory record costs milliseconds to recompute, less than its fsync: it is written
        # atomically but not forced to disk (see Store.write for what that trades)
        Store(Path(store_root)).write(record, fsync=task.kind == "simulation")
    return record
