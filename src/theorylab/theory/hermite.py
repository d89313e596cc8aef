"""Gaussian (Hermite) coefficients of activation functions.

For ``z ~ N(0, r)`` and an activation ``phi`` the Gaussian-equivalence / random-feature
literature decomposes ``phi(z) = kappa0 + kappa1 z + kappa_star xi`` with ``xi`` uncorrelated
with ``z``. :func:`hermite_coefficients` returns ``(kappa0, kappa1, kappa_star)`` together with
``E phi(z)**2``; :func:`hermite_coefficient` returns the full normalised Hermite expansion
coefficients ``mu_k``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from theorylab.theory.activations import DOOR_KNEE, DOOR_SLOPE, Activation, parse_activation
from theorylab.theory.gaussian import gauss_hermite

__all__ = ["HermiteCoefficients", "hermite_coefficient", "hermite_coefficients"]

ActivationLike = str | Activation | Callable[[np.ndarray], np.ndarray]

# Relative size of a negative kappa_star**2 that is still attributed to round-off.
_KAPPA_STAR_ROUNDOFF = 1e-10


@dataclass(frozen=True)
class HermiteCoefficients:
    """Gaussian coefficients of an activation ``phi`` for ``z ~ N(0, r)``, ``r = variance``.

    Attributes
    ----------
    kappa0 : float
        ``E phi(z)``.
    kappa1 : float
        ``E[z phi(z)] / r`` (equal to ``E phi'(z)`` for differentiable ``phi``).
    kappa_star : float
        ``sqrt(E phi(z)**2 - kappa0**2 - r kappa1**2)``, the standard deviation of the part of
        ``phi(z)`` that is not affine in ``z``.
    second_moment : float
        ``E phi(z)**2``.
    variance : float
        The variance ``r`` of ``z``.

    Notes
    -----
    This is the convention of the random-features papers of Mei & Montanari and of
    Cui, Krzakala & Zdeborová (Gaussian equivalence). The Bayes-optimal extensive-width papers
    (Cui, Krzakala, Zdeborová, arXiv:2302.00375) write ``kappa_star**2 = E phi**2 - r kappa1**2``
    without the ``kappa0**2`` term because their activations are odd (``kappa0 = 0``); the two
    definitions agree then.

    References
    ----------
    .. [1] S. Mei, A. Montanari, "The generalization error of random features regression",
       arXiv:1908.05355.
    .. [2] H. Cui, F. Krzakala, L. Zdeborová, "Bayes-optimal learning of deep random networks of
       extensive-width", arXiv:2302.00375.
    """

    kappa0: float
    kappa1: float
    kappa_star: float
    second_moment: float
    variance: float


def _check_variance(variance: float) -> float:
    r = float(variance)
    if not math.isfinite(r) or r <= 0:
        raise ValueError(f"variance must be finite and > 0, got {variance!r}")
    return r


def _closed_form(act: Activation, r: float) -> tuple[float, float, float] | None:
    """Exact ``(kappa0, kappa1, E phi**2)`` for registered activations with a closed form."""
    if not act.is_registered:
        return None
    a = act.scale
    sd = math.sqrt(r)
    if act.name == "relu":
        return a * sd / math.sqrt(2 * math.pi), a / 2, a * a * r / 2
    if act.name == "sign":
        return 0.0, math.sqrt(2 / (math.pi * r)), 1.0
    if act.name == "abs":
        return a * math.sqrt(2 * r / math.pi), 0.0, a * a * r
    if act.name == "linear":
        return 0.0, a, a * a * r
    if act.name == "door":
        return (0.0, *_door_moments(a, r))
    if act.name == "erf":
        t = 2 * a * a * r
        return (
            0.0,
            (2 * a / math.sqrt(math.pi)) / math.sqrt(1 + t),
            2 / math.pi * math.asin(t / (1 + t)),
        )
    return None


def _door_moments(a: float, r: float) -> tuple[float, float]:
    """``(kappa1, E phi**2)`` of ``phi(z) = door(a z) = S clip(a z, -K, K)``, ``z ~ N(0, r)``.

    With ``u = a z ~ N(0, v)``, ``v = a**2 r``, ``c = K / sqrt(v)`` and ``P = P(|u| < K) =
    erf(c / sqrt 2)``: Stein's lemma (door is Lipschitz) gives ``kappa1 = a S P``, and
    ``E phi**2 = S**2 (v (P - 2 c N(c)) + K**2 (1 - P))`` with ``N`` the standard normal density.
    """
    v = a * a * r
    c = DOOR_KNEE / math.sqrt(v)
    inside = math.erf(c / math.sqrt(2))
    density = math.exp(-0.5 * c * c) / math.sqrt(2 * math.pi)
    second = DOOR_SLOPE**2 * (v * (inside - 2 * c * density) + DOOR_KNEE**2 * math.erfc(c / 2**0.5))
    return a * DOOR_SLOPE * inside, second


def _values_on_nodes(
    act: Activation, r: float, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standard-Gaussian nodes ``g``, weights ``w`` and ``phi(sqrt(r) g)``."""
    g, w = gauss_hermite(n)
    values = np.asarray(act(math.sqrt(r) * g), dtype=float)
    if values.shape != g.shape:
        values = np.broadcast_to(values, g.shape)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"activation {act.spec!r} is not finite on the quadrature nodes")
    return g, w, values


def hermite_coefficients(
    activation: ActivationLike, variance: float = 1.0, n: int = 201
) -> HermiteCoefficients:
    """Gaussian coefficients ``(kappa0, kappa1, kappa_star, E phi**2)`` of an activation.

    Parameters
    ----------
    activation : str, Activation or callable
        Anything :func:`~theorylab.theory.activations.parse_activation` accepts.
    variance : float, default 1.0
        Variance ``r > 0`` of the Gaussian pre-activation ``z ~ N(0, r)``.
    n : int, default 201
        Gauss–Hermite nodes, used when no closed form applies.

    Returns
    -------
    HermiteCoefficients

    Notes
    -----
    Registered ``relu``, ``sign``, ``abs``, ``linear``, ``door`` and ``erf`` (with any positive
    scale ``a``) use exact closed forms, e.g. for ``phi(z) = erf(a z)``:
    ``kappa1 = (2 a / sqrt(pi)) / sqrt(1 + 2 a**2 r)`` and
    ``E phi**2 = (2 / pi) arcsin(2 a**2 r / (1 + 2 a**2 r))``. Everything else uses Gauss–Hermite
    quadrature, which converges geometrically for analytic activations at a rate set by the
    distance of the nearest complex singularity of ``phi(sqrt(r) g)`` to the real axis
    (``pi / (2 a sqrt(r))`` for ``tanh(a x)``). With the default ``n = 201`` the error is ~1e-14
    for ``tanh``, ~1e-8 for ``tanh(2x)`` at ``r = 1``, ~3e-6 for ``tanh(2x)`` at ``r = 2`` and
    ~1e-3 for ``tanh(5x)`` at ``r = 1``: raise ``n`` for steep activations or large variances
    (``n > 300`` switches to scipy's large-``n`` rule, see
    :func:`~theorylab.theory.gaussian.gauss_hermite`). For a non-smooth user callable the
    quadrature error is much larger (algebraic in ``n``); raise ``n`` then too.

    Raises
    ------
    ValueError
        For a non-positive variance, an activation that is not finite on the nodes, or a clearly
        negative ``kappa_star**2`` (small negatives from round-off are clipped to zero).

    References
    ----------
    .. [1] H. Cui, F. Krzakala, L. Zdeborová, "Bayes-optimal learning of deep random networks of
       extensive-width", arXiv:2302.00375.
    """
    act = parse_activation(activation)
    r = _check_variance(variance)
    exact = _closed_form(act, r)
    if exact is None:
        g, w, values = _values_on_nodes(act, r, n)
        kappa0 = float(w @ values)
        kappa1 = float(w @ (g * values)) / math.sqrt(r)
        second = float(w @ values**2)
    else:
        kappa0, kappa1, second = exact
    star2 = second - kappa0**2 - r * kappa1**2
    if star2 < 0:
        if star2 < -_KAPPA_STAR_ROUNDOFF * max(1.0, second):
            raise ValueError(
                f"negative kappa_star**2 = {star2:.3e} for activation {act.spec!r} "
                f"(variance {r:g}, n={n}); increase n"
            )
        star2 = 0.0
    return HermiteCoefficients(
        kappa0=kappa0,
        kappa1=kappa1,
        kappa_star=math.sqrt(star2),
        second_moment=second,
        variance=r,
    )


def hermite_coefficient(
    activation: ActivationLike, k: int, variance: float = 1.0, n: int = 201
) -> float:
    """Normalised Hermite coefficient ``mu_k = E[phi(sqrt(r) g) He_k(g)] / sqrt(k!)``.

    With ``g ~ N(0, 1)`` and ``He_k`` the probabilists' Hermite polynomials, the functions
    ``He_k / sqrt(k!)`` are orthonormal, so ``sum_k mu_k**2 = E phi(sqrt(r) g)**2``,
    ``mu_0 = kappa0`` and ``mu_1 = sqrt(r) kappa1``.

    Parameters
    ----------
    activation : str, Activation or callable
        Anything :func:`~theorylab.theory.activations.parse_activation` accepts.
    k : int
        Order ``0 <= k < n``.
    variance : float, default 1.0
        Variance ``r > 0`` of the pre-activation.
    n : int, default 201
        Gauss–Hermite nodes. Accuracy needs ``n`` well above ``k`` (and large for non-smooth
        activations).

    Returns
    -------
    float
    """
    order = int(k)
    if order != k or order < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    if order >= n:
        raise ValueError(f"k must be < n for the quadrature to resolve He_k, got k={k}, n={n}")
    act = parse_activation(activation)
    r = _check_variance(variance)
    g, w, values = _values_on_nodes(act, r, n)
    he_k = special.eval_hermitenorm(order, g)
    return float(w @ (values * he_k)) * math.exp(-0.5 * special.gammaln(order + 1))
