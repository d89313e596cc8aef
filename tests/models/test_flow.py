"""Transport in the span of the training set equals the direct computation in R^d."""

from __future__ import annotations

import math

import torch

from theorylab.models.dae import fit_sign_dae
from theorylab.models.flow import SpanFlow


def _problem(n=5, d=300, samples=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    dt = torch.float64
    s = torch.randint(0, 2, (n,), generator=g).to(dt) * 2 - 1
    x = s[:, None] * torch.ones(d, dtype=dt) + 1.5 * torch.randn(n, d, generator=g, dtype=dt)
    x0 = torch.randn(n, d, generator=g, dtype=dt)
    z0 = torch.randn(samples, d, generator=g, dtype=dt)
    return x, x0, s, z0


def test_span_fit_equals_the_direct_fit():
    x, x0, s, z0 = _problem()
    flow = SpanFlow.build(x, x0, s, z0, 0.1)
    for t in (0.05, 0.4, 0.9):
        c, omega = flow.fit(t)
        direct = fit_sign_dae(t * x + (1 - t) * x0, x, 0.1, s)
        assert math.isclose(c, direct.c, rel_tol=1e-10)
        w = omega @ torch.cat([x, x0], 0)
        assert torch.allclose(w, direct.w, rtol=1e-9, atol=1e-12)


def test_span_transport_equals_the_direct_transport():
    x, x0, s, z0 = _problem()
    flow = SpanFlow.build(x, x0, s, z0, 0.1)
    z = z0.clone()
    h = 0.05
    for k in range(1, 20):
        t = k * h
        fit = fit_sign_dae(t * x + (1 - t) * x0, x, 0.1, s)
        z = z + h * (fit(z) - z) / (1 - t)
        flow.euler(t, h)
    assert torch.allclose(flow.samples(x, x0, z0), z, rtol=1e-9, atol=1e-9)


def test_gradient_training_reaches_the_least_squares_fit():
    """The authors train each denoiser with Adam (gradients pass through the outer w only, the
    sign has none): from w ~ N(0, I), c = 1 the fit reaches the exact least-squares (c, w) of
    :func:`fit_sign_dae` at t = 0.5 (up to the symmetry w → −w)."""
    x, x0, s, _ = _problem(n=8, d=200, samples=1, seed=3)
    t, lam = 0.5, 0.1
    y = t * x + (1 - t) * x0
    exact = fit_sign_dae(y, x, lam, s)
    g = torch.Generator().manual_seed(0)
    w = torch.randn(x.shape[1], dtype=x.dtype, generator=g).requires_grad_(True)
    c = torch.ones((), dtype=x.dtype, requires_grad=True)
    opt = torch.optim.Adam([w, c], lr=0.04)
    for _ in range(800):
        opt.zero_grad()
        out = c * y + torch.sign(y @ w)[:, None] * w[None, :]
        loss = 0.5 * ((out - x) ** 2).sum() + 0.5 * lam * (w**2).sum()
        loss.backward()
        opt.step()
    w = w.detach() * torch.sign(w.detach() @ exact.w)  # f is invariant under w → −w
    assert torch.equal(torch.sign(y @ w), exact.signs)
    assert abs(float(c.detach()) - exact.c) < 1e-3 * abs(exact.c)
    assert float((w - exact.w).norm() / exact.w.norm()) < 1e-3
