"""Geodesic quantities of Leaky ResNets (arXiv 2405.17573): COI, stable norms, Prop. 1,
stationarity against autograd, the Hamiltonian, layer steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from theorylab.measure.geodesic import (
    adaptive_steps,
    coi,
    hamiltonian,
    irregular_steps,
    k_norm2,
    nuclear_stable_rank,
    sigma,
    stationarity,
)
from theorylab.models.leaky_resnet import leaky_loss, momenta, uniform_steps


def test_coi_of_nonnegative_representations_is_the_rank():
    """Prop. 2: non-negative A have COI = rank A (W = [I 0] on their span)."""
    rng = np.random.default_rng(0)
    for r in (1, 2, 4):
        a = np.abs(rng.normal(size=(6, r))) @ np.abs(rng.normal(size=(r, 20)))
        assert coi(a) == pytest.approx(r, abs=1e-8)


def test_prop1_lower_bounds_and_stable_version():
    """Prop. 1: COI ≥ ‖A‖_*²/‖A‖_F² ≥ ‖A‖_F²/‖A‖_op² (σ without the constant row, whose COI
    bounds ours from above; we test the chain on the bias-free cost), and γ > 0 lowers it."""
    rng = np.random.default_rng(1)
    for _ in range(20):
        a = rng.normal(size=(8, 5))  # N < w: σ(A) has full column rank, W σ(A) = A solvable
        feats = np.maximum(a, 0.0)
        bias_free = float(np.sum((a @ np.linalg.pinv(feats)) ** 2))
        s = np.linalg.svd(a, compute_uv=False)
        assert bias_free >= nuclear_stable_rank(a) - 1e-9
        assert nuclear_stable_rank(a) >= np.sum(s**2) / s[0] ** 2 - 1e-12
        assert coi(a) <= bias_free + 1e-8  # the bias column can only help
        assert coi(a, 1e-2) <= coi(a) + 1e-9


def test_k_norm2_matches_the_direct_formula():
    rng = np.random.default_rng(2)
    a, m = rng.normal(size=(4, 9)), rng.normal(size=(4, 9))
    k = sigma(a).T @ sigma(a)
    gamma = 0.3 * np.linalg.norm(sigma(a), 2) ** 2
    direct = np.trace(m @ np.linalg.solve(k + gamma * np.eye(9), m.T))
    assert k_norm2(m, a, 0.3) == pytest.approx(direct)
    with pytest.raises(ValueError, match="gamma0"):
        k_norm2(m, a, -1.0)


def test_stationarity_is_the_scaled_weight_gradient():
    """∂loss/∂W_ℓ = (λρ_ℓ/L̃)(W_ℓ − L̃ B_ℓ σ(A_{ℓ−1})ᵀ): the stationarity ratio is a gradient."""
    gen = torch.Generator().manual_seed(0)
    depth, w, n, lam, leak = 4, 5, 7, 0.1, 2.0
    weights = (0.3 * torch.randn(1, depth, w, w + 1, generator=gen, dtype=torch.float64))
    weights.requires_grad_()
    a0 = torch.randn(w, n, generator=gen, dtype=torch.float64)
    y, read = torch.randn(3, n, generator=gen, dtype=torch.float64), torch.eye(3, w).double()
    lt, rho = torch.tensor([leak], dtype=torch.float64), uniform_steps(depth)
    _, loss, _ = leaky_loss(weights, a0, y, read, lt, rho, lam)
    (grad,) = torch.autograd.grad(loss.sum(), weights)
    reps, moms = momenta(weights.detach(), a0, y, read, lt, rho, lam)
    for ell in range(depth):
        wl = weights.detach()[0, ell].numpy()
        a_prev, b = reps[ell][0].numpy(), moms[ell + 1][0].numpy()
        expected = lam / depth / leak * (wl - leak * b @ sigma(a_prev).T)
        np.testing.assert_allclose(grad[0, ell].numpy(), expected, atol=1e-12)
        ratio = np.linalg.norm(grad[0, ell].numpy()) * leak * depth / lam / np.linalg.norm(wl)
        assert stationarity(wl, a_prev, b, leak) == pytest.approx(ratio)


def test_hamiltonian_and_steps():
    a = np.abs(np.random.default_rng(3).normal(size=(3, 5)))
    assert hamiltonian(a, np.zeros_like(a), 2.0) == 0.0
    b = 0.1 * a
    expected = np.sum((b @ sigma(a).T) ** 2) - 2.0 * np.sum(b * a)
    assert hamiltonian(a, b, 2.0) == pytest.approx(expected)
    rho = irregular_steps(10, 0.5)
    assert rho.sum() == pytest.approx(1.0) and rho[4] > rho[0]
    reps = [np.ones((2, 3)) * v for v in (1.0, 3.0, 3.1, 3.2, 6.0)]  # fast, slow, slow, fast
    new = adaptive_steps(reps, np.full(4, 0.25))
    assert new.sum() == pytest.approx(1.0) and new[1] > new[0] and new[2] > new[3]
