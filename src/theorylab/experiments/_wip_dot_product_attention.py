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

Simulation: the layer trained by full-batch L-BFGS from a positional and from a semantic
initialisation (the paper's protocol, Sec. 4, uses both to follow each branch).

WORK IN PROGRESS — not registered (the leading underscore keeps it out of the registry). The
theory reproduces the reference branches at α = 1, 2 and α_c = 1.239 (authors 1.241), but a
default theory() call costs ≈ 140 s CPU (a 4096-node multi-start Newton prox per map), the
check resolutions are placeholders (not measured), and there is no stored quick run, figure
check or unit test of this module yet. To finish: make theory fast (cache/warm-start the prox,
fewer crossing steps), run the quick size, set resolutions from measurements, rename to
dot_product_attention.py.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Annotated

import numpy as np

from theorylab.experiments.base import (
    Agreement,
    Criterion,
    Experiment,
    Observable,
    ParamsBase,
    Positive,
    Range,
    Relation,
)
from theorylab.experiments.plotting import simulated, theory_vs_simulation
from theorylab.theory.attention import AttentionSetting, linear_baseline, solve_branch
from theorylab.theory.fixed_point import SolverStatus

__all__ = ["EXPERIMENT", "Params", "figure", "simulate", "theory"]

BRANCHES = ("positional", "semantic")
#: starting points (q, m, V, θ) at α = 2 (the paper's theory notebook)
STARTS = {"positional": (0.05, 0.26, 11.0, 0.0), "semantic": (0.11, 0.0, 12.3, 0.16)}


@dataclass(frozen=True)
class Params(ParamsBase):
    """Setting of Fig. 2 of arXiv 2402.03902 (defaults: the quick size)."""

    alpha: Annotated[tuple[float, ...], Range(0.5, 3.0), "sample ratios n/d"] = (1.0, 2.0)
    sigma: Annotated[float, Range(0.2, 1.0), "content standard deviation σ"] = 0.5
    omega: Annotated[float, Range(0.0, 0.6), "weight ω of the positional matrix A"] = 0.3
    a11: Annotated[float, Range(0.05, 0.95), "A₁₁ (A row-stochastic: A₁₂ = 1 − A₁₁)"] = 0.6
    a22: Annotated[float, Range(0.05, 0.95), "A₂₂ (A₂₁ = 1 − A₂₂)"] = 0.6
    lam: Annotated[float, Positive(10.0), "ridge penalty λ on ‖Q‖²/2"] = 0.01
    d: Annotated[int, Range(20, 5000), "token dimension of the simulation"] = 1000
    n_test: Annotated[int, Range(100, 100_000), "test sequences per draw"] = 4000

    relations = (
        Relation("a22", lambda p: abs(p.a11 - p.a22) < 1e-12,
                 "a22 must equal a11: the branches are pinned by the token-swap symmetry"),
    )


def setting(p: Params) -> AttentionSetting:
    return AttentionSetting(p.sigma, p.omega, p.a11, p.a22, p.lam)


# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------


def _branches(st: AttentionSetting, alpha: float, starts: dict):
    return {b: solve_branch(st, alpha, b, starts[b], anderson=True) for b in BRANCHES}


def crossing(st: AttentionSetting, lo: tuple, hi: tuple, steps: int = 2):
    """α_c where ε_t(semantic) = ε_t(positional), by regula falsi from a bracket of
    (α, branches) pairs, warm-starting each solve from the nearer end."""
    statuses = []
    for _ in range(steps):
        (a0, b0), (a1, b1) = lo, hi
        g0 = b0["semantic"].et - b0["positional"].et
        g1 = b1["semantic"].et - b1["positional"].et
        a = a0 - g0 * (a1 - a0) / (g1 - g0)
        near = b0 if abs(a - a0) < abs(a - a1) else b1
        br = _branches(st, a, {k: (s.q, s.m, s.v, s.theta) for k, s in near.items()})
        statuses += [s.status for s in br.values()]
        g = br["semantic"].et - br["positional"].et
        lo, hi = ((a, br), hi) if np.sign(g) == np.sign(g0) else (lo, (a, br))
    (a0, b0), (a1, b1) = lo, hi
    g0 = b0["semantic"].et - b0["positional"].et
    g1 = b1["semantic"].et - b1["positional"].et
    return a0 - g0 * (a1 - a0) / (g1 - g0), statuses


def theory(p: Params) -> dict:
    st = setting(p)
    alphas = sorted(p.alpha, reverse=True)  # continue from α = 2 downward (warm starts)
    results, starts, statuses = {}, dict(STARTS), []
    for a in alphas:
        br = _branches(st, a, starts)
        results[a] = br
        starts = {k: (s.q, s.m, s.v, s.theta) for k, s in br.items()}
        statuses += [s.status for s in br.values()]
    obs = {k: np.empty((2, len(p.alpha))) for k in ("q", "m", "theta", "eg", "et")}
    for j, a in enumerate(p.alpha):
        for i, b in enumerate(BRANCHES):
            s = results[a][b]
            for k, v in (("q", s.q), ("m", s.m), ("theta", s.theta), ("eg", s.eg),
                         ("et", s.et)):
                obs[k][i, j] = v
    gap = obs["et"][1] - obs["et"][0]
    alpha_c = math.nan
    pairs = [(a, results[a]) for a in sorted(p.alpha)]
    for lo, hi in itertools.pairwise(pairs):
        glo = lo[1]["semantic"].et - lo[1]["positional"].et
        ghi = hi[1]["semantic"].et - hi[1]["positional"].et
        if glo > 0 > ghi:
            alpha_c, more = crossing(st, lo, hi)
            statuses += more
            break
    return {
        **obs,
        "semantic_lower": (gap < 0).astype(float),
        "eg_linear": linear_baseline(st),
        "alpha_c": alpha_c,
        "solver": SolverStatus.combine(*statuses),
    }


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------


def simulate(p: Params, seed: int, device: str = "cpu") -> dict:
    """Train the layer by L-BFGS from a positional init (0.25·1 + 0.05 N(0, I)) and from the
    teacher (semantic init) on the first ⌊αd⌉ of one draw of sequences; measure the overlaps
    (with |·|: the risk is invariant under Q → −Q), the training loss R(Q̂)/d and the test error
    on fresh sequences; fit the linear baseline B on the largest training set."""
    import torch

    from theorylab.models.attention import (
        AttentionTask,
        attention_output,
        fit_linear_baseline,
        risk,
        train_lbfgs,
    )
    from theorylab.seeding import Streams

    gen = Streams(EXPERIMENT.slug, seed).torch("teacher, data and init")
    d, dt = p.d, torch.float64
    a = torch.tensor([[p.a11, 1 - p.a11], [1 - p.a22, p.a22]], dtype=dt)
    teacher = torch.randn(d, generator=gen, dtype=dt)
    teacher *= d**0.5 / teacher.norm()  # ‖Q*‖² = d: ρ = σ² exactly
    n_max = max(1, round(max(p.alpha) * d))
    train = AttentionTask.draw(n_max, d, p.sigma, p.omega, a, teacher, gen, dt)
    test = AttentionTask.draw(p.n_test, d, p.sigma, p.omega, a, teacher, gen, dt)
    inits = {"positional": 0.25 * torch.ones(d, dtype=dt)
             + 0.05 * torch.randn(d, generator=gen, dtype=dt), "semantic": teacher.clone()}
    out = {k: np.empty((2, len(p.alpha))) for k in ("q", "m", "theta", "eg", "et")}
    for j, al in enumerate(p.alpha):
        n = max(1, round(al * d))
        task = AttentionTask(train.x[:n], train.z[:n], train.y[:n], teacher)
        for i, b in enumerate(BRANCHES):
            q, _ = train_lbfgs(inits[b], task, p.lam)
            out["q"][i, j] = p.sigma**2 * float(q @ q) / d
            out["m"][i, j] = abs(float(q.sum())) / d
            out["theta"][i, j] = p.sigma**2 * abs(float(q @ teacher)) / d
            out["et"][i, j] = float(risk(q, task, p.lam)) / d
            err = ((attention_output(q, test.x) - test.y) ** 2).sum() / (2 * d * p.n_test)
            out["eg"][i, j] = float(err)
    bmat = fit_linear_baseline(train)
    lin = ((torch.einsum("lk,nkd->nld", bmat, test.z) - test.y) ** 2).sum() / (2 * d * p.n_test)
    return {**out, "semantic_lower": (out["et"][1] < out["et"][0]).astype(float),
            "eg_linear": float(lin)}


# --------------------------------------------------------------------------------------------
# Figure
# --------------------------------------------------------------------------------------------


def figure(result):
    """Test error vs α: both branches (lines), simulations from each init (points), the
    linear baseline, α_c marked (Fig. 2 of the paper)."""
    import matplotlib.pyplot as plt

    p = result.params
    th = {k: np.asarray(v) for k, v in result.theory.items()}
    a = np.asarray(p.alpha)
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, b in enumerate(BRANCHES):
        theory_vs_simulation(ax, a, th["eg"][i], p.alpha, simulated(result, "eg", i),
                             color=f"C{i}", marker="o", label=f"{b} branch (theory)",
                             sim_label=f"{b} init (L-BFGS, d = {p.d})")
    ax.axhline(float(th["eg_linear"]), color="gray", ls="--", label="linear baseline")
    if np.isfinite(th["alpha_c"]):
        ax.axvline(float(th["alpha_c"]), color="black", ls=":",
                   label=f"α_c = {float(th['alpha_c']):.3f}")
    ax.set(xlabel="α = n/d", ylabel="test error ε_g", title=f"σ = {p.sigma}, ω = {p.omega}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------------------------

_SEEDS = 6
_STAT = (f"3 sem over {_SEEDS} draws of teacher and data at d = 1000 (the authors' size), "
         "L-BFGS to a gradient norm 1e-10 from the branch's initialisation")


def _pinned(name: str):
    """Rows of an overlap that its branch does not pin to zero (m = 0 semantic, θ = 0
    positional)."""
    branch = {"m": "positional", "theta": "semantic"}[name]
    return lambda p, c: c["branch"] == branch


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
        "semantic_lower": Observable(
            "1 if the semantic branch has the lower training loss (simulation: fraction of "
            "draws)", ("alpha",)),
        "eg_linear": Observable("test error of the linear positional baseline ŷ = Bz"),
        "alpha_c": Observable("α at which the two branches' training losses cross"),
    },
    checks=(
        Agreement("eg", reason="test error of each branch (Sec. 3, Eq. for ε_g) vs L-BFGS from "
                  f"that branch's initialisation; {_STAT}", resolution=0.15),
        Agreement("et", reason="training loss −Φ of each branch (Sec. 3) vs R(Q̂)/d; " + _STAT,
                  resolution=0.15),
        Agreement("q", reason="σ²‖Q‖²/d of each branch vs L-BFGS; " + _STAT, resolution=0.15),
        Agreement("m", reason="positional overlap of the positional branch vs L-BFGS; " + _STAT,
                  where=_pinned("m"), resolution=0.15),
        Agreement("theta", reason="semantic overlap of the semantic branch vs L-BFGS; " + _STAT,
                  where=_pinned("theta"), resolution=0.15),
        Criterion("semantic_lower", "==", "semantic_lower", atol=0.34,
                  reason="which branch is the global minimum (lower training loss) on each "
                  "side of α_c (Sec. 3, Fig. 2): the fraction of draws whose semantic run "
                  "reaches the lower training loss must match the theory's 0 or 1 up to one "
                  f"draw in three; {_STAT}", resolution=0.35),
        Agreement("eg_linear", reason="linear baseline ε_lin = (σ²/2)(E‖T‖² − ‖E T‖²) "
                  "(Sec. 3) vs least squares of y on z; " + _STAT, resolution=0.05),
    ),
    theory_only={
        "alpha_c": "the crossing of the branches' training losses; its location is tested "
        "against the authors' α_c = 1.241 in tests/experiments/test_dot_product_attention.py, "
        "and the branch order on each side is checked against simulation (semantic_lower)",
    },
    figure=figure,
    dims={"branch": lambda p: BRANCHES},
    smoke={"alpha": (1.0,), "d": 40, "n_test": 200},
    protocol=1,
    seeds=_SEEDS,
    full={"d": 2000},
    full_seeds=8,
)
