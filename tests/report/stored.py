"""Run results of every registered experiment built from stored quick-run data, no simulation.

The simulation statistics come from ``tests/data/simulations`` (as in the power test), the
theory from ``tests/data/theory`` when it was stored at the same setting (else it is computed
now); the checks are evaluated now, so their rows and reasons are today's code.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from theorylab.experiments.base import Experiment
from theorylab.experiments.result import RunResult, SimulationStats, typed_observables
from theorylab.theory.fixed_point import SolverStatus

DATA = Path(__file__).parent.parent / "data"


def _read(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def _theory(exp: Experiment, params: dict[str, Any]) -> tuple[dict[str, Any], SolverStatus]:
    doc = _read(DATA / "theory" / f"{exp.slug}.json")
    if doc is not None and doc["params"] == params:
        solver = doc.get("solver") or {}
        return typed_observables(doc["theory"]) or {}, SolverStatus(
            bool(solver.get("converged", True)),
            int(solver.get("iterations", 0)),
            float(solver.get("residual") or 0.0),
            solver.get("method", ""),
            solver.get("message", ""),
        )
    return exp.split_theory(exp.theory(exp.make_params(params)))


def stored_result(exp: Experiment) -> RunResult | None:
    """The main quick run of ``exp`` rebuilt from stored data (None if nothing is stored)."""
    doc = _read(DATA / "simulations" / f"{exp.slug}.json")
    if doc is None or doc["protocol"] != exp.protocol:
        return None
    params = exp.make_params(doc["params"])
    theory, solver = _theory(exp, doc["params"])
    sim = doc["simulation"]
    stats = SimulationStats(
        typed_observables(sim["mean"]) or {}, typed_observables(sim["sem"]) or {}, sim["seeds"]
    )
    rows = exp.evaluate(params, theory, stats.mean, stats.sem, stats.seeds)
    return RunResult(exp.slug, params, theory, solver, stats, tuple(rows), elapsed_s=0.0)


def with_wrong_theory(result: RunResult, exp: Experiment, observable: str, scale: float):
    """``result`` re-evaluated with one theory observable scaled: a run whose checks fail."""
    theory = dict(result.theory)
    theory[observable] = np.asarray(theory[observable], dtype=float) * scale
    sim = result.simulation
    rows = exp.evaluate(result.params, theory, sim.mean, sim.sem, sim.seeds)
    return dataclasses.replace(
        result, theory=theory, checks=tuple(rows), variant=f"wrong_{observable}"
    )
