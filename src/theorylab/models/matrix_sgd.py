"""Batches of deep linear networks fitting one matrix by GD or entry-sampling SGD.

A network of the batch is A_b = W_L,b ⋯ W_1,b (square d×d layers, float64, shape (B, d, d) per
layer: one bmm per layer for all networks). Its loss on the observed matrix Y is

    ℓ_b = Σ_ij m_b,ij (A_b,ij − Y_ij)² + λ Σ_ℓ ‖W_ℓ,b‖²,

with m_b = 1/d² everywhere for full-batch GD (the mean over entries) and, for SGD, m_b = the
counts of ``batch_size`` entries drawn uniformly with replacement divided by ``batch_size`` (an
unbiased estimate, arXiv 2305.16038's matrix-completion SGD with all entries observed). Each
network has its own learning rate. The gradients are written out by hand
(:func:`entry_gradients`): tens of thousands of steps of tiny matrices are dominated by
per-operation overhead, which autograd multiplies.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from theorylab.models.deep_linear import weight_product
from theorylab.theory.representation_cost import balanced_factors

__all__ = [
    "balanced_init",
    "basin_rank",
    "entry_gradients",
    "entry_loss",
    "low_rank_init",
    "run_matrix_descent",
]


def balanced_init(
    y: np.ndarray, depth: int, noise: float, generator: torch.Generator, batch: int
) -> list[torch.Tensor]:
    """Balanced factors of Y (W_1 = Σ^{1/L}Vᵀ, W_ℓ = Σ^{1/L}, W_L = UΣ^{1/L}) plus i.i.d.
    N(0, noise²) entries, independently for each of ``batch`` networks."""
    factors = balanced_factors(y, depth, rtol=0.0)
    out = []
    for f in factors:
        base = torch.from_numpy(np.ascontiguousarray(f))
        eps = torch.randn(batch, *base.shape, generator=generator, dtype=torch.float64)
        out.append((base + noise * eps).contiguous())
    return out


def low_rank_init(
    d: int, depth: int, rank: int, generator: torch.Generator, batch: int
) -> list[torch.Tensor]:
    """Random θ in the invariant set B_r^0: W_ℓ = O_ℓ P_ℓ O_{ℓ−1}ᵀ with P_ℓ zero outside its top-
    left r×r block (W_1: r non-zero rows, W_L: r non-zero columns), O_ℓ Haar orthogonal."""
    def haar():
        q, r = torch.linalg.qr(torch.randn(batch, d, d, generator=generator, dtype=torch.float64))
        return q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))[:, None, :]

    bases = [torch.eye(d, dtype=torch.float64).expand(batch, d, d)]
    bases += [haar() for _ in range(depth - 1)]
    bases.append(torch.eye(d, dtype=torch.float64).expand(batch, d, d))
    layers = []
    for ell in range(depth):
        block = torch.zeros(batch, d, d, dtype=torch.float64)
        rows = slice(None) if ell == depth - 1 else slice(0, rank)
        cols = slice(None) if ell == 0 else slice(0, rank)
        block[:, rows, cols] = torch.randn(
            batch, d if ell == depth - 1 else rank, d if ell == 0 else rank,
            generator=generator, dtype=torch.float64,
        ) / np.sqrt(rank)
        layers.append((bases[ell + 1] @ block @ bases[ell].transpose(1, 2)).contiguous())
    return layers


def entry_loss(
    weights: Sequence[torch.Tensor],
    y: torch.Tensor,
    lam: float,
    lr: torch.Tensor,
    sgd: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
) -> torch.Tensor:
    """lr_b ℓ_b per network (see the module docstring); ``sgd[b]`` selects the entry-sampling
    estimate, otherwise the full mean; a fresh minibatch is drawn at every call."""
    a = weight_product(list(weights))
    n, d = a.shape[0], a.shape[-1]
    mask = torch.full((n, d * d), 1.0 / (d * d), dtype=a.dtype)
    if bool(sgd.any()):
        idx = torch.randint(d * d, (n, batch_size), generator=generator)
        counts = torch.zeros(n, d * d, dtype=a.dtype).scatter_add_(
            1, idx, torch.full((n, batch_size), 1.0 / batch_size, dtype=a.dtype)
        )
        mask = torch.where(sgd[:, None], counts, mask)
    fit = (mask.view(n, d, d) * (a - y).square()).sum((1, 2))
    reg = sum(w.square().sum((1, 2)) for w in weights)
    return lr * (fit + lam * reg)


def entry_gradients(
    weights: Sequence[torch.Tensor], y: torch.Tensor, lam: float, mask: torch.Tensor
) -> list[torch.Tensor]:
    """∇_{W_ℓ} ℓ_b for every layer, by hand (no autograd): with P_ℓ = W_ℓ ⋯ W_1 and
    T_ℓ = (W_L ⋯ W_{ℓ+1})ᵀ G, G = 2 m ⊙ (A − Y), the gradient is T_ℓ P_{ℓ−1}ᵀ + 2λ W_ℓ.
    3L − 2 bmm for the whole batch (autograd of the same loss cost ≈ 10× more per step at
    d = 10, measured under load)."""
    prefix = [weights[0]]
    for w in weights[1:]:
        prefix.append(torch.bmm(w, prefix[-1]))
    t = 2.0 * mask * (prefix[-1] - y)
    grads = [None] * len(weights)
    for ell in range(len(weights) - 1, -1, -1):
        grads[ell] = (torch.bmm(t, prefix[ell - 1].transpose(1, 2)) if ell else t) + (
            2.0 * lam * weights[ell]
        )
        if ell:
            t = torch.bmm(weights[ell].transpose(1, 2), t)
    return grads


def run_matrix_descent(
    weights: list[torch.Tensor],
    y: torch.Tensor,
    lam: float,
    lr: torch.Tensor,
    steps: int,
    *,
    sgd: torch.Tensor | None = None,
    batch_size: int = 1,
    generator: torch.Generator | None = None,
) -> None:
    """``steps`` steps of GD/SGD (rate ``lr[b]`` per network) on the loss of the module
    docstring, in place; SGD networks (``sgd[b]``) draw ``batch_size`` entries per step."""
    n, d = weights[0].shape[0], weights[0].shape[-1]
    sgd = torch.zeros(n, dtype=torch.bool) if sgd is None else sgd
    generator = generator or torch.Generator().manual_seed(0)
    full = torch.full((n, d * d), 1.0 / (d * d), dtype=weights[0].dtype)
    ones = torch.full((n, batch_size), 1.0 / batch_size, dtype=weights[0].dtype)
    any_sgd = bool(sgd.any())
    rate = lr.to(weights[0].dtype)[:, None, None]
    with torch.no_grad():
        for _ in range(steps):
            mask = full
            if any_sgd:
                idx = torch.randint(d * d, (n, batch_size), generator=generator)
                counts = torch.zeros_like(full).scatter_add_(1, idx, ones)
                mask = torch.where(sgd[:, None], counts, full)
            grads = entry_gradients(weights, y, lam, mask.view(n, d, d))
            for w, g in zip(weights, grads, strict=True):
                w.sub_(rate * g)


def basin_rank(
    weights: Sequence[torch.Tensor], y: torch.Tensor, lam: float, lr: float, steps: int,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank of the minimum a full-batch GD run from (a copy of) each network settles in.

    Ranks read off a noisy SGD iterate flicker: a decaying mode needs ~1/(2 lr λ L) steps per
    e-fold. Returns per network

    * the count r of singular values of the polished product A above ``threshold``;
    * the regularised loss of the minimum of that basin, read at the rank-r truncation A_r of
      A as the matrix cost (1/d²)‖A_r − Y‖² + λ L Σ_{i≤r} s_i^{2/L} (the balanced-layer value,
      :func:`theorylab.theory.representation_cost.linear_cost`). A dying mode's weights decay
      only like e^{−2 lr λ t}, and its penalty λ L s^{2/L} is still ≈ 1 % of the loss at
      s = 2e-4 (L = 6) long after it has left the basin: the truncation reads the minimum the
      run is attracted to, not the transient;
    * the singular values of the polished product.

    A network whose weights are not finite (SGD diverged) gets rank d + 1, which no basin can
    have, so a divergence shows up as an upward jump.
    """
    from theorylab.theory.representation_cost import linear_cost

    copy = [w.detach().clone() for w in weights]
    n, d = copy[0].shape[0], copy[0].shape[-1]
    run_matrix_descent(copy, y, lam, torch.full((n,), lr, dtype=torch.float64), steps)
    with torch.no_grad():
        a = weight_product(copy)
        finite = torch.isfinite(a).all(-1).all(-1)
        a = torch.where(finite[:, None, None], a, torch.zeros_like(a))
        u, s, vt = torch.linalg.svd(a)
    s_np = s.numpy()
    ranks = (s_np > threshold).sum(1)
    kept = np.where(np.arange(d)[None, :] < ranks[:, None], s_np, 0.0)
    a_r = (u * torch.from_numpy(kept)[:, None, :]) @ vt
    fit = ((a_r - y) ** 2).sum((1, 2)).numpy() / d**2
    depth = len(copy)
    losses = fit + lam * np.asarray(linear_cost(kept, depth, rtol=0.0))
    ranks = np.where(finite.numpy(), ranks, d + 1)
    losses = np.where(finite.numpy(), losses, np.inf)
    return ranks, losses, s_np
