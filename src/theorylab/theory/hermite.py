"""Gaussian (Hermite) coefficients of activation functions.

For ``z ~ N(0, r)`` and an activation ``phi`` the Gaussian-equivalence / random-feature
literature decomposes ``phi(z) = kappa0 + kappa1 z + kappa_star xi`` with ``xi`` uncorrelated
with ``z``. :func:`hermite_coefficients` returns ``(kappa0, kappa1, kappa_star)`` together with
``E phi(z)**2``; :func:`hermite_coefficient` returns the full normalised Hermite expansion
coefficients ``mu_k``.

Accuracy
--------
Registered activations with a closed form (``relu``, ``sign``, ``abs``, ``linear``, ``door``,
``erf``, any scale) use it. Everything else is integrated by default to a stated accuracy
(``rtol = atol = 1e-12``) with the error-controlled trapezoidal rule of
:func:`theorylab.theory.gaussian.expect_adaptive` (65 nodes, step halved until two successive
rules agree, at most ``max_nodes = 4097`` evaluations); :class:`HermiteCoefficients` reports the
estimated error, the number of nodes and whether the tolerance was reached. When it is not
(typically a user-supplied activation with kinks or jumps) the result is returned with
``converged=False`` and an honest error estimate, and a
:class:`~theorylab.theory.gaussian.QuadratureWarning` is issued; pass the kink locations as
``breakpoints`` to integrate piecewise with :func:`scipy.integrate.quad_vec` instead. An
explicit ``n`` forces the fixed ``n``-node Gauss–Hermite rule of earlier versions.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from scipy import integrate

from theorylab.theory.activations import DOOR_KNEE, DOOR_SLOPE, Activation, parse_activation
from theorylab.theory.gaussian import (
    DEFAULT_ATOL,
    DEFAULT_MAX_NODES,
    DEFAULT_RTOL,
    QuadratureWarning,
    _check_accuracy_options,
    _integrate_real_line,
    _standard_density,
    gauss_hermite,
)

__all__ = [
    "HermiteCoefficients",
    "hermite_coefficient",
    "hermite_coefficients",
    "hermite_coefficients_many",
]

ActivationLike = str | Activation | Callable[[np.ndarray], np.ndarray]

# Relative size of a negative kappa_star**2 that is still attributed to round-off.
_KAPPA_STAR_ROUNDOFF = 1e-10
# Relative error attributed to the closed forms (a few operations on erf, asin, sqrt).
_CLOSED_FORM_ROUNDOFF = 16 * float(np.finfo(float).eps)


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
    error : float
        Estimated absolute error of ``kappa0``, ``kappa1`` and ``second_moment`` (the largest of
        the three); see :attr:`kappa_star_error` for ``kappa_star``. About ``1e-15`` relative
        for closed forms.
    nodes : int
        Number of evaluations of ``phi`` (0 for a closed form).
    converged : bool
        Whether the requested tolerance was met (always true for closed forms; for an explicit
        Gauss–Hermite ``n``, whether the estimate ``|Q_n - Q_{n//2}|`` meets it).
    method : str
        ``"closed form"``, ``"trapezoid"`` (the default error-controlled rule),
        ``"gauss-hermite"`` (explicit ``n``) or ``"quad"`` (explicit ``breakpoints``).

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
    error: float = 0.0
    nodes: int = 0
    converged: bool = True
    method: str = "closed form"

    @property
    def kappa_star_error(self) -> float:
        """Bound on the error of ``kappa_star`` implied by :attr:`error`.

        ``kappa_star**2`` is off by at most ``e2 = error (1 + 2|kappa0| + 2 r |kappa1|) +
        error**2 (1 + r)``, hence ``kappa_star`` by at most ``min(sqrt(e2),
        e2 / (kappa_star + sqrt(max(kappa_star**2 - e2, 0))))``: small relative to
        ``kappa_star`` unless ``kappa_star`` itself is of order ``sqrt(error)``.
        """
        e2 = _star2_error(self.error, self.kappa0, self.kappa1, self.variance)
        ks = self.kappa_star
        denominator = ks + math.sqrt(max(ks * ks - e2, 0.0))
        root = math.sqrt(e2)
        return root if denominator <= 0 else min(root, e2 / denominator)


def _star2_error(error: float, kappa0: float, kappa1: float, r: float) -> float:
    return error * (1 + 2 * abs(kappa0) + 2 * r * abs(kappa1)) + error * error * (1 + r)


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


# ------------------------------------------------------------------------------------------
# Quadrature back ends. Each returns the standard-Gaussian expectations of the q integrands
# ``rows(g, phi(sqrt(r) g), weight)`` (shape (q, n)), their estimated absolute errors, the number
# of evaluations of phi and whether the tolerance was met. ``weight`` is the factor the integrands
# must carry: 1 for Gauss–Hermite (its weights hold the density), the standard normal density
# otherwise.
# ------------------------------------------------------------------------------------------

_Rows = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
_Moments = tuple[np.ndarray, np.ndarray, int, bool]


def _activation_values(act: Activation, r: float, g: np.ndarray) -> np.ndarray:
    """``phi(sqrt(r) g)`` as a float array of the shape of ``g``, checked finite."""
    values = np.asarray(act(math.sqrt(r) * g), dtype=float)
    if values.shape != g.shape:
        values = np.broadcast_to(values, g.shape)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"activation {act.spec!r} is not finite on the quadrature nodes")
    return values


def _values_on_nodes(
    act: Activation, r: float, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standard-Gaussian Gauss–Hermite nodes ``g``, weights ``w`` and ``phi(sqrt(r) g)``."""
    g, w = gauss_hermite(n)
    return g, w, _activation_values(act, r, g)


def _gauss_hermite_moments(
    act: Activation, r: float, rows: _Rows, n: int, rtol: float, atol: np.ndarray
) -> _Moments:
    """Fixed ``n``-node Gauss–Hermite rule; error estimated by ``|Q_n - Q_{n//2}|``."""
    g, w, values = _values_on_nodes(act, r, n)
    value = rows(g, values, np.ones_like(g)) @ w
    error = np.full_like(value, np.inf)
    if n > 1:
        try:
            gc, wc, coarse_values = _values_on_nodes(act, r, n // 2)
        except ValueError:  # phi not finite on the coarse nodes only: no estimate
            pass
        else:
            error = np.abs(value - rows(gc, coarse_values, np.ones_like(gc)) @ wc)
    converged = bool(np.all(error <= atol + rtol * np.abs(value)))
    return value, error, n, converged


def _trapezoid_moments(
    act: Activation, r: float, rows: _Rows, rtol: float, atol: np.ndarray, max_nodes: int
) -> _Moments:
    """Error-controlled trapezoidal rule of :mod:`theorylab.theory.gaussian`."""

    def integrand(g: np.ndarray) -> np.ndarray:
        return rows(g, _activation_values(act, r, g), _standard_density(g))

    result = _integrate_real_line(
        integrand, rtol=rtol, atol=atol, max_nodes=max_nodes, what=f"activation {act.spec!r}"
    )
    return result.value, result.error, result.nodes, result.converged


def _quad_moments(
    act: Activation,
    r: float,
    rows: _Rows,
    breakpoints: Sequence[float],
    rtol: float,
    atol: np.ndarray,
) -> _Moments:
    """``scipy.integrate.quad_vec`` on the pieces between the breakpoints (in ``z = sqrt(r) g``)."""
    points = np.asarray(breakpoints, dtype=float).ravel()
    if not np.all(np.isfinite(points)):
        raise ValueError(f"breakpoints must be finite, got {breakpoints!r}")
    edges = [-np.inf, *np.unique(points / math.sqrt(r)).tolist(), np.inf]

    def integrand(g: float) -> np.ndarray:
        nodes = np.array([g])
        return rows(nodes, _activation_values(act, r, nodes), _standard_density(nodes))[:, 0]

    value = np.zeros_like(atol)
    error = np.zeros_like(atol)
    evaluations = 0
    pieces = len(edges) - 1
    for a, b in pairwise(edges):
        part, part_error, info = integrate.quad_vec(
            integrand,
            a,
            b,
            epsabs=float(np.min(atol)) / (2 * pieces),
            epsrel=rtol / 2,
            norm="max",
            limit=2000,
            full_output=True,
        )
        value = value + part
        error = error + part_error
        evaluations += int(info.neval)
    error = error + _CLOSED_FORM_ROUNDOFF * np.abs(value)
    converged = bool(np.all(error <= atol + rtol * np.abs(value)))
    return value, error, evaluations, converged


def _moments(
    act: Activation,
    r: float,
    rows: _Rows,
    n: int | None,
    rtol: float,
    atol: np.ndarray,
    max_nodes: int,
    breakpoints: Sequence[float] | None,
) -> tuple[_Moments, str]:
    if n is not None and breakpoints is not None:
        raise ValueError("give either n (fixed Gauss-Hermite rule) or breakpoints, not both")
    if n is not None:
        return _gauss_hermite_moments(act, r, rows, n, rtol, atol), "gauss-hermite"
    if breakpoints is not None:
        return _quad_moments(act, r, rows, breakpoints, rtol, atol), "quad"
    return _trapezoid_moments(act, r, rows, rtol, atol, max_nodes), "trapezoid"


def _warn_not_converged(what: str, error: float, nodes: int, rtol: float, atol: float) -> None:
    warnings.warn(
        f"{what}: tolerance (rtol={rtol:g}, atol={atol:g}) not reached with {nodes} "
        f"evaluations, estimated error {error:.2e}; for an activation with kinks pass their "
        "locations as breakpoints=, or raise max_nodes",
        QuadratureWarning,
        stacklevel=3,
    )


def _kappa_rows(g: np.ndarray, values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    return np.stack([values, g * values, values * values]) * weight


def hermite_coefficients(
    activation: ActivationLike,
    variance: float = 1.0,
    n: int | None = None,
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    max_nodes: int = DEFAULT_MAX_NODES,
    breakpoints: Sequence[float] | None = None,
) -> HermiteCoefficients:
    """Gaussian coefficients ``(kappa0, kappa1, kappa_star, E phi**2)`` of an activation.

    Parameters
    ----------
    activation : str, Activation or callable
        Anything :func:`~theorylab.theory.activations.parse_activation` accepts.
    variance : float, default 1.0
        Variance ``r > 0`` of the Gaussian pre-activation ``z ~ N(0, r)``.
    n : int, optional
        Force a fixed ``n``-node Gauss–Hermite rule (the behaviour of earlier versions, whose
        default was ``n = 201``). By default the error-controlled rule is used.
    rtol, atol : float, default 1e-12
        Tolerance of the default rule, applied to each of ``kappa0``, ``kappa1`` and
        ``E phi**2``: ``error <= atol + rtol |value|``.
    max_nodes : int, default 4097
        Cap on the evaluations of ``phi`` by the default rule.
    breakpoints : sequence of float, optional
        Pre-activation values ``z`` at which ``phi`` has kinks or jumps (e.g. ``[0.0]`` for a
        custom ReLU). The expectations are then computed by :func:`scipy.integrate.quad_vec` on
        the pieces between them (``-inf`` and ``inf`` at the ends), accurate to ~1e-13.

    Returns
    -------
    HermiteCoefficients
        With ``error``, ``nodes``, ``converged`` and ``method`` describing the accuracy.

    Warns
    -----
    QuadratureWarning
        When the default rule (or ``breakpoints``) does not reach the tolerance: the
        coefficients are still returned, with ``converged=False`` and the estimated ``error``
        (no warning for an explicit ``n``: inspect ``converged`` / ``error`` then).

    Notes
    -----
    Registered ``relu``, ``sign``, ``abs``, ``linear``, ``door`` and ``erf`` (with any positive
    scale ``a``) use exact closed forms (``n``, ``breakpoints`` and the tolerances are then
    ignored), e.g. for ``phi(z) = erf(a z)``: ``kappa1 = (2 a / sqrt(pi)) / sqrt(1 + 2 a**2 r)``
    and ``E phi**2 = (2 / pi) arcsin(2 a**2 r / (1 + 2 a**2 r))``.

    Everything else uses the nested trapezoidal rule of
    :func:`~theorylab.theory.gaussian.expect_adaptive` in ``g = z / sqrt(r)``: its error decays
    like ``exp(-2 pi d / h)`` for ``phi(sqrt(r) g)`` analytic in the strip ``|Im g| < d``
    (``d = pi / (2 a sqrt(r))`` for ``tanh(a x)``), so ``tanh(5x)`` at ``r = 4`` converges with
    2049 nodes, where the former fixed 201-node Gauss–Hermite rule was off by ~1e-2 (and by
    ~1e-8 for ``tanh(2x)`` at ``r = 1``). The reported ``error``, twice the difference of the
    last two rules plus round-off, is then a large over-estimate. A fixed Gauss–Hermite rule
    (``n=...``) is estimated by ``|Q_n - Q_{n//2}|``.

    Raises
    ------
    ValueError
        For a non-positive variance, an activation that is not finite on the nodes, both ``n``
        and ``breakpoints``, or a negative ``kappa_star**2`` beyond both round-off and the
        error estimate (negatives within them are clipped to zero).

    References
    ----------
    .. [1] H. Cui, F. Krzakala, L. Zdeborová, "Bayes-optimal learning of deep random networks of
       extensive-width", arXiv:2302.00375.
    """
    act = parse_activation(activation)
    r = _check_variance(variance)
    rtol, atol, max_nodes = _check_accuracy_options(rtol, atol, max_nodes)
    exact = _closed_form(act, r)
    if exact is None:
        sd = math.sqrt(r)
        # Tolerances on E phi, E[g phi] = sqrt(r) kappa1 and E phi**2.
        row_atol = np.array([atol, atol * sd, atol])
        (value, row_error, nodes, converged), method = _moments(
            act, r, _kappa_rows, n, rtol, row_atol, max_nodes, breakpoints
        )
        kappa0, kappa1, second = float(value[0]), float(value[1]) / sd, float(value[2])
        error = float(max(row_error[0], row_error[1] / sd, row_error[2]))
        if not converged and n is None:
            _warn_not_converged(
                f"hermite_coefficients({act.spec!r}, variance={r:g})", error, nodes, rtol, atol
            )
    else:
        kappa0, kappa1, second = exact
        error = _CLOSED_FORM_ROUNDOFF * max(abs(kappa0), abs(kappa1), second)
        nodes, converged, method = 0, True, "closed form"
    star2 = second - kappa0**2 - r * kappa1**2
    if star2 < 0:
        allowed = max(
            _KAPPA_STAR_ROUNDOFF * max(1.0, second), _star2_error(error, kappa0, kappa1, r)
        )
        if star2 < -allowed:
            raise ValueError(
                f"negative kappa_star**2 = {star2:.3e} for activation {act.spec!r} "
                f"(variance {r:g}, {method} with {nodes} nodes, estimated error {error:.1e}); "
                "increase n or max_nodes"
            )
        star2 = 0.0
    return HermiteCoefficients(
        kappa0=kappa0,
        kappa1=kappa1,
        kappa_star=math.sqrt(star2),
        second_moment=second,
        variance=r,
        error=error,
        nodes=nodes,
        converged=converged,
        method=method,
    )


def hermite_coefficients_many(
    activation: ActivationLike,
    variances: np.ndarray,
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(kappa0, kappa1, kappa_star, E phi**2)`` of one activation at many variances at once.

    The same coefficients as :func:`hermite_coefficients` called per variance (to its
    tolerance), for a whole layer of neurons with their own pre-activation variances (the
    per-neuron recursion of arXiv 2402.13999, Thm. 3.5): closed forms elementwise, otherwise
    one nested trapezoidal rule whose rows are the three moments of every variance, refined
    together until every row meets ``atol + rtol |value|``.

    Returns
    -------
    tuple of numpy.ndarray
        ``kappa0, kappa1, kappa_star, second_moment``, each of the shape of ``variances``.

    Raises
    ------
    ValueError
        For a non-positive or non-finite variance, or a negative ``kappa_star**2`` beyond
        round-off and the quadrature's error estimate.
    """
    act = parse_activation(activation)
    r = np.asarray(variances, dtype=float)
    shape, r = r.shape, r.ravel()
    if r.size == 0:
        empty = np.empty(shape)
        return empty, empty.copy(), empty.copy(), empty.copy()
    if not np.all(np.isfinite(r)) or np.any(r <= 0):
        raise ValueError("variances must be finite and > 0")
    rtol, atol, max_nodes = _check_accuracy_options(rtol, atol, max_nodes)
    if _closed_form(act, float(r[0])) is not None:
        table = np.array([_closed_form(act, float(v)) for v in r])
        k0, k1, second = table.T
        error = _CLOSED_FORM_ROUNDOFF * np.maximum(np.maximum(np.abs(k0), np.abs(k1)), second)
    else:
        m, sd = r.size, np.sqrt(r)

        def integrand(g: np.ndarray) -> np.ndarray:
            values = np.asarray(act(sd[:, None] * g[None, :]), dtype=float)
            values = np.broadcast_to(values, (m, g.size))
            if not np.all(np.isfinite(values)):
                raise ValueError(f"activation {act.spec!r} is not finite on the quadrature nodes")
            weighted = values * _standard_density(g)
            return np.concatenate([weighted, g * weighted, values * weighted])

        row_atol = np.concatenate([np.full(m, atol), atol * sd, np.full(m, atol)])
        what = f"activation {act.spec!r}"
        result = _integrate_real_line(
            integrand, rtol=rtol, atol=row_atol, max_nodes=max_nodes, what=what
        )
        k0, k1, second = result.value[:m], result.value[m : 2 * m] / sd, result.value[2 * m :]
        err = result.error
        error = np.maximum(np.maximum(err[:m], err[m : 2 * m] / sd), err[2 * m :])
        if not result.converged:
            worst = int(np.argmax(error))
            _warn_not_converged(
                f"hermite_coefficients_many({act.spec!r}, variance={r[worst]:g})",
                float(error[worst]),
                result.nodes,
                rtol,
                atol,
            )
    star2 = second - k0**2 - r * k1**2
    allowed = np.maximum(
        _KAPPA_STAR_ROUNDOFF * np.maximum(1.0, second),
        error * (1 + 2 * np.abs(k0) + 2 * r * np.abs(k1)) + error**2 * (1 + r),
    )
    if np.any(star2 < -allowed):
        bad = int(np.argmin(star2 + allowed))
        raise ValueError(
            f"negative kappa_star**2 = {star2[bad]:.3e} for activation {act.spec!r} "
            f"(variance {r[bad]:g})"
        )
    kappa_star = np.sqrt(np.clip(star2, 0.0, None))
    return tuple(a.reshape(shape) for a in (k0, k1, kappa_star, second))  # type: ignore[return-value]


def _normalised_hermite(order: int, g: np.ndarray, start: np.ndarray) -> np.ndarray:
    """``start * He_k(g) / sqrt(k!)`` by the three-term recurrence.

    ``p_0 = start``, ``p_1 = g p_0``, ``p_{j+1} = (g p_j - sqrt(j) p_{j-1}) / sqrt(j + 1)``. With
    ``start`` the standard normal density every ``p_j`` is bounded (by ``exp(-g**2 / 4)`` times
    a Hermite function), so ``He_k`` never overflows, whatever ``k``.
    """
    previous, current = np.zeros_like(start), start
    for j in range(order):
        previous, current = current, (g * current - math.sqrt(j) * previous) / math.sqrt(j + 1)
    return current


def hermite_coefficient(
    activation: ActivationLike,
    k: int,
    variance: float = 1.0,
    n: int | None = None,
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    max_nodes: int = DEFAULT_MAX_NODES,
    breakpoints: Sequence[float] | None = None,
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
        Order ``k >= 0`` (``k < n`` for an explicit ``n``).
    variance : float, default 1.0
        Variance ``r > 0`` of the pre-activation.
    n : int, optional
        Force a fixed ``n``-node Gauss–Hermite rule (accuracy then needs ``n`` well above ``k``,
        and large for non-smooth activations). By default the error-controlled trapezoidal rule
        of :func:`hermite_coefficients` is used (``He_k`` is evaluated as a bounded Hermite
        function, so large ``k`` is fine).
    rtol, atol, max_nodes, breakpoints
        As for :func:`hermite_coefficients`.

    Returns
    -------
    float

    Warns
    -----
    QuadratureWarning
        When the default rule (or ``breakpoints``) does not reach the tolerance.
    """
    order = int(k)
    if order != k or order < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    if n is not None and order >= n:
        raise ValueError(f"k must be < n for the quadrature to resolve He_k, got k={k}, n={n}")
    act = parse_activation(activation)
    r = _check_variance(variance)
    rtol, atol, max_nodes = _check_accuracy_options(rtol, atol, max_nodes)

    def rows(g: np.ndarray, values: np.ndarray, weight: np.ndarray) -> np.ndarray:
        # weight * He_k(g) / sqrt(k!) stays bounded for the density weight (Hermite functions).
        return (values * _normalised_hermite(order, g, weight))[None]

    (value, error, nodes, converged), _ = _moments(
        act, r, rows, n, rtol, np.array([atol]), max_nodes, breakpoints
    )
    if not converged and n is None:
        _warn_not_converged(
            f"hermite_coefficient({act.spec!r}, k={order}, variance={r:g})",
            float(error[0]),
            nodes,
            rtol,
            atol,
        )
    return float(value[0])
