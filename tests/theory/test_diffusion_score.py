"""Scores of subspace-supported data under the OU process (arXiv 2410.11275)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorylab.theory.diffusion_score import (
    LatentMixture,
    dsm_gap_of_true_score,
    f1_rate_exponent,
    latent_score,
    minimax_rate_exponent,
    ou_schedule,
    score_norm,
    subspace_fisher,
    subspace_score,
)

MIX = LatentMixture.circle(4, 0.15)


def test_latent_score_is_the_gradient_of_the_log_density():
    centres, v = MIX.diffused(0.3)

    def log_q(u):
        d2 = ((u[None] - centres) ** 2).sum(-1)
        return math.log(np.mean(np.exp(-d2 / (2 * v))))

    u = np.array([0.3, -0.2])
    h = 1e-6
    grad = [(log_q(u + h * e) - log_q(u - h * e)) / (2 * h) for e in np.eye(2)]
    assert np.allclose(latent_score(u, MIX, 0.3), grad, atol=1e-6)


def test_single_gaussian_has_a_linear_score_and_known_fisher_information():
    mix = LatentMixture(np.zeros((1, 2)), 0.5, np.ones(1))
    alpha, sigma2 = ou_schedule(0.4)
    v = alpha**2 * 0.5 + sigma2
    assert np.allclose(latent_score(np.array([1.0, 2.0]), mix, 0.4), -np.array([1.0, 2.0]) / v)
    assert subspace_fisher(mix, 0.4) == pytest.approx(2 / v, rel=1e-10)


def test_subspace_score_splits_into_linear_and_latent_parts():
    rng = np.random.default_rng(0)
    basis, _ = np.linalg.qr(rng.standard_normal((6, 2)))
    x = rng.standard_normal((5, 6))
    s = subspace_score(x, basis, MIX, 0.3)
    _, sigma2 = ou_schedule(0.3)
    perp = x - (x @ basis) @ basis.T
    assert np.allclose(s - (s @ basis) @ basis.T, -perp / sigma2)
    assert np.allclose(s @ basis, latent_score(x @ basis, MIX, 0.3))


def test_dsm_identity_two_quadratures_agree():
    """L_t(0) − L_t(s_t) (quadrature of the DSM loss) = E‖s_t‖² (quadrature of the score)."""
    for dim in (4, 32):
        assert dsm_gap_of_true_score(MIX, 0.3, dim, nodes=8) == pytest.approx(
            score_norm(MIX, 0.3, dim), abs=1e-5
        )


def test_dsm_gap_by_monte_carlo():
    rng = np.random.default_rng(1)
    basis, _ = np.linalg.qr(rng.standard_normal((4, 2)))
    alpha, sigma2 = ou_schedule(0.3)
    n = 200_000
    which = rng.integers(0, 4, n)
    x0 = (MIX.means[which] + 0.15 * rng.standard_normal((n, 2))) @ basis.T
    xi = rng.standard_normal((n, 4))
    resid = subspace_score(alpha * x0 + math.sqrt(sigma2) * xi, basis, MIX, 0.3)
    resid += xi / math.sqrt(sigma2)
    per = (xi**2).sum(-1) / sigma2 - (resid**2).sum(-1)
    assert per.mean() == pytest.approx(score_norm(MIX, 0.3, 4), abs=4 * per.std() / math.sqrt(n))


def test_rate_exponents():
    assert f1_rate_exponent(2) == pytest.approx(2 / 7)
    assert minimax_rate_exponent(32) == pytest.approx(2 / 36)
    assert f1_rate_exponent(2) > minimax_rate_exponent(4) > minimax_rate_exponent(32)
