"""Tests for Gaussian / Hermite coefficients of activations."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from scipy import integrate, special

from theorylab.theory.activations import Activation, parse_activation
from theorylab.theory.gaussian import QuadratureWarning
from theorylab.theory.hermite import (
    HermiteCoefficients,
    hermite_coefficient,
    hermite_coefficients,
    hermite_coefficients_many,
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
    # need more than the former default of 201 nodes (now only used when n=201 is passed; the
    # default is the error-controlled rule). Measured errors at n = 201 (kappa1 / E phi^2 /
    # kappa_star): tanh(2x), r = 1: 6e-10 / 1e-8 / 1.4e-8; tanh(2x), r = 2: 1.2e-7 / 2.9e-6 /
    # 3.4e-6; erf(2x), r = 2.7: 8e-10 / 2.5e-6 / 2.8e-6. The tolerances bound these errors.
    act = parse_activation(spec)
    default = hermite_coefficients(as_quadrature(spec), variance=r, n=201)
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


# ------------------------------------------------------------------------------------------
# Error-controlled default rule: accuracy, reported error, convergence flag
# ------------------------------------------------------------------------------------------

# Pre-activation kinks / jumps of the registered non-smooth activations at scale 1.
KINKS = {"sign": [0.0], "relu": [0.0], "abs": [0.0], "door": [-2.0, 2.0]}


def split_quad_coefficients(phi, r: float, points: list[float] = ()) -> tuple[float, float, float]:
    """(kappa0, kappa1, E phi^2) by scipy quad over the N(0, r) density, split at the points.

    Limits are +-inf; 0 is always a split point (where steep activations are steep).
    """
    edges = [-np.inf, *sorted({0.0, *points}), np.inf]

    def gauss(z: float) -> float:
        return math.exp(-z * z / (2 * r)) / math.sqrt(2 * math.pi * r)

    def integral(g) -> float:
        with warnings.catch_warnings():  # quad's round-off notice at epsabs=1e-15
            warnings.simplefilter("ignore", integrate.IntegrationWarning)
            return sum(
                integrate.quad(
                    lambda z: g(z) * gauss(z), a, b, epsabs=1e-15, epsrel=1e-14, limit=200
                )[0]
                for a, b in itertools.pairwise(edges)
            )

    return integral(phi), integral(lambda z: z * phi(z)) / r, integral(lambda z: phi(z) ** 2)


def scalar(act: Activation):
    return lambda z: float(act(np.array(z)))


def true_error(c: HermiteCoefficients, reference: tuple[float, float, float]) -> float:
    return max(
        abs(x - y) for x, y in zip((c.kappa0, c.kappa1, c.second_moment), reference, strict=True)
    )


SPECS_1E10 = [
    "tanh(2x)",
    "tanh(5x)",
    "erf(3x)",
    "sign",
    "relu",
    "abs",
    "door",
    "gelu",
    "softplus",
    "sigmoid",
]


@pytest.mark.parametrize("r", [0.3, 1.0, 4.0])
@pytest.mark.parametrize("spec", SPECS_1E10)
def test_default_rule_matches_split_quad_to_1e10(spec: str, r: float) -> None:
    act = parse_activation(spec)
    points = [p / act.scale for p in KINKS.get(act.name, [])]
    reference = split_quad_coefficients(scalar(act), r, points)
    c = hermite_coefficients(spec, variance=r)
    k0, k1, m2 = reference
    assert c.converged
    assert c.error <= 1e-10
    assert c.kappa0 == pytest.approx(k0, abs=1e-10)
    assert c.kappa1 == pytest.approx(k1, abs=1e-10)
    assert c.second_moment == pytest.approx(m2, abs=1e-10)
    assert c.kappa_star == pytest.approx(math.sqrt(max(m2 - k0**2 - r * k1**2, 0.0)), abs=1e-9)
    # The reported error bounds the true one (up to the ~1e-15 accuracy of the reference).
    assert true_error(c, reference) <= c.error + 5e-14
    expected = "closed form" if act.name in {*KINKS, "erf"} else "trapezoid"
    assert c.method == expected
    assert (c.nodes == 0) == (expected == "closed form")
    assert c.nodes <= 4097


@pytest.mark.parametrize(
    ("spec", "r", "max_nodes"),
    [("tanh(5x)", 4.0, 2049), ("tanh(5x)", 1.0, 1025), ("tanh(2x)", 4.0, 1025)],
)
def test_steep_activations_converge_where_the_fixed_rule_did_not(spec, r, max_nodes) -> None:
    act = parse_activation(spec)
    reference = split_quad_coefficients(scalar(act), r)
    c = hermite_coefficients(spec, variance=r)
    assert c.converged and c.nodes <= max_nodes
    assert true_error(c, reference) <= 1e-13
    old = hermite_coefficients(spec, variance=r, n=201)
    assert true_error(old, reference) > 1e-5
    assert old.method == "gauss-hermite" and not old.converged
    # |Q_201 - Q_100| over-estimates the error of the 201-node rule
    assert true_error(old, reference) <= old.error


@pytest.mark.parametrize("max_nodes", [129, 257, 513, 1025, 2049])
def test_reported_error_bounds_true_error_when_capped(max_nodes: int) -> None:
    act = parse_activation("tanh(5x)")
    reference = split_quad_coefficients(scalar(act), 4.0)
    if max_nodes < 2049:
        with pytest.warns(QuadratureWarning, match="tanh\\(5x\\)"):
            c = hermite_coefficients(act, variance=4.0, max_nodes=max_nodes)
        assert not c.converged
    else:
        c = hermite_coefficients(act, variance=4.0, max_nodes=max_nodes)
        assert c.converged
    assert c.nodes <= max_nodes
    err = true_error(c, reference)
    assert err <= c.error + 5e-14
    star = math.sqrt(reference[2] - reference[0] ** 2 - 4.0 * reference[1] ** 2)
    assert abs(c.kappa_star - star) <= c.kappa_star_error + 5e-14


@pytest.mark.parametrize("r", [0.05, 0.3, 1.0, 4.0, 20.0])
@pytest.mark.parametrize(
    ("name", "fn", "points"),
    [
        ("relu", lambda x: np.maximum(x - 0.37, 0.0), [0.37]),
        ("abs", lambda x: np.abs(x + 1.3), [-1.3]),
        ("clip", lambda x: np.clip(x, -0.8, 1.1), [-0.8, 1.1]),
        ("step", lambda x: np.sign(x - 0.2) + 0.3 * x, [0.2]),
        ("door", lambda x: 1.1 * np.clip(x, -2.0, 2.0), [-2.0, 2.0]),
    ],
)
def test_non_smooth_callables_report_an_honest_error(name, fn, points, r: float) -> None:
    # Without breakpoints the trapezoidal rule converges only algebraically at kinks and jumps:
    # it stops at the node cap, warns, and its error estimate still bounds the true error
    # (unless the kinks lie so far in the tails, door at r = 0.05, that it converges anyway).
    act = Activation(name, fn)
    reference = split_quad_coefficients(scalar(act), r, points)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = hermite_coefficients(act, variance=r)
    notices = [w for w in caught if issubclass(w.category, QuadratureWarning)]
    assert c.method == "trapezoid"
    assert true_error(c, reference) <= c.error
    if c.converged:
        assert not notices
        assert min(abs(p) for p in points) / math.sqrt(r) > 8
        assert true_error(c, reference) <= 1e-10
    else:
        assert len(notices) == 1 and "not reached" in str(notices[0].message)
        assert c.nodes == 4097
        assert c.error < 0.1
    # With the kinks as breakpoints: piecewise scipy quad_vec, converged to ~1e-13.
    b = hermite_coefficients(act, variance=r, breakpoints=points)
    assert b.converged and b.method == "quad"
    assert true_error(b, reference) <= 1e-11
    assert true_error(b, reference) <= b.error + 5e-14


@pytest.mark.parametrize("spec", ["sign", "relu", "abs", "door", "door(0.5x)"])
@pytest.mark.parametrize("r", [0.3, 1.0, 4.0])
def test_breakpoints_reproduce_the_closed_forms(spec: str, r: float) -> None:
    act = parse_activation(spec)
    points = [p / act.scale for p in KINKS[act.name]]
    exact = hermite_coefficients(spec, variance=r)
    quad = hermite_coefficients(as_quadrature(spec), variance=r, breakpoints=points)
    assert quad.converged
    assert true_error(quad, (exact.kappa0, exact.kappa1, exact.second_moment)) <= 1e-11
    # kappa_star = sqrt(...) is ill-conditioned where it is tiny (3e-8 for door(0.5x), r = 0.3):
    # compare it within its propagated error bound.
    assert abs(quad.kappa_star - exact.kappa_star) <= quad.kappa_star_error + 1e-12


def test_closed_forms_report_their_accuracy() -> None:
    c = hermite_coefficients("door", variance=1.3)
    assert (c.method, c.nodes, c.converged) == ("closed form", 0, True)
    assert 0 < c.error < 1e-14
    assert c.kappa_star_error < 1e-13


def test_tolerance_is_honoured() -> None:
    loose = hermite_coefficients("tanh(5x)", variance=1.0, rtol=1e-6, atol=1e-6)
    tight = hermite_coefficients("tanh(5x)", variance=1.0)
    assert loose.converged and loose.error <= 1e-6 * (1 + loose.second_moment)
    assert loose.nodes < tight.nodes
    assert true_error(loose, (tight.kappa0, tight.kappa1, tight.second_moment)) <= loose.error


def test_fast_growing_callable_widens_the_window() -> None:
    # phi(z) = exp(z), r = 9: E phi = e^{r/2}, E z phi = r e^{r/2}, E phi^2 = e^{2r}; the
    # integrand of E phi^2 peaks at g = 6, and is not negligible at 13 standard deviations.
    r = 9.0
    c = hermite_coefficients(Activation("exp", np.exp), variance=r)
    assert c.converged
    assert c.kappa0 == pytest.approx(math.exp(r / 2), rel=1e-12)
    assert c.kappa1 == pytest.approx(math.exp(r / 2), rel=1e-12)
    assert c.second_moment == pytest.approx(math.exp(2 * r), rel=1e-12)


def test_accuracy_option_validation() -> None:
    with pytest.raises(ValueError, match="rtol and atol"):
        hermite_coefficients("tanh", rtol=-1.0)
    with pytest.raises(ValueError, match="rtol and atol"):
        hermite_coefficients("tanh", rtol=0.0, atol=0.0)
    with pytest.raises(ValueError, match="not both"):
        hermite_coefficients(np.tanh, n=101, breakpoints=[0.0])
    with pytest.raises(ValueError, match="not finite"), np.errstate(divide="ignore"):
        hermite_coefficients(lambda x: 1 / x)  # the trapezoidal grid contains 0


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5, 8, 13])
@pytest.mark.parametrize("r", [0.3, 4.0])
def test_hermite_coefficient_default_rule_matches_quad(k: int, r: float) -> None:
    act = parse_activation("tanh(5x)")
    norm = math.exp(-0.5 * special.gammaln(k + 1))

    def integrand(g: float) -> float:
        density = math.exp(-g * g / 2) / math.sqrt(2 * math.pi)
        return float(act(np.array(math.sqrt(r) * g))) * special.eval_hermitenorm(k, g) * density

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        reference = sum(
            integrate.quad(integrand, a, b, epsabs=1e-15, epsrel=1e-14, limit=400)[0]
            for a, b in [(-np.inf, 0.0), (0.0, np.inf)]
        )
    assert hermite_coefficient(act, k, variance=r) == pytest.approx(reference * norm, abs=1e-12)


def test_hermite_coefficient_large_order_and_parseval() -> None:
    # He_k is evaluated as a bounded Hermite function: no overflow at large k, and the
    # coefficients of tanh(2x) sum (Parseval) to E phi^2 to 1e-12.
    second = hermite_coefficients("tanh(2x)").second_moment
    mus = np.array([hermite_coefficient("tanh(2x)", k) for k in range(1, 400, 2)])
    assert np.all(np.isfinite(mus))
    assert np.sum(mus**2) == pytest.approx(second, abs=1e-12)
    assert abs(hermite_coefficient("tanh(2x)", 1001)) < 1e-10


def test_hermite_coefficient_warns_when_not_converged() -> None:
    with pytest.warns(QuadratureWarning, match="hermite_coefficient"):
        value = hermite_coefficient(Activation("step", lambda x: np.sign(x - 0.2)), 1)
    assert value == pytest.approx(2 * math.exp(-0.02) / math.sqrt(2 * math.pi), abs=1e-3)
    exact = hermite_coefficient(
        Activation("step", lambda x: np.sign(x - 0.2)), 1, breakpoints=[0.2]
    )
    assert exact == pytest.approx(2 * math.exp(-0.02) / math.sqrt(2 * math.pi), abs=1e-12)


@pytest.mark.parametrize("activation", ["tanh", "tanh(2x)", "erf", "relu", "sign"])
def test_many_variances_match_one_at_a_time(activation):
    """hermite_coefficients_many (one shared rule for a layer of neurons) = the scalar solver."""
    r = np.geomspace(0.05, 6.0, 37)
    many = hermite_coefficients_many(activation, r.reshape(37, 1))
    for i, v in enumerate(r):
        c = hermite_coefficients(activation, variance=float(v))
        expected = (c.kappa0, c.kappa1, c.kappa_star, c.second_moment)
        for got, want in zip(many, expected, strict=True):
            assert got.shape == (37, 1)
            assert got[i, 0] == pytest.approx(want, abs=1e-12)


def test_many_variances_refuses_bad_variances():
    with pytest.raises(ValueError, match="variances"):
        hermite_coefficients_many("tanh", np.array([1.0, 0.0]))
    assert hermite_coefficients_many("tanh", np.array([]))[0].shape == (0,)
