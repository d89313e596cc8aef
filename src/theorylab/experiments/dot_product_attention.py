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

Simulation: L-BFGS from a positional and from a semantic init (Sec. 4) at d = 1000, 10 draws
of teacher and data per seed, each draw's overlaps and losses adjusted by a control variate of
exactly zero mean (the training set's pair cost; :data:`CONTROLLED`). Variant
``histogram``: the counting task of Sec. 2 / Fig. 1, measured only. Numerics: GH 12⁴ cubature
(:mod:`theorylab.theory.attention`; within 0.45 % of a randomised QMC rule at the checked rows,
but 3 % off in θ on the semantic branch at α = 1, which is not checked); α_c and α_l are roots
of differences of theory curves (:mod:`theorylab.theory.attention_thresholds`).

Finding: on the positional branch the minimiser's q is ≈ 3 % below the replica-symmetric
prediction and m 1–2 % above it at every d up to 16 000 (a GPU d-scan; the authors' own d = 1000
runs have the same +1.3 % in m), while the training loss agrees; the gap closes as λ grows
(benchmarks/study_attention_ridge.py). Replica-symmetry breaking at this nearly flat minimum
would fit; it is not shown here.
"""

from __future__ import annotations

import dataclasses
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
    Variant,
)
from theorylab.experiments.plotting import simulated
from theorylab.experiments.result import seed_output, with_control_variates
from theorylab.theory.attention import AttentionSetting, linear_baseline
from theorylab.theory.attention_thresholds import (
    AUTHORS_ALPHA_C,
    AUTHORS_ALPHA_L_SIMULATED,
    BRANCHES,
    solve_thresholds,
)

__all__ = ["EXPERIMENT", "Params", "figure", "simulate", "theory"]

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
    draws: Annotated[
        int, Range(1, 1000),
        "independent draws of teacher and data per seed; the sem pools every draw of every seed",
    ] = 10
    branch: Annotated[str, Choice("both", *BRANCHES), "branch(es) solved and simulated (the "
                      "transition α_c and the branch order need both)"] = "both"
    task: Annotated[str, Choice("toy", "histogram"), "toy: the solvable model (theory and "
                    "simulation); histogram: the counting task of Fig. 1 (measured only)"] = "toy"
    hist_train: Annotated[int, Range(500, 50_000), "histogram task: training sequences"] = 8000
    hist_epochs: Annotated[int, Range(1, 200), "histogram task: Adam epochs of each restricted "
                           "model"] = 20


def branches(p: Params) -> tuple[str, ...]:
    return BRANCHES if p.branch == "both" else (p.branch,)


def setting(p: Params) -> AttentionSetting:
    return AttentionSetting(p.sigma, p.omega, p.a11, p.a11, p.lam)



def _nans(p: Params, names) -> dict:
    """NaN observables (those of the other task)."""
    return {k: np.full(tuple(len(g) for g in EXPERIMENT.grids(p, k)), math.nan) for k in names}


def theory(p: Params) -> dict:
    """The branches at each α, the linear baseline, α_l (with the semantic branch) and, with
    both branches, their order and α_c (Sec. 3); NaN for the histogram task (no theory)."""
    st, which = setting(p), branches(p)
    if p.task == "histogram":  # no theory: every observable NaN
        return _nans(p, EXPERIMENT.observables)
    eg_lin = linear_baseline(st)
    sol = solve_thresholds(st, p.alpha, which, eg_lin, BRACKET, ALPHA_RANGE)
    obs = {k: np.array([[getattr(sol.branches[a][b], k) for a in p.alpha] for b in which])
           for k in ("q", "m", "theta", "eg", "et")}
    et_gap = obs["et"][1] - obs["et"][0] if len(which) == 2 else np.full(len(p.alpha), math.nan)
    return {
        **obs,
        "et_gap": et_gap,
        "semantic_wins": np.where(np.isnan(et_gap), np.nan, np.where(et_gap < 0, 1.0, -1.0)),
        "eg_linear": eg_lin,
        "alpha_c": sol.alpha_c,
        "alpha_l": sol.alpha_l,
        **_nans(p, HIST),
        "solver": sol.status,
    }



HIST, MECHANISMS, STAGES = ("hist_accuracy", "hist_positional_share", "hist_token_share"), (
    "positional", "semantic"), ("restricted", "released")


def simulate_histogram(p: Params, seed: int, device: str = "cpu") -> dict:
    """The counting task (Sec. 2, Fig. 1), no theory: positional and semantic attention
    trained, then released (:func:`theorylab.models.histogram.both_mechanisms`); measured on
    fresh sequences: exact-count accuracy, and the shares of the attention variance explained
    by position and by token equality (:mod:`theorylab.measure.attention_maps`)."""
    from theorylab.measure.attention_maps import positional_share, token_share
    from theorylab.models.histogram import accuracy, quick_run
    from theorylab.seeding import Streams

    def measure(model, x, y):
        acc, attn = accuracy(model, x, y)
        return acc, positional_share(attn), token_share(attn, x)

    got = quick_run(p.hist_train, p.hist_epochs, Streams(EXPERIMENT.slug, seed), measure, device)
    out = {k: np.array([[got[m, s][i] for s in STAGES] for m in MECHANISMS])
           for i, k in enumerate(HIST)}
    return {**_nans(p, set(EXPERIMENT.observables) - set(HIST)), **out}


def simulate(p: Params, seed: int, device: str = "cpu") -> dict:
    """The histogram task with ``task="histogram"`` (:func:`simulate_histogram`); else
    ``draws`` independent draws of teacher and data (their mean, and the draws, over which the
    sem pools), the layer trained by L-BFGS from a positional and from a semantic init at each
    α (the paper's way of following each branch, Sec. 4) and the linear baseline
    (:func:`theorylab.models.attention.fit_branches`), on ``device``."""
    if p.task == "histogram":
        return simulate_histogram(p, seed, device)
    from theorylab.models.attention import fit_branches
    from theorylab.seeding import Streams

    which = branches(p)

    def one_draw(streams: Streams) -> dict:
        out = fit_branches(p.d, p.sigma, p.omega, p.a11, p.lam, p.alpha, which, p.n_test,
                           streams.torch("teacher, data and init"),
                           streams.torch("test sequences"), device)
        out["pair_cost_dev"] = out["pair_cost_dev"][:, None]  # one control per α
        gap = out["et"][1] - out["et"][0] if len(which) == 2 else np.full(len(p.alpha), math.nan)
        wins = np.where(np.isnan(gap), np.nan, np.where(gap < 0, 1.0, -1.0))
        return {**out, "et_gap": gap, "semantic_wins": wins}

    streams = Streams(EXPERIMENT.slug, seed)
    draws = [one_draw(streams.draw(k)) for k in range(p.draws)]
    return {**seed_output(with_control_variates(draws, CONTROLLED, "pair_cost_dev")),
            **_nans(p, HIST)}


#: observables adjusted by the control variate ``pair_cost_dev``: the training set's mean of
#: c/d minus its exact expectation, per α (:func:`theorylab.models.attention.expected_pair_cost`),
#: with a leave-one-out slope over the seed's draws
#: (:func:`theorylab.experiments.result.with_control_variates`: unbiased for any slope, as the
#: control has mean exactly zero whatever the teacher). c is the cost of answering each token
#: with the other, which sets the scale of the loss: it correlates with q, θ, ε_t at 0.8–0.9
#: and with ε_g at 0.35–0.8 (pilot of 36 draws at d = 1000), so the per-draw spread of those
#: drops by 1.3–2.2× (e.g. q on the positional branch at α = 1 from 5.8 % to 2.9 %). m is left
#: raw (correlation 0.24–0.33 in the pilot, no gain after the slope's inflation).
CONTROLLED = ("q", "theta", "eg", "et")


FIGURE_ALPHA = (0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.6, 1.8, 2.0, 2.2)


def figure(result):
    """Fig. 2 of the paper: test error vs α of both branches (theory on a finer grid, the
    global minimum solid), simulations from each init (points), the linear baseline, α_c and
    α_l. The histogram variant: the shares of its attention maps' variance explained by
    position and by token equality, per mechanism and stage (Fig. 1 in numbers)."""
    import matplotlib.pyplot as plt

    p = result.params
    if p.task == "histogram":
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for k, (name, c) in enumerate((("hist_positional_share", "C0"),
                                       ("hist_token_share", "C1"))):
            got = simulated(result, name)
            if got is None:
                continue
            mean, sem = got
            ax.bar(np.arange(4) + 0.4 * k, mean.ravel(), 0.4, yerr=sem.ravel(), color=c,
                   label=name.removeprefix("hist_").replace("_", " "))
        ax.set_xticks(np.arange(4) + 0.2, [f"{m}\n{s}" for m in MECHANISMS for s in STAGES])
        ax.set(ylabel="share of attention variance", title="histogram task (Fig. 1)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        return fig
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
    if np.isfinite(th["alpha_l"]):
        ax.axvline(float(th["alpha_l"]), color="gray", ls=":",
                   label=f"α_l = {float(th['alpha_l']):.3f} (authors 1.451)")
    ax.set(xlabel="α = n/d", ylabel="test error ε_g", title=f"σ = {p.sigma}, ω = {p.omega}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


_DRAWS = 30  # 3 seeds × 10 draws
#: precision of the GH 12⁴ cubature at the checked rows (positional α = 1, 2; semantic α = 2):
#: against a randomised QMC rule (2¹⁴ scrambled Sobol points × 4 symmetry images, 4 scramblings,
#: its own sem ≤ 0.2 %) GH 12⁴ is off by at most 0.45 % (positional q), 0.31 % (m), 0.13 %
#: (ε_g), 0.09 % (ε_t), ≤ 0.05 % on the semantic branch (benchmarks/study_attention_cubature.py)
CUBATURE = 0.005
#: finite-size bias c/d at d = 1000 (relative), c fitted through the origin to a d-scan with the
#: control variate (benchmarks/study_attention_finite_size.py; d = 500, 1000, 2000 with 64, 36,
#: 24 draws): semantic q −1.93/−0.91/−0.48 %, θ −1.12/−0.52/−0.26 %, ε_g +4.70/+2.27/+1.05 %,
#: ε_t +2.29/+1.30/+0.52 %; positional ε_t +1.87/+0.98/+0.68 % (α = 1), +1.67/+0.58/+0.31 %
#: (α = 2); positional ε_g is within ±0.8 % at every d (no allowance)
FINITE_SIZE = {("semantic", "q"): 0.010, ("semantic", "theta"): 0.006,
               ("semantic", "eg"): 0.023, ("semantic", "et"): 0.012,
               ("positional", "et"): 0.010}
#: declared allowances for a finding (not a 1/d effect): on the positional branch the minimiser's
#: q sits ≈ 3 % below the replica-symmetric saddle point and m 1–2 % above it, at every d up to
#: 16 000 (GPU d-scan, λ = 0.01, with the control variate, benchmarks/study_attention_ridge.py
#: --device cuda; d = 2000/4000/8000/16 000 with 32/24/16/12 draws: q −2.2/−2.8/−3.0/−2.8 % at
#: α = 1, −2.4/−2.5/−3.3/−3.0 % at α = 2, sem 0.25–0.6 %; m +1.5/+1.7/+1.9/+1.9 % and
#: +0.9/+1.0/+1.3/+1.2 %, sem ≈ 0.2 %; the training loss ε_t within +0.3 % at d ≥ 4000, and
#: the semantic branch at α = 2 within 0.1 % in q and θ at d = 4000 and 8000); the gap closes
#: as λ grows (−1.1/−0.2 % at λ = 0.02, −0.8/−0.2 % at 0.05, +0.1 % at 0.1 for α = 1/2;
#: d = 1000, 24 draws), where the risk is more convex (at λ = 0.01 the Hessian's smallest
#: eigenvalue at the minimiser of a draw at d = 1000 is 0.0009 ≈ 0.1 λ). At d = 1000 (the quick
#: run) the gap is −3.5/−3.8 % in q (finite-size study, CPU)
RS_POSITIONAL = {"q": 0.04, "m": 0.02}
#: declared resolutions (quick run: d = 1000, 30 draws; the finite-size and RS terms above and
#: their bias count in a row's resolution). Seeds 0–2 / 3–5 resolve q to 10.9/11.3 % (positional),
#: 2.6/3.1 % (semantic); m 5.0/5.5 %; ε_g 2.6/1.9 % (positional), 5.3/6.6 % (semantic); ε_t
#: 3.5–3.9 %; θ 1.8/2.1 %; ε_lin 1.4/0.9 %
RES = {"eg": 0.09, "et": 0.06, "q": 0.13, "m": 0.06, "theta": 0.03, "eg_linear": 0.03}
#: where one branch resolves much finer than the other, its own declared resolution
RES_BRANCH = {("positional", "eg"): 0.035, ("semantic", "q"): 0.04}
ALPHA_C_AUTHORS = 1.241  # Fig. 2 / Fig. 3 (phase diagram) of the paper, σ = 0.5, ω = 0.3


def has_authors_alpha_c(p) -> bool:
    """Whether the authors give α_c here (σ = 0.5, A₁₁ = 0.6, λ = 0.01, both branches)."""
    return p.branch == "both" and (p.sigma, p.a11, p.lam) == (0.5, 0.6, 0.01) and round(
        p.omega, 6) in AUTHORS_ALPHA_C


def authors_alpha_c(p) -> float:
    return AUTHORS_ALPHA_C[round(p.omega, 6)] if has_authors_alpha_c(p) else math.nan


def is_default_setting(p) -> bool:
    """σ, ω, A, λ of Fig. 2 (where the authors' simulated α_l bracket applies)."""
    return p.branch != "positional" and (p.sigma, p.a11, p.lam, round(p.omega, 6)) == (
        0.5, 0.6, 0.01, 0.3)


_STAT = (f"3 sem over the draws of teacher and data at d = 1000 ({_DRAWS} by default: 3 seeds × "
         "10, pooled; each draw's value less the pair-cost control variate, whose mean is exactly "
         "zero), plus 0.5 % for the theory's GH 12⁴ cubature (vs a randomised QMC rule: ≤ 0.45 % "
         "at these rows)")


def _fs(branch: str, name: str) -> str:
    c = FINITE_SIZE.get((branch, name))
    return "" if c is None else (
        f", plus the finite-size bias measured by a d-scan ({100 * c:.1f} % at d = 1000, ∝ 1/d: "
        "benchmarks/study_attention_finite_size.py)")


def _on_branch(name: str, branch: str | None = None):
    """Rows where the simulation follows the branch (only ``branch``'s, if given): positional at
    every α, semantic above the authors' α_c only (below, the run from Q* leaves the metastable
    branch on some draws; Fig. 2 plots it only for α ≥ α_c). Overlaps pinned to zero by the
    branch are not compared."""
    def where(p, c):
        if branch is not None and c["branch"] != branch:
            return False
        if c["branch"] == "semantic":
            ac = authors_alpha_c(p)
            return name != "m" and c["alpha"] >= (ac if math.isfinite(ac) else ALPHA_C_AUTHORS)
        return name != "theta"
    return where


def _toy_only(check):
    """``check`` restricted to the solvable model (the histogram task has no theory)."""
    cond = check.applies
    return dataclasses.replace(check, applies=lambda p: p.task == "toy" and (
        cond is None or cond(p)))


def _hist_rows(mechanism: str, stage: str | None = None):
    def where(p, c):
        return c["init"] == mechanism and (stage is None or c["stage"] == stage)
    return where


def _histogram(p) -> bool:
    return p.task == "histogram"


_WHAT = {
    "eg": "test error of the {b} branch (Sec. 3, ε_g of the saddle point; Fig. 2) vs L-BFGS "
          "from that branch's initialisation, on 20 000 fresh sequences",
    "et": "training loss ε_t = −Φ of the {b} branch (Sec. 3, free energy) vs R(Q̂)/d",
    "q": "σ²‖Q‖²/d of the {b} branch (Sec. 3 overlaps) vs L-BFGS",
    "m": "positional overlap m of the positional branch (Sec. 3, Fig. 2 right) vs |1ᵀQ̂|/d",
    "theta": "semantic overlap θ of the semantic branch (Sec. 3, Fig. 2 right) vs σ²|Q̂·Q*|/d",
}
_RS = (", plus a declared {pct} % for a finding: on the positional branch L-BFGS's minimiser "
       "has q ≈ 3 % below the replica-symmetric saddle point and m 1–2 % above it, and the gap "
       "does not close with d (with the control variate, q −2.8/−3.0/−2.8 % at α = 1 and "
       "−2.5/−3.3/−3.0 % at α = 2 for d = 4000/8000/16 000, sem ≤ 0.55 %; m +1.7/+1.9/+1.9 % "
       "and +1.0/+1.3/+1.2 %), while its training loss agrees within 0.3 % and the semantic "
       "branch's q and θ within 0.1 % at the same sizes (benchmarks/study_attention_ridge.py, "
       "GPU); the authors' own gradient-descent means at d = 1000 (their repository's "
       "empirics/results_mean_standardA.csv) have m = 0.2618 at α = 2 against their theory "
       "table's 0.2586, +1.3 %; the gap closes as λ grows (≤ 1.1 % at λ = 0.02, "
       "≤ 0.8 % at λ ≥ 0.05). At "
       "λ = 0.01 the risk's Hessian at the minimiser has its smallest eigenvalue near 0.1 λ: the "
       "replica-symmetric overlaps of this nearly flat non-convex minimum are off by a few per "
       "cent while its energy is right, as replica symmetry breaking would make them; not "
       "established beyond that")


def _agreement(name: str, branch: str) -> Agreement:
    """Theory-vs-simulation rows of ``name`` on ``branch``: 3 sem + cubature + finite size (+ the
    positional branch's finding for q and m)."""
    rs = RS_POSITIONAL.get(name, 0.0) if branch == "positional" else 0.0
    extra = FINITE_SIZE.get((branch, name), 0.0) + rs
    reason = (_WHAT[name].format(b=branch) + "; " + _STAT + _fs(branch, name)
              + (_RS.format(pct=round(100 * rs)) if rs else ""))
    return Agreement(name, reason=reason, rtol=CUBATURE + extra,
                     where=_on_branch(name, branch),
                     resolution=RES_BRANCH.get((branch, name), RES[name]),
                     applies=lambda p: branch in branches(p))


_TOY_CHECKS = (
        *(_agreement(name, b) for name in ("eg", "et", "q") for b in BRANCHES),
        _agreement("m", "positional"),
        _agreement("theta", "semantic"),
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
        Criterion("alpha_l", ">=", "alpha_c", source="theory",
                  applies=lambda p: p.branch == "both",
                  reason="the second threshold lies above the first: α_l > α_c (Sec. 3, Fig. 2 "
                  "and the phase diagram Fig. 3, where the authors' α_l(ω) is above α_c(ω) at "
                  "every ω, e.g. 1.451 vs 1.241 at ω = 0.3). An order test: it detects an α_l "
                  "too low by 16 % (to below α_c; a missing root, NaN, fails)", resolution=0.2),
        Criterion("alpha_l", "==", sum(AUTHORS_ALPHA_L_SIMULATED) / 2, source="theory",
                  atol=(AUTHORS_ALPHA_L_SIMULATED[1] - AUTHORS_ALPHA_L_SIMULATED[0]) / 2,
                  applies=is_default_setting,
                  reason="α_l, the root of ε_g(semantic; α) − ε_lin (Sec. 3, Fig. 2), against "
                  "the authors' own simulations (d = 1000 GD, their results_mean_standardA: "
                  "semantic run above their linear baseline at α = 1.4196, below at 1.5025); "
                  "the allowance is that bracket's half-width. Their theory value 1.4506 (the "
                  "phase diagram, Fig. 3) is 0.043 below ours (1.4941; GH 8⁴, 16⁴, 20⁴ rules "
                  "give ≈ 1.491, 1.493, 1.493): 0.014 of it from their ε_lin = 0.00199 (exact "
                  "0.001971) and "
                  "the rest from their semantic ε_g, 2 % below ours near α = 1.46 in their stored "
                  "table (their degree-7 cubature)",
                  resolution=AUTHORS_ALPHA_L_SIMULATED[1] - AUTHORS_ALPHA_L_SIMULATED[0]),
)

_HIST_RUN = "measured on seeds 0–2 (L = 10, T = 15, 20 epochs of 8000, 4000 test sequences)"
_HIST_CHECKS = (
    Criterion("hist_accuracy", ">=", 0.85, applies=_histogram,
              reason="both mechanisms solve the counting task (Sec. 2, Fig. 1; the authors' "
              "models reach 0.9988 ± 0.0004 positional and 0.9989 ± 0.0012 semantic after 200 "
              "epochs of 35 000 sequences): declared allowance 0.85 for our 20 epochs of 8000, "
              "far above the 0.54 of always answering the commonest count (1); restricted and "
              f"released; {_HIST_RUN}: positional 0.968, 0.985, 0.997 (released 0.997, 0.996, "
              "0.997), semantic 0.955, 0.913, 0.992 (released 0.964, 0.920, 0.997)"),
    Criterion("hist_positional_share", ">=", 0.99, applies=_histogram,
              where=_hist_rows("positional", "restricted"),
              reason="positional attention (Fig. 1, top row): the same map for every sequence "
              "(exact when queries and keys read the positions only: a check of the model and "
              f"the measure); {_HIST_RUN}: 1.000 on each"),
    Criterion("hist_token_share", ">=", 0.2, applies=_histogram,
              where=_hist_rows("semantic"),
              reason="semantic attention (Fig. 1, bottom row): the weights are set by which keys "
              "hold the query's token, restricted and after release (it stays semantic); "
              f"declared allowance 0.2 (1 for an exact matcher); {_HIST_RUN}: 0.51, 0.33, 0.85 "
              "(released 0.52, 0.32, 0.86)"),
    Criterion("hist_positional_share", "<=", 0.1, applies=_histogram,
              where=_hist_rows("semantic"),
              reason="the semantic map does not depend on position (Fig. 1, bottom row); "
              f"declared allowance 0.1; {_HIST_RUN}: ≤ 0.001"),
    Criterion("hist_token_share", "<=", 0.05, applies=_histogram,
              where=_hist_rows("positional"),
              reason="the positional solution does not match tokens, restricted and after "
              "release (it stays positional, the paper's point that the mechanism found "
              "depends on the initialisation); declared allowance 0.05; "
              f"{_HIST_RUN}: 0.000 (released 0.008, 0.003, 0.003; its positional share "
              "falls to 0.35: Adam moves the freed semantic weights at its step size, the map "
              "becomes content-dependent without matching tokens)"),
)

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
        "alpha_l": Observable("α above which the semantic branch's test error is below the "
                              "linear baseline's"),
        "hist_accuracy": Observable("histogram: exact-count test accuracy", ("init", "stage")),
        "hist_positional_share": Observable("histogram: share of the variance of the "
                                            "attention weights (i ≠ j) explained by (i, j)",
                                            ("init", "stage")),
        "hist_token_share": Observable("histogram: share of that variance explained by "
                                       "1[x_i = x_j]", ("init", "stage")),
    },
    checks=tuple(_toy_only(c) for c in _TOY_CHECKS) + _HIST_CHECKS,
    theory_only={
        "et_gap": "the difference of the two checked ε_t rows; its sign is checked through "
        "semantic_wins (its size, ~1e-4 at α = 1, is below the simulation's resolution)",
    },
    figure=figure,
    dims={"branch": branches, "init": lambda p: MECHANISMS, "stage": lambda p: STAGES},
    smoke={"alpha": (1.0,), "d": 40, "n_test": 200, "draws": 2},
    protocol=6,
    seeds=3,
    full={"d": 2000, "draws": 8},
    full_seeds=3,
    variants=(Variant("histogram", {"task": "histogram"}, "the counting task of Fig. 1 (no "
                      "theory): positional and semantic attention, restricted and released",
                      seeds=3),),
)
