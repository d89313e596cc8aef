"""GAMP engine: known answers (ridge), denoisers against brute-force quadrature, torch input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorylab.theory.gamp import (
    CommitteeSignChannel,
    GaussianPrior,
    L2Penalty,
    LinearChannel,
    LogisticLoss,
    RademacherPrior,
    SignChannel,
    SquareLoss,
    gamp,
    tie_columns,
)


def _data(n=300, d=150, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    return x, w, x @ w / math.sqrt(d)


def _ridge(x, y, lam):
    d = x.shape[1]
    return np.linalg.solve(x.T @ x / d + lam * np.eye(d), x.T @ y / math.sqrt(d))


def test_gaussian_prior_and_linear_channel_is_ridge():
    # Bayes-optimal estimation of a Gaussian vector from y = h + √Δη: the posterior mean is ridge
    # with λ = Δ/variance (here variance 1), and GAMP's fixed point is exactly that mean.
    x, _, h = _data()
    y = h + 0.5 * np.random.default_rng(1).standard_normal(len(h))
    res = gamp(x, y, GaussianPrior(), LinearChannel(noise=0.25), w0=np.zeros(x.shape[1]),
               tol=1e-13, max_iter=1000)
    assert res.status.converged
    np.testing.assert_allclose(res.w[:, 0], _ridge(x, y, 0.25), atol=1e-10)


@pytest.mark.parametrize("lam", [0.05, 1.0])
def test_square_loss_and_l2_penalty_is_ridge(lam):
    x, _, h = _data(n=200, d=250, seed=2)
    y = np.sign(h)
    res = gamp(x, y, L2Penalty(lam), SquareLoss(), w0=np.zeros(x.shape[1]), tol=1e-13,
               max_iter=3000)
    assert res.status.converged
    np.testing.assert_allclose(res.w[:, 0], _ridge(x, y, lam), atol=1e-9)


def test_torch_matrices_are_accepted():
    torch = pytest.importorskip("torch")
    x, _, h = _data(n=120, d=60, seed=3)
    y = np.sign(h)
    a = gamp(x, y, GaussianPrior(), SignChannel(), w0=np.full(60, 1e-3), max_iter=30)
    b = gamp(torch.from_numpy(x), torch.from_numpy(y), GaussianPrior(), SignChannel(),
             w0=torch.full((60,), 1e-3, dtype=torch.float64), max_iter=30)
    np.testing.assert_array_equal(a.w, b.w)


def test_non_convergence_is_reported_not_raised():
    x, _, h = _data(n=100, d=50)
    res = gamp(x, np.sign(h), GaussianPrior(), SignChannel(), w0=np.full(50, 1e-3), max_iter=2)
    assert not res.status.converged and res.status.iterations == 2 and res.status.message


# --------------------------------------------------------------------------------------------
# Denoisers vs brute force
# --------------------------------------------------------------------------------------------


def _quadrant_brute(region, omega, v):
    """P(h ∈ quadrant) and E[(h − ω)1_quadrant], h ~ N(ω, V), by adaptive 2-D integration
    (scipy dblquad) of the density; region = (s1, s2) signs."""
    from scipy.integrate import dblquad

    vinv = np.linalg.inv(v)
    norm = 2 * math.pi * math.sqrt(np.linalg.det(v))
    s1, s2 = region
    lo1, hi1 = (0.0, 10.0) if s1 > 0 else (-10.0, 0.0)
    lo2, hi2 = (0.0, 10.0) if s2 > 0 else (-10.0, 0.0)

    def moment(f):
        def dens(h2, h1):
            r = np.array([h1, h2]) - omega
            return f(r) * math.exp(-0.5 * r @ vinv @ r) / norm

        return dblquad(dens, lo1, hi1, lo2, hi2, epsabs=1e-11, epsrel=1e-9)[0]

    return moment(lambda r: 1.0), np.array([moment(lambda r: r[0]), moment(lambda r: r[1])])


def test_sign_channel_denoiser_by_finite_differences():
    # Z = P(h + √Δη has sign y), h ~ N(ω, V): g = ∂_ω log Z, ∂_ω g = ∂²_ω log Z
    from scipy.integrate import quad

    ch, v = SignChannel(noise=0.3), np.array([[0.7]])

    def log_z(y, om):
        s = math.sqrt(1.0)  # V + Δ
        f = lambda t: math.exp(-0.5 * ((t - om) / s) ** 2) / (s * math.sqrt(2 * math.pi))  # noqa: E731
        return math.log(quad(f, 0, 40)[0] if y > 0 else quad(f, -40, 0)[0])

    eps = 1e-4
    for y in (-1.0, 1.0):
        for om in (0.4, -1.5):
            g, dg = ch.gout(np.array([y]), np.array([[om]]), v)
            lz = [log_z(y, om + k * eps) for k in (-1, 0, 1)]
            assert math.exp(lz[1]) == pytest.approx(
                ch.partition(np.array([y]), np.array([[om]]), v)[0], rel=1e-9)
            assert g[0, 0] == pytest.approx((lz[2] - lz[0]) / (2 * eps), rel=1e-6)
            assert dg[0, 0, 0] == pytest.approx((lz[2] - 2 * lz[1] + lz[0]) / eps**2, rel=1e-4)


def test_committee_denoiser_by_brute_force_integration():
    # Z and g = V⁻¹E[(h − ω)1_y]/Z by direct 2-D integration; ∂_ω g against finite differences
    # of g (the second moments of the quadrature).
    ch = CommitteeSignChannel(nodes=48)
    v = np.array([[0.6, 0.2], [0.2, 0.4]])
    omega = np.array([0.3, -0.5])
    quads = {1.0: [(1, 1)], -1.0: [(-1, -1)], 0.0: [(1, -1), (-1, 1)]}
    for y, regions in quads.items():
        parts = [_quadrant_brute(r, omega, v) for r in regions]
        z = sum(p[0] for p in parts)
        m1 = sum(p[1] for p in parts)
        yy = np.array([y])
        g, dg = ch.gout(yy, omega[None], v)
        assert ch.partition(yy, omega[None], v)[0] == pytest.approx(z, rel=1e-7)
        np.testing.assert_allclose(g[0], np.linalg.solve(v, m1 / z), rtol=1e-6)
        np.testing.assert_allclose(ch.partition_gout(yy, omega[None], v)[1], g, atol=1e-12)
        eps = 1e-5
        for i in range(2):
            step = eps * np.eye(2)[i]
            fd = (ch.gout(yy, (omega + step)[None], v)[0] - ch.gout(yy, (omega - step)[None],
                                                                    v)[0]) / (2 * eps)
            np.testing.assert_allclose(dg[0][:, i], fd[0], rtol=1e-5, atol=1e-8)


def test_gaussian_and_rademacher_denoisers_by_quadrature():
    a, b = np.array([[0.8]]), np.array([[0.5], [-1.3]])
    w = np.linspace(-12, 12, 200001)
    for i in range(2):
        tilt = np.exp(-0.5 * w**2 - 0.5 * a[0, 0] * w**2 + b[i, 0] * w)
        mean = (w * tilt).sum() / tilt.sum()
        m, c = GaussianPrior().denoise(a, b)
        assert m[i, 0] == pytest.approx(mean, rel=1e-8)
        assert c[0, 0] == pytest.approx((w**2 * tilt).sum() / tilt.sum() - mean**2, rel=1e-8)
    m, _ = RademacherPrior().denoise(a, b)
    post = np.exp(b[:, 0])
    np.testing.assert_allclose(m[:, 0], (post - 1 / post) / (post + 1 / post))


def test_logistic_prox_is_stationary_and_its_derivative_matches():
    loss = LogisticLoss()
    y = np.array([1.0, -1.0, 1.0])
    omega = np.array([[0.3], [2.0], [-4.0]])
    v = np.array([[1.7]])
    z = loss.prox(y, omega[:, 0], 1.7)
    grad = (z - omega[:, 0]) / 1.7 - y / (1.0 + np.exp(y * z))
    np.testing.assert_allclose(grad, 0.0, atol=1e-12)
    g, dg = loss.gout(y, omega, v)
    eps = 1e-6
    g2, _ = loss.gout(y, omega + eps, v)
    np.testing.assert_allclose(dg[:, 0, 0], (g2[:, 0] - g[:, 0]) / eps, rtol=1e-4)


def test_tie_columns_projects_onto_the_symmetric_set():
    w = np.arange(6.0).reshape(3, 2)
    c = np.array([[1.0, 0.2], [0.4, 3.0]])
    tw, tc = tie_columns(w, c)
    np.testing.assert_array_equal(tw[:, 0], tw[:, 1])
    np.testing.assert_allclose(tc, [[2.0, 0.3], [0.3, 2.0]])
