"""models.matrix_sgd: batched deep linear GD/SGD on a matrix (2305.16038)."""

from __future__ import annotations

import numpy as np
import torch

from theorylab.models import matrix_sgd as ms
from theorylab.models.deep_linear import weight_product


def test_hand_gradients_match_autograd():
    g = torch.Generator().manual_seed(0)
    ws = [torch.randn(3, 5, 5, generator=g, dtype=torch.float64, requires_grad=True)
          for _ in range(4)]
    y = torch.randn(5, 5, generator=g, dtype=torch.float64)
    mask = torch.rand(3, 5, 5, generator=g, dtype=torch.float64)
    loss = (mask * (weight_product(ws) - y) ** 2).sum() + 0.3 * sum((w**2).sum() for w in ws)
    auto = torch.autograd.grad(loss, ws)
    hand = ms.entry_gradients([w.detach() for w in ws], y, 0.3, mask)
    for a, h in zip(auto, hand, strict=True):
        torch.testing.assert_close(a, h, rtol=1e-12, atol=1e-12)


def test_balanced_init_reproduces_y():
    y = np.random.default_rng(1).standard_normal((4, 4))
    ws = ms.balanced_init(y, 3, 0.0, torch.Generator().manual_seed(0), 2)
    np.testing.assert_allclose(weight_product(ws)[1].numpy(), y, atol=1e-12)


def test_sgd_keeps_a_low_rank_point_low_rank():
    """B_r^0 is invariant: after SGD from a random rank-2 point, s_3 stays at round-off."""
    g = torch.Generator().manual_seed(0)
    ws = ms.low_rank_init(6, 4, 2, g, 3)
    assert torch.linalg.matrix_rank(weight_product(ws)).max() <= 2
    y = torch.randn(6, 6, generator=g, dtype=torch.float64)
    ms.run_matrix_descent(ws, y, 1e-3, torch.full((3,), 0.05, dtype=torch.float64), 200,
                          sgd=torch.ones(3, dtype=torch.bool), generator=g)
    s = torch.linalg.svdvals(weight_product(ws))
    assert float((s[:, 2] / s[:, 0]).max()) < 1e-12


def test_gd_decreases_the_loss_and_basin_rank_counts():
    g = torch.Generator().manual_seed(0)
    y = torch.diag(torch.tensor([3.0, 1.0, 0.0], dtype=torch.float64))
    ws = ms.balanced_init(y.numpy() + 0.3, 3, 0.05, g, 2)
    lr = torch.full((2,), 0.1, dtype=torch.float64)
    one = torch.ones(2, dtype=torch.float64)
    no_sgd = torch.zeros(2, dtype=torch.bool)
    before = ms.entry_loss(ws, y, 1e-3, one, no_sgd, 1, g)
    ms.run_matrix_descent(ws, y, 1e-3, lr, 300)
    after = ms.entry_loss(ws, y, 1e-3, one, no_sgd, 1, g)
    assert torch.all(after < before)
    ranks, losses, s = ms.basin_rank(ws, y, 1e-3, 0.1, 100, 0.05)
    assert ranks.shape == (2,) and losses.shape == (2,) and s.shape == (2, 3)
