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
    kink_count,
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


def test_kink_count():
    a = np.array([[1.0, -2.0, 0.0], [1e-9, 3.0, -1e-7]])
    assert kink_count([a], 1e-6) == 3  # 0, 1e-9 and -1e-7 are ≤ 1e-6 · 3
    assert kink_count([a], 1e-8) == 2 and kink_count([np.zeros((2, 2))]) == 0


def test_hamiltonian_is_kinetic_plus_potential():
    """§ Hamiltonian: with ∂A = L̃(Bσ(A)ᵀσ(A) − A) (the critical-point flow) and
    Im Aᵀ ⊂ Im σ(A)ᵀ (here A ≥ 0), H = (1/(2L̃))‖∂A‖²_K − (L̃/2)‖A‖²_K."""
    rng = np.random.default_rng(4)
    a, b, leak = np.abs(rng.normal(size=(3, 7))), rng.normal(size=(3, 7)), 2.5
    sa = sigma(a)
    speed = leak * (b @ sa.T @ sa - a)
    kinetic, potential = k_norm2(speed, a) / (2 * leak), -leak / 2 * coi(a)
    assert hamiltonian(a, b, leak) == pytest.approx(kinetic + potential, rel=1e-9)


def _exact_critical_point(depth: int, leak: float = 1.0, lam: float = 0.1):
    """A tiny leaky ResNet (w = d = 2, N = 4, positive inputs: every ReLU stays active, so the
    loss is smooth) driven to an exact critical point by Newton's method (|eigenvalues|)."""
    gen = torch.Generator().manual_seed(0)
    x = 1.0 + torch.rand(2, 4, generator=gen, dtype=torch.float64)
    y, read = x.flip(0) + 0.5, torch.eye(2, dtype=torch.float64)
    lt, rho = torch.tensor([leak], dtype=torch.float64), uniform_steps(depth)
    shape = (1, depth, 2, 3)

    def loss(theta):
        return leaky_loss(theta.reshape(shape), x, y, read, lt, rho, lam)[1].sum()

    theta = torch.zeros(depth * 6, dtype=torch.float64)
    for _ in range(40):
        grad = torch.autograd.functional.jacobian(loss, theta)
        if grad.norm() < 1e-12:
            break
        e, v = torch.linalg.eigh(torch.autograd.functional.hessian(loss, theta, vectorize=True))
        step, t = -v @ ((v.T @ grad) / e.abs().clamp(min=1e-10)), 1.0
        while loss(theta + t * step) > loss(theta) and t > 1e-8:
            t /= 2
        theta = theta + t * step
    w = theta.reshape(shape)
    reps, moms = momenta(w, x, y, read, lt, rho, lam)
    a, b = [r[0].numpy() for r in reps], [m[0].numpy() for m in moms]
    crit = max(stationarity(w[0, i].numpy(), a[i], b[i + 1], leak) for i in range(depth))
    return crit, np.array([hamiltonian(a[i], b[i], leak) for i in range(depth + 1)]), a


def test_hamiltonian_at_an_exact_critical_point():
    """Thm. 4's setting: at a critical point H(A_ℓ, B_ℓ) is constant along depth up to the
    O(ρ) error of the discretisation — its spread halves when L doubles."""
    spreads = []
    for depth in (4, 8):
        crit, ham, a = _exact_critical_point(depth)
        assert crit < 1e-8 and min(ai.min() for ai in a) > 0  # critical, all ReLUs active
        spreads.append(np.ptp(ham))
        assert np.ptp(ham) < 0.06 * np.abs(ham).max()
    assert 0.4 < spreads[1] / spreads[0] < 0.6  # first order in ρ = 1/L


def test_layer_step_formulas():
    """Sec. 3: irregular steps ρ_ℓ ∝ 1 + a(1/4 − |ℓ/L − 1/2|) renormalised to Σρ = 1 (a = 0:
    equidistant); adaptive update ρ_ℓ ← c_ℓ⁻¹/Σc_i⁻¹, c_ℓ = ‖A_ℓ − A_{ℓ−1}‖/(ρ_ℓ‖A_ℓ‖)."""
    np.testing.assert_allclose(irregular_steps(5, 0.0), np.full(5, 0.2))
    # L = 2, a = 0.5: |ℓ/L − 1/2| = 0, 1/2 → weights 1.125, 0.875
    np.testing.assert_allclose(irregular_steps(2, 0.5), [0.5625, 0.4375])
    for depth, a in ((4, 0.3), (9, 0.9)):
        rho = irregular_steps(depth, a)
        assert rho.sum() == pytest.approx(1.0) and np.all(rho > 0)
        inner = rho[:-1]  # ρ_ℓ = ρ_{L−ℓ} for ℓ = 1 … L − 1; ρ_L is the smallest
        np.testing.assert_allclose(inner, inner[::-1])
        assert rho[-1] == rho.min() and rho[(depth - 1) // 2] == rho.max()
    with pytest.raises(ValueError, match="a must be"):
        irregular_steps(4, 1.0)
    # A = 1, 2, 3 (1×1), ρ = (1/2, 1/2): c = (1/(½·2), 1/(½·3)) = (1, 2/3) → ρ ∝ (1, 3/2)
    reps = [np.array([[v]]) for v in (1.0, 2.0, 3.0)]
    np.testing.assert_allclose(adaptive_steps(reps, np.full(2, 0.5)), [0.4, 0.6])
    # equal relative jumps ‖A_ℓ − A_{ℓ−1}‖/‖A_ℓ‖ (A = 1, 2, 4, 8): any steps are a fixed point
    reps = [np.array([[v, -v]]) for v in (1.0, 2.0, 4.0, 8.0)]
    rho = np.array([0.2, 0.3, 0.5])
    new = adaptive_steps(reps, rho)
    np.testing.assert_allclose(new, rho)
    assert new.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="reps"):
        adaptive_steps(reps[:-1], rho)
