"""The Experiment contract: one paper = one setting, its theory, its simulation, its checks.

An experiment module defines a frozen ``Params`` dataclass (validated on construction), the pure
functions ``theory(params)`` and ``simulate(params, seed)`` returning observables with the same
names, the ``checks`` that say which observables must agree and how, and ``figure(result)``.
Everything generic (CLI, sweeps, stores, executors, reports) lives above this module and knows no
paper.

Observables are floats or numpy arrays. An array observable has *axes*: names of tuple-valued
``Params`` fields (e.g. ``alpha``), so that ``eg[i]`` is the value at ``params.alpha[i]``. This
lets one simulated draw of a problem be evaluated on a whole grid (correlated across the grid,
cheap), and lets generic code label every element (``eg[alpha=0.5]``).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from theorylab.theory.fixed_point import SolverStatus

Observables = dict[str, Any]

#: Key under which ``theory`` may return the :class:`SolverStatus` of its solvers.
SOLVER_KEY = "solver"


# --------------------------------------------------------------------------------------------
# Params validation helpers (used in the ``__post_init__`` of every paper's Params)
# --------------------------------------------------------------------------------------------


def _values(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, tuple) else (value,)


def require_positive(name: str, value: Any, *, strict: bool = True) -> None:
    """Raise ``ValueError`` unless ``value`` (each entry of a tuple) is > 0 (≥ 0 if not strict)."""
    for v in _values(value):
        ok = math.isfinite(v) and (v > 0 if strict else v >= 0)
        if not ok:
            bound = "> 0" if strict else ">= 0"
            raise ValueError(f"{name} must be {bound} and finite, got {v!r}")


def require_range(name: str, value: Any, low: float, high: float) -> None:
    """Raise ``ValueError`` unless ``low <= value <= high`` (each entry of a tuple)."""
    for v in _values(value):
        if not (math.isfinite(v) and low <= v <= high):
            raise ValueError(f"{name} must be in [{low:g}, {high:g}], got {v!r}")


def require_int(name: str, value: Any, low: int, high: int | None = None) -> None:
    """Raise ``ValueError`` unless ``value`` is an int in ``[low, high]``."""
    for v in _values(value):
        if isinstance(v, bool) or not isinstance(v, int) or v < low or (high and v > high):
            allowed = f"[{low}, {high}]" if high else f">= {low}"
            raise ValueError(f"{name} must be an integer {allowed}, got {v!r}")


def require_nonempty(name: str, value: tuple[Any, ...]) -> None:
    """Raise ``ValueError`` if a tuple-valued (grid) field is empty."""
    if len(value) == 0:
        raise ValueError(f"{name} must have at least one value")


def require_centred_activation(name: str, spec: str) -> None:
    """Raise ``ValueError`` unless ``spec`` names an activation with E σ(z) = 0 for z ~ N(0, 1)
    (odd: tanh, erf, door, sign, ...) that also has a torch implementation for the simulation.

    The linearised feature covariances (κ1/κ* recursion) assume centred features; a mean
    (κ0 ≠ 0, e.g. relu) adds a rank-one spike that they do not model.
    """
    from theorylab.models.activations import TORCH_ACTIVATIONS
    from theorylab.theory.activations import parse_activation
    from theorylab.theory.hermite import hermite_coefficients

    try:
        act = parse_activation(spec)
        c0 = hermite_coefficients(act, variance=1.0).kappa0
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: {exc}") from None
    if act.name not in TORCH_ACTIVATIONS:
        raise ValueError(f"{name} must have a torch implementation, got {spec!r}")
    if abs(c0) > 1e-8:
        raise ValueError(
            f"{name} must have zero Gaussian mean (odd, e.g. tanh, erf, door, sign); "
            f"{spec!r} has κ0 = {c0:.3g}"
        )


def params_to_dict(params: Any) -> dict[str, Any]:
    """JSON-able dict of a Params instance (tuples become lists)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(params):
        v = getattr(params, f.name)
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


def field_types(params_cls: type) -> dict[str, Any]:
    """Resolved type hints of a Params dataclass."""
    return typing.get_type_hints(params_cls)


def coerce_field(params_cls: type, name: str, value: Any) -> Any:
    """Convert a JSON/CLI value to the declared type of ``params_cls.name`` (lists → tuples).

    Raises ``ValueError`` for an unknown name or a value of the wrong type.
    """
    hints = field_types(params_cls)
    if name not in hints:
        known = ", ".join(sorted(hints))
        raise ValueError(f"unknown parameter '{name}'; known parameters: {known}")
    return _coerce(name, hints[name], value)


def _coerce(name: str, tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(name, arg, value)
            except ValueError as exc:
                errors.append(str(exc))
        raise ValueError(errors[0] if errors else f"{name}: bad value {value!r}")
    if origin is tuple:
        item_tp = args[0] if args else Any
        items = value if isinstance(value, list | tuple) else [value]
        return tuple(_coerce(name, item_tp, v) for v in items)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "1", "yes", "false", "0", "no"}:
            return value.lower() in {"true", "1", "yes"}
        raise ValueError(f"{name} must be a boolean (true/false), got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value))
        except ValueError:
            raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if tp is float:
        if isinstance(value, bool):
            raise ValueError(f"{name} must be a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, got {value!r}") from None
    if tp is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string, got {value!r}")
        return value
    return value


def make_params(params_cls: type, overrides: Mapping[str, Any] | None = None) -> Any:
    """Build ``params_cls`` from defaults plus type-coerced ``overrides`` (validated)."""
    kwargs = {k: coerce_field(params_cls, k, v) for k, v in (overrides or {}).items()}
    return params_cls(**kwargs)


# --------------------------------------------------------------------------------------------
# Observables: declared axes, element labels
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observable:
    """Declaration of an observable: its axes (tuple-valued Params fields) and meaning."""

    description: str
    axes: tuple[str, ...] = ()


def iter_elements(
    value: Any, axes: Sequence[str], params: Any
) -> Iterator[tuple[dict[str, Any], float]]:
    """Yield ``(coordinates, scalar)`` for every element of an observable with ``axes``.

    Coordinates map each axis name to the Params value at that index. A scalar observable yields
    once with empty coordinates. Shapes that do not match the declared axes raise ``ValueError``.
    """
    arr = np.asarray(value, dtype=float)
    if not axes:
        if arr.ndim != 0:
            raise ValueError(f"observable declared scalar but has shape {arr.shape}")
        yield {}, float(arr)
        return
    grids = [getattr(params, a) for a in axes]
    expected = tuple(len(g) for g in grids)
    if arr.shape != expected:
        raise ValueError(
            f"observable with axes {tuple(axes)} has shape {arr.shape}, expected {expected}"
        )
    for idx in np.ndindex(*expected):
        coords = {a: grids[k][i] for k, (a, i) in enumerate(zip(axes, idx, strict=True))}
        yield coords, float(arr[idx])


def pad_ragged(rows: Sequence[Any], length: int) -> np.ndarray:
    """Stack per-layer profiles of different lengths (one per depth) into one array, NaN-padded
    along the first axis to ``length`` (so an observable keeps a fixed shape across depths)."""
    first = np.asarray(rows[0], dtype=float)
    out = np.full((len(rows), length, *first.shape[1:]), np.nan)
    for i, r in enumerate(rows):
        r = np.asarray(r, dtype=float)
        out[i, : r.shape[0]] = r
    return out


def element_label(observable: str, coords: Mapping[str, Any]) -> str:
    """``eg[alpha=0.5, lam=1]`` style label of one element."""
    if not coords:
        return observable
    inner = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in coords.items()
    )
    return f"{observable}[{inner}]"


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """One evaluated comparison (one element of an observable)."""

    observable: str
    theory: float
    simulation: float | None
    tolerance: float
    passed: bool
    kind: str
    reason: str
    value: float | None = None  # the compared theory value, for theory-only identities

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        if self.value is None:
            out.pop("value")
        return out


class Check(Protocol):
    """A check turns theory and simulation statistics into :class:`CheckResult` rows."""

    reason: str

    def evaluate(
        self,
        params: Any,
        theory: Observables,
        mean: Observables | None,
        sem: Observables | None,
        axes: Mapping[str, tuple[str, ...]],
    ) -> list[CheckResult]: ...

    @property
    def needs_simulation(self) -> bool: ...


def _finite_or_nan(x: float) -> float:
    return x if math.isfinite(x) else float("nan")


def _nothing_selected(observable: str, reason: str) -> CheckResult:
    """A failing row for a check whose ``where`` selected no element: it would pass vacuously."""
    return CheckResult(
        f"{observable} (no element selected)", math.nan, math.nan, 0.0, False, "empty", reason
    )


@dataclass(frozen=True)
class Agreement:
    """Simulation mean agrees with theory, element by element.

    Passes when ``|sim − theory| ≤ n_sem·sem + rtol·|theory| + atol``: ``n_sem`` standard errors
    of statistical error plus an allowance for finite-size bias at the quick size. ``reason``
    states where these numbers come from. ``where`` optionally restricts the checked elements
    (given the coordinates) — every exclusion must be explained in ``reason``.
    """

    observable: str
    reason: str
    n_sem: float = 3.0
    rtol: float = 0.0
    atol: float = 0.0
    where: Callable[[Mapping[str, Any]], bool] | None = field(default=None, compare=False)

    @property
    def needs_simulation(self) -> bool:
        return True

    def evaluate(self, params, theory, mean, sem, axes):
        if mean is None or sem is None:
            return []
        ax = axes.get(self.observable, ())
        rows = []
        th_it = iter_elements(theory[self.observable], ax, params)
        mean_it = iter_elements(mean[self.observable], ax, params)
        sem_it = iter_elements(sem[self.observable], ax, params)
        for (coords, t), (_, m), (_, s) in zip(th_it, mean_it, sem_it, strict=True):
            if self.where is not None and not self.where(coords):
                continue
            s = s if math.isfinite(s) else 0.0
            tol = self.n_sem * s + self.rtol * abs(t) + self.atol
            passed = bool(math.isfinite(m) and math.isfinite(t) and abs(m - t) <= tol)
            rows.append(
                CheckResult(
                    element_label(self.observable, coords),
                    t,
                    _finite_or_nan(m),
                    tol,
                    passed,
                    "agreement",
                    self.reason,
                )
            )
        return rows or [_nothing_selected(self.observable, self.reason)]


@dataclass(frozen=True)
class TheoryIdentity:
    """Two theory observables must coincide (e.g. ridge at λ* equals the Bayes-optimal error)."""

    observable: str
    reference: str
    reason: str
    atol: float = 1e-6

    @property
    def needs_simulation(self) -> bool:
        return False

    def evaluate(self, params, theory, mean, sem, axes):
        ax = axes.get(self.observable, ())
        rows = []
        pairs = zip(
            iter_elements(theory[self.observable], ax, params),
            iter_elements(theory[self.reference], axes.get(self.reference, ()), params),
            strict=True,
        )
        for (coords, value), (_, ref) in pairs:
            passed = bool(math.isfinite(value) and abs(value - ref) <= self.atol)
            label = element_label(f"{self.observable} = {self.reference}", coords)
            rows.append(
                CheckResult(
                    label, ref, None, self.atol, passed, "theory identity", self.reason, value=value
                )
            )
        return rows


_RELATIONS: dict[str, Callable[[float, float, float], bool]] = {
    "<=": lambda v, r, tol: v <= r + tol,
    ">=": lambda v, r, tol: v >= r - tol,
    "==": lambda v, r, tol: abs(v - r) <= tol,
}


@dataclass(frozen=True)
class Criterion:
    """A measured quantity must satisfy a relation: ``value <relation> reference`` within ``tol``.

    For claims that are not a theory curve but an inequality or an exact count: a bound that is
    a theorem (``bound_ratio <= 1``), a rank equal to the task's inner dimension, a plateau that
    starts at a predicted width. The tolerance is ``n_sem·sem + atol + rtol·|reference|``
    (``sem``: the standard error of a simulated ``observable``, 0 for a theory one):
    ``<=`` passes when ``value ≤ reference + tol``, ``>=`` when ``value ≥ reference − tol``,
    ``==`` when ``|value − reference| ≤ tol``.

    ``observable`` is read from the simulation mean (``source="simulation"``) or from the theory.
    ``reference`` is a number, a callable ``params -> number or array``, or the name of another
    observable read from ``reference_source``; a scalar reference is broadcast over the
    observable's axes, an array reference must have the observable's shape.
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
    where: Callable[[Mapping[str, Any]], bool] | None = field(default=None, compare=False)

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

    def _reference(self, params, theory, mean, shape) -> np.ndarray:
        if isinstance(self.reference, str):
            table = theory if self.reference_source == "theory" else mean
            ref = np.asarray(table[self.reference], dtype=float)
        elif callable(self.reference):
            ref = np.asarray(self.reference(params), dtype=float)
        else:
            ref = np.asarray(self.reference, dtype=float)
        if ref.shape != shape:
            if ref.ndim != 0:
                raise ValueError(
                    f"reference of {self.observable!r} has shape {ref.shape}, expected {shape}"
                )
            ref = np.broadcast_to(ref, shape)
        return ref

    def evaluate(self, params, theory, mean, sem, axes):
        from_sim = self.source == "simulation"
        if self.needs_simulation and mean is None:
            return []
        values = np.asarray((mean if from_sim else theory)[self.observable], dtype=float)
        ref = self._reference(params, theory, mean, values.shape)
        errs = np.zeros(values.shape)
        if from_sim and self.n_sem and sem is not None:
            errs = np.nan_to_num(np.asarray(sem[self.observable], dtype=float), nan=0.0)
        ax = axes.get(self.observable, ())
        compare = _RELATIONS[self.relation]
        ref_name = self.reference if isinstance(self.reference, str) else "reference"
        rows = []
        pairs = zip(
            iter_elements(values, ax, params),
            iter_elements(ref, ax, params),
            iter_elements(errs, ax, params),
            strict=True,
        )
        for (coords, v), (_, r), (_, e) in pairs:
            if self.where is not None and not self.where(coords):
                continue
            tol = self.n_sem * e + self.atol + self.rtol * abs(r)
            passed = bool(math.isfinite(v) and math.isfinite(r) and compare(v, r, tol))
            label = element_label(f"{self.observable} {self.relation} {ref_name}", coords)
            rows.append(
                CheckResult(
                    label,
                    r,
                    _finite_or_nan(v) if from_sim else None,
                    tol,
                    passed,
                    f"criterion {self.relation}",
                    self.reason,
                    value=None if from_sim else v,
                )
            )
        return rows or [_nothing_selected(self.observable, self.reason)]


# --------------------------------------------------------------------------------------------
# The Experiment
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """A further run of an experiment in its reproduction (e.g. another width), with checks."""

    name: str
    overrides: Mapping[str, Any]
    description: str


@dataclass(frozen=True)
class Experiment:
    """One paper, made runnable.

    Attributes
    ----------
    slug, arxiv, title, claim
        Identity and the one-paragraph claim being checked.
    params
        The frozen Params dataclass; its defaults are the quick setting.
    theory
        ``theory(params) -> observables`` (pure, numpy/scipy). May include ``"solver"``: a
        :class:`~theorylab.theory.fixed_point.SolverStatus`.
    simulate
        ``simulate(params, seed) -> observables`` with the same names (seeded, reproducible).
    observables
        Declarations (axes, meaning) of every observable.
    checks
        What must agree and how, with the tolerance's justification.
    figure
        ``figure(result) -> matplotlib Figure`` from a :class:`~theorylab.runner.run.RunResult`.
    seeds
        Number of seeds at the quick setting; ``full`` / ``full_seeds`` give the full setting.
    variants
        Further runs of the reproduction (each with the same checks).
    """

    slug: str
    arxiv: str
    title: str
    claim: str
    params: type
    theory: Callable[[Any], Observables]
    simulate: Callable[[Any, int], Observables]
    observables: Mapping[str, Observable]
    checks: tuple[Check, ...]
    figure: Callable[[Any], Any] | None = None
    seeds: int = 8
    full: Mapping[str, Any] = field(default_factory=dict)
    full_seeds: int | None = None
    variants: tuple[Variant, ...] = ()

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

    def split_theory(self, raw: Observables) -> tuple[Observables, SolverStatus]:
        """Separate the observables from the solver status returned by ``theory``."""
        obs = dict(raw)
        status = obs.pop(SOLVER_KEY, None) or SolverStatus.exact()
        return obs, status
