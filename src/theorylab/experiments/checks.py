"""Checks: which observables must agree, how, and how finely the comparison could detect an error.

A check turns the :class:`Evidence` of a run (params, theory, simulation mean and sem over
seeds) into :class:`CheckResult` rows, one per element of an observable. Three kinds:

* :class:`Agreement` — the simulation mean equals the theory within
  ``n_sem·sem + rtol·|theory| + atol``;
* :class:`TheoryIdentity` — two theory observables coincide (two independent solvers);
* :class:`Criterion` — ``value <relation> reference`` (a theorem's bound, an exact rank).

Every row reports its *resolution*: the smallest relative error of the theory value that the row
would detect, of either sign — ``(tolerance + |simulation − theory|) / |theory|`` for an
agreement. A check may declare the resolution it must reach (``resolution=0.03``); a row that is
coarser fails and says so. ``where(params, coords)`` restricts the checked elements; every
exclusion must be explained in the reason, and a check that selects nothing fails.
``applies(params)`` says whether a check concerns a setting at all (a real-data run has checks
of its own, with allowances of its own); a check that does not apply is not evaluated.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

__all__ = [
    "Agreement",
    "Check",
    "CheckResult",
    "Criterion",
    "Evidence",
    "Observable",
    "TheoryIdentity",
    "element_label",
    "iter_elements",
]

Observables = dict[str, Any]
Where = Callable[[Any, Mapping[str, Any]], bool]
#: ``applies(params)``: whether a check concerns this setting at all (e.g. only the real-data
#: run of an experiment). A check that does not apply is not evaluated; ``where`` then filters
#: the elements of a check that does.
Applies = Callable[[Any], bool]


# --------------------------------------------------------------------------------------------
# Observables and their elements
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observable:
    """Declaration of an observable: its meaning and its axes.

    An axis is the name of a grid (tuple-valued) ``Params`` field (``alpha``) or of a dimension
    the experiment declares in ``Experiment.dims`` (``layer``): ``eg[i]`` is the value at
    ``params.alpha[i]``. Elements may be NaN where an axis is ragged (a layer beyond a depth).
    """

    description: str
    axes: tuple[str, ...] = ()


def iter_elements(
    value: Any, axes: Sequence[str], grids: Sequence[Sequence[Any]]
) -> Iterator[tuple[dict[str, Any], float]]:
    """Yield ``(coordinates, scalar)`` for every element of an observable.

    ``grids[k]`` holds the coordinate values along ``axes[k]``. A scalar observable yields once
    with empty coordinates. A shape that does not match the grids raises ``ValueError``.
    """
    arr = np.asarray(value, dtype=float)
    if not axes:
        if arr.ndim != 0:
            raise ValueError(f"observable declared scalar but has shape {arr.shape}")
        yield {}, float(arr)
        return
    expected = tuple(len(g) for g in grids)
    if arr.shape != expected:
        raise ValueError(
            f"observable with axes {tuple(axes)} has shape {arr.shape}, expected {expected}"
        )
    # C order of the array = the order of itertools.product over the grids
    for point, x in zip(itertools.product(*grids), arr.ravel().tolist(), strict=True):
        yield dict(zip(axes, point, strict=True)), x


def element_label(observable: str, coords: Mapping[str, Any]) -> str:
    """``eg[alpha=0.5, lam=1]`` style label of one element."""
    if not coords:
        return observable
    inner = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in coords.items()
    )
    return f"{observable}[{inner}]"


@dataclass(frozen=True)
class Evidence:
    """What a check sees: the setting, the theory, the simulation statistics and the grids.

    ``grids(name)`` gives the coordinate values along each axis of observable ``name``.
    """

    params: Any
    theory: Observables
    mean: Observables | None
    sem: Observables | None
    seeds: int
    grids: Callable[[str], list[tuple[Any, ...]]]
    axes: Mapping[str, tuple[str, ...]]

    def elements(self, name: str, value: Any) -> Iterator[tuple[dict[str, Any], float]]:
        return iter_elements(value, self.axes.get(name, ()), self.grids(name))


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """One evaluated comparison (one element of an observable).

    ``theory`` is the reference value (for a criterion: its reference, whose origin ``source``
    names: ``theory``, ``parameter``, ``constant`` or ``simulation``); ``simulation`` the
    simulated mean (None for theory-only rows, whose compared value is ``value``);
    ``resolution`` the smallest relative theory error the row would detect (None where no
    theory value enters the row).
    """

    observable: str
    theory: float
    simulation: float | None
    tolerance: float
    passed: bool
    kind: str
    reason: str
    value: float | None = None
    resolution: float | None = None
    source: str = "theory"

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        if self.value is None:
            out.pop("value")
        return out


class Check(Protocol):
    """A check turns :class:`Evidence` into :class:`CheckResult` rows."""

    observable: str
    reason: str
    applies: Applies | None

    def evaluate(self, ev: Evidence) -> list[CheckResult]: ...

    @property
    def needs_simulation(self) -> bool: ...

    def theory_observables(self) -> set[str]: ...


def _finite_or_nan(x: float) -> float:
    return x if math.isfinite(x) else float("nan")


def _relative(margin: float, scale: float) -> float:
    if not math.isfinite(margin) or not math.isfinite(scale):
        return math.inf
    return max(margin, 0.0) / abs(scale) if scale != 0 else math.inf


def _nothing_selected(observable: str, reason: str) -> CheckResult:
    """A failing row for a check whose ``where`` selected no element: it would pass vacuously."""
    return CheckResult(
        f"{observable} (no element selected)", math.nan, math.nan, 0.0, False, "empty", reason
    )


def _with_resolution(row: CheckResult, required: float | None) -> CheckResult:
    if required is None or row.resolution is None or row.resolution <= required:
        return row
    note = (
        f" [resolution {row.resolution:.2%} is coarser than the required {required:.2%}: "
        "this row could not detect a theory error of that size]"
    )
    return dataclasses.replace(row, passed=False, reason=row.reason + note)


# --------------------------------------------------------------------------------------------
# Agreement
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Agreement:
    """Simulation mean agrees with theory, element by element.

    Passes when ``|sim − theory| ≤ n_sem·sem + rtol·|theory| + atol``: ``n_sem`` standard errors
    of statistical error plus an allowance for finite-size bias at the quick size. ``reason``
    cites the paper (section, equation, figure) and says where the numbers come from.
    ``resolution`` (optional) is the coarsest resolution a row may have.
    """

    observable: str
    reason: str
    n_sem: float = 3.0
    rtol: float = 0.0
    atol: float = 0.0
    where: Where | None = field(default=None, compare=False)
    resolution: float | None = None
    applies: Applies | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in ("atol", "rtol", "n_sem"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")

    @property
    def needs_simulation(self) -> bool:
        return True

    def theory_observables(self) -> set[str]:
        return {self.observable}

    def evaluate(self, ev: Evidence) -> list[CheckResult]:
        if ev.mean is None or ev.sem is None:
            return []
        name = self.observable
        rows = []
        triples = zip(
            ev.elements(name, ev.theory[name]),
            ev.elements(name, ev.mean[name]),
            ev.elements(name, ev.sem[name]),
            strict=True,
        )
        for (coords, t), (_, m), (_, s) in triples:
            if self.where is not None and not self.where(ev.params, coords):
                continue
            s = s if math.isfinite(s) else 0.0
            tol = self.n_sem * s + self.rtol * abs(t) + self.atol
            passed = bool(math.isfinite(m) and math.isfinite(t) and abs(m - t) <= tol)
            row = CheckResult(
                element_label(name, coords),
                t,
                _finite_or_nan(m),
                tol,
                passed,
                "agreement",
                self.reason,
                resolution=_relative(tol + abs(m - t), _vanishing_as_zero(t, tol)),
            )
            rows.append(_with_resolution(row, self.resolution))
        return rows or [_nothing_selected(name, self.reason)]


def _vanishing_as_zero(theory: float, tolerance: float) -> float:
    """A theory value below 1e-9 of the row's tolerance is a zero up to round-off (an overlap
    that vanishes by symmetry, computed as 1e-17): it has no relative resolution, like 0."""
    return 0.0 if abs(theory) <= 1e-9 * tolerance else theory


# --------------------------------------------------------------------------------------------
# Theory identity
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TheoryIdentity:
    """Two theory observables must coincide (e.g. ridge at λ* equals the Bayes-optimal error)."""

    observable: str
    reference: str
    reason: str
    atol: float = 1e-6
    applies: Applies | None = field(default=None, compare=False)

    @property
    def needs_simulation(self) -> bool:
        return False

    def theory_observables(self) -> set[str]:
        return {self.observable, self.reference}

    def evaluate(self, ev: Evidence) -> list[CheckResult]:
        rows = []
        pairs = zip(
            ev.elements(self.observable, ev.theory[self.observable]),
            ev.elements(self.reference, ev.theory[self.reference]),
            strict=True,
        )
        for (coords, value), (_, ref) in pairs:
            passed = bool(math.isfinite(value) and abs(value - ref) <= self.atol)
            label = element_label(f"{self.observable} = {self.reference}", coords)
            rows.append(
                CheckResult(
                    label,
                    ref,
                    None,
                    self.atol,
                    passed,
                    "theory identity",
                    self.reason,
                    value=value,
                    resolution=_relative(self.atol + abs(value - ref), ref),
                )
            )
        return rows


# --------------------------------------------------------------------------------------------
# Criterion
# --------------------------------------------------------------------------------------------

_RELATIONS: dict[str, Callable[[float, float, float], bool]] = {
    "<=": lambda v, r, tol: v <= r + tol,
    ">=": lambda v, r, tol: v >= r - tol,
    "==": lambda v, r, tol: abs(v - r) <= tol,
}


def _margin(relation: str, v: float, r: float, tol: float) -> float:
    """How far ``v`` may move (in the failing direction) before the relation breaks."""
    if relation == "<=":
        return r + tol - v
    if relation == ">=":
        return v - r + tol
    return tol + abs(v - r)


@dataclass(frozen=True)
class Criterion:
    """A quantity must satisfy a relation: ``value <relation> reference`` within ``tol``.

    For claims that are not a curve but an inequality or an exact count: a bound that is a
    theorem of the paper (``bound_ratio <= 1``), a rank equal to the task's inner dimension
    predicted by ``theory()``. The tolerance is ``n_sem·sem + atol + rtol·|reference|``.

    ``observable`` is read from the simulation mean (``source="simulation"``) or the theory.
    ``reference`` is the name of an observable read from ``reference_source`` (preferred: the
    theory's prediction), a callable ``params -> number or array`` (a parameter of the setting),
    or a number (a constant of the paper, e.g. 1 for a normalised bound). A scalar reference is
    broadcast over the observable's axes. The row's ``source`` says which it was.
    """

    observable: str
    relation: str
    reference: float | str | Callable[[Any], Any]
    reason: str
    atol: float = 0.0
    rtol: float = 0.0
    n_sem: float = 0.0
    source: str = "simulation"
    reference_source: str = "theory"
    where: Where | None = field(default=None, compare=False)
    resolution: float | None = None
    applies: Applies | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.relation not in _RELATIONS:
            raise ValueError(f"relation must be one of {sorted(_RELATIONS)}, got {self.relation!r}")
        for name in ("source", "reference_source"):
            if getattr(self, name) not in ("simulation", "theory"):
                raise ValueError(f"{name} must be 'simulation' or 'theory'")
        for name in ("atol", "rtol", "n_sem"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")

    @property
    def needs_simulation(self) -> bool:
        uses = {self.source}
        if isinstance(self.reference, str):
            uses.add(self.reference_source)
        return "simulation" in uses

    def theory_observables(self) -> set[str]:
        out = {self.observable} if self.source == "theory" else set()
        if isinstance(self.reference, str) and self.reference_source == "theory":
            out.add(self.reference)
        return out

    @property
    def reference_kind(self) -> str:
        if isinstance(self.reference, str):
            return self.reference_source
        return "parameter" if callable(self.reference) else "constant"

    def _reference(self, ev: Evidence, shape: tuple[int, ...]) -> np.ndarray:
        if isinstance(self.reference, str):
            table = ev.theory if self.reference_source == "theory" else ev.mean
            ref = np.asarray(table[self.reference], dtype=float)
        elif callable(self.reference):
            ref = np.asarray(self.reference(ev.params), dtype=float)
        else:
            ref = np.asarray(self.reference, dtype=float)
        if ref.shape != shape:
            if ref.ndim != 0:
                raise ValueError(
                    f"reference of {self.observable!r} has shape {ref.shape}, expected {shape}"
                )
            ref = np.broadcast_to(ref, shape)
        return ref

    def evaluate(self, ev: Evidence) -> list[CheckResult]:
        from_sim = self.source == "simulation"
        if self.needs_simulation and ev.mean is None:
            return []
        values = np.asarray((ev.mean if from_sim else ev.theory)[self.observable], dtype=float)
        ref = self._reference(ev, values.shape)
        errs = np.zeros(values.shape)
        if from_sim and self.n_sem and ev.sem is not None:
            errs = np.nan_to_num(np.asarray(ev.sem[self.observable], dtype=float), nan=0.0)
        compare = _RELATIONS[self.relation]
        ref_name = self.reference if isinstance(self.reference, str) else "reference"
        kind = self.reference_kind
        theory_value = not from_sim
        rows = []
        triples = zip(
            ev.elements(self.observable, values),
            ev.elements(self.observable, ref),
            ev.elements(self.observable, errs),
            strict=True,
        )
        for (coords, v), (_, r), (_, e) in triples:
            if self.where is not None and not self.where(ev.params, coords):
                continue
            tol = self.n_sem * e + self.atol + self.rtol * abs(r)
            passed = bool(math.isfinite(v) and math.isfinite(r) and compare(v, r, tol))
            margin = _margin(self.relation, v, r, tol)
            if kind == "theory":
                resolution = _relative(margin, r)
            elif theory_value:
                resolution = _relative(margin, v)
            else:
                resolution = None
            label = element_label(f"{self.observable} {self.relation} {ref_name}", coords)
            row = CheckResult(
                label,
                r,
                None if theory_value else _finite_or_nan(v),
                tol,
                passed,
                f"criterion {self.relation}",
                self.reason,
                value=v if theory_value else None,
                resolution=resolution,
                source=kind,
            )
            rows.append(_with_resolution(row, self.resolution))
        return rows or [_nothing_selected(self.observable, self.reason)]
