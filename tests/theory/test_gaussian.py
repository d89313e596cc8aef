"""Tests for Gauss–Hermite expectations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorylab.theory.gaussian import (
    AdaptiveExpectation,
    QuadratureWarning,
    expect,
    expect2,
    expect_adaptive,
    gauss_hermite,
)


def double_factorial(m: int) -> int:
    """``m!!`` with ``(-1)!! = 0!! = 1``."""
    return math.prod(range(m, 0, -2))


def test_gauss_hermite_weights_and_caching() -> None:
    z, w = gauss_hermite(11)
    assert z.shape == w.shape == (11,)
    assert w.sum() == pytest.approx(1.0, abs=1e-15)
    assert np.all(w > 0)
    np.testing.assert_allclose(z, -z[::-1], atol=1e-14)
    assert not z.flags.writeable
    assert not w.flags.writeable
    with pytest.raises(ValueError):
        w[0] = 1.0
    z2, w2 = gauss_hermite(11)
    assert z2 is z
    assert w2 is w


def test_gauss_hermite_rejects_bad_n() -> None:
    with pytest.raises(ValueError, match="n must be"):
        gauss_hermite(0)
    with pytest.raises(TypeError, match="n must be an integer"):
        gauss_hermite(3.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("n", [101, 301, 501])
def test_gauss_hermite_large_n_is_finite_and_accurate(n: int) -> None:
    # numpy's hermegauss overflows near n = 380; larger n must still give a valid rule.
    z, w = gauss_hermite(n)
    assert np.all(np.isfinite(z))
    assert np.all(np.isfinite(w))
    assert w @ np.cos(z) == pytest.approx(math.exp(-0.5), abs=1e-13)


@pytest.mark.parametrize("k", range(11))
def test_standard_moments_are_exact(k: int) -> None:
    expected = double_factorial(k - 1) if k % 2 == 0 else 0.0
    assert expect(lambda z: z**k) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("variance", [0.0, 0.25, 1.0, 3.0])
def test_expect_cos(variance: float) -> None:
    assert expect(np.cos, variance=variance) == pytest.approx(math.exp(-variance / 2), abs=1e-14)


def test_expect_with_mean() -> None:
    # E z^2 = mean^2 + var, E cos z = cos(mean) exp(-var/2)
    assert expect(np.square, variance=2.0, mean=1.5) == pytest.approx(1.5**2 + 2.0, rel=1e-13)
    value = expect(np.cos, variance=0.5, mean=0.3)
    assert value == pytest.approx(math.cos(0.3) * math.exp(-0.25), abs=1e-14)


def test_expect_scalar_returns_float() -> None:
    assert isinstance(expect(np.cos), float)
    assert isinstance(expect2(lambda u, v: u * v, np.eye(2)), float)


def test_expect_broadcasts_over_variances_and_means() -> None:
    variances = np.array([0.1, 0.5, 1.0, 2.0, 4.0])
    values = expect(np.cos, variance=variances)
    assert isinstance(values, np.ndarray)
    assert values.shape == (5,)
    np.testing.assert_allclose(values, np.exp(-variances / 2), atol=1e-14)

    means = np.array([[0.0], [1.0], [-2.0]])
    grid = expect(np.square, variance=variances, mean=means)
    assert grid.shape == (3, 5)
    np.testing.assert_allclose(grid, means**2 + variances, rtol=1e-13)


def test_expect_constant_function_broadcasts() -> None:
    assert expect(lambda z: 2.0) == pytest.approx(2.0)
    np.testing.assert_allclose(expect(lambda z: 1.0, variance=np.ones(3)), np.ones(3))


def test_expect_rejects_negative_variance() -> None:
    with pytest.raises(ValueError, match="variance"):
        expect(np.cos, variance=-1.0)


@pytest.mark.parametrize(
    "cov",
    [
        [[1.0, 0.3], [0.3, 2.0]],
        [[0.5, -0.4], [-0.4, 1.5]],
        [[2.0, 0.0], [0.0, 0.1]],
    ],
)
def test_expect2_second_and_fourth_moments(cov: list[list[float]]) -> None:
    c = np.array(cov)
    assert expect2(lambda u, v: u * v, c) == pytest.approx(c[0, 1], abs=1e-14)
    assert expect2(lambda u, v: u**2, c) == pytest.approx(c[0, 0], rel=1e-13)
    assert expect2(lambda u, v: v**2, c) == pytest.approx(c[1, 1], rel=1e-13)
    # Isserlis: E u^2 v^2 = c11 c22 + 2 c12^2
    expected = c[0, 0] * c[1, 1] + 2 * c[0, 1] ** 2
    assert expect2(lambda u, v: u**2 * v**2, c) == pytest.approx(expected, rel=1e-12)


def test_expect2_batched() -> None:
    rhos = np.linspace(-0.9, 0.9, 7)
    covs = np.stack([np.array([[1.0, r], [r, 2.0]]) for r in rhos]).reshape(7, 2, 2)
    values = expect2(lambda u, v: u * v, covs)
    assert values.shape == (7,)
    np.testing.assert_allclose(values, rhos, atol=1e-14)
    # E cos(u - v) = exp(-Var(u - v) / 2)
    values = expect2(lambda u, v: np.cos(u - v), covs)
    np.testing.assert_allclose(values, np.exp(-(3.0 - 2 * rhos) / 2), atol=1e-13)


@pytest.mark.parametrize("rho", [-0.5, 0.0, 0.3, 0.7])
def test_expect2_sign_arcsine_law(rho: float) -> None:
    # sign(u) sign(v) is discontinuous along v = 0, a line through the origin that is not aligned
    # with the quadrature grid, so the product Gauss–Hermite rule only converges like
    # O(n**-1/2) (about 0.036 error at rho = 0.7 with n = 401) instead of spectrally; hence the
    # loose tolerance. Smooth integrands are tested to ~1e-13 above.
    cov = np.array([[1.0, rho], [rho, 1.0]])
    value = expect2(lambda u, v: np.sign(u) * np.sign(v), cov, n=401)
    assert value == pytest.approx(2 / math.pi * math.asin(rho), abs=0.05)


def test_expect2_singular_covariance() -> None:
    # u = v exactly: E u v = E u^2 = c, E (u - v)^2 = 0, E u^2 v^2 = 3 c^2.
    c = 1.7
    cov = np.array([[c, c], [c, c]])
    assert expect2(lambda u, v: u * v, cov) == pytest.approx(c, rel=1e-13)
    assert expect2(lambda u, v: (u - v) ** 2, cov) == pytest.approx(0.0, abs=1e-13)
    assert expect2(lambda u, v: u**2 * v**2, cov) == pytest.approx(3 * c**2, rel=1e-12)
    # u = -v
    anti = np.array([[1.0, -1.0], [-1.0, 1.0]])
    assert expect2(lambda u, v: np.cos(u + v), anti) == pytest.approx(1.0, abs=1e-13)
    # zero first variance: u = 0, v ~ N(0, 2)
    degenerate = np.array([[0.0, 0.0], [0.0, 2.0]])
    assert expect2(lambda u, v: v**2 + u, degenerate) == pytest.approx(2.0, rel=1e-13)


def test_expect2_rejects_invalid_covariances() -> None:
    with pytest.raises(ValueError, match="shape"):
        expect2(lambda u, v: u * v, np.eye(3))
    with pytest.raises(ValueError, match="symmetric"):
        expect2(lambda u, v: u * v, [[1.0, 0.2], [0.3, 1.0]])
    with pytest.raises(ValueError, match="semi-definite"):
        expect2(lambda u, v: u * v, [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="non-negative"):
        expect2(lambda u, v: u * v, [[-1.0, 0.0], [0.0, 1.0]])


# ------------------------------------------------------------------------------------------
# expect_adaptive: error-controlled nested trapezoidal rule
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variance", [0.0, 0.3, 1.0, 4.0, 25.0])
@pytest.mark.parametrize("mean", [0.0, 0.7])
def test_expect_adaptive_cos(variance: float, mean: float) -> None:
    res = expect_adaptive(np.cos, variance=variance, mean=mean)
    assert isinstance(res, AdaptiveExpectation)
    assert isinstance(res.value, float) and isinstance(res.error, float)
    assert res.converged
    exact = math.cos(mean) * math.exp(-variance / 2)
    assert abs(res.value - exact) <= res.error + 1e-16
    assert res.error <= 1e-12


@pytest.mark.parametrize("k", range(0, 13, 3))
def test_expect_adaptive_moments(k: int) -> None:
    expected = double_factorial(k - 1) if k % 2 == 0 else 0.0
    res = expect_adaptive(lambda z: z**k, variance=2.0)
    assert res.value == pytest.approx(expected * 2.0 ** (k / 2), rel=1e-13, abs=1e-13)


def test_expect_adaptive_steep_and_vector_valued() -> None:
    # E tanh(10 z)^2 has no closed form; compare the rows against each other's known values.
    res = expect_adaptive(lambda z: np.stack([z**2, np.cos(z), np.tanh(10 * z) ** 2]))
    assert res.converged
    assert res.value.shape == res.error.shape == (3,)
    np.testing.assert_allclose(res.value[:2], [1.0, math.exp(-0.5)], rtol=0, atol=1e-14)
    assert np.all(res.error <= 1e-12 * (1 + np.abs(res.value)))
    assert res.nodes <= 4097


def test_expect_adaptive_fast_growth_widens_the_window() -> None:
    # E exp(3 z), z ~ N(0, 25): the integrand peaks 15 standard deviations out.
    res = expect_adaptive(lambda z: np.exp(3 * z), variance=25.0)
    assert res.converged
    assert res.value == pytest.approx(math.exp(9 * 25 / 2), rel=1e-12)


@pytest.mark.parametrize("max_nodes", [129, 513, 4097])
def test_expect_adaptive_step_function_warns_and_bounds_its_error(max_nodes: int) -> None:
    # P(z > 0.3): a jump, O(h) convergence; the tolerance is not reached.
    exact = 0.5 * math.erfc(0.3 / math.sqrt(2))
    with pytest.warns(QuadratureWarning, match="not reached"):
        res = expect_adaptive(lambda z: (z > 0.3).astype(float), max_nodes=max_nodes)
    assert not res.converged
    assert res.nodes <= max(max_nodes, 129)
    assert abs(res.value - exact) <= res.error


def test_expect_adaptive_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="variance"):
        expect_adaptive(np.cos, variance=-1.0)
    with pytest.raises(ValueError, match="rtol and atol"):
        expect_adaptive(np.cos, rtol=0.0, atol=0.0)
    with pytest.raises(ValueError, match="n must be"):
        expect_adaptive(np.cos, max_nodes=0)
    with pytest.raises(ValueError, match="not finite"), np.errstate(divide="ignore"):
        expect_adaptive(lambda z: 1 / z)
