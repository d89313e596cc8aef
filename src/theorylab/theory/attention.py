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

import functools
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from theorylab.theory.fixed_point import SolverStatus, solve_fixed_point
from theorylab.theory.gaussian import gauss_hermite

__all__ = ["AttentionSetting", "BranchState", "linear_baseline", "sobol_rule", "solve_branch"]


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
    nodes: int = 12

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
    slope: float = math.nan  # dε_t/dα = E[M*]/2 (envelope theorem: α enters Φ only via αE[M*])
    prox: tuple | None = field(default=None, repr=False, compare=False)  # per-node warm start


@functools.lru_cache(maxsize=8)
def _cubature(n: int, branch: str = ""):
    """Tensor Gauss–Hermite rule on (ξ₁, ξ₂, u₁, u₂), reduced to one node per orbit of the
    integrands' symmetries (weights summed over the orbit). With A₁₁ = A₂₂ every integrand is
    invariant under the token swap (ξ₁, ξ₂, u₁, u₂) → (−ξ₂, −ξ₁, −u₂, −u₁) (the prox maps as
    (a*, b*) → (−b*, −a*)); on the positional branch (θ = 0) also under u → −u (T is even in
    h*), on the semantic branch (m = 0) under the global sign flip (the prox maps to −(a*, b*));
    the odd integrand of each branch (r·u resp. r₁ − r₂) is the pinned one. Returns (4, N)
    nodes and (N,) weights."""
    z, w = gauss_hermite(n)
    grid = np.array(list(itertools.product(range(n), repeat=4)))
    r = n - 1
    maps = [lambda g: g, lambda g: np.stack([r - g[:, 1], r - g[:, 0], r - g[:, 3],
                                             r - g[:, 2]], axis=1)]
    if branch == "positional":
        flip = lambda g: np.stack([g[:, 0], g[:, 1], r - g[:, 2], r - g[:, 3]], axis=1)  # noqa: E731
    elif branch == "semantic":
        flip = lambda g: r - g  # noqa: E731
    else:
        flip = None
    if flip is not None:
        maps += [flip, lambda g: flip(maps[1](g))]
    keys = np.stack([(m(grid) * n ** np.arange(4)[::-1]).sum(axis=1) for m in maps])
    rep = keys.min(axis=0)
    reps, inverse = np.unique(rep, return_inverse=True)
    weights = np.bincount(inverse, weights=np.prod(w[grid], axis=1))
    first = grid[np.searchsorted(keys[0], reps)]  # keys[0] (the identity) is sorted
    return z[first].T, weights


def _symmetry_images(x: np.ndarray, branch: str) -> np.ndarray:
    """The points (4, N) with their images under the symmetries :func:`_cubature` reduces by
    (the token swap, and the branch's flip), concatenated (4, 4N) (2N off the branches)."""
    x1, x2, u1, u2 = x
    imgs = [x, np.stack([-x2, -x1, -u2, -u1])]
    if branch == "positional":
        imgs += [np.stack([x1, x2, -u1, -u2]), np.stack([-x2, -x1, u2, u1])]
    elif branch == "semantic":
        imgs += [-x, np.stack([x2, x1, u2, u1])]
    return np.concatenate(imgs, axis=1)


def sobol_rule(log2_points: int, seed: int, branch: str = ""):
    """A randomised quasi-Monte Carlo rule on (ξ₁, ξ₂, u₁, u₂): 2^``log2_points`` points of a
    scrambled Sobol sequence (scipy.stats.qmc, scrambled with ``seed``) mapped to N(0, I₄) by
    the inverse normal CDF, each with its symmetry images (so the branch's pinned odd integrand
    stays exactly zero), equal weights. The prox jumps between its local minima across surfaces
    in (ξ, u), where tensor Gauss–Hermite converges slowly; independent scramblings give an
    unbiased estimate and its error. Returns (4, N) nodes and (N,) weights, as
    :func:`_cubature`."""
    from scipy.stats import norm, qmc

    x = norm.ppf(qmc.Sobol(4, scramble=True, seed=seed).random_base2(log2_points)).T
    nodes = _symmetry_images(x, branch)
    return nodes, np.full(nodes.shape[1], 1.0 / nodes.shape[1])


def _targets(st: AttentionSetting, h1, h2):
    t11 = (1 - st.omega) * _s(h1**2 - h1 * h2) + st.omega * st.a11
    t22 = (1 - st.omega) * _s(h2**2 - h1 * h2) + st.omega * st.a22
    return t11, t22


def _objective(a, b, g1, g2, v, t1, t2, s2):
    return ((a - g1) ** 2 + (b - g2) ** 2) / v + 2 * s2 * (
        (_s(a * a - a * b) - t1) ** 2 + (_s(b * b - a * b) - t2) ** 2)


def _newton_step(a, b, g1, g2, v, t1, t2, s2):
    """Newton direction of M at (a, b) with the 2×2 Hessian shifted to be positive definite."""
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
    return (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det


def _newton(a, b, g1, g2, v, t1, t2, s2, steps=60, xtol=1e-9):
    """Damped Newton on M(a, b) from (a, b), all nodes at once: step halved until M decreases;
    a node leaves the active set once its step is below ``xtol`` or no decrease is found."""
    a, b = np.array(a, float), np.array(b, float)
    f = _objective(a, b, g1, g2, v, t1, t2, s2)
    idx = np.arange(a.size)
    for _ in range(steps):
        if idx.size == 0:
            break
        ai, bi, fi, gi1, gi2, ti1, ti2 = (x[idx] for x in (a, b, f, g1, g2, t1, t2))
        da, db = _newton_step(ai, bi, gi1, gi2, v, ti1, ti2, s2)
        step = np.ones_like(ai)
        na, nb = ai - da, bi - db
        nf = _objective(na, nb, gi1, gi2, v, ti1, ti2, s2)
        for _ in range(30):
            bad = ~(nf <= fi)
            if not bad.any():
                break
            step[bad] *= 0.5
            na[bad], nb[bad] = ai[bad] - step[bad] * da[bad], bi[bad] - step[bad] * db[bad]
            nf[bad] = _objective(na[bad], nb[bad], gi1[bad], gi2[bad], v, ti1[bad], ti2[bad],
                                 s2)
        ok = nf <= fi
        a[idx[ok]], b[idx[ok]], f[idx[ok]] = na[ok], nb[ok], nf[ok]
        moved = step * np.hypot(da, db)
        idx = idx[ok & (moved > xtol * (1 + np.hypot(ai, bi)))]
    return a, b, f


def _prox(g1, g2, v, t1, t2, s2, warm=None, full=True):
    """Global minimiser of M: Newton from the two exact zeros of the loss term
    (a − b = ±√(c1 + c2), a + b = (c1 − c2)/(a − b), c = logit T), and, without a warm start,
    from (g1, g2) and (0, 0) too; plus ``warm`` (the previous minimiser per node) when given;
    the lowest M is kept. With ``full=False`` only the warm start is refined (a local solve).
    (At the branches' fixed points the starts (g1, g2) and (0, 0) never reach a lower M than
    the two zeros: they are kept for the cold start only.)"""
    starts = [] if warm is None else [warm]
    if full or warm is None:
        c1 = np.log(t1 / (1 - t1))
        c2 = np.log(t2 / (1 - t2))
        dd = np.sqrt(np.maximum(c1 + c2, 1e-12))
        if warm is None:
            starts += [(g1, g2), (np.zeros_like(g1), np.zeros_like(g2))]
        for sgn in (1.0, -1.0):
            diff = sgn * dd
            tot = (c1 - c2) / diff
            starts.append((0.5 * (tot + diff), 0.5 * (tot - diff)))
    best = None
    for a0, b0 in starts:
        a, b, f = _newton(a0, b0, g1, g2, v, t1, t2, s2)
        if best is None:
            best = (a, b, f)
        else:
            take = f < best[2]
            best = tuple(np.where(take, new, old) for new, old in zip((a, b, f), best,
                                                                        strict=True))
    return best


@dataclass(frozen=True)
class _ChannelOut:
    hats: tuple[float, float, float, float]  # m̂, q̂, θ̂, V̂
    eg: float
    mstar: float  # E M(a*, b*)
    ab: tuple[np.ndarray, np.ndarray]  # the prox per node (warm start of the next call)


def _channel(st, state, nodes_w, alpha, branch, warm=None, full=True) -> _ChannelOut:
    """Hat update (the paper's App. B): Gaussian averages over (ξ₁, ξ₂, u₁, u₂) of the prox
    residuals r = (a*, b*) − (g₁, g₂)."""
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
    a, b, fmin = _prox(g1, g2, v, t1, t2, st.sigma**2, warm, full)
    r1, r2 = a - g1, b - g2
    mh = 0.0 if branch == "semantic" else alpha / v * (w @ (r1 - r2))
    qh = alpha / v**2 * (w @ (r1**2 + r2**2))
    thh = 0.0 if branch == "positional" else alpha / (v * vs) * (w @ (r1 * u1 + r2 * u2))
    vh = -alpha / (v * sq) * (w @ (r1 * x1 + r2 * x2)) + th * thh / q
    eg = st.sigma**2 * (w @ ((_s(g1**2 - g1 * g2) - t1) ** 2 + (_s(g2**2 - g1 * g2) - t2) ** 2))
    return _ChannelOut((mh, qh, thh, vh), float(eg), float(w @ fmin), (a, b))


def _prior(st, hats):
    """Ridge prior update with D = λ + σ²V̂: q, m, V, θ from the hats."""
    mh, qh, thh, vh = hats
    den = st.lam + st.sigma**2 * vh
    q = st.sigma**2 * (st.sigma**2 * qh + mh**2 + st.sigma**2 * st.rho * thh**2) / den**2
    return np.array([q, mh / den, st.sigma**2 / den, st.sigma**2 * st.rho * thh / den])


def _residual(new, x) -> float:
    return float(max(np.max(np.abs(new[[0, 1, 3]] - x[[0, 1, 3]])),
                     abs(new[2] - x[2]) / max(x[2], 1.0)))


def solve_branch(st: AttentionSetting, alpha: float, branch: str, start: tuple[float, ...],
                 damping: float = 0.5, tol: float = 1e-7, max_iter: int = 400,
                 anderson: bool = True, warm=None, rule=None) -> BranchState:
    """Saddle point on one branch from ``start`` = (q, m, V, θ).

    The map is the hat update followed by the prior update, iterated with mixing
    x ← (1 − damping) x_new + damping x, Anderson-accelerated by default (the authors' plain
    iteration needs damping 0.8; with Anderson, 0.5 reaches the same fixed points in fewer maps
    — checked at α = 1, 2 on both branches). Each map refines the prox of every
    node by Newton from the previous map's minimiser (a local solve, ~10× cheaper than the
    multi-start); at the fixed point the full multi-start is rerun and, if the global minimiser
    moved at some node so that the map no longer closes to ``tol``, the iteration resumes from
    there (at most three times). ``warm`` passes the prox per node of a nearby solve
    (continuation in α). ``rule`` = (nodes (4, N), weights (N,)) replaces the tensor
    Gauss–Hermite rule of ``st.nodes`` points per axis (e.g. :func:`sobol_rule`)."""
    nw = _cubature(st.nodes, branch) if rule is None else rule
    x = np.asarray(start, float)
    cache = {"ab": warm}
    maps = 0

    def fmap(y):
        nonlocal maps
        maps += 1
        out = _channel(st, y, nw, alpha, branch, cache["ab"], full=cache["ab"] is None)
        cache["ab"] = out.ab
        return _prior(st, out.hats)

    method = "anderson" if anderson else "damped"
    status = SolverStatus(False, 0, math.inf, method)
    for _ in range(3):
        res = solve_fixed_point(fmap, x, method=method, damping=damping, tol=tol,
                                max_iter=max_iter)
        x = np.asarray(res.x, float)
        out = _channel(st, x, nw, alpha, branch, cache["ab"], full=True)  # verify globally
        cache["ab"] = out.ab
        r = _residual(_prior(st, out.hats), x)
        status = SolverStatus(res.status.converged and r < 10 * tol, maps + 1, r,
                              f"{method} + multi-start prox check")
        if status.converged or not res.status.converged:
            break
    q, m, v, th = x
    mh, qh, thh, vh = out.hats
    phi = (0.5 * (vh * q - qh * v) - m * mh - th * thh
           + 0.5 * (st.sigma**2 * qh + mh**2 + st.sigma**2 * st.rho * thh**2)
           / (st.lam + st.sigma**2 * vh) - 0.5 * alpha * out.mstar)
    return BranchState(q, m, v, th, out.eg, -phi, status, 0.5 * out.mstar, out.ab)


def linear_baseline(st: AttentionSetting, nodes: int = 40) -> float:
    """ε_lin = (σ²/2)(E‖T‖_F² − ‖E T‖_F²) over h*_ℓ ~ N(0, ρ) i.i.d. (rows of T sum to one)."""
    z, w = gauss_hermite(nodes)
    h1, h2 = np.meshgrid(math.sqrt(st.rho) * z, math.sqrt(st.rho) * z, indexing="ij")
    ww = np.outer(w, w)
    t1, t2 = _targets(st, h1, h2)
    var = (ww * t1**2).sum() - (ww * t1).sum() ** 2 + (ww * t2**2).sum() - (ww * t2).sum() ** 2
    return st.sigma**2 / 2 * 2 * var  # ‖T − E T‖_F² = 2[(ΔT11)² + (ΔT22)²]
