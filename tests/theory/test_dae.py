"""Summary statistics of the tied DAE with a skip connection (theorylab.theory.dae)."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.theory import dae
from theorylab.theory.gaussian import gauss_hermite


def test_skip_weight_minimises_the_rescaling_error():
    sigma2, delta, d = 0.1, np.array([0.04, 0.25, 0.64]), 10**7
    b = dae.skip_weight(sigma2, delta)
    grid = b[:, None] * (1.0 + np.linspace(-0.01, 0.01, 201))
    err = dae.rescaling_total_error(grid, sigma2, delta[:, None], d, mean_norm2=0.0) / d
    assert np.all(np.argmin(err, axis=1) == 100)
    np.testing.assert_allclose(err[:, 100], dae.rescaling_error(sigma2, delta), rtol=1e-12)


def test_trained_skip_without_hidden_unit_is_the_exact_minimiser():
    sigma2, delta, d = 0.1, 0.25, 500
    b = dae.trained_skip(sigma2, delta, d)
    e = dae.rescaling_total_error(b, sigma2, delta, d)
    for step in (1e-4, -1e-4):
        assert dae.rescaling_total_error(b + step, sigma2, delta, d) > e
    assert 0 < b - dae.skip_weight(sigma2, delta) < 5.0 / d  # b* + O(1/d)


def test_hidden_unit_error_matches_monte_carlo():
    rng = np.random.default_rng(0)
    q, m, qp, qm, b, delta = 0.9, 0.8, 0.12, 0.07, 0.3, 0.3
    c = np.sqrt(1 - delta)
    n = 400_000
    s = rng.choice([-1.0, 1.0], n)
    u = s * m + np.sqrt(np.where(s > 0, qp, qm)) * rng.standard_normal(n)
    v = np.sqrt(delta * q) * rng.standard_normal(n)
    phi = np.tanh(c * u + v)
    mc = q * phi**2 - 2 * phi * ((1 - b * c) * u - b * v)
    value = dae.hidden_unit_error(q, m, qp, qm, b, delta)
    assert abs(value - mc.mean()) < 4 * mc.std() / np.sqrt(n)


def test_prox_is_the_global_minimiser():
    """The 2-d proximal map against a brute-force grid, including tail points where U is not
    convex (Newton in (v, u) cycles there)."""
    a1 = np.array([-3.9116, 0.3, 1.2])
    a2 = np.array([3.9955, -0.5, 1.0])
    wv, wu, q, b, c = 0.3867, 0.1547, 0.9995, 0.2665, np.sqrt(0.75)
    v, u, ok = dae._prox(a1, a2, wv, wu, q, b, c)
    assert ok
    vv, uu = np.meshgrid(np.linspace(-7, 5, 1201), np.linspace(-4, 7, 1101))
    for i in range(3):
        def f(v_, u_, i=i):
            phi = np.tanh(c * u_ + v_)
            return ((v_ - a1[i]) ** 2 / wv + (u_ - a2[i]) ** 2 / wu + q * phi**2
                    - 2 * phi * ((1 - c * b) * u_ - b * v_))
        assert f(v[i], u[i]) <= f(vv, uu).min() + 1e-9


def test_prox_golden_section_fallback_finds_the_same_minimiser():
    """With one Newton step allowed, the points still moving finish by golden section in
    their grid bracket: the same (v*, u*) as Newton."""
    a1 = np.array([-3.9116, 0.3, 1.2])
    a2 = np.array([3.9955, -0.5, 1.0])
    args = (a1, a2, 0.3867, 0.1547, 0.9995, 0.2665, np.sqrt(0.75))
    v, u, _ = dae._prox(*args)
    v1, u1, _ = dae._prox(*args, newton=1)
    # golden section compares values of F*: it resolves the minimiser to about √ε
    np.testing.assert_allclose(np.r_[v1, u1], np.r_[v, u], rtol=0, atol=1e-7)


def test_equal_clusters_are_mirrored_bit_for_bit():
    """With q_+ = q_− and V_+ = V_− cluster − is cluster + mirrored through the node grid's
    origin: the shortcut gives exactly the arrays of the full two-cluster proximal call."""
    z, _ = gauss_hermite(30)
    for q_s, m in ((0.7, 0.4), (1e-3, 2.0)):
        a1 = np.sqrt(0.25 * 0.8) * z[:, None] + 0.0 * z[None, :]
        a2 = np.stack([np.sqrt(q_s) * z[None, :] + s * m + 0.0 * z[:, None] for s in (1, -1)])
        args = (0.25 * 0.3, 0.2, 0.8, 0.4, np.sqrt(0.75))
        v, u = dae._cluster_proxes(a1, a2, args[0], (np.array(args[1]),) * 2,
                                   (np.array(q_s),) * 2, *args[2:])
        full_v, full_u, _ = dae._prox(np.broadcast_to(a1, a2.shape), a2, *args)
        np.testing.assert_array_equal(v, full_v)
        np.testing.assert_array_equal(u, full_u)


def test_isotropic_and_matrix_prior_sides_agree():
    """Two code paths of the prior side: closed form for Σ = s2 I and the d × d algebra."""
    d, s2 = 40, 0.15
    iso = dae.ClusterGeometry.isotropic(s2)
    mat = dae.ClusterGeometry.from_matrices(s2 * np.eye(d), s2 * np.eye(d), np.ones(d))
    hats = np.array([0.7, 1.3, 0.4, 2.0, 1.5, 0.8, 0.6])[:, None]
    np.testing.assert_allclose(mat.prior(0.1, hats), iso.prior(0.1, hats), rtol=1e-12)


def test_saddle_point_converges_and_is_symmetric_in_the_clusters():
    geo = dae.ClusterGeometry.isotropic(0.1)
    st = dae.solve_saddle_point(geo, 1.0, np.array([0.04, 0.25]), 0.1)
    assert st.status.converged
    np.testing.assert_allclose(st.q_plus, st.q_minus, rtol=1e-10)
    np.testing.assert_allclose(st.q_plus, 0.1 * st.q, rtol=1e-10)
    assert np.all(st.cosine > 0.8) and np.all(st.cosine < 1.0)
    # the hidden unit helps at these noise levels (negative O(1) excess, Fig. 2 of the paper)
    assert np.all(dae.hidden_unit_error(st.q, st.m, st.q_plus, st.q_minus, st.b, [0.04, 0.25])
                  < 0)


def test_without_skip_the_error_is_pca_like():
    """Sec. 4: the autoencoder without skip loses at O(d): its O(1) excess over f = 0 is
    finite, so its per-coordinate error tends to σ² > mse°."""
    geo = dae.ClusterGeometry.isotropic(0.1)
    st = dae.solve_saddle_point(geo, 1.0, 0.25, 0.1, skip=False)
    assert st.status.converged and float(st.b) == 0.0
    excess = float(dae.hidden_unit_error(st.q, st.m, st.q_plus, st.q_minus, 0.0, 0.25))
    assert -5.0 < excess < 0.0
    assert dae.rescaling_error(0.1, 0.25) < 0.1


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_pca_overlap_is_the_bbp_value(alpha):
    rng = np.random.default_rng(1)
    d, sigma2 = 400, 0.1
    n = int(alpha * d)
    mu = np.ones(d) / np.sqrt(d)
    x = rng.choice([-1.0, 1.0], n)[:, None] * mu + np.sqrt(sigma2) * rng.standard_normal((n, d))
    e = np.linalg.eigh(x.T @ x / n)[1][:, -1]
    gamma, ell = 1 / alpha, 1 / sigma2
    rho2 = (1 - gamma / ell**2) / (1 + gamma / ell)
    assert abs((e @ mu) ** 2 - rho2) < 0.03


def _reference_prior(geo, lam, h):
    """The prior side of Sec. 3 written out with explicit d × d matrices (G = M⁻¹ by a plain
    inverse, B and G B G formed): the slow reference of the eigenbasis/Cholesky path."""
    qh, mh, vh, qph, qmh, vph, vmh = h
    sp, sm, mu = geo.sigma_plus, geo.sigma_minus, geo.mu
    d = sp.shape[0]
    g = np.linalg.inv((lam + vh) * np.eye(d) + vph * sp + vmh * sm)
    gbg = g @ (qh * np.eye(d) + qph * sp + qmh * sm + mh**2 * np.outer(mu, mu)) @ g
    return np.array([np.trace(gbg), mh * mu @ g @ mu, np.trace(g), np.trace(sp @ gbg),
                     np.trace(sm @ gbg), np.trace(sp @ g), np.trace(sm @ g)]) / d


def _wishart(d):
    fp, fm = dae.wishart_factors(d)
    return dae.ClusterGeometry.from_matrices(0.1 * fp @ fp.T, 0.1 * fm @ fm.T, np.ones(d))


def test_fast_matrix_prior_equals_the_explicit_formulas():
    geo = _wishart(120)
    rng = np.random.default_rng(0)
    hats = np.abs(rng.normal(size=(7, 4))) + 0.05
    hats[6, 3] = 0.0  # V̂_− = 0 takes the other branch
    fast = geo.prior(0.1, hats)
    for k in range(hats.shape[1]):
        np.testing.assert_allclose(fast[:, k], _reference_prior(geo, 0.1, hats[:, k]),
                                   rtol=1e-11, atol=1e-14)


def test_fast_prior_leaves_the_saddle_point_unchanged(monkeypatch):
    """The whole solve with the fast prior and with the explicit one agree to 1e-10."""
    geo = _wishart(120)
    alpha, delta = np.array([0.5, 1.0]), np.array([0.25, 0.64])
    fast = dae.solve_saddle_point(geo, alpha, delta, 0.1)
    monkeypatch.setattr(dae.ClusterGeometry, "_prior_matrix", _reference_prior)
    slow = dae.solve_saddle_point(geo, alpha, delta, 0.1)
    for name in ("q", "m", "V", "q_plus", "q_minus", "V_plus", "V_minus", "train_phi_h"):
        np.testing.assert_allclose(getattr(fast, name), getattr(slow, name), rtol=1e-10)


def test_data_geometry_keeps_the_mean_norm():
    rng = np.random.default_rng(2)
    d = 30
    mean = 0.2 * rng.standard_normal(d)
    a = rng.standard_normal((d, d)) / d
    geo = dae.ClusterGeometry.from_data(a @ a.T, 0.5 * a @ a.T + 0.01 * np.eye(d), mean)
    assert geo.mean_norm2 == pytest.approx(mean @ mean)
    np.testing.assert_allclose(geo.mu, mean * np.sqrt(d))
    np.testing.assert_allclose(geo.prior(0.1, np.full((7, 1), 0.5))[:, 0],
                               _reference_prior(geo, 0.1, np.full(7, 0.5)), rtol=1e-11)


def test_matrix_points_are_solved_one_by_one_to_the_tight_fixed_point():
    """Matrix clusters: each grid point is its own fixed point (the same answer alone and in a
    grid), within 2e-8 of a re-solve to tol = 1e-13."""
    geo = _wishart(120)
    alpha, delta = np.array([0.5, 1.0]), np.array([[0.25], [0.64]])
    grid = dae.solve_saddle_point(geo, alpha, delta, 0.1)
    tight = dae.solve_saddle_point(geo, alpha, delta, 0.1, tol=1e-13)
    alone = dae.solve_saddle_point(geo, 1.0, 0.64, 0.1)
    assert grid.status.converged and tight.status.converged
    for name in ("q", "m", "V", "q_plus", "q_minus", "V_plus", "V_minus", "train_phi_h"):
        np.testing.assert_allclose(getattr(grid, name), getattr(tight, name), rtol=2e-8)
        assert getattr(alone, name) == getattr(grid, name)[1, 1]
