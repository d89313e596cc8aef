"""Shallow diffusion networks provably learn hidden low-dimensional structure (arXiv 2410.11275).

Boffi, Jacot, Tu, Ziemann (ICLR 2025). Data x_0 = U z lie on an unknown k-dimensional subspace of
R^D; the score of the Ornstein–Uhlenbeck-diffused law at time t is
s_t(x) = −(I − UUᵀ)x/σ_t² + U ∇log q_t(Uᵀx): a linear map plus a Lipschitz function of k
variables (:mod:`theorylab.theory.diffusion_score`). Empirical denoising score matching (DSM)
over an F1 (Barron) ball — a wide shallow ReLU network with weight decay — then learns it with
squared error ≲ poly(D) · n^{−2/(k+5)}: the exponent depends on k, not on D, whereas without
structure the minimax rate is n^{−2/(D+4)}. The DSM loss differs from the score error by a
constant: L_t(s) − L_t(s_t) = E_{p_t}‖s − s_t‖², in particular L_t(0) − L_t(s_t) = E‖s_t‖².

The rate is an upper bound for ERM, not an equality for SGD: the checks are that the measured
exponents are at least the bound's 2/(k+5) for every D, and that they depend on D less than
the unstructured exponents 2/(D+4) do. Latent law: M Gaussians of variance τ² with means on the
unit circle (k = 2), one noise level t.
"""

from __future__ import annotations

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
    Positive,
    Range,
    Relation,
    TheoryIdentity,
)
from theorylab.experiments.plotting import simulated, theory_vs_simulation
from theorylab.theory.diffusion_score import (
    LatentMixture,
    dsm_gap_of_true_score,
    f1_rate_exponent,
    minimax_rate_exponent,
    ou_schedule,
    score_norm,
    subspace_score,
)
from theorylab.theory.power_law import loglog_slope

__all__ = ["EXPERIMENT", "Params", "figure", "simulate", "theory"]

SLUG = "barron_diffusion"


@dataclass(frozen=True)
class Params(ParamsBase):
    """Setting of arXiv 2410.11275's subspace example (defaults: the quick size)."""

    ambient: Annotated[tuple[int, ...], Range(2, 256), "ambient dimensions D"] = (4, 32)
    n: Annotated[tuple[int, ...], Range(8, 1_000_000), "training-set sizes"] = (
        64,
        256,
        1024,
        4096,
    )
    k: Annotated[int, Choice(1, 2), "latent dimension (subspace dimension)"] = 2
    components: Annotated[int, Range(1, 16), "Gaussians of the latent mixture"] = 4
    tau: Annotated[float, Range(0.02, 2.0), "latent std of each Gaussian"] = 0.15
    t: Annotated[float, Range(0.05, 3.0), "diffusion time (σ_t² = 1 − e⁻²ᵗ)"] = 0.3
    width: Annotated[int, Range(4, 4096), "hidden units of the score network"] = 128
    steps: Annotated[int, Range(10, 100_000), "SGD steps"] = 3000
    batch: Annotated[int, Range(8, 8192), "minibatch (with replacement, fresh noise)"] = 512
    lr: Annotated[float, Positive(1.0), "SGD learning rate (cosine decay to 0)"] = 0.02
    momentum: Annotated[float, Range(0.0, 0.99), "SGD momentum"] = 0.9
    weight_decay: Annotated[float, Range(0.0, 1.0), "coupled L2 weight decay"] = 1e-4
    n_test: Annotated[int, Range(100, 1_000_000), "test points from p_t"] = 20_000
    n_mc: Annotated[int, Range(100, 10_000_000), "Monte-Carlo pairs (x_0, ξ) for the DSM gap"] = (
        200_000
    )

    relations = (
        Relation("ambient", lambda p: min(p.ambient) > p.k, "every D must exceed k"),
        Relation("n", lambda p: len(set(p.n)) >= 2, "n needs two distinct sizes for a slope"),
        Relation(
            "ambient", lambda p: list(p.ambient) == sorted(set(p.ambient)), "ambient must increase"
        ),
    )


def mixture(p: Params) -> LatentMixture:
    return LatentMixture.circle(p.components, p.tau, k=p.k)


# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------


def theory(p: Params) -> dict:
    """Rate exponents, E‖s_t‖² and the DSM gap L_t(0) − L_t(s_t) per D (NaN: measured only)."""
    mix = mixture(p)
    shape = (len(p.ambient), len(p.n))
    lo, hi = min(p.ambient), max(p.ambient)
    return {
        "rate_exponent": f1_rate_exponent(p.k),
        "unstructured_exponent": np.array([minimax_rate_exponent(d) for d in p.ambient]),
        "unstructured_gap": minimax_rate_exponent(lo) - minimax_rate_exponent(hi),
        "score_norm": np.array([score_norm(mix, p.t, d, nodes=30) for d in p.ambient]),
        "dsm_gap": np.array([dsm_gap_of_true_score(mix, p.t, d, nodes=8) for d in p.ambient]),
        "decay_exponent": np.full(len(p.ambient), np.nan),
        "exponent_gap": math.nan,
        "subspace_error": np.full(shape, np.nan),
        "orthogonal_error": np.full(shape, np.nan),
    }


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------


def _latent(mix: LatentMixture, count: int, rng: np.random.Generator) -> np.ndarray:
    which = rng.integers(0, len(mix.weights), count)
    return mix.means[which] + math.sqrt(mix.tau2) * rng.standard_normal((count, mix.dim))


def simulate(p: Params, seed: int, device: str = "cpu") -> dict:
    """Per D: a random subspace U, n_max training points x_0 = U z, one shallow ReLU network with
    a linear skip per n trained together by DSM (SGD + momentum), its score error on n_test
    fresh points of p_t split along U and orthogonally; and the DSM gap L_t(0) − L_t(s_t) of the
    data's exact score by Monte Carlo over (x_0, ξ). The exact score is the data model's
    (ground truth, like a teacher), not a prediction under test."""
    import torch

    from theorylab.models.score_net import DSMConfig, ShallowScoreNets, train_dsm
    from theorylab.seeding import Streams

    streams = Streams(SLUG, seed)
    mix = mixture(p)
    alpha, sigma2 = ou_schedule(p.t)
    sigma = math.sqrt(sigma2)
    config = DSMConfig(p.steps, p.batch, p.lr, p.momentum, p.weight_decay)
    sub = np.empty((len(p.ambient), len(p.n)))
    orth = np.empty_like(sub)
    gap = np.empty(len(p.ambient))
    for i, dim in enumerate(p.ambient):
        rng = streams.numpy(f"problem D={dim}")
        basis, _ = np.linalg.qr(rng.standard_normal((dim, p.k)))
        train = _latent(mix, max(p.n), rng) @ basis.T
        x_test = alpha * _latent(mix, p.n_test, rng) @ basis.T + sigma * rng.standard_normal(
            (p.n_test, dim)
        )
        s_test = subspace_score(x_test, basis, mix, p.t)
        gen = streams.torch(f"training D={dim}")
        nets = ShallowScoreNets(len(p.n), dim, p.width, gen)
        train_dsm(
            nets, torch.tensor(train, dtype=torch.float32), list(p.n), alpha, sigma, config, gen
        )
        with torch.no_grad():
            pred = nets(torch.tensor(x_test, dtype=torch.float32).expand(len(p.n), -1, -1))
        err = pred.double().numpy() - s_test
        along = err @ basis
        sub[i] = (along**2).sum(-1).mean(-1)
        orth[i] = (err**2).sum(-1).mean(-1) - sub[i]
        gap[i] = _dsm_gap_mc(p, mix, basis, streams.numpy(f"dsm D={dim}"))
    exponents = -loglog_slope(p.n, sub)
    return {
        "subspace_error": sub,
        "orthogonal_error": orth,
        "decay_exponent": exponents,
        "exponent_gap": float(exponents[0] - exponents[-1]),
        "dsm_gap": gap,
    }


def _dsm_gap_mc(p: Params, mix: LatentMixture, basis, rng, chunk: int = 50_000) -> float:
    """Monte Carlo of L_t(0) − L_t(s_t) = E[‖ξ/σ‖² − ‖s_t(x_t) + ξ/σ‖²] (paired on the same
    draws of x_0 and ξ), x_t = α x_0 + σ ξ."""
    alpha, sigma2 = ou_schedule(p.t)
    sigma = math.sqrt(sigma2)
    total = 0.0
    for start in range(0, p.n_mc, chunk):
        size = min(chunk, p.n_mc - start)
        x0 = _latent(mix, size, rng) @ basis.T
        xi = rng.standard_normal((size, basis.shape[0]))
        resid = subspace_score(alpha * x0 + sigma * xi, basis, mix, p.t) + xi / sigma
        total += float(((xi / sigma) ** 2).sum() - (resid**2).sum())
    return total / p.n_mc


# --------------------------------------------------------------------------------------------
# Figure
# --------------------------------------------------------------------------------------------


def figure(result):
    """Subspace score error vs n per D (log–log) with slopes −2/(k+5) (the bound) and
    −2/(D+4) (unstructured); orthogonal error dashed."""
    import matplotlib.pyplot as plt

    p = result.params
    n = np.asarray(p.n, dtype=float)
    fig, ax = plt.subplots(figsize=(6, 4.2))
    sub = simulated(result, "subspace_error")
    orth = simulated(result, "orthogonal_error")
    for i, dim in enumerate(p.ambient):
        color = theory_vs_simulation(
            ax,
            None,
            None,
            n,
            None if sub is None else (sub[0][i], sub[1][i]),
            sim_label=f"subspace error, D = {dim}",
        )
        if sub is not None:
            ax.plot(n, sub[0][i], color=color, lw=0.8)
        if orth is not None:
            ax.plot(n, orth[0][i], color=color, ls="--", lw=0.8, label=f"orthogonal, D = {dim}")
    anchor = sub[0][0][0] if sub is not None else 1e-2
    rate = result.theory["rate_exponent"]
    ax.plot(n, anchor * (n / n[0]) ** (-rate), "k:", label=f"n⁻²ᐟ⁽ᵏ⁺⁵⁾ = n^−{rate:.3f} (bound)")
    for i, dim in enumerate(p.ambient):
        e = result.theory["unstructured_exponent"][i]
        ax.plot(
            n, anchor * (n / n[0]) ** (-e), color="gray", lw=0.6, label=f"n⁻²ᐟ⁽ᴰ⁺⁴⁾, D = {dim}"
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training samples n")
    ax.set_ylabel("E‖ŝ − s_t‖² on p_t")
    ax.set_title(f"k = {p.k} latent dims, t = {p.t}")
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------------------------

_MEASURED = "measured only (NaN in theory): the paper bounds its rate, see decay_exponent"
_RATE = (
    "least-squares slope of log subspace error vs log n per D, mean over seeds; shallow ReLU "
    "score networks with a linear skip trained by DSM with SGD + momentum"
)
EXPERIMENT = Experiment(
    slug=SLUG,
    arxiv="2410.11275",
    title="Shallow diffusion networks provably learn hidden low-dimensional structure",
    claim=(
        "Learning the score of a diffusion model with shallow (Barron-space) networks from n "
        "samples of data supported on an unknown k-dimensional subspace of ℝᴰ gives a squared "
        "score error ≲ poly(D)·n⁻²ᐟ⁽ᵏ⁺⁵⁾: the exponent depends on the latent dimension k, "
        "not on D (no curse of dimensionality), with no architecture tailored to the structure. "
        "Denoising score matching learns it because its loss differs from the score error by a "
        "constant."
    ),
    params=Params,
    theory=theory,
    simulate=simulate,
    observables={
        "rate_exponent": Observable("2/(k+5): exponent of the bound on the squared score error"),
        "unstructured_exponent": Observable(
            "2/(D+4): minimax exponent without structure", ("ambient",)
        ),
        "unstructured_gap": Observable(
            "2/(D_min+4) − 2/(D_max+4): the drop of the unstructured exponent from D_min to D_max"
        ),
        "score_norm": Observable("E‖s_t‖² under p_t", ("ambient",)),
        "dsm_gap": Observable(
            "L_t(0) − L_t(s_t) (DSM loss of the zero field minus that of the exact score)",
            ("ambient",),
        ),
        "decay_exponent": Observable("−slope of log subspace error vs log n", ("ambient",)),
        "exponent_gap": Observable("decay exponent at D_min minus at D_max (signed)"),
        "subspace_error": Observable("E‖Uᵀ(ŝ − s_t)‖² on p_t", ("ambient", "n")),
        "orthogonal_error": Observable("E‖(I − UUᵀ)(ŝ − s_t)‖² on p_t", ("ambient", "n")),
    },
    checks=(
        Agreement(
            "dsm_gap",
            reason="DSM identity behind the paper's estimator (L_t(s) = E‖s − s_t‖² + C_t, "
            "C_t = D/σ_t² − E‖s_t‖², so L_t(0) − L_t(s_t) = E‖s_t‖²): 2-k-dimensional "
            "Gauss–Hermite integral of the DSM loss vs a paired Monte Carlo over 200 000 "
            "draws of (x_0, ξ) per seed; 3 sem over seeds",
            resolution=0.01,
        ),
        TheoryIdentity(
            "dsm_gap",
            "score_norm",
            atol=1e-5,
            reason="the DSM identity between two "
            "independent quadratures: of the DSM loss, and of ‖s_t‖² = (D − k)/σ_t² + "
            "‖∇log q_t‖² (score decomposition on the subspace)",
        ),
        Criterion(
            "decay_exponent",
            ">=",
            "rate_exponent",
            reason=_RATE + ". The paper's bound (Theorem 3.3: error ≲ poly(D)·n⁻²ᐟ⁽ᵏ⁺⁵⁾) is an "
            "upper bound, so the measured exponent must be at least 2/(k+5) at every D; "
            "measured ≈ 0.55 at D = 4 and 32 (sem 0.06–0.12). Declared resolution 250 %: the "
            "bound is loose, a rate overstated by less goes undetected",
            resolution=2.5,
        ),
        Criterion(
            "exponent_gap",
            "<=",
            "unstructured_gap",
            reason=_RATE + ". The exponent does not depend on D (Theorem 3.3): the exponent at "
            "D_min minus that at D_max (signed, mean over seeds; measured ≈ 0.01) must stay "
            "below the drop 2/(D_min+4) − 2/(D_max+4) of the unstructured rate (0.194 for D = 4, "
            "32). One-sided and coarse (declared resolution 250 %): the per-seed exponents "
            "scatter by ±0.1–0.2",
            resolution=2.5,
        ),
    ),
    theory_only={
        "unstructured_exponent": "the unstructured comparison rates (figure); their "
        "D-dependence is checked as unstructured_gap",
        "subspace_error": _MEASURED,
        "orthogonal_error": "measured only (NaN in theory): the linear skip's optimisation "
        "floor, not part of the rate",
    },
    figure=figure,
    smoke={
        "ambient": (3, 4),
        "n": (16, 32),
        "steps": 20,
        "batch": 32,
        "width": 8,
        "n_test": 200,
        "n_mc": 500,
    },
    protocol=1,
    seeds=3,
    full={"steps": 3000, "batch": 1024, "width": 256, "n": (64, 256, 1024, 4096, 16384)},
    full_seeds=5,
    cpu_only="not ported to accelerators: small score networks",
)
