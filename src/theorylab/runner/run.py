"""``run``: theory and simulation of one experiment at one setting, over seeds, then its checks."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from theorylab.experiments.base import CheckResult, Experiment, params_to_dict
from theorylab.runner.executors import ExecutorSpec
from theorylab.runner.progress import run_tasks
from theorylab.runner.registry import get, unregistered
from theorylab.runner.store import Store
from theorylab.runner.tasks import Task, execute, to_jsonable
from theorylab.theory.fixed_point import SolverStatus

__all__ = ["RunResult", "run", "seed_statistics"]


@dataclass(frozen=True)
class RunResult:
    """Everything ``theorylab run`` reports (``to_dict`` gives the JSON document)."""

    slug: str
    params: dict[str, Any]
    theory: dict[str, Any]
    solver: SolverStatus
    simulation: dict[str, Any] | None  # {"mean", "sem", "seeds"} or None (theory only)
    checks: tuple[CheckResult, ...]
    elapsed_s: float
    timings: dict[str, float]
    variant: str = "main"

    @property
    def passed(self) -> bool:
        return self.solver.converged and all(c.passed for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "slug": self.slug,
                "variant": self.variant,
                "params": self.params,
                "theory": self.theory,
                "solver": self.solver.as_dict(),
                "simulation": self.simulation,
                "checks": [c.as_dict() for c in self.checks],
                "passed": self.passed,
                "elapsed_s": self.elapsed_s,
                "timings": self.timings,
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunResult:
        solver = data.get("solver") or {}
        return cls(
            slug=data["slug"],
            params=dict(data["params"]),
            theory=dict(data["theory"]),
            solver=SolverStatus(
                bool(solver.get("converged", True)),
                int(solver.get("iterations", 0)),
                float(solver.get("residual") or 0.0),
                solver.get("method", ""),
                solver.get("message", ""),
            ),
            simulation=data.get("simulation"),
            checks=tuple(CheckResult(**c) for c in data.get("checks", [])),
            elapsed_s=float(data["elapsed_s"]),
            timings=dict(data.get("timings", {})),
            variant=data.get("variant", "main"),
        )


def seed_statistics(per_seed: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Mean and standard error over seeds of every observable (elementwise for arrays)."""
    mean: dict[str, Any] = {}
    sem: dict[str, Any] = {}
    for name in per_seed[0]:
        stack = np.asarray([np.asarray(s[name], dtype=float) for s in per_seed])
        mean[name] = stack.mean(axis=0)
        if len(per_seed) > 1:
            sem[name] = stack.std(axis=0, ddof=1) / np.sqrt(len(per_seed))
        else:
            sem[name] = np.full_like(mean[name], np.nan)
    return mean, sem


def run(
    experiment: str | Experiment,
    params: Mapping[str, Any] | None = None,
    *,
    preset: str = "quick",
    seeds: int | None = None,
    simulate: bool = True,
    executor: ExecutorSpec | None = None,
    store: str | Path | None = None,
    progress: bool = False,
    variant: str = "main",
) -> RunResult:
    """Theory, simulation over seeds and checks of ``experiment`` at one setting.

    Parameters
    ----------
    experiment
        Slug, arXiv id or :class:`Experiment`.
    params
        Overrides of the Params defaults (values may be strings; they are type-checked).
    preset
        ``"quick"`` (the defaults) or ``"full"`` (the experiment's full size).
    seeds
        Number of simulation seeds (0, 1, ... ``seeds − 1``); default: the experiment's.
    simulate
        If false, only the theory and the theory-only checks run.
    executor
        Where the simulation seeds run (default: in this process).
    store
        If given, seeds already stored there are reused and new ones are stored.
    progress
        Show a progress bar over seeds.
    """
    exp = get(experiment)
    start = time.perf_counter()
    p = exp.make_params(params, preset=preset)
    pdict = params_to_dict(p)
    t0 = time.perf_counter()
    theory_obs, status = exp.split_theory(exp.theory(p))
    theory_s = time.perf_counter() - t0

    sim_summary = None
    mean = sem = None
    sim_s = 0.0
    n_seeds = exp.default_seeds(preset) if seeds is None else seeds
    if simulate and n_seeds > 0:
        t0 = time.perf_counter()
        per_seed = _simulate_seeds(exp, pdict, n_seeds, executor or ExecutorSpec(), store, progress)
        mean, sem = seed_statistics(per_seed)
        sim_summary = {"mean": mean, "sem": sem, "seeds": n_seeds}
        sim_s = time.perf_counter() - t0

    rows: list[CheckResult] = []
    for check in exp.checks:
        rows.extend(check.evaluate(p, theory_obs, mean, sem, exp.axes))
    return RunResult(
        slug=exp.slug,
        params=pdict,
        theory=theory_obs,
        solver=status,
        simulation=sim_summary,
        checks=tuple(rows),
        elapsed_s=time.perf_counter() - start,
        timings={"theory_s": theory_s, "simulation_s": sim_s},
        variant=variant,
    )


def _simulate_seeds(
    exp: Experiment,
    pdict: dict[str, Any],
    n_seeds: int,
    spec: ExecutorSpec,
    store: str | Path | None,
    progress: bool,
) -> list[dict[str, Any]]:
    tasks = [Task.make(exp.slug, pdict, seed, "simulation") for seed in range(n_seeds)]
    results: dict[int, dict[str, Any]] = {}
    root = None
    if store is not None:
        st = Store(Path(store))
        root = str(st.root)
        for t in tasks:
            rec = st.read(exp.slug, t.key)
            if rec is not None:
                results[t.seed] = rec["observables"]
    todo = [t for t in tasks if t.seed not in results]
    carried = unregistered(exp)
    for fut in run_tasks(
        spec,
        execute,
        [(t, root, carried) for t in todo],
        desc=f"{exp.slug} seeds",
        progress=progress,
    ):
        rec = fut.result()
        results[rec["seed"]] = rec["observables"]
    return [results[s] for s in range(n_seeds)]
