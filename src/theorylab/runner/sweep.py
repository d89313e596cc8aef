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

from theorylab._version import __version__
from theorylab.experiments.base import Experiment, make_params, params_to_dict
from theorylab.experiments.result import DRAWS_KEY
from theorylab.runner.consolidate import consolidated_frame, stored_keys
from theorylab.runner.executors import ExecutorSpec
from theorylab.runner.progress import run_tasks
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
    exp: Experiment,
    points: list[dict[str, Any]],
    seeds: int,
    simulate: bool,
    *,
    device: str = "cpu",
    threads: int | None = None,
) -> list[Task]:
    """The theory task of every point and, with ``simulate``, one task per seed."""
    opts = {"protocol": exp.protocol, "device": device, "threads": threads}
    tasks = []
    for pdict in points:
        tasks.append(Task.make(exp.slug, pdict, None, "theory", **opts))
        if simulate:
            tasks.extend(Task.make(exp.slug, pdict, s, "simulation", **opts) for s in range(seeds))
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
    device: str = "cpu",
) -> SweepSummary:
    """Run ``experiment`` over ``grid`` (name → values), storing one record per task.

    A grid value may itself be a tuple for a tuple-valued parameter. Tasks already stored
    (same experiment, parameters, seed, kind and protocol version) are skipped.
    """
    exp = get(experiment)
    if simulate:
        exp.check_device(device)
    if seeds is not None and simulate and int(seeds) < 1:
        raise ValueError(f"seeds must be >= 1 with simulate, got {seeds!r}")
    start = time.perf_counter()
    base = {**(exp.full if preset == "full" else {}), **(params or {})}
    points = expand_grid(exp, base, grid)
    n_seeds = exp.default_seeds(preset) if seeds is None else seeds
    spec = executor or ExecutorSpec()
    all_tasks = sweep_tasks(
        exp, points, n_seeds, simulate, device=device, threads=spec.threads_per_task
    )
    tasks = list({t.key: t for t in all_tasks}.values())
    st = Store(Path(store))
    st.clean_temporary(exp.slug)
    done = stored_keys(st, exp.slug)
    todo = [t for t in tasks if t.key not in done]
    failed: list[str] = []
    unconverged = 0
    carried = unregistered(exp)
    for fut in run_tasks(
        spec,
        execute,
        [(t, str(st.root), carried) for t in todo],
        desc=f"sweep {exp.slug}",
        progress=progress,
    ):
        try:
            rec = fut.result()
        except Exception as exc:  # reported in the summary; the sweep goes on
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


def load(
    experiment: str | Experiment,
    store: str | Path = DEFAULT_STORE,
    *,
    all_protocols: bool = False,
) -> pd.DataFrame:
    """All stored records of an experiment as a long ("tidy") DataFrame.

    One row per (task, observable, element): columns ``kind``, ``seed``, the parameters (a grid
    parameter holding a single value, as in a sweep over it, is a scalar column like the
    others), the coordinates of the element along its axes (a grid parameter such as ``alpha``
    or a declared dimension such as ``layer``), ``observable``, ``value``, ``converged`` (theory
    rows), ``protocol`` and ``key``. Mean and sem over seeds are then a ``groupby`` away. Only
    records of the experiment's current protocol are returned unless ``all_protocols``.
    """
    exp = get(experiment)
    tag = f"{'all' if all_protocols else f'p{exp.protocol}'}-{__version__}-{_ROWS_FORMAT}"
    return consolidated_frame(
        Store(Path(store)),
        exp.slug,
        tag,
        lambda rec: _record_rows(exp, rec, all_protocols),
        _frame,
        _arranged,
    )


_ROWS_FORMAT = 1  # bump when the rows of a record change: cached rows are then rebuilt


def _record_rows(
    exp: Experiment, rec: dict[str, Any], all_protocols: bool
) -> dict[str, list[Any]] | None:
    """The rows of one record in :func:`load`'s frame, as columns of equal length (None for
    another protocol or a record without elements)."""
    if not all_protocols and rec.get("protocol", 1) != exp.protocol:
        return None
    p = make_params(exp.params, rec["params"])
    fixed = {
        k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in rec["params"].items()
    }
    fixed = {k: v for k, v in fixed.items() if not isinstance(v, list)}
    blocks = [
        _element_columns(exp, p, name, value)
        for name, value in rec["observables"].items()
        if name != DRAWS_KEY  # a seed's draws: its mean is the row (see SimulationStats)
    ]
    n = sum(len(b["value"]) for b in blocks)
    if n == 0:
        return None
    axes = list(dict.fromkeys(a for b in blocks for a in b if a not in ("observable", "value")))
    # an element without one of the axes takes the parameter's single value there, if any
    cols = {
        a: [x for b in blocks for x in (b.get(a) or [fixed.get(a)] * len(b["value"]))]
        for a in axes
    }
    cols["observable"] = [x for b in blocks for x in b["observable"]]
    cols["value"] = [x for b in blocks for x in b["value"]]
    converged = rec.get("solver", {}).get("converged") if rec["kind"] == "theory" else None
    constant = {
        "kind": rec["kind"],
        "seed": rec["seed"],
        **{k: v for k, v in fixed.items() if k not in cols},
        "converged": converged,
        "protocol": rec.get("protocol", 1),
        "key": rec["key"],
    }
    return cols | {k: [v] * n for k, v in constant.items()}


_HEAD = ["kind", "seed"]
_TAIL = ["observable", "value", "converged", "protocol", "key"]


def _frame(chunks: list[dict[str, list[Any]]]) -> pd.DataFrame:
    """One frame of the records' column chunks (a column a chunk lacks is None there)."""
    if not chunks:
        return pd.DataFrame(columns=_HEAD + _TAIL)
    names = list(dict.fromkeys(k for chunk in chunks for k in chunk))
    columns: dict[str, list[Any]] = {k: [] for k in names}
    for chunk in chunks:
        n = len(chunk["value"])
        for k in names:
            columns[k].extend(chunk.get(k) or [None] * n)
    df = pd.DataFrame(columns)
    df["seed"] = df["seed"].astype("Int64")
    return _arranged(df)


def _arranged(df: pd.DataFrame) -> pd.DataFrame:
    """Columns in one order whatever the order of the rows: kind, seed, the parameters and
    coordinates by name, then observable, value, converged, protocol, key."""
    fixed = set(_HEAD + _TAIL)
    columns = _HEAD + sorted(c for c in df.columns if c not in fixed) + _TAIL
    return df if list(df.columns) == columns else df[columns]


def _element_columns(exp: Experiment, params: Any, name: str, value: Any) -> dict[str, list]:
    """The elements of one observable as columns: its axes' coordinates, name, value. A value
    whose shape does not match its declared axes is kept whole, in one row."""
    obs = exp.observables.get(name)
    axes = obs.axes if obs is not None else ()
    try:
        arr = np.asarray(value, dtype=float)
        grids = exp.grids(params, name)
        if arr.shape != tuple(len(g) for g in grids):
            raise ValueError(name)
    except (ValueError, TypeError):
        return {"observable": [name], "value": [value]}
    points = list(itertools.product(*grids))  # C order, as arr.ravel()
    cols = {a: [pt[k] for pt in points] for k, a in enumerate(axes)}
    flat = arr.ravel().tolist()
    return cols | {"observable": [name] * len(flat), "value": flat}
