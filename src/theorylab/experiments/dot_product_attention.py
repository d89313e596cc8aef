"""A phase transition between positional and semantic learning in a solvable model of
dot-product attention (arXiv 2402.03902).

Cui, Behrens, Krzakala, Zdeborová (NeurIPS 2024). A softmax attention layer with tied rank-one
query/key Q ∈ R^d reads two-token sequences x_ℓ = p_ℓ + z_ℓ (positions p_{1,2} = ±1/√d, content
z_ℓ ~ N(0, σ²I)); the target mixes a content attention of a teacher Q* with a positional matrix
A: y = [(1 − ω) softmax(h*h*ᵀ) + ωA] z. The ridge-regularised empirical risk over n = αd
sequences is non-convex; as d → ∞ its global minimum is one of two branches of the replica
saddle point (Sec. 3, :mod:`theorylab.theory.attention`): *positional* (Q aligned with the
positions, m ≠ 0, θ = 0) or *semantic* (Q aligned with the teacher, θ ≠ 0, m = 0). Which one
has the lower training loss switches at α_c (≈ 1.24 for σ = 0.5, ω = 0.3): a first-order
transition from positional to semantic learning. A linear positional baseline ŷ = Bz has an
α-independent error that the semantic branch beats only above α_l > α_c.

Simulation: the layer trained by full-batch L-BFGS (float64) from a positional and from a
semantic initialisation (the paper's protocol, Sec. 4, uses both to follow each branch), at the
authors' size d = 1000; for L = 2 the loss reduces to four scalars per sequence
(:class:`theorylab.models.attention.ReducedTask`), so a risk evaluation costs two
matrix–vector products.

Numerics (:mod:`theorylab.theory.attention`): 4-D Gauss–Hermite rule (12 nodes per axis,
reduced by the token-swap and sign symmetries to 5256 nodes), a per-node Newton prox warm-started
from the previous map and re-verified by multi-start at the fixed point, Anderson acceleration,
and α_c from the cubic Hermite interpolant of Δε_t (values and envelope-theorem slopes) refined
by Newton. The prox jumps between basins, so the averages converge slowly in the number of
nodes: against a 2¹⁷-point scrambled Sobol rule the positional branch agrees to 0.2 % and the
semantic branch at α = 2 to 0.1 %, but the semantic branch at α = 1 is off by 3 % in θ and 2 %
in ε_g (0.4 % in V at α = 2); this is the theory's numerical precision.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Annotated

import numpy as np

from theorylab.experiments.base import (
    Agreement,
    Choice,
    Criterion,
    Experiment,
    Observable,
    ParamsBase,
    Range,
)
from theorylab.experiments.plotting import simulated
from theorylab.theory.attention import AttentionSetting, linear_baseline, solve_branch
from theorylab.theory.fixed_point import SolverStatus

__all__ = ["EXPERIMENT", "Params", "figure", "simulate", "theory"]

BRANCHES = ("positional", "semantic")
#: initial guesses (q, m, V, θ) at α = 2 (the authors' theory notebook); each α is then solved
#: afresh, continuing from the previous α
STARTS = {"positional": (0.05, 0.26, 11.0, 0.0), "semantic": (0.11, 0.0, 12.3, 0.16)}
#: rounded initial guesses at α = 1 (the paper note's table), used where no solved α is nearer
STARTS_1 = {"positional": (0.044, 0.25, 16.5, 0.0), "semantic": (0.068, 0.0, 21.0, 0.098)}
#: bracket always solved for α_c, extended to the ends of ALPHA_RANGE when the crossing lies
#: outside it (e.g. ω = 0.2: α_c ≈ 0.93)
BRACKET = (1.0, 2.0)
ALPHA_RANGE = (0.8, 2.5)


@dataclass(frozen=True)
class Params(ParamsBase):
    """Setting of Fig. 2 of arXiv 2402.03902 (defaults: the quick size)."""

    alpha: Annotated[tuple[float, ...], Range(*ALPHA_RANGE), "sample ratios n/d"] = (1.0, 2.0)
    sigma: Annotated[float, Range(0.45, 0.55), "content standard deviation σ"] = 0.5
    omega: Annotated[float, Range(0.25, 0.4), "weight ω of the positional matrix A"] = 0.3
    a11: Annotated[float, Range(0.5, 0.7), "A₁₁ = A₂₂ (A symmetric row-stochastic: "
                   "A₁₂ = A₂₁ = 1 − A₁₁)"] = 0.6
    lam: Annotated[float, Range(0.005, 0.02), "ridge penalty λ on ‖Q‖²/2"] = 0.01
    d: Annotated[int, Range(20, 5000), "token dimension of the simulation"] = 1000
    n_test: Annotated[int, Range(100, 200_000), "test sequences per draw"] = 20_000
    branch: Annotated[str, Choice("both", *BRANCHES), "branch(es) solved and simulated (the "
                      "transition α_c and the branch order need both)"] = "both"


def branches(p: Params) -> tuple[str, ...]:
    return BRANCHES if p.branch == "both" else (p.branch,)


def setting(p: Params) -> AttentionSetting:
    return AttentionSetting(p.sigma, p.omega, p.a11, p.a11, p.lam)


# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------


def _state(s) -> np.ndarray:
    return np.array([s.q, s.m, s.v, s.theta])


def _solve(st: AttentionSetting, alpha: float, near: dict | None, starts=None,
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


def _gap(br: dict) -> float:
    """Δε_t = ε_t(semantic) − ε_t(positional): < 0 where the semantic branch is the global
    minimum (Sec. 3)."""
    return br["semantic"].et - br["positional"].et


def crossing(st: AttentionSetting, lo: tuple, hi: tuple, atol: float = 2e-8,
             max_eval: int = 6):
    """α_c where Δε_t = 0, from a bracket of (α, branches) pairs lo, hi. Δε_t and its slope
    (dε_t/dα = E[M*]/2 on each branch, the envelope theorem) are known at every solved α:
    the root of the cubic Hermite interpolant is the first guess, then Newton steps (bisection
    when a step leaves the bracket); each solve starts from the overlaps interpolated between
    the ends and the per-node prox of the nearer end, solved to a looser tolerance (ε_t is
    stationary at the saddle point: an error δ in the overlaps moves it by O(δ²)). Stops when
    |Δε_t| ≤ ``atol`` (the slope is ≈ 1e-3 per unit α, so α_c is then resolved to ≈ 2e-5)."""
    def slope(br):
        return br["semantic"].slope - br["positional"].slope

    (a0, b0), (a1, b1) = lo, hi
    h = a1 - a0
    p0, p1 = _gap(b0), _gap(b1)
    m0, m1 = slope(b0) * h, slope(b1) * h
    cubic = np.polynomial.Polynomial([p0, m0, -3 * p0 - 2 * m0 + 3 * p1 - m1,
                                      2 * p0 + m0 - 2 * p1 + m1])
    roots = [r.real for r in cubic.roots() if abs(r.imag) < 1e-12 and 0 <= r.real <= 1]
    a = a0 + h * (roots[0] if roots else p0 / (p0 - p1))
    statuses = []
    for _ in range(max_eval):
        f = (a - a0) / h
        starts = {b: (1 - f) * _state(b0[b]) + f * _state(b1[b]) for b in BRANCHES}
        br = _solve(st, a, b0 if f < 0.5 else b1, starts, tol=1e-5)
        statuses += [s.status for s in br.values()]
        g = _gap(br)
        if abs(g) <= atol:
            return a, statuses
        a0, b0, a1, b1 = (a, br, a1, b1) if g > 0 else (a0, b0, a, br)
        h = a1 - a0
        a = a - g / slope(br)
        a = a if a0 < a < a1 else 0.5 * (a0 + a1)
    statuses.append(SolverStatus(False, max_eval, abs(g), "Newton", "α_c not resolved"))
    return a, statuses


def theory(p: Params) -> dict:
    """The branches at each α (continuing from α = 2 outward), the linear baseline and, with
    both branches, their order and α_c."""
    st, which = setting(p), branches(p)
    both = len(which) == 2
    grid = sorted(set(p.alpha) | set(BRACKET if both else ()), key=lambda a: (abs(a - 2.0), a))
    results, statuses = {}, []
    for a in grid:
        near = None if not results else results[min(results, key=lambda b: abs(b - a))]
        results[a] = _solve(st, a, near, which=which)
        statuses += [s.status for s in results[a].values()]
    for edge, wrong_side in ((ALPHA_RANGE[0], lambda g: g < 0), (ALPHA_RANGE[1], lambda g: g > 0)):
        nearest = min(results, key=lambda b: abs(b - edge))
        if both and edge not in results and wrong_side(_gap(results[nearest])):
            results[edge] = _solve(st, edge, results[nearest])  # extend the bracket of α_c
            statuses += [s.status for s in results[edge].values()]
    obs = {k: np.empty((len(which), len(p.alpha))) for k in ("q", "m", "theta", "eg", "et")}
    for j, a in enumerate(p.alpha):
        for i, b in enumerate(which):
            s = results[a][b]
            for k, v in (("q", s.q), ("m", s.m), ("theta", s.theta), ("eg", s.eg),
                         ("et", s.et)):
                obs[k][i, j] = v
    gap = obs["et"][1] - obs["et"][0] if both else np.full(len(p.alpha), math.nan)
    alpha_c = math.nan
    pairs = [(a, results[a]) for a in sorted(results)]
    for lo, hi in itertools.pairwise(pairs if both else ()):
        if _gap(lo[1]) > 0 > _gap(hi[1]):
            alpha_c, more = crossing(st, lo, hi)
            statuses += more
            break
    return {
        **obs,
        "et_gap": gap,
        "semantic_wins": np.where(np.isnan(gap), np.nan, np.where(gap < 0, 1.0, -1.0)),
        "eg_linear": linear_baseline(st),
        "alpha_c": alpha_c,
        "solver": SolverStatus.combine(*statuses),
    }


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------


def simulate(p: Params, seed: int, device: str = "cpu") -> dict:
    """One draw of the teacher (‖Q*‖² = d, so ρ = σ² exactly) and of ⌈max α·d⌉ training
    sequences; at each α the layer is trained on the first αd of them (common random numbers
    across α) by full-batch L-BFGS in float64 from a positional init (0.25·1 + 0.05 N(0, I))
    and from the teacher (semantic init), the paper's way of following each branch (Sec. 4).
    Measured: the overlaps (with |·|, the risk is even in Q), the training loss R(Q̂)/d, and the
    test error on ``n_test`` fresh sequences (streamed in chunks); the linear baseline B is the
    least-squares fit of y on z over the largest training set."""
    import torch

    from theorylab.models.attention import (
        AttentionTask,
        ReducedTask,
        fit_linear_baseline,
        reduced_losses,
        risk,
        train_lbfgs,
    )
    from theorylab.seeding import Streams

    streams = Streams(EXPERIMENT.slug, seed)
    gen = streams.torch("teacher, data and init")
    d, dt = p.d, torch.float64
    a = torch.tensor([[p.a11, 1 - p.a11], [1 - p.a11, p.a11]], dtype=dt)
    teacher = torch.randn(d, generator=gen, dtype=dt)
    teacher *= d**0.5 / teacher.norm()
    n_max = max(1, round(max(p.alpha) * d))
    train = AttentionTask.draw(n_max, d, p.sigma, p.omega, a, teacher, gen, dt)
    reduced = ReducedTask.of(train)
    inits = {"positional": 0.25 * torch.ones(d, dtype=dt)
             + 0.05 * torch.randn(d, generator=gen, dtype=dt), "semantic": teacher.clone()}
    which = branches(p)
    out = {k: np.empty((len(which), len(p.alpha))) for k in ("q", "m", "theta", "eg", "et")}
    fitted = {}
    for j, al in enumerate(p.alpha):
        task = reduced.head(max(1, round(al * d)))
        for i, b in enumerate(which):
            q, _ = train_lbfgs(inits[b], task, p.lam)
            fitted[i, j] = q
            out["q"][i, j] = p.sigma**2 * float(q @ q) / d
            out["m"][i, j] = abs(float(q.sum())) / d
            out["theta"][i, j] = p.sigma**2 * abs(float(q @ teacher)) / d
            out["et"][i, j] = float(risk(q, task, p.lam)) / d
    bmat = fit_linear_baseline(train)
    test_gen = streams.torch("test sequences")
    err = dict.fromkeys(fitted, 0.0)
    lin, left = 0.0, p.n_test
    while left > 0:
        chunk = min(left, 2000)
        left -= chunk
        test = AttentionTask.draw(chunk, d, p.sigma, p.omega, a, teacher, test_gen, dt)
        test_reduced = ReducedTask.of(test)
        for key, q in fitted.items():
            err[key] += float(reduced_losses(q, test_reduced).sum())
        lin += float(((torch.einsum("lk,nkd->nld", bmat, test.z) - test.y) ** 2).sum())
    for (i, j), e in err.items():
        out["eg"][i, j] = e / p.n_test
    gap = out["et"][1] - out["et"][0] if len(which) == 2 else np.full(len(p.alpha), math.nan)
    wins = np.where(np.isnan(gap), np.nan, np.where(gap < 0, 1.0, -1.0))
    return {**out, "et_gap": gap, "semantic_wins": wins,
            "eg_linear": lin / (2 * d * p.n_test)}


# --------------------------------------------------------------------------------------------
# Figure
# --------------------------------------------------------------------------------------------

FIGURE_ALPHA = (0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.6, 1.8, 2.0, 2.2)


def figure(result):
    """Fig. 2 of the paper: test error vs α of both branches (theory on a finer grid, the
    global minimum solid), simulations from each init (points), the linear baseline, α_c."""
    import dataclasses

    import matplotlib.pyplot as plt

    p = result.params
    th = {k: np.asarray(v) for k, v in result.theory.items()}
    fine = theory(dataclasses.replace(p, alpha=FIGURE_ALPHA))
    a = np.asarray(FIGURE_ALPHA)
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, b in enumerate(branches(p)):
        c = f"C{BRANCHES.index(b)}"
        ax.plot(a, fine["eg"][i], color=c, ls="--", lw=1)
        lower = (fine["et_gap"] < 0) == (b == "semantic")
        best = np.where(lower | np.isnan(fine["et_gap"]), fine["eg"][i], np.nan)
        ax.plot(a, best, color=c, lw=2, label=f"{b} branch (theory; solid: global min)")
        sim = simulated(result, "eg", i)
        if sim is not None:
            ax.errorbar(p.alpha, sim[0], yerr=sim[1], color=c, marker="o", ls="none",
                        capsize=3, label=f"{b} init (L-BFGS, d = {p.d}, mean ± sem)")
    ax.axhline(float(th["eg_linear"]), color="gray", ls="-.", label="linear baseline")
    if np.isfinite(th["alpha_c"]):
        ax.axvline(float(th["alpha_c"]), color="black", ls=":",
                   label=f"α_c = {float(th['alpha_c']):.3f} (authors 1.241)")
    ax.set(xlabel="α = n/d", ylabel="test error ε_g", title=f"σ = {p.sigma}, ω = {p.omega}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------------------------

_SEEDS = 12
#: resolutions reached at d = 1000 with 3 and with 12 draws (the coarser of the two), far from
#: the 3 % goal: the empirical minimiser fluctuates by 3–10 % from draw to draw at this size
#: (positional q at α = 2 from 0.045 to 0.055) and the simulated positional q at α = 1 sits
#: 4.5 % below the theory at d = 400 and at d = 1000
RES = {"eg": 0.2, "et": 0.1, "q": 0.2, "m": 0.1, "theta": 0.1, "eg_linear": 0.03}
ALPHA_C_AUTHORS = 1.241  # Fig. 2 / Fig. 3 (phase diagram) of the paper, σ = 0.5, ω = 0.3
#: the authors' α_c(ω) at σ = 0.5, λ = 0.01, A₁₁ = 0.6 (phase diagram, Fig. 3; their
#: 02-toy_model_plots notebook)
ALPHA_C_PHASE_DIAGRAM = {0.2: 0.928, 0.25: 1.06, 0.3: 1.241, 0.35: 1.454, 0.4: 1.751}


def has_authors_alpha_c(p) -> bool:
    """Whether the authors give α_c at this setting (the α_c check applies only there, and
    only when both branches are solved)."""
    return p.branch == "both" and (p.sigma, p.a11, p.lam) == (0.5, 0.6, 0.01) and round(
        p.omega, 6) in ALPHA_C_PHASE_DIAGRAM


def authors_alpha_c(p) -> float:
    """The authors' α_c at this setting (NaN where they give none)."""
    return ALPHA_C_PHASE_DIAGRAM.get(round(p.omega, 6), math.nan) if has_authors_alpha_c(
        p) else math.nan


_STAT = (f"3 sem over the draws of teacher and data at d = 1000 ({_SEEDS} by default), plus "
         "3 % for the theory's cubature precision (GH 12⁴ vs a 2¹⁷-point Sobol rule: up to 3 % on "
         "the semantic branch at α = 1) and O(1/d) finite-size effects")


def _on_branch(name: str):
    """Rows where the simulation follows the branch: the positional branch at every α; the
    semantic branch above the authors' α_c only (1.241 where they give none) — below it the
    branch is metastable and the run from Q* leaves it on some draws (d = 400, seed 2 at
    α = 1: m = 0.16, θ = 0.06), which is why the paper's Fig. 2 plots the informed run only
    for α ≥ α_c. Overlaps pinned to zero by the branch (m semantic, θ positional) are not
    compared."""
    def where(p, c):
        if c["branch"] == "semantic":
            ac = authors_alpha_c(p)
            return name != "m" and c["alpha"] >= (ac if math.isfinite(ac) else ALPHA_C_AUTHORS)
        return name != "theta"
    return where


EXPERIMENT = Experiment(
    slug="dot_product_attention",
    arxiv="2402.03902",
    title="A phase transition between positional and semantic learning in a solvable model of "
    "dot-product attention",
    claim=(
        "A tied rank-one dot-product attention layer trained on n = αd sequences to a target "
        "that mixes positional and content (semantic) attention has, as d → ∞, a global "
        "minimum of its empirical risk described by a few overlaps. Two solutions compete: a "
        "positional one and a semantic one; the global minimum switches from positional to "
        "semantic at a first-order transition α_c, and the semantic solution beats a linear "
        "positional baseline above a second threshold."
    ),
    params=Params,
    theory=theory,
    simulate=simulate,
    observables={
        "q": Observable("σ²‖Q‖²/d", ("branch", "alpha")),
        "m": Observable("positional overlap |1ᵀQ|/d", ("branch", "alpha")),
        "theta": Observable("semantic overlap σ²|Q·Q*|/d", ("branch", "alpha")),
        "eg": Observable("test error E‖ŷ − y‖²/(2d)", ("branch", "alpha")),
        "et": Observable("training loss R(Q̂)/d", ("branch", "alpha")),
        "et_gap": Observable("ε_t(semantic) − ε_t(positional)", ("alpha",)),
        "semantic_wins": Observable(
            "+1 if the semantic branch has the lower training loss, −1 if the positional one "
            "(simulation: mean over draws)", ("alpha",)),
        "eg_linear": Observable("test error of the linear positional baseline ŷ = Bz"),
        "alpha_c": Observable("α at which the two branches' training losses cross"),
    },
    checks=(
        Agreement("eg", reason="test error of each branch (Sec. 3, ε_g of the saddle point; "
                  f"Fig. 2) vs L-BFGS from that branch's initialisation; {_STAT}",
                  rtol=0.03, where=_on_branch("eg"), resolution=RES["eg"]),
        Agreement("et", reason="training loss ε_t = −Φ of each branch (Sec. 3, free energy) "
                  f"vs R(Q̂)/d; {_STAT}", rtol=0.03, where=_on_branch("et"),
                  resolution=RES["et"]),
        Agreement("q", reason="σ²‖Q‖²/d of each branch (Sec. 3 overlaps) vs L-BFGS; " + _STAT,
                  rtol=0.03, where=_on_branch("q"), resolution=RES["q"]),
        Agreement("m", reason="positional overlap m of the positional branch (Sec. 3, Fig. 2 "
                  "right) vs |1ᵀQ̂|/d; " + _STAT, rtol=0.03, where=_on_branch("m"),
                  applies=lambda p: p.branch != "semantic",
                  resolution=RES["m"]),
        Agreement("theta", reason="semantic overlap θ of the semantic branch (Sec. 3, Fig. 2 "
                  "right) vs σ²|Q̂·Q*|/d; " + _STAT, rtol=0.03, where=_on_branch("theta"),
                  applies=lambda p: p.branch != "positional",
                  resolution=RES["theta"]),
        Criterion("semantic_wins", "==", "semantic_wins", atol=0.99,
                  applies=lambda p: p.branch == "both",
                  reason="which branch is the global minimum on each side of α_c (Sec. 3, "
                  "Fig. 2): theory −1 at α = 1 (positional lower) and +1 at α = 2 (semantic "
                  "lower); in the simulation the mean over draws of the same sign (semantic "
                  "run's R(Q̂) below the positional run's) must have the theory's sign, i.e. a "
                  "majority of draws agrees (measured at d = 1000: 0 of 12 draws semantic-lower "
                  "at α = 1, 12 of 12 at α = 2; at d = 400: 1 of 12 and 12 of 12). A sign "
                  "test: its resolution is 2 (a prediction of the wrong sign fails)",
                  resolution=2.0),
        Agreement("eg_linear", reason="linear positional baseline ε_lin = (σ²/2)(E‖T‖² − "
                  "‖E T‖²) (Sec. 3, the horizontal line of Fig. 2) vs least squares of y on z "
                  "(4 parameters fitted on n·2d numbers: no finite-size bias at this order); "
                  "3 sem", resolution=RES["eg_linear"]),
        Criterion("alpha_c", "==", authors_alpha_c, source="theory", atol=0.02,
                  applies=has_authors_alpha_c,
                  reason="α_c, the crossing of the branches' training losses, against the "
                  "authors' 1.241 (Fig. 2, σ = 0.5, ω = 0.3, from their degree-7 cubature; at "
                  "other ω their phase diagram, Fig. 3; no reference at other σ, λ, A); "
                  "the allowance 0.02 is the cubature uncertainty of α_c: our GH 8⁴ and 12⁴ "
                  "rules give 1.239 and 1.2565", resolution=0.03),
    ),
    theory_only={
        "et_gap": "the difference of the two checked ε_t rows; its sign is checked through "
        "semantic_wins (its size, ~1e-4 at α = 1, is below the simulation's resolution)",
    },
    figure=figure,
    dims={"branch": branches},
    smoke={"alpha": (1.0,), "d": 40, "n_test": 200},
    protocol=3,
    seeds=_SEEDS,
    full={"d": 2000},
    full_seeds=8,
)
