"""The command line: ``theorylab list|theory|run|sweep|reproduce|report``.

Exit codes: 0 success, 1 a check failed (or a solver did not converge), 2 bad input (one line on
stderr, nothing written). ``--json`` prints one JSON document on stdout and no progress bars.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="theorylab: paper predictions, the simulations they are about, and checks that agree.",
    pretty_exceptions_enable=False,
)


class BadInput(Exception):
    """Bad user input: reported in one line, exit code 2."""


@contextlib.contextmanager
def user_input():
    """Turn the ValueError of a validation (name, type, range) into :class:`BadInput`."""
    try:
        yield
    except ValueError as exc:
        raise BadInput(str(exc)) from None


ParamOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        "-p",
        help="Set a parameter: name=value (comma-separated for a grid parameter, @file.npy or "
        "@file.csv for an array). `theorylab params SLUG` lists them with their allowed values.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document, no progress.")]
SeedsOpt = Annotated[
    int | None,
    typer.Option(
        "--seeds", min=1, help="Number of simulation seeds, >= 1 (default: the experiment's)."
    ),
]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", min=1, help="Parallel workers.")]
ExecOpt = Annotated[
    str, typer.Option("--executor", help="local (default), dask, slurm or submitit-local.")
]
AddressOpt = Annotated[
    str | None,
    typer.Option(
        "--address", help="dask scheduler address (default: a LocalCluster of --jobs workers)."
    ),
]
DeviceOpt = Annotated[
    str | None,
    typer.Option("--device", help="torch device for simulations, e.g. cuda (default cpu)."),
]


def _emit(doc: dict[str, Any]) -> None:
    from theorylab.experiments.result import to_jsonable

    typer.echo(json.dumps(to_jsonable(doc), indent=1, allow_nan=False))


def _experiment(slug: str):
    from theorylab.runner.registry import get

    with user_input():
        return get(slug)


def _split_assignment(text: str, option: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise BadInput(f"{option} expects name=value, got '{text}'")
    return name.strip(), value.strip()


def parse_params(exp, assignments: list[str] | None) -> dict[str, Any]:
    """``-p name=value`` → overrides; a tuple-valued parameter takes comma-separated values."""
    from theorylab.experiments.params import coerce_field, is_grid

    out: dict[str, Any] = {}
    for text in assignments or []:
        name, value = _split_assignment(text, "-p")
        raw: Any = value.split(",") if is_grid(exp.params, name) else value
        with user_input():
            out[name] = coerce_field(exp.params, name, raw)
    return out


def parse_grid(exp, assignments: list[str]) -> dict[str, list[Any]]:
    """``-g name=v1,v2`` → grid values. For a tuple-valued parameter each value is a 1-tuple,
    unless values are separated by ';', in which case each may hold commas: ``alpha=0.5,1;2,4``.
    """
    from theorylab.experiments.params import coerce_field, is_grid

    grid: dict[str, list[Any]] = {}
    for text in assignments:
        name, value = _split_assignment(text, "-g")
        is_tuple = is_grid(exp.params, name)
        parts = value.split(";") if ";" in value else value.split(",")
        with user_input():
            values = [
                coerce_field(exp.params, name, v.split(",") if is_tuple else v)
                for v in parts
                if v != ""
            ]
        if not values:
            raise BadInput(f"-g {name} has no values")
        grid[name] = values
    return grid


def _executor(name: str, jobs: int, address: str | None):
    from theorylab.runner.executors import ExecutorSpec

    with user_input():
        return ExecutorSpec(name=name, jobs=jobs, address=address)


def _validated(exp, overrides: dict[str, Any], preset: str = "quick"):
    with user_input():
        return exp.make_params(overrides, preset=preset)


def _simulation_device(exp, device: str) -> None:
    """Refuse (exit 2) a device the experiment's simulation cannot use."""
    try:
        exp.check_device(device)
    except ValueError:
        raise BadInput(
            f"--device {device}: {exp.slug} simulates on the CPU only ({exp.cpu_only})"
        ) from None


def _device(device: str | None) -> str:
    """The validated device name (``cpu`` when not given); it travels with every task."""
    if not device or device == "cpu":
        return "cpu"
    from theorylab.models.device import check_device

    try:
        check_device(device)
    except ValueError as exc:
        raise BadInput(f"--device {exc}") from None
    return device


def _preset(quick: bool, full: bool) -> str:
    if quick and full:
        raise BadInput("choose one of --quick and --full")
    return "full" if full else "quick"


# --------------------------------------------------------------------------------------------


@app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """The twenty papers: slug, arXiv id, title, and what is implemented."""
    from theorylab.catalogue import PAPERS
    from theorylab.runner.registry import all_experiments

    exps = all_experiments()
    rows = []
    for paper in PAPERS:
        exp = exps.get(paper.slug)
        implemented = (
            []
            if exp is None
            else ["theory", "simulate", "checks"] + (["figure"] if exp.figure else [])
        )
        rows.append(
            {
                "slug": paper.slug,
                "arxiv": paper.arxiv,
                "title": paper.title,
                "family": paper.family,
                "implemented": implemented,
            }
        )
    if as_json:
        _emit({"experiments": rows})
        return
    for r in rows:
        mark = "✓" if r["implemented"] else "·"
        typer.echo(f"{mark} {r['slug']:<26} {r['arxiv']:<11} {r['title'][:70]}")
    n = sum(bool(r["implemented"]) for r in rows)
    typer.echo(f"\n{n} of {len(rows)} implemented (✓). `theorylab run SLUG` checks one.")


@app.command()
def params(slug: str, as_json: JsonOpt = False) -> None:
    """The parameters of an experiment: type, allowed values, default, meaning."""
    from theorylab.experiments.params import field_specs

    exp = _experiment(slug)
    specs = field_specs(exp.params)
    if as_json:
        _emit(
            {
                "slug": exp.slug,
                "params": {
                    name: {"rule": spec.describe(), "description": spec.description}
                    for name, spec in specs.items()
                },
                "cpu_only": exp.cpu_only,
            }
        )
        return
    typer.echo(f"{exp.slug} (arXiv {exp.arxiv}): -p name=value; grid parameters take v1,v2,...")
    for name, spec in specs.items():
        typer.echo(f"  {name:<18} {spec.describe()}")
        if spec.description:
            typer.echo(f"  {'':<18} {spec.description}")
    if exp.cpu_only:
        typer.echo(f"  (simulates on the CPU only: {exp.cpu_only}; --device is refused)")


@app.command()
def theory(slug: str, param: ParamOpt = None, as_json: JsonOpt = False) -> None:
    """The paper's prediction at a setting (milliseconds; no simulation)."""
    from theorylab.experiments.base import params_to_dict

    exp = _experiment(slug)
    p = _validated(exp, parse_params(exp, param))
    start = time.perf_counter()
    observables, status = exp.split_theory(exp.theory(p))
    elapsed = time.perf_counter() - start
    doc = {
        "slug": exp.slug,
        "params": params_to_dict(p),
        "observables": observables,
        "solver": status.as_dict(),
        "elapsed_s": elapsed,
    }
    if as_json:
        _emit(doc)
    else:
        _print_observables(exp, p, observables)
        typer.echo(
            f"solver: converged={status.converged} iterations={status.iterations} "
            f"residual={status.residual:.2e} ({elapsed * 1e3:.1f} ms)"
        )
    if not status.converged:
        typer.echo(f"warning: solver did not converge: {status.message}", err=True)
        raise typer.Exit(1)


def _print_observables(exp, p, observables: dict[str, Any]) -> None:
    from theorylab.experiments.base import element_label

    for name, value in observables.items():
        for coords, x in exp.elements(p, name, value):
            typer.echo(f"  {element_label(name, coords):<40} {x:.6g}")


@app.command()
def run(
    slug: str,
    param: ParamOpt = None,
    quick: Annotated[bool, typer.Option("--quick", help="Quick size (default).")] = False,
    full: Annotated[bool, typer.Option("--full", help="The experiment's full size.")] = False,
    seeds: SeedsOpt = None,
    jobs: JobsOpt = 1,
    executor: ExecOpt = "local",
    address: AddressOpt = None,
    store: Annotated[
        Path | None, typer.Option("--store", help="Reuse and keep seeds in this store.")
    ] = None,
    device: DeviceOpt = None,
    theory_only: Annotated[
        bool, typer.Option("--theory-only", help="No simulation: theory and its identities only.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Theory + simulation over seeds + checks. Exit 1 if a check fails."""
    from theorylab.runner.run import run as run_experiment

    exp = _experiment(slug)
    preset = _preset(quick, full)
    overrides = parse_params(exp, param)
    _validated(exp, overrides, preset)  # validate before any work
    spec = _executor(executor, jobs, address)
    dev = _device(device)
    if not theory_only:
        _simulation_device(exp, dev)
    result = run_experiment(
        exp,
        overrides,
        preset=preset,
        seeds=seeds,
        simulate=not theory_only,
        executor=spec,
        store=store,
        progress=not as_json,
        device=dev,
    )
    if as_json:
        _emit(result.to_dict())
    else:
        _print_result(result)
    if not result.passed:
        raise typer.Exit(1)


def _print_result(result) -> None:
    sim = result.simulation
    seeds = f"{sim.seeds if sim else 0} seeds"
    if sim and sim.draws:
        seeds += f" ({sim.draws} draws)"
    typer.echo(f"{result.slug} ({result.variant}): {seeds}, {result.elapsed_s:.1f} s")
    typer.echo(
        f"  {'check':<44} {'reference':>10} {'from':<6} {'simulation':>11} {'tolerance':>10} "
        f"{'resolution':>10}"
    )
    for c in result.checks:
        sim = c.simulation if c.simulation is not None else c.value
        mark = "ok  " if c.passed else "FAIL"
        res = "" if c.resolution is None else f"{100 * c.resolution:.2g} %"
        typer.echo(
            f"  {mark} {c.observable:<39} {c.theory:>10.5g} {c.source[:6]:<6} {sim:>11.5g} "
            f"{c.tolerance:>10.2g} {res:>10}"
        )
    if not result.checks:
        typer.echo("  no checks ran: nothing was compared, so nothing passed")
    if not result.solver.converged:
        typer.echo(f"  solver did not converge: {result.solver.message}")
    typer.echo("passed" if result.passed else "FAILED")


@app.command()
def sweep(
    slug: str,
    grid: Annotated[
        list[str],
        typer.Option("--grid", "-g", help="Grid axis: name=v1,v2,... (repeat for a product grid)."),
    ],
    param: ParamOpt = None,
    simulate: Annotated[bool, typer.Option("--simulate", help="Also run simulations.")] = False,
    seeds: SeedsOpt = None,
    full: Annotated[bool, typer.Option("--full", help="Full size.")] = False,
    executor: ExecOpt = "local",
    jobs: JobsOpt = 1,
    address: AddressOpt = None,
    store: Annotated[Path, typer.Option("--store", help="Result store folder.")] = Path(
        "theorylab-results"
    ),
    device: DeviceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run over a grid; every finished task is stored, so a killed sweep resumes."""
    from theorylab.runner.sweep import sweep as run_sweep

    exp = _experiment(slug)
    overrides = parse_params(exp, param)
    axes = parse_grid(exp, grid)
    spec = _executor(executor, jobs, address)
    with user_input():  # every grid point is validated before anything runs or is written
        from theorylab.runner.sweep import expand_grid

        expand_grid(exp, {**(exp.full if full else {}), **overrides}, axes)
    dev = _device(device)
    if simulate:
        _simulation_device(exp, dev)
    summary = run_sweep(
        exp,
        axes,
        overrides,
        preset="full" if full else "quick",
        simulate=simulate,
        seeds=seeds,
        executor=spec,
        store=store,
        progress=not as_json,
        device=dev,
    )
    if as_json:
        _emit(summary.to_dict())
    else:
        typer.echo(
            f"{summary.slug}: {summary.points} points, {summary.tasks} tasks "
            f"({summary.skipped} already stored, {summary.ran} run, {summary.failed} "
            f"failed) in {summary.elapsed_s:.1f} s → {summary.store}"
        )
        for err in summary.errors:
            typer.echo(f"  error: {err}", err=True)
    if summary.unconverged:
        typer.echo(f"warning: {summary.unconverged} theory point(s) did not converge", err=True)
    if summary.failed or summary.unconverged:
        raise typer.Exit(1)


@app.command()
def reproduce(
    slugs: Annotated[list[str] | None, typer.Argument(help="Experiments (default: all).")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Quick size (default).")] = False,
    full: Annotated[bool, typer.Option("--full", help="The experiments' full size.")] = False,
    out: Annotated[Path, typer.Option("--out", help="Report folder.")] = Path("report"),
    jobs: JobsOpt = 1,
    executor: ExecOpt = "local",
    address: AddressOpt = None,
    device: DeviceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run every check of the experiments (main run + variants) and write the HTML report."""
    from theorylab.runner.reproduce import reproduce as run_reproduction

    preset = _preset(quick, full)
    exps = [_experiment(s).slug for s in slugs] if slugs else None
    spec = _executor(executor, jobs, address)
    results, index = run_reproduction(
        exps, preset=preset, out=out, executor=spec, device=_device(device), progress=not as_json
    )
    passed = all(r.passed for r in results)
    if as_json:
        _emit(
            {
                "report": str(index),
                "passed": passed,
                "runs": [
                    {
                        "slug": r.slug,
                        "variant": r.variant,
                        "passed": r.passed,
                        "checks": len(r.checks),
                        "elapsed_s": r.elapsed_s,
                    }
                    for r in results
                ],
            }
        )
    else:
        for r in results:
            n_ok = sum(c.passed for c in r.checks)
            typer.echo(
                f"{'ok  ' if r.passed else 'FAIL'} {r.slug:<24} {r.variant:<8} "
                f"{n_ok}/{len(r.checks)} checks  {r.elapsed_s:6.1f} s"
            )
        typer.echo(f"report: {index}")
    if not passed:
        raise typer.Exit(1)


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="Report folder written by reproduce.")] = Path(
        "report"
    ),
) -> None:
    """Re-render the HTML report (and figures) from the results saved in a report folder."""
    from theorylab.report.html import load_results, write_report
    from theorylab.runner.registry import all_experiments

    exps = all_experiments()
    if not out.is_dir() or not load_results(out, exps):
        raise BadInput(f"--out {out}: no results found (run `theorylab reproduce --out {out}`)")
    typer.echo(f"report: {write_report(out, exps)}")


def main() -> None:
    """Entry point: typer app with one-line errors (exit 2) for bad input."""
    import click

    # typer >= 0.20 vendors click (typer._click): its usage errors and aborts are not the
    # classes of the `click` package, so catch both families.
    usage_errors = tuple(
        {click.exceptions.ClickException, getattr(typer, "TyperException", click.ClickException)}
    )
    aborts = tuple({click.exceptions.Abort, typer.Abort})
    try:
        code = app(standalone_mode=False)
    except BadInput as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except aborts:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except usage_errors as exc:  # usage errors: unknown option, bad int, missing argument
        if type(exc).__name__ == "NoArgsIsHelpError":
            exc.show()  # no arguments: the help text
        else:
            message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
            typer.echo(f"error: {' '.join(message.split())}", err=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
