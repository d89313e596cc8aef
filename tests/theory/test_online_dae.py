"""Online-SGD tied autoencoder theory (arXiv 2501.03937): ODEs, flow, retraining."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from theorylab.theory.online_dae import (
    Target,
    bivariate_orthant,
    bulk_scale,
    flow_times,
    generated_projection,
    overlap_ode,
    retraining_recursion,
    skip_weight,
)

MU = np.array([[3.0, 0.0], [0.0, -3.0], [-3.0, 0.0]])  # Fig. 1 of the paper
GRAM = MU @ MU.T


def example(s2: float = 1.0) -> Target:
    return Target(GRAM, np.full(3, 1 / 3), 0.7, 0.3, 0.1, 0.05, s2)


def run(nodes=6, dtau=0.1, taus=(0.5, 1.0, 2.0, 4.0), s2=1.0):
    return overlap_ode(
        example(s2), 0.1 * GRAM[:, :2], 0.01 * GRAM[:2, :2], 0.0, taus, nodes=nodes, dtau=dtau
    )


def test_skip_weight_solves_its_ode():
    tau = np.linspace(0.0, 5.0, 2001)
    for s2 in (1.0, 2.5):
        b = skip_weight(tau, 0.7, 0.3, s2)
        rate = np.gradient(b, tau)
        assert np.allclose(rate[5:-5], 0.7 * s2 - b[5:-5] * (0.09 + 0.49 * s2), atol=1e-5)
        assert b[0] == 0.0


def test_ode_skip_weight_is_the_closed_form_and_symmetry_holds():
    tr = run()
    assert np.allclose(tr.b, skip_weight(tr.tau, 0.7, 0.3), atol=1e-8)
    # e_1 → −e_1 with w_1 → −w_1 is a symmetry: M_3 = −M_1, the cross overlaps stay 0
    assert np.allclose(tr.M[:, 2], -tr.M[:, 0], atol=1e-12)
    assert np.allclose(tr.M[:, 1, 0], 0.0, atol=1e-12)
    assert np.allclose(tr.M[:, 0, 1], 0.0, atol=1e-12)
    assert np.allclose(tr.Q[:, 0, 1], 0.0, atol=1e-12)


def test_ode_is_converged_in_nodes_and_step():
    coarse, fine = run(taus=(1.0, 2.0)), run(nodes=9, dtau=0.05, taus=(1.0, 2.0))
    assert np.allclose(coarse.M, fine.M, rtol=3e-3, atol=1e-6)
    assert np.allclose(coarse.Q, fine.Q, rtol=3e-3, atol=1e-6)


def test_learning_rate_enters_only_through_the_sgd_noise_term():
    """dQ/dτ has the term 2η E[...] (second order in the SGD step): a larger η changes Q,
    not b."""
    base = example()
    hot = Target(base.gram, base.weights, base.beta, base.alpha, 0.2, base.lam)
    a = overlap_ode(base, 0.1 * GRAM[:, :2], 0.01 * GRAM[:2, :2], 0.0, [1.0], 6, 0.1)
    b = overlap_ode(hot, 0.1 * GRAM[:, :2], 0.01 * GRAM[:2, :2], 0.0, [1.0], 6, 0.1)
    assert a.b[0] == pytest.approx(b.b[0], abs=1e-12)
    assert b.Q[0, 0, 0] > a.Q[0, 0, 0] * 1.01


def test_bulk_scale_is_the_product_of_euler_factors():
    t = flow_times(100)
    assert t[0] == 0.0 and t[-1] == pytest.approx(0.98)
    assert bulk_scale(1.0) == pytest.approx(1.0)
    b = 1.2
    assert bulk_scale(b) == pytest.approx(np.prod([1 + (b - 1) / (100 - k) for k in range(99)]))


def test_bivariate_orthant_matches_scipy():
    for h, k, rho in ((0.3, -1.2, 0.4), (-0.7, -0.2, -0.6), (2.0, 0.5, 0.0), (1e-3, 1.0, 0.9)):
        ref = multivariate_normal([0, 0], [[1, rho], [rho, 1]]).cdf([h, k])
        assert bivariate_orthant(h, k, rho) == pytest.approx(ref, abs=1e-6)


def test_generated_projection_matches_particles_of_the_reduced_flow():
    tr = run()
    G = np.stack([tr.M[-1, 0], -tr.M[-1, 1]]) / 3
    law = generated_projection(G, tr.Q[-1], tr.b[-1], nodes=48)
    rng = np.random.default_rng(0)
    n = 40_000
    Z = rng.standard_normal((n, 2)) @ np.linalg.cholesky(tr.Q[-1]).T
    for t in flow_times(100):
        Z = Z + ((tr.b[-1] - 1) * Z + np.tanh(Z) @ tr.Q[-1]) / (100 * (1 - t))
    x = Z @ (G @ np.linalg.inv(tr.Q[-1])).T
    x = x + rng.standard_normal((n, 2)) @ np.linalg.cholesky(law.cov).T
    assert np.allclose(
        law.abs_quantiles([0.25, 0.5, 0.9]),
        np.quantile(np.abs(x), [0.25, 0.5, 0.9], axis=0).T,
        rtol=0.015,
    )
    quads = [
        np.mean((s1 * x[:, 0] > 0) & (s2 * x[:, 1] > 0))
        for s1, s2 in ((1, 1), (-1, 1), (-1, -1), (1, -1))
    ]
    assert np.allclose(law.quadrants(), quads, atol=0.008)
    assert law.scale**2 == pytest.approx(bulk_scale(tr.b[-1]) ** 2)


def test_retraining_recursion_iterates_the_skip_weight_and_reaches_a_fixed_point():
    b, s2 = retraining_recursion(0.7, 0.3, 4.0, 12)
    assert b[0] == pytest.approx(skip_weight(4.0, 0.7, 0.3))
    assert b[1] == pytest.approx(skip_weight(4.0, 0.7, 0.3, s2[0]))
    assert np.all(np.diff(s2) > 0)  # the bulk variance inflates generation after generation
    assert s2[-1] == pytest.approx(bulk_scale(skip_weight(4.0, 0.7, 0.3, s2[-1])) ** 2, rel=1e-3)
