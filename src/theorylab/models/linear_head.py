"""MLPs that end in a linear head: L1 ReLU layers, then L2 ≥ 1 linear layers (arXiv 2410.04887).

Weights follow :mod:`theorylab.models.mlp` (``weights[ℓ]`` of shape ``(batch, n_{ℓ+1}, n_ℓ)``,
bias-free, data as rows):

    Z_ℓ = σ(Z_{ℓ−1} W_ℓᵀ) for ℓ ≤ L1,   Z_ℓ = Z_{ℓ−1} W_ℓᵀ for ℓ > L1,   f(X) = Z_L.

Training minimises, per network b of a batch, ½ (1/N) Σ_i ‖f(x_i) − y_i‖² + (λ_b/2) Σ_ℓ ‖W_ℓ‖_F²
(the paper's loss with the MSE averaged over the N points): Adam first (reach the interpolating
basin), then plain full-batch gradient descent with a per-network step η_b — the dynamics whose
balancedness law dD/dt = −2λD the paper proves (Adam does not obey it). ``train_linear_head``
records the imbalance ‖W_{ℓ+1}ᵀW_{ℓ+1} − W_ℓW_ℓᵀ‖_F of every linear pair along the GD phase.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from theorylab.models.mlp import mlp_forward, mlp_preactivations
from theorylab.models.training import TrainingConfig, gradient_descent, train

__all__ = ["HeadRun", "head_features", "head_forward", "head_objective", "train_linear_head"]


def _identity(z: torch.Tensor) -> torch.Tensor:
    return z


def head_forward(
    weights: Sequence[torch.Tensor], x: torch.Tensor, relu_layers: int
) -> torch.Tensor:
    """Outputs ``(batch, N, n_L)``: ``relu_layers`` ReLU layers, then the linear head."""
    if not 1 <= relu_layers < len(weights):
        raise ValueError(f"need 1 <= relu_layers < depth = {len(weights)}, got {relu_layers}")
    hidden = torch.relu(mlp_forward(weights[:relu_layers], x))
    return mlp_forward(weights[relu_layers:], hidden, _identity)


def head_features(
    weights: Sequence[torch.Tensor], x: torch.Tensor, relu_layers: int
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """``(features, preactivations)``: Z_1 … Z_L as defined above (post-ReLU for ℓ ≤ L1), each
    ``(batch, N, n_ℓ)``, and the ReLU pre-activations Z̃_1 … Z̃_{L1}."""
    pre = mlp_preactivations(weights[:relu_layers], x)
    feats = [torch.relu(z) for z in pre]
    feats += mlp_preactivations(weights[relu_layers:], feats[-1], _identity)
    return feats, pre


def head_objective(
    weights: Sequence[torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    relu_layers: int,
    lam: torch.Tensor,
) -> torch.Tensor:
    """Per-network ½ (1/N) Σ_i ‖f(x_i) − y_i‖² + (λ_b/2) Σ_ℓ ‖W_ℓ‖_F², shape ``(batch,)``."""
    mse = (head_forward(weights, x, relu_layers) - y).square().sum(-1).mean(-1)
    reg = sum(w.square().sum((1, 2)) for w in weights)
    return 0.5 * mse + 0.5 * lam * reg


@dataclass(frozen=True)
class HeadRun:
    """Outcome of :func:`train_linear_head`.

    Attributes
    ----------
    weights
        Trained weights (detached), ``(batch, n_{ℓ+1}, n_ℓ)``.
    steps
        GD steps at which the imbalance was recorded, shape ``(R,)``.
    imbalance
        ‖W_{ℓ+1}ᵀW_{ℓ+1} − W_ℓW_ℓᵀ‖_F per record, network and linear pair: ``(R, batch, L2 − 1)``.
    loss
        Objective per network at the end, ``(batch,)``.
    monitored
        ``monitor(weights)`` at every record (``(R, ...)``), or None without a monitor.
    """

    weights: list[torch.Tensor]
    steps: np.ndarray
    imbalance: np.ndarray
    loss: np.ndarray
    monitored: np.ndarray | None = None


def _imbalance(weights: Sequence[torch.Tensor], relu_layers: int) -> np.ndarray:
    with torch.no_grad():
        gaps = [
            torch.linalg.matrix_norm(up.transpose(1, 2) @ up - lo @ lo.transpose(1, 2))
            for lo, up in zip(weights[relu_layers:-1], weights[relu_layers + 1 :], strict=True)
        ]
    return torch.stack(gaps, dim=-1).cpu().numpy()


def train_linear_head(
    weights: list[torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    relu_layers: int,
    lam: Sequence[float],
    etas: Sequence[float],
    adam_steps: int,
    adam_lr: float,
    gd_steps: int,
    records: int,
    monitor: Callable[[list[torch.Tensor]], np.ndarray] | None = None,
) -> HeadRun:
    """Adam (constant ``adam_lr``) then plain GD with step ``etas[b]`` on network b.

    The per-network steps are exact: GD with unit step on Σ_b η_b loss_b moves network b by
    −η_b ∇loss_b (networks share no parameter). The imbalance of every linear pair is recorded
    ``records`` times, evenly over the GD phase, and ``monitor(weights)`` (any measurement,
    e.g. NC1 of a layer) with it.
    """
    dtype, device = weights[0].dtype, weights[0].device
    lam_t = torch.as_tensor(lam, dtype=dtype, device=device)
    eta_t = torch.as_tensor(etas, dtype=dtype, device=device)

    def objective(ws: list[torch.Tensor]) -> torch.Tensor:
        return head_objective(ws, x, y, relu_layers, lam_t)

    config = TrainingConfig(adam_steps=adam_steps, lr=adam_lr, lr_final=adam_lr, lbfgs_calls=0)
    train(weights, objective, config)
    chunk = max(1, gd_steps // max(1, records))
    steps, gaps, seen = [], [], []
    done = 0
    while done < gd_steps:
        n = min(chunk, gd_steps - done)
        gradient_descent(weights, lambda ws: eta_t * objective(ws), 1.0, n)
        done += n
        steps.append(done)
        gaps.append(_imbalance(weights, relu_layers))
        if monitor is not None:
            seen.append(monitor([w.detach() for w in weights]))
    with torch.no_grad():
        loss = objective(weights).cpu().numpy()
    return HeadRun(
        weights=[w.detach() for w in weights],
        steps=np.asarray(steps, dtype=float),
        imbalance=np.asarray(gaps),
        loss=loss,
        monitored=np.asarray(seen) if monitor is not None else None,
    )
