"""Leaky ResNets: the leak, the regulariser's convention, momenta at the output."""

from __future__ import annotations

import math

import torch

from theorylab.models.leaky_resnet import leaky_loss, leaky_representations, momenta, uniform_steps


def test_zero_weights_decay_like_exp_minus_leak():
    depth, leak = 200, 1.5
    a0 = torch.randn(4, 6, dtype=torch.float64)
    w = torch.zeros(1, depth, 4, 5, dtype=torch.float64)
    out = leaky_representations(w, a0, torch.tensor([leak]).double(), uniform_steps(depth))[-1]
    torch.testing.assert_close(out[0], (1 - leak / depth) ** depth * a0)
    assert abs((1 - leak / depth) ** depth - math.exp(-leak)) < 1e-2


def test_loss_convention_and_output_momentum():
    gen = torch.Generator().manual_seed(0)
    depth, lam, leak = 3, 0.2, 2.0
    w = torch.randn(2, depth, 3, 4, generator=gen, dtype=torch.float64)
    a0, y = torch.randn(3, 5, generator=gen).double(), torch.randn(3, 5, generator=gen).double()
    lt, rho = torch.tensor([leak, leak]).double(), uniform_steps(depth)
    data, loss, reps = leaky_loss(w, a0, y, torch.eye(3).double(), lt, rho, lam)
    reg = (w.square().sum((-2, -1)) / depth).sum(-1)
    torch.testing.assert_close(loss, data + lam / (2 * leak) * reg)  # (λ/(2L̃)) Σ ρ‖W‖²
    _, moms = momenta(w, a0, y, torch.eye(3).double(), lt, rho, lam)
    # B_1 = (2/(λN)) (Y − A_1) for the identity read-out
    torch.testing.assert_close(moms[-1], 2 / (lam * 5) * (y - reps[-1]))
