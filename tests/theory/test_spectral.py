"""Spectral tools on Marchenko–Pastur: closed forms, quadrature, resolvent solver, finite
matrices."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorylab.theory.spectral import (
    SpectralMeasure,
    density_from_stieltjes,
    marchenko_pastur_density,
    marchenko_pastur_edges,
    marchenko_pastur_map,
    marchenko_pastur_measure,
    marchenko_pastur_stieltjes,
    measure_from_density,
    solve_resolvent,
)

RATIOS = (0.5, 1.0, 2.0)


@pytest.mark.parametrize("ratio", RATIOS)
def test_closed_form_stieltjes_solves_the_mp_equation(ratio):
    z = np.array([-3.0, -0.1, 0.5 + 0.2j, 2.0 + 1e-3j, 7.0 + 0.5j])
    g = marchenko_pastur_stieltjes(z, ratio, 1.5)
    s = 1.5
    np.testing.assert_allclose(ratio * s * z * g**2 + (z - s * (1 - ratio)) * g + 1, 0, atol=1e-12)
    assert np.all(g[2:].imag > 0)  # Nevanlinna branch
    assert np.all(g[:2].real > 0)  # z < 0: g = ⟨1/(D − z)⟩ > 0


@pytest.mark.parametrize("ratio", RATIOS)
def test_quadrature_matches_closed_form_and_moments(ratio):
    scale = 0.7
    mu = marchenko_pastur_measure(ratio, scale, n=400)
    for s in (0.05, 0.5, 3.0):
        expected = marchenko_pastur_stieltjes(-s, ratio, scale).real
        assert mu.stieltjes(-s).real == pytest.approx(expected, rel=1e-9)
    # MP moments: E D = scale, E D² = scale² (1 + ratio)
    assert mu.mean(mu.nodes) == pytest.approx(scale, rel=1e-12)
    assert mu.mean(mu.nodes**2) == pytest.approx(scale**2 * (1 + ratio), rel=1e-12)


def test_density_integrates_to_the_bulk_mass():
    for ratio in (0.5, 2.0):  # (ratio 1 has an integrable 1/√x edge: not for a trapezoid)
        a, b = marchenko_pastur_edges(ratio)
        x = np.linspace(a, b, 200_001)
        mass = np.trapezoid(marchenko_pastur_density(x, ratio), x)
        assert mass == pytest.approx(min(1.0, 1.0 / ratio), abs=2e-3)


@pytest.mark.parametrize("ratio", (0.5, 1.0))
def test_resolvent_solver_reproduces_closed_form_and_density(ratio):
    a, b = marchenko_pastur_edges(ratio)
    x = np.linspace(a + 0.05, b - 0.05, 120)
    z = x + 1e-2j
    g, status = solve_resolvent(marchenko_pastur_map(ratio), z, g0=[-1.0 / z[0]])
    assert status.converged
    np.testing.assert_allclose(g[:, 0], marchenko_pastur_stieltjes(z, ratio), atol=1e-7)
    rho = density_from_stieltjes(g[:, 0])
    exact = marchenko_pastur_density(x, ratio)
    inner = (x > a + 0.3) & (x < b - 0.3)
    np.testing.assert_allclose(rho[inner], exact[inner], rtol=0.03)


def test_resolvent_solver_reports_non_convergence():
    z = np.array([1.0 + 1e-6j])
    _, status = solve_resolvent(marchenko_pastur_map(1.0), z, g0=[0.1], max_iter=5)
    assert not status.converged


def test_finite_matrix_spectrum_follows_mp():
    """Eigenvalues of W Wᵀ, W p × d Gaussian with variance 1/d, p/d = 0.5: Kolmogorov–Smirnov
    distance to the MP CDF below the O(1/p) finite-size level."""
    rng = np.random.default_rng(0)
    p, d = 300, 600
    w = rng.standard_normal((p, d)) / math.sqrt(d)
    eig = np.sort(np.linalg.eigvalsh(w @ w.T))
    a, b = marchenko_pastur_edges(0.5)
    x = np.linspace(a, b, 20_001)
    cdf = np.concatenate([[0.0], np.cumsum(np.diff(x) * 0.5 * (
        marchenko_pastur_density(x[1:], 0.5) + marchenko_pastur_density(x[:-1], 0.5)))])
    model = np.interp(eig, x, cdf)
    empirical = np.arange(1, p + 1) / p
    assert np.max(np.abs(model - empirical)) < 0.03


def test_measure_from_density_and_validation():
    a, b = marchenko_pastur_edges(0.5, 2.0)
    x = np.linspace(a, b, 4001)
    mu = measure_from_density(x, marchenko_pastur_density(x, 0.5, 2.0))
    assert mu.mean(mu.nodes) == pytest.approx(2.0, rel=2e-2)
    assert mu.scaled(3.0).mean(mu.scaled(3.0).nodes) == pytest.approx(6.0, rel=2e-2)
    with pytest.raises(ValueError):
        SpectralMeasure(np.array([1.0, 2.0]), np.array([0.5, 0.6]))
    with pytest.raises(ValueError):
        measure_from_density(np.array([1.0, 0.0]), np.array([1.0, 1.0]))
    with pytest.raises(ValueError):
        marchenko_pastur_edges(0.0)


def test_density_quantiles_and_bin_masses_of_a_tabulated_exponential_law():
    from theorylab.theory.spectral import density_bin_masses, density_quantiles

    x = np.linspace(0.0, 40.0, 40001)
    rho = np.exp(-x)
    levels = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(density_quantiles(x, rho, levels), -np.log1p(-levels), rtol=1e-5)
    edges = np.array([0.0, 0.5, 1.0, 3.0])
    np.testing.assert_allclose(
        density_bin_masses(x, rho, edges), np.diff(-np.exp(-edges)), rtol=1e-6
    )


def test_density_quantiles_ignore_the_normalisation_and_refuse_a_bad_grid():
    from theorylab.theory.spectral import density_cdf, density_quantiles

    x = np.linspace(1.0, 3.0, 201)
    np.testing.assert_allclose(density_quantiles(x, 7.0 * np.ones_like(x), [0.25]), [1.5])
    with pytest.raises(ValueError, match="increasing"):
        density_cdf(x[::-1], np.ones_like(x))
    with pytest.raises(ValueError, match="no mass"):
        density_cdf(x, np.zeros_like(x))
