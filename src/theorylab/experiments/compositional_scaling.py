"""How DNNs break the curse of dimensionality: compositionality and symmetry learning
(arXiv 2407.05664).

Jacot, Choi, Wen, ICLR 2025. Deep networks read as accordion networks (AccNets) f = f_L ∘ … ∘ f_1
of shallow blocks f_ℓ(z) = W_ℓ relu(V_ℓ z + b_ℓ) have a covering-number generalisation bound
(Theorem 1, :mod:`theorylab.measure.complexity`)

    r · Π_ℓ ρ_ℓ · Σ_ℓ (R_ℓ/ρ_ℓ) √(d_{ℓ−1} + d_ℓ) / √N

that involves the F1 norms R_ℓ, the Lipschitz constants ρ_ℓ and the outer dimensions d_ℓ but
not the inner widths. For a composition f* = h ∘ g with g: R^{d_in} → R^{d_mid} of Sobolev
smoothness ν_g and h: R^{d_mid} → R^{d_out} of smoothness ν_h, the regularised deep network
learns at the rate of the harder factor,

    error ∝ N^{−r},  r = min(½, ν_g/d_in, ν_h/d_mid)

(up to log factors), while a shallow network pays for the roughness of f* in all d_in variables.
The F1 machinery also gives the variant r' = min(½, ν_g/(d_in+3), ν_h/(d_mid+3)) (W^{ν,2} ⊂ F1
once ν ≥ (d+3)/2, balance of approximation and R/√N below). Both readings order the three cases
of the quick protocol the same way; which one (and whether "error" is the RMSE or its square)
matches the absolute exponents is a question for the full protocol.

Data as in the authors' generator: X ~ N(0, I_{d_in}), g and h independent Matérn GP samples
with unit length scale and RMS distance (:mod:`theorylab.models.matern`), ``draws`` independent
draws per seed; the training sets of one draw are nested (the first N rows) and share its test
set, so the slope over N sees one function. The width comparison of the bound is made at a
stronger weight decay ``bound_lam``: Theorem 1 speaks of regularised minimisers, and at the weak
λ of the scaling runs 1000 Adam steps leave the networks near their (width-dependent)
initialisation scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np

from theorylab.experiments.base import (
    Criterion,
    Experiment,
    Observable,
    ParamsBase,
    Positive,
    Range,
    Relation,
)
from theorylab.experiments.plotting import simulated, theory_vs_simulation
from theorylab.theory.power_law import loglog_slope

__all__ = ["EXPERIMENT", "Params", "exponents", "figure", "in_f1", "simulate", "theory"]


@dataclass(frozen=True)
class Params(ParamsBase):
    """Quick protocol: d_in = 6, d_mid = 2, three (ν_g, ν_h) cases, N = 256 … 2048."""

    nu_g: Annotated[tuple[float, ...], Range(0.5, 20.0), "Matérn ν of g, one per case"] = (
        4.5, 4.5, 0.5,
    )  # fmt: skip
    nu_h: Annotated[tuple[float, ...], Range(0.5, 20.0), "Matérn ν of h, one per case"] = (
        4.5, 0.5, 4.5,
    )  # fmt: skip
    d_in: Annotated[int, Range(1, 100), "input dimension"] = 6
    d_mid: Annotated[int, Range(1, 100), "dimension of g's output (h's input)"] = 2
    d_out: Annotated[int, Range(1, 100), "output dimension"] = 2
    n_train: Annotated[tuple[int, ...], Range(8, 100_000), "training-set sizes N"] = (
        256, 512, 1024, 2048,
    )  # fmt: skip
    n_test: Annotated[int, Range(8, 100_000), "fixed test points"] = 512
    draws: Annotated[int, Range(1, 64), "independent data draws per seed (slopes averaged)"] = 1
    blocks: Annotated[int, Range(2, 10), "AccNet blocks L of the deep network"] = 3
    inner: Annotated[int, Range(2, 4096), "inner width w of every deep block"] = 64
    outer: Annotated[int, Range(1, 1024), "outer width d_ℓ between deep blocks"] = 16
    shallow: Annotated[int, Range(2, 65536), "width of the shallow network"] = 128
    lam: Annotated[float, Positive(1.0), "weight decay λ on ‖θ‖² (coupled L2)"] = 1e-4
    steps: Annotated[int, Range(1, 1_000_000), "full-batch Adam steps (cosine decay)"] = 1000
    lr: Annotated[float, Positive(1.0), "initial Adam learning rate"] = 2e-3
    width_factor: Annotated[int, Range(2, 16), "inner-width multiple for the bound check"] = 2
    bound_n: Annotated[int, Range(8, 100_000), "N of the width comparison of the bound"] = 512
    bound_lam: Annotated[float, Positive(1.0), "weight decay of the width comparison"] = 1e-2
    bound_inner: Annotated[int, Range(2, 4096), "inner width w of the width comparison"] = 32
    bound_outer: Annotated[int, Range(1, 1024), "outer width of the width comparison"] = 8
    bound_steps: Annotated[int, Range(1, 1_000_000), "Adam steps of the width comparison"] = 5000
    rank_rtol: Annotated[float, Range(1e-6, 1.0), "rank of W_ℓ: s_i > rtol·s_1"] = 0.1
    jitter: Annotated[float, Range(1e-12, 1e-2), "Cholesky jitter of the GP samples"] = 1e-6
    workers: Annotated[int, Range(1, 64), "processes for the trainings of a seed"] = 2

    relations = (
        Relation("nu_h", lambda p: len(p.nu_h) == len(p.nu_g), "nu_h needs one value per nu_g"),
        Relation("nu_g", lambda p: len(p.nu_g) >= 2, "nu_g needs at least two cases"),
        Relation(
            "nu_h",
            lambda p: bool(np.all(np.diff(exponents(p)["rate"]) < 0)),
            "the cases (nu_g, nu_h, with d_in, d_mid) must come in strictly decreasing r",
        ),
        Relation(
            "n_train",
            lambda p: len(p.n_train) >= 2 and list(p.n_train) == sorted(set(p.n_train)),
            "n_train must be at least two increasing sizes",
        ),
        Relation("bound_n", lambda p: p.bound_n in p.n_train, "bound_n must be one of n_train"),
    )


# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------


def exponents(p: Params) -> dict[str, np.ndarray]:
    """r, the F1 variant r' and the shallow rate min(½, min(ν_g, ν_h)/d_in), per case."""
    g, h = np.asarray(p.nu_g, dtype=float), np.asarray(p.nu_h, dtype=float)
    return {
        "rate": np.minimum(0.5, np.minimum(g / p.d_in, h / p.d_mid)),
        "rate_f1": np.minimum(0.5, np.minimum(g / (p.d_in + 3), h / (p.d_mid + 3))),
        "rate_shallow": np.minimum(0.5, np.minimum(g, h) / p.d_in),
    }


def in_f1(p: Params) -> np.ndarray:
    """Per case: both factors in F1 (W^{ν,2}(R^d) ⊂ F1 once ν ≥ (d+3)/2), so f* = h∘g is a
    composition of bounded-F1 functions and Theorem 1's complexity of a minimiser is finite."""
    g, h = np.asarray(p.nu_g, dtype=float), np.asarray(p.nu_h, dtype=float)
    return (g >= (p.d_in + 3) / 2) & (h >= (p.d_mid + 3) / 2)


_MEASURED = ("exponent_deep", "exponent_shallow", "exponent_drop", "rmse_deep", "rmse_shallow",
             "bound", "bound_width_ratio", "frobenius_width_ratio",
             "bottleneck_rank", "target_rms")  # fmt: skip


def theory(p: Params) -> dict:
    """Predicted exponents per case. Measured-only observables are NaN (the bound's width
    independence at a fixed function is exact, a unit test of
    :mod:`theorylab.measure.complexity`; for separately trained widths it is measured)."""
    rates = exponents(p)
    cases, grid = len(p.nu_g), (len(p.nu_g), len(p.n_train))
    shapes = {"rmse_deep": grid, "rmse_shallow": grid, "bound": grid,
              "exponent_drop": (len(_pairs(cases)),)}  # fmt: skip
    return {**rates, **{name: np.full(shapes.get(name, (cases,)), np.nan) for name in _MEASURED}}


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------


def _data(p: Params, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``(draws, max N + n_test, d_in)`` (training rows first) and targets
    ``(draws, cases, ·, d_out)``, f*(x) = h(g(x)); every draw and case an independent sample."""
    from theorylab.models.matern import composition
    from theorylab.seeding import Streams

    rng = Streams(EXPERIMENT.slug, seed).numpy("data")
    xs, ys = [], []
    for _ in range(p.draws):
        x = rng.standard_normal((max(p.n_train) + p.n_test, p.d_in))
        xs.append(x)
        ys.append([
            composition(rng, x, nu_g=a, nu_h=b, d_mid=p.d_mid, d_out=p.d_out, jitter=p.jitter)[1]
            for a, b in zip(p.nu_g, p.nu_h, strict=True)
        ])  # fmt: skip
    return np.stack(xs), np.asarray(ys)


def _layout(p: Params, family: str) -> tuple[list[int], list[int]]:
    if family == "shallow":
        return [p.d_in, p.d_out], [p.shallow]
    if family in ("narrow", "wide"):
        factor = p.width_factor if family == "wide" else 1
        return [p.d_in, *([p.bound_outer] * (p.blocks - 1)), p.d_out], [
            p.bound_inner * factor
        ] * p.blocks
    return [p.d_in, *([p.outer] * (p.blocks - 1)), p.d_out], [p.inner] * p.blocks


def train_job(p: Params, seed: int, x: np.ndarray, y: np.ndarray, family: str, n: int):
    """One batch of networks of ``family`` on the first ``n`` points of every (draw, case),
    full batch; ``narrow``/``wide`` (the width comparison) use the first draw and ``bound_lam``.
    Returns the test RMSE (draws, cases) and the weights (axis 0 = draw · cases + case)."""
    import torch

    from theorylab.models.accnet import accnet_forward, init_accnet
    from theorylab.models.training import TrainingConfig, train
    from theorylab.seeding import Streams

    bound = family in ("narrow", "wide")
    if bound:
        x, y = x[:1], y[:1]
    draws, cases, top = y.shape[0], y.shape[1], max(p.n_train)
    lam, steps = (p.bound_lam, p.bound_steps) if bound else (p.lam, p.steps)
    xt = torch.tensor(x, dtype=torch.float32).repeat_interleave(cases, 0)
    yt = torch.tensor(y, dtype=torch.float32).flatten(0, 1)
    dims, widths = _layout(p, family)
    gen = Streams(EXPERIMENT.slug, seed).torch(f"{family}-{n}")
    params = init_accnet(dims, widths, batch=draws * cases, generator=gen)

    def objective(ps):
        mse = (accnet_forward(ps, xt[:, :n]) - yt[:, :n]).square().sum(-1).mean(-1)
        return mse + lam * sum(q.square().flatten(1).sum(1) for q in ps)

    config = TrainingConfig(adam_steps=steps, lr=p.lr, lr_final=p.lr * 1e-2, lbfgs_calls=0)
    train(params, objective, config)
    with torch.no_grad():
        err = (accnet_forward(params, xt[:, top:]) - yt[:, top:]).square().sum(-1)
    return err.mean(-1).sqrt().numpy().reshape(draws, cases), [q.detach() for q in params]


def _pairs(cases: int) -> list[tuple[int, int]]:
    """(i, j), i < j: case i is predicted faster than case j (cases in decreasing r)."""
    return [(i, j) for i in range(cases) for j in range(i + 1, cases)]


def _bounds(weights, radius: float, n: int, rtol: float) -> tuple[np.ndarray, np.ndarray]:
    """Theorem 1 complexity and the product-of-Frobenius-norms baseline of every network."""
    from theorylab.measure.complexity import accnet_bound, frobenius_product_bound
    from theorylab.models.accnet import split_blocks

    blocks = split_blocks(weights)
    nets = [[(v[b], c[b], w[b]) for v, c, w in blocks] for b in range(weights[0].shape[0])]
    return (np.array([accnet_bound(net, radius, n, rtol) for net in nets]),
            np.array([frobenius_product_bound(net, radius, n) for net in nets]))  # fmt: skip


def simulate(p: Params, seed: int, device: str = "cpu") -> dict:
    """Deep AccNets and shallow nets on every (draw, case, N); the deep nets' Theorem 1
    complexity; the complexity at inner width w and ``width_factor`` · w at ``bound_n``."""
    from theorylab.measure.spectra import numerical_rank
    from theorylab.models.accnet import split_blocks
    from theorylab.models.parallel import run_jobs

    x, y = _data(p, seed)
    jobs = [(f, n) for n in p.n_train for f in ("deep", "shallow")]
    jobs += [("narrow", p.bound_n), ("wide", p.bound_n)]
    cost = {"deep": p.draws * p.steps, "shallow": p.draws * p.steps / 3,
            "narrow": p.bound_steps / 4, "wide": p.bound_steps * p.width_factor / 4}  # fmt: skip
    jobs.sort(key=lambda j: -j[1] * cost[j[0]])  # longest first (rough cost)
    out = dict(zip(jobs, run_jobs(train_job, [(p, seed, x, y, *j) for j in jobs], p.workers),
                   strict=True))  # fmt: skip
    cases = len(p.nu_g)
    log_deep = np.log(np.stack([out["deep", n][0] for n in p.n_train], -1))  # (draws, cases, N)
    log_flat = np.log(np.stack([out["shallow", n][0] for n in p.n_train], -1))
    bound = np.stack([
        _bounds(out["deep", n][1], float(np.linalg.norm(x[:, :n], axis=-1).max()), n,
                p.rank_rtol)[0].reshape(p.draws, cases)
        for n in p.n_train
    ], -1)  # fmt: skip
    radius = float(np.linalg.norm(x[0, : p.bound_n], axis=-1).max())
    narrow = _bounds(out["narrow", p.bound_n][1], radius, p.bound_n, p.rank_rtol)
    wide = _bounds(out["wide", p.bound_n][1], radius, p.bound_n, p.rank_rtol)
    inner = split_blocks(out["narrow", p.bound_n][1])[:-1]
    ranks = [max(numerical_rank(w[c], rtol=p.rank_rtol) for _, _, w in inner)
             for c in range(cases)]  # fmt: skip
    deep, flat = np.exp(log_deep.mean(0)), np.exp(log_flat.mean(0))  # geometric means
    exp_deep = -loglog_slope(p.n_train, deep)
    return {
        "rmse_deep": deep,
        "rmse_shallow": flat,
        "exponent_deep": exp_deep,
        "exponent_shallow": -loglog_slope(p.n_train, flat),
        "exponent_drop": np.array([exp_deep[i] - exp_deep[j] for i, j in _pairs(cases)]),
        "bound": bound.mean(0),
        "bound_width_ratio": wide[0] / narrow[0],
        "frobenius_width_ratio": wide[1] / narrow[1],
        "bottleneck_rank": np.asarray(ranks, dtype=float),
        "target_rms": np.sqrt((y[:, :, max(p.n_train):] ** 2).sum(-1).mean(-1)).mean(0),
    }


# --------------------------------------------------------------------------------------------
# Figure
# --------------------------------------------------------------------------------------------


def figure(result):
    """Test RMSE vs N (log-log) per case, deep and shallow, with the predicted slopes N^{−r}
    and N^{−r'} drawn through the deep net's first point."""
    import matplotlib.pyplot as plt

    p, th = result.params, result.theory
    n = np.asarray(p.n_train, dtype=float)
    fig, axes = plt.subplots(1, len(p.nu_g), figsize=(5 * len(p.nu_g), 4), squeeze=False)
    for c, ax in enumerate(axes[0]):
        deep, flat = simulated(result, "rmse_deep", c), simulated(result, "rmse_shallow", c)
        if deep is not None:
            start = deep[0][0]
            for key, ls in (("rate", "-"), ("rate_f1", ":")):
                ax.plot(n, start * (n / n[0]) ** -th[key][c], color="black", ls=ls,
                        label=f"N^(−{th[key][c]:.3g}) ({key}, theory)")  # fmt: skip
        theory_vs_simulation(ax, None, None, n, deep, sim_label="deep AccNet (sim)")
        theory_vs_simulation(ax, None, None, n, flat, marker="s", sim_label="shallow (sim)")
        ax.set(xscale="log", yscale="log", xlabel="N", ylabel="test RMSE",
               title=f"ν_g = {p.nu_g[c]:g}, ν_h = {p.nu_h[c]:g}")  # fmt: skip
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------------------------

_FULL_ONLY = (
    "absolute exponent: the paper's rate is asymptotic (N → ∞, global minimiser); at the quick "
    "size only the order of the cases is checked (exponent_drop), the exponents are reported"
)

EXPERIMENT = Experiment(
    slug="compositional_scaling",
    arxiv="2407.05664",
    title="How DNNs break the curse of dimensionality: compositionality and symmetry learning",
    claim=(
        "Deep networks can learn compositions f* = h∘g of functions with bounded F1 norm: a "
        "covering-number bound that depends on the F1 norms, Lipschitz constants and outer "
        "dimensions of the blocks of an accordion network, but not on its widths, gives the "
        "rate N^−r, r = min(1/2, ν_g/d_in, ν_h/d_mid), set by the harder of 'g in d_in "
        "dimensions' and 'h in d_mid dimensions', with phase transitions between the regimes; "
        "a shallow network pays for the roughness of f* in all d_in dimensions."
    ),
    params=Params,
    theory=theory,
    simulate=simulate,
    observables={
        "rate": Observable("r = min(½, ν_g/d_in, ν_h/d_mid)", ("case",)),
        "rate_f1": Observable("r' = min(½, ν_g/(d_in+3), ν_h/(d_mid+3))", ("case",)),
        "rate_shallow": Observable("min(½, min(ν_g, ν_h)/d_in)", ("case",)),
        "exponent_deep": Observable("−slope of log RMSE vs log N, deep AccNet", ("case",)),
        "exponent_shallow": Observable("−slope of log RMSE vs log N, shallow net", ("case",)),
        "exponent_drop": Observable(
            "deep exponent of case i minus that of case j > i (cases in decreasing r)", ("pair",)
        ),
        "rmse_deep": Observable("test RMSE of the deep AccNet", ("case", "n_train")),
        "rmse_shallow": Observable("test RMSE of the shallow net", ("case", "n_train")),
        "bound": Observable("Theorem 1 complexity of the deep net", ("case", "n_train")),
        "bound_width_ratio": Observable(
            "Theorem 1 complexity at width_factor × inner width over that at the inner width, "
            "N = bound_n, λ = bound_lam",
            ("case",),
        ),
        "frobenius_width_ratio": Observable(
            "the same ratio for the product of Frobenius norms r Π‖V_ℓ‖‖W_ℓ‖/√N (baseline)",
            ("case",),
        ),
        "bottleneck_rank": Observable(
            "max rank (s_i > rank_rtol·s_1) of the inner W_ℓ, deep net at bound_n, bound_lam",
            ("case",),
        ),
        "target_rms": Observable("RMS of ‖f*(x)‖ on the test set", ("case",)),
    },
    dims={
        "case": lambda p: tuple(range(len(p.nu_g))),
        "pair": lambda p: tuple(f"{i}-{j}" for i, j in _pairs(len(p.nu_g))),
    },
    checks=(
        Criterion(
            "exponent_drop",
            ">=",
            0.0,
            reason="Sec. 4 (composition rate): the deep net's exponent follows r = min(½, ν_g/"
            "d_in, ν_h/d_mid), 0.5 for (ν_g, ν_h) = (4.5, 4.5) > 0.25 for (4.5, 0.5) > 0.083 "
            "for (0.5, 4.5) (r' = 0.5 > 0.1 > 0.056: same order); every pair must keep that "
            "order (drop ≥ 0, no allowance). Measured deep exponents (RMSE slope, N = 256 … "
            "2048) 0.314/0.185/0.107, 0.253/0.210/0.157, 0.258/0.186/0.095 on seeds 0, 1, 2; "
            "the rough pair is the fragile one (drops 0.078, 0.053, 0.091; two of six "
            "exploratory draws swapped it by 0.011 and 0.015)",
        ),
        Criterion(
            "bound_width_ratio",
            "==",
            1.0,
            atol=0.2,
            where=lambda p, c: bool(in_f1(p)[c["case"]]),
            reason="Theorem 1: the complexity r Π ρ_ℓ Σ (R_ℓ/ρ_ℓ) √(d_(ℓ−1) + d_ℓ)/√N has no "
            "inner width in it, so regularised minimisers of one problem at widths w and 2w "
            "have the same bound; ±20 % is a declared allowance for two separately trained "
            "networks that are not exact minimisers (5000 Adam steps, λ = 1e-2). Checked where "
            "f* = h∘g has both factors in F1 (ν ≥ (d+3)/2, Sec. 4: the (4.5, 4.5) case). "
            "Measured 0.805, 0.978, 0.999 on seeds 0, 1, 2; FRAGILE: two exploratory draws "
            "gave 1.19 and 1.59, and 2500 steps gave 1.27 on seed 0. Outside F1 it drifts "
            "(1.27 … 1.58 for (4.5, 0.5)); a √(#parameters) complexity (ratio √2) fails",
        ),
    ),
    theory_only={
        "rate": _FULL_ONLY,
        "rate_f1": _FULL_ONLY,
        "rate_shallow": _FULL_ONLY + " (depth advantage: full protocol only)",
        **{name: "measured only (NaN in theory); reported and drawn" for name in _MEASURED
           if name not in ("exponent_drop", "bound_width_ratio")},
    },
    figure=figure,
    protocol=2,
    smoke={
        "n_train": (16, 32), "n_test": 16, "steps": 5, "inner": 4, "outer": 2, "shallow": 8,
        "workers": 1, "bound_n": 16, "bound_inner": 4, "bound_outer": 2, "bound_steps": 5,
    },
    seeds=3,
    full={
        "d_in": 15, "d_mid": 3, "d_out": 20, "n_train": (500, 1000, 2000, 4000, 8000),
        "n_test": 2500, "inner": 300, "outer": 50, "shallow": 2000, "steps": 4000,
        "bound_n": 2000, "bound_inner": 150, "bound_outer": 50, "bound_steps": 20000, "draws": 2,
    },
    cpu_only="not ported to accelerators: small networks, job pool on CPU cores",
)
