"""Wide networks trained with weight decay provably exhibit neural collapse (arXiv 2410.04887).

Jacot, Súkeník, Wang, Mondelli, ICLR 2025. A network of L1 ReLU layers followed by a linear head
of L2 ≥ 2 bias-free linear layers is trained on ½‖Z_L − Y‖² + (λ/2) Σ_ℓ ‖W_ℓ‖_F² (one-hot Y, K
balanced classes). The paper proves:

* **balancedness** (Sec. 4): for two consecutive linear layers the loss-gradient parts of
  d(W_{ℓ+1}ᵀW_{ℓ+1})/dt and d(W_ℓW_ℓᵀ)/dt cancel, so D_ℓ = W_{ℓ+1}ᵀW_{ℓ+1} − W_ℓW_ℓᵀ obeys
  dD_ℓ/dt = −2λ D_ℓ under gradient flow. For GD with step η, W ← (1 − ηλ)W − ηG gives
  D ← (1 − ηλ)² D + η²(G_{ℓ+1}ᵀG_{ℓ+1} − G_ℓG_ℓᵀ), and near a critical point (G = −λW) the
  last term is η²λ²D: ‖D‖_F decays per step at rate r = −log(1 − 2ηλ + 2η²λ²);
* **NC1** (Thm 3.1): small training error ε1 and balancedness ε2 collapse the within-class
  variability of the head features, NC1 = O((ε1 + √ε2)²);
* **NC2/NC3** (Thm 3.1, Sec. 5): balanced head layers after the first share their singular
  values, so the conditioning of the class means M̄_ℓ propagates geometrically along the head,
  κ(M̄_ℓ) = κ(M̄_{L1+1})^{(L−ℓ)/(L2−1)} when the head interpolates (M̄_L = I_K), i.e. log κ(M̄_ℓ)
  is a straight line in ℓ; the last weights align with the class means (NC3).

With λ = 0 nothing drives the balancedness, and none of this need happen: that run is the
negative control of every check. NC1 = tr Σ_W / tr Σ_B (the paper's figures); NC2 = κ(M̄) of
the *uncentred* class means (orthogonal frame for MSE without bias): :mod:`theorylab.measure.
collapse`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np

from theorylab.experiments.base import (
    Agreement,
    Criterion,
    Experiment,
    NonNegative,
    Observable,
    ParamsBase,
    Positive,
    Range,
    Relation,
)
from theorylab.experiments.plotting import simulated, theory_vs_simulation

__all__ = ["EXPERIMENT", "Params", "figure", "head_positions", "simulate", "theory"]


@dataclass(frozen=True)
class Params(ParamsBase):
    """Quick protocol: K = 4 classes of 30 points, 3 ReLU + 3 linear layers of width 32."""

    lam: Annotated[
        tuple[float, ...], NonNegative(1.0), "weight decay λ of each run (0: the control)"
    ] = (5e-3, 0.0)
    gd_lr: Annotated[tuple[float, ...], Positive(1.0), "GD step η of each run (one per λ)"] = (
        0.05,
        0.01,
    )
    classes: Annotated[int, Range(2, 10), "number K of classes"] = 4
    per_class: Annotated[int, Range(2, 170), "training points per class"] = 30
    dim: Annotated[int, Range(1, 10_000), "input dimension of the clusters"] = 16
    subclusters: Annotated[int, Range(1, 100), "Gaussian sub-clusters per class"] = 3
    spread: Annotated[float, NonNegative(100.0), "within-sub-cluster standard deviation"] = 0.5
    width: Annotated[int, Range(2, 4096), "width of every hidden layer"] = 32
    relu_layers: Annotated[int, Range(1, 20), "L1: ReLU layers"] = 3
    linear_layers: Annotated[int, Range(3, 20), "L2: linear layers of the head (≥ 3)"] = 3
    adam_steps: Annotated[int, Range(0, 10_000_000), "Adam steps (lr adam_lr)"] = 4000
    adam_lr: Annotated[float, Positive(1.0), "Adam learning rate"] = 1e-3
    gd_steps: Annotated[int, Range(2, 10_000_000), "plain GD steps after Adam"] = 10000
    records: Annotated[int, Range(4, 1000), "imbalance records along the GD phase"] = 50
    workers: Annotated[int, Range(1, 64), "processes (one run per λ)"] = 2

    relations = (
        Relation("gd_lr", lambda p: len(p.gd_lr) == len(p.lam), "gd_lr needs one step per lam"),
        Relation("lam", lambda p: len(set(p.lam)) == len(p.lam), "lam values must be distinct"),
        Relation("records", lambda p: p.records <= p.gd_steps, "records must be <= gd_steps"),
        Relation(
            "gd_lr",
            lambda p: all(2 * e * lam < 1 for e, lam in zip(p.gd_lr, p.lam, strict=False)),
            "gd_lr * lam must be < 1/2 (the decay factor 1 − 2ηλ + 2η²λ² must be < 1)",
        ),
    )


def depth(p: Params) -> int:
    return p.relu_layers + p.linear_layers


def head_positions(p: Params) -> np.ndarray:
    """(L − ℓ)/(L2 − 1) for the interior head layers ℓ = L1 + 2 … L − 1: the position of
    log κ(M̄_ℓ) on the straight line from its value at ℓ = L1 + 1 (1) to ℓ = L (0)."""
    ell = np.arange(p.relu_layers + 2, depth(p))
    return (depth(p) - ell) / (p.linear_layers - 1)


# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------

_MEASURED = (
    "nc1",
    "kappa",
    "nc3",
    "balancedness",
    "accuracy",
    "train_mse",
    "negativity",
    "imbalance_trace",
    "nc1_trace",
)


def theory(p: Params) -> dict:
    """Decay rate of the imbalance per GD step and the head's conditioning profile.

    Measured-only observables (NC metrics, which the paper bounds but does not compute) are NaN.
    """
    lam, eta = np.asarray(p.lam, dtype=float), np.asarray(p.gd_lr, dtype=float)
    pos = head_positions(p)
    shapes = {
        "nc1": (len(lam), depth(p)),
        "kappa": (len(lam), depth(p)),
        "nc3": (len(lam),),
        "balancedness": (len(lam), p.linear_layers - 1),
        "accuracy": (len(lam),),
        "train_mse": (len(lam),),
        "negativity": (len(lam), p.relu_layers),
        "imbalance_trace": (len(lam), p.records),
        "nc1_trace": (len(lam), p.records),
    }
    return {
        "balance_rate": -np.log1p(-2 * eta * lam + 2 * eta**2 * lam**2),
        "kappa_position": np.broadcast_to(pos, (len(lam), pos.size)).copy(),
        **{name: np.full(shapes[name], np.nan) for name in _MEASURED},
    }


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------


def _data(p: Params, seed: int):
    from theorylab.models.classification_data import gaussian_clusters, one_hot
    from theorylab.seeding import Streams

    rng = Streams(EXPERIMENT.slug, seed).numpy("data")
    x, labels = gaussian_clusters(
        rng, classes=p.classes, per_class=p.per_class, dim=p.dim, clusters=p.subclusters,
        spread=p.spread,
    )  # fmt: skip
    return x, labels, one_hot(labels, p.classes)


def train_one(p: Params, seed: int, index: int) -> dict:
    """Adam then GD for run ``index`` (λ, η); every seed's runs share data and initialisation
    (common random numbers). Returns the NC metrics by layer and the GD traces."""
    import torch

    from theorylab.measure import collapse as m
    from theorylab.models.linear_head import head_features, head_forward, train_linear_head
    from theorylab.models.mlp import init_mlp
    from theorylab.seeding import Streams

    x_np, labels, y_np = _data(p, seed)
    x, y = torch.tensor(x_np), torch.tensor(y_np)
    widths = [x.shape[1], *([p.width] * (depth(p) - 1)), p.classes]
    weights = init_mlp(widths, generator=Streams(EXPERIMENT.slug, seed).torch("init"))
    probe = depth(p) - 2  # features Z_(L−1): the last hidden layer of the head

    def monitor(ws):
        return np.array([m.nc1(head_features(ws, x, p.relu_layers)[0][probe][0], labels)])

    run = train_linear_head(
        weights, x, y, relu_layers=p.relu_layers, lam=[p.lam[index]], etas=[p.gd_lr[index]],
        adam_steps=p.adam_steps, adam_lr=p.adam_lr, gd_steps=p.gd_steps, records=p.records,
        monitor=monitor,
    )  # fmt: skip
    ws = run.weights
    feats, pre = head_features(ws, x, p.relu_layers)
    feats, pre = [f[0] for f in feats], [z[0] for z in pre]
    kappa = np.array([m.nc2_condition(f, labels) for f in feats])
    head = np.log(kappa[p.relu_layers :])  # ℓ = L1 + 1 … L
    gaps = run.imbalance[:, 0, :]  # (records, pairs)
    half = p.records // 2
    rates = [m.decay_rate(gaps[half:, i], run.steps[half:]) for i in range(gaps.shape[1])]
    out = head_forward(ws, x, p.relu_layers)[0]
    l1 = p.relu_layers
    return {
        "balance_rate": float(np.mean(rates)),
        "kappa_position": (head[1:-1] - head[-1]) / (head[0] - head[-1]),
        "nc1": np.array([m.nc1(f, labels) for f in feats]),
        "kappa": kappa,
        "nc3": m.nc3_alignment(ws[-1][0], feats[-2], labels),
        "balancedness": np.array(
            [m.pair_balancedness(ws[i][0], ws[i + 1][0]) for i in range(l1, depth(p) - 1)]
        ),
        "accuracy": float((out.argmax(1).numpy() == labels).mean()),
        "train_mse": float((out - y).square().sum(1).mean()),
        "negativity": np.array([m.negativity(z) for z in pre]),
        "imbalance_trace": gaps.mean(1) / gaps[0].mean(),
        "nc1_trace": run.monitored[:, 0],
    }


def simulate(p: Params, seed: int, device: str = "cpu") -> dict:
    """One training per λ (spread over ``workers`` processes), float64 on the CPU."""
    from theorylab.models.parallel import run_keyed

    runs = run_keyed(train_one, list(range(len(p.lam))), (p, seed), p.workers)
    return {key: np.stack([np.asarray(runs[i][key]) for i in range(len(p.lam))]) for key in runs[0]}


# --------------------------------------------------------------------------------------------
# Figure
# --------------------------------------------------------------------------------------------


def figure(result):
    """NC1 and κ(M̄_ℓ) by layer, log κ along the head against the straight line, and the
    imbalance along GD against e^{−rt}, with and without weight decay."""
    import matplotlib.pyplot as plt

    p, th = result.params, result.theory
    ell = np.arange(1, depth(p) + 1)
    fig, axes = plt.subplots(1, 4, figsize=(17, 4))
    for i, lam in enumerate(p.lam):
        label = f"λ = {lam:g}"
        theory_vs_simulation(axes[0], None, None, ell, simulated(result, "nc1", i), sim_label=label)
        theory_vs_simulation(
            axes[1], None, None, ell, simulated(result, "kappa", i), sim_label=label
        )
        k = simulated(result, "kappa", i)
        if k is not None:
            head = np.log(k[0][p.relu_layers :])
            h_ell = ell[p.relu_layers :]
            line = head[-1] + (head[0] - head[-1]) * (depth(p) - h_ell) / (p.linear_layers - 1)
            c = theory_vs_simulation(
                axes[2],
                h_ell,
                line,
                h_ell,
                (head, k[1][p.relu_layers :] / k[0][p.relu_layers :]),
                ls="--",
                sim_label=label,
            )
            axes[2].plot([], [], color=c, ls="--", label=f"straight line (theory), {label}")
        tr = simulated(result, "imbalance_trace", i)
        steps = np.linspace(p.gd_steps / p.records, p.gd_steps, p.records)
        rate = float(th["balance_rate"][i])
        theory_vs_simulation(
            axes[3],
            steps,
            tr[0][-1] * np.exp(-rate * (steps - steps[-1])) if tr is not None else None,
            steps,
            tr,
            ls="--",
            label=f"e⁻ʳᵗ, r = {rate:.3g} (theory)",
            sim_label=label,
        )
    for ax in axes[:2]:
        ax.axvline(p.relu_layers + 0.5, color="gray", ls=":")
    axes[0].set(yscale="log", xlabel="layer ℓ", ylabel="NC1 = tr Σ_W / tr Σ_B", title="NC1")
    axes[1].set(yscale="log", xlabel="layer ℓ", ylabel="κ(M̄_ℓ)", title="NC2: class-mean κ")
    axes[2].set(xlabel="head layer ℓ", ylabel="log κ(M̄_ℓ)", title="conditioning along the head")
    axes[3].set(
        yscale="log",
        xlabel="GD step",
        ylabel="‖D‖_F / first record",
        title="imbalance of the linear pairs",
    )
    for ax in axes:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------------------------

#: declared allowance of the GD decay-rate row: the O(η²) remainder η²(G_(ℓ+1)ᵀG_(ℓ+1) −
#: G_ℓG_ℓᵀ − λ²D) away from an exact critical point (Sec. 4 derivation)
RATE_RTOL = 0.01
#: declared allowance of the straight-line law: a relative imbalance ε2 ≈ 0.01 moves log κ by
#: O(ε2), i.e. ≈ 2 % of the position over the head's log-κ range ≈ 0.5 (Weyl, first order)
KAPPA_RTOL = 0.03
#: NC1 below this: within-class spread ≤ 10 % of the between-class spread ("collapsed")
NC1_COLLAPSED = 0.1
#: NC3 cosine above this: last weights aligned with the class means
NC3_ALIGNED = 0.9


def _decayed(p: Params, c) -> bool:
    return c["lam"] > 0


def _control(p: Params, c) -> bool:
    return c["lam"] == 0


def _hidden_head(p: Params, c) -> bool:
    return p.relu_layers < c["layer"] < depth(p)


EXPERIMENT = Experiment(
    slug="neural_collapse",
    arxiv="2410.04887",
    title="Wide neural networks trained with weight decay provably exhibit neural collapse",
    claim=(
        "Networks ending in at least two linear layers and trained with weight decay exhibit "
        "neural collapse end to end: weight decay balances the linear layers (the imbalance "
        "W_(ℓ+1)ᵀW_(ℓ+1) − W_ℓW_ℓᵀ decays at rate 2λ), and small training error plus balancedness "
        "collapse the within-class variability of the head features (NC1); a well-conditioned "
        "head makes the class means orthogonal (NC2) and aligned with the last weights (NC3), "
        "with log κ of the class means decreasing linearly along the head."
    ),
    params=Params,
    theory=theory,
    simulate=simulate,
    observables={
        "balance_rate": Observable(
            "per-step decay rate of ‖D_ℓ‖_F in GD (mean over pairs)", ("lam",)
        ),
        "kappa_position": Observable(
            "(log κ(M̄_ℓ) − log κ(M̄_L)) / (log κ(M̄_(L1+1)) − log κ(M̄_L)), interior head ℓ",
            ("lam", "head"),
        ),
        "nc1": Observable("NC1 = tr Σ_W / tr Σ_B of the features Z_ℓ", ("lam", "layer")),
        "kappa": Observable("κ of the uncentred class means of Z_ℓ (NC2)", ("lam", "layer")),
        "nc3": Observable("mean_c cos(w_c, μ_c) of W_L and Z_(L−1) (NC3)", ("lam",)),
        "balancedness": Observable("‖W_(ℓ+1)ᵀW_(ℓ+1) − W_ℓW_ℓᵀ‖_F/‖W_ℓW_ℓᵀ‖_F", ("lam", "pair")),
        "accuracy": Observable("training accuracy", ("lam",)),
        "train_mse": Observable("(1/N) Σ_i ‖f(x_i) − y_i‖²", ("lam",)),
        "negativity": Observable("‖Z̃ − relu(Z̃)‖_op/‖Z̃‖_op of the ReLU layers", ("lam", "relu")),
        "imbalance_trace": Observable("‖D‖_F along GD over its first record", ("lam", "record")),
        "nc1_trace": Observable("NC1 of Z_(L−1) along GD", ("lam", "record")),
    },
    dims={
        "layer": lambda p: tuple(range(1, depth(p) + 1)),
        "head": lambda p: tuple(range(p.relu_layers + 2, depth(p))),
        "pair": lambda p: tuple(range(p.relu_layers + 1, depth(p))),
        "relu": lambda p: tuple(range(1, p.relu_layers + 1)),
        "record": lambda p: tuple(range(1, p.records + 1)),
    },
    checks=(
        Criterion(
            "accuracy", "==", 1.0,
            reason="precondition of Thm 3.1 (small training error ε1): every run fits its "
            "training set. Measured 1.0 for λ = 5e-3 and 0, seeds 0–2",
        ),
        Agreement(
            "balance_rate",
            rtol=RATE_RTOL,
            where=_decayed,
            reason="Sec. 4: dD/dt = −2λD for every linear pair; for GD near a critical point "
            "‖D‖_F shrinks by 1 − 2ηλ + 2η²λ² per step. Rate fitted on the second half of the "
            "GD phase, mean over pairs; 3 sem + 1 % declared for the O(η²) remainder away from "
            "an exact critical point. Measured 5.00090e-4, 5.00094e-4, 5.00091e-4 vs 5.00000e-4 "
            "(η = 0.05, λ = 5e-3), seeds 0–2 (resolution 1.02 %). The λ = 0 run is its control",
            resolution=0.03,
        ),
        Agreement(
            "balance_rate",
            atol=5e-6,
            where=_control,
            reason="negative control of Sec. 4: with λ = 0 the law predicts no decay at all "
            "(D changes only by η²(G_(ℓ+1)ᵀG_(ℓ+1) − G_ℓG_ℓᵀ)); allowance 5e-6 = 1 % of the "
            "5e-4 rate of the decayed run. Measured |rate| ≤ 2.1e-9 (imbalance stays ≈ 1)",
        ),
        Criterion(
            "balancedness", "<=", 0.05,
            where=_decayed,
            reason="precondition of Thm 3.1 (balancedness ε2 small), reached by the decay of "
            "Sec. 4 after 10⁴ GD steps (e⁻⁵ of the post-Adam imbalance ≈ 1); 0.05 declared. "
            "Measured 0.008–0.017 (λ = 5e-3, seeds 0–2); 0.96–1.03 at λ = 0 (the control)",
        ),
        Agreement(
            "kappa_position",
            rtol=KAPPA_RTOL,
            where=_decayed,
            reason="NC2 propagation (Thm 3.1, Sec. 5): balanced head layers after the first share "
            "singular values, so log κ(M̄_ℓ) falls linearly from ℓ = L1+1 to L, κ(M̄_ℓ) = "
            "κ(M̄_(L1+1)) raised to (L−ℓ)/(L2−1) when M̄_L = I. The finite residual leaves κ(M̄_L) = "
            "1.009–1.015, so the position is measured between the two ends; 3 sem + 3 % declared "
            "for the measured imbalance ε2 = 0.008–0.017 (first order: ε2 over a log-κ range of "
            "≈ 0.5). Measured 0.4953, 0.4932, 0.5041 (seeds 0–2; mean 0.4976 ± 0.0033) vs 0.5. "
            "Resolution ≈ 5.5 %: the 3 % goal is not reached at the quick size (declared 6 %)",
            resolution=0.06,
        ),
        Criterion(
            "kappa_position",
            ">=",
            lambda p: (1 + 3 * KAPPA_RTOL) * head_positions(p)[None, :] * np.ones((len(p.lam), 1)),
            where=_control,
            reason="negative control: with λ = 0 (no balancing) the straight-line law must miss "
            "— κ stays large through the head; required: above the law by more than 3× the "
            "3 % allowance of the λ > 0 row. Measured 1.04, 1.28, 0.92 vs 0.5 (seeds 0–2)",
        ),
        Criterion(
            "nc1", "<=", NC1_COLLAPSED,
            where=lambda p, c: _decayed(p, c) and _hidden_head(p, c),
            reason="NC1 (Thm 3.1): with ε1, ε2 small the hidden head features collapse, NC1 = "
            "O((ε1 + √ε2)²); 'collapsed' declared as NC1 ≤ 0.1. Measured 0.010–0.013 (λ = 5e-3)",
        ),
        Criterion(
            "nc1", ">=", NC1_COLLAPSED,
            where=lambda p, c: _control(p, c) and _hidden_head(p, c),
            reason="negative control: without weight decay the head is not balanced and the "
            "hidden head features do not collapse (same 0.1 line). Measured 1.2–4.5 (λ = 0)",
        ),
        Criterion(
            "nc3", ">=", NC3_ALIGNED,
            where=_decayed,
            reason="NC3 (Thm 3.1): rows of W_L align with the class means of Z_(L−1) when the "
            "head is balanced and well conditioned; 'aligned' declared as cos ≥ 0.9. Measured "
            "0.990, 0.992, 0.983 (λ = 5e-3, seeds 0–2)",
        ),
        Criterion(
            "nc3", "<=", NC3_ALIGNED,
            where=_control,
            reason="negative control: without weight decay the last weights need not align "
            "(same 0.9 line). Measured 0.12, 0.17, 0.15 (λ = 0, seeds 0–2)",
        ),
    ),
    theory_only={
        name: "measured only (NaN in theory): the paper bounds it up to constants; shown in the "
        "figure"
        for name in ("kappa", "train_mse", "negativity", "imbalance_trace", "nc1_trace")
    },
    figure=figure,
    protocol=1,
    smoke={
        "adam_steps": 20,
        "gd_steps": 20,
        "records": 4,
        "per_class": 6,
        "width": 8,
        "workers": 1,
    },
    seeds=3,
    full={"classes": 10, "per_class": 100, "width": 128, "gd_steps": 40000, "adam_steps": 8000},
    cpu_only="not ported to accelerators: small networks, job pool on CPU cores",
)
