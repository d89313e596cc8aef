"""Theorem 1 complexity of AccNets (arXiv 2407.05664): width independence and its parts."""

import numpy as np
import pytest
import torch

from theorylab.measure.complexity import accnet_bound, block_complexity
from theorylab.models.accnet import accnet_forward, accnet_objective, init_accnet, split_blocks


def _split_neurons(blocks):
    """Every neuron replaced by two copies scaled by 1/√2 on both sides: same function."""
    s = 1 / np.sqrt(2)
    return [(np.vstack([v, v]) * s, np.concatenate([b, b]) * s, np.hstack([w, w]) * s)
            for v, b, w in blocks]  # fmt: skip


def test_bound_is_width_independent_at_fixed_function():
    rng = np.random.default_rng(0)
    blocks = [
        (rng.standard_normal((7, 3)), rng.standard_normal(7), rng.standard_normal((2, 7))),
        (rng.standard_normal((5, 2)), rng.standard_normal(5), rng.standard_normal((1, 5))),
    ]
    wide = _split_neurons(blocks)
    assert accnet_bound(wide, 2.0, 100) == pytest.approx(accnet_bound(blocks, 2.0, 100))
    assert accnet_bound(blocks, 2.0, 400) == pytest.approx(accnet_bound(blocks, 2.0, 100) / 2)


def test_block_parts():
    v, b, w = np.eye(2), np.zeros(2), np.array([[3.0, 0.0]])
    part = block_complexity(v, b, w)
    assert part.f1 == pytest.approx(3.0)  # path norm Σ_i ‖W_{·i}‖ ‖(V_i, b_i)‖
    assert part.lipschitz == pytest.approx(3.0) and part.rank == 1


def test_accnet_forward_and_masked_objective():
    ps = init_accnet([3, 2, 1], [5, 4], batch=2, generator=torch.Generator().manual_seed(0))
    ps = [q.detach() for q in ps]
    x = torch.randn(6, 3)
    (v1, b1, w1), (v2, b2, w2) = split_blocks(ps)
    one = torch.relu(torch.relu(x @ v1[1].T + b1[1]) @ w1[1].T @ v2[1].T + b2[1]) @ w2[1].T
    assert torch.allclose(accnet_forward(ps, x)[1], one, atol=1e-6)
    y = torch.zeros(6, 1)
    mask = torch.tensor([[1.0] * 3 + [0.0] * 3, [1.0] * 6])
    loss = accnet_objective(ps, x, y, mask, 0.0)
    out = accnet_forward(ps, x)
    assert loss[0] == pytest.approx(float(out[0, :3].square().mean()), rel=1e-5)


def test_frobenius_product_baseline():
    from theorylab.measure.complexity import frobenius_product_bound

    blocks = [(np.eye(2) * 2.0, np.zeros(2), np.ones((1, 2)))]
    # ‖V‖_F ‖W‖_F = 2√2 · √2 = 4; r = 3, N = 9: 3 · 4 / 3
    assert frobenius_product_bound(blocks, 3.0, 9) == pytest.approx(4.0)
