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

Layer steps that change during training (the paper's adaptive ρ_ℓ, Sec. 3): the objective reads
a ``rho`` tensor that :func:`train_with_step_updates` lets a callback rewrite in place between
chunks of Adam steps (the chunks continue one cosine schedule; L-BFGS then polishes with the steps
frozen, so its minimum is a minimum of one fixed discretisation).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch

from theorylab.models.training import (
    Objective,
    TrainingConfig,
    TrainingResult,
    cosine_lr,
    train,
)

__all__ = [
    "adapt_steps_",
    "data_cost",
    "leaky_loss",
    "leaky_representations",
    "momenta",
    "sigma",
    "train_with_step_updates",
    "uniform_steps",
]


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


def data_cost(y: torch.Tensor, readout: torch.Tensor, a_last: torch.Tensor) -> torch.Tensor:
    """C(A_1) = (1/N)‖Y − Vᵀ A_1‖²_F per network (sum over outputs, mean over the N points)."""
    return (y - readout @ a_last).square().sum((-2, -1)) / a_last.shape[-1]


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
    data = data_cost(y, readout, reps[-1])
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
        data = data_cost(y, readout, reps[-1])
        grads = torch.autograd.grad(data.sum(), reps)
    return [a.detach() for a in reps], [-g.detach() / lam for g in grads]


def train_with_step_updates(
    params: list[torch.Tensor],
    objective: Objective,
    config: TrainingConfig,
    every: int,
    update: Callable[[], None],
) -> list[TrainingResult]:
    """:func:`~theorylab.models.training.train` in chunks: the Adam phase of ``config`` as
    chunks of ``every`` steps that continue one cosine schedule (each chunk a fresh Adam, so its
    moment estimates restart), ``update()`` between chunks and before L-BFGS (e.g. rewrite the
    layer steps the objective reads; not after the last step, so the trained network is
    evaluated with the steps it was trained with), then the L-BFGS phase of ``config``. Returns the
    :class:`TrainingResult` of every chunk (the last one is the L-BFGS phase when it ran)."""
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    total, results, done = config.adam_steps, [], 0
    polish = config.lbfgs_calls > 0 and config.lbfgs_max_iter > 0
    while done < total:
        n = min(every, total - done)
        lr0 = cosine_lr(done, total, config.lr, config.lr_final)
        lr1 = cosine_lr(done + n, total, config.lr, config.lr_final)
        chunk = dataclasses.replace(config, adam_steps=n, lr=lr0, lr_final=lr1, lbfgs_calls=0)
        results.append(train(params, objective, chunk))
        done += n
        if done < total or polish:
            update()
    if polish:
        results.append(train(params, objective, dataclasses.replace(config, adam_steps=0)))
    return results


def adapt_steps_(
    weights: torch.Tensor,
    a0: torch.Tensor,
    leak: torch.Tensor,
    rho: torch.Tensor,
    rows: list[int],
) -> None:
    """One adaptive update (Sec. 3) of the steps of the networks ``rows``, in place on the
    (batch, L) tensor ``rho``: c_ℓ = ‖A_ℓ − A_{ℓ−1}‖/(ρ_ℓ‖A_ℓ‖) on the representations of
    ``a0``, ρ_ℓ ← c_ℓ^{−1}/Σ_i c_i^{−1} (:func:`theorylab.measure.geodesic.adaptive_steps`)."""
    from theorylab.measure.geodesic import adaptive_steps

    with torch.no_grad():
        reps = leaky_representations(weights.detach(), a0, leak, rho)
        for b in rows:
            new = adaptive_steps([r[b].cpu().numpy() for r in reps], rho[b].cpu().numpy())
            rho[b] = torch.as_tensor(new, dtype=rho.dtype, device=rho.device)
