"""The contract, checked: what every registered experiment must satisfy.

:func:`declaration_violations` reads an :class:`~theorylab.experiments.base.Experiment` without
running it; :func:`output_violations` compares what ``theory`` / ``simulate`` returned with the
declarations. Both return a list of one-line violations (empty: the experiment keeps the
contract). The test suite runs them over every registered experiment, so a new paper is covered
the day it is registered; a paper's author can run them while writing it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from theorylab.experiments.base import SOLVER_KEY, Experiment
from theorylab.experiments.params import ParamsBase, field_specs
from theorylab.experiments.result import DRAWS_KEY

__all__ = ["declaration_violations", "output_violations"]


def _checked_observables(exp: Experiment) -> set[str]:
    out: set[str] = set()
    for check in exp.checks:
        out |= set(check.theory_observables())
        out.add(check.observable)
        ref = getattr(check, "reference", None)
        if isinstance(ref, str):
            out.add(ref)
    return out


def declaration_violations(exp: Experiment) -> list[str]:
    """Violations visible without running anything."""
    from theorylab.catalogue import PAPERS

    bad: list[str] = []
    paper = next((p for p in PAPERS if p.slug == exp.slug), None)
    if paper is None:
        bad.append(f"slug {exp.slug!r} is not in the catalogue")
    else:
        if paper.arxiv != exp.arxiv:
            bad.append(f"arXiv id {exp.arxiv!r} differs from the catalogue's {paper.arxiv!r}")
        if paper.title != exp.title:
            bad.append(f"title {exp.title!r} differs from the catalogue's {paper.title!r}")
    if not (isinstance(exp.params, type) and issubclass(exp.params, ParamsBase)):
        bad.append("Params must derive from ParamsBase (declarative validation)")
    elif not dataclasses.is_dataclass(exp.params) or not exp.params.__dataclass_params__.frozen:
        bad.append("Params must be a frozen dataclass")
    else:
        specs = field_specs(exp.params)
        for name, spec in specs.items():
            if not spec.description:
                bad.append(f"Params field {name!r} has no description")
        for name, obs in exp.observables.items():
            for axis in obs.axes:
                if axis not in exp.dims and not (axis in specs and specs[axis].grid):
                    bad.append(
                        f"observable {name!r}: axis {axis!r} is neither a grid field of Params "
                        "nor a declared dimension (Experiment.dims)"
                    )
    if not exp.checks:
        bad.append("no checks: zero checks is a failure, never a pass")
    for check in exp.checks:
        names = {check.observable} | set(check.theory_observables())
        ref = getattr(check, "reference", None)
        if isinstance(ref, str):
            names.add(ref)
        for name in sorted(names):
            if name not in exp.observables:
                bad.append(f"check of {check.observable!r} names undeclared observable {name!r}")
        if not check.reason or "the note" in check.reason or "the issue" in check.reason:
            bad.append(
                f"check of {check.observable!r}: its reason must cite the paper (not our notes)"
            )
    checked = _checked_observables(exp)
    for name in exp.theory_only:
        if name not in exp.observables:
            bad.append(f"theory_only names undeclared observable {name!r}")
        elif name in checked:
            bad.append(f"{name!r} is declared theory-only but a check reads it")
    if exp.protocol < 1:
        bad.append("protocol must be >= 1")
    if exp.smoke is None:
        bad.append("no smoke setting (a tiny simulation for the contract test)")
    return bad


def _shape_violations(
    exp: Experiment, params: Any, obs: Mapping[str, Any], where: str
) -> list[str]:
    bad = []
    for name, value in obs.items():
        if name not in exp.observables:
            continue
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            bad.append(f"{where} observable {name!r} is not numeric")
            continue
        expected = tuple(len(g) for g in exp.grids(params, name))
        if arr.shape != expected:
            bad.append(f"{where} observable {name!r} has shape {arr.shape}, expected {expected}")
    return bad


def output_violations(
    exp: Experiment,
    params: Any,
    theory: Mapping[str, Any] | None = None,
    simulation: Mapping[str, Any] | None = None,
) -> list[str]:
    """Violations of what ``theory(params)`` / ``simulate(params, seed)`` returned."""
    bad: list[str] = []
    declared = set(exp.observables)
    if theory is not None:
        got = set(theory) - {SOLVER_KEY}
        for name in sorted(declared - got):
            bad.append(f"theory() does not return declared observable {name!r}")
        for name in sorted(got - declared):
            bad.append(f"theory() returns undeclared observable {name!r}")
        bad += _shape_violations(exp, params, theory, "theory")
        checked = _checked_observables(exp)
        for name in sorted(got & declared):
            if name not in checked and name not in exp.theory_only:
                bad.append(f"theory observable {name!r} is neither checked nor theory-only")
    if simulation is not None:
        bad += _draws_violations(exp, params, simulation)
        simulation = {k: v for k, v in simulation.items() if k != DRAWS_KEY}
        for name in sorted(set(simulation) - declared):
            bad.append(f"simulate() returns undeclared observable {name!r}")
        needed = {c.observable for c in exp.checks if c.needs_simulation}
        needed |= {
            c.reference
            for c in exp.checks
            if isinstance(getattr(c, "reference", None), str)
            and getattr(c, "reference_source", "theory") == "simulation"
        }
        for name in sorted(needed - set(simulation)):
            if getattr(_check_for(exp, name), "source", "simulation") == "simulation":
                bad.append(f"simulate() does not return {name!r}, which a check compares")
        bad += _shape_violations(exp, params, simulation, "simulate")
    return bad


def _draws_violations(exp: Experiment, params: Any, simulation: Mapping[str, Any]) -> list[str]:
    """A seed's draws (:data:`DRAWS_KEY`): declared observables, one leading draw axis, and the
    seed's reported value is their mean."""
    draws = simulation.get(DRAWS_KEY)
    if draws is None:
        return []
    if not isinstance(draws, Mapping) or not draws:
        return [f"simulate()'s {DRAWS_KEY!r} must map observables to their draws"]
    bad = []
    for name, value in draws.items():
        if name not in exp.observables or name not in simulation:
            bad.append(f"simulate() returns draws of {name!r} but not the observable itself")
            continue
        arr = np.asarray(value, dtype=float)
        expected = tuple(len(g) for g in exp.grids(params, name))
        if arr.ndim != len(expected) + 1 or arr.shape[1:] != expected or len(arr) < 1:
            bad.append(f"draws of {name!r} have shape {arr.shape}, expected (draws, *{expected})")
        elif not np.allclose(arr.mean(axis=0), simulation[name], rtol=1e-12, atol=1e-14,
                             equal_nan=True):
            bad.append(f"simulate()'s {name!r} is not the mean of its draws")
    return bad


def _check_for(exp: Experiment, name: str) -> Any:
    return next((c for c in exp.checks if c.observable == name), None)
