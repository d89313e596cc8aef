"""``run``: theory and simulation of one experiment at one setting, over seeds, then its checks."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from theorylab.experiments.base import Experiment, params_to_dict
from theorylab.experiments.result import RunResult, SimulationStats
from theorylab.runner.executors import ExecutorSpec
from theorylab.runner.progress import run_tasks
from theorylab.runner.registry import get, unregistered
from theorylab.runner.store import Store
from theorylab.runner.tasks import Task, execute

__all__ = ["RunResult", "run", "run_result", "seed_tasks", "timed_theory"]


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
    device: str = "cpu",
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
        Number of simulation seeds (0, 1, ... ``seeds − 1``, at least 1); default: the
        experiment's.
    simulate
        If false, only the theory and the theory-only checks run.
    executor
        Where the simulation seeds run (default: in this process).
    store
        If given, seeds already stored there are reused and new ones are stored.
    progress
        Show a progress bar over seeds.
    device
        torch device of the simulations (``"cpu"``, ``"cuda"``, ...); ``ValueError`` for an
        experiment that simulates on the CPU only (:attr:`Experiment.cpu_only`).

    Returns
    -------
    RunResult
        ``passed`` only if the theory converged, at least one check ran, and all passed.
    """
    exp = get(experiment)
    if simulate:
        exp.check_device(device)
    if seeds is not None and (isinstance(seeds, bool) or int(seeds) < 1):
        raise ValueError(f"seeds must be >= 1, got {seeds!r} (use simulate=False for theory only)")
    start = time.perf_counter()
    p = exp.make_params(params, preset=preset)
    theory_obs, status, theory_s = timed_theory(exp, p)

    per_seed = None
    sim_s = 0.0
    if simulate:
        n_seeds = exp.default_seeds(preset) if seeds is None else int(seeds)
        t0 = time.perf_counter()
        per_seed = _simulate_seeds(
            exp, params_to_dict(p), n_seeds, executor or ExecutorSpec(), store, progress, device
        )
        sim_s = time.perf_counter() - t0
    return run_result(
        exp, p, theory_obs, status, per_seed,
        elapsed_s=time.perf_counter() - start,
        timings={"theory_s": theory_s, "simulation_s": sim_s},
        variant=variant, device=device,
    )


def timed_theory(exp: Experiment, p: Any) -> tuple[dict[str, Any], Any, float]:
    """``(observables, solver status, seconds)`` of ``exp.theory(p)``."""
    t0 = time.perf_counter()
    theory_obs, status = exp.split_theory(exp.theory(p))
    return theory_obs, status, time.perf_counter() - t0


def run_result(
    exp: Experiment,
    p: Any,
    theory_obs: dict[str, Any],
    status: Any,
    per_seed: list[dict[str, Any]] | None,
    *,
    elapsed_s: float,
    timings: dict[str, float],
    variant: str,
    device: str,
) -> RunResult:
    """The :class:`RunResult` of a run: simulation statistics over the seeds and every check."""
    stats = SimulationStats.from_seeds(per_seed) if per_seed is not None else None
    rows = exp.evaluate(
        p,
        theory_obs,
        stats.mean if stats else None,
        stats.sem if stats else None,
        stats.seeds if stats else 0,
    )
    return RunResult(
        slug=exp.slug,
        params=p,
        theory=theory_obs,
        solver=status,
        simulation=stats,
        checks=tuple(rows),
        elapsed_s=elapsed_s,
        timings=timings,
        variant=variant,
        device=device,
    )


def seed_tasks(
    exp: Experiment, pdict: dict[str, Any], n_seeds: int, spec: ExecutorSpec, device: str
) -> list[Task]:
    """The simulation tasks of seeds ``0 … n_seeds − 1`` at ``pdict``."""
    return [
        Task.make(
            exp.slug,
            pdict,
            seed,
            "simulation",
            protocol=exp.protocol,
            device=device,
            threads=spec.threads_per_task,
        )
        for seed in range(n_seeds)
    ]


def _simulate_seeds(
    exp: Experiment,
    pdict: dict[str, Any],
    n_seeds: int,
    spec: ExecutorSpec,
    store: str | Path | None,
    progress: bool,
    device: str,
) -> list[dict[str, Any]]:
    tasks = seed_tasks(exp, pdict, n_seeds, spec, device)
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
