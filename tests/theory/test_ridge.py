"""Deterministic equivalent of ridge: limits, an independent replica form, brute force."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from theorylab.theory.fixed_point import solve_fixed_point
from theorylab.theory.ridge import (
    FeatureMoments,
    Spectrum,
    optimal_ridge,
    random_linear_target_error,
    ridge_risk,
    ridge_test_error,
)


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


# --------------------------------------------------------------------------------------------
# General features: FeatureMoments, ridge_test_error, optimal_ridge
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "lam", "expected"),
    [
        # Isotropic sanity case of the rainbow_features note (../shared/papers/
        # 2402.13999-rainbow_features.md, "Checks"): p = 500, Ω = I, ψ = θ*, ‖θ*‖ = 1, noise 0.1
        # (E y² = 1.01); theory values of the note's own implementation (m form), whose
        # 10-seed simulations gave 0.02024, 0.01333, 0.1360, 0.1096, 0.5097.
        (1000, 1.0, 0.01993),
        (2000, 1.0, 0.01333),
        (500, 1.0, 0.1392),
        (500, 10.0, 0.1112),
        (250, 0.01, 0.5200),
    ],
)
def test_isotropic_reference_values_of_rainbow_note(n, lam, expected):
    p = 500
    theta = np.zeros(p)
    theta[3] = 1.0
    moments = FeatureMoments(np.eye(p), theta, 1.01)
    err, status = ridge_test_error(moments, n, lam)
    assert status.converged
    assert float(err) == pytest.approx(expected, abs=6e-5)


def _m_form(moments, n, lam):
    """Test error in the m / resolvent form of arXiv 2402.13999 (note item A), independently:
    m = 1/(λ + Σ ω_i/(n m ω_i + 1)) by bisection, M_i = 1/(nλmω_i + λ),
    E = (E y² − nλm Σ ψ̃²(M + λM²)) / (1 − n(mλ)² Σ ω² M²)."""
    w, u = np.linalg.eigh(moments.omega)
    psi_t = u.T @ moments.psi
    lo, hi = 1e-12, 1.0 / lam
    for _ in range(200):
        mid = np.sqrt(lo * hi)
        if 1 / mid - lam - np.sum(w / (n * mid * w + 1)) > 0:
            lo = mid
        else:
            hi = mid
    m = np.sqrt(lo * hi)
    big_m = 1 / (n * lam * m * w + lam)
    num = moments.label_power - n * lam * m * np.sum(psi_t**2 * (big_m + lam * big_m**2))
    return num / (1 - n * (m * lam) ** 2 * np.sum(w**2 * big_m**2))


def _random_moments(p, seed, nonlinear_power=0.3):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((p, 2 * p)) * (1 + np.arange(2 * p)) ** -0.4
    omega = a @ a.T / (2 * p)
    beta = rng.standard_normal(p) / np.sqrt(p)
    psi = omega @ beta
    return FeatureMoments(omega, psi, float(beta @ omega @ beta) + nonlinear_power)


@pytest.mark.parametrize("n", [30.0, 80.0, 150.0])
@pytest.mark.parametrize("lam", [1e-3, 0.3, 5.0])
def test_kappa_form_equals_m_form_of_rainbow_paper(n, lam):
    moments = _random_moments(80, 0)
    err, status = ridge_test_error(moments, n, lam)
    assert status.converged
    assert float(err) == pytest.approx(_m_form(moments, n, lam), rel=1e-9)


def test_spectrum_splits_best_linear_predictor_and_noise():
    moments = _random_moments(40, 1, nonlinear_power=0.25)
    spec, irreducible = moments.spectrum()
    assert irreducible == pytest.approx(0.25, rel=1e-9)
    beta = np.linalg.solve(moments.omega, moments.psi)
    assert spec.target.sum() == pytest.approx(beta @ beta, rel=1e-9)  # t_i = β̃*_i²
    assert spec.eigenvalues @ spec.target == pytest.approx(beta @ moments.omega @ beta, rel=1e-9)
    err, _ = ridge_test_error(moments, np.array([10.0, 50.0]), np.array([[0.1], [1.0]]))
    risk = ridge_risk(spec, irreducible, np.array([10.0, 50.0]), np.array([[0.1], [1.0]]))
    np.testing.assert_allclose(err, risk.excess_risk + irreducible, rtol=1e-12)
    assert err.shape == (2, 2)


def test_limits_of_test_error():
    moments = _random_moments(50, 2, nonlinear_power=0.1)
    _, irreducible = moments.spectrum()
    # n → ∞ at fixed λ: the best linear predictor's error; λ → ∞: nothing learned, E y².
    assert float(ridge_test_error(moments, 1e9, 1.0)[0]) == pytest.approx(irreducible, rel=1e-5)
    assert float(ridge_test_error(moments, 100, 1e12)[0]) == pytest.approx(
        moments.label_power, rel=1e-6
    )


def test_single_index_target_on_gaussian_features_brute_force():
    # y = sign(g·X) + 0.1 ξ with Gaussian X ~ N(0, Ω): ψ = √(2/π) Ωg/√(gᵀΩg), E y² = 1.01.
    # Prediction vs 200 draws of ridge on p = 120 features (standard error ≈ 0.5 %); finite-p
    # corrections are O(1/p), so 4 % covers both.
    rng = np.random.default_rng(5)
    p, n, lam = 120, 200, 2.0
    s = (1 + np.arange(p)) ** -0.7
    g = rng.standard_normal(p)
    omega = np.diag(s)
    psi = np.sqrt(2 / np.pi) * s * g / np.sqrt(g @ (s * g))
    moments = FeatureMoments(omega, psi, 1.01)
    predicted, status = ridge_test_error(moments, n, lam)
    assert status.converged
    errs = []
    for _ in range(200):
        x = rng.standard_normal((n + 500, p)) * np.sqrt(s)
        y = np.sign(x @ g) + 0.1 * rng.standard_normal(n + 500)
        w = np.linalg.solve(x[:n].T @ x[:n] + lam * np.eye(p), x[:n].T @ y[:n])
        errs.append(np.mean((y[n:] - x[n:] @ w) ** 2))
    assert np.mean(errs) == pytest.approx(float(predicted), rel=0.04)


def test_optimal_ridge_isotropic_and_scan():
    # Ω = I, linear target ‖θ‖² = 1, noise σ² = 0.01: λ* = σ² p/‖θ‖² = 5 for every n (sum
    # convention), and the error at λ* is the minimum over a fine λ grid.
    p = 500
    theta = np.zeros(p)
    theta[0] = 1.0
    moments = FeatureMoments(np.eye(p), theta, 1.01)
    lam_star, err_star = optimal_ridge(moments, np.array([250.0, 500.0, 1000.0]))
    np.testing.assert_allclose(lam_star, 5.0, rtol=1e-4)
    grid = np.logspace(-3, 3, 601)
    for n, e in zip((250.0, 500.0, 1000.0), err_star, strict=True):
        scan, _ = ridge_test_error(moments, n, grid)
        assert e <= scan.min() + 1e-12
        assert e == pytest.approx(scan.min(), rel=1e-4)


def test_optimal_ridge_anisotropic_matches_bounded_search():
    moments = _random_moments(60, 3, nonlinear_power=0.2)
    lam_star, err_star = optimal_ridge(moments, 90.0)
    res = minimize_scalar(
        lambda t: float(ridge_test_error(moments, 90.0, np.exp(t))[0]),
        bounds=(np.log(1e-5), np.log(1e5)),
        method="bounded",
        options={"xatol": 1e-9},
    )
    assert float(err_star) == pytest.approx(res.fun, rel=1e-8)
    assert float(lam_star) == pytest.approx(np.exp(res.x), rel=1e-3)


def test_feature_moments_validation():
    with pytest.raises(ValueError, match="omega"):
        FeatureMoments(np.ones((2, 3)), np.ones(2), 1.0)
    with pytest.raises(ValueError, match="psi"):
        FeatureMoments(np.eye(2), np.ones(3), 1.0)
    with pytest.raises(ValueError, match="label_power"):
        FeatureMoments(np.eye(2), np.ones(2), -1.0)
    with pytest.raises(ValueError, match="inconsistent"):
        FeatureMoments(np.eye(2), np.ones(2), 1.0).spectrum()  # ψᵀΩ⁻¹ψ = 2 > E y² = 1
    with pytest.raises(ValueError, match="bounds"):
        optimal_ridge(FeatureMoments(np.eye(2), np.zeros(2), 1.0), 5.0, bounds=(1.0, 0.1))


def test_optimal_ridge_vectorised_over_n_matches_one_n_at_a_time():
    moments = _random_moments(60, 4, nonlinear_power=0.2)
    n = np.array([[20.0, 60.0], [61.0, 400.0]])
    lam_star, err_star = optimal_ridge(moments, n)
    assert lam_star.shape == err_star.shape == (2, 2)
    for idx in np.ndindex(2, 2):
        res = minimize_scalar(
            lambda t, n_i=n[idx]: float(ridge_test_error(moments, n_i, np.exp(t))[0]),
            bounds=(np.log(1e-5), np.log(1e5)),
            method="bounded",
            options={"xatol": 1e-9},
        )
        assert err_star[idx] == pytest.approx(res.fun, rel=1e-8)
        assert err_star[idx] <= res.fun + 1e-12


def test_kappa_root_matches_bisection():
    # The Newton iteration from above against brentq on g(κ) = κ(1 − df₁/n) − λ/n, over- and
    # under-parameterised, tiny and large λ (the root spans 12 decades).
    from scipy.optimize import brentq

    rng = np.random.default_rng(7)
    s = np.sort(rng.gamma(0.5, size=150))
    spec = Spectrum(s, np.ones_like(s), np.ones_like(s))
    for n in (30.0, 149.0, 151.0, 600.0):
        for lam in (1e-8, 1e-3, 1.0, 1e4):
            kappa = float(ridge_risk(spec, 0.1, n, lam).kappa)

            def g(k, n=n, lam=lam):
                return k * (1 - np.sum(s / (s + k)) / n) - lam / n

            ref = brentq(g, lam / n, lam / n + s.sum() / n, xtol=1e-300, rtol=1e-15)
            assert kappa == pytest.approx(ref, rel=1e-12)


def test_matrix_psi_is_the_exact_average_over_a_random_target():
    # A target y_θ with ψ_θ = Bθ/√m and E y_θ² = θᵀDθ/m + σ² (D ⪰ BᵀΩ⁻¹B keeps every draw
    # consistent). The 2m draws θ = ±√m e_j have E θθᵀ = I exactly, so the mean of their
    # errors must equal the error of the averaged moments (ψ = B/√m, E y² = tr D/m + σ²) to
    # round-off: the deterministic equivalent is linear in ψψᵀ and E y².
    rng = np.random.default_rng(8)
    p, m, sigma2 = 30, 7, 0.05
    a = rng.standard_normal((p, p))
    omega = a @ a.T / p + 0.1 * np.eye(p)
    b = rng.standard_normal((p, m)) / np.sqrt(p)
    d = b.T @ np.linalg.solve(omega, b) + np.eye(m)
    n, lam = np.array([[10.0], [45.0]]), np.array([0.01, 1.0])
    per_draw = [
        ridge_test_error(FeatureMoments(omega, sign * b[:, j], d[j, j] + sigma2), n, lam)[0]
        for j in range(m)
        for sign in (1.0, -1.0)
    ]
    averaged, status = ridge_test_error(
        FeatureMoments(omega, b / np.sqrt(m), np.trace(d) / m + sigma2), n, lam
    )
    assert status.converged
    np.testing.assert_allclose(np.mean(per_draw, axis=0), averaged, rtol=1e-12)


def test_retarget_shares_the_eigendecomposition():
    moments = _random_moments(40, 9, nonlinear_power=0.1)
    lazy = moments.retarget(moments.psi, moments.label_power)
    assert "_eigh" not in moments.__dict__  # nothing decomposed until an error is asked for
    np.testing.assert_allclose(
        ridge_test_error(lazy, 20.0, 0.1)[0], ridge_test_error(moments, 20.0, 0.1)[0]
    )
    assert lazy._eigh is moments._eigh
    other_psi = moments.omega @ np.linspace(-0.1, 0.1, 40)  # β* = linspace: consistent
    fresh = FeatureMoments(moments.omega, other_psi, 1.0)
    re = moments.retarget(other_psi, 1.0)
    assert re._eigh is moments._eigh  # one O(p³) decomposition for both targets
    np.testing.assert_array_equal(re.eigenvalues, moments.eigenvalues)
    np.testing.assert_allclose(
        ridge_test_error(re, 30.0, 0.1)[0], ridge_test_error(fresh, 30.0, 0.1)[0], rtol=1e-12
    )
    with pytest.raises(ValueError, match="psi"):
        FeatureMoments(np.eye(2), np.ones((3, 2)), 1.0)


def test_random_linear_target_error_is_the_matrix_psi_average():
    # y = θ·X + noise with θ ~ N(0, I_p): E ψψᵀ = Ω², E y² = tr Ω + noise — the shortcut
    # (t_i = 1, σ_ε² = noise) against the general averaged moments, and its limits.
    moments = _random_moments(50, 10)
    omega = moments.omega
    n, lam = np.array([[20.0, 80.0]]), np.array([[0.01], [1.0]])
    short, status = random_linear_target_error(moments, 0.05, n, lam)
    general = FeatureMoments(omega, omega, float(np.trace(omega)) + 0.05)
    assert status.converged
    np.testing.assert_allclose(short, ridge_test_error(general, n, lam)[0], rtol=1e-10)
    assert float(random_linear_target_error(moments, 0.05, 1e9, 1e-3)[0]) == pytest.approx(
        0.05, rel=1e-4
    )
