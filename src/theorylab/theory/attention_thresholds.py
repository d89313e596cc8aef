"""The two thresholds of the tied rank-one attention model (arXiv 2402.03902, Sec. 3, Fig. 2):
α_c, where the semantic branch's training loss falls below the positional one's (the global
minimum switches), and α_l, where the semantic branch's test error falls below the linear
positional baseline's. Both are roots in α of a difference of two theory curves, bracketed by
solved values of α and refined by solving the branches at new α (continuation from the nearer
end of the bracket). Each returns the root and the solver statuses of every solve, with a
non-converged status appended when the root is not resolved.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from theorylab.theory.attention import AttentionSetting, BranchState, solve_branch
from theorylab.theory.fixed_point import SolverStatus

__all__ = [
    "AUTHORS_ALPHA_C",
    "AUTHORS_ALPHA_L_SIMULATED",
    "BRANCHES",
    "STARTS",
    "STARTS_1",
    "Thresholds",
    "baseline_crossing",
    "first_root",
    "gap",
    "solve_branches",
    "solve_thresholds",
    "training_crossing",
]

BRANCHES = ("positional", "semantic")
#: initial guesses (q, m, V, θ) at α = 2 (the authors' theory notebook)
STARTS = {"positional": (0.05, 0.26, 11.0, 0.0), "semantic": (0.11, 0.0, 12.3, 0.16)}
#: rounded initial guesses at α = 1 (the positional/semantic fixed points there), used where no
#: solved α is nearer
STARTS_1 = {"positional": (0.044, 0.25, 16.5, 0.0), "semantic": (0.068, 0.0, 21.0, 0.098)}


#: the authors' α_c(ω) at σ = 0.5, λ = 0.01, A₁₁ = 0.6 (the phase diagram, Fig. 3 of the paper;
#: their 02-toy_model_plots notebook)
AUTHORS_ALPHA_C = {0.2: 0.928, 0.25: 1.06, 0.3: 1.241, 0.35: 1.454, 0.4: 1.751}
#: the authors' d = 1000 GD simulations (empirics/results_mean_standardA.csv, σ = 0.5, ω = 0.3,
#: informed init): the semantic run's test error is above their linear baseline at α = 1.4196
#: (0.002090 vs 0.001944) and below it at α = 1.5025 (0.001981 vs 0.002000): their simulated
#: α_l lies in this bracket
AUTHORS_ALPHA_L_SIMULATED = (1.4196, 1.5025)


def _state(s: BranchState) -> np.ndarray:
    return np.array([s.q, s.m, s.v, s.theta])


def solve_branches(st: AttentionSetting, alpha: float, near: dict | None, starts=None,
                   tol: float = 1e-7, which: tuple[str, ...] = BRANCHES) -> dict:
    """The branches ``which`` at α, each from ``near`` (a solved α: its overlaps and per-node
    prox) or from ``starts`` (overlaps per branch)."""
    out = {}
    for b in which:
        s = None if near is None else near[b]
        start = STARTS[b] if s is None else _state(s)
        if starts is None and abs(alpha - 1.0) < 0.5 * min(abs(alpha - 2.0), 2.0):
            start = STARTS_1[b]
        start = start if starts is None else starts[b]
        out[b] = solve_branch(st, alpha, b, tuple(start), warm=None if s is None else s.prox,
                              tol=tol)
    return out


def gap(br: dict) -> float:
    """Δε_t = ε_t(semantic) − ε_t(positional): < 0 where the semantic branch is the global
    minimum (Sec. 3)."""
    return br["semantic"].et - br["positional"].et


def first_root(results: dict, f, solve) -> tuple[float, list]:
    """``solve(lo, hi)`` on the first bracket of consecutive solved α (``results``: α → branches)
    where ``f(branches)`` goes from positive to negative; (NaN, [], None) when it never
    does."""
    pairs = [(a, results[a]) for a in sorted(results)]
    for lo, hi in itertools.pairwise(pairs):
        if f(lo[1]) > 0 > f(hi[1]):
            return solve(lo, hi)
    return math.nan, [], None


def _interpolated(st, a, lo, hi, which, tol):
    """Solve ``which`` at α = a from the overlaps interpolated between the bracket's ends and
    the per-node prox of the nearer end."""
    (a0, b0), (a1, b1) = lo, hi
    f = (a - a0) / (a1 - a0)
    starts = {b: (1 - f) * _state(b0[b]) + f * _state(b1[b]) for b in which}
    return solve_branches(st, a, b0 if f < 0.5 else b1, starts, tol=tol, which=which)


def training_crossing(st: AttentionSetting, lo: tuple, hi: tuple, atol: float = 2e-8,
                      max_eval: int = 6):
    """α_c where Δε_t = 0, from a bracket of (α, branches) pairs lo, hi. Δε_t and its slope
    (dε_t/dα = E[M*]/2 on each branch, the envelope theorem) are known at every solved α:
    the root of the cubic Hermite interpolant is the first guess, then Newton steps (bisection
    when a step leaves the bracket), each solve to a looser tolerance (ε_t is stationary at
    the saddle point: an error δ in the overlaps moves it by O(δ²)). Stops when
    |Δε_t| ≤ ``atol`` (the slope is ≈ 1e-3 per unit α, so α_c is then resolved to ≈ 2e-5).
    Returns α_c, the statuses and the branches solved at α_c (None if not resolved)."""
    def slope(br):
        return br["semantic"].slope - br["positional"].slope

    (a0, b0), (a1, b1) = lo, hi
    h = a1 - a0
    p0, p1 = gap(b0), gap(b1)
    m0, m1 = slope(b0) * h, slope(b1) * h
    cubic = np.polynomial.Polynomial([p0, m0, -3 * p0 - 2 * m0 + 3 * p1 - m1,
                                      2 * p0 + m0 - 2 * p1 + m1])
    roots = [r.real for r in cubic.roots() if abs(r.imag) < 1e-12 and 0 <= r.real <= 1]
    a = a0 + h * (roots[0] if roots else p0 / (p0 - p1))
    statuses = []
    g = np.inf
    for _ in range(max_eval):
        br = _interpolated(st, a, (a0, b0), (a1, b1), BRANCHES, 1e-5)
        statuses += [s.status for s in br.values()]
        g = gap(br)
        if abs(g) <= atol:
            return a, statuses, br
        a0, b0, a1, b1 = (a, br, a1, b1) if g > 0 else (a0, b0, a, br)
        a = a - g / slope(br)
        a = a if a0 < a < a1 else 0.5 * (a0 + a1)
    statuses.append(SolverStatus(False, max_eval, abs(g), "Newton", "α_c not resolved"))
    return a, statuses, None


def baseline_crossing(st: AttentionSetting, lo: tuple, hi: tuple, eg_linear: float,
                      solved: dict | None = None, atol: float = 1e-7, max_eval: int = 8):
    """α_l where the semantic branch's test error equals the linear baseline's,
    ε_g(semantic; α) = ε_lin, from a bracket of (α, branches) pairs lo, hi (the sign of
    ε_g − ε_lin differs at the ends). ε_g has no envelope-theorem slope and is not stationary
    at the saddle point: the first guess is the root in the bracket of the parabola through
    the three solved α (``solved``: α → branches, with lo and hi) nearest to the bracket, then
    Illinois regula falsi, each solve to 1e-7. Stops when |ε_g − ε_lin| ≤ ``atol`` (the slope
    is ≈ 1e-3 per unit α, so α_l is then resolved to ≈ 1e-4) or the bracket is narrower than
    1e-5."""
    (a0, b0), (a1, b1) = lo, hi
    f0 = b0["semantic"].eg - eg_linear
    f1 = b1["semantic"].eg - eg_linear
    a = a1 - f1 * (a1 - a0) / (f1 - f0)
    pts = {**(solved or {}), a0: b0, a1: b1}
    near = sorted(pts, key=lambda x: abs(x - a))[:3]
    if len(near) == 3:
        fit = np.polynomial.Polynomial.fit(
            near, [pts[x]["semantic"].eg - eg_linear for x in near], 2)
        roots = [r.real for r in fit.roots() if abs(r.imag) < 1e-12 and a0 < r.real < a1]
        a = roots[0] if len(roots) == 1 else a
    statuses, side = [], 0
    f = np.inf
    for _ in range(max_eval):
        br = _interpolated(st, a, (a0, b0), (a1, b1), ("semantic",), 1e-7)
        statuses.append(br["semantic"].status)
        f = br["semantic"].eg - eg_linear
        if abs(f) <= atol:
            return a, statuses, br
        if (f > 0) == (f0 > 0):  # replace that end; halve the other end's weight if stuck
            a0, b0, f0 = a, br, f
            f1, side = (0.5 * f1, -1) if side == -1 else (f1, -1)
        else:
            a1, b1, f1 = a, br, f
            f0, side = (0.5 * f0, 1) if side == 1 else (f0, 1)
        if a1 - a0 < 1e-5:
            return a, statuses, br
        a = a1 - f1 * (a1 - a0) / (f1 - f0)
    statuses.append(SolverStatus(False, max_eval, abs(f), "regula falsi", "α_l not resolved"))
    return a, statuses, None


@dataclass(frozen=True)
class Thresholds:
    branches: dict  # α → {branch: BranchState}, every α solved (the grid and the brackets)
    alpha_c: float  # NaN without both branches or without a crossing in the solved range
    alpha_l: float  # NaN without the semantic branch or without a crossing
    status: SolverStatus


def solve_thresholds(st: AttentionSetting, alphas, which: tuple[str, ...], eg_linear: float,
                     bracket: tuple[float, float], alpha_range: tuple[float, float]
                     ) -> Thresholds:
    """The branches ``which`` at ``alphas`` (continuing outward from α = 2) and the thresholds:
    α_c (both branches) and α_l (the semantic branch against ``eg_linear``). The solved α
    include ``bracket`` when the semantic branch is solved, and an end of ``alpha_range`` when a
    threshold lies beyond the solved α."""
    both, sem = len(which) == 2, "semantic" in which
    grid = sorted(set(alphas) | set(bracket if sem else ()), key=lambda a: (abs(a - 2.0), a))
    results, statuses = {}, []
    for a in grid:
        near = None if not results else results[min(results, key=lambda b: abs(b - a))]
        results[a] = solve_branches(st, a, near, which=which)
        statuses += [s.status for s in results[a].values()]
    above = {"alpha_c": lambda br: gap(br) if both else math.nan,
             "alpha_l": lambda br: br["semantic"].eg - eg_linear if sem else math.nan}
    for edge, sign in ((alpha_range[0], -1.0), (alpha_range[1], 1.0)):
        nearest = results[min(results, key=lambda b: abs(b - edge))]
        if edge not in results and any(sign * f(nearest) > 0 for f in above.values()):
            results[edge] = solve_branches(st, edge, nearest, which=which)
            statuses += [s.status for s in results[edge].values()]
    alpha_c, more, at_c = first_root(results, above["alpha_c"],
                                     lambda lo, hi: training_crossing(st, lo, hi))
    if at_c is not None:  # its semantic state narrows α_l's bracket
        results[alpha_c] = at_c
    alpha_l, more_l, _ = first_root(results, above["alpha_l"], lambda lo, hi: baseline_crossing(
        st, lo, hi, eg_linear, results))
    return Thresholds(results, alpha_c, alpha_l, SolverStatus.combine(*statuses, *more,
                                                                      *more_l))
