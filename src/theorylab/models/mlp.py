"""Bias-free deep MLPs batched over independent networks (restarts, seeds, teachers).

A network of depth L with widths ``(n_0, n_1, …, n_L)`` is the list of its weight matrices
``weights[ℓ]`` of shape ``(batch, n_{ℓ+1}, n_ℓ)``: the ``batch`` networks are independent and are
evaluated together with batched matrix products (``bmm``). Data points are rows (PyTorch
convention):

    Z_1 = X W_1ᵀ,  Z_{ℓ+1} = σ(Z_ℓ) W_{ℓ+1}ᵀ,  f(X) = Z_L,

so ``f_θ(x) = W_L σ(W_{L−1} ⋯ σ(W_1 x))`` in the column convention of the papers
(arXiv 2209.15055, 2305.19008, 2205.15809). The weights are plain leaf tensors (no
``nn.Module``), which keeps the optimiser loop free of module overhead and makes ``select`` /
``single_forward`` trivial for ``torch.func.jacrev``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

__all__ = [
    "init_mlp",
    "mlp_forward",
    "mlp_preactivations",
    "select",
    "single_forward",
    "stack",
]

Activation = Callable[[torch.Tensor], torch.Tensor]


def init_mlp(
    widths: Sequence[int],
    *,
    batch: int = 1,
    generator: torch.Generator,
    std: float | Sequence[float] | None = None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> list[torch.Tensor]:
    """Gaussian weights of ``batch`` independent bias-free MLPs.

    Parameters
    ----------
    widths
        ``(n_0, …, n_L)``: input width, hidden widths, output width (L ≥ 1 weight matrices).
    batch
        Number of independent networks.
    generator
        CPU generator (draws are made on the CPU, then moved: a seed gives the same networks
        on every device). Network ``b`` of a batch is drawn after networks ``0 … b−1`` layer by
        layer, so use one generator per network (and :func:`stack`) when a network must be
        reproducible on its own.
    std
        Standard deviation of the entries of each ``W_ℓ`` (one value for all layers or one per
        layer). ``None``: He initialisation ``sqrt(2 / n_ℓ)`` (fan-in).
    dtype, device
        Of the returned tensors.

    Returns
    -------
    list[torch.Tensor]
        ``weights[ℓ]`` of shape ``(batch, n_{ℓ+1}, n_ℓ)``, leaf tensors with ``requires_grad``.
    """
    widths = [int(w) for w in widths]
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(f"widths must have at least two positive entries, got {widths}")
    depth = len(widths) - 1
    if std is None:
        stds = [math.sqrt(2.0 / widths[i]) for i in range(depth)]
    elif isinstance(std, int | float):
        stds = [float(std)] * depth
    else:
        stds = [float(s) for s in std]
        if len(stds) != depth:
            raise ValueError(f"std has {len(stds)} entries for {depth} layers")
    weights = []
    for i in range(depth):
        w = torch.randn(batch, widths[i + 1], widths[i], generator=generator, dtype=dtype)
        weights.append((stds[i] * w).to(device).requires_grad_(True))
    return weights


def stack(networks: Sequence[Sequence[torch.Tensor]]) -> list[torch.Tensor]:
    """Concatenate batched networks of equal widths along the batch axis (new leaf tensors)."""
    depth = len(networks[0])
    if any(len(n) != depth for n in networks):
        raise ValueError("all networks must have the same depth")
    return [
        torch.cat([n[i].detach() for n in networks], dim=0).requires_grad_(True)
        for i in range(depth)
    ]


def _matmul_t(h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``h @ wᵀ`` for h (N, n) or (B, N, n) and w (B, m, n) → (B, N, m)."""
    if h.dim() == 2:
        # one shared input: a single (N, n) × (n, B·m) product instead of B small ones
        b, m, n = w.shape
        return (h @ w.reshape(b * m, n).T).reshape(h.shape[0], b, m).transpose(0, 1)
    return torch.bmm(h, w.transpose(1, 2))


def mlp_preactivations(
    weights: Sequence[torch.Tensor], x: torch.Tensor, activation: Activation = torch.relu
) -> list[torch.Tensor]:
    """Pre-activations ``[Z_1, …, Z_L]`` of every layer, each of shape ``(batch, N, n_ℓ)``.

    ``Z_1 = X W_1ᵀ`` and ``Z_{ℓ+1} = σ(Z_ℓ) W_{ℓ+1}ᵀ``; ``Z_L`` is the output.

    Parameters
    ----------
    weights
        ``weights[ℓ]`` of shape ``(batch, n_{ℓ+1}, n_ℓ)``.
    x
        Inputs ``(N, n_0)`` shared by the batch, or ``(batch, N, n_0)``.
    activation
        σ (elementwise).
    """
    zs = []
    h = x
    for i, w in enumerate(weights):
        z = _matmul_t(h, w)
        zs.append(z)
        if i + 1 < len(weights):
            h = activation(z)
    return zs


def mlp_forward(
    weights: Sequence[torch.Tensor], x: torch.Tensor, activation: Activation = torch.relu
) -> torch.Tensor:
    """Outputs ``f_θ(X)`` of every network, shape ``(batch, N, n_L)``.

    Same arguments as :func:`mlp_preactivations` (this is its last entry, without the list).
    """
    h = x
    last = len(weights) - 1
    for i, w in enumerate(weights):
        h = _matmul_t(h, w)
        if i < last:
            h = activation(h)
    return h


def select(weights: Sequence[torch.Tensor], index: int) -> list[torch.Tensor]:
    """Weights of network ``index`` of a batch: ``weights[ℓ][index]`` of shape (n_{ℓ+1}, n_ℓ)."""
    return [w[index] for w in weights]


def single_forward(
    weights_one: Sequence[torch.Tensor], x: torch.Tensor, activation: Activation = torch.relu
) -> torch.Tensor:
    """Unbatched forward pass of one network: x of shape (n_0,) or (N, n_0) → (…, n_L).

    Written with plain ``@`` so that ``torch.func.vmap(torch.func.jacrev(…))`` applies.
    """
    h = x
    last = len(weights_one) - 1
    for i, w in enumerate(weights_one):
        h = h @ w.T
        if i < last:
            h = activation(h)
    return h
