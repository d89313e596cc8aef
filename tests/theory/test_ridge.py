"""Deterministic equivalent of ridge: limits, an independent replica form, brute force."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from theorylab.theory.fixed_point import solve_fixed_point
from theorylab.theory.ridge import Spectrum, ridge_risk


def test_ridgeless_isotropic_closed_forms():
    # Σ = I, ‖θ‖² = K per unit dimension, λ → 0: under-parameterised (α > 1) variance
    # σ²/(α − 1) and no bias; over-parameterised (α < 1) bias K(1 − α) + variance σ²α/(1 − α).
    k, sigma2 = 0.7, 0.3
    spec = Spectrum.isotropic(target_norm2=k)
    for alpha in (1.5, 3.0, 10.0):
        r = ridge_risk(spec, sigma2, alpha, 1e-12)
        assert r.status.converged
        assert float(r.excess_risk) == pytest.approx(sigma2 / (alpha - 1), rel=1e-8)
    for alpha in (0.2, 0.5, 0.8):
        r = ridge_risk(spec, sigma2, alpha, 1e-12)
        expected = k * (1 - alpha) + sigma2 * alpha / (1 - alpha)
        assert float(r.excess_risk) == pytest.approx(expected, rel=1e-6)


def _replica_isotropic(alpha, lam, rho_lin, sigma2):
    """Replica equations of arXiv 2302.00375 (Multilayer_Ridge_repl notebook), Σ = I, signal
    power rho_lin, noise σ²: V̂ = α/(1+V), m̂ = √K V̂, q̂ = α(ρ + q − 2√K m)/(1+V)²,
    V = 1/(λ+V̂), q = (m̂² + q̂)/(λ+V̂)², m = m̂/(λ+V̂); excess = K + q − 2√K m (teacher prior 1).
    """
    sk = np.sqrt(rho_lin)

    def step(x):
        v, q, m = x
        vh = alpha / (1 + v)
        mh = sk * vh
        qh = alpha * (rho_lin + sigma2 + q - 2 * sk * m) / (1 + v) ** 2
        return np.array([1 / (lam + vh), (mh**2 + qh) / (lam + vh) ** 2, mh / (lam + vh)])

    res = solve_fixed_point(step, np.array([1.0, 1e-6, 1e-6]), damping=0.5, tol=1e-14)
    _, q, m = res.require()
    return rho_lin + q - 2 * sk * m


@pytest.mark.parametrize("alpha", [0.3, 1.0, 2.5])
@pytest.mark.parametrize("lam", [0.01, 0.37, 2.0])
def test_matches_independent_replica_equations(alpha, lam):
    k, sigma2 = 0.409095, 0.152506
    r = ridge_risk(Spectrum.isotropic(target_norm2=k), sigma2, alpha, lam)
    assert float(r.excess_risk) == pytest.approx(
        _replica_isotropic(alpha, lam, k, sigma2), rel=1e-9
    )


def test_scale_invariance_and_broadcasting():
    spec = Spectrum(np.array([1.0, 0.1]), np.array([3.0, 7.0]), np.array([2.0, 0.5]))
    big = Spectrum(np.array([1.0, 0.1]) / 100, np.array([300.0, 700.0]), np.array([200.0, 50.0]))
    n = np.array([[2.0], [15.0]])
    lam = np.array([0.1, 1.0, 10.0])
    r1 = ridge_risk(spec, 0.2, n, lam)
    r2 = ridge_risk(big, 0.2, n * 100, lam)
    assert r1.excess_risk.shape == (2, 3)
    np.testing.assert_allclose(r1.excess_risk, r2.excess_risk, rtol=1e-10)


def test_optimal_isotropic_penalty_is_noise_over_signal():
    k, sigma2, alpha = 0.5, 0.25, 1.7
    spec = Spectrum.isotropic(target_norm2=k)
    res = minimize_scalar(
        lambda t: float(ridge_risk(spec, sigma2, alpha, np.exp(t)).excess_risk),
        bounds=(-6, 4),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert np.exp(res.x) == pytest.approx(sigma2 / k, rel=1e-4)


def test_brute_force_anisotropic_simulation():
    # Finite p = 150, power-law spectrum, 300 draws of data: the prediction is within 3 % of the
    # Monte-Carlo mean (standard error ≈ 1 %; finite-size corrections are O(1/p)).
    rng = np.random.default_rng(0)
    p, n, lam, sigma2 = 150, 90, 0.5, 0.1
    s = (1 + np.arange(p)) ** -1.2
    theta = rng.standard_normal(p) * s**0.3
    spec = Spectrum(s, np.ones(p), theta**2)
    predicted = float(ridge_risk(spec, sigma2, n, lam).excess_risk)
    errs = []
    for _ in range(300):
        z = rng.standard_normal((n, p)) * np.sqrt(s)
        y = z @ theta + np.sqrt(sigma2) * rng.standard_normal(n)
        w = np.linalg.solve(z.T @ z + lam * np.eye(p), z.T @ y)
        errs.append(float(((w - theta) ** 2 * s).sum()))
    assert np.mean(errs) == pytest.approx(predicted, rel=0.03)


def test_from_covariance_and_validation():
    cov = np.diag([2.0, 1.0])
    spec = Spectrum.from_covariance(cov, np.array([1.0, 0.0]))
    assert spec.dim == 2
    assert sorted(spec.target.tolist()) == [0.0, 1.0]
    with pytest.raises(ValueError, match="eigenvalues"):
        Spectrum(np.array([-1.0]), np.array([1.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="lam"):
        ridge_risk(spec, 0.1, 10, -1.0)


def test_interpolation_threshold_reports_non_convergence():
    # n = p with λ = 0: the variance diverges; the status must say so rather than return a number.
    r = ridge_risk(Spectrum.isotropic(), 0.1, 1.0, 0.0)
    assert not r.status.converged
