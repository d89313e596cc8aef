"""Deterministic equivalent of the test error of ridge regression.

Setting: features z ∈ R^p with population covariance Σ (eigenvalues s_i), labels
y = θ·z + ε with E ε² = σ², n i.i.d. samples, ridge estimator
ŵ = (ZᵀZ + λ I)⁻¹ Zᵀ y ("sum" convention: minimise Σ_μ (y_μ − w·z_μ)² + λ‖w‖²).
In the proportional limit n, p → ∞ the excess test error E_z (ŵ·z − θ·z)² concentrates on

    κ − λ/n = (κ/n) df₁(κ),               df₁ = Σ_i s_i/(s_i + κ),  df₂ = Σ_i s_i²/(s_i + κ)²,
    bias     = κ² Σ_i t_i s_i/(s_i + κ)² / (1 − df₂/n),
    variance = σ² (df₂/n) / (1 − df₂/n),

with t_i the squared projection of θ on the i-th eigen-direction (summed over an eigenspace).
Only ratios matter: scaling p, n and the multiplicities together leaves the result unchanged, so
a proportional-limit prediction can be computed with p = 1, n = n/p.

References
----------
Hastie, Montanari, Rosset, Tibshirani (2022), "Surprises in high-dimensional ridgeless least
squares interpolation", Thm. 5 (general Σ). Bach (2024), "High-dimensional analysis of double
descent for linear regression with random projections", Sec. 3 (same κ equation). In arXiv
2302.00375 (Cui, Krzakala, Zdeborová) the same prediction is written as replica equations for
V, q, m (Multilayer_Ridge_repl.ipynb of HugoCui/Bayes_extensive); the two agree, see the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import elementwise

from theorylab.theory.fixed_point import SolverStatus

__all__ = ["RidgeRisk", "Spectrum", "ridge_risk"]


@dataclass(frozen=True)
class Spectrum:
    """Eigenvalues of a population covariance, with (possibly fractional) multiplicities.

    ``target`` holds t_i, the squared projection of the teacher θ on each eigenspace (already
    summed over the multiplicity), so that ‖θ‖² = Σ_i t_i.
    """

    eigenvalues: np.ndarray
    multiplicity: np.ndarray
    target: np.ndarray

    def __post_init__(self) -> None:
        s = np.asarray(self.eigenvalues, dtype=float).ravel()
        m = np.broadcast_to(np.asarray(self.multiplicity, dtype=float), s.shape).copy()
        t = np.broadcast_to(np.asarray(self.target, dtype=float), s.shape).copy()
        if s.size == 0 or not np.all(np.isfinite(s)) or np.any(s < 0):
            raise ValueError("eigenvalues must be a non-empty array of finite values >= 0")
        if np.any(m < 0) or np.any(t < 0):
            raise ValueError("multiplicity and target must be >= 0")
        for name, arr in (("eigenvalues", s), ("multiplicity", m), ("target", t)):
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @classmethod
    def isotropic(cls, dim: float = 1.0, value: float = 1.0, target_norm2: float = 1.0) -> Spectrum:
        """Σ = value·I in ``dim`` dimensions, teacher of squared norm ``target_norm2``."""
        return cls(np.array([value]), np.array([dim]), np.array([target_norm2]))

    @classmethod
    def from_covariance(cls, covariance: np.ndarray, teacher: np.ndarray) -> Spectrum:
        """Spectrum of a finite covariance matrix with the teacher's projections."""
        s, u = np.linalg.eigh(np.asarray(covariance, dtype=float))
        proj = (u.T @ np.asarray(teacher, dtype=float)) ** 2
        return cls(np.clip(s, 0.0, None), np.ones_like(s), proj)

    @property
    def dim(self) -> float:
        return float(self.multiplicity.sum())


@dataclass(frozen=True)
class RidgeRisk:
    """Deterministic-equivalent quantities, broadcast over the (n, λ) grid given."""

    kappa: np.ndarray
    df1: np.ndarray
    df2: np.ndarray
    bias: np.ndarray
    variance: np.ndarray
    status: SolverStatus

    @property
    def excess_risk(self) -> np.ndarray:
        """E_z (ŵ·z − θ·z)²: the test error against the noiseless linear target."""
        return self.bias + self.variance


def _traces(spec: Spectrum, kappa: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = spec.eigenvalues
    k = np.asarray(kappa)[..., None]
    ratio = s / (s + k)
    df1 = (spec.multiplicity * ratio).sum(-1)
    df2 = (spec.multiplicity * ratio**2).sum(-1)
    bias_num = (spec.target * s / (s + k) ** 2).sum(-1)
    return df1, df2, bias_num


def ridge_risk(spectrum: Spectrum, noise: float, n, lam) -> RidgeRisk:
    """Deterministic equivalent of ridge regression, vectorised over ``n`` and ``lam``.

    Parameters
    ----------
    spectrum
        Population covariance of the features and the teacher's projections on it.
    noise
        σ², the variance of the part of the label that is not θ·z (label noise and any
        non-linear remainder that acts as noise).
    n
        Number of samples (array-like; broadcast with ``lam``).
    lam
        Ridge penalty λ ≥ 0 in the "sum" convention (array-like). λ = 0 needs n ≠ p.

    Returns
    -------
    RidgeRisk
        κ, df₁, df₂, bias and variance with the broadcast shape of ``n`` and ``lam``, and the
        root finder's status (never an unconverged value silently).
    """
    n_arr, lam_arr = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(lam, dtype=float))
    if np.any(n_arr <= 0) or np.any(lam_arr < 0):
        raise ValueError("n must be > 0 and lam >= 0")
    lam_n = lam_arr / n_arr
    trace = float((spectrum.multiplicity * spectrum.eigenvalues).sum())

    def g(kappa, lam_n_, n_):
        df1, _, _ = _traces(spectrum, kappa)
        return kappa * (1.0 - df1 / n_) - lam_n_

    lo = lam_n.copy()
    hi = lam_n + trace / n_arr
    # g(lo) = −λ/n·df1/n ≤ 0 and g(hi) ≥ 0: a valid bracket (degenerate when the root is 0).
    res = elementwise.find_root(
        g,
        (lo, hi + 1e-300),
        args=(lam_n, n_arr),
        tolerances={"xrtol": 4 * np.finfo(float).eps, "xatol": 1e-300},
    )
    kappa = np.asarray(res.x, dtype=float)
    df1, df2, bias_num = _traces(spectrum, kappa)
    denom = 1.0 - df2 / n_arr
    with np.errstate(divide="ignore", invalid="ignore"):
        bias = kappa**2 * bias_num / denom
        variance = noise * (df2 / n_arr) / denom
        rel_res = np.abs(np.asarray(res.f_x)) / np.maximum(kappa, np.finfo(float).tiny)
    finite = np.isfinite(bias) & np.isfinite(variance) & (denom > 0)
    converged = bool(np.all(np.asarray(res.success)) and np.all(finite))
    message = "" if converged else "κ root not bracketed/converged or 1 − df₂/n ≤ 0 (n = p, λ = 0?)"
    status = SolverStatus(
        converged=converged,
        iterations=int(np.max(res.nit)),
        residual=float(np.max(np.where(lam_n > 0, rel_res, np.abs(res.f_x)))),
        method="chandrupatla (scipy.optimize.elementwise.find_root)",
        message=message,
    )
    return RidgeRisk(kappa, df1, df2, bias, variance, status)
