"""Matérn Gaussian-process samples and their compositions (data of arXiv 2407.05664).

The kernel of smoothness ν (Sobolev regularity W^{ν,2} of its samples, up to the usual
d/2 shift) with unit length scale and the authors' *root-mean-square* distance
r = ‖x − y‖/√d:

    k_ν(r) = 2^{1−ν}/Γ(ν) (√(2ν) r)^ν K_ν(√(2ν) r),   k_ν(0) = 1,

in closed form for half-integer ν = p + ½ (a polynomial times e^{−√(2ν) r}; Bessel K_ν is
slow on millions of distances), through scipy's K_ν otherwise. A sample is drawn jointly on all
points (training and test) by a Cholesky factor with a small jitter. :func:`composition`
draws g: R^{d_in} → R^{d_mid} (each coordinate an independent Matérn-ν_g sample) on the inputs
and h: R^{d_mid} → R^{d_out} (Matérn-ν_h) on g's values: the targets f*(x) = h(g(x)).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import cholesky
from scipy.special import gamma, kv

__all__ = ["composition", "matern_kernel", "rms_distances", "sample_gp"]


def matern_kernel(r: np.ndarray, nu: float) -> np.ndarray:
    """k_ν(r) for distances r ≥ 0 (unit variance and length scale)."""
    r = np.asarray(r, dtype=float)
    if nu <= 0:
        raise ValueError(f"nu must be > 0, got {nu}")
    s = math.sqrt(2.0 * nu) * r
    if float(nu - 0.5).is_integer():
        q = int(nu - 0.5)
        # k = e^{−s} q!/(2q)! Σ_i (q+i)!/(i!(q−i)!) (2s)^{q−i}
        coef = [
            math.factorial(q) / math.factorial(2 * q)
            * math.factorial(q + i) / (math.factorial(i) * math.factorial(q - i))
            for i in range(q + 1)
        ]  # fmt: skip
        return np.exp(-s) * sum(c * (2.0 * s) ** (q - i) for i, c in enumerate(coef))
    with np.errstate(invalid="ignore", over="ignore"):
        out = 2.0 ** (1.0 - nu) / gamma(nu) * s**nu * kv(nu, s)
    return np.where(s > 0, out, 1.0)


def rms_distances(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """‖a_i − b_j‖/√d for rows of ``a`` (n, d) and ``b`` (m, d)."""
    b = a if b is None else b
    sq = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0) / a.shape[1])


def sample_gp(
    rng: np.random.Generator, points: np.ndarray, nu: float, n_samples: int, jitter: float = 1e-6
) -> np.ndarray:
    """``n_samples`` independent Matérn-ν GP samples at ``points`` (n, d): shape (n, n_samples)."""
    k = matern_kernel(rms_distances(points), nu)
    k[np.diag_indices_from(k)] += jitter
    factor = cholesky(k, lower=True, check_finite=True)
    return factor @ rng.standard_normal((points.shape[0], n_samples))


def composition(
    rng: np.random.Generator,
    x: np.ndarray,
    *,
    nu_g: float,
    nu_h: float,
    d_mid: int,
    d_out: int,
    jitter: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray]:
    """``(g(x), h(g(x)))`` for Matérn samples g (ν_g, R^{d_in} → R^{d_mid}) and h (ν_h)."""
    z = sample_gp(rng, x, nu_g, d_mid, jitter)
    return z, sample_gp(rng, z, nu_h, d_out, jitter)
