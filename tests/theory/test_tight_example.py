"""Closed forms of the tight example (arXiv 2205.15809, Props. 13–14) against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from theorylab.theory import tight_example as te
from theorylab.theory.representation_cost import linear_cost


@pytest.mark.parametrize("n", [2, 4, 6, 8, 10])
def test_target_is_the_gram_of_the_bipartite_incidence_matrix(n):
    # Prop. 13: Y_N = EᵀE, E the incidence matrix of K_{N/2,N/2} (N²/4 edges, one per row)
    e = te.incidence_matrix(n)
    assert e.shape == (n * n // 4, n)
    assert np.all(e.sum(axis=1) == 2)
    assert np.all(e[:, : n // 2].sum(axis=1) == 1)  # every edge joins the two sides
    np.testing.assert_array_equal(te.bipartite_target(n), e.T @ e)
    assert te.plateau_width(n) == e.shape[0]


@pytest.mark.parametrize("n", [2, 4, 6, 8, 10])
def test_target_spectrum(n):
    y = te.bipartite_target(n)
    eig = np.sort(np.linalg.eigvalsh(y))[::-1]
    np.testing.assert_allclose(eig, te.target_spectrum(n), atol=1e-12)
    np.testing.assert_allclose(y @ np.ones(n), n * np.ones(n))
    np.testing.assert_allclose(y @ te.null_vector(n), 0.0, atol=1e-12)
    assert np.linalg.norm(te.null_vector(n)) == pytest.approx(1.0)


@pytest.mark.parametrize("n", [4, 6, 8])
def test_representation_cost_of_the_target_is_attained_by_the_edge_network(n):
    # Prop. 14 at λ → 0: R(I, Y_N) = 2‖Y_N‖_* = 2 Tr Y_N = N², attained by one neuron per edge:
    # W_1 = E (rows ≥ 0, so relu(W_1) = W_1), W_2 = Y_N E⁺ fits Y_N with ‖W‖² = N², balanced.
    y = te.bipartite_target(n)
    assert te.representation_cost(n) == n * n
    assert linear_cost(np.linalg.svd(y, compute_uv=False), 2) == pytest.approx(n * n)
    w1 = te.incidence_matrix(n)
    w2 = y @ np.linalg.pinv(w1)
    np.testing.assert_allclose(w2 @ np.maximum(w1, 0), y, atol=1e-10)
    assert np.sum(w1**2) + np.sum(w2**2) == pytest.approx(n * n, rel=1e-10)
    assert np.sum(w1**2) == pytest.approx(np.sum(w2**2), rel=1e-10)


def test_reference_plateau_values():
    # Values of the closed form λN² − λ²N(N−1) at the paper's tight example with λ = 0.01,
    # matched by the float64 minimum over restarts (N = 4: 0.158800, N = 6: 0.357000 to 1e-13).
    assert te.plateau_loss(4, 0.01) == pytest.approx(0.158800, abs=1e-12)
    assert te.plateau_loss(6, 0.01) == pytest.approx(0.357000, abs=1e-12)
    assert te.plateau_loss(8, 0.01) == pytest.approx(0.6344, abs=1e-12)


@pytest.mark.parametrize(("n", "lam"), [(4, 0.01), (6, 0.01), (6, 0.2), (8, 0.05), (10, 0.4)])
def test_minimiser_is_soft_thresholding(n, lam):
    y_hat = te.plateau_output(n, lam)
    relaxed, loss = te.relaxed_minimum(te.bipartite_target(n), lam)
    np.testing.assert_allclose(y_hat, relaxed, atol=1e-12)
    assert loss == pytest.approx(te.plateau_loss(n, lam), rel=1e-12)
    diag, same, across = te.plateau_blocks(n, lam)
    h = n // 2
    np.testing.assert_allclose(np.diag(y_hat), diag)
    assert y_hat[0, 1] == pytest.approx(same)
    assert y_hat[0, h] == pytest.approx(across)
    # doubly non-negative (PSD, entrywise ≥ 0): necessary for complete positivity
    assert np.min(np.linalg.eigvalsh(y_hat)) > -1e-12
    assert np.min(y_hat) >= 0


@pytest.mark.parametrize(("n", "lam"), [(4, 0.01), (4, 0.2), (6, 0.05)])
def test_plateau_loss_by_brute_force_factorisation(n, lam):
    """min over U, V of (1/N)‖UVᵀ − Y_N‖² + λ(‖U‖² + ‖V‖²) (a depth-2 linear net, whose cost is
    2‖UVᵀ‖_*), by L-BFGS from random starts: an independent route to the closed form."""
    y = te.bipartite_target(n)
    rng = np.random.default_rng(0)

    def objective(theta):
        u, v = theta[: n * n].reshape(n, n), theta[n * n :].reshape(n, n)
        r = u @ v.T - y
        f = np.sum(r**2) / n + lam * np.sum(theta**2)
        grad_u = 2 * r @ v / n + 2 * lam * u
        grad_v = 2 * r.T @ u / n + 2 * lam * v
        return f, np.concatenate([grad_u.ravel(), grad_v.ravel()])

    best = min(
        minimize(objective, rng.standard_normal(2 * n * n), jac=True, method="L-BFGS-B",
                 options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 5000}).fun
        for _ in range(4)
    )  # fmt: skip
    assert best == pytest.approx(te.plateau_loss(n, lam), rel=1e-8)


def test_minimiser_beats_random_perturbations():
    n, lam = 6, 0.05
    y = te.bipartite_target(n)

    def objective(a):
        return np.sum((a - y) ** 2) / n + lam * linear_cost(np.linalg.svd(a, compute_uv=False), 2)

    best = objective(te.plateau_output(n, lam))
    rng = np.random.default_rng(0)
    for _ in range(200):
        assert objective(te.plateau_output(n, lam) + 1e-3 * rng.standard_normal((n, n))) > best


def test_sparsity_bound_and_validation():
    assert te.sparsity_bound(5) == 30
    np.testing.assert_array_equal(te.sparsity_bound(np.array([4, 6])), [20, 42])
    with pytest.raises(ValueError, match="even"):
        te.bipartite_target(5)
    with pytest.raises(ValueError, match="λ"):
        te.plateau_loss(4, 0.5)
