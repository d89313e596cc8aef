"""The Experiment contract: one paper = one setting, its theory, its simulation, its checks.

An experiment module defines a frozen ``Params`` dataclass (declarative constraints, validated
on construction: :mod:`theorylab.experiments.params`), the pure function ``theory(params)``
(numpy/scipy, no torch) and ``simulate(params, seed, device="cpu")`` returning observables with
the same names, the ``checks`` that say which observables must agree and how
(:mod:`theorylab.experiments.checks`), and ``figure(result)``. Everything generic (CLI, sweeps,
stores, executors, reports) lives above this module and knows no paper.

Observables are floats or numpy arrays whose axes are named: a grid (tuple-valued) ``Params``
field such as ``alpha``, or a dimension declared in ``Experiment.dims`` such as ``layer``. One
simulated draw of a problem can thus be evaluated on a whole grid (correlated across the grid,
cheap), and generic code labels every element (``eg[alpha=0.5]``).

Random streams of a simulation come from :class:`theorylab.seeding.Streams` (slug, seed,
purpose); ``protocol`` versions the simulation and enters the store key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theorylab.experiments.checks import (
    Agreement,
    Check,
    CheckResult,
    Criterion,
    Evidence,
    Observable,
    TheoryIdentity,
    element_label,
    iter_elements,
)
from theorylab.experiments.params import (
    Activation,
    Array,
    Choice,
    NonNegative,
    ParamsBase,
    Positive,
    Range,
    Relation,
    coerce_field,
    make_params,
    params_to_dict,
)
from theorylab.theory.fixed_point import SolverStatus

__all__ = [
    "SOLVER_KEY",
    "Activation",
    "Agreement",
    "Array",
    "Check",
    "CheckResult",
    "Choice",
    "Criterion",
    "Evidence",
    "Experiment",
    "NonNegative",
    "Observable",
    "ParamsBase",
    "Positive",
    "Range",
    "Relation",
    "TheoryIdentity",
    "Variant",
    "coerce_field",
    "element_label",
    "iter_elements",
    "make_params",
    "pad_ragged",
    "params_to_dict",
]

Observables = dict[str, Any]

#: Key under which ``theory`` may return the :class:`SolverStatus` of its solvers.
SOLVER_KEY = "solver"


def pad_ragged(rows: Sequence[Any], length: int) -> np.ndarray:
    """Stack per-layer profiles of different lengths (one per depth) into one array, NaN-padded
    along the first axis to ``length`` (so an observable keeps a fixed shape across depths)."""
    first = np.asarray(rows[0], dtype=float)
    out = np.full((len(rows), length, *first.shape[1:]), np.nan)
    for i, r in enumerate(rows):
        r = np.asarray(r, dtype=float)
        out[i, : r.shape[0]] = r
    return out


@dataclass(frozen=True)
class Variant:
    """A further run of an experiment in its reproduction (e.g. another width), with checks."""

    name: str
    overrides: Mapping[str, Any]
    description: str
    seeds: int | None = None  #: seeds of this run at the quick size (default: the experiment's)


@dataclass(frozen=True)
class Experiment:
    """One paper, made runnable.

    Attributes
    ----------
    slug, arxiv, title, claim
        Identity and the one-paragraph claim being checked.
    params
        The frozen Params dataclass (a :class:`ParamsBase`); its defaults are the quick setting.
    theory
        ``theory(params) -> observables`` (pure, numpy/scipy). May include ``"solver"``: a
        :class:`~theorylab.theory.fixed_point.SolverStatus`.
    simulate
        ``simulate(params, seed, device="cpu") -> observables`` with the theory's names (or a
        subset), seeded through :class:`theorylab.seeding.Streams`, reproducible.
    observables
        Declarations (axes, meaning) of every observable.
    checks
        What must agree and how, with the tolerance's justification (citing the paper).
    theory_only
        Theory observables that no check reads, each with the reason (e.g. "an input of the
        equations, not a prediction", "no simulation reaches the Bayes-optimal error").
    figure
        ``figure(result) -> matplotlib Figure`` from a :class:`~theorylab.experiments.result.
        RunResult` (typed arrays, ``result.params`` a Params).
    dims
        Coordinates of the axes that are not Params fields: ``{"layer": lambda p: ...}``.
    protocol
        Version of the simulation protocol; part of every store key.
    smoke
        Overrides for a tiny simulation (a second or two): the contract test runs it.
    seeds
        Number of seeds at the quick setting; ``full`` / ``full_seeds`` give the full setting.
    variants
        Further runs of the reproduction (each with the checks that apply to its setting).
    cpu_only
        Why ``simulate`` runs on the CPU whatever its ``device`` (a numpy simulation, or one not
        ported to accelerators); empty when it honours ``device``. A single run or sweep on
        another device is refused (:meth:`check_device`); a reproduction runs such an
        experiment on the CPU and records that device.
    """

    slug: str
    arxiv: str
    title: str
    claim: str
    params: type
    theory: Callable[[Any], Observables]
    simulate: Callable[..., Observables]
    observables: Mapping[str, Observable]
    checks: tuple[Check, ...]
    figure: Callable[[Any], Any] | None = None
    theory_only: Mapping[str, str] = field(default_factory=dict)
    dims: Mapping[str, Callable[[Any], Sequence[Any]]] = field(default_factory=dict)
    protocol: int = 1
    smoke: Mapping[str, Any] | None = None
    seeds: int = 8
    full: Mapping[str, Any] = field(default_factory=dict)
    full_seeds: int | None = None
    variants: tuple[Variant, ...] = ()
    cpu_only: str = ""

    def check_device(self, device: str) -> None:
        """Raise ``ValueError`` (one line) when ``device`` is not the CPU and the simulation
        cannot use it (:attr:`cpu_only`)."""
        if str(device) != "cpu" and self.cpu_only:
            raise ValueError(
                f"device {device!r}: {self.slug} simulates on the CPU only ({self.cpu_only})"
            )

    def simulation_device(self, device: str) -> str:
        """The device the simulation will run on when ``device`` is asked for."""
        return "cpu" if self.cpu_only else str(device)

    def make_params(
        self, overrides: Mapping[str, Any] | None = None, *, preset: str = "quick"
    ) -> Any:
        """Params from the defaults, the preset (``quick`` or ``full``) and ``overrides``."""
        if preset not in ("quick", "full"):
            raise ValueError(f"preset must be 'quick' or 'full', got {preset!r}")
        merged: dict[str, Any] = dict(self.full) if preset == "full" else {}
        merged.update(overrides or {})
        return make_params(self.params, merged)

    def default_seeds(self, preset: str = "quick") -> int:
        if preset == "full" and self.full_seeds is not None:
            return self.full_seeds
        return self.seeds

    @property
    def axes(self) -> dict[str, tuple[str, ...]]:
        return {name: obs.axes for name, obs in self.observables.items()}

    def grids(self, params: Any, name: str) -> list[tuple[Any, ...]]:
        """Coordinate values along each axis of observable ``name`` at ``params``."""
        out = []
        obs = self.observables.get(name)
        for axis in obs.axes if obs is not None else ():
            if axis in self.dims:
                out.append(tuple(self.dims[axis](params)))
            else:
                out.append(tuple(getattr(params, axis)))
        return out

    def elements(self, params: Any, name: str, value: Any):
        """``(coordinates, scalar)`` of every element of observable ``name``."""
        obs = self.observables.get(name)
        return iter_elements(value, obs.axes if obs is not None else (), self.grids(params, name))

    def split_theory(self, raw: Observables) -> tuple[Observables, SolverStatus]:
        """Separate the observables from the solver status returned by ``theory``."""
        obs = dict(raw)
        status = obs.pop(SOLVER_KEY, None) or SolverStatus.exact()
        return obs, status

    def evaluate(
        self,
        params: Any,
        theory: Observables,
        mean: Observables | None = None,
        sem: Observables | None = None,
        seeds: int = 0,
    ) -> list[CheckResult]:
        """Every check's rows at ``params``. With no simulation only theory-only checks run."""
        ev = Evidence(
            params, theory, mean, sem, seeds, lambda name: self.grids(params, name), self.axes
        )
        rows: list[CheckResult] = []
        for check in self.checks:
            if check.applies is None or check.applies(params):
                rows.extend(check.evaluate(ev))
        return rows
