"""Tests for Gaussian / Hermite coefficients of activations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special

from theorylab.theory.activations import Activation, parse_activation
from theorylab.theory.hermite import (
    HermiteCoefficients,
    hermite_coefficient,
    hermite_coefficients,
)


def quad_coefficients(phi, r: float) -> tuple[float, float, float]:
    """(kappa0, kappa1, E phi^2) by adaptive 1-D integration against the N(0, r) density."""

    def gauss(z: float) -> float:
        return math.exp(-z * z / (2 * r)) / math.sqrt(2 * math.pi * r)

    def integral(g) -> float:
        return integrate.quad(lambda z: g(z) * gauss(z), -np.inf, np.inf, epsabs=1e-14)[0]

    k0 = integral(phi)
    k1 = integral(lambda z: z * phi(z)) / r
    m2 = integral(lambda z: phi(z) ** 2)
    return k0, k1, m2


def as_quadrature(spec: str) -> Activation:
    """The same function, but not recognised as a registered activation (forces quadrature)."""
    act = parse_activation(spec)
    return Activation("custom", lambda x: act.fn(x), act.scale)


@pytest.mark.parametrize("r", [0.1, 0.5, 1.0, 2.7])
@pytest.mark.parametrize("scale", [0.3, 1.0, 2.0])
def test_erf_closed_form_matches_quadrature(r: float, scale: float) -> None:
    spec = f"erf({scale}x)"
    exact = hermite_coefficients(spec, variance=r)
    # n = 1001: erf(a sqrt(r) g) is steep for a^2 r = 10.8, where the default n = 201 is only
    # accurate to ~3e-6 in E phi^2 (see test_default_n_accuracy_for_steep_activations).
    quad = hermite_coefficients(as_quadrature(spec), variance=r, n=1001)
    assert exact.kappa0 == 0.0
    assert quad.kappa0 == pytest.approx(0.0, abs=1e-15)
    assert exact.kappa1 == pytest.approx(quad.kappa1, rel=1e-12)
    assert exact.second_moment == pytest.approx(quad.second_moment, rel=1e-12)
    assert exact.kappa_star == pytest.approx(quad.kappa_star, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("r", [0.3, 1.0, 4.0])
@pytest.mark.parametrize("scale", [0.5, 1.0, 3.0])
def test_linear_closed_form_matches_quadrature(r: float, scale: float) -> None:
    spec = f"linear({scale}x)"
    exact = hermite_coefficients(spec, variance=r)
    quad = hermite_coefficients(as_quadrature(spec), variance=r)
    assert exact.kappa1 == pytest.approx(scale)
    assert exact.second_moment == pytest.approx(scale**2 * r)
    assert exact.kappa_star == 0.0
    assert quad.kappa1 == pytest.approx(scale, rel=1e-13)
    assert quad.kappa_star == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("r", [0.2, 1.0, 3.0])
@pytest.mark.parametrize("scale", [0.5, 2.0])
def test_nonsmooth_closed_forms_match_scipy_quad(r: float, scale: float) -> None:
    for name, phi in [
        ("relu", lambda z: max(scale * z, 0.0)),
        ("abs", lambda z: abs(scale * z)),
        ("sign", lambda z: math.copysign(1.0, z) if z != 0 else 0.0),
    ]:
        c = hermite_coefficients(f"{name}({scale}x)", variance=r)
        k0, k1, m2 = quad_coefficients(phi, r)
        assert c.kappa0 == pytest.approx(k0, rel=1e-8, abs=1e-12), name
        assert c.kappa1 == pytest.approx(k1, rel=1e-8, abs=1e-12), name
        assert c.second_moment == pytest.approx(m2, rel=1e-8), name


@pytest.mark.parametrize("r", [0.25, 1.0, 2.0])
@pytest.mark.parametrize("spec", ["tanh", "tanh(2x)", "sigmoid", "gelu", "softplus(0.7x)"])
def test_smooth_quadrature_matches_scipy_quad(spec: str, r: float) -> None:
    act = parse_activation(spec)
    c = hermite_coefficients(act, variance=r, n=1001)
    k0, k1, m2 = quad_coefficients(lambda z: float(act(np.array(z))), r)
    assert c.kappa0 == pytest.approx(k0, rel=1e-10, abs=1e-13)
    assert c.kappa1 == pytest.approx(k1, rel=1e-10)
    assert c.second_moment == pytest.approx(m2, rel=1e-10)
    assert c.kappa_star == pytest.approx(math.sqrt(m2 - k0**2 - r * k1**2), rel=1e-8)
    assert c.variance == r


@pytest.mark.parametrize(
    ("spec", "r", "tol"),
    [
        ("tanh", 1.0, 1e-12),
        ("tanh(2x)", 1.0, 5e-8),
        ("tanh(2x)", 2.0, 1e-5),
        ("erf(2x)", 2.7, 1e-5),
    ],
)
def test_default_n_accuracy_for_steep_activations(spec: str, r: float, tol: float) -> None:
    # Gauss–Hermite converges at a rate set by the distance of the nearest complex singularity of
    # phi(sqrt(r) g) to the real axis (pi / (2 a sqrt(r)) for tanh(a x)), so steep activations
    # need more than the default 201 nodes. Measured errors at n = 201 (kappa1 / E phi^2 /
    # kappa_star): tanh(2x), r = 1: 6e-10 / 1e-8 / 1.4e-8; tanh(2x), r = 2: 1.2e-7 / 2.9e-6 /
    # 3.4e-6; erf(2x), r = 2.7: 8e-10 / 2.5e-6 / 2.8e-6. The tolerances bound these errors.
    act = parse_activation(spec)
    default = hermite_coefficients(as_quadrature(spec), variance=r)
    accurate = hermite_coefficients(act, variance=r, n=2001)
    assert default.kappa1 == pytest.approx(accurate.kappa1, abs=tol)
    assert default.second_moment == pytest.approx(accurate.second_moment, abs=tol)
    assert default.kappa_star == pytest.approx(accurate.kappa_star, abs=tol)


def test_tanh_2x_reference_values_from_paper_notebook() -> None:
    # Cui, Krzakala, Zdeborová, arXiv:2302.00375, notebook Multilayer_BO.ipynb:
    # phi(x) = tanh(2x); the second layer sees variance r = E phi^2 of the first.
    first = hermite_coefficients("tanh(2x)", variance=1.0)
    assert first.kappa1 == pytest.approx(0.729478, abs=1e-6)
    assert first.kappa_star == pytest.approx(0.321129, abs=1e-6)
    assert first.second_moment == pytest.approx(0.635261, abs=1e-6)
    second = hermite_coefficients("tanh(2x)", variance=0.635261)
    assert second.kappa1 == pytest.approx(0.876799, abs=1e-6)
    assert second.kappa_star == pytest.approx(0.270605, abs=1e-6)
    assert second.second_moment == pytest.approx(0.561601, abs=1e-6)


@pytest.mark.parametrize(
    ("spec", "kappa0", "kappa1", "kappa_star"),
    [
        # Unit-variance table of the same notebook (arXiv:2302.00375, Multilayer_BO.ipynb).
        ("relu", 1 / math.sqrt(2 * math.pi), 0.5, math.sqrt((math.pi - 2) / (4 * math.pi))),
        ("erf", 0.0, 2 / math.sqrt(3 * math.pi), 0.200364),
        ("tanh", 0.0, 0.605706, 0.165576),
        ("sign", 0.0, math.sqrt(2 / math.pi), math.sqrt(1 - 2 / math.pi)),
        ("linear", 0.0, 1.0, 0.0),
    ],
)
def test_unit_variance_reference_table(
    spec: str, kappa0: float, kappa1: float, kappa_star: float
) -> None:
    c = hermite_coefficients(spec)
    assert c.kappa0 == pytest.approx(kappa0, abs=1e-6)
    assert c.kappa1 == pytest.approx(kappa1, abs=1e-6)
    assert c.kappa_star == pytest.approx(kappa_star, abs=1e-6)


def test_relu_closed_form_exact_values() -> None:
    c = hermite_coefficients("relu(1.5x)", variance=2.0)
    assert c.kappa0 == pytest.approx(1.5 * math.sqrt(2.0) / math.sqrt(2 * math.pi), rel=1e-15)
    assert c.kappa1 == 0.75
    assert c.second_moment == pytest.approx(1.5**2 * 2.0 / 2, rel=1e-15)
    assert isinstance(c, HermiteCoefficients)


def test_kappa_star_includes_kappa0() -> None:
    # quadratic: phi = z^2, r = 1 -> kappa0 = 1, kappa1 = 0, E phi^2 = 3, kappa_star^2 = 2
    c = hermite_coefficients("quadratic")
    assert c.kappa0 == pytest.approx(1.0, rel=1e-13)
    assert c.kappa1 == pytest.approx(0.0, abs=1e-13)
    assert c.second_moment == pytest.approx(3.0, rel=1e-13)
    assert c.kappa_star == pytest.approx(math.sqrt(2.0), rel=1e-13)


def test_callable_and_invalid_inputs() -> None:
    c = hermite_coefficients(np.tanh)
    assert c.kappa1 == pytest.approx(0.6057055096021589, rel=1e-12)
    with pytest.raises(ValueError, match="variance"):
        hermite_coefficients("tanh", variance=0.0)
    with pytest.raises(ValueError, match="not finite"), np.errstate(divide="ignore"):
        hermite_coefficients(lambda x: 1 / x, n=3)
    with pytest.raises(ValueError, match="unknown activation"):
        hermite_coefficients("foo")


def test_hermite_series_parseval_tanh() -> None:
    second = hermite_coefficients("tanh").second_moment
    mus = np.array([hermite_coefficient("tanh", k) for k in range(31)])
    # The tail beyond k = 30 is ~1.5e-7 (tanh has poles at ±i pi/2, so mu_k decays slowly).
    assert np.sum(mus**2) == pytest.approx(second, abs=1e-6)
    assert np.sum(mus**2) < second
    mus_long = np.array([hermite_coefficient("tanh", k, n=401) for k in range(120)])
    assert np.sum(mus_long**2) == pytest.approx(second, abs=1e-12)


@pytest.mark.parametrize("spec", ["tanh", "tanh(2x)", "gelu", "softplus", "erf(0.5x)"])
@pytest.mark.parametrize("r", [0.5, 1.0, 2.0])
def test_low_order_coefficients_match_kappas(spec: str, r: float) -> None:
    c = hermite_coefficients(spec, variance=r)
    assert hermite_coefficient(spec, 0, variance=r) == pytest.approx(c.kappa0, abs=1e-14)
    assert hermite_coefficient(spec, 1, variance=r) == pytest.approx(
        math.sqrt(r) * c.kappa1, rel=1e-12
    )


def test_hermite_coefficient_closed_forms() -> None:
    # x^3 = He_3 + 3 He_1 -> mu_1 = 3, mu_3 = sqrt(3!)
    assert hermite_coefficient("cube", 1) == pytest.approx(3.0, rel=1e-13)
    assert hermite_coefficient("cube", 3) == pytest.approx(math.sqrt(6.0), rel=1e-13)
    assert hermite_coefficient("cube", 2) == pytest.approx(0.0, abs=1e-13)
    # x^2 = He_2 + 1 -> mu_0 = 1, mu_2 = sqrt(2)
    assert hermite_coefficient("quadratic", 2) == pytest.approx(math.sqrt(2.0), rel=1e-13)
    # relu: mu_2 = 1 / (2 sqrt(pi)) (known; quadrature on a kink, hence the loose tolerance)
    assert hermite_coefficient("relu", 2, n=301) == pytest.approx(
        1 / (2 * math.sqrt(math.pi)), abs=1e-3
    )
    # erf(a g): mu_1 = 2 a / sqrt(pi (1 + 2 a^2))
    a = 0.8
    assert hermite_coefficient(f"erf({a}x)", 1) == pytest.approx(
        2 * a / math.sqrt(math.pi * (1 + 2 * a * a)), rel=1e-12
    )
    assert special.eval_hermitenorm(3, 1.0) == -2.0  # He_3(x) = x^3 - 3x sanity check


@pytest.mark.parametrize("spec", ["tanh", "erf(2x)", "sign", "cube"])
def test_odd_functions_have_zero_even_coefficients(spec: str) -> None:
    for k in range(0, 20, 2):
        assert hermite_coefficient(spec, k, variance=0.7) == pytest.approx(0.0, abs=1e-13)


def test_hermite_coefficient_validation() -> None:
    with pytest.raises(ValueError, match="k must"):
        hermite_coefficient("tanh", -1)
    with pytest.raises(ValueError, match="k must"):
        hermite_coefficient("tanh", 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="k must be < n"):
        hermite_coefficient("tanh", 10, n=10)


@pytest.mark.parametrize(
    ("spec", "r", "kappa1", "kappa_star", "second"),
    [
        # Reference values of the deep_random_features note (../shared/papers/
        # 2302.00401-deep_random_features.md, "Theory to implement", item 1; split-interval
        # quad). The second variance of each activation is E sigma^2 of the first layer.
        ("tanh", 1.0, 0.605706, 0.165576, 0.394294),
        ("tanh", 0.394294, 0.763550, 0.081078, 0.236450),
        ("tanh", 0.236450, 0.833344, 0.049504, None),
        ("erf", 1.0, 0.651470, 0.200364, 0.464559),
        ("erf", 0.464559, 0.812411, 0.115303, None),
        ("door", 1.0, 1.049950, 0.107029, 1.113850),
        ("door", 1.113850, 1.036103, 0.128614, None),
        ("sign", 1.0, 0.797885, 0.602810, 1.0),
    ],
)
def test_deep_random_features_reference_kappas(spec, r, kappa1, kappa_star, second) -> None:
    c = hermite_coefficients(spec, variance=r)
    assert c.kappa0 == pytest.approx(0.0, abs=1e-15)
    assert c.kappa1 == pytest.approx(kappa1, abs=1e-6)
    assert c.kappa_star == pytest.approx(kappa_star, abs=1e-6)
    if second is not None:
        assert c.second_moment == pytest.approx(second, abs=1e-6)


@pytest.mark.parametrize("r", [0.05, 0.5, 1.0, 1.113850, 4.0, 30.0])
@pytest.mark.parametrize("scale", [0.5, 1.0, 2.0])
def test_door_closed_form_matches_split_quad(r: float, scale: float) -> None:
    # Independent check of the closed form: scipy quad with breakpoints at the kinks ±2/scale.
    knee = 2.0 / scale

    def gauss(z: float) -> float:
        return math.exp(-z * z / (2 * r)) / math.sqrt(2 * math.pi * r)

    def integral(g) -> float:
        pieces = [(-np.inf, -knee), (-knee, 0.0), (0.0, knee), (knee, np.inf)]
        return sum(
            integrate.quad(lambda z: g(z) * gauss(z), a, b, epsabs=1e-15, epsrel=1e-13)[0]
            for a, b in pieces
        )

    def phi(z: float) -> float:
        return 1.1 * max(-2.0, min(2.0, scale * z))

    c = hermite_coefficients(f"door({scale}x)", variance=r)
    assert c.kappa1 == pytest.approx(integral(lambda z: z * phi(z)) / r, rel=1e-9)
    assert c.second_moment == pytest.approx(integral(lambda z: phi(z) ** 2), rel=1e-9)


def test_gauss_hermite_is_inaccurate_for_kinked_activations() -> None:
    # The note's pitfall: Gauss-Hermite converges slowly for sign/door, which is why they use
    # closed forms. Odd n puts a node at 0, where sign = 0: E sign^2 = 1 - w_0 (0.91 at n = 201).
    quad = hermite_coefficients(as_quadrature("sign"), variance=1.0, n=201)
    assert quad.second_moment == pytest.approx(0.91, abs=0.01)
    assert hermite_coefficients("sign").second_moment == 1.0
    door_gh = hermite_coefficients(as_quadrature("door"), variance=1.0, n=200)
    exact = hermite_coefficients("door", variance=1.0)
    assert abs(door_gh.kappa1 - exact.kappa1) > 1e-5  # off in the 4th-5th digit
