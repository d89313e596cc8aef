"""Results as data: what a run of an experiment produced, typed, and its JSON round trip.

A :class:`RunResult` holds the ``Params`` object, the theory observables and the simulation's
mean and sem over seeds as numpy arrays (floats for scalars), and the check rows.
``to_dict`` gives the JSON document of ``theorylab run --json``; ``from_dict(doc, experiment)``
rebuilds the typed result, so figures and reports never undo the JSON round trip by hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theorylab.experiments.checks import CheckResult
from theorylab.experiments.params import make_params, params_to_dict
from theorylab.theory.fixed_point import SolverStatus

__all__ = [
    "DRAWS_KEY",
    "RunResult",
    "SimulationStats",
    "loo_control_variate",
    "seed_output",
    "to_jsonable",
    "typed_observables",
    "with_control_variates",
]


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


def _typed(value: Any) -> Any:
    if value is None:
        return math.nan
    if isinstance(value, list):
        try:
            return np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return value
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float | np.generic | np.ndarray):
        return np.asarray(value, dtype=float) if isinstance(value, np.ndarray) else float(value)
    return value


def typed_observables(obs: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """JSON observables back to floats and float arrays (None, i.e. NaN in JSON, → nan)."""
    if obs is None:
        return None
    return {k: _typed(v) for k, v in obs.items()}


#: Reserved key of a seed's simulation output: ``{name: array}`` of the seed's independent draws
#: of an observable (leading axis = draw), next to the seed's mean under ``name`` itself.
DRAWS_KEY = "_draws"


def seed_output(draws: Sequence[Mapping[str, Any]], *, pooled: Sequence[str] | None = None
                ) -> dict[str, Any]:
    """One seed's output from its independent draws: the mean of every observable, and the draws
    themselves (under :data:`DRAWS_KEY`) for the ``pooled`` ones (default: all).

    A pooled observable's standard error is then taken over every draw of every seed
    (:meth:`SimulationStats.from_seeds`), with ``seeds × draws − 1`` degrees of freedom instead
    of ``seeds − 1``: three seeds of eight draws give a sem as trustworthy as 24 seeds.
    """
    if not draws:
        raise ValueError("a seed needs at least one draw")
    names = list(draws[0])
    stacks = {k: np.asarray([np.asarray(d[k], dtype=float) for d in draws]) for k in names}
    out: dict[str, Any] = {k: v.mean(axis=0) for k, v in stacks.items()}
    out = {k: float(v) if v.ndim == 0 else v for k, v in out.items()}
    out[DRAWS_KEY] = {k: stacks[k] for k in (names if pooled is None else pooled)}
    return out


def loo_control_variate(values: np.ndarray, *controls: np.ndarray) -> np.ndarray:
    """Draws ``values`` (k, …) with control variates of exactly zero mean subtracted:
    ``values[i] − β₋ᵢ · controls[i]``, elementwise, where β₋ᵢ holds the least-squares
    coefficients of the values on the ``controls`` (each broadcast against the values) over the
    *other* draws (leave-one-out).

    β₋ᵢ does not depend on draw i, so each adjusted draw has the mean of the raw one whatever the
    coefficients (no bias, even when they are poorly estimated); its variance drops by the
    squared multiple correlation with the controls, less the ≈ m/(k − m − 1) inflation of
    estimating m coefficients from k − 1 draws. With fewer than m + 3 draws the values are
    returned as they are.
    """
    y = np.asarray(values, dtype=float)
    k, m = len(y), len(controls)
    if m == 0 or k < m + 3:
        return y.copy()
    x = np.stack([np.broadcast_to(np.asarray(c, dtype=float), y.shape) for c in controls],
                 axis=-1)  # (k, …, m)
    out = np.empty_like(y)
    for i in range(k):
        keep = np.arange(k) != i
        xc = x[keep] - x[keep].mean(axis=0)
        yc = y[keep] - y[keep].mean(axis=0)
        gram = np.einsum("k...a,k...b->...ab", xc, xc)
        rhs = np.einsum("k...a,k...->...a", xc, yc)
        scale = np.trace(gram, axis1=-2, axis2=-1)[..., None, None]
        eye = np.eye(m) * np.where(scale > 0, 1e-12 * scale, 1.0)  # a constant control: β = 0
        beta = np.linalg.solve(gram + eye, rhs[..., None])[..., 0]
        out[i] = y[i] - (beta * x[i]).sum(axis=-1)
    return out


def with_control_variates(draws: Sequence[Mapping[str, Any]], names: Sequence[str],
                          key: str) -> list[dict[str, Any]]:
    """A seed's draws with each observable of ``names`` adjusted by the draw's control variates
    (:func:`loo_control_variate`), and the controls themselves (under ``key``) dropped.

    ``draw[key]`` is an array (…, m) of m controls of exactly zero mean, its leading axes the
    trailing axes of the observables (e.g. one set of controls per α, shared by every other
    axis). Draws without ``key`` (a setting with no controls) come back as they are.
    """
    if not draws or key not in draws[0]:
        return [dict(d) for d in draws]
    ctrl = np.array([d[key] for d in draws], dtype=float)  # (draw, …, m)
    adjusted = {}
    for name in names:
        y = np.array([d[name] for d in draws], dtype=float)
        lead = (len(draws),) + (1,) * (y.ndim - ctrl.ndim + 1)
        controls = (ctrl[..., c].reshape(lead + ctrl.shape[1:-1]) for c in range(ctrl.shape[-1]))
        adjusted[name] = loo_control_variate(y, *controls)
    return [{**{k: v for k, v in d.items() if k != key},
             **{name: adjusted[name][i] for name in names}} for i, d in enumerate(draws)]


@dataclass(frozen=True)
class SimulationStats:
    """Mean and standard error per observable, over ``seeds`` simulation seeds.

    An observable whose seeds report their independent draws (:func:`seed_output`) is averaged
    over all ``draws`` of all seeds and its sem is the standard error of that pooled mean; the
    others' sem is over the seed means.
    """

    mean: dict[str, Any]
    sem: dict[str, Any]
    seeds: int
    draws: int = 0

    @classmethod
    def from_seeds(cls, per_seed: list[dict[str, Any]]) -> SimulationStats:
        """Mean and standard error of every observable (elementwise for arrays), pooling the
        draws of the observables every seed reports draws of."""
        mean: dict[str, Any] = {}
        sem: dict[str, Any] = {}
        pooled = set.intersection(*(set(s.get(DRAWS_KEY) or {}) for s in per_seed))
        n_draws = 0
        for name in per_seed[0]:
            if name == DRAWS_KEY:
                continue
            if name in pooled:
                parts = [np.asarray(s[DRAWS_KEY][name], dtype=float) for s in per_seed]
                stack = np.concatenate(parts, axis=0)
                n_draws = max(n_draws, len(stack))
            else:
                stack = np.asarray([np.asarray(s[name], dtype=float) for s in per_seed])
            m = stack.mean(axis=0)
            if len(stack) > 1:
                e = stack.std(axis=0, ddof=1) / np.sqrt(len(stack))
            else:
                e = np.full_like(m, np.nan)
            mean[name] = float(m) if m.ndim == 0 else m
            sem[name] = float(e) if np.ndim(e) == 0 else e
        return cls(mean, sem, len(per_seed), n_draws)

    def as_dict(self) -> dict[str, Any]:
        out = {"mean": self.mean, "sem": self.sem, "seeds": self.seeds}
        if self.draws:
            out["draws"] = self.draws
        return out


@dataclass(frozen=True)
class RunResult:
    """Everything ``theorylab run`` reports (``to_dict`` gives the JSON document)."""

    slug: str
    params: Any  # the experiment's Params instance
    theory: dict[str, Any]
    solver: SolverStatus
    simulation: SimulationStats | None
    checks: tuple[CheckResult, ...]
    elapsed_s: float
    timings: dict[str, float] = field(default_factory=dict)
    variant: str = "main"
    device: str = "cpu"

    @property
    def passed(self) -> bool:
        """Converged theory, at least one check, and every check passed."""
        return self.solver.converged and bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def params_dict(self) -> dict[str, Any]:
        return params_to_dict(self.params)

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "slug": self.slug,
                "variant": self.variant,
                "params": self.params_dict,
                "theory": self.theory,
                "solver": self.solver.as_dict(),
                "simulation": self.simulation,
                "checks": [c.as_dict() for c in self.checks],
                "passed": self.passed,
                "elapsed_s": self.elapsed_s,
                "timings": self.timings,
                "device": self.device,
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], experiment: Any) -> RunResult:
        """Rebuild a result of ``experiment`` from its JSON document (typed again)."""
        solver = data.get("solver") or {}
        sim = data.get("simulation")
        stats = None
        if sim is not None:
            stats = SimulationStats(
                typed_observables(sim["mean"]) or {},
                typed_observables(sim["sem"]) or {},
                int(sim["seeds"]),
                int(sim.get("draws", 0)),
            )
        rows = []
        for c in data.get("checks", []):
            c = dict(c)
            if c.get("theory") is None:  # a non-finite reference is null in strict JSON
                c["theory"] = math.nan
            rows.append(CheckResult(**c))
        return cls(
            slug=data["slug"],
            params=make_params(experiment.params, data["params"]),
            theory=typed_observables(data["theory"]) or {},
            solver=SolverStatus(
                bool(solver.get("converged", True)),
                int(solver.get("iterations", 0)),
                float(solver.get("residual") or 0.0),
                solver.get("method", ""),
                solver.get("message", ""),
            ),
            simulation=stats,
            checks=tuple(rows),
            elapsed_s=float(data["elapsed_s"]),
            timings=dict(data.get("timings", {})),
            variant=data.get("variant", "main"),
            device=data.get("device", "cpu"),
        )
