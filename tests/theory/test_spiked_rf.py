"""The spiked-random-features model of arXiv 2402.04980: parameters, coefficients, saddle point,
against analytic values and the authors' stored notebook outputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorylab.theory.spiked_rf import (
    activation_moments,
    conditional_coefficients,
    marchenko_pastur_bulk,
    solve_saddle_point,
    spiked_rf_parameters,
)


def curve(teacher, alpha0, eta, lam, alphas, drop_f=False, student="tanh"):
    srf = spiked_rf_parameters(student, teacher, alpha0, eta)
    cc = conditional_coefficients(student, teacher, srf)
    spec = marchenko_pastur_bulk(srf.c)
    out, start = [], None
    for a in alphas:
        sp = solve_saddle_point(cc, spec, srf.c, a, lam, drop_f=drop_f, start=start)
        assert sp.status.converged
        start = sp.overlaps
        out.append(sp)
    return out


def test_activation_moments_of_sin_are_analytic():
    m = activation_moments("tanh", "sin")
    assert m["mu1_star"] == pytest.approx(math.exp(-0.5), rel=1e-12)  # E z sin z = e^{-1/2}
    assert m["mu2_star"] == pytest.approx((1 - math.exp(-2)) / 2, rel=1e-12)  # E sin² z
    lin = activation_moments("erf", "linear")
    assert lin["mu1_star"] == pytest.approx(1.0) and lin["mu2_star"] == pytest.approx(1.0)
    # erf: E σ' = 2/√(3π), E σ'² = 4/(π√5)
    assert lin["mu1"] == pytest.approx(2 / math.sqrt(3 * math.pi), rel=1e-8)
    assert lin["var_dsigma"] == pytest.approx(4 / (math.pi * math.sqrt(5)) - lin["mu1"] ** 2,
                                              rel=1e-6)


def test_srf_parameters_follow_result_3_1():
    srf = spiked_rf_parameters("tanh", "sin", 20.0, 3.0)
    m = activation_moments("tanh", "sin")
    norm = math.sqrt(m["mu1_star"] ** 2 + m["mu2_star"] / 20)
    assert srf.r == pytest.approx(3 * m["mu1"] * norm)
    assert srf.c == pytest.approx(1 + 9 * m["mu2_star"] * m["var_dsigma"] / 20)
    assert srf.gamma == pytest.approx(m["mu1_star"] / norm)
    assert srf.gamma**2 + srf.rho**2 == pytest.approx(1.0)
    rf = spiked_rf_parameters("tanh", "sin", 0.0, 3.0)
    assert (rf.r, rf.c, rf.gamma) == (0.0, 1.0, 0.0)


def test_conditional_coefficients_at_zero_spike_are_the_usual_ones():
    cc = conditional_coefficients("tanh", "sin", spiked_rf_parameters("tanh", "sin", 0, 0))
    m = activation_moments("tanh", "sin")
    np.testing.assert_allclose(cc.mu0, 0, atol=1e-14)
    # 41 inner Gauss–Hermite nodes (the authors used 19): accurate to ~1e-6 for tanh
    np.testing.assert_allclose(cc.mu1, m["mu1"], rtol=1e-5)
    np.testing.assert_allclose(cc.h1, m["mu1_star"], rtol=1e-5)  # γ = 0: h1 = E z σ*(z)


ALPHAS = (0.2, 0.9, 1.6, 2.3, 3.0)


def test_drop_f_reproduces_the_authors_notebook_output():
    """SPOC-group/OneStepGD_asymptotics, theory.ipynb stored output (σ* = sin, σ = tanh,
    α0 = 20, η̃ = 3, λ = 0.1, F-term absent, one sampled spectrum at d = 2000): ε = 0.0486,
    0.0431, 0.0381, 0.0351, 0.0333. Our MP quadrature differs from one sampled spectrum by
    < 1 %."""
    eps = [sp.test_error for sp in curve("sin", 20, 3, 0.1, ALPHAS, drop_f=True)]
    np.testing.assert_allclose(eps, [0.0486, 0.0431, 0.0381, 0.0351, 0.0333], rtol=0.01)
    assert all(abs(sp.overlaps[4]) < 1e-7 for sp in curve("sin", 20, 3, 0.1, ALPHAS, drop_f=True))


def test_the_f_term_lowers_the_error_for_the_sin_target_only():
    with_f = [sp.test_error for sp in curve("sin", 20, 3, 0.1, ALPHAS)]
    without = [sp.test_error for sp in curve("sin", 20, 3, 0.1, ALPHAS, drop_f=True)]
    assert all(a < b for a, b in zip(with_f, without, strict=True))
    assert without[-1] / with_f[-1] - 1 == pytest.approx(0.032, abs=0.005)
    tanh = [sp.test_error for sp in curve("tanh", 0.5, 1, 0.01, (0.5, 2.0))]
    tanh_drop = [sp.test_error for sp in curve("tanh", 0.5, 1, 0.01, (0.5, 2.0), drop_f=True)]
    np.testing.assert_allclose(tanh, tanh_drop, rtol=1e-3)


def test_theory_against_the_authors_stored_simulations():
    """SPOC-group/OneStepGD_asymptotics, Simulations.ipynb stored output (σ* = σ = tanh, η̃ = 1,
    α0 = 0.5, λ = 0.01, d = 2000, 3 seeds): 0.294, 0.318, 0.277, 0.206, 0.172, 0.155, 0.143
    at α = 0.2 … 3. The sRF theory is within 4 % of these finite-size simulations."""
    alphas = (0.2, 0.667, 1.133, 1.6, 2.067, 2.533, 3.0)
    eps = [sp.test_error for sp in curve("tanh", 0.5, 1, 0.01, alphas)]
    sims = [0.294, 0.318, 0.277, 0.206, 0.172, 0.155, 0.143]
    np.testing.assert_allclose(eps, sims, rtol=0.04)


def test_random_features_stay_above_the_nonlinear_part():
    """Sec. 4: with r = 0 only the linear part E zσ* of the target is learned."""
    m = activation_moments("tanh", "sin")
    floor = m["mu2_star"] - m["mu1_star"] ** 2
    rf = curve("sin", 0, 0, 0.01, (3.0, 10.0, 30.0))
    assert all(sp.test_error > floor for sp in rf)
    assert rf[-1].test_error < rf[0].test_error
    stepped = curve("sin", 20, 3, 0.01, (3.0, 30.0))
    assert stepped[-1].test_error < floor


def test_feature_resolvent_matches_finite_spiked_rf_matrices():
    """Pure sRF features F = tanh(X Wᵀ), W = √c W0 + r 1 v̂ᵀ (unit rows W0), p = d = 300,
    n = 600: traces tr(FᵀF/n + λ)⁻¹/p and the top (outlier) eigenvalue against the
    deterministic equivalent (our reconstruction of arXiv 2410.18938's bulk equations)."""
    from theorylab.theory.spiked_rf import SpikedRF, feature_resolvent, outlier_location

    rng = np.random.default_rng(0)
    p = d = 300
    n = 600
    r, c = 1.0, 1.05
    w0 = rng.standard_normal((p, d))
    w0 /= np.linalg.norm(w0, axis=1, keepdims=True)
    v = rng.standard_normal(d)
    v /= np.linalg.norm(v)
    w = math.sqrt(c) * w0 + r * np.outer(np.ones(p), v)
    f = np.tanh(rng.standard_normal((n, d)) @ w.T)
    ev = np.linalg.eigvalsh(f.T @ f / n)
    cc = conditional_coefficients("tanh", "tanh", SpikedRF(r, c, 1.0))
    lam = np.array([0.1, 1.0])
    tau, status = feature_resolvent(cc, c, 1.0, p / n, -lam + 0j)
    assert status.converged
    empirical = (1.0 / (ev[None, :] + lam[:, None])).mean(1)
    np.testing.assert_allclose(tau[:, 1].real, empirical, rtol=0.02)
    assert ev[-1] == pytest.approx(outlier_location(cc, p), rel=0.06)
    assert ev[-2] < 3.0  # one outlier; the rest is bulk
