"""Leaky ResNets batched over independent networks (arXiv 2405.17573).

A network of depth L acts on representations A ∈ R^{w×N} (columns are the N training points):

    A_ℓ = (1 − ρ_ℓ L̃) A_{ℓ−1} + ρ_ℓ W_ℓ σ(A_{ℓ−1}),   σ(A) = [relu(A); 1],   ℓ = 1 … L,

with steps ρ_ℓ > 0, Σρ_ℓ = 1, effective depth (leak) L̃ and W_ℓ ∈ R^{w×(w+1)} (last column: the
bias). The input is lifted by a fixed map, A_0 = V X, and read out by Vᵀ A_L. The loss is

    C(A_L) + (λ/(2L̃)) Σ_ℓ ρ_ℓ ‖W_ℓ‖_F²,   C = (1/N) ‖Y − Vᵀ A_L‖_F²

(sum over outputs, mean over points; the regulariser is the paper's (λ/(2L̃)) ∫_0^1 ‖W_p‖² dp).
Stationarity in W_ℓ reads W_ℓ = L̃ B_ℓ σ(A_{ℓ−1})ᵀ with momenta B_ℓ = −(1/λ) ∂C/∂A_ℓ.

``weights`` is one tensor (batch, L, w, w + 1); ``leak`` a (batch,) tensor (networks of one
batch may have different L̃), ``rho`` (L,) or (batch, L).
"""

from __future__ import annotations

import torch

__all__ = ["leaky_loss", "leaky_representations", "momenta", "sigma", "uniform_steps"]


def sigma(a: torch.Tensor) -> torch.Tensor:
    """[relu(A); 1]: (..., w, N) → (..., w + 1, N)."""
    ones = torch.ones_like(a[..., :1, :])
    return torch.cat([torch.relu(a), ones], dim=-2)


def uniform_steps(depth: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """ρ_ℓ = 1/L."""
    return torch.full((depth,), 1.0 / depth, dtype=dtype)


def _rho(rho: torch.Tensor, batch: int) -> torch.Tensor:
    return rho.expand(batch, -1) if rho.dim() == 1 else rho


def leaky_representations(
    weights: torch.Tensor, a0: torch.Tensor, leak: torch.Tensor, rho: torch.Tensor
) -> list[torch.Tensor]:
    """[A_0, A_1, …, A_L], each (batch, w, N); ``a0`` is (w, N) (shared) or (batch, w, N)."""
    batch, depth = weights.shape[:2]
    rho = _rho(rho, batch)
    a = a0.expand(batch, *a0.shape[-2:])
    reps = [a]
    for ell in range(depth):
        step = rho[:, ell, None, None]
        a = (1.0 - step * leak[:, None, None]) * a + step * (weights[:, ell] @ sigma(a))
        reps.append(a)
    return reps


def leaky_loss(
    weights: torch.Tensor,
    a0: torch.Tensor,
    y: torch.Tensor,
    readout: torch.Tensor,
    leak: torch.Tensor,
    rho: torch.Tensor,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """Per-network (data term C, full loss) and the representations.

    ``y`` is (d_out, N) (or batched), ``readout`` the (d_out, w) read-out matrix Vᵀ.
    """
    reps = leaky_representations(weights, a0, leak, rho)
    n_points = reps[-1].shape[-1]
    data = (y - readout @ reps[-1]).square().sum((-2, -1)) / n_points
    rho_b = _rho(rho, weights.shape[0])
    reg = (rho_b * weights.square().sum((-2, -1))).sum(-1)
    return data, data + lam / (2.0 * leak) * reg, reps


def momenta(
    weights: torch.Tensor,
    a0: torch.Tensor,
    y: torch.Tensor,
    readout: torch.Tensor,
    leak: torch.Tensor,
    rho: torch.Tensor,
    lam: float,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Representations [A_0 … A_L] and momenta [B_0 … B_L], B_ℓ = −(1/λ) ∂C/∂A_ℓ (the data
    term only: the regulariser does not depend on A), all detached."""
    start = a0.detach().expand(weights.shape[0], *a0.shape[-2:]).clone().requires_grad_()
    with torch.enable_grad():
        reps = leaky_representations(weights.detach(), start, leak, rho)
        data = (y - readout @ reps[-1]).square().sum((-2, -1)) / reps[-1].shape[-1]
        grads = torch.autograd.grad(data.sum(), reps)
    return [a.detach() for a in reps], [-g.detach() / lam for g in grads]
