"""The tied DAE with a skip connection (theorylab.models.dae)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from theorylab.models import dae


def _data(n=60, d=30, delta=0.3, seed=0):
    g = torch.Generator().manual_seed(seed)
    mu = torch.ones(d, dtype=torch.float64) / math.sqrt(d)
    s = torch.randint(0, 2, (n,), generator=g).double() * 2 - 1
    x = s[:, None] * mu + 0.3 * torch.randn(n, d, generator=g, dtype=torch.float64)
    y = math.sqrt(1 - delta) * x + math.sqrt(delta) * torch.randn(n, d, generator=g,
                                                                     dtype=torch.float64)
    return x, y, mu


def test_loss_through_projections_equals_the_direct_loss():
    x, y, _ = _data()
    w = torch.randn(3, x.shape[1], dtype=torch.float64)
    b = torch.tensor([0.2, 0.5, -0.1], dtype=torch.float64)
    fast = dae.dae_loss(w, b, y, x, lam=0.1)
    for r in range(3):
        direct = 0.5 * ((dae.denoise(w[r], b[r], y) - x) ** 2).sum() + 0.05 * (w[r] ** 2).sum()
        assert torch.allclose(fast[r], direct, rtol=1e-12)


def test_training_reaches_a_stationary_point_of_the_full_loss():
    x, y, _ = _data()
    fit = dae.train_dae(y, x, 0.1, restarts=2, generator=torch.Generator().manual_seed(1))
    assert fit.converged
    w = torch.tensor(fit.w, requires_grad=True)
    b = torch.tensor([fit.b], dtype=torch.float64, requires_grad=True)
    loss = dae.dae_loss(w[None], b, y, x, 0.1).sum()
    gw, gb = torch.autograd.grad(loss, (w, b))
    assert float(gw.norm()) < 1e-4 and abs(float(gb)) < 1e-6
    no_skip = dae.train_dae(y, x, 0.1, skip=False, restarts=1,
                            generator=torch.Generator().manual_seed(1))
    assert no_skip.b == 0.0 and no_skip.loss > fit.loss


def test_population_error_matches_paired_monte_carlo():
    """The exact test error of given weights against an explicit paired test set."""
    d, delta, s2 = 30, 0.3, 0.09
    x, y, mu = _data(n=200_000, d=d, delta=delta, seed=3)
    w = torch.randn(d, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    b = 0.4
    mix = dae.MixtureMoments(mu.numpy(), s2, s2)
    err = ((dae.denoise(w, b, y) - x) ** 2).sum(1)
    base = ((b * y - x) ** 2).sum(1)
    exact = dae.population_error(mix, delta, b, w.numpy())
    exact_base = dae.population_error(mix, delta, b)
    n = err.shape[0]
    assert abs(float(err.mean()) - exact) < 4 * float(err.std()) / math.sqrt(n)
    diff = err - base  # the paired difference has far smaller variance
    assert abs(float(diff.mean()) - (exact - exact_base)) < 4 * float(diff.std()) / math.sqrt(n)
    e = torch.randn(d, dtype=torch.float64)
    e = e / e.norm()
    pca = (((y @ e)[:, None] * e - x) ** 2).sum(1)
    assert abs(float(pca.mean()) - dae.pca_error(mix, delta, e.numpy())) < 4 * float(
        pca.std()) / math.sqrt(n)


def test_optimal_skip_zeroes_the_skip_gradient():
    x, y, _ = _data()
    w = torch.randn(2, x.shape[1], dtype=torch.float64)
    stats = dae._gram(y, x)
    b = dae.optimal_skip(w, y, x, stats).requires_grad_(True)
    (g,) = torch.autograd.grad(dae.dae_loss(w, b, y, x, 0.1).sum(), b)
    assert np.allclose(g.numpy(), 0.0, atol=1e-9)


def test_image_error_is_exact_in_the_noise():
    """Average over rows of E_ξ‖f(c x + √Δ ξ) − x‖² against Monte Carlo over ξ."""
    import math

    from theorylab.models.dae import image_error, image_pca_error

    rng = np.random.default_rng(1)
    d, delta, b = 16, 0.3, 0.4
    x = 0.5 * rng.standard_normal((5, d))
    w = rng.standard_normal(d)
    e = w / np.linalg.norm(w)
    xi = rng.standard_normal((40_000, 1, d))
    y = math.sqrt(1 - delta) * x + math.sqrt(delta) * xi
    phi = np.tanh(y @ w / math.sqrt(d))
    err = np.sum((b * y + phi[..., None] * w / math.sqrt(d) - x) ** 2, -1).mean(1)
    assert abs(image_error(x, delta, b, w) - err.mean()) < 4 * err.std() / math.sqrt(len(err))
    assert image_error(x, delta, b) == pytest.approx(
        np.mean(np.sum((b * y - x) ** 2, -1)), rel=2e-3)
    pca = np.sum(((y @ e)[..., None] * e - x) ** 2, -1).mean(1)
    assert abs(image_pca_error(x, delta, e) - pca.mean()) < 4 * pca.std() / math.sqrt(len(pca))


@pytest.mark.parametrize("covariance", ["isotropic", "wishart"])
def test_direction_controls_have_mean_zero(covariance):
    # the mean over many training sets of each control is zero within its standard error, and
    # a wrong E u² (the cluster variance along μ_e) would be seen
    d, n, sets = 40, 200, 400
    gen = torch.Generator().manual_seed(5)
    draws = []
    for _ in range(sets):
        x, *_ = dae.training_pool(covariance, d, 0.3, n, gen)
        xi = torch.randn(*x.shape, generator=gen, dtype=torch.float64)
        draws.append(dae.direction_controls(covariance, 0.3, x, xi, [n // 2, n]))
    c = np.array(draws)  # (sets, 2, 3)
    mean, sem = c.mean(0), c.std(0, ddof=1) / math.sqrt(sets)
    assert np.all(np.abs(mean) < 4 * sem)
    assert abs(mean[1, 1] + 0.03) > 4 * sem[1, 1]  # E u² off by 0.03 (10 % of s2) is seen
