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
