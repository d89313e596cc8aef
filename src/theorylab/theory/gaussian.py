"""Gaussian expectations by Gauss–Hermite quadrature.

All rules here are for the *probabilists'* Hermite weight ``exp(-z**2 / 2)``, normalised so that
the weights sum to one: ``sum(w * f(z))`` approximates ``E f(z)`` for ``z ~ N(0, 1)``. An
``n``-node rule is exact for polynomials of degree ``2 n - 1``; for smooth integrands it converges
spectrally, for non-smooth ones (``sign``, ``relu``, ...) only algebraically, so use more nodes
(or a closed form) there.

:func:`expect_adaptive` computes a Gaussian expectation to a stated accuracy instead: a nested
trapezoidal rule whose step is halved until two successive rules agree, returning the value
together with an error estimate, the number of evaluations and a convergence flag.
"""

from __future__ import annotations

import functools
import math
import operator
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.typing import ArrayLike
from scipy.special import roots_hermitenorm

__all__ = [
    "AdaptiveExpectation",
    "QuadratureWarning",
    "expect",
    "expect2",
    "expect_adaptive",
    "gauss_hermite",
]


def _as_node_count(n: int) -> int:
    """Validate a quadrature size and return it as a plain ``int``."""
    try:
        count = operator.index(n)
    except TypeError:
        raise TypeError(f"n must be an integer, got {type(n).__name__}") from None
    if count < 1:
        raise ValueError(f"n must be >= 1, got {count}")
    return count


# numpy's hermegauss overflows (NaN weights) from about n = 380 on; above this size the
# asymptotic-expansion rule of scipy.special.roots_hermitenorm is used instead.
_HERMEGAUSS_MAX_N = 300


@functools.lru_cache(maxsize=64)
def _gauss_hermite_cached(n: int) -> tuple[np.ndarray, np.ndarray]:
    if n <= _HERMEGAUSS_MAX_N:
        nodes, weights = hermegauss(n)
    else:
        nodes, weights = roots_hermitenorm(n)
    weights = weights / weights.sum()
    nodes.setflags(write=False)
    weights.setflags(write=False)
    return nodes, weights


def gauss_hermite(n: int = 101) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for expectations over a standard Gaussian.

    Parameters
    ----------
    n : int, default 101
        Number of nodes (``>= 1``). The rule is exact for polynomials of degree ``<= 2 n - 1``.

    Returns
    -------
    z : numpy.ndarray
        Nodes, shape ``(n,)``, read-only.
    w : numpy.ndarray
        Weights, shape ``(n,)``, read-only, summing to one, so that ``w @ f(z) ≈ E f(z)`` for
        ``z ~ N(0, 1)``.

    Notes
    -----
    Uses ``numpy.polynomial.hermite_e.hermegauss`` for ``n <= 300`` and
    ``scipy.special.roots_hermitenorm`` above (``hermegauss`` overflows for ``n`` around 380).
    Results are cached (``functools.lru_cache``); the arrays are shared between callers, which
    is why they are returned read-only.
    """
    return _gauss_hermite_cached(_as_node_count(n))


def _reduce(values: np.ndarray) -> float | np.ndarray:
    """Return a Python float for 0-d results and the array otherwise."""
    if values.ndim == 0:
        return float(values)
    return values


def expect(
    f: Callable[[np.ndarray], ArrayLike],
    variance: ArrayLike = 1.0,
    mean: ArrayLike = 0.0,
    n: int = 101,
) -> float | np.ndarray:
    """Expectation ``E f(z)`` for ``z ~ N(mean, variance)`` by Gauss–Hermite quadrature.

    Parameters
    ----------
    f : callable
        Numpy-vectorised function. It is called once, on an array of shape
        ``broadcast(mean, variance).shape + (n,)`` (the quadrature nodes on the trailing axis),
        and must return an array broadcastable to that shape.
    variance : float or array_like, default 1.0
        Variance(s) ``>= 0``.
    mean : float or array_like, default 0.0
        Mean(s); broadcast against ``variance``.
    n : int, default 101
        Number of quadrature nodes.

    Returns
    -------
    float or numpy.ndarray
        A float when ``mean`` and ``variance`` are scalars, otherwise an array of their broadcast
        shape.
    """
    var = np.asarray(variance, dtype=float)
    mu = np.asarray(mean, dtype=float)
    if np.any(var < 0) or not np.all(np.isfinite(var)):
        raise ValueError("variance must be finite and >= 0")
    z, w = gauss_hermite(n)
    x = mu[..., None] + np.sqrt(var)[..., None] * z
    values = np.broadcast_to(np.asarray(f(x)), x.shape)
    return _reduce(values @ w)


def _factor_2x2(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower-triangular factor ``L = [[a, 0], [b, c]]`` with ``L L^T = cov``.

    Works for positive *semi*-definite matrices: where ``cov[..., 0, 0] == 0`` the first variable
    is identically zero (``a = b = 0``) and ``c = sqrt(cov[..., 1, 1])``; tiny negative values of
    the Schur complement from round-off are clipped to zero.
    """
    c11 = cov[..., 0, 0]
    c12 = cov[..., 0, 1]
    c22 = cov[..., 1, 1]
    scale = np.maximum(np.maximum(np.abs(c11), np.abs(c22)), np.finfo(float).tiny)
    tol = 1e-12 * scale
    if not np.all(np.isfinite(cov)):
        raise ValueError("cov must be finite")
    if not np.allclose(c12, cov[..., 1, 0], rtol=1e-12, atol=0.0):
        raise ValueError("cov must be symmetric")
    if np.any(c11 < -tol) or np.any(c22 < -tol):
        raise ValueError("cov must have non-negative variances on the diagonal")
    c11 = np.maximum(c11, 0.0)
    c22 = np.maximum(c22, 0.0)
    if np.any(c12**2 > c11 * c22 + tol * scale):
        raise ValueError("cov must be positive semi-definite (c12**2 <= c11 * c22)")
    a = np.sqrt(c11)
    positive = a > 0
    b = np.divide(c12, a, out=np.zeros_like(a), where=positive)
    c = np.sqrt(np.maximum(c22 - b**2, 0.0))
    return a, b, c


def expect2(
    f: Callable[[np.ndarray, np.ndarray], ArrayLike],
    cov: ArrayLike,
    n: int = 61,
) -> float | np.ndarray:
    """Expectation ``E f(u, v)`` for a centred Gaussian pair ``(u, v)`` with covariance ``cov``.

    Uses the tensor product of two ``n``-node Gauss–Hermite rules after writing
    ``u = a z1``, ``v = b z1 + c z2`` with ``z1, z2`` independent standard Gaussians
    (a Cholesky factorisation that also handles singular, e.g. perfectly correlated,
    covariances).

    Parameters
    ----------
    f : callable
        Numpy-vectorised function of two arrays. It is called once with ``u`` and ``v`` of shape
        ``batch + (n, n)`` and must return an array broadcastable to that shape.
    cov : array_like
        Symmetric positive semi-definite covariance, shape ``(2, 2)`` or batched ``(..., 2, 2)``.
    n : int, default 61
        Nodes per dimension (``n**2`` evaluations per covariance).

    Returns
    -------
    float or numpy.ndarray
        A float for a single ``(2, 2)`` covariance, otherwise an array of shape ``cov.shape[:-2]``.

    Notes
    -----
    The first variable's discontinuities at ``u = 0`` lie on a grid line, but those of ``v`` (the
    line ``b z1 + c z2 = 0``) generally do not, so for discontinuous ``f`` such as
    ``sign(u) sign(v)`` the error decays only like ``n**-1/2`` (about 5e-3 at ``rho = 0.3`` and
    4e-2 at ``rho = 0.7`` with ``n = 401``). Use closed forms (e.g. the arcsine kernel
    ``E sign(u) sign(v) = (2 / pi) arcsin(rho)``) for such integrands.
    """
    c = np.asarray(cov, dtype=float)
    if c.ndim < 2 or c.shape[-2:] != (2, 2):
        raise ValueError(f"cov must have shape (..., 2, 2), got {c.shape}")
    a, b, s = _factor_2x2(c)
    z, w = gauss_hermite(n)
    z1 = z[:, None]
    z2 = z[None, :]
    a = a[..., None, None]
    b = b[..., None, None]
    s = s[..., None, None]
    u, v = np.broadcast_arrays(a * z1, b * z1 + s * z2)
    values = np.broadcast_to(np.asarray(f(u, v)), u.shape)
    return _reduce(values @ w @ w)


# ------------------------------------------------------------------------------------------
# Error-controlled expectations
# ------------------------------------------------------------------------------------------

#: Default relative and absolute tolerances of the error-controlled rules.
DEFAULT_RTOL = 1e-12
DEFAULT_ATOL = 1e-12
#: Default cap on the number of integrand evaluations of the error-controlled rule: six step
#: halvings of the 65-node starting rule, 2 * 2048 + 1 nodes with step 13 / 2048 on [-13, 13].
DEFAULT_MAX_NODES = 4097

# Starting step and the half-widths (in standard deviations) of the truncated real line. The
# standard normal density is 1.1e-37 at 13 and ~1e-314 at 38: the wider windows are used only
# when the integrand is not negligible near the edge of the narrower one (fast-growing f).
_STEP0 = 13.0 / 32
_HALF_WIDTHS = (13.0, 26.0, 38.0)
# Error estimate of the finer of two successive rules, d_j = |Q_{h/2} - Q_h|:
#   2 d_j                  if d_j <= 1e-3 d_{j-1} (geometric convergence: d_j is then a gross
#                          over-estimate, the true error being of order d_j**2),
#   max(2 d_j, d_{j-1})    otherwise (algebraic convergence of an integrand with kinks or jumps,
#                          where the error oscillates with the offset of the kinks from the grid
#                          and d_j alone can be smaller than the error),
# plus _ROUNDOFF sum |w f| and the truncation proxy.
_SAFETY = 2.0
_GEOMETRIC_RATIO = 1e-3
_ROUNDOFF = 8 * float(np.finfo(float).eps)


class QuadratureWarning(RuntimeWarning):
    """An error-controlled rule stopped at its node cap before reaching the tolerance."""


@dataclass(frozen=True)
class AdaptiveExpectation:
    """Result of :func:`expect_adaptive`.

    Attributes
    ----------
    value : float or numpy.ndarray
        The expectation(s).
    error : float or numpy.ndarray
        Estimated absolute error of ``value`` (same shape).
    nodes : int
        Number of points at which the integrand was evaluated.
    converged : bool
        Whether ``error <= atol + rtol * |value|`` holds for every component (or, where that
        tolerance is below the round-off level ``8 eps E|f|`` of the sum, whether the last two
        rules agree to round-off).
    """

    value: float | np.ndarray
    error: float | np.ndarray
    nodes: int
    converged: bool


@dataclass(frozen=True)
class _RealLineIntegral:
    value: np.ndarray  # (q,)
    error: np.ndarray  # (q,)
    nodes: int
    converged: bool


def _check_accuracy_options(rtol: float, atol: float, max_nodes: int) -> tuple[float, float, int]:
    """Validate ``rtol``, ``atol`` (finite, >= 0, not both 0) and ``max_nodes`` (>= 1)."""
    rtol, atol = float(rtol), float(atol)
    if not (math.isfinite(rtol) and math.isfinite(atol) and rtol >= 0 and atol >= 0):
        raise ValueError(f"rtol and atol must be finite and >= 0, got {rtol!r}, {atol!r}")
    if rtol == 0 and atol == 0:
        raise ValueError("rtol and atol must not both be 0")
    return rtol, atol, _as_node_count(max_nodes)


def _integrate_real_line(
    integrand: Callable[[np.ndarray], np.ndarray],
    *,
    rtol: float,
    atol: float | np.ndarray,
    max_nodes: int,
    what: str = "integrand",
) -> _RealLineIntegral:
    """``∫ F(g) dg`` over the real line, for ``F`` decaying at least like ``exp(-g**2 / 2)``.

    ``integrand`` maps nodes of shape ``(n,)`` to values of shape ``(q, n)`` (``q`` integrands
    sharing the nodes). The truncated trapezoidal rule with step ``h`` on ``[-T, T]`` converges
    geometrically, like ``exp(-2 pi d / h)``, for ``F`` analytic in the strip ``|Im g| < d``;
    halving ``h`` reuses every node. The step is halved until ``error <= atol + rtol |value|``
    holds for every row, or until the next level would exceed ``max_nodes`` evaluations (the
    first halving is always done, so that an error estimate exists). ``atol`` may hold one value
    per row. A row whose tolerance is below its round-off level ``8 eps sum |h F|`` (strong
    cancellation) counts as converged once the two rules agree to that level.
    """

    def evaluate(g: np.ndarray) -> np.ndarray:
        values = np.asarray(integrand(g), dtype=float)
        return np.broadcast_to(values, (*values.shape[:-1], g.size)).reshape(-1, g.size)

    h = _STEP0
    half_width = _HALF_WIDTHS[0]
    m = round(half_width / h)
    g = h * np.arange(-m, m + 1)
    values = evaluate(g)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{what} is not finite on the quadrature nodes")
    atol_rows = np.broadcast_to(np.asarray(atol, dtype=float), values.shape[:1])

    # Widen the window while the integrand is not negligible over its last unit.
    for wider in _HALF_WIDTHS[1:]:
        edge = h * np.sum(np.abs(values[:, np.abs(g) > half_width - 1]), axis=-1)
        if np.all(edge <= 1e-3 * (atol_rows + rtol * np.abs(h * values.sum(-1)))):
            break
        m_wide = round(wider / h)
        outer = h * np.concatenate([np.arange(-m_wide, -m), np.arange(m + 1, m_wide + 1)])
        try:
            with np.errstate(all="ignore"):
                outer_values = evaluate(outer)
        except (ValueError, ArithmeticError):  # the integrand rejects the wider window
            break
        if not np.all(np.isfinite(outer_values)):
            break
        g = np.concatenate([g, outer])
        values = np.concatenate([values, outer_values], axis=-1)
        half_width, m = wider, m_wide
    # Proxy for the truncation error: the integral of |F| over the last unit of the window.
    edge = h * np.sum(np.abs(values[:, np.abs(g) > half_width - 1]), axis=-1)

    total = h * values.sum(-1)
    absolute = h * np.abs(values).sum(-1)
    nodes = g.size
    # The starting grid contains the rule of step 2 h (its even nodes): its difference from the
    # starting rule is the "previous difference" of the first halving.
    even = np.round(g / h).astype(np.int64) % 2 == 0
    previous_diff = np.abs(total - 2 * h * values[:, even].sum(-1))
    error = np.full_like(total, np.inf)
    converged = False
    first = True
    while first or nodes + 2 * m <= max_nodes:
        first = False
        mid = h * (np.arange(-m, m) + 0.5)
        mid_values = evaluate(mid)
        if not np.all(np.isfinite(mid_values)):
            raise ValueError(f"{what} is not finite on the quadrature nodes")
        refined = 0.5 * total + 0.5 * h * mid_values.sum(-1)
        absolute = 0.5 * absolute + 0.5 * h * np.abs(mid_values).sum(-1)
        diff = np.abs(refined - total)
        geometric = diff <= _GEOMETRIC_RATIO * previous_diff
        estimate = np.where(geometric, _SAFETY * diff, np.maximum(_SAFETY * diff, previous_diff))
        roundoff = _ROUNDOFF * absolute
        error = estimate + roundoff + edge
        previous_diff = diff
        total = refined
        nodes += 2 * m
        h, m = 0.5 * h, 2 * m
        # A tolerance below the round-off level (cancellation in the sum) cannot be reached:
        # it is met when the successive rules agree to round-off.
        if np.all(estimate + edge <= np.maximum(atol_rows + rtol * np.abs(total), roundoff)):
            converged = True
            break
    return _RealLineIntegral(total, error, nodes, converged)


def expect_adaptive(
    f: Callable[[np.ndarray], ArrayLike],
    variance: float = 1.0,
    mean: float = 0.0,
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> AdaptiveExpectation:
    """Expectation ``E f(z)``, ``z ~ N(mean, variance)``, to a stated accuracy.

    A truncated trapezoidal rule in ``g = (z - mean) / sqrt(variance)`` on ``[-13, 13]``
    (widened up to ``[-38, 38]`` when ``f(z)`` times the density is not negligible near the edge),
    starting with 65 nodes (step 13/32) and halving the step, which reuses every node, until two
    successive rules agree: ``error <= atol + rtol * |value|``.

    Parameters
    ----------
    f : callable
        Numpy-vectorised function, called on 1-D arrays of points. It returns an array of the
        same shape, or of shape ``s + (n,)`` for several integrands at once (``n`` points).
    variance : float, default 1.0
        Variance ``>= 0``.
    mean : float, default 0.0
        Mean.
    rtol, atol : float, default 1e-12
        Relative and absolute tolerance.
    max_nodes : int, default 4097
        Cap on the number of evaluations of ``f`` (at least the first two levels, 129 nodes, are
        always evaluated).

    Returns
    -------
    AdaptiveExpectation
        ``value`` (a float, or an array of shape ``s``), ``error`` (estimated absolute error),
        ``nodes`` and ``converged``.

    Warns
    -----
    QuadratureWarning
        When the tolerance is not reached within ``max_nodes`` evaluations; the result is still
        returned, with ``converged=False`` and an honest ``error``.

    Notes
    -----
    For ``f`` analytic in a strip ``|Im z| < d`` the error decays like ``exp(-2 pi d / (h sd))``,
    so even steep functions such as ``tanh(10 z)`` converge within the default cap; the reported
    error ``2 |Q_{h/2} - Q_h|`` (plus round-off and truncation terms) then over-estimates the
    true error by orders of magnitude. For ``f`` with kinks or jumps the rule converges only
    like ``h**2`` or ``h``: it usually stops at the cap with ``converged=False``; the estimate
    still bounds the error there. Use a closed form, or split the integral at the kinks
    (:func:`scipy.integrate.quad`), for such functions.
    """
    rtol, atol, max_nodes = _check_accuracy_options(rtol, atol, max_nodes)
    var, mu = float(variance), float(mean)
    if not (math.isfinite(var) and var >= 0 and math.isfinite(mu)):
        raise ValueError(f"variance must be finite and >= 0 and mean finite, got {var!r}, {mu!r}")
    sd = math.sqrt(var)
    shape: list[tuple[int, ...]] = []

    def integrand(g: np.ndarray) -> np.ndarray:
        values = np.asarray(f(mu + sd * g), dtype=float)
        if values.shape[-1:] != g.shape:
            values = np.broadcast_to(values, g.shape)
        if not shape:
            shape.append(values.shape[:-1])
        return values * _standard_density(g)

    result = _integrate_real_line(integrand, rtol=rtol, atol=atol, max_nodes=max_nodes)
    if not result.converged:
        warnings.warn(
            f"expect_adaptive: tolerance (rtol={rtol:g}, atol={atol:g}) not reached with "
            f"{result.nodes} nodes; estimated error {np.max(result.error):.2e}",
            QuadratureWarning,
            stacklevel=2,
        )
    value = result.value.reshape(shape[0])
    error = result.error.reshape(shape[0])
    return AdaptiveExpectation(_reduce(value), _reduce(error), result.nodes, result.converged)


_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _standard_density(g: np.ndarray) -> np.ndarray:
    """The standard normal density ``exp(-g**2 / 2) / sqrt(2 pi)``."""
    return _INV_SQRT_2PI * np.exp(-0.5 * np.square(g))
