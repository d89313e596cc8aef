"""``sweep``: an experiment over a grid of settings, every task stored, resumable.

The grid is the Cartesian product of the ``-g name=v1,v2,...`` values on top of a base setting.
Each point gives one theory task and (with ``simulate``) one task per seed. Tasks whose record is
already in the store are skipped, so a killed sweep, run again, does only what is missing.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theorylab.experiments.base import Experiment, iter_elements, make_params, params_to_dict
from theorylab.runner.executors import ExecutorSpec, open_executor, submit_all
from theorylab.runner.progress import completed
from theorylab.runner.registry import get, unregistered
from theorylab.runner.store import DEFAULT_STORE, Store
from theorylab.runner.tasks import Task, execute

__all__ = ["SweepSummary", "expand_grid", "load", "sweep", "sweep_tasks"]


@dataclass(frozen=True)
class SweepSummary:
    slug: str
    points: int
    tasks: int
    skipped: int
    ran: int
    failed: int
    unconverged: int
    store: str
    elapsed_s: float
    errors: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def expand_grid(
    exp: Experiment, base: Mapping[str, Any], grid: Mapping[str, Sequence[Any]]
) -> list[dict[str, Any]]:
    """Every grid point as a validated params dict (the grid values are type-checked)."""
    names = list(grid)
    points = []
    for combo in itertools.product(*(grid[n] for n in names)):
        overrides = {**base, **dict(zip(names, combo, strict=True))}
        points.append(params_to_dict(make_params(exp.params, overrides)))
    return points


def sweep_tasks(
    exp: Experiment, points: list[dict[str, Any]], seeds: int, simulate: bool
) -> list[Task]:
    tasks = []
    for pdict in points:
        tasks.append(Task.make(exp.slug, pdict, None, "theory"))
        if simulate:
            tasks.extend(Task.make(exp.slug, pdict, s, "simulation") for s in range(seeds))
    return tasks


def sweep(
    experiment: str | Experiment,
    grid: Mapping[str, Sequence[Any]],
    params: Mapping[str, Any] | None = None,
    *,
    preset: str = "quick",
    simulate: bool = False,
    seeds: int | None = None,
    executor: ExecutorSpec | None = None,
    store: str | Path = DEFAULT_STORE,
    progress: bool = False,
) -> SweepSummary:
    """Run ``experiment`` over ``grid`` (name → values), storing one record per task.

    A grid value may itself be a tuple for a tuple-valued parameter. Tasks already stored
    (same experiment, parameters, seed, kind and package version) are skipped.
    """
    exp = get(experiment)
    start = time.perf_counter()
    base = {**(exp.full if preset == "full" else {}), **(params or {})}
    points = expand_grid(exp, base, grid)
    n_seeds = exp.default_seeds(preset) if seeds is None else seeds
    tasks = sweep_tasks(exp, points, n_seeds, simulate)
    st = Store(Path(store))
    done = st.keys(exp.slug)
    todo = [t for t in tasks if t.key not in done]
    failed: list[str] = []
    unconverged = 0
    if todo:
        with open_executor(executor or ExecutorSpec()) as ex:
            carried = unregistered(exp)
            futures = submit_all(ex, execute, [(t, str(st.root), carried) for t in todo])
            for fut in completed(
                futures, total=len(todo), desc=f"sweep {exp.slug}", enabled=progress
            ):
                try:
                    rec = fut.result()
                except Exception as exc:
                    failed.append(f"{type(exc).__name__}: {exc}")
                    continue
                if rec["kind"] == "theory" and not rec["solver"]["converged"]:
                    unconverged += 1
    return SweepSummary(
        exp.slug,
        len(points),
        len(tasks),
        len(tasks) - len(todo),
        len(todo) - len(failed),
        len(failed),
        unconverged,
        str(st.root),
        time.perf_counter() - start,
        tuple(failed[:10]),
    )


def load(experiment: str | Experiment, store: str | Path = DEFAULT_STORE) -> pd.DataFrame:
    """All stored records of an experiment as a long ("tidy") DataFrame.

    One row per (task, observable, element): columns ``kind``, ``seed``, the scalar parameters,
    the coordinates of the element along its axes (e.g. ``alpha``; NaN for observables without
    that axis), ``observable``, ``value``, ``converged`` (theory rows) and ``key``. Mean and sem
    over seeds are then a ``groupby`` away.
    """
    exp = get(experiment)
    axes = exp.axes
    rows: list[dict[str, Any]] = []
    for rec in Store(Path(store)).records(exp.slug):
        p = make_params(exp.params, rec["params"])
        scalars = {k: v for k, v in rec["params"].items() if not isinstance(v, list)}
        converged = rec.get("solver", {}).get("converged") if rec["kind"] == "theory" else None
        for name, value in rec["observables"].items():
            for coords, x in _elements(value, axes.get(name, ()), p):
                rows.append(
                    {
                        "kind": rec["kind"],
                        "seed": rec["seed"],
                        **scalars,
                        **coords,
                        "observable": name,
                        "value": x,
                        "converged": converged,
                        "key": rec["key"],
                    }
                )
    return pd.DataFrame(rows)


def _elements(value: Any, ax: tuple[str, ...], params: Any):
    try:
        yield from iter_elements(np.asarray(value, dtype=float), ax, params)
    except (ValueError, TypeError):
        yield {}, value
