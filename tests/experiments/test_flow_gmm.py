"""flow_gmm (arXiv 2310.03575): validation, schemes, theory vs a small simulation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import theorylab as tl
from theorylab.experiments import flow_gmm as fg

EXP = fg.EXPERIMENT


def test_bad_settings_are_refused():
    for bad in ({"n": (4,)}, {"n": (4, 30_000)}, {"scheme": "rk4"}, {"sigma": 0.0},
                {"steps": 1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            EXP.make_params(bad)


def test_schemes_and_rate():
    cont = fg.theory(fg.Params())
    euler = fg.theory(fg.Params(scheme="euler"))
    ratio = euler["distance"] / cont["distance"]
    assert np.all((ratio > 0.96) & (ratio < 0.98))  # the paper's 100 Euler steps: 2.5–3 % low
    assert -1.0 < cont["slope"] < -0.95
    assert np.all(cont["distance"] > cont["distance_bo"])


def test_small_simulation_agrees_with_theory():
    """d = 4000, 3 training sets: D_n within 6 % (finite-d window ≈ 2 % plus noise)."""
    p = fg.Params(d=4000, samples=200, n=(4, 16), sets=3)
    th = fg.theory(p)
    sim = fg.simulate(p, 0)  # the mean of its 3 training sets
    np.testing.assert_allclose(sim["distance"], th["distance"], rtol=0.06)
    np.testing.assert_allclose(sim["spread"], th["spread"], rtol=0.01)


def test_smoke_run_and_figure():
    result = tl.run(EXP.slug, EXP.smoke, seeds=1)
    assert result.checks
    assert len(fg.figure(result).axes) == 2
    assert len(fg.figure(dataclasses.replace(result, simulation=None)).axes) == 2


def test_decomposition_recovers_the_coefficients_of_a_non_orthogonal_basis():
    """μ̂ = R μ + Q_ξ Σ s x_0 + Q_η Σ s σ η + ⊥ with basis vectors that overlap at finite d:
    least squares returns (R, Q_ξ, Q_η) exactly, where the plain projection μ̂·Σ s x_0/(nd)
    picks up R μ·Σ s x_0/(nd)."""
    import torch

    gen = torch.Generator().manual_seed(0)
    d, n = 400, 16
    mu = torch.ones(d, dtype=torch.float64)
    xi = torch.randn(d, generator=gen, dtype=torch.float64) * n**0.5 + 0.3 * mu
    eta = 1.5 * torch.randn(d, generator=gen, dtype=torch.float64) * n**0.5 - 0.2 * xi
    basis = torch.stack([mu, xi, eta], 1)
    perp = torch.randn(d, generator=gen, dtype=torch.float64)
    perp -= basis @ torch.linalg.lstsq(basis, perp[:, None]).solution[:, 0]
    mean = 0.9 * mu - 0.05 * xi + 0.03 * eta + perp
    np.testing.assert_allclose(fg.decomposition(mean, mu, xi, eta), (0.9, -0.05, 0.03),
                               atol=1e-12)
    plain = float(mean @ xi) / (n * d)
    assert abs(plain - (-0.05)) > 1e-3  # the projection reading is off by the overlaps
