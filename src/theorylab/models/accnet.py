"""Accordion networks (AccNets, arXiv 2407.05664), batched over independent networks.

An AccNet is a composition f = f_L ∘ … ∘ f_1 of shallow blocks

    f_ℓ(z) = W_ℓ relu(V_ℓ z + b_ℓ),   z ∈ R^{d_{ℓ−1}},  V_ℓ ∈ R^{w_ℓ×d_{ℓ−1}},  W_ℓ ∈ R^{d_ℓ×w_ℓ},

with wide inner widths w_ℓ and narrow outer dimensions d_ℓ. One block (L = 1) is a shallow
network. A batch of B networks is the list of its blocks, each a triple of tensors
``(V (B, w, d_in), b (B, w), W (B, d_out, w))``; data are rows, shared ``(N, d_0)`` or
``(B, N, d_0)``. The regularised objective is the masked mean squared error plus
λ Σ_ℓ (‖V_ℓ‖_F² + ‖b_ℓ‖² + ‖W_ℓ‖_F²); a 0/1 ``mask`` of shape (B, N) lets networks of one batch
train on different numbers of points (the first N_b rows of a shared training set).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = ["accnet_forward", "accnet_objective", "init_accnet", "split_blocks"]

Block = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def init_accnet(
    dims: Sequence[int],
    widths: Sequence[int],
    *,
    batch: int,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
) -> list[torch.Tensor]:
    """Flat parameter list ``[V_1, b_1, W_1, V_2, …]`` (He init for V, 1/√w for W, b = 0).

    ``dims`` = (d_0, …, d_L) outer dimensions, ``widths`` = (w_1, …, w_L) inner widths.
    """
    if len(dims) != len(widths) + 1 or min(*dims, *widths) < 1:
        raise ValueError(f"need len(dims) = len(widths) + 1 >= 2, positive, got {dims}, {widths}")
    params = []
    for d_in, w, d_out in zip(dims[:-1], widths, dims[1:], strict=True):
        v = torch.randn(batch, w, d_in, generator=generator, dtype=dtype) * math.sqrt(2.0 / d_in)
        out = torch.randn(batch, d_out, w, generator=generator, dtype=dtype) / math.sqrt(w)
        params += [v, torch.zeros(batch, w, dtype=dtype), out]
    return [p.requires_grad_(True) for p in params]


def split_blocks(params: Sequence[torch.Tensor]) -> list[Block]:
    """``[(V_ℓ, b_ℓ, W_ℓ)]`` from the flat list."""
    if len(params) % 3:
        raise ValueError("params must be a flat list of (V, b, W) triples")
    return [tuple(params[i : i + 3]) for i in range(0, len(params), 3)]  # type: ignore[misc]


def accnet_forward(params: Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """f(X) of every network: ``(B, N, d_L)``."""
    z = x
    for v, b, w in split_blocks(params):
        pre = torch.matmul(z, v.transpose(1, 2)) + b[:, None, :]
        z = torch.matmul(torch.relu(pre), w.transpose(1, 2))
    return z


def accnet_objective(
    params: Sequence[torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    mask: torch.Tensor,
    lam: float,
) -> torch.Tensor:
    """Per network (1/N_b) Σ_{i ≤ N_b} ‖f(x_i) − y_i‖² + λ ‖θ‖², shape (B,).

    ``y`` is (B, N, d_L) or (N, d_L); ``mask`` (B, N) holds 1 on the points network b uses.
    """
    err = (accnet_forward(params, x) - y).square().sum(-1)
    mse = (err * mask).sum(-1) / mask.sum(-1)
    reg = sum(p.square().flatten(1).sum(1) for p in params)
    return mse + lam * reg
