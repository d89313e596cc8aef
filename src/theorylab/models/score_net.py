"""Shallow ReLU score networks with a linear skip, trained by denoising score matching.

A batch of B independent networks ``s(x) = A relu(W x + c) + V x + e`` (width m, input and
output R^D) is held in stacked tensors and trained together (one ``bmm`` per layer), each on its
own training set — e.g. one network per sample size n of a learning curve. The loss is the
denoising score-matching loss of arXiv 2410.11275, ``‖s(α x0 + σ ξ) + ξ/σ‖²`` (summed over the D
outputs, averaged over the minibatch) with fresh noise ξ at every step; the optimiser is SGD
with momentum and coupled weight decay, learning rate with cosine decay to zero (Adam stalls
on this loss at D = 32: its per-coordinate steps random-walk the first-layer weights in the
D − k directions where the DSM gradient is pure noise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["DSMConfig", "ShallowScoreNets", "train_dsm"]


class ShallowScoreNets(torch.nn.Module):
    """B shallow ReLU networks R^D → R^D with a learned linear skip ``V x`` (init 0).

    First layer and readout use PyTorch's default ``Linear`` initialisation
    (uniform ±1/√fan_in)."""

    def __init__(
        self, nets: int, dim: int, width: int, generator: torch.Generator, dtype=torch.float32
    ):
        super().__init__()

        def uniform(*shape, fan_in):
            bound = 1.0 / math.sqrt(fan_in)
            return (torch.rand(*shape, generator=generator, dtype=dtype) * 2 - 1) * bound

        self.W = torch.nn.Parameter(uniform(nets, width, dim, fan_in=dim))
        self.c = torch.nn.Parameter(uniform(nets, 1, width, fan_in=dim))
        self.A = torch.nn.Parameter(uniform(nets, dim, width, fan_in=width))
        self.e = torch.nn.Parameter(uniform(nets, 1, dim, fan_in=width))
        self.V = torch.nn.Parameter(torch.zeros(nets, dim, dim, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, N, D) → scores (B, N, D)."""
        hidden = torch.relu(torch.bmm(x, self.W.transpose(1, 2)) + self.c)
        return (
            torch.bmm(hidden, self.A.transpose(1, 2))
            + torch.bmm(x, self.V.transpose(1, 2))
            + self.e
        )


@dataclass(frozen=True)
class DSMConfig:
    """SGD + momentum, coupled weight decay, cosine learning rate, minibatch with replacement."""

    steps: int = 1500
    batch: int = 512
    lr: float = 0.02
    momentum: float = 0.9
    weight_decay: float = 1e-4


def train_dsm(
    net: ShallowScoreNets,
    data: torch.Tensor,
    counts: list[int],
    alpha: float,
    sigma: float,
    config: DSMConfig,
    generator: torch.Generator,
) -> list[float]:
    """Train network b on the first ``counts[b]`` rows of ``data`` (n_max, D) by DSM.

    SGD with momentum as ``torch.optim.SGD`` does it (buffer ← μ·buffer + ∇ + wd·θ,
    θ ← θ − lr·buffer), lr = lr₀(1 + cos(π step/steps))/2 (cosine decay to 0), written out
    (torch.optim's first step imports torch._dynamo, seconds per process). Every step draws,
    for each network, ``batch`` indices with replacement from its own
    training set and fresh noise ξ; x = α x0 + σ ξ, loss ‖s(x) + ξ/σ‖². Returns the loss per
    network averaged over the last 10 % of the steps.
    """
    params = list(net.parameters())
    buffers = [torch.zeros_like(q) for q in params]
    sizes = torch.tensor(counts, dtype=torch.float64)[:, None]
    dim = data.shape[1]
    tail = torch.zeros(len(counts), dtype=torch.float64)
    start_tail = int(0.9 * config.steps)
    for step in range(config.steps):
        u = torch.rand(len(counts), config.batch, generator=generator, dtype=torch.float64)
        idx = (u * sizes).long()
        x0 = data[idx]
        xi = torch.randn(len(counts), config.batch, dim, generator=generator, dtype=data.dtype)
        resid = net(alpha * x0 + sigma * xi) + xi / sigma
        per_net = (resid**2).sum(-1).mean(-1)
        grads = torch.autograd.grad(per_net.sum(), params)
        lr = 0.5 * config.lr * (1.0 + math.cos(math.pi * step / config.steps))
        with torch.no_grad():
            for q, g, buf in zip(params, grads, buffers, strict=True):
                buf.mul_(config.momentum).add_(g + config.weight_decay * q)
                q.sub_(lr * buf)
        if step >= start_tail:
            tail += per_net.detach().double()
    return (tail / max(1, config.steps - start_tail)).tolist()
