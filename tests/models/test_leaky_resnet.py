"""Leaky ResNets: the leak, the regulariser's convention, momenta at the output, training with
layer steps that change between chunks (the adaptive steps of Sec. 3)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from theorylab.measure.geodesic import adaptive_steps
from theorylab.models.leaky_resnet import (
    adapt_steps_,
    leaky_loss,
    leaky_representations,
    momenta,
    train_with_step_updates,
    uniform_steps,
)
from theorylab.models.training import TrainingConfig, train


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


def _problem(batch: int = 2, depth: int = 3):
    gen = torch.Generator().manual_seed(1)
    w = 0.1 * torch.randn(batch, depth, 3, 4, generator=gen, dtype=torch.float64)
    a0, y = torch.randn(3, 6, generator=gen).double(), torch.randn(3, 6, generator=gen).double()
    leak = torch.full((batch,), 2.0, dtype=torch.float64)
    rho = uniform_steps(depth).expand(batch, -1).clone()
    return w, a0, y, leak, rho


def test_chunked_training_schedule_and_updates():
    """One chunk is train() itself; chunks continue one cosine schedule; update() runs between
    chunks and before L-BFGS, never after the last Adam step."""
    w, a0, y, leak, rho = _problem()
    read = torch.eye(3).double()

    def objective(ws):
        return leaky_loss(ws[0], a0, y, read, leak, rho, 0.1)[1]

    config = TrainingConfig(adam_steps=10, lr=1e-2, lbfgs_calls=0)
    plain, chunked = w.clone().requires_grad_(), w.clone().requires_grad_()
    train([plain], objective, config)
    calls = []
    results = train_with_step_updates([chunked], objective, config, 10, lambda: calls.append(1))
    torch.testing.assert_close(chunked, plain, rtol=0, atol=0)
    assert calls == [] and len(results) == 1
    results = train_with_step_updates([chunked], objective, config, 4, lambda: calls.append(1))
    assert [r.adam_steps for r in results] == [4, 4, 2] and len(calls) == 2
    polish = TrainingConfig(adam_steps=6, lr=1e-2, lbfgs_calls=1, lbfgs_max_iter=5)
    results = train_with_step_updates([chunked], objective, polish, 3, lambda: calls.append(1))
    assert len(calls) == 4 and results[-1].lbfgs_calls == 1
    with pytest.raises(ValueError, match="every"):
        train_with_step_updates([chunked], objective, config, 0, lambda: None)


def test_adapt_steps_updates_only_the_given_networks():
    w, a0, _, leak, rho = _problem()
    before = rho.clone()
    adapt_steps_(w, a0, leak, rho, [1])
    torch.testing.assert_close(rho[0], before[0])
    reps = [r[1].numpy() for r in leaky_representations(w, a0, leak, before)]
    np.testing.assert_allclose(rho[1].numpy(), adaptive_steps(reps, before[1].numpy()))
    assert float(rho[1].sum()) == pytest.approx(1.0)
