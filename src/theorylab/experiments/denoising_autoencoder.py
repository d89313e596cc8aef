"""High-dimensional asymptotics of denoising autoencoders (arXiv 2305.11041).

Cui & Zdeborová, NeurIPS 2023. Noisy inputs ``y = √(1 − Δ) x + √Δ ξ`` of a two-cluster Gaussian
mixture ``x = s μ_e + z`` (``s = ±1``, ``z ~ N(0, Σ_s)``, ``‖μ_e‖ = 1``) are denoised by the tied
autoencoder ``f(y) = b y + w tanh(w·y/√d)/√d`` trained on ``n = α d`` samples by ridge-regularised
least squares (Sec. 2). As ``d → ∞`` (Sec. 3):

* at leading order (O(d) in the total squared error) the skip connection does all the work:
  the trained ``b`` tends to the optimal shrinkage ``b* = σ² c/(σ² c² + Δ)`` and the error per
  coordinate to ``mse° = σ² Δ/(σ² c² + Δ)``;
* the hidden unit changes the *total* error by an O(1) amount, given in closed form by the
  summary statistics ``q = ‖w‖²/d``, ``m = w·μ/d``, ``q_± = wᵀΣ_± w/d`` (the MSE formula of
  Sec. 3), which solve the replica saddle-point equations (Sec. 3; Eq. (13) in the authors'
  code) — :mod:`theorylab.theory.dae`;
* without the skip connection the autoencoder loses at O(d): like PCA it reaches only ``≈ σ²``
  per coordinate (Sec. 4).

The simulation trains the DAE in float64 by L-BFGS (several restarts, convergence reported) and
evaluates the *exact* test error of the trained weights on the mixture (an infinite paired test
set, :func:`theorylab.models.dae.population_error`), so the O(1) excess over the skip-only
denoiser ``r(y) = b̂ y`` (fitted by least squares on the same data) carries no test-set noise.

Real data (Sec. 4; the paper uses MNIST 1 vs 7): ``covariance=digits`` feeds the theory with the
class means and covariances of scikit-learn's digits 1 vs 7 (358 images, d = 64, the authors'
preprocessing, :mod:`theorylab.models.digits`); the DAE trains on αd images and is tested on the
held-out rest (a random split per seed), exact in the noise. It is the variant ``digits``, with
checks of its own (:data:`DIGITS_CHECKS`): at d = 64 its rows carry finite-size deviations of
up to 15 % (Gaussian data with the same statistics show deviations of the same size), which the
3 % resolution of the d = 500 rows cannot absorb.
"""

from __future__ import annotations

import dataclasses
import functools
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
    Variant,
)
from theorylab.experiments.plotting import simulated, theory_vs_simulation
from theorylab.experiments.result import seed_output, with_control_variates
from theorylab.models.digits import two_class_digits
from theorylab.theory.dae import (
    ClusterGeometry,
    hidden_unit_error,
    pca_matrix_error,
    pca_total_error,
    rescaling_error,
    rescaling_total_error,
    skip_weight,
    solve_saddle_point,
    trained_skip,
    wishart_factors,
)

__all__ = ["EXPERIMENT", "Params", "figure", "simulate", "theory"]

SLUG = "denoising_autoencoder"


@dataclass(frozen=True)
class Params(ParamsBase):
    """Setting of arXiv 2305.11041 (defaults: isotropic clusters, the paper's λ = 0.1)."""

    alpha: Annotated[
        tuple[float, ...], Range(0.05, 20.0), "sample ratios n/d (the grid of every curve)"
    ] = (0.5, 1.0, 2.0)
    Delta: Annotated[
        tuple[float, ...], Range(0.0, 1.0, low_open=True, high_open=True),
        "noise variances Δ = σ_e² (y = √(1−Δ) x + √Δ ξ)",
    ] = (0.04, 0.25, 0.64)
    lam: Annotated[float, Positive(100.0), "ridge penalty λ on w (Sec. 2)"] = 0.1
    skip: Annotated[bool, "train the skip connection b (false: b = 0, the plain autoencoder)"] = (
        True
    )
    covariance: Annotated[
        str, Choice("isotropic", "wishart", "digits"),
        "cluster covariances: s2·I, the authors' s2·F Fᵀ with F of shape d × 1.4d, d × 1.2d "
        "(N(0, 1/k) entries, numpy RandomState(4) and (456)), or 'digits': real data, the "
        "class means and covariances of scikit-learn's digits 1 vs 7 (the simulation trains on "
        "a random subset of those images, tests on the rest; d = 64, s2 unused)",
    ] = "isotropic"
    s2: Annotated[float, Positive(10.0), "cluster variance per coordinate σ²"] = 0.1
    d: Annotated[int, Range(8, 4000), "input dimension of the simulation (and of the Wishart "
                 "theory)"] = 500
    restarts: Annotated[int, Range(1, 20), "L-BFGS restarts per fit (the best loss is kept)"] = 2
    sets: Annotated[
        int, Range(1, 1000),
        "independent training sets (digits: random splits) per seed; the sem pools every set of "
        "every seed",
    ] = 30

    relations = (
        Relation("d", lambda p: p.covariance != "digits" or p.d == 64,
                 "covariance=digits needs d = 64 (8 × 8 images)"),
        Relation("alpha", lambda p: p.covariance != "digits" or max(p.alpha) <= 4.0,
                 "covariance=digits: alpha must be at most 4 (≥ 100 of the 358 images held out)"),
    )


# --------------------------------------------------------------------------------------------
# Setting: cluster covariances
# --------------------------------------------------------------------------------------------


def geometry(p: Params) -> ClusterGeometry:
    """The prior side of the saddle point: isotropic, the Wishart matrices at ``p.d``, or the
    digits' empirical class statistics (the matrix cases built once, with Σ_+'s eigenbasis)."""
    if p.covariance == "isotropic":
        return ClusterGeometry.isotropic(p.s2)
    return _matrix_geometry(p.covariance, p.d, p.s2)


@functools.cache
def _matrix_geometry(covariance: str, d: int, s2: float) -> ClusterGeometry:
    if covariance == "digits":
        data = two_class_digits()
        geo = ClusterGeometry.from_data(data.cov_plus, data.cov_minus, data.mean)
    else:
        fp, fm = wishart_factors(d)
        geo = ClusterGeometry.from_matrices(s2 * fp @ fp.T, s2 * fm @ fm.T, np.ones(d))
    geo.frame  # noqa: B018 — the eigendecomposition, once
    return geo


# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------


def theory(p: Params) -> dict:
    """Summary statistics and test errors of the trained DAE over the (Δ, α) grid."""
    geo = geometry(p)
    delta = np.asarray(p.Delta, dtype=float)[:, None]
    alpha = np.asarray(p.alpha, dtype=float)[None, :]
    st = solve_saddle_point(geo, alpha, delta, p.lam, skip=p.skip)
    shape = st.q.shape
    sig2, d, mn2 = geo.sigma2, p.d, geo.mean_norm2
    b_star = skip_weight(sig2, delta)
    # the O(d) part: the best rescaling at this d (E‖b y − x‖² is an exact quadratic in b; its
    # minimiser is b* + O(1/d)), or the zero denoiser without the skip
    b_best = trained_skip(sig2, delta, d, mean_norm2=mn2)
    best = rescaling_total_error(b_best, sig2, delta, d, mn2)
    # the trained skip is b* + O(1/d) (its stationarity condition, theory.dae.trained_skip)
    b_fit = trained_skip(sig2, delta, d, st.train_phi_h, mn2) if p.skip else b_best
    baseline = rescaling_total_error(b_fit, sig2, delta, d, mn2) if p.skip else d * sig2 + mn2
    # the hidden unit's O(1) change of the error at the skip it is trained with: b* + O(1/d)
    # (evaluated at b* instead it is off by −0.7/−0.4/−0.2 % at Δ = 0.04, α = 0.5/1/2, d = 500,
    # which the simulation resolves); b = 0 without the skip
    b_unit = np.broadcast_to(b_fit, shape) if p.skip else st.b
    excess = hidden_unit_error(st.q, st.m, st.q_plus, st.q_minus, b_unit, delta)
    if p.covariance == "digits":  # the top principal direction of the data's second moment
        pca = np.broadcast_to(pca_matrix_error(geo, delta), shape)
    else:
        mean_var = sig2 if geo.is_isotropic else 0.5 * float(
            geo.mu @ (geo.sigma_plus + geo.sigma_minus) @ geo.mu
        ) / d
        pca = pca_total_error(sig2, delta, d, alpha, mean_var)
    return {
        "q": st.q,
        "m": st.m,
        "cosine": st.cosine,
        "V": st.V,
        "b": np.broadcast_to(b_fit, shape).copy(),
        "b_star": np.broadcast_to(b_star, shape).copy(),
        "excess": excess,
        "mse": (baseline + excess) / d,
        "mse_rescale": np.broadcast_to(best / d, shape).copy(),
        "mse_pca": pca / d,
        "mse_leading": np.broadcast_to(rescaling_error(sig2, delta), shape).copy(),
        "solver": st.status,
    }


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------


def simulate(p: Params, seed: int, device: str = "cpu") -> dict:
    """``p.sets`` independent training sets through :func:`one_training_set`: their mean, and
    the sets themselves as the seed's draws (the sem pools every set of every seed)."""
    from theorylab.seeding import Streams

    streams = Streams(SLUG, seed)
    sets = [one_training_set(p, streams, k, device) for k in range(p.sets)]
    return seed_output(with_control_variates(sets, CONTROLLED, "direction_controls"))


#: observables adjusted by the set's three mean-direction controls
#: (:func:`theorylab.models.dae.direction_controls`: the sample's own noise power, clean power
#: and their cross term along μ_e, each of exactly zero mean), with leave-one-out coefficients
#: over the seed's sets (:func:`theorylab.experiments.result.with_control_variates`: unbiased
#: for any coefficients). They set how well the hidden unit finds μ_e; in a pilot of 30 sets at
#: d = 500 the per-set variance of m drops to 6–24 %, of q to 27–53 %, of the cosine to
#: 29–82 %, of the excess to 57–98 %. b and the per-coordinate errors of the skip-only denoiser
#: and PCA are left raw; real data (digits) has no controls.
CONTROLLED = ("q", "m", "cosine", "excess", "mse")


def one_training_set(p: Params, streams, k: int, device: str = "cpu") -> dict:
    """Draw n_max = max(α) d training pairs, train the DAE at every (Δ, α), measure.

    One clean training set and one noise draw serve the whole grid (the first ⌊αd⌉ samples; the
    same ξ for every Δ: common random numbers). Per grid point: the DAE (best of ``restarts``
    L-BFGS fits), the least-squares rescaling ``b̂ y`` and PCA of the clean data (top
    eigenvector); then the exact test errors of the three
    (:func:`theorylab.models.dae.training_pool`: on the mixture, or on the held-out digits).
    """
    import torch

    from theorylab.models.dae import (
        direction_controls,
        pca_direction,
        rescaling_fit,
        train_dae,
        training_pool,
    )
    from theorylab.models.device import as_device

    gen = streams.torch(f"data {k}")
    dev = as_device(device)
    d = p.d
    n_max = max(max(1, round(a * d)) for a in p.alpha)
    x, mu, error, pca_err = training_pool(p.covariance, d, p.s2, n_max, gen)
    x = x.to(dev)
    xi = torch.randn(*x.shape, generator=gen, dtype=torch.float64).to(dev)
    init = streams.torch(f"initialisation {k}")
    shape = (len(p.Delta), len(p.alpha))
    out = {k: np.empty(shape) for k in
           ("q", "m", "cosine", "b", "excess", "mse", "mse_rescale", "mse_pca")}
    for j, a in enumerate(p.alpha):
        n = max(1, round(a * d))
        e = pca_direction(x[:n])
        for i, delta in enumerate(p.Delta):
            y = math.sqrt(1.0 - delta) * x[:n] + math.sqrt(delta) * xi[:n]
            fit = train_dae(y, x[:n], p.lam, skip=p.skip, restarts=p.restarts, generator=init)
            b_r = rescaling_fit(y, x[:n])
            err = error(n, delta, fit.b, fit.w)
            q = float(fit.w @ fit.w) / d
            m = abs(float(fit.w @ mu)) / d  # w → −w symmetry: |m|
            out["q"][i, j], out["m"][i, j] = q, m
            out["cosine"][i, j] = m / math.sqrt(q)
            out["b"][i, j] = fit.b if p.skip else b_r
            out["excess"][i, j] = err - error(n, delta, fit.b)  # the skip alone, same b
            out["mse"][i, j] = err / d
            out["mse_rescale"][i, j] = error(n, delta, b_r) / d
            out["mse_pca"][i, j] = pca_err(n, delta, e) / d
    if p.covariance != "digits":
        out["direction_controls"] = direction_controls(
            p.covariance, p.s2, x, xi, [max(1, round(a * d)) for a in p.alpha])
    return out


# --------------------------------------------------------------------------------------------
# Figure
# --------------------------------------------------------------------------------------------


def figure(result):
    """Left: the hidden unit's O(1) excess over the skip-only denoiser vs α (Fig. 2 of the
    paper), theory lines, simulation points. Middle: test MSE per coordinate vs α with and
    without the skip connection (Sec. 4), PCA and the rescaling. Right: cosine m/√q vs α."""
    import matplotlib.pyplot as plt

    p = result.params
    dense = dataclasses.replace(p, alpha=tuple(np.geomspace(min(p.alpha) / 1.5,
                                                            max(p.alpha) * 1.5, 8)))
    th = theory(dense)
    other = theory(dataclasses.replace(dense, skip=not p.skip))
    with_skip, without = (th, other) if p.skip else (other, th)
    a = np.asarray(dense.alpha)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, delta in enumerate(p.Delta):
        col = colors[i % len(colors)]
        label = f"σ_e = {math.sqrt(delta):.2g}"
        theory_vs_simulation(axes[0], a, th["excess"][i], p.alpha,
                             simulated(result, "excess", i), color=col, label=label)
        theory_vs_simulation(axes[1], a, with_skip["mse"][i], p.alpha,
                             simulated(result, "mse", i) if p.skip else None, color=col,
                             label=f"{label}, with skip")
        theory_vs_simulation(axes[1], a, without["mse"][i], p.alpha,
                             None if p.skip else simulated(result, "mse", i), color=col,
                             ls="--", label="without skip" if i == 0 else None)
        theory_vs_simulation(axes[1], None, None, p.alpha, simulated(result, "mse_pca", i),
                             color=col, marker="x", sim_label="PCA (sim)" if i == 0 else None)
        theory_vs_simulation(axes[2], a, th["cosine"][i], p.alpha,
                             simulated(result, "cosine", i), color=col, label=label)
    axes[0].axhline(0.0, color="gray", lw=0.5)
    axes[0].set_ylabel("d · (mse − mse of the skip only)" if p.skip else "d · (mse − E‖x‖²/d)")
    axes[1].set_ylabel("test MSE per coordinate")
    axes[2].set_ylabel("cosine m/√q")
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    for ax in axes:
        ax.set_xscale("log")
        ax.set_xticks(p.alpha)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("α = n/d")
        ax.legend(fontsize=7)
    axes[0].set_title(f"{p.covariance} clusters, σ² = {p.s2:g}, λ = {p.lam:g}, d = {p.d}")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------------------------

_STAT = (
    "3 sem over the independent training sets of all seeds, pooled (3 × 30 in the main and "
    "no_skip runs, 3 × 120 in high_noise and wishart) at d = 500 (L-BFGS to "
    "gradient norm ≤ 1e-5 or a relative loss plateau ≤ 1e-12, best of 2 restarts), q, m, the "
    "cosine, the excess and the MSE of each set adjusted by its mean-direction control "
    "variates (exact mean zero)"
)
_MEASURED = "measured on the main / no_skip / wishart runs"


def _settled(p: Params, c) -> bool:
    """α ≥ 1 and σ_e < 0.7: the rows where the statistics of one training set spread ≤ 3 %."""
    return c["alpha"] >= 1.0 and c["Delta"] < 0.5


def _unsettled(p: Params, c) -> bool:
    return not _settled(p, c)


def _low_noise_row(p: Params, c) -> bool:
    return c["Delta"] < 0.5


def _high_noise_row(p: Params, c) -> bool:
    return c["Delta"] >= 0.5


def _selects(where):
    """``applies`` from a check's ``where``: the (Δ, α) grid has a row it selects (a run at
    σ_e = 0.8 alone has no settled or low-noise row, and no check may select nothing)."""
    return lambda p: any(where(p, {"Delta": delta, "alpha": a})
                         for delta in p.Delta for a in p.alpha)


#: training sets per seed from which the σ_e = 0.8 excess must resolve 3 % (the high_noise
#: variant runs 3 × 120; with the 3 × 30 of the main run one set's spread allows only ≈ 6 %)
HIGH_NOISE_SETS = 100


def _high_noise(many_sets: bool):
    """``applies``: grids with σ_e = 0.8, run with at least (or fewer than) HIGH_NOISE_SETS."""
    grid_has_it = _selects(_high_noise_row)
    return lambda p: grid_has_it(p) and (p.sets >= HIGH_NOISE_SETS) == many_sets


#: Allowance of the per-coordinate errors: the theory is exact to O(1) in the total error, so
#: per coordinate to O(1/d²) — declared 1/d² at the quick size d = 500 (the fitted rescaling's
#: excess over its population minimum, Var(b̂)(σ²c² + Δ) ~ 1/(nd), is of this order).
PER_COORDINATE = 1.0 / 500**2


def _overlap_checks(name: str, meaning: str, measured: str) -> tuple[Agreement, Agreement]:
    return (
        Agreement(
            name,
            reason=f"{meaning} from the saddle-point equations of Sec. 3; {_STAT}; α ≥ 1 "
            f"and σ_e ≤ 0.5; {_MEASURED}: {measured}",
            where=_settled,
            applies=_selects(_settled),
            resolution=0.03,
        ),
        Agreement(
            name,
            reason=f"{meaning}, saddle point of Sec. 3; {_STAT}; α = 0.5 or σ_e = 0.8, where one "
            "training set's statistics spread most (2–5 % raw); declared 3 % (5 % with 33 raw "
            f"sets); {_MEASURED}: {measured}",
            where=_unsettled,
            applies=_selects(_unsettled),
            resolution=0.03,
        ),
    )


def _mixture(p: Params) -> bool:
    """The checks of the Gaussian mixture at d = 500 (isotropic or Wishart covariances)."""
    return p.covariance != "digits"


def _digits(p: Params) -> bool:
    return p.covariance == "digits"


_SYNTHETIC_CHECKS = (
    *_overlap_checks("q", "q = ‖w‖²/d", "within 0.45 % on every row, resolution ≤ 0.8 % "
                     "(α ≥ 1, σ_e ≤ 0.5) and ≤ 1.2 % (the rest)"),
    *_overlap_checks("m", "m = w·μ/d (the hidden unit learns the cluster-mean direction)",
                     "within 0.25 %, resolution ≤ 0.4 % and ≤ 0.6 %"),
    *_overlap_checks("cosine", "cosine m/√q", "within 0.15 %, resolution ≤ 0.4 % and "
                     "≤ 0.5 %"),
    Agreement(
        "b",
        reason="trained skip b: b* of Sec. 3 plus its O(1/d) shift, which follows "
        "exactly from the loss being quadratic in b (−⟨φ(h)h⟩ over the training set, from the "
        f"saddle point); {_STAT} (b itself raw); {_MEASURED}: within 0.2 %, resolution ≤ 0.6 %",
        resolution=0.03,
    ),
    Agreement(
        "excess",
        reason="the hidden unit's O(1) change of the total test error (the MSE formula of "
        "Sec. 3, at the trained skip b* + O(1/d)), evaluated exactly on the trained weights "
        f"(infinite paired test set); {_STAT}; σ_e ≤ 0.5; {_MEASURED}: within 0.5 % on "
        "every row, resolution ≤ 1.2 % (evaluated at the leading-order b* instead, the "
        "theory sat 0.4–0.7 % off at σ_e = 0.2, d = 500, which these rows resolve)",
        where=_low_noise_row,
        applies=_selects(_low_noise_row),
        resolution=0.03,
    ),
    Agreement(
        "excess",
        reason="The MSE formula of Sec. 3 at σ_e = 0.8: the hidden unit is weakly determined "
        "(the paper's Fig. 2 shows the gain vanishing as σ_e → 1) and one training set's "
        f"excess spreads 5–18 % (9–14 % with the controls); {_STAT}; {_MEASURED}: "
        "−1.7/+0.7/+0.5 % at α = 0.5/1/2, resolution 5.9/3.7/2.1 % (no_skip 2.2/2.6/1.3 %); "
        "declared 10 % with fewer than 100 sets per seed (25 % with 33 raw sets): the "
        "high_noise variant checks these rows at 3 × 120 sets to 3 %",
        where=_high_noise_row,
        applies=_high_noise(False),
        resolution=0.10,
    ),
    Agreement(
        "excess",
        reason="The MSE formula of Sec. 3 at σ_e = 0.8 (the paper's Fig. 2 shows the gain "
        "vanishing as σ_e → 1): with ≥ 100 training sets per seed, whose control-adjusted "
        "excess spreads 11–13 % per set at α = 0.5 (pilot, 40 sets), the row must resolve 3 %; "
        "3 sem over the pooled sets at d = 500, as for the other rows; measured at 3 × 120 sets "
        "(α = 0.5/1): high_noise −0.8/−0.6 %, resolution 2.6/2.1 % (seeds 3–5: −0.9/−0.6 %, "
        "2.8/2.1 %); wishart +0.6/+0.1 %, resolution 2.6/1.7 % (seeds 3–5: +0.2/−0.3 %, "
        "2.2/1.9 %)",
        where=_high_noise_row,
        applies=_high_noise(True),
        resolution=0.03,
    ),
    Agreement(
        "mse",
        reason="test MSE per coordinate of the DAE: the exact skip part plus the O(1) excess of "
        f"the MSE formula of Sec. 3, over d; {_STAT}; plus 1/d² = {PER_COORDINATE:.0e} for the "
        "O(1/d) remainder of the total error (measured within 0.01 %)",
        atol=PER_COORDINATE,
        resolution=0.03,
    ),
    Agreement(
        "mse_rescale",
        reason="test MSE per coordinate of the skip-only denoiser r(y) = b̂y fitted by least "
        f"squares: mse° of Sec. 3 at this d; {_STAT}; plus 1/d² for its O(1/(nd)) excess over "
        "the best rescaling (measured within 0.001 %)",
        atol=PER_COORDINATE,
        resolution=0.03,
    ),
    Agreement(
        "mse_pca",
        reason="PCA baseline of Sec. 4 (per coordinate ≈ σ², worse than the skip at O(d)): "
        "exact error of the projection on a direction with the BBP overlap with μ_e; "
        f"{_STAT}; plus 1/d² (measured within 0.001 %)",
        atol=PER_COORDINATE,
        resolution=0.03,
    ),
    Criterion(
        "mse_pca",
        ">=",
        "mse_rescale",
        reason="Sec. 4: without the skip connection (PCA) the error per coordinate is ≈ σ², "
        "larger at O(d) than the skip-only denoiser's mse° = σ²Δ/(σ²c² + Δ)",
    ),
)

_DIGITS_STAT = (
    "3 sem over 33 random splits (3 seeds × 11, pooled) of digits 1 vs 7 (αd training images, "
    "the rest held out)"
)
#: Declared allowance of the real-data rows at d = 64: one training set's overlaps fluctuate by
#: O(1/√d) = 12.5 % and their finite-size bias is of the same order (Gaussian data with the
#: digits' own class statistics deviate as much), so the saddle point is resolved to ≈ 15 %.
DIGITS_OVERLAP = 0.15
#: The skip weight and the per-coordinate errors carry the O(1) terms over d: declared 5 %
#: (≈ 3/d at d = 64).
DIGITS_ERROR = 0.05


def _digits_check(name: str, meaning: str, rtol: float) -> Agreement:
    return Agreement(
        name,
        reason=f"Real data (Sec. 4, the paper's MNIST 1 vs 7 panels): {meaning}, the saddle "
        "point of Sec. 3 fed with the class means and covariances of scikit-learn's digits "
        f"1 vs 7 (d = 64), against the DAE trained on the images; {_DIGITS_STAT}; declared "
        f"allowance {rtol:.0%} at d = 64 (finite size, see the module docstring); with 3 sem "
        "of 33 splits the rows resolve the theory only to 5–26 % (coarsest at α = 1)",
        rtol=rtol,
        resolution=rtol + 0.15,
        applies=_digits,
    )


#: The real-data run: the theory on digits' statistics against the trained DAE. The Sec. 4
#: ordering PCA ≥ skip does not apply: digits' variance sits in few directions and at Δ = 0.25
#: the theory itself puts PCA below the skip-only denoiser (mse_pca is checked as a value).
DIGITS_CHECKS = (
    _digits_check("q", "q = ‖w‖²/d", DIGITS_OVERLAP),
    _digits_check("m", "m = w·μ/d", DIGITS_OVERLAP),
    _digits_check("cosine", "cosine m/√q", DIGITS_OVERLAP),
    _digits_check("excess", "the hidden unit's O(1) change of the total test error",
                  DIGITS_OVERLAP),
    _digits_check("b", "trained skip b (b* plus its O(1/d) shift)", DIGITS_ERROR),
    _digits_check("mse", "test MSE per coordinate of the DAE", DIGITS_ERROR),
    _digits_check("mse_rescale", "test MSE per coordinate of the skip-only denoiser",
                  DIGITS_ERROR),
    _digits_check("mse_pca", "test MSE per coordinate of PCA", DIGITS_ERROR),
)


def _on_mixture(applies):
    """``applies`` of a synthetic check: the Gaussian mixture, and the check's own condition."""
    return lambda p: _mixture(p) and (applies is None or applies(p))


CHECKS = (
    *(dataclasses.replace(check, applies=_on_mixture(check.applies))
      for check in _SYNTHETIC_CHECKS),
    *DIGITS_CHECKS,
)

EXPERIMENT = Experiment(
    slug=SLUG,
    arxiv="2305.11041",
    title="High-dimensional asymptotics of denoising autoencoders",
    claim=(
        "A two-layer tied autoencoder with a skip connection, trained on n = αd noisy samples "
        "of a two-cluster Gaussian mixture, has in high dimension a test error given in closed "
        "form by a few summary statistics of its weights, solving replica saddle-point "
        "equations. The skip connection carries the leading O(d) error (the optimal linear "
        "shrinkage b*); the hidden unit learns the cluster-mean direction and changes the total "
        "error by an O(1) amount the theory captures. Without the skip connection the "
        "autoencoder is no better than PCA at O(d)."
    ),
    params=Params,
    theory=theory,
    simulate=simulate,
    observables={
        "q": Observable("‖w‖²/d of the trained hidden unit", ("Delta", "alpha")),
        "m": Observable("|w·μ|/d: overlap with the cluster-mean direction", ("Delta", "alpha")),
        "cosine": Observable("|m|/√q: cosine between w and μ", ("Delta", "alpha")),
        "V": Observable("V of the saddle point (response of w)", ("Delta", "alpha")),
        "b_star": Observable("leading-order skip weight b* = σ²c/(σ²c² + Δ)", ("Delta", "alpha")),
        "b": Observable(
            "trained skip weight (skip = false: the least-squares rescaling's weight)",
            ("Delta", "alpha"),
        ),
        "excess": Observable(
            "O(1) change of the total test error by the hidden unit: E‖f(y) − x‖² − E‖b y − x‖² "
            "at the trained skip b (skip = false: b = 0, against f = 0)",
            ("Delta", "alpha"),
        ),
        "mse": Observable("test MSE per coordinate of the trained DAE", ("Delta", "alpha")),
        "mse_rescale": Observable(
            "test MSE per coordinate of the skip-only denoiser b y", ("Delta", "alpha")
        ),
        "mse_pca": Observable(
            "test MSE per coordinate of PCA (projection on the top principal direction of the "
            "clean training data; simulation only)",
            ("Delta", "alpha"),
        ),
        "mse_leading": Observable("leading order mse° = σ²Δ/(σ²c² + Δ)", ("Delta", "alpha")),
    },
    checks=CHECKS,
    theory_only={
        "V": "the response V enters the saddle point only; no finite-d estimator of it here",
        "b_star": "leading order of b (Sec. 3); b, which adds the exact O(1/d) shift, is checked",
        "mse_leading": "leading order of mse (Sec. 3), drawn in the figure; mse and mse_rescale "
        "add the O(1) terms and are checked",
    },
    figure=figure,
    smoke={"d": 40, "alpha": (1.0,), "Delta": (0.25,), "restarts": 1, "sets": 2},
    protocol=3,
    seeds=3,
    full={"d": 1000},
    full_seeds=3,
    variants=(
        Variant("no_skip", {"skip": False},
                "the autoencoder without skip connection (b = 0): PCA-like, Sec. 4"),
        Variant("high_noise", {"Delta": (0.64,), "alpha": (0.5, 1.0), "sets": 120},
                "σ_e = 0.8, where one training set's excess spreads most: 3 × 120 sets"),
        Variant("wishart", {"covariance": "wishart", "alpha": (0.5, 1.0), "Delta": (0.25, 0.64),
                            "sets": 120},
                "the authors' Wishart cluster covariances (theory with the d × d matrices), "
                "3 × 120 sets"),
        Variant("digits", {"covariance": "digits", "d": 64, "alpha": (1.0, 2.0, 4.0),
                           "Delta": (0.04, 0.25), "sets": 11},
                "real data (Sec. 4): scikit-learn's digits 1 vs 7, the theory fed with their "
                "class statistics"),
    ),
)
