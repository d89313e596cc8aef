"""Gaussian expectations by Gauss–Hermite quadrature.

All rules here are for the *probabilists'* Hermite weight ``exp(-z**2 / 2)``, normalised so that
the weights sum to one: ``sum(w * f(z))`` approximates ``E f(z)`` for ``z ~ N(0, 1)``. An
``n``-node rule is exact for polynomials of degree ``2 n - 1``; for smooth integrands it converges
spectrally, for non-smooth ones (``sign``, ``relu``, ...) only algebraically, so use more nodes
(or a closed form) there.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.typing import ArrayLike
from scipy.special import roots_hermitenorm

__all__ = ["expect", "expect2", "gauss_hermite"]


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
