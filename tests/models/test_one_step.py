"""One large gradient step and the ridge readout (arXiv 2402.04980 protocol)."""

from __future__ import annotations

import numpy as np
import torch

from theorylab.models.one_step import (
    control_variate_mean,
    first_layer_gradient,
    hermite_controls,
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


def test_hermite_controls_are_orthonormal_and_centred_under_the_gaussian():
    z, w = np.polynomial.hermite_e.hermegauss(20)
    w = w / w.sum()
    grid = torch.tensor(np.stack(np.meshgrid(z, z, indexing="ij"), -1).reshape(-1, 2))
    weight = torch.tensor(np.outer(w, w).ravel())
    c = hermite_controls(grid, (8, 4), 8)
    assert c.shape[1] == 8 + 8 + 7 + 6 + 5  # 0 < j1 + j2 <= 8, j2 <= 4
    torch.testing.assert_close((weight[:, None] * c).sum(0), torch.zeros(c.shape[1],
                               dtype=c.dtype), atol=1e-10, rtol=0)
    gram = c.T @ (weight[:, None] * c)
    torch.testing.assert_close(gram, torch.eye(c.shape[1], dtype=c.dtype), atol=1e-9, rtol=0)


def test_control_variate_mean_removes_what_the_controls_explain_and_stays_unbiased():
    gen = torch.Generator().manual_seed(3)
    estimates, plain = [], []
    for _ in range(200):
        z = torch.randn(400, 1, generator=gen, dtype=torch.float64)
        noise = 0.1 * torch.randn(400, generator=gen, dtype=torch.float64)
        values = (z[:, 0] ** 2 + z[:, 0] ** 3 + noise)[:, None]  # E = 1
        estimates.append(float(control_variate_mean(values, hermite_controls(z, (4,), 4))[0]))
        plain.append(float(values.mean()))
    est, pl = np.array(estimates), np.array(plain)
    assert abs(est.mean() - 1.0) < 3 * est.std() / np.sqrt(est.size)
    assert est.std() < 0.1 * pl.std()  # only the noise (sd 0.1/√400) is left


def test_blocked_ridge_averages_independent_fits_on_disjoint_blocks():
    gen = torch.Generator().manual_seed(4)
    p = d = 20
    w1 = unit_rows(p, d, gen)
    x = torch.randn(65, d, generator=gen, dtype=torch.float64)
    xt = torch.randn(30, d, generator=gen, dtype=torch.float64)
    y, yt = torch.sin(x[:, 0]), torch.sin(xt[:, 0])
    errors, _ = nested_ridge_errors(w1, torch.tanh, x, y, xt, yt, [65, 10, 30], 0.3, blocks=True)
    for k, n in enumerate([65, 10, 30]):
        blocks = []
        for b in range(65 // n):
            phi = torch.tanh(x[b * n:(b + 1) * n] @ w1.T) / p**0.5
            a = torch.linalg.solve(phi.T @ phi + 0.3 * torch.eye(p, dtype=phi.dtype),
                                   phi.T @ y[b * n:(b + 1) * n])
            blocks.append(((yt - torch.tanh(xt @ w1.T) / p**0.5 @ a) ** 2).mean())
        torch.testing.assert_close(errors[k], torch.stack(blocks).mean())
