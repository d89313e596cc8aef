"""Layer steps of Leaky ResNets (2405.17573, Sec. 3, Fig. 2): the variant ``layer_steps`` of
:mod:`theorylab.experiments.leaky_resnet` (``mode="layer_steps"``).

Jacot & Kaiser discretise the representation path with steps ρ_1 … ρ_L (Σρ_ℓ = 1). At large
effective depth the path jumps fast near the input and output and is slow in the bottleneck, so
equidistant steps under-resolve the jumps; they propose irregular steps
ρ_ℓ ∝ 1 + a(1/4 − |ℓ/L − 1/2|) and adaptive steps c_ℓ = ‖A_ℓ − A_{ℓ−1}‖/(ρ_ℓ‖A_ℓ‖),
ρ_ℓ ← c_ℓ⁻¹/Σc_i⁻¹ (updated every ``adapt_every`` Adam steps). Here the same network (one
initialisation, one batch, identical Adam chunks) at L̃ = ``step_leak`` and a few depths L is
trained with the three schemes on a three-stage teacher g3∘g2∘g1 (inner dimensions k_first, then
k); train cost and test error per scheme. The paper sees "a small but consistent advantage in
the test error when using adaptive or irregular ρ_ℓ" across L; at the quick size the adaptive
gain is resolved at the smallest L only (checked there, with the train cost and the learned step
profile of Fig. 2b); the gains at larger L and the irregular steps (a = 0.5: no gain) are
reported.
"""

from __future__ import annotations

import numpy as np

from theorylab.experiments.base import Criterion, Observable, pad_ragged
from theorylab.experiments.plotting import simulated

SLUG = "leaky_resnet"
#: the layer-step schemes of Sec. 3, in the order of the ``scheme`` axis
SCHEMES = ("equidistant", "irregular", "adaptive")
#: per-depth layer-step observables that a check reads (NaN in mode ``leaks``)
STEP_CHECKED = ("test_ratio", "train_ratio", "first_step", "last_step")
_DS = ("depths", "scheme")

def is_layer_steps(p) -> bool:
    return p.mode == "layer_steps"


#: The variant of Fig. 2a, scaled down: L̃ = 3, teacher d → 4 → 2 → d (paper 30 → 6 → 3 → 30),
#: N = 600 train and 1000 test points, L ∈ {4, 6, 10}, Adam only (the three schemes share one
#: batch: L-BFGS's common line search would couple them).
LAYER_STEPS = {"mode": "layer_steps", "k_first": 4, "n_points": 600, "n_test": 1000,
               "lbfgs_calls": 0}

#: a claimed gain must be a gain: the adaptive network equals the equidistant one when the update
#: does nothing (ratio and ρ·L exactly 1), so "< 1" is checked as "≤ 1 − 1e-3"
STRICT = 1.0 - 1e-3
_STRICT = "strict: ≤ 1 − 1e-3, exactly 1 is no gain"


def _smallest_depth(p, c) -> bool:
    return c["depths"] == min(p.depths)


def _largest_depth(p, c) -> bool:
    return c["depths"] == max(p.depths)


# --------------------------------------------------------------------------------------------
# Theory and simulation
# --------------------------------------------------------------------------------------------

def steps_theory(p) -> dict:
    """The layer-step observables: measured only (the check's reference is the paper's sign)."""
    n_d, n_s = len(p.depths), len(SCHEMES)
    names = ("step_leak_max", *STEP_CHECKED)
    per_depth = {name: np.full(n_d, np.nan) for name in names}
    return {"test_error": np.full((n_d, n_s), np.nan), "train_cost": np.full((n_d, n_s), np.nan),
            "test_rel": np.full((n_d, n_s), np.nan),
            "steps": np.full((n_d, max(p.depths)), np.nan), **per_depth}

def train_steps(p, seed: int, depth: int) -> dict:
    """Sec. 3 / Fig. 2a at one depth L: three copies of one initialisation at L̃ = step_leak,
    with equidistant, irregular and adaptive steps, trained as one batch by the same chunked
    Adam (+ L-BFGS with the steps frozen); only the adaptive network's steps are updated,
    between chunks. Train cost C and test error per scheme, and the learned adaptive steps."""
    import torch

    from theorylab.experiments.leaky_resnet import task
    from theorylab.measure.geodesic import irregular_steps
    from theorylab.models.leaky_resnet import adapt_steps_, leaky_loss, train_with_step_updates
    from theorylab.models.training import TrainingConfig
    from theorylab.seeding import Streams

    x, y, v, x_test, y_test = (torch.tensor(a) for a in task(p, seed))
    a0, read, n_s = v @ x, v.T, len(SCHEMES)
    uniform = np.full(depth, 1.0 / depth)
    rho = torch.tensor(np.stack([uniform, irregular_steps(depth, p.irregular_a), uniform]))
    leak = torch.full((n_s,), p.step_leak, dtype=torch.float64)
    gen = Streams(SLUG, seed).torch(f"init depth={depth}")
    w0 = torch.randn(1, depth, p.width, p.width + 1, generator=gen, dtype=torch.float64)
    weights = (w0.repeat(n_s, 1, 1, 1) * (p.init_var / p.width) ** 0.5).requires_grad_()
    config = TrainingConfig(adam_steps=p.adam_steps, lr=p.lr, lbfgs_calls=p.lbfgs_calls,
                            lbfgs_max_iter=p.lbfgs_max_iter)  # fmt: skip
    train_with_step_updates(
        [weights], lambda ws: leaky_loss(ws[0], a0, y, read, leak, rho, p.lam)[1], config,
        p.adapt_every, lambda: adapt_steps_(weights, a0, leak, rho, [SCHEMES.index("adaptive")]),
    )  # fmt: skip
    with torch.no_grad():
        train = leaky_loss(weights, a0, y, read, leak, rho, p.lam)[0].numpy()
        test = leaky_loss(weights, v @ x_test, y_test, read, leak, rho, p.lam)[0].numpy()
    return {"train_cost": train, "test_error": test, "steps": rho[-1].numpy()}

def _depth_job(p, seed: int, depth: int) -> dict:
    return train_steps(p, seed, int(depth))

def simulate_steps(p, seed: int) -> dict:
    """One batch of the three schemes per depth (in ``workers`` processes); ratios to the
    equidistant network of the same seed."""
    from theorylab.models.parallel import run_keyed

    res = run_keyed(_depth_job, list(p.depths)[::-1], (p, seed), p.workers)
    rows = [res[depth] for depth in p.depths]
    test, train = (np.array([r[key] for r in rows]) for key in ("test_error", "train_cost"))
    eq, ad = SCHEMES.index("equidistant"), SCHEMES.index("adaptive")
    return {
        "test_error": test,
        "train_cost": train,
        "test_rel": test / test[:, eq : eq + 1],
        "test_ratio": test[:, ad] / test[:, eq],
        "train_ratio": train[:, ad] / train[:, eq],
        "steps": pad_ragged([r["steps"] for r in rows], max(p.depths)),
        "step_leak_max": np.array([r["steps"].max() * p.step_leak for r in rows]),
        "first_step": np.array([r["steps"][0] * len(r["steps"]) for r in rows]),
        "last_step": np.array([r["steps"][-1] * len(r["steps"]) for r in rows]),
    }


# --------------------------------------------------------------------------------------------
# Figure and checks
# --------------------------------------------------------------------------------------------

def figure_steps(result):
    """Fig. 2a: test error vs L per layer-step scheme, absolute and relative to the equidistant
    network of the same seed (mean ± sem over seeds); Fig. 2b's steps: the learned adaptive
    ρ_ℓ·L against p_ℓ = ρ_1 + … + ρ_ℓ, per depth."""
    import matplotlib.pyplot as plt

    p = result.params
    fig, (ax, ax1, ax2) = plt.subplots(1, 3, figsize=(15, 4))
    for j, scheme in enumerate(SCHEMES):
        for a, name in ((ax, "test_error"), (ax1, "test_rel")):
            sim = simulated(result, name, (slice(None), j))
            if sim is not None:
                a.errorbar(p.depths, sim[0], yerr=sim[1], marker="o", capsize=3, label=scheme,
                           color=f"C{j}")  # fmt: skip
    ax.set(xlabel="depth L", ylabel="test error (output variance 1)",
           title=f"test error vs L, L̃ = {p.step_leak:g} (Fig. 2a)")  # fmt: skip
    ax1.set(xlabel="depth L", ylabel="test error / equidistant (same seed)",
            title="paired: adaptive < 1 checked at the smallest L")  # fmt: skip
    for i, depth in enumerate(p.depths):
        sim = simulated(result, "steps", i)
        if sim is not None:
            rho = sim[0][:depth]
            ax2.plot(np.cumsum(rho), rho * depth, marker="o", label=f"L = {depth}")
    ax2.axhline(1.0, color="black", ls=":", label="equidistant")
    ax2.set(xlabel="p_ℓ = ρ_1 + … + ρ_ℓ", ylabel="ρ_ℓ · L",
            title="learned adaptive steps (mean over seeds)")  # fmt: skip
    for a in (ax, ax1, ax2):
        a.legend(fontsize=7)
    fig.tight_layout()
    return fig

_MEASURED_STEPS = (
    "layer_steps: measured only (NaN in theory); the paper (Sec. 3, Fig. 2a) predicts no "
    "number, only signs: the adaptive gains and step profile are checked (test_ratio, "
    "train_ratio, first_step, last_step)"
)

STEP_OBSERVABLES = {
    "test_error": Observable("layer_steps: test error (1/N)‖f* − f‖² per scheme", _DS),
    "train_cost": Observable("layer_steps: train cost C(A_1) per scheme", _DS),
    "test_rel": Observable("layer_steps: test error / the equidistant one (paired)", _DS),
    "test_ratio": Observable("layer_steps: test error adaptive / equidistant", ("depths",)),
    "train_ratio": Observable("layer_steps: train cost adaptive / equidistant", ("depths",)),
    "steps": Observable("layer_steps: learned adaptive ρ_ℓ (NaN beyond L)",
                            ("depths", "step")),
    "first_step": Observable("layer_steps: adaptive ρ_1·L (< 1: more layers near the "
                             "input than equidistant)", ("depths",)),
    "last_step": Observable("layer_steps: adaptive ρ_L·L (< 1: more layers near the output)",
                            ("depths",)),
    "step_leak_max": Observable("layer_steps: max_ℓ ρ_ℓ L̃ of the adaptive steps (> 1: a "
                            "negative skip prefactor, Sec. 3)", ("depths",)),
}

STEP_CHECKS = (
    Criterion(
        "train_cost", "<=", 0.5, applies=is_layer_steps,
        reason="guard (as in the L̃ sweep: too large λ or L̃ gives the trivial zero "
        "solution): every scheme explains at least half of the output variance 1. Measured "
        "0.05–0.19 (seeds 0–2, all L and schemes)",
    ),
    Criterion(
        "test_ratio", "<=", STRICT, where=_smallest_depth, applies=is_layer_steps,
        resolution=0.14,
        reason="Sec. 3 / Fig. 2a: 'a small but consistent advantage in the test error when "
        "using adaptive' layer steps. The discretisation matters most at the smallest L "
        "(ρL̃ = 3/4 at L = 4), where the sign is checked: test error adaptive / equidistant "
        f"< 1 ({_STRICT}; the paired design — one initialisation, one batch, the same Adam "
        "chunks — removes the spread of data and initialisation, not that of the training "
        "paths). Measured 0.827, 0.958, 0.784 at L = 4, seeds 0–2 (0.994, 0.897 on seeds "
        "3, 4); at L = 6: 0.980, 0.976, 0.954 and L = 10: "
        "0.985, 1.008, 0.969 (seeds 3, 4: 1.025, 1.032; reported, not resolved). Margin on "
        "the mean 14 %",
    ),
    Criterion(
        "train_ratio", "<=", STRICT, where=_smallest_depth, applies=is_layer_steps,
        resolution=0.2,
        reason="Sec. 3: steps adapted to the separation of timescales resolve the fast "
        "jumps near the input and output that equidistant steps under-resolve, so at the "
        f"smallest L the same network fits better: train cost adaptive / equidistant < 1 "
        f"({_STRICT}). Measured 0.725, 0.876, 0.741 at L = 4, seeds 0–2 (0.927, 0.931 on "
        "seeds 3, 4); "
        "at L = 6: 0.93, 1.06, 0.87; L = 10: 1.04, 1.00, 0.92 (reported). Margin on the "
        "mean 22 %",
    ),
    Criterion(
        "first_step", "<=", STRICT, applies=is_layer_steps, resolution=0.35,
        reason="Fig. 2b: 'the adaptive ρ_ℓs result in more steps especially in the beginning "
        "of the network' (the fast jump from the input): the learned ρ_1·L < 1 (the "
        f"equidistant value; {_STRICT}) at every L. Measured 0.64, 0.65, 0.57 (L = 4), "
        "0.59, 0.63, 0.63 (L = 6), 0.55, 0.62, 0.60 (L = 10), seeds 0–2; margin ≥ 37 % on "
        "the mean",
    ),
    Criterion(
        "last_step", "<=", STRICT, where=_largest_depth, applies=is_layer_steps,
        resolution=0.3,
        reason="Fig. 2b: '… but also at the end' (the jump back to the outputs), seen at "
        "the paper's L = 18; checked at our largest L, ρ_L·L < 1: measured 0.64, 0.63, "
        "0.81 at L = 10, seeds 0–2 (margin 31 % on the mean); at L = 4 the last step is "
        "often the largest (1.30, 0.83, 1.82: reported)",
    ),
)

STEP_THEORY_ONLY = {
    name: _MEASURED_STEPS for name in ("test_error", "test_rel", "steps", "step_leak_max")
}
