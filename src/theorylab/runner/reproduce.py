"""``reproduce``: every experiment's main run and variants, saved and reported.

The orchestration lives here (the runner), so that the report only renders what it is given.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from theorylab.experiments.base import Experiment, params_to_dict
from theorylab.experiments.result import RunResult
from theorylab.report.html import save_results, write_report
from theorylab.runner.executors import ExecutorSpec, open_executor, submit_all
from theorylab.runner.registry import all_experiments, get, unregistered
from theorylab.runner.run import run, run_result, seed_tasks, timed_theory
from theorylab.runner.tasks import execute, thread_limit

__all__ = ["reproduce", "reproduction_plan"]


def reproduction_plan(
    experiments: Iterable[Experiment],
) -> list[tuple[Experiment, str, dict, int | None]]:
    """(experiment, variant, overrides, quick-size seeds or None for the experiment's) of every
    run of the reproduction, in catalogue order."""
    return [
        spec
        for exp in experiments
        for spec in [
            (exp, "main", {}, None),
            *((exp, v.name, dict(v.overrides), v.seeds) for v in exp.variants),
        ]
    ]


def reproduce(
    slugs: Sequence[str] | None = None,
    *,
    preset: str = "quick",
    out: str | Path = "report",
    executor: ExecutorSpec | None = None,
    device: str = "cpu",
    progress: bool = False,
) -> tuple[list[RunResult], Path]:
    """Run every check of the experiments (all by default), save the results under ``out`` and
    write the HTML report. Returns the results and the report's index path.

    With a parallel executor every seed of every run is queued at once on one pool (in plan
    order), and this process computes each run's theory while the workers simulate: no worker
    waits for a run's theory or for the last seed of a run with fewer seeds than workers. A
    run's ``elapsed_s`` is then the work it cost (its theory plus the sum of its seeds' times),
    not a wall time of its own. In-process (one job) the runs go one after the other.

    Each run's result is written as soon as it ends, so an interrupted reproduction keeps what
    it finished (``theorylab report`` renders it)."""
    exps = [get(s) for s in slugs] if slugs else list(all_experiments().values())
    plan = reproduction_plan(exps)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    spec = executor or ExecutorSpec()
    one_by_one = spec.name == "local" and spec.jobs == 1
    runs = _one_by_one if one_by_one else _pooled
    results = runs(plan, preset, spec, device, progress, out)
    index = write_report(out, {e.slug: e for e in exps} | all_experiments())
    return results, index


Plan = list[tuple[Experiment, str, dict, int | None]]


def _one_by_one(
    plan: Plan, preset: str, spec: ExecutorSpec, device: str, progress: bool, out: Path
) -> list[RunResult]:
    from tqdm.auto import tqdm

    results = []
    bar = tqdm(plan, desc="reproduce", disable=not progress, leave=False, dynamic_ncols=True)
    for exp, variant, overrides, seeds in bar:
        bar.set_postfix_str(f"{exp.slug} ({variant})")
        results.append(
            run(
                exp,
                overrides,
                preset=preset,
                seeds=seeds if preset == "quick" else None,
                executor=spec,
                progress=progress,
                variant=variant,
                device=exp.simulation_device(device),
            )
        )
        save_results(out, results[-1:])  # each run is kept as soon as it ends
    return results


def _pooled(
    plan: Plan, preset: str, spec: ExecutorSpec, device: str, progress: bool, out: Path
) -> list[RunResult]:
    from tqdm.auto import tqdm

    runs = []
    for exp, variant, overrides, seeds in plan:
        p = exp.make_params(overrides, preset=preset)
        n = seeds if (preset == "quick" and seeds is not None) else exp.default_seeds(preset)
        dev = exp.simulation_device(device)
        runs.append((exp, variant, p, seed_tasks(exp, params_to_dict(p), n, spec, dev)))
    total = sum(len(tasks) for *_, tasks in runs)
    results: list[RunResult] = []
    lock = threading.Lock()
    with (
        open_executor(spec) as ex,
        tqdm(total=total, desc="reproduce", unit="seed", disable=not progress, leave=False,
             dynamic_ncols=True) as bar,
    ):
        def finished(label: str) -> Any:
            def callback(_fut: Any) -> None:
                with lock:
                    bar.update(1)
                    bar.set_postfix_str(label, refresh=False)
            return callback

        queued = []
        for exp, variant, _, tasks in runs:
            futures = submit_all(ex, execute, [(t, None, unregistered(exp)) for t in tasks])
            for fut, task in zip(futures, tasks, strict=True):
                fut.add_done_callback(finished(f"{exp.slug} ({variant}) seed {task.seed}"))
            queued.append(futures)
        try:
            for (exp, variant, p, _), futures in zip(runs, queued, strict=True):
                with lock:
                    bar.set_description_str(f"reproduce {exp.slug} ({variant})")
                with thread_limit(spec.threads_per_task):  # the workers hold the other cores
                    theory_obs, status, theory_s = timed_theory(exp, p)
                records = sorted((f.result() for f in futures), key=lambda r: r["seed"])
                sim_s = sum(float(r["elapsed_s"]) for r in records)
                results.append(
                    run_result(
                        exp, p, theory_obs, status, [r["observables"] for r in records],
                        elapsed_s=theory_s + sim_s,
                        timings={"theory_s": theory_s, "simulation_s": sim_s},
                        variant=variant, device=exp.simulation_device(device),
                    )
                )
                save_results(out, results[-1:])  # each run is kept as soon as it ends
        except BaseException:  # Ctrl-C or a failed seed: do not wait for the queued rest
            for futures in queued:
                for fut in futures:
                    fut.cancel()
            raise
    return results
