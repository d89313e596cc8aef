"""``reproduce``: every experiment's main run and variants, saved and reported.

The orchestration lives here (the runner), so that the report only renders what it is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from theorylab.experiments.base import Experiment
from theorylab.experiments.result import RunResult
from theorylab.report.html import save_results, write_report
from theorylab.runner.executors import ExecutorSpec
from theorylab.runner.registry import all_experiments, get
from theorylab.runner.run import run

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

    Each run's result is written as soon as it ends, so an interrupted reproduction keeps what
    it finished (``theorylab report`` renders it)."""
    from tqdm.auto import tqdm

    exps = [get(s) for s in slugs] if slugs else list(all_experiments().values())
    plan = reproduction_plan(exps)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
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
                executor=executor,
                progress=progress,
                variant=variant,
                device=device,
            )
        )
        save_results(out, results[-1:])  # each run is kept as soon as it ends
    index = write_report(out, {e.slug: e for e in exps} | all_experiments())
    return results, index
