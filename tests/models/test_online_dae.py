"""Online-SGD trainer and Euler flow of the tied autoencoder with a skip (arXiv 2501.03937)."""

from __future__ import annotations

import numpy as np
import torch

from theorylab.models.online_dae import (
    dae_gradients,
    euler_flow,
    euler_flow_lowrank,
    informed_init,
    orthogonal_variance,
    quadrant_fractions,
    replay,
    train_online,
)


def test_gradients_match_autograd():
    rng = np.random.default_rng(0)
    d = 50
    w, x, x1 = rng.standard_normal((2, d)), rng.standard_normal(d), rng.standard_normal(d)
    gw, gb = dae_gradients(w, 0.3, x, x1)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    tx, t1 = torch.tensor(x), torch.tensor(x1)
    f = tb * tx + torch.tanh(tw @ tx / d**0.5) @ tw / d**0.5
    ((f - t1) ** 2).sum().backward()
    assert np.allclose(gw, tw.grad.numpy(), atol=1e-10)
    assert np.isclose(gb, tb.grad.item(), atol=1e-10)


def test_one_step_is_sgd_with_coupled_weight_decay_and_slow_skip():
    d = 40
    mu = np.zeros((3, d))
    mu[0, 0] = 3.0
    mu[1, 1] = -3.0
    w0 = informed_init(mu, 2)
    assert np.allclose(w0 @ mu.T / d**0.5, 0.1 * (mu @ mu.T)[:2])
    target = np.random.default_rng(1).standard_normal((1, d))
    rec = train_online(
        w0,
        lambda k: target,
        beta=0.7,
        alpha=0.3,
        lr=0.1,
        weight_decay=0.01,
        record=[0, 1],
        rng=np.random.default_rng(2),
    )
    xi = np.random.default_rng(2).standard_normal((1, d))[0]
    x = 0.7 * target[0] + 0.3 * xi
    gw, gb = dae_gradients(w0, 0.0, x, target[0])
    assert np.allclose(rec.w[0], w0)
    assert np.allclose(rec.w[1], w0 - 0.1 * (gw + 0.01 * w0))
    assert np.isclose(rec.b[1], -0.1 / d**2 * gb)


def test_lowrank_flow_is_the_same_computation():
    rng = np.random.default_rng(3)
    w, x0 = rng.standard_normal((2, 200)), rng.standard_normal((30, 200))
    assert np.allclose(euler_flow_lowrank(w, 1.1, x0), euler_flow(w, 1.1, x0), atol=1e-10)
    # with w = 0 every direction is scaled by S = Π(1 + (b − 1)/(steps − k))
    scale = np.prod([1 + 0.1 / (100 - k) for k in range(99)])
    assert np.allclose(euler_flow_lowrank(0 * w, 1.1, x0), scale * x0)


def test_measurement_helpers():
    z = np.array([[1.0, 1.0], [-1.0, 2.0], [-1.0, -1.0], [3.0, -1.0]])
    assert np.allclose(quadrant_fractions(z), 0.25)
    draw = replay(np.arange(10.0)[:, None])
    assert draw(3)[:, 0].tolist() == [0, 1, 2] and draw(2)[:, 0].tolist() == [3, 4]
    rng = np.random.default_rng(4)
    x = 1.5 * rng.standard_normal((4000, 50))
    x[:, :2] *= 10.0  # the first two axes are projected out with span(w)
    w = rng.standard_normal((2, 50))
    assert abs(orthogonal_variance(x, w) - 2.25) < 0.05
