"""One large gradient step and the ridge readout (arXiv 2402.04980 protocol)."""

from __future__ import annotations

import torch

from theorylab.models.one_step import (
    first_layer_gradient,
    measure_spike,
    nested_ridge_errors,
    unit_rows,
)


def test_step_direction_is_minus_the_gradient_of_the_half_mse():
    gen = torch.Generator().manual_seed(0)
    p, d, n0 = 7, 5, 40
    w0 = unit_rows(p, d, gen)
    assert torch.allclose(w0.norm(dim=1), torch.ones(p, dtype=w0.dtype))
    x = torch.randn(n0, d, generator=gen, dtype=torch.float64)
    y = torch.sin(x[:, 0])
    batches = iter([(x[:15], y[:15]), (x[15:30], y[15:30]), (x[30:], y[30:])])
    g = first_layer_gradient(w0, lambda m: next(batches), n0, torch.tanh, chunk=15,
                             dtype=torch.float64)
    w = w0.clone().requires_grad_(True)
    f0 = torch.tanh(x @ w.T) @ torch.full((p,), p**-0.5, dtype=w.dtype) / p**0.5
    loss = 0.5 * ((y - f0) ** 2).mean()
    (grad,) = torch.autograd.grad(loss, w)
    torch.testing.assert_close(g, -grad)  # W1 = W0 + η̃ p g is GD with η = η̃ p


def test_measure_spike_recovers_a_planted_rank_one_update():
    gen = torch.Generator().manual_seed(1)
    p = d = 300
    w0 = unit_rows(p, d, gen)
    v = torch.randn(d, generator=gen, dtype=torch.float64)
    v /= v.norm()
    bulk = 0.1 * torch.randn(p, d, generator=gen, dtype=torch.float64) / d**0.5
    w1 = w0 + bulk + 1.3 * torch.outer(torch.ones(p, dtype=torch.float64), v)
    m = measure_spike(w0, w1)
    assert abs(m.spike - 1.3) < 0.01
    assert abs(m.bulk - 0.01) < 0.001
    assert abs(abs(float(m.direction @ v)) - 1) < 1e-3


def test_nested_ridge_matches_a_direct_solve():
    gen = torch.Generator().manual_seed(2)
    p = d = 20
    w1 = unit_rows(p, d, gen)
    x = torch.randn(60, d, generator=gen, dtype=torch.float64)
    xt = torch.randn(30, d, generator=gen, dtype=torch.float64)
    y, yt = torch.sin(x[:, 0]), torch.sin(xt[:, 0])
    errors, preds = nested_ridge_errors(w1, torch.tanh, x, y, xt, yt, [50, 10, 30], 0.3)
    for k, n in enumerate([50, 10, 30]):
        phi = torch.tanh(x[:n] @ w1.T) / p**0.5
        a = torch.linalg.solve(phi.T @ phi + 0.3 * torch.eye(p, dtype=phi.dtype), phi.T @ y[:n])
        pred = torch.tanh(xt @ w1.T) / p**0.5 @ a
        torch.testing.assert_close(preds[k], pred)
        torch.testing.assert_close(errors[k], ((yt - pred) ** 2).mean())
