"""A task is (slug, params, seed, kind); executing one gives a record, written atomically.

Tasks are plain picklable data and :func:`execute` is a module-level function, so the same task
runs in-process, in a process pool, on a dask worker or in a Slurm job.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from theorylab._version import __version__
from theorylab.experiments.base import make_params

__all__ = ["Task", "execute", "to_jsonable"]

Kind = Literal["theory", "simulation"]


def to_jsonable(value: Any) -> Any:
    """numpy scalars/arrays → Python floats/lists; non-finite floats → None (strict JSON)."""
    if hasattr(value, "as_dict"):
        return to_jsonable(value.as_dict())
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class Task:
    """One unit of work: the theory at a point, or one seed of its simulation."""

    slug: str
    params: str  # canonical JSON of the params dict (hashable, order-independent)
    seed: int | None
    kind: Kind

    @classmethod
    def make(cls, slug: str, params: dict[str, Any], seed: int | None, kind: Kind) -> Task:
        if kind == "theory":
            seed = None
        elif kind != "simulation":
            raise ValueError(f"kind must be 'theory' or 'simulation', got {kind!r}")
        elif seed is None:
            raise ValueError("a simulation task needs a seed")
        else:
            seed = int(seed)  # numpy integers too (the key and the record are JSON)
        canonical = json.dumps(to_jsonable(params), sort_keys=True, separators=(",", ":"))
        return cls(slug, canonical, seed, kind)

    @property
    def params_dict(self) -> dict[str, Any]:
        return json.loads(self.params)

    @property
    def key(self) -> str:
        """Content hash of the task and of the package version."""
        blob = json.dumps([self.slug, self.params, self.seed, self.kind, __version__])
        return hashlib.sha256(blob.encode()).hexdigest()[:24]


def execute(task: Task, store_root: str | None = None, experiment: Any = None) -> dict[str, Any]:
    """Run ``task`` and return its record; with ``store_root``, also write it there atomically.

    ``experiment`` is the :class:`Experiment` to run; by default the registered one of
    ``task.slug`` (looked up in the worker, so that only the task is sent to it).
    """
    from theorylab.runner.registry import get

    exp = get(task.slug) if experiment is None else experiment
    params = make_params(exp.params, task.params_dict)
    start = time.perf_counter()
    record: dict[str, Any] = {
        "key": task.key,
        "slug": task.slug,
        "kind": task.kind,
        "seed": task.seed,
        "params": task.params_dict,
        "version": __version__,
    }
    if task.kind == "theory":
        observables, status = exp.split_theory(exp.theory(params))
        record["solver"] = status.as_dict()
    else:
        observables = exp.simulate(params, task.seed)
    record["observables"] = to_jsonable(observables)
    record["elapsed_s"] = time.perf_counter() - start
    record["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    record["host"] = socket.gethostname()
    record["pid"] = os.getpid()
    if store_root is not None:
        from theorylab.runner.store import Store

        Store(Path(store_root)).write(record)
    return record
