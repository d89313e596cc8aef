"""State evolution (SE) of GAMP, i.e. the replica saddle point, for the objects of
:mod:`theorylab.theory.gamp`.

Bayes-optimal (BO), on the Nishimori line M = Q, V = ρ − Q (arXiv 2409.13904, Sec. 3):

    Q̂ = α E_{ξ~N(0, I_K)} Σ_y Z_out(y; ω, V) g_out g_outᵀ,  ω = Q^{1/2}ξ,  Q = prior.bo_overlap(Q̂).

ERM with an ℓ2 penalty, one index (K = 1), teacher channel P*(y|z), z ~ N(0, ρ); (z, ω) jointly
Gaussian with E ω² = q, E zω = m, so z | ω ~ N(mξ/√q, ρ − m²/q) =: N(μ, σ²):

    m̂ = α E_ξ Σ_y Z*(y; μ, σ²) g*(y; μ, σ²) g(y, ω, V),  q̂ = α E_ξ Σ_y Z* g²,
    V̂ = −α E_ξ Σ_y Z* ∂_ω g,
    m = ρm̂/(λ + V̂),  q = (ρm̂² + q̂)/(λ + V̂)²,  V = 1/(λ + V̂).

Numerics the note on 2409.13904 found necessary: the sign-perceptron Q̂ uses a rescaled integral
(:func:`sign_qhat`) — the textbook one is sharply peaked as q → 1 and a fixed Hermite grid then
converges to a spurious q = 1 at large α; the K = 2 committee needs an asymmetric start
(Q11 ≠ Q22) to leave the non-specialised branch, which is exactly invariant.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import log_ndtr

from theorylab.theory.fixed_point import FixedPointResult, SolverStatus, solve_fixed_point
from theorylab.theory.gamp import LinearChannel, SignChannel, SquareLoss
from theorylab.theory.gaussian import gauss_hermite

__all__ = [
    "bo_error",
    "bo_hat",
    "bo_state_evolution",
    "erm_state_evolution",
    "gaussian_nodes",
    "sign_bo_limit",
    "sign_qhat",
    "specialisation_threshold",
    "symmetric_committee_overlap",
]

_LOG_2PI = math.log(2.0 * math.pi)


def _log_h(u: np.ndarray) -> np.ndarray:
    """log[φ(u)/(Φ(u)Φ(−u))]."""
    return -0.5 * u**2 - 0.5 * _LOG_2PI - log_ndtr(u) - log_ndtr(-u)


def sign_qhat(alpha, q, rho: float = 1.0, noise: float = 0.0, nodes: int = 121):
    """Q̂ of the probit channel y = sign(h + √Δη), vectorised over ``alpha`` and ``q``.

    With s² = ρ − q + Δ and r = √q/s, Σ_y Z g² = φ(t)²/(s²Φ(t)Φ(−t)), t = rξ. For r ≤ 1 the
    integrand is smooth in ξ; for r > 1 substitute u = rξ:
    q̂ = α/(s√q) E_u[φ(u/r) φ(u)/(Φ(u)Φ(−u))], whose integrand widens as q → 1 (the stable
    form of the note on 2409.13904; the naive one converges to q = 1 at α ≳ 15).
    """
    z, w = gauss_hermite(nodes)
    q = np.clip(np.asarray(q, dtype=float), 1e-300, rho * (1 - 1e-15))
    s2 = rho - q + noise
    s = np.sqrt(s2)
    r = np.sqrt(q) / s
    # φ(t)²/(ΦΦ̄) = h(t)φ(t) with h = φ/(ΦΦ̄), evaluated as exp(log h + log φ)
    t = np.minimum(r, 1.0)[..., None] * z
    small = np.exp(_log_h(t) - 0.5 * t**2 - 0.5 * _LOG_2PI) @ w / s2
    rr = np.maximum(r, 1.0)[..., None]
    large = (np.exp(-0.5 * (z / rr) ** 2 - 0.5 * _LOG_2PI + _log_h(z)) @ w) / (s * np.sqrt(q))
    return np.asarray(alpha) * np.where(r <= 1.0, small, large)


def sign_bo_limit(nodes: int = 201) -> float:
    """lim α·ε_BO(α) for the sign perceptron: q̂ → α c/√(1 − q) with
    c = φ(0)E_u[φ(u)/(Φ(u)Φ(−u))], hence √(1 − q) = 1/(αc) and ε = arccos(√q)/π → 1/(παc)."""
    z, w = gauss_hermite(nodes)
    c = math.exp(-0.5 * _LOG_2PI) * float(np.exp(_log_h(z)) @ w)
    return 1.0 / (math.pi * c)


def gaussian_nodes(q: np.ndarray, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Tensor Gauss–Hermite nodes ω (N, K) and weights for ω ~ N(0, Q), Q ⪰ 0: a grid along
    each eigendirection of Q, one node (ω = 0) along a null direction (so the non-specialised
    committee state Q = a·11ᵀ costs a 1-D grid)."""
    vals, vecs = np.linalg.eigh(0.5 * (q + q.T))
    axes, weights = [], []
    for lam in vals:
        if lam > 1e-13 * max(1.0, vals.max()):
            z, w = gauss_hermite(nodes)
            axes.append(np.sqrt(lam) * z)
            weights.append(w)
        else:
            axes.append(np.zeros(1))
            weights.append(np.ones(1))
    k = len(vals)
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, k)
    wts = np.prod(np.stack(np.meshgrid(*weights, indexing="ij"), -1).reshape(-1, k), 1)
    return mesh @ vecs.T, wts


def _clip_overlap(q: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Q projected onto 0 ⪯ Q ⪯ ρ(1 − 1e-12) (ρ a multiple of I), so that V = ρ − Q stays
    positive definite on an iterate that overshoots (e.g. an Anderson step)."""
    r = float(rho[0, 0])
    vals, vecs = np.linalg.eigh(0.5 * (q + q.T))
    return (vecs * np.clip(vals, 0.0, r * (1 - 1e-12))) @ vecs.T


def _partition_gout(channel, y, omega, v):
    if hasattr(channel, "partition_gout"):
        return channel.partition_gout(y, omega, v)
    return channel.partition(y, omega, v), channel.gout(y, omega, v)[0]


def bo_hat(channel, alpha: float, q: np.ndarray, rho: np.ndarray, nodes: int = 30) -> np.ndarray:
    """Q̂ = α E_ξ Σ_y Z g gᵀ at ω = Q^{1/2}ξ, V = ρ − Q (closed forms for the sign and linear
    channels, a tensor Gauss–Hermite grid with ``nodes`` per axis otherwise)."""
    if isinstance(channel, SignChannel):
        return np.atleast_2d(sign_qhat(alpha, q[0, 0], rho[0, 0], channel.noise))
    if isinstance(channel, LinearChannel):
        return np.atleast_2d(alpha / (channel.noise + rho[0, 0] - q[0, 0]))
    q = _clip_overlap(q, rho)
    omega, wts = gaussian_nodes(q, nodes)
    v = rho - q
    out = np.zeros_like(q)
    for label in channel.labels:
        z, g = _partition_gout(channel, np.full(len(omega), label), omega, v)
        out += np.einsum("n,ni,nj->ij", wts * z, g, g)
    return alpha * 0.5 * (out + out.T)


def bo_error(channel, q: np.ndarray, rho: np.ndarray, nodes: int = 30) -> float:
    """BO test error 1 − E_ω max_y Z_out(y; ω, ρ − Q), ω ~ N(0, Q); for the probit channel
    arccos(√(q/(ρ + Δ)))/π in closed form."""
    if isinstance(channel, SignChannel):
        return float(np.arccos(np.sqrt(np.clip(q[0, 0] / (rho[0, 0] + channel.noise), 0, 1))))\
            / math.pi
    q = _clip_overlap(q, rho)
    omega, wts = gaussian_nodes(q, nodes)
    z = np.stack([channel.partition(np.full(len(omega), y), omega, rho - q)
                  for y in channel.labels])
    return float(1.0 - wts @ z.max(0))


def _sym(flat: np.ndarray, k: int) -> np.ndarray:
    q = np.zeros((k, k))
    q[np.triu_indices(k)] = flat
    return q + np.triu(q, 1).T


def bo_state_evolution(
    prior,
    channel,
    alpha: float,
    q0: np.ndarray,
    *,
    damping: float = 0.0,
    tol: float = 1e-10,
    max_iter: int = 2000,
    nodes: int = 30,
    method: str = "damped",
) -> FixedPointResult:
    """Iterate Q ← prior.bo_overlap(Q̂(Q)) from ``q0`` (K×K); ``x`` of the result is Q."""
    k = q0.shape[0]
    rho = prior.second_moment(k)
    iu = np.triu_indices(k)

    def step(flat):
        q = _sym(flat, k)
        return prior.bo_overlap(bo_hat(channel, alpha, q, rho, nodes))[iu]

    res = solve_fixed_point(step, np.asarray(q0, float)[iu], damping=damping, tol=tol,
                            max_iter=max_iter, method=method)
    return FixedPointResult(_sym(np.asarray(res.x), k), res.status)


# --------------------------------------------------------------------------------------------
# ERM, one index
# --------------------------------------------------------------------------------------------


def _erm_hats(loss, teacher, alpha, m, q, v, rho, nodes):
    if (isinstance(loss, SquareLoss) and isinstance(teacher, SignChannel)
            and teacher.noise == 0 and rho == 1.0):
        mu1 = math.sqrt(2.0 / math.pi)  # E[sign(z) z], E y² = 1
        r = 1.0 + v
        return alpha * mu1 / r, alpha * (1.0 - 2.0 * mu1 * m + q) / r**2, alpha / r
    xi, w = gauss_hermite(nodes)
    omega = (math.sqrt(q) * xi)[:, None]
    mu = (m / math.sqrt(q) * xi)[:, None]
    sig2 = np.atleast_2d(max(rho - m**2 / q, 1e-12))
    vv = np.atleast_2d(v)
    mhat = qhat = vhat = 0.0
    for label in teacher.labels:
        y = np.full(len(xi), label)
        zs = teacher.partition(y, mu, sig2)
        gs = teacher.gout(y, mu, sig2)[0][:, 0]
        g, dg = loss.gout(y, omega, vv)
        mhat += w @ (zs * gs * g[:, 0])
        qhat += w @ (zs * g[:, 0] ** 2)
        vhat -= w @ (zs * dg[:, 0, 0])
    return alpha * mhat, alpha * qhat, alpha * vhat


def erm_state_evolution(
    loss,
    teacher,
    lam: float,
    alpha: float,
    *,
    rho: float = 1.0,
    x0: tuple[float, float, float] = (0.1, 0.1, 1.0),
    damping: float = 0.5,
    tol: float = 1e-13,
    max_iter: int = 5000,
    nodes: int = 201,
) -> FixedPointResult:
    """(m, q, V) of ERM with penalty (λ/2)‖w‖² and ``loss``, data labelled by ``teacher``
    (closed form for the square loss on sign labels: V̂ = α/(1 + V), m̂ = αμ₁/(1 + V),
    q̂ = α(1 − 2μ₁m + q)/(1 + V)², μ₁ = √(2/π), ρ = 1)."""

    def step(x):
        m, q, v = x
        mhat, qhat, vhat = _erm_hats(loss, teacher, alpha, m, max(q, 1e-300), v, rho, nodes)
        den = lam + vhat
        return np.array([rho * mhat / den, (rho * mhat**2 + qhat) / den**2, 1.0 / den])

    return solve_fixed_point(step, np.asarray(x0, float), damping=damping, tol=tol,
                             max_iter=max_iter)


# --------------------------------------------------------------------------------------------
# The K = 2 committee: non-specialised branch and the specialisation transition
# --------------------------------------------------------------------------------------------


def symmetric_committee_overlap(prior, channel, alpha: float, nodes: int = 30) -> float:
    """a of the non-specialised fixed point Q = a·11ᵀ (both hidden units learn the same
    direction; an exactly invariant set of the SE map), by root finding on a − F(a)₁₁."""
    rho = prior.second_moment(2)

    def gap(a):
        q = np.full((2, 2), a)
        return prior.bo_overlap(bo_hat(channel, alpha, q, rho, nodes))[0, 0] - a

    return brentq(gap, 1e-9, 0.5 - 1e-9, xtol=1e-12)


def _antisymmetric_growth(prior, channel, alpha: float, nodes: int, eps: float = 1e-6) -> float:
    """Largest eigenvalue of the SE map's Jacobian in the (Q11 = Q22, Q12) plane at the
    non-specialised fixed point (one-sided differences that keep Q positive semi-definite)."""
    rho = prior.second_moment(2)
    a = symmetric_committee_overlap(prior, channel, alpha, nodes)

    def f(d11, d12):
        q = np.array([[a + d11, a + d12], [a + d12, a + d11]])
        out = prior.bo_overlap(bo_hat(channel, alpha, q, rho, nodes))
        return np.array([out[0, 0], out[0, 1]])

    base = f(0.0, 0.0)
    jac = np.column_stack([(f(eps, 0.0) - base) / eps, (base - f(0.0, -eps)) / eps])
    return float(np.max(np.linalg.eigvals(jac).real))


def specialisation_threshold(
    prior, channel, bracket: tuple[float, float] = (1.5, 3.0), nodes: int = 30
) -> tuple[float, SolverStatus]:
    """α at which the non-specialised fixed point loses stability (Jacobian eigenvalue 1): the
    continuous specialisation transition of the K = 2 committee (Aubin et al. 2018, Fig. 2)."""
    lo, hi = bracket
    fn = lambda al: _antisymmetric_growth(prior, channel, al, nodes) - 1.0  # noqa: E731
    flo, fhi = fn(lo), fn(hi)
    if not (flo < 0 < fhi):
        return math.nan, SolverStatus(False, 0, math.nan, "brentq",
                                      f"no instability in α ∈ [{lo}, {hi}]")
    root, info = brentq(fn, lo, hi, xtol=1e-6, full_output=True)
    return root, SolverStatus(bool(info.converged), info.iterations, 0.0, "brentq")
