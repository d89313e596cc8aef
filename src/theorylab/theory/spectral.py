"""Spectral tools: Stieltjes transforms, resolvent fixed points, densities and spectral quadrature.

Conventions. For a probability measure μ on the real line the Stieltjes transform is
``g(z) = ∫ dμ(x) / (x − z)``, analytic off the support, ``Im g > 0`` for ``Im z > 0`` and
``g(z) ≈ −1/z`` at infinity; the density is ``ρ(x) = lim_{ε↓0} Im g(x + iε) / π``.

* :class:`SpectralMeasure` — a discrete quadrature ``⟨f(D)⟩ ≈ Σ_j w_j f(x_j)`` of a spectral
  distribution, used wherever an equation averages a function of the eigenvalues (the
  spiked-random-features fixed point of :mod:`theorylab.theory.spiked_rf`).
* Marchenko–Pastur (MP) in closed form: edges, density, Stieltjes transform, and a quadrature
  that is exponentially accurate for functions analytic near the support (the substitution
  ``x = a + (b − a) sin² φ`` removes the square-root edges; the midpoint rule in φ is then the
  periodic trapezoid rule).
* :func:`solve_resolvent` — a self-consistent resolvent equation ``g = F(g, z)`` (vector of
  complex unknowns per ``z``) solved by damped iteration with a :class:`SolverStatus`, with
  continuation along ``x``: the grid is solved in blocks, each block started from the solution
  of the previous one; :func:`density_from_stieltjes` turns ``Im g(x + iε)`` into a density and
  :func:`measure_from_density` into a quadrature.

MP convention: ``A = W Wᵀ`` (p × p) with ``W`` p × d of i.i.d. entries of variance ``scale/d``,
``ratio = p/d``; its spectral distribution tends to MP with edges ``scale (1 ± √ratio)²`` and an
atom ``1 − 1/ratio`` at zero when ``ratio > 1`` (Marchenko & Pastur 1967; Bai & Silverstein,
*Spectral Analysis of Large Dimensional Random Matrices*, Ch. 3).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from theorylab.theory.fixed_point import SolverStatus, solve_fixed_point

__all__ = [
    "SpectralMeasure",
    "density_bin_masses",
    "density_cdf",
    "density_from_stieltjes",
    "density_quantiles",
    "marchenko_pastur_density",
    "marchenko_pastur_edges",
    "marchenko_pastur_map",
    "marchenko_pastur_measure",
    "marchenko_pastur_stieltjes",
    "measure_from_density",
    "solve_resolvent",
]


@dataclass(frozen=True)
class SpectralMeasure:
    """A discrete spectral distribution: nodes ``x_j`` with weights ``w_j`` (summing to one).

    ``mean(values)`` is ``Σ_j w_j values[..., j]`` (``values`` evaluated on :attr:`nodes` on the
    last axis).
    """

    nodes: np.ndarray
    weights: np.ndarray

    def __post_init__(self) -> None:
        x = np.asarray(self.nodes, dtype=float)
        w = np.asarray(self.weights, dtype=float)
        if x.shape != w.shape or x.ndim != 1 or x.size == 0:
            raise ValueError("nodes and weights must be 1-d arrays of the same, non-zero length")
        if np.any(w < 0) or not math.isclose(float(w.sum()), 1.0, rel_tol=1e-9):
            raise ValueError("weights must be >= 0 and sum to one")
        object.__setattr__(self, "nodes", x)
        object.__setattr__(self, "weights", w)

    def mean(self, values: ArrayLike) -> np.ndarray | float:
        out = np.asarray(values) @ self.weights
        return float(out) if np.ndim(out) == 0 else out

    def scaled(self, factor: float) -> SpectralMeasure:
        """The distribution of ``factor · D``."""
        return SpectralMeasure(factor * self.nodes, self.weights)

    def stieltjes(self, z: ArrayLike) -> np.ndarray:
        """``g(z) = ⟨1/(D − z)⟩``."""
        z = np.asarray(z, dtype=complex)
        return (1.0 / (self.nodes - z[..., None])) @ self.weights


# --------------------------------------------------------------------------------------------
# Marchenko–Pastur in closed form
# --------------------------------------------------------------------------------------------


def _check_mp(ratio: float, scale: float) -> None:
    if not (math.isfinite(ratio) and ratio > 0 and math.isfinite(scale) and scale > 0):
        raise ValueError(f"ratio and scale must be finite and > 0, got {ratio!r}, {scale!r}")


def marchenko_pastur_edges(ratio: float, scale: float = 1.0) -> tuple[float, float]:
    """Edges ``scale (1 ∓ √ratio)²`` of the MP bulk."""
    _check_mp(ratio, scale)
    s = math.sqrt(ratio)
    return scale * (1.0 - s) ** 2, scale * (1.0 + s) ** 2


def marchenko_pastur_density(x: ArrayLike, ratio: float, scale: float = 1.0) -> np.ndarray:
    """Bulk density ``√((b − x)(x − a)) / (2π scale ratio x)`` on ``[a, b]`` (0 outside; the
    atom at zero for ``ratio > 1`` is not included)."""
    a, b = marchenko_pastur_edges(ratio, scale)
    x = np.asarray(x, dtype=float)
    inside = (x > a) & (x < b)
    safe = np.where(inside, x, 1.0)
    rad = np.where(inside, (b - safe) * (safe - a), 0.0)
    return np.where(inside, np.sqrt(rad) / (2 * math.pi * scale * ratio * safe), 0.0)


def marchenko_pastur_stieltjes(z: ArrayLike, ratio: float, scale: float = 1.0) -> np.ndarray:
    """Closed-form ``g(z)``: the root of ``r s z g² + (z − s(1 − r)) g + 1 = 0`` (``r`` the
    ratio, ``s`` the scale) with ``g ≈ −1/z`` at infinity, for any ``z`` off ``[a, b] ∪ {0}``."""
    a, b = marchenko_pastur_edges(ratio, scale)
    z = np.asarray(z, dtype=complex)
    root = np.sqrt(z - a) * np.sqrt(z - b)  # the branch that behaves like z at infinity
    return (scale * (1.0 - ratio) - z + root) / (2.0 * ratio * scale * z)


def marchenko_pastur_map(ratio: float, scale: float = 1.0) -> Callable:
    """The self-consistent MP equation ``g = 1 / (s(1 − r) − z − r s z g)`` as a map
    ``(g, z) -> g`` for :func:`solve_resolvent` (one unknown per ``z``)."""
    _check_mp(ratio, scale)

    def step(g: np.ndarray, z: np.ndarray) -> np.ndarray:
        return 1.0 / (scale * (1.0 - ratio) - z[:, None] - ratio * scale * z[:, None] * g)

    return step


def marchenko_pastur_measure(ratio: float, scale: float = 1.0, n: int = 400) -> SpectralMeasure:
    """Quadrature of MP: ``x = a + (b − a) sin² φ`` with the midpoint rule on ``φ ∈ [0, π/2]``
    (``n`` nodes), plus the atom ``1 − 1/ratio`` at zero when ``ratio > 1``.

    In φ the integrand ``ρ(x) dx/dφ = (b − a)² sin²φ cos²φ / (π s r x)`` is smooth and periodic,
    so ``⟨f(D)⟩`` converges exponentially in ``n`` for ``f`` analytic near ``[a, b]``.
    """
    a, b = marchenko_pastur_edges(ratio, scale)
    phi = (np.arange(n) + 0.5) * (0.5 * math.pi / n)
    x = a + (b - a) * np.sin(phi) ** 2
    w = (b - a) ** 2 * (np.sin(phi) * np.cos(phi)) ** 2 / (math.pi * scale * ratio * x)
    bulk = min(1.0, 1.0 / ratio)
    w = w * bulk / w.sum()
    if ratio > 1.0:
        x = np.concatenate([[0.0], x])
        w = np.concatenate([[1.0 - bulk], w])
    return SpectralMeasure(x, w / w.sum())


# --------------------------------------------------------------------------------------------
# Resolvent equations and densities
# --------------------------------------------------------------------------------------------


def solve_resolvent(
    step: Callable[[np.ndarray, np.ndarray], np.ndarray],
    z: ArrayLike,
    g0: ArrayLike,
    *,
    damping: float = 0.5,
    tol: float = 1e-10,
    max_iter: int = 20_000,
    block: int = 64,
    method: str = "damped",
    newton_after: int = 30,
) -> tuple[np.ndarray, SolverStatus]:
    """Solve ``g = step(g, z)`` on a grid of complex ``z`` (``Im z > 0``).

    Parameters
    ----------
    step : callable
        ``step(g, z) -> g`` with ``g`` of shape ``(len(z), k)`` (k complex unknowns per point).
    z : array_like
        Complex points, ordered along the real axis (continuation follows that order).
    g0 : array_like
        Start of the first block, shape ``(k,)`` (e.g. ``−1/z`` far from the spectrum).
    damping : float, default 0.5
        ``g <- (1 − d) step(g) + d g`` (see :func:`solve_fixed_point`).
    tol, max_iter
        Convergence criterion of :func:`solve_fixed_point` per block.
    block : int, default 64
        Points solved together; each block starts from the last solution of the previous one.
    method : {"damped", "newton"}, default "damped"
        ``"newton"``: ``newton_after`` damped steps, then Newton's method on ``g − step(g)``
        point by point (vectorised; ``step`` must be holomorphic in ``g``, so the k × k complex
        Jacobian is taken by forward differences). Near the real axis the damped map contracts
        only like ``1 − O(Im z)``; Newton converges quadratically from the damped start.

    Returns
    -------
    g : numpy.ndarray, shape ``(len(z), k)``
    status : SolverStatus
        Combined over the blocks (``converged`` only if every block converged).
    """
    z = np.atleast_1d(np.asarray(z, dtype=complex))
    start = np.atleast_1d(np.asarray(g0, dtype=complex))
    k = start.size
    out = np.empty((z.size, k), dtype=complex)
    statuses = []
    for lo in range(0, z.size, block):
        zb = z[lo : lo + block]

        def real_step(v: np.ndarray, zb: np.ndarray = zb) -> np.ndarray:
            g = v[..., 0] + 1j * v[..., 1]
            new = np.asarray(step(g, zb), dtype=complex)
            return np.stack([new.real, new.imag], axis=-1)

        init = np.broadcast_to(start, (zb.size, k))
        v0 = np.stack([init.real, init.imag], axis=-1)
        iters = max_iter if method == "damped" else newton_after
        res = solve_fixed_point(real_step, v0, damping=damping, tol=tol, max_iter=iters)
        v = np.asarray(res.x)
        out[lo : lo + block] = v[..., 0] + 1j * v[..., 1]
        status = res.status
        if method == "newton" and not status.converged:
            out[lo : lo + block], status = _newton(step, zb, out[lo : lo + block], tol, 50)
        statuses.append(status)
        start = out[lo + zb.size - 1]
    return out, SolverStatus.combine(*statuses)


def _newton(step, z, g, tol, max_iter) -> tuple[np.ndarray, SolverStatus]:
    """Vectorised Newton iteration on ``g − step(g, z) = 0`` (k complex unknowns per z)."""
    k = g.shape[1]
    eye = np.eye(k)
    res = math.inf
    for it in range(1, max_iter + 1):
        f = step(g, z) - g
        res = float(np.max(np.abs(f))) if f.size else 0.0
        if not math.isfinite(res):
            return g, SolverStatus(False, it, res, "newton", "non-finite residual")
        if res <= tol * max(1.0, float(np.max(np.abs(g)))):
            return g, SolverStatus(True, it, res, "newton")
        jac = np.empty((*g.shape, k), dtype=complex)
        base = f + g
        for j in range(k):
            h = 1e-7 * (1.0 + np.abs(g[:, j]))
            shifted = g.copy()
            shifted[:, j] += h
            jac[:, :, j] = (step(shifted, z) - base) / h[:, None]
        g = g - np.linalg.solve(jac - eye, f[..., None])[..., 0]
    return g, SolverStatus(False, max_iter, res, "newton", f"max_iter={max_iter} reached")


def density_from_stieltjes(g: ArrayLike) -> np.ndarray:
    """``ρ(x) ≈ Im g(x + iε) / π`` (clipped at zero against round-off)."""
    return np.clip(np.imag(np.asarray(g)) / math.pi, 0.0, None)


def measure_from_density(x: ArrayLike, rho: ArrayLike) -> SpectralMeasure:
    """A quadrature of a density tabulated on an increasing grid (trapezoid weights,
    normalised to one: the bulk's own mass is not kept)."""
    x = np.asarray(x, dtype=float)
    rho = np.clip(np.asarray(rho, dtype=float), 0.0, None)
    if x.ndim != 1 or x.shape != rho.shape or x.size < 2 or np.any(np.diff(x) <= 0):
        raise ValueError("x must be an increasing 1-d grid and rho a density on it")
    dx = np.diff(x)
    w = np.zeros_like(x)
    w[:-1] += 0.5 * dx * rho[:-1]
    w[1:] += 0.5 * dx * rho[1:]
    if not w.sum() > 0:
        raise ValueError("the density has no mass on the grid")
    return SpectralMeasure(x, w / w.sum())


def density_cdf(x: ArrayLike, rho: ArrayLike) -> np.ndarray:
    """The CDF, normalised to one at ``x[-1]``, of a density tabulated on an increasing grid
    (trapezoid rule)."""
    x, rho = np.asarray(x, dtype=float), np.asarray(rho, dtype=float)
    if x.ndim != 1 or x.shape != rho.shape or x.size < 2 or np.any(np.diff(x) <= 0):
        raise ValueError("x must be an increasing 1-d grid and rho a density on it")
    cdf = np.concatenate([[0.0], np.cumsum(np.diff(x) * 0.5 * (rho[1:] + rho[:-1]))])
    if not cdf[-1] > 0:
        raise ValueError("the density has no mass on the grid")
    return cdf / cdf[-1]


def density_quantiles(x: ArrayLike, rho: ArrayLike, levels: ArrayLike) -> np.ndarray:
    """Quantiles at ``levels`` of the normalised density tabulated on ``x`` (linear in the CDF
    between grid points): the theory side of a quantile-by-quantile comparison with an
    empirical spectrum."""
    return np.interp(np.asarray(levels, dtype=float), density_cdf(x, rho), np.asarray(x, float))


def density_bin_masses(x: ArrayLike, rho: ArrayLike, edges: ArrayLike) -> np.ndarray:
    """Mass of the normalised density in each bin ``[edges[j], edges[j+1])`` (the theory side of
    a histogram)."""
    return np.diff(np.interp(np.asarray(edges, dtype=float), np.asarray(x, float),
                             density_cdf(x, rho)))  # fmt: skip
