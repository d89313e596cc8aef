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

General features (:class:`FeatureMoments`, :func:`ridge_test_error`): the label need not be
linear in the features. Only Ω = E[XXᵀ], ψ = E[Xy] and E y² enter (arXiv 2402.13999, Thm. 3.3;
arXiv 2302.00401, Thm. 3.1 for deep random features): the best linear predictor β* = Ω⁻¹ψ plays
the teacher (t_i = (ψ̃_i/ω_i)² in the eigenbasis) and everything else, E y² − ψᵀΩ⁻¹ψ, acts as
label noise. This is the κ form of the m-equation/resolvent form of 2402.13999 (κ = 1/(n m)):

    E_gen = [E y² − Σ ψ̃_i²/(ω_i + κ) − κ Σ ψ̃_i²/(ω_i + κ)²] / [1 − df₂/n].
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from theorylab.theory.fixed_point import ConvergenceError, SolverStatus

__all__ = [
    "FeatureMoments",
    "RidgeRisk",
    "Spectrum",
    "optimal_ridge",
    "random_linear_target_error",
    "ridge_risk",
    "ridge_test_error",
]


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
    """df₁, df₂ and Σ_i t_i s_i/(s_i + κ)² at every κ: three matrix-vector products with
    1/(s + κ) and its square (one pass each over the (grid × p) array, no temporaries per sum)."""
    s = spec.eigenvalues
    inv = 1.0 / (s + np.asarray(kappa, dtype=float)[..., None])
    df1 = inv @ (spec.multiplicity * s)
    inv *= inv
    df2 = inv @ (spec.multiplicity * s * s)
    bias_num = inv @ (spec.target * s)
    return df1, df2, bias_num


def _solve_kappa(
    spectrum: Spectrum, lam_n: np.ndarray, n: np.ndarray, trace: float, max_iter: int = 200
) -> tuple[np.ndarray, int, np.ndarray]:
    """Root κ ≥ λ/n of g(κ) = κ(1 − df₁(κ)/n) − λ/n, vectorised.

    g is increasing and convex for κ above the root (g' = 1 − df₂/n, g'' = 2Σ s²/(s + κ)³/n > 0),
    and g(λ/n + tr Σ/n) ≥ 0: Newton's method started there decreases monotonically to the root
    (no bracketing needed) and converges quadratically near it. Iterates are kept ≥ λ/n (the
    root is never below). Stops at a relative step below 4 ε. Each grid point stops when it has
    converged (only the points still moving are iterated: a few points near an interpolation
    threshold need ~3× the median number of steps).
    """
    s, m = spectrum.eigenvalues, spectrum.multiplicity
    ms, ms2 = m * s, m * s * s
    kappa = np.array(lam_n + trace / n, dtype=float)
    flat = kappa.reshape(-1)  # a view: updated in place
    lam_flat = np.broadcast_to(lam_n, kappa.shape).reshape(-1)
    n_flat = np.broadcast_to(n, kappa.shape).reshape(-1)
    active = np.arange(flat.size)
    iterations = 0
    while active.size and iterations < max_iter:
        iterations += 1
        k, lam, nn = flat[active], lam_flat[active], n_flat[active]
        inv = 1.0 / (s + k[:, None])
        df1 = inv @ ms
        inv *= inv
        slope = 1.0 - (inv @ ms2) / nn
        g = k * (1.0 - df1 / nn) - lam
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(slope > 0, g / slope, 0.5 * (k - lam))
        new = np.clip(k - step, lam, k)
        flat[active] = new
        active = active[np.abs(k - new) > 4 * np.finfo(float).eps * k]
    done = np.ones(flat.size, dtype=bool)
    done[active] = False
    return kappa, iterations, done.reshape(kappa.shape)


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

    kappa, iterations, done = _solve_kappa(spectrum, lam_n, n_arr, trace)
    df1, df2, bias_num = _traces(spectrum, kappa)
    residual = kappa * (1.0 - df1 / n_arr) - lam_n
    denom = 1.0 - df2 / n_arr
    with np.errstate(divide="ignore", invalid="ignore"):
        bias = kappa**2 * bias_num / denom
        variance = noise * (df2 / n_arr) / denom
        rel_res = np.abs(residual) / np.maximum(kappa, np.finfo(float).tiny)
    finite = np.isfinite(bias) & np.isfinite(variance) & (denom > 0)
    converged = bool(np.all(done) and np.all(finite))
    message = "" if converged else "κ root not converged or 1 − df₂/n ≤ 0 (n = p, λ = 0?)"
    status = SolverStatus(
        converged=converged,
        iterations=iterations,
        residual=float(np.max(np.where(lam_n > 0, rel_res, np.abs(residual)), initial=0.0)),
        method="Newton from above on the convex κ equation",
        message=message,
    )
    return RidgeRisk(kappa, df1, df2, bias, variance, status)


# --------------------------------------------------------------------------------------------
# General features: population moments (Ω, ψ, E y²)
# --------------------------------------------------------------------------------------------

# Eigenvalues of Ω below this fraction of the largest are treated as exact zeros (round-off of
# eigh, or clipped negative eigenvalues of an empirical Ω).
_NULL_EIGENVALUE = 1e-13


@dataclass(frozen=True)
class FeatureMoments:
    """Population second moments of the regression features X ∈ R^p and the label y.

    Parameters
    ----------
    omega
        Ω = E[X Xᵀ], symmetric positive semi-definite, shape (p, p).
    psi
        ψ = E[X y], shape (p,); or shape (p, m) for a *random* target averaged exactly: the
        columns ψ_j with E[ψψᵀ] = Σ_j ψ_j ψ_jᵀ (e.g. ψ = Bθ/√m for a readout θ ~ N(0, I_m),
        given as the matrix B/√m). The test error is linear in ψψᵀ and E y², so the error of
        these averaged moments *is* the average error — no Monte Carlo over the target.
    label_power
        E[y²] (label noise included; averaged over the target when ``psi`` is a matrix).

    Notes
    -----
    The arrays are stored read-only. :meth:`spectrum` caches the one eigendecomposition of Ω, so a
    ``FeatureMoments`` can be reused over a whole (n, λ) grid at O(p) per point, and
    :meth:`retarget` reuses it for other targets on the same features.

    References
    ----------
    Schröder, Dmitriev, Cui, Loureiro (2024), arXiv 2402.13999, Thm. 3.3 (Ω, ψ, E y² are all
    that the ridge test error depends on).
    """

    omega: np.ndarray
    psi: np.ndarray
    label_power: float

    def __post_init__(self) -> None:
        omega = np.array(self.omega, dtype=float)
        psi = np.array(self.psi, dtype=float)
        psi = psi.ravel() if psi.ndim < 2 else psi
        if omega.ndim != 2 or omega.shape[0] != omega.shape[1] or omega.shape[0] == 0:
            raise ValueError(f"omega must be a non-empty square matrix, got shape {omega.shape}")
        if psi.ndim > 2 or psi.shape[0] != omega.shape[0]:
            raise ValueError(
                f"psi must have shape ({omega.shape[0]},) or ({omega.shape[0]}, m), got {psi.shape}"
            )
        if not (np.all(np.isfinite(omega)) and np.all(np.isfinite(psi))):
            raise ValueError("omega and psi must be finite")
        power = float(self.label_power)
        if not (np.isfinite(power) and power >= 0):
            raise ValueError(f"label_power must be >= 0 and finite, got {self.label_power!r}")
        omega = 0.5 * (omega + omega.T)
        omega.setflags(write=False)
        psi.setflags(write=False)
        object.__setattr__(self, "omega", omega)
        object.__setattr__(self, "psi", psi)
        object.__setattr__(self, "label_power", power)

    @property
    def dim(self) -> int:
        """p, the number of features."""
        return int(self.omega.shape[0])

    @functools.cached_property
    def _eigh(self) -> tuple[np.ndarray, np.ndarray]:
        source = self.__dict__.get("_eigh_source")
        if source is not None:  # a retargeted copy: share (and lazily trigger) the source's
            return source._eigh
        evals, evecs = np.linalg.eigh(self.omega)
        evals = np.clip(evals, 0.0, None)
        for arr in (evals, evecs):
            arr.setflags(write=False)
        return evals, evecs

    @functools.cached_property
    def _eigen(self) -> tuple[np.ndarray, np.ndarray]:
        """Eigenvalues ω_i and the squared projections Σ_j (u_i·ψ_j)² of the target."""
        evals, evecs = self._eigh
        proj2 = (evecs.T @ self.psi) ** 2
        proj2 = proj2.sum(axis=1) if proj2.ndim == 2 else proj2
        proj2.setflags(write=False)
        return evals, proj2

    @property
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of Ω (ascending, clipped at 0; computed once and cached)."""
        return self._eigh[0]

    def retarget(self, psi: np.ndarray, label_power: float) -> FeatureMoments:
        """The same features with another target (ψ, E y²), reusing the eigendecomposition of Ω
        (one O(p³) decomposition, computed when first needed, serves every target)."""
        other = FeatureMoments(self.omega, psi, label_power)
        other.__dict__["_eigh_source"] = self
        return other

    def spectrum(self) -> tuple[Spectrum, float]:
        """The best linear predictor in Ω's eigenbasis and the irreducible error.

        Returns
        -------
        (Spectrum, float)
            Eigenvalues ω_i of Ω (clipped at 0) with t_i = (ψ̃_i/ω_i)², ψ̃ = Uᵀψ (summed over the
            columns of a matrix ψ) — the squared projections of the best linear predictor
            β* = Ω⁻¹ψ, which plays the teacher of :func:`ridge_risk` (its convention:
            ‖θ‖² = Σ t_i) — and
            σ_ε² = E y² − Σ_i ψ̃_i²/ω_i = E y² − β*ᵀΩβ* ≥ 0, the error of β* (acts as label
            noise). Directions with ω_i ≤ 1e-13·max ω carry t_i = 0 (for true moments ψ̃_i = 0
            there by Cauchy–Schwarz).
        """
        return self._spectrum

    @functools.cached_property
    def _spectrum(self) -> tuple[Spectrum, float]:
        """:meth:`spectrum`, computed once (the same moments serve a whole (n, λ) grid)."""
        evals, proj2 = self._eigen
        live = evals > _NULL_EIGENVALUE * max(float(evals.max()), np.finfo(float).tiny)
        safe = np.where(live, evals, 1.0)
        target = np.where(live, proj2 / safe**2, 0.0)
        explained = float(np.sum(np.where(live, proj2 / safe, 0.0)))
        irreducible = self.label_power - explained
        if irreducible < -1e-9 * max(1.0, self.label_power):
            raise ValueError(
                f"inconsistent moments: E y² = {self.label_power:.6g} < ψᵀΩ⁻¹ψ = "
                f"{explained:.6g} (Ω, ψ, E y² cannot come from one distribution)"
            )
        spec = Spectrum(evals, np.ones_like(evals), target)
        return spec, max(irreducible, 0.0)


def ridge_test_error(moments: FeatureMoments, n, lam) -> tuple[np.ndarray, SolverStatus]:
    """Deterministic equivalent of the ridge test error E(y − ŵ·X)² for general features.

    ŵ = argmin_w Σ_{μ=1}^n (y_μ − w·X_μ)² + λ‖w‖² (sum convention, un-normalised λ).

    Parameters
    ----------
    moments
        Ω = E[XXᵀ], ψ = E[Xy] and E y² of the features the readout sees (e.g. X = v/√k).
    n
        Number of training samples (array-like, broadcast with ``lam``).
    lam
        Ridge penalty λ ≥ 0 (array-like).

    Returns
    -------
    (numpy.ndarray, SolverStatus)
        The test error with the broadcast shape of ``n`` and ``lam``, equal to
        ``ridge_risk(spectrum, σ_ε², n, λ).excess_risk + σ_ε²`` with (spectrum, σ_ε²) from
        :meth:`FeatureMoments.spectrum`, and the status of the κ root finder.

    References
    ----------
    arXiv 2402.13999, Thm. 3.3 and Eq. (12) (m form); arXiv 2302.00401, Thm. 3.1 / Eq. (14)
    (Gaussian covariate model form). The κ form used here is the one of :func:`ridge_risk`.
    """
    spec, irreducible = moments.spectrum()
    risk = ridge_risk(spec, irreducible, n, lam)
    return risk.excess_risk + irreducible, risk.status


def random_linear_target_error(
    moments: FeatureMoments, noise: float, n, lam
) -> tuple[np.ndarray, SolverStatus]:
    """Ridge test error for y = θ·X + noise, averaged exactly over θ ~ N(0, I_p).

    ψ = Ωθ gives β* = θ, so t_i = 1 in every eigen-direction of Ω (ω_i > 0) and σ_ε² is the
    label-noise variance ``noise``: only the eigenvalues of Ω enter. This is the target of the
    proven case of arXiv 2302.00401 (Sec. 4: learner and target share the features), averaged
    over its readout.
    """
    e = moments.eigenvalues
    risk = ridge_risk(Spectrum(e, np.ones_like(e), (e > 0).astype(float)), noise, n, lam)
    return risk.excess_risk + noise, risk.status


def optimal_ridge(
    moments: FeatureMoments, n, bounds: tuple[float, float] = (1e-5, 1e5)
) -> tuple[np.ndarray, np.ndarray]:
    """Optimal penalty λ* and the test error at λ*, for each sample size in ``n`` (all at once).

    A 41-point log-spaced scan of ``bounds`` locates the best grid point of every n; a
    golden-section search over log λ down to a width of 0.01, vectorised over n, and the vertex
    of a parabola through the final bracket then refine it between the neighbouring grid
    points. Every step is one vectorised evaluation of the deterministic equivalent at one λ
    per n (O(len(n)·p)), reusing the single eigendecomposition of Ω. A minimum at a bound is
    returned at that bound (e.g. λ* → 0 for a noiseless linear target).

    Parameters
    ----------
    moments
        Feature moments, see :func:`ridge_test_error`.
    n
        Sample sizes (array-like).
    bounds
        Search interval (λ_min, λ_max), 0 < λ_min < λ_max (the authors of arXiv 2402.13999 use
        [1e-5, 1e5]).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        λ* and the test error at λ*, each with the shape of ``n``.

    Raises
    ------
    ConvergenceError
        If the κ equation does not converge at the optimum.
    """
    lo, hi = (float(b) for b in bounds)
    if not (0 < lo < hi and np.isfinite(hi)):
        raise ValueError(f"bounds must satisfy 0 < low < high < inf, got {bounds!r}")
    n_arr = np.asarray(n, dtype=float)
    flat = n_arr.ravel()
    grid = np.linspace(np.log(lo), np.log(hi), 41)

    def err(t: np.ndarray) -> np.ndarray:
        value, _ = ridge_test_error(moments, flat if t.ndim == 1 else flat[None, :], np.exp(t))
        return np.where(np.isfinite(value), value, np.inf)

    scan = err(np.broadcast_to(grid, (flat.size, grid.size)).T).T
    j = np.argmin(scan, axis=1)
    a, b = grid[np.maximum(j - 1, 0)], grid[np.minimum(j + 1, grid.size - 1)]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    while np.max(b - a) > 1e-2:
        c, e = b - ratio * (b - a), a + ratio * (b - a)
        fc, fe = err(np.stack([c, e]))  # one vectorised evaluation for both probes
        left = fc <= fe  # the minimum lies in [a, e], else in [c, b]
        a, b = np.where(left, a, c), np.where(left, e, b)
    # The error is smooth in log λ: the vertex of the parabola through a, the midpoint and b
    # is within O(width³) of the minimiser.
    m = 0.5 * (a + b)
    fa, fm, fb = err(np.stack([a, m, b]))
    h = 0.5 * (b - a)
    curvature = fa - 2.0 * fm + fb
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = np.where(curvature > 0, m + 0.5 * h * (fa - fb) / curvature, m)
    t_best = np.clip(vertex, a, b)
    value, status = ridge_test_error(moments, flat, np.exp(t_best))
    for t_alt, f_alt in ((m, fm), (grid[j], scan[np.arange(flat.size), j])):
        worse = ~(value <= f_alt)
        t_best, value = np.where(worse, t_alt, t_best), np.where(worse, f_alt, value)
    if not status.converged or not np.all(np.isfinite(value)):
        raise ConvergenceError(f"ridge κ equation did not converge at λ* (n = {flat})")
    return np.exp(t_best).reshape(n_arr.shape), np.asarray(value).reshape(n_arr.shape)
