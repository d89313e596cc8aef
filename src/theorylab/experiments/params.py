"""Declarative parameters: each field of a ``Params`` declares its type and constraint once.

A paper's setting is a frozen dataclass that derives from :class:`ParamsBase`; every field is
annotated with ``typing.Annotated`` metadata::

    @dataclass(frozen=True)
    class Params(ParamsBase):
        alpha: Annotated[tuple[float, ...], Range(0, 1e4, low_open=True), "sample ratios n/d"] = (
            0.5, 1.0)
        activation: Annotated[str, Activation(centred=True), "hidden activation"] = "tanh(2x)"
        depth: Annotated[int, Range(1, 20), "hidden layers"] = 2

One generic validator (:func:`validate`, run by ``ParamsBase.__post_init__``) checks the type
(bool is never a number, NaN and inf are refused unless a bound allows them) and every
constraint, entry by entry for tuple (grid) fields, and raises a one-line ``ValueError`` that
names the field and the allowed values. Relations between fields go in ``relations`` (a
:class:`Relation` names the field it blames). The same metadata prints the CLI's parameter help
(``theorylab params SLUG``). A plain string in the metadata is the field's description.

Why not pydantic: it is not a dependency of the project, its error messages are multi-line, and
this validator is ~200 lines that the CLI, the fuzz tests and the help text read directly.
Validation never imports torch.

Array-valued parameters (a covariance spectrum, a matrix) are declared with :class:`Array`;
their value is stored as (nested) tuples of floats, so Params stay hashable and JSON-able, and
the CLI reads them from a file: ``-p name=@path.npy`` (or ``.csv``/``.txt``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

import numpy as np

__all__ = [
    "Activation",
    "Array",
    "Choice",
    "FieldSpec",
    "NonNegative",
    "ParamsBase",
    "Positive",
    "Range",
    "Relation",
    "coerce_field",
    "field_specs",
    "is_grid",
    "load_array",
    "make_params",
    "params_to_dict",
    "validate",
]


# --------------------------------------------------------------------------------------------
# Constraints
# --------------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return "inf" if x == math.inf else "-inf" if x == -math.inf else f"{x:g}"


@dataclass(frozen=True)
class Range:
    """``low <= value <= high`` (open ends with ``low_open`` / ``high_open``); finite values
    only, unless a bound is itself infinite and ``allow_inf``."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    allow_inf: bool = False

    def describe(self) -> str:
        left = "(" if self.low_open or self.low == -math.inf else "["
        right = ")" if self.high_open or self.high == math.inf else "]"
        return f"in {left}{_fmt(self.low)}, {_fmt(self.high)}{right}"

    def check(self, value: Any) -> bool:
        v = float(value)
        if math.isnan(v) or (math.isinf(v) and not self.allow_inf):
            return False
        above = v > self.low if self.low_open else v >= self.low
        below = v < self.high if self.high_open else v <= self.high
        return above and below


def Positive(high: float = math.inf) -> Range:
    """``0 < value <= high``."""
    return Range(0.0, high, low_open=True)


def NonNegative(high: float = math.inf) -> Range:
    """``0 <= value <= high``."""
    return Range(0.0, high)


@dataclass(frozen=True)
class Choice:
    """``value`` is one of ``values``."""

    values: tuple[Any, ...]

    def __init__(self, *values: Any) -> None:
        object.__setattr__(self, "values", tuple(values))

    def describe(self) -> str:
        return "one of " + ", ".join(str(v) for v in self.values)

    def check(self, value: Any) -> bool:
        return value in self.values


@dataclass(frozen=True)
class Activation:
    """An activation spec of :mod:`theorylab.theory.activations` (``tanh``, ``tanh(2x)``, ...).

    ``centred``: E σ(z) = 0 for z ~ N(0, 1) (odd activations: tanh, erf, door, sign), needed
    where a theory linearises centred features. ``torch``: the simulation needs a torch version
    (checked against the torch-free list of names, so validation imports no torch).
    """

    centred: bool = False
    torch: bool = True

    def describe(self) -> str:
        from theorylab.theory.activations import TORCH_NAMES

        parts = ["an activation, e.g. tanh or tanh(2x)"]
        if self.torch:
            parts.append("with a simulation (" + ", ".join(sorted(TORCH_NAMES)) + ")")
        if self.centred:
            parts.append("of zero Gaussian mean (odd)")
        return " ".join(parts)

    def error(self, value: Any) -> str | None:
        from theorylab.theory.activations import TORCH_NAMES, gaussian_mean, parse_activation

        try:
            act = parse_activation(value)
        except (TypeError, ValueError) as exc:
            return str(exc)
        if self.torch and act.name not in TORCH_NAMES:
            return f"{value!r} has no simulation; choose one of {', '.join(sorted(TORCH_NAMES))}"
        if self.centred:
            mean = gaussian_mean(act)
            if abs(mean) > 1e-8:
                return (
                    f"must have zero Gaussian mean (odd, e.g. tanh, erf, door, sign); "
                    f"{value!r} has E σ(z) = {mean:.3g}"
                )
        return None


@dataclass(frozen=True)
class Array:
    """An array-valued parameter (stored as nested tuples of floats). ``ndim`` fixes the rank;
    ``shape`` entries that are not None fix sizes; entries must be finite and pass ``entries``
    (a :class:`Range`) if given. A CLI value ``@path`` loads ``.npy``, ``.csv`` or ``.txt``."""

    ndim: int
    shape: tuple[int | None, ...] | None = None
    entries: Range | None = None
    max_size: int = 10_000_000

    def describe(self) -> str:
        shape = "×".join("n" if s is None else str(s) for s in (self.shape or (None,) * self.ndim))
        rule = f", entries {self.entries.describe()}" if self.entries else ""
        return f"a {self.ndim}-d array ({shape}){rule}; from a file with @path.npy|.csv"

    def error(self, value: Any) -> str | None:
        arr = np.asarray(value, dtype=float)
        if arr.ndim != self.ndim:
            return f"must be a {self.ndim}-d array, got shape {arr.shape}"
        if arr.size == 0:
            return "must not be empty"
        if arr.size > self.max_size:
            return f"has {arr.size} entries, more than {self.max_size}"
        if self.shape is not None:
            for axis, want in enumerate(self.shape):
                if want is not None and arr.shape[axis] != want:
                    return f"must have size {want} along axis {axis}, got shape {arr.shape}"
        if not np.all(np.isfinite(arr)):
            return "must have finite entries"
        if self.entries is not None and not all(self.entries.check(x) for x in arr.ravel()):
            return f"must have entries {self.entries.describe()}"
        return None


@dataclass(frozen=True)
class Relation:
    """A constraint between fields: ``test(params)`` must hold; ``field`` is blamed."""

    field: str
    test: Callable[[Any], bool]
    message: str


# --------------------------------------------------------------------------------------------
# Field specs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """What one field declares: base type, grid or not, optional, constraints, description."""

    name: str
    base: type
    grid: bool
    optional: bool
    constraints: tuple[Any, ...]
    description: str
    default: Any

    @property
    def array(self) -> Array | None:
        return next((c for c in self.constraints if isinstance(c, Array)), None)

    def describe(self) -> str:
        """One line for the CLI's help: ``alpha  grid of float in (0, 1e4]  (default 0.5,1)``."""
        kind = f"grid of {self.base.__name__}" if self.grid else self.base.__name__
        if self.array is not None:
            kind = "array"
        rules = "; ".join(c.describe() for c in self.constraints if hasattr(c, "describe"))
        default = self.default
        if isinstance(default, tuple) and self.array is None:
            default = ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in default)
        elif self.array is not None and default is not None:
            default = f"array of shape {np.shape(default)}"
        opt = " or none" if self.optional else ""
        return f"{kind}{opt} {rules}".strip() + f" (default {default})"


def _unwrap(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    if typing.get_origin(tp) is Annotated:
        args = typing.get_args(tp)
        return args[0], tuple(args[1:])
    return tp, ()


def _split_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(args) < len(typing.get_args(tp)):
            return args[0], True
    return tp, False


@functools.cache
def field_specs(params_cls: type) -> dict[str, FieldSpec]:
    """The :class:`FieldSpec` of every field of a Params dataclass (cached per class)."""
    hints = typing.get_type_hints(params_cls, include_extras=True)
    specs: dict[str, FieldSpec] = {}
    for f in dataclasses.fields(params_cls):
        tp, meta = _unwrap(hints[f.name])
        tp, optional = _split_optional(tp)
        tp, meta2 = _unwrap(tp)
        meta = meta + meta2
        grid = typing.get_origin(tp) is tuple
        base = tp
        while typing.get_origin(base) is tuple:
            base = typing.get_args(base)[0]
        constraints = tuple(m for m in meta if not isinstance(m, str))
        if any(isinstance(c, Array) for c in constraints):
            grid = False
        description = " ".join(m for m in meta if isinstance(m, str))
        default = f.default if f.default is not dataclasses.MISSING else None
        specs[f.name] = FieldSpec(
            f.name, base, grid, optional, constraints, description, default
        )
    return specs


def is_grid(params_cls: type, name: str) -> bool:
    """Whether ``name`` is a grid (tuple-valued, comma-separated on the CLI) field."""
    spec = field_specs(params_cls).get(name)
    return bool(spec and spec.grid)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _type_error(spec: FieldSpec, value: Any) -> str | None:
    base = spec.base
    if base is bool:
        return None if isinstance(value, bool) else "must be true or false"
    if base is int:
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            return "must be an integer"
        return None
    if base is float:
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            return "must be a number"
        return None
    if base is str:
        return None if isinstance(value, str) else "must be a string"
    return None


def _entry_error(spec: FieldSpec, value: Any) -> str | None:
    err = _type_error(spec, value)
    if err:
        return err
    for c in spec.constraints:
        if isinstance(c, Array):
            continue
        if hasattr(c, "error"):
            msg = c.error(value)
            if msg:
                return msg
        elif hasattr(c, "check") and not c.check(value):
            return f"must be {c.describe()}"
    unbounded = not any(isinstance(c, Range) for c in spec.constraints)
    if spec.base is float and unbounded and not math.isfinite(float(value)):
        return "must be finite"
    return None


def validate(params: Any) -> None:
    """Check every field of ``params`` against its declaration, then its relations.

    Raises ``ValueError("<field> <what is wrong>, got <value>")`` on the first violation.
    """
    for name, spec in field_specs(type(params)).items():
        value = getattr(params, name)
        if value is None:
            if spec.optional:
                continue
            raise ValueError(f"{name} must be given, got None")
        if spec.array is not None:
            err = spec.array.error(value)
            if err:
                raise ValueError(f"{name} {err}")
            continue
        if spec.grid:
            if not isinstance(value, tuple):
                raise ValueError(f"{name} must be a tuple (a grid), got {value!r}")
            if len(value) == 0:
                raise ValueError(f"{name} must have at least one value")
            entries = value
        else:
            entries = (value,)
        for v in entries:
            err = _entry_error(spec, v)
            if err:
                got = "" if repr(v) in err else f", got {v!r}"
                raise ValueError(f"{name} {err}{got}")
    for rel in getattr(type(params), "relations", ()):
        if not rel.test(params):
            raise ValueError(f"{rel.field}: {rel.message}")


class ParamsBase:
    """Base of every paper's frozen Params dataclass: validated on construction.

    Subclasses may set ``relations: ClassVar[tuple[Relation, ...]]`` for constraints between
    fields.
    """

    relations: ClassVar[tuple[Relation, ...]] = ()

    def __post_init__(self) -> None:
        validate(self)


# --------------------------------------------------------------------------------------------
# Coercion from JSON / CLI values
# --------------------------------------------------------------------------------------------


def load_array(path: str | Path) -> np.ndarray:
    """Read an array parameter from ``.npy``, ``.csv`` or ``.txt`` (whitespace or commas)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    try:
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False)
        return np.loadtxt(path, delimiter="," if path.suffix == ".csv" else None, ndmin=1)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path}: {' '.join(str(exc).split())[:120]}") from None


def _nested_tuple(arr: np.ndarray) -> Any:
    if arr.ndim == 0:
        return float(arr)
    return tuple(_nested_tuple(a) for a in arr)


def _coerce_scalar(name: str, base: type, value: Any) -> Any:
    if base is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "1", "yes", "false", "0", "no"}:
            return value.lower() in {"true", "1", "yes"}
        raise ValueError(f"{name} must be true or false, got {value!r}")
    if base is int:
        if isinstance(value, bool):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if isinstance(value, int | np.integer):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if base is float:
        if isinstance(value, bool):
            raise ValueError(f"{name} must be a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, got {value!r}") from None
    if base is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string, got {value!r}")
        return value
    return value


def coerce_field(params_cls: type, name: str, value: Any) -> Any:
    """Convert a JSON/CLI value to the declared type of ``params_cls.name``.

    Lists become tuples; ``"none"`` is None for an optional field; an array field takes a
    nested list or ``"@path"``. Raises ``ValueError`` naming the field for an unknown name or a
    value of the wrong type.
    """
    specs = field_specs(params_cls)
    if name not in specs:
        raise ValueError(f"unknown parameter '{name}'; known parameters: {', '.join(specs)}")
    spec = specs[name]
    if spec.optional and (value is None or (isinstance(value, str) and value.lower() == "none")):
        return None
    if spec.array is not None:
        if isinstance(value, str) and value.startswith("@"):
            try:
                value = load_array(value[1:])
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be an array of numbers") from None
        return _nested_tuple(arr)
    if spec.grid:
        items = value if isinstance(value, list | tuple) else [value]
        return tuple(_coerce_scalar(name, spec.base, v) for v in items)
    if isinstance(value, list | tuple):
        raise ValueError(f"{name} takes one value, got {len(value)}")
    return _coerce_scalar(name, spec.base, value)


def make_params(params_cls: type, overrides: Mapping[str, Any] | None = None) -> Any:
    """Build ``params_cls`` from defaults plus type-coerced ``overrides`` (validated)."""
    kwargs = {k: coerce_field(params_cls, k, v) for k, v in (overrides or {}).items()}
    return params_cls(**kwargs)


def params_to_dict(params: Any) -> dict[str, Any]:
    """JSON-able dict of a Params instance (tuples become lists, recursively)."""

    def plain(v: Any) -> Any:
        return [plain(x) for x in v] if isinstance(v, tuple) else v

    return {f.name: plain(getattr(params, f.name)) for f in dataclasses.fields(params)}
