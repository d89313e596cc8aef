"""Closed-form flow of arXiv 2310.03575 (theorylab.theory.flow)."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.theory import flow


def test_velocity_terms_match_the_unsimplified_formulas():
    """γ = ζc + β̇/β and ζ·(m, q_ξ, q_η) with ζ = α̇ − β̇α/β for α = t, β = 1 − t."""
    t, n, sigma, lam = np.linspace(0.05, 0.95, 7), 8.0, 1.3, 0.2
    den = flow.denoiser(t, n, sigma, lam)
    zeta, beta_ratio = 1.0 / (1.0 - t), -1.0 / (1.0 - t)
    g, zm, zqx, zqe = flow.velocity_terms(t, n, sigma, lam)
    np.testing.assert_allclose(g, zeta * den["c"] + beta_ratio, rtol=1e-12)
    np.testing.assert_allclose(zm, zeta * den["m"], rtol=1e-12)
    np.testing.assert_allclose(zqx, zeta * den["q_xi"], rtol=1e-12)
    np.testing.assert_allclose(zqe, zeta * den["q_eta"], rtol=1e-12)


def test_denoiser_solves_the_normal_equations():
    """With signs = labels and the d → ∞ Gram matrix (x·x' = s s', ‖x‖² = 1 + σ², x0·x0 = 1,
    cross terms 0), (c, w) minimise the ridge loss: check the normal equation in c."""
    n, sigma, lam, t = 5, 1.5, 0.1, 0.37
    den = flow.denoiser(t, n, sigma, lam)
    c = den["c"]
    # loss(c) = Σ ½‖c y − x‖² − ‖Σ s (x − c y)‖²/(2(n + λ)) per d, in closed form
    a, b = t, 1 - t
    yy, yx = a**2 * (1 + sigma**2) + b**2, a * (1 + sigma**2)
    su2 = n * (1 + sigma**2) + n * (n - 1)  # ‖Σ s x‖²/d
    sv2 = a**2 * su2 + b**2 * n  # ‖Σ s y‖²/d
    svu = a * su2
    grad = n * (c * yy - yx) - (c * sv2 - svu) / (n + lam)
    assert abs(grad) < 1e-12


@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.5])
def test_large_n_limit_is_twice_the_bayes_optimal_rate(sigma):
    end = flow.flow_endpoint([1e5], sigma, 0.1)
    assert 1e5 * end.distance[0] == pytest.approx(2 * sigma**2, rel=1e-4)
    assert 1e5 * flow.bayes_optimal_distance(1e5, sigma) == pytest.approx(sigma**2, rel=1e-4)


def test_exact_endpoint_identities_and_spread():
    n = np.array([2.0, 4.0, 16.0, 64.0])
    end = flow.flow_endpoint(n, 1.5, 0.1)
    assert end.status.converged
    np.testing.assert_allclose(end.R, n / (n + 0.1), atol=1e-9)
    np.testing.assert_allclose(end.Q_eta, 1 / (n + 0.1), atol=1e-9)
    assert np.all(np.abs(end.P / 1.5 - 1) < 0.025)  # the spread is learnt (P(1) ≈ σ)


def test_euler_converges_to_the_continuous_flow():
    n = np.array([4.0, 16.0])
    exact = flow.flow_endpoint(n, 1.5, 0.1).distance
    coarse = flow.flow_endpoint(n, 1.5, 0.1, scheme="euler", steps=100).distance
    fine = flow.flow_endpoint(n, 1.5, 0.1, scheme="euler", steps=3200).distance
    assert np.all((coarse < exact) & (exact / coarse - 1 > 0.02))  # the paper's 100 steps
    assert np.all(np.abs(fine / exact - 1) < 0.002)
    with pytest.raises(ValueError, match="scheme"):
        flow.flow_endpoint(n, 1.5, 0.1, scheme="rk4")
