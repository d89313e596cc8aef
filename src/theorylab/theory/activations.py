"""Named activation functions and the ``name(<scale>x)`` spec language.

An activation is written as a short string: a registered name (``"tanh"``) optionally with a
positive input scale (``"tanh(2x)"`` meaning ``x -> tanh(2 x)``). :func:`parse_activation` turns
such a string, an :class:`Activation` or any vectorised callable into an :class:`Activation`.
"""

from __future__ import annotations

import math
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = [
    "ACTIVATIONS",
    "DOOR_KNEE",
    "DOOR_SLOPE",
    "ODD_NAMES",
    "TORCH_NAMES",
    "Activation",
    "gaussian_mean",
    "parse_activation",
]


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _linear(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _gelu(x: np.ndarray) -> np.ndarray:
    # Exact GELU, x * Phi(x) = x * (1 + erf(x / sqrt 2)) / 2, with Phi = scipy.special.ndtr.
    return x * special.ndtr(x)


def _quadratic(x: np.ndarray) -> np.ndarray:
    return np.square(x)


def _cube(x: np.ndarray) -> np.ndarray:
    return np.power(x, 3)


def _softplus(x: np.ndarray) -> np.ndarray:
    # log(1 + e^x) without overflow.
    return np.logaddexp(0.0, x)


#: Slope and saturation point of the "door" activation of arXiv 2302.00401.
DOOR_SLOPE = 1.1
DOOR_KNEE = 2.0


def _door(x: np.ndarray) -> np.ndarray:
    # door(x) = 1.1 sign(x) min(|x|, 2): odd, linear with slope 1.1 on [-2, 2], flat outside
    # (HugoCui/dRF, Layerwise_Error_Ridge.ipynb; arXiv 2302.00401).
    return DOOR_SLOPE * np.clip(x, -DOOR_KNEE, DOOR_KNEE)


ACTIVATIONS: Mapping[str, Callable[[np.ndarray], np.ndarray]] = types.MappingProxyType(
    {
        "abs": np.abs,
        "cube": _cube,
        "door": _door,
        "erf": special.erf,
        "gelu": _gelu,
        "linear": _linear,
        "quadratic": _quadratic,
        "relu": _relu,
        "sigmoid": special.expit,
        "sign": np.sign,
        "sin": np.sin,
        "softplus": _softplus,
        "tanh": np.tanh,
    }
)
"""Read-only registry of numpy implementations, keyed by activation name."""

#: Names that also have a torch implementation (:mod:`theorylab.models.activations`; a test keeps
#: the two in step). Kept here so that validating a setting never imports torch.
TORCH_NAMES: frozenset[str] = frozenset(ACTIVATIONS)

#: Odd activations: E σ(z) = 0 exactly for any centred Gaussian z, at any input scale.
ODD_NAMES: frozenset[str] = frozenset({"cube", "door", "erf", "linear", "sign", "sin", "tanh"})


def _check_scale(scale: float, where: str) -> float:
    value = float(scale)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"activation scale must be finite and > 0, got {scale!r} in {where}")
    return value


@dataclass(frozen=True)
class Activation:
    """An activation ``x -> fn(scale * x)`` with a printable name.

    Parameters
    ----------
    name : str
        Name used in :attr:`spec` (a key of :data:`ACTIVATIONS` for registered activations).
    fn : callable
        Numpy-vectorised function.
    scale : float, default 1.0
        Positive, finite input scale.
    """

    name: str
    fn: Callable[[np.ndarray], np.ndarray]
    scale: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"activation name must be a non-empty string, got {self.name!r}")
        if not callable(self.fn):
            raise TypeError(f"activation fn must be callable, got {type(self.fn).__name__}")
        object.__setattr__(self, "scale", _check_scale(self.scale, f"activation {self.name!r}"))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Evaluate ``fn(scale * x)``."""
        if self.scale == 1.0:
            return self.fn(x)
        return self.fn(self.scale * np.asarray(x))

    @property
    def spec(self) -> str:
        """Canonical spec string: ``"tanh"`` or ``"tanh(2x)"`` (scale printed with ``:g``)."""
        if self.scale == 1.0:
            return self.name
        return f"{self.name}({self.scale:g}x)"

    @property
    def is_registered(self) -> bool:
        """Whether ``fn`` is the registered implementation of ``name`` in :data:`ACTIVATIONS`."""
        return ACTIVATIONS.get(self.name) is self.fn


_FLOAT = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_SPEC_RE = re.compile(rf"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(\s*({_FLOAT})\s*\*?\s*x\s*\)\s*)?$")
_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _allowed() -> str:
    return f"choose one of {', '.join(sorted(ACTIVATIONS))} or name(<scale>x) such as tanh(2x)"


def parse_activation(spec: str | Activation | Callable[[np.ndarray], np.ndarray]) -> Activation:
    """Turn a spec string, an :class:`Activation` or a callable into an :class:`Activation`.

    Parameters
    ----------
    spec : str, Activation or callable
        * a string ``"name"`` or ``"name(<scale>x)"`` (whitespace tolerated, an optional ``*``
          between scale and ``x``), with ``name`` a key of :data:`ACTIVATIONS` and ``<scale>`` a
          positive float such as ``2``, ``2.0``, ``.5`` or ``1e-1``;
        * an :class:`Activation`, returned unchanged;
        * any other callable, wrapped with its ``__name__`` (or ``"custom"`` when it has no
          usable name, e.g. a lambda) and scale 1.

    Returns
    -------
    Activation

    Raises
    ------
    ValueError
        For an unknown name, a malformed spec, or a non-positive / non-finite scale.
    TypeError
        For anything that is neither a string nor callable.
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        match = _SPEC_RE.match(spec)
        if match is None:
            raise ValueError(f"malformed activation spec {spec!r}; {_allowed()}")
        name, scale_text = match.groups()
        if name not in ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r}; {_allowed()}")
        scale = 1.0 if scale_text is None else _check_scale(float(scale_text), repr(spec))
        return Activation(name, ACTIVATIONS[name], scale)
    if callable(spec):
        name = getattr(spec, "__name__", None)
        if not isinstance(name, str) or not _IDENTIFIER_RE.match(name):
            name = "custom"
        return Activation(name, spec)
    raise TypeError(
        f"activation must be a string, an Activation or a callable, got {type(spec).__name__}"
    )


def gaussian_mean(spec: str | Activation) -> float:
    """E σ(z) for z ~ N(0, 1): exactly 0 for the odd names, else by Gaussian quadrature."""
    act = parse_activation(spec)
    if act.is_registered and act.name in ODD_NAMES:
        return 0.0
    from theorylab.theory.hermite import hermite_coefficients

    return float(hermite_coefficients(act, variance=1.0).kappa0)
