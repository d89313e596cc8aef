"""Global minimum of the empirical risk of a tied rank-one dot-product attention layer
(arXiv 2402.03902, Cui, Behrens, Krzakala, Zdeborová), sequence length L = 2.

Tokens x_ℓ = p_ℓ + z_ℓ (positions p_{1,2} = ±1/√d, content z_ℓ ~ N(0, σ²I)); target
y = [(1 − ω) softmax(h*h*ᵀ) + ωA] z with h*_ℓ = z_ℓ·Q*/√d; student ŷ = softmax(hhᵀ) x with
h_ℓ = x_ℓ·Q/√d; risk Σ_μ ‖ŷ − y‖²/(2d) + (λ/2)‖Q‖². For L = 2 the row softmax is a logistic
function s: S₁₁ = s(h₁² − h₁h₂), S₂₂ = s(h₂² − h₁h₂).

Replica saddle point (the paper's Sec. 3 and App. B) in the overlaps m (position), θ (teacher),
q (norm), V and their conjugates: a non-convex 2-D proximal step over four independent standard
Gaussians (ξ₁, ξ₂, u₁, u₂), evaluated by tensor Gauss–Hermite cubature, and a ridge prior step.
Two branches: positional (θ = 0 pinned) and semantic (m = 0 pinned); the global minimum is the
branch of lower training loss ε_t, and α_c is where they cross.

"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from theorylab.theory.fixed_point import SolverStatus, solve_fixed_point
from theorylab.theory.gaussian import gauss_hermite

__all__ = ["AttentionSetting", "BranchState", "linear_baseline", "solve_branch"]


def _s(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


@dataclass(frozen=True)
class AttentionSetting:
    """σ, ω, the symmetric row-stochastic mixing matrix A (its diagonal), λ; cubature nodes."""

    sigma: float = 0.5
    omega: float = 0.3
    a11: float = 0.6
    a22: float = 0.6
    lam: float = 0.01
    nodes: int = 8

    @property
    def rho(self) -> float:
        return self.sigma**2


@dataclass(frozen=True)
class BranchState:
    q: float
    m: float
    v: float
    theta: float
    eg: float = math.nan
    et: float = math.nan
    status: SolverStatus | None = None


def _cubature(n: int):
    z, w = gauss_hermite(n)
    grid = np.array(list(itertools.product(range(n), repeat=4)))
    return z[grid].T, np.prod(w[grid], axis=1)  # (4, N) nodes ξ1, ξ2, u1, u2; (N,) weights


def _targets(st: AttentionSetting, h1, h2):
    t11 = (1 - st.omega) * _s(h1**2 - h1 * h2) + st.omega * st.a11
    t22 = (1 - st.omega) * _s(h2**2 - h1 * h2) + st.omega * st.a22
    return t11, t22


def _objective(a, b, g1, g2, v, t1, t2, s2):
    return ((a - g1) ** 2 + (b - g2) ** 2) / v + 2 * s2 * (
        (_s(a * a - a * b) - t1) ** 2 + (_s(b * b - a * b) - t2) ** 2)


def _newton(a, b, g1, g2, v, t1, t2, s2, steps=40):
    """Damped Newton on M(a, b) from (a, b), all nodes at once (Hessian shifted to be positive
    definite, step halved until M decreases)."""
    f = _objective(a, b, g1, g2, v, t1, t2, s2)
    for _ in range(steps):
        z1, z2 = a * a - a * b, b * b - a * b
        s1, s2_ = _s(z1), _s(z2)
        d1, d2 = s1 * (1 - s1), s2_ * (1 - s2_)
        e1, e2 = 4 * s2 * (s1 - t1) * d1, 4 * s2 * (s2_ - t2) * d2
        f1 = 4 * s2 * (d1**2 + (s1 - t1) * d1 * (1 - 2 * s1))
        f2 = 4 * s2 * (d2**2 + (s2_ - t2) * d2 * (1 - 2 * s2_))
        za, zb = 2 * a - b, -a  # ∂z1
        wa, wb = -b, 2 * b - a  # ∂z2
        ga = 2 * (a - g1) / v + e1 * za + e2 * wa
        gb = 2 * (b - g2) / v + e1 * zb + e2 * wb
        haa = 2 / v + f1 * za**2 + 2 * e1 + f2 * wa**2
        hbb = 2 / v + f1 * zb**2 + f2 * wb**2 + 2 * e2
        hab = f1 * za * zb + f2 * wa * wb - e1 - e2
        tr, det = haa + hbb, haa * hbb - hab**2
        lmin = 0.5 * tr - np.sqrt(np.maximum(0.25 * tr**2 - det, 0.0))
        shift = np.maximum(0.0, 1e-8 - lmin)
        haa, hbb = haa + shift, hbb + shift
        det = haa * hbb - hab**2
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        step = np.ones_like(a)
        for _ in range(12):
            na, nb = a - step * da, b - step * db
            nf = _objective(na, nb, g1, g2, v, t1, t2, s2)
            bad = nf > f + 1e-15
            if not bad.any():
                break
            step = np.where(bad, 0.5 * step, step)
        ok = nf <= f + 1e-15
        a, b, f = np.where(ok, na, a), np.where(ok, nb, b), np.where(ok, nf, f)
        if np.max(np.abs(step * np.hypot(da, db))) < 1e-12:
            break
    return a, b, f


def _prox(g1, g2, v, t1, t2, s2):
    """Global minimiser of M over four starts: (g1, g2), (0, 0) and the two exact zeros of the
    loss term (a − b = ±√(c1 + c2), a + b = (c1 − c2)/(a − b), c = logit T)."""
    c1 = np.log(t1 / (1 - t1))
    c2 = np.log(t2 / (1 - t2))
    dd = np.sqrt(np.maximum(c1 + c2, 1e-12))
    starts = [(g1, g2), (np.zeros_like(g1), np.zeros_like(g2))]
    for sgn in (1.0, -1.0):
        diff = sgn * dd
        tot = (c1 - c2) / diff
        starts.append((0.5 * (tot + diff), 0.5 * (tot - diff)))
    best = None
    for a0, b0 in starts:
        a, b, f = _newton(a0.copy(), b0.copy(), g1, g2, v, t1, t2, s2)
        if best is None:
            best = (a, b, f)
        else:
            take = f < best[2]
            best = tuple(np.where(take, new, old) for new, old in zip((a, b, f), best,
                                                                        strict=True))
    return best


def _channel(st, state, nodes_w, alpha, branch):
    (x1, x2, u1, u2), w = nodes_w
    q, m, v, th = state
    q, v = max(q, 1e-10), max(v, 1e-10)  # an extrapolated (Anderson) iterate may overshoot
    m = 0.0 if branch == "semantic" else m
    th = 0.0 if branch == "positional" else th
    sq = math.sqrt(q)
    g1, g2 = sq * x1 + m, sq * x2 - m
    vs = math.sqrt(max(st.rho - th**2 / q, 1e-300))
    h1, h2 = vs * u1 + th / sq * x1, vs * u2 + th / sq * x2
    t1, t2 = _targets(st, h1, h2)
    a, b, fmin = _prox(g1, g2, v, t1, t2, st.sigma**2)
    r1, r2 = a - g1, b - g2
    mh = 0.0 if branch == "semantic" else alpha / v * (w @ (r1 - r2))
    qh = alpha / v**2 * (w @ (r1**2 + r2**2))
    thh = 0.0 if branch == "positional" else alpha / (v * vs) * (w @ (r1 * u1 + r2 * u2))
    vh = -alpha / (v * sq) * (w @ (r1 * x1 + r2 * x2)) + th * thh / q
    eg = st.sigma**2 * (w @ ((_s(g1**2 - g1 * g2) - t1) ** 2 + (_s(g2**2 - g1 * g2) - t2) ** 2))
    return mh, qh, thh, vh, eg, w @ fmin


def _prior(st, hats):
    mh, qh, thh, vh = hats
    den = st.lam + st.sigma**2 * vh
    q = st.sigma**2 * (st.sigma**2 * qh + mh**2 + st.sigma**2 * st.rho * thh**2) / den**2
    return q, mh / den, st.sigma**2 / den, st.sigma**2 * st.rho * thh / den


def solve_branch(st: AttentionSetting, alpha: float, branch: str, start: tuple[float, ...],
                 damping: float = 0.8, tol: float = 1e-6, max_iter: int = 600,
                 anderson: bool = False) -> BranchState:
    """Iteration of the saddle point on one branch from ``start`` = (q, m, V, θ): damped
    (x ← 0.2 x_new + 0.8 x, the authors' scheme) or, with ``anderson``, Anderson-accelerated
    with the same mixing (10–20 maps instead of 70–260 from a nearby start; with mixing 0.5
    it can stop near a different point of the positional branch at α = 1)."""
    nw = _cubature(st.nodes)
    x = np.asarray(start, float)
    if anderson:
        res_fp = solve_fixed_point(lambda y: np.array(_prior(st, _channel(st, y, nw, alpha,
                                                                          branch)[:4])),
                                   x, method="anderson", damping=damping, tol=1e-8, max_iter=200)
        x, status = np.asarray(res_fp.x), res_fp.status
        if not status.converged:  # fall back to the authors' damped scheme
            return solve_branch(st, alpha, branch, start, damping, tol, max_iter)
    else:
        res, it = math.inf, 0
        while it < max_iter:
            it += 1
            mh, qh, thh, vh, eg, mstar = _channel(st, x, nw, alpha, branch)
            new = np.array(_prior(st, (mh, qh, thh, vh)))
            res = max(np.max(np.abs(new[[0, 1, 3]] - x[[0, 1, 3]])),
                      abs(new[2] - x[2]) / max(x[2], 1))
            x = (1 - damping) * new + damping * x
            if res < tol:
                break
        status = SolverStatus(res < tol, it, float(res), "damped")
    q, m, v, th = x
    mh, qh, thh, vh, eg, mstar = _channel(st, x, nw, alpha, branch)
    phi = (0.5 * (vh * q - qh * v) - m * mh - th * thh
           + 0.5 * (st.sigma**2 * qh + mh**2 + st.sigma**2 * st.rho * thh**2)
           / (st.lam + st.sigma**2 * vh) - 0.5 * alpha * mstar)
    return BranchState(q, m, v, th, eg, -phi, status)


def linear_baseline(st: AttentionSetting, nodes: int = 40) -> float:
    """ε_lin = (σ²/2)(E‖T‖_F² − ‖E T‖_F²) over h*_ℓ ~ N(0, ρ) i.i.d. (rows of T sum to one)."""
    z, w = gauss_hermite(nodes)
    h1, h2 = np.meshgrid(math.sqrt(st.rho) * z, math.sqrt(st.rho) * z, indexing="ij")
    ww = np.outer(w, w)
    t1, t2 = _targets(st, h1, h2)
    var = (ww * t1**2).sum() - (ww * t1).sum() ** 2 + (ww * t2**2).sum() - (ww * t2).sum() ** 2
    return st.sigma**2 / 2 * 2 * var  # ‖T − E T‖_F² = 2[(ΔT11)² + (ΔT22)²]
