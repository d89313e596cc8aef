"""The spectrum of learned features after one large gradient step (arXiv 2410.18938).

Dandi, Pesce, Cui, Krzakala, Lu, Loureiro, *A random matrix theory perspective on the spectrum
of learned features and asymptotic generalization capabilities*. The network and the step are
those of :mod:`theorylab.experiments.one_step_gd` (η = η̃ p on n0 = α0 d samples, unit-norm rows,
a_i = 1/√p, p = d). After the step the first layer is an isotropic spiked random-features model
(W1 ≈ √c W0 + r 1 v̂ᵀ, Result 3.1 of 2402.04980), and the empirical covariance FᵀF/n of the
features F = σ(X W1ᵀ) on n = n_ratio·d samples has a deterministic equivalent:

* bulk: the resolvent fixed point of :func:`theorylab.theory.spiked_rf.feature_resolvent` —
  the conditional-Gaussian structure given κ = v̂·x makes the bulk a κ-mixture of
  Marchenko–Pastur-like laws (training pushes mass to small eigenvalues). **These bulk equations
  are our reconstruction** (checked against finite matrices), not the paper's notation, whose
  text was not available; its density is Im g(x + iε)/π with Newton continuation along x;
* outliers: the conditional mean μ0(κ)·1 is a rank-one part of F; the top eigenvalue sits at
  ≈ p E_κ μ0(κ)² (our leading-order estimate);
* the test error of ridge on the learned features is the saddle point of one_step_gd.

Single neuron type (all second-layer weights equal); for odd σ and symmetric ±1 second-layer
weights the spectrum is the same (flip the rows of type −).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np

from theorylab.experiments.base import (
    Activation,
    Agreement,
    Experiment,
    NonNegative,
    Observable,
    ParamsBase,
    Positive,
    Range,
    Relation,
)
from theorylab.experiments.one_step_gd import (
    CONTROL_DEGREES,
    CONTROL_TOTAL,
    RF_TARGETS,
    SMOOTH_STUDENTS,
)
from theorylab.experiments.plotting import simulated, theory_vs_simulation
from theorylab.theory.activations import parse_activation
from theorylab.theory.fixed_point import SolverStatus
from theorylab.theory.spectral import density_from_stieltjes
from theorylab.theory.spiked_rf import (
    conditional_coefficients,
    feature_resolvent,
    marchenko_pastur_bulk,
    outlier_location,
    solve_saddle_point,
    spiked_rf_parameters,
)

__all__ = ["EXPERIMENT", "Params", "figure", "simulate", "theory"]

#: CDF levels at which the bulk of FᵀF/n is compared (a quantile-by-quantile distance).
LEVELS = (0.1, 0.25, 0.5, 0.75, 0.9)
#: An eigenvalue is an outlier (left out of the empirical bulk) when it exceeds this multiple
#: of the next one: the rank-one mean μ0(κ)·1 puts one eigenvalue of order p far above the bulk.
GAP = 2.0
#: Log-spaced bin edges of the spectrum histogram drawn in the figure.
EDGES = tuple(np.geomspace(1e-3, 10.0, 25))


@dataclass(frozen=True)
class Params(ParamsBase):
    """Setting of arXiv 2410.18938 with the one-step protocol of 2402.04980 (p = d, n = 2d)."""

    eta_tilde: Annotated[
        tuple[float, ...], NonNegative(100.0), "step sizes η̃ (η = η̃ p); 0 = random features"
    ] = (0.0, 1.0, 3.0)
    lam: Annotated[
        tuple[float, ...], Positive(1e3), "λ of the traces tr(FᵀF/n + λ)⁻¹/p"
    ] = (0.01, 0.1, 1.0)
    alpha0: Annotated[float, NonNegative(1e6), "first-step batch n0/d (0 = no step)"] = 20.0
    teacher: Annotated[str, Activation(centred=True), "target σ* (odd)"] = "sin"
    student: Annotated[
        str, Activation(centred=True), "hidden activation σ (odd, smooth: tanh, erf, sin)"
    ] = "tanh"
    n_ratio: Annotated[float, Range(0.5, 20.0), "n/d: samples of FᵀF/n and of the ridge fit"] = 2.0
    ridge: Annotated[
        float, Range(1e-3, 1e6), "ridge penalty of the readout (sum loss; ≥ 1e-3 as one_step_gd)"
    ] = 0.1
    d: Annotated[int, Range(20, 5000), "input dimension d = width p of the simulation"] = 800
    n_test: Annotated[int, Range(100, 1_000_000), "fresh test points per draw"] = 4000
    draws: Annotated[
        int, Range(1, 1000), "independent draws (W0, first batch, data) averaged in one seed"
    ] = 4

    relations = (
        Relation(
            "student",
            lambda p: parse_activation(p.student).name in SMOOTH_STUDENTS,
            f"must be smooth (one of {', '.join(SMOOTH_STUDENTS)}): the step uses σ'",
        ),
        Relation(
            "alpha0",
            lambda p: p.alpha0 == 0 or round(p.alpha0 * p.d) >= 1,
            "alpha0 * d must be >= 1 (or alpha0 = 0)",
        ),
    )


# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------


def bulk_density(cc, c: float, p: Params, points: int = 400, rel_eps: float = 1e-4):
    """ρ(x) of the bulk of FᵀF/n (Im g(x(1 + iε))/π, Newton continuation from the right edge
    down), with its solver status: a log grid over the small eigenvalues, a linear one over the
    upper part with its steep edge."""
    top = (1 + np.sqrt(1 / p.n_ratio)) ** 2 * (4 * c * np.max(cc.mu1**2) + np.max(cc.mu2**2))
    linear = np.linspace(1.5 * top, 0.2 * top, points // 2)
    x = np.concatenate([linear, np.geomspace(0.2 * top, 1e-5 * top, points // 2 + 1)[1:]])
    tau, status = feature_resolvent(cc, c, 1.0, 1.0 / p.n_ratio, x * (1 + 1j * rel_eps))
    return x[::-1], density_from_stieltjes(tau[::-1, 1]), status


def _cdf(x: np.ndarray, rho: np.ndarray) -> np.ndarray:
    cdf = np.concatenate([[0.0], np.cumsum(np.diff(x) * 0.5 * (rho[1:] + rho[:-1]))])
    return cdf / cdf[-1]


def quantiles(x: np.ndarray, rho: np.ndarray, levels=LEVELS) -> np.ndarray:
    """Quantiles of the (normalised) density tabulated on ``x``."""
    return np.interp(np.asarray(levels), _cdf(x, rho), x)


def bin_masses(x: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Bulk mass in each bin of :data:`EDGES`."""
    return np.diff(np.interp(EDGES, x, _cdf(x, rho)))


def theory(p: Params) -> dict:
    """Traces, bulk quantiles, top outlier and ridge test error for every η̃."""
    lam = np.asarray(p.lam, dtype=float)
    trace = np.empty((len(p.eta_tilde), len(lam)))
    quant = np.empty((len(p.eta_tilde), len(LEVELS)))
    hist = np.empty((len(p.eta_tilde), len(EDGES) - 1))
    outlier, eg, statuses = [], [], []
    for i, eta in enumerate(p.eta_tilde):
        srf = spiked_rf_parameters(p.student, p.teacher, p.alpha0, eta)
        cc = conditional_coefficients(p.student, p.teacher, srf)
        tau, st = feature_resolvent(cc, srf.c, 1.0, 1.0 / p.n_ratio, -lam + 0j)
        trace[i] = tau[:, 1].real
        x, rho, st_rho = bulk_density(cc, srf.c, p)
        quant[i] = quantiles(x, rho)
        hist[i] = bin_masses(x, rho)
        outlier.append(outlier_location(cc, p.d))
        sp = solve_saddle_point(cc, marchenko_pastur_bulk(srf.c), srf.c, p.n_ratio, p.ridge)
        eg.append(sp.test_error)
        statuses += [st, st_rho, sp.status]
    return {
        "trace": trace,
        "quantile": quant,
        "histogram": hist,
        "outlier": np.array(outlier),
        "eg": np.array(eg),
        "solver": SolverStatus.combine(*statuses),
    }


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------


def _one_draw(p: Params, streams, k: int) -> dict:
    """Draw k of a seed: one network (W0, first batch, step direction shared by every η̃, the
    step in float32), features F = σ(XW1ᵀ) on n = n_ratio·d fresh points, eigenvalues of FᵀF/n:
    traces, bulk quantiles (the top eigenvalue left out when it is an outlier, more than ``GAP``
    times the next), top eigenvalue; ridge on F/√p, tested on ``n_test`` points with the
    test-set control variates of one_step_gd (Hermite functions of the target coordinate)."""
    import torch

    from theorylab.models.activations import torch_activation
    from theorylab.models.one_step import (
        hermite_controls,
        nested_ridge_errors,
        one_step_first_layer,
    )

    dt = torch.float64
    sig, tgt = torch_activation(p.student), torch_activation(p.teacher)
    d = p.d
    n0 = round(p.alpha0 * d)
    w0, g = one_step_first_layer(
        d, n0, sig, tgt, streams.torch(f"first layer {k}"), streams.torch(f"first batch {k}"), dt
    )
    gen = streams.torch(f"features and test data {k}")
    n = max(1, round(p.n_ratio * d))
    x, x_te = (torch.randn(m, d, generator=gen, dtype=dt) for m in (n, p.n_test))
    base, step = (x @ w0.T, x_te @ w0.T), (x @ g.T, x_te @ g.T)
    lam = torch.tensor(p.lam, dtype=dt)
    trace = np.empty((len(p.eta_tilde), len(p.lam)))
    quant = np.empty((len(p.eta_tilde), len(LEVELS)))
    hist = np.empty((len(p.eta_tilde), len(EDGES) - 1))
    outlier, eg = np.empty(len(p.eta_tilde)), np.empty(len(p.eta_tilde))
    for i, eta in enumerate(p.eta_tilde):
        w1 = w0 + eta * d * g
        pre = (base[0] + eta * d * step[0], base[1] + eta * d * step[1])
        f = sig(pre[0])
        ev = torch.linalg.eigvalsh(f.T @ f / n)
        trace[i] = (1.0 / (ev[None, :] + lam[:, None])).mean(1).numpy()
        ev_np = ev.numpy()
        bulk = ev_np[:-1] if ev_np[-1] > GAP * ev_np[-2] else ev_np
        quant[i] = np.quantile(bulk, LEVELS)
        hist[i] = np.histogram(bulk, bins=EDGES)[0] / bulk.size
        outlier[i] = float(ev[-1])
        t = min(RF_TARGETS, d) if eta == 0 or n0 == 0 else 1  # no step: targets σ*(x_j)
        controls = hermite_controls(x_te[:, :t].T[..., None], CONTROL_DEGREES[:1], CONTROL_TOTAL)
        err, _ = nested_ridge_errors(w1, sig, x, tgt(x[:, :t]), x_te, tgt(x_te[:, :t]), [n],
                                     p.ridge, controls, pre=pre)
        eg[i] = float(err[0].mean())
    return {"trace": trace, "quantile": quant, "histogram": hist, "outlier": outlier, "eg": eg}


def simulate(p: Params, seed: int, device: str = "cpu") -> dict:
    """The mean over ``draws`` independent draws (:func:`_one_draw`); θ* = e_1. No theory
    output enters."""
    from theorylab.seeding import Streams

    streams = Streams(EXPERIMENT.slug, seed)
    draws = [_one_draw(p, streams, k) for k in range(p.draws)]
    return {name: np.mean([r[name] for r in draws], axis=0) for name in draws[0]}


# --------------------------------------------------------------------------------------------
# Figure
# --------------------------------------------------------------------------------------------


def figure(result):
    """Bulk density of FᵀF/n before and after the step (theory) with the simulated bulk
    quantiles and top eigenvalue marked; traces vs λ."""
    import matplotlib.pyplot as plt

    p = result.params
    th = theory(p)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for i, eta in enumerate(p.eta_tilde):
        srf = spiked_rf_parameters(p.student, p.teacher, p.alpha0, eta)
        cc = conditional_coefficients(p.student, p.teacher, srf)
        x, rho, _ = bulk_density(cc, srf.c, p, points=400)
        (line,) = ax.plot(x, rho, label=f"η̃ = {eta:g} (r = {srf.r:.2f}, c = {srf.c:.3f})")
        hist = simulated(result, "histogram", i)
        if hist is not None:
            ax.stairs(hist[0] / np.diff(EDGES), EDGES, color=line.get_color(), alpha=0.6)
        sim = simulated(result, "quantile", i)
        if sim is not None:
            ax.plot(sim[0], np.interp(sim[0], x, rho), "o", color=line.get_color(), ms=4)
        out = simulated(result, "outlier", i)
        if out is not None and eta > 0:
            ax.axvline(out[0], color=line.get_color(), ls=":", lw=1)
            ax.plot([th["outlier"][i]], [1e-3], "v", color=line.get_color(), ms=7)
        theory_vs_simulation(ax2, p.lam, th["trace"][i], p.lam, simulated(result, "trace", i),
                             color=line.get_color(), label=f"η̃ = {eta:g}")
    ax.set(xscale="log", yscale="log", xlabel="eigenvalue of FᵀF/n", ylabel="density",
           title="bulk: theory (lines), histogram and quantiles (dots) of one run;\n"
           "top outlier: simulated (dotted), p E μ0² (triangle)")
    ax.set_ylim(1e-4, None)
    ax.legend(fontsize=7)
    ax2.set(xscale="log", yscale="log", xlabel="λ", ylabel="tr(FᵀF/n + λ)⁻¹ / p",
            title=f"σ* = {p.teacher}, σ = {p.student}, α0 = {p.alpha0:g}, n/d = {p.n_ratio:g}")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------------------------

_STAT = (
    "3 sem over 4 seeds of 4 independent draws each of the one-step network (W0, first "
    "batch, data) at d = p = 800, n = 1600, α0 = 20, σ* = sin, σ = tanh"
)

EXPERIMENT = Experiment(
    slug="spiked_rf_spectrum",
    arxiv="2410.18938",
    title=(
        "A random matrix theory perspective on the spectrum of learned features and "
        "asymptotic generalization capabilities"
    ),
    claim=(
        "After one aggressive gradient step the first layer of a two-layer network is an "
        "isotropic spiked random-features model; the empirical covariance of its features has "
        "a deterministic equivalent written through low-dimensional objects (functions of the "
        "spike coordinate κ): training reshapes the bulk (mass pushed to small eigenvalues) and "
        "creates outliers, and ridge regression on the learned features has an exact test error."
    ),
    params=Params,
    theory=theory,
    simulate=simulate,
    observables={
        "trace": Observable("tr(FᵀF/n + λ)⁻¹/p", ("eta_tilde", "lam")),
        "quantile": Observable("quantiles of the bulk spectrum of FᵀF/n", ("eta_tilde", "level")),
        "histogram": Observable("bulk mass per log-spaced bin of FᵀF/n", ("eta_tilde", "bin")),
        "outlier": Observable("top eigenvalue of FᵀF/n", ("eta_tilde",)),
        "eg": Observable("test MSE of ridge on the learned features (α = n/d)", ("eta_tilde",)),
    },
    checks=(
        Agreement(
            "trace",
            reason=_STAT + "; tr(FᵀF/n + λ)⁻¹/p = Re τ2(−λ) of the deterministic equivalent "
            "(our reconstruction of the paper's bulk equations from the conditional Gaussian "
            "structure, Sec. 3) with r, c of the step (Result 3.1 of 2402.04980); measured "
            "within 0.0–0.24 % at λ = 0.01, 0.1, 1 for η̃ = 0, 1, 3 (e.g. 12.973 vs 12.999, "
            "0.82411 vs 0.82556 at η̃ = 3); allowance 0.2 % for the O(1/p) finite-size "
            "correction (1/p = 0.125 %); resolution 0.2–1.0 %",
            rtol=0.002,
            resolution=0.03,
        ),
        Agreement(
            "quantile",
            reason=_STAT + "; the bulk distribution compared quantile by quantile at CDF levels "
            "0.1 … 0.9 (a Kolmogorov-type distance on the bulk; the top eigenvalue is left out "
            "when it is an outlier) against the density Im g/π of the same deterministic "
            "equivalent: the step pushes the median from 0.195 to 0.134 (Sec. 4: training "
            "moves mass to small eigenvalues); measured within 0.5 % (resolution 0.4–1.8 %); "
            "allowance 0.3 % for the "
            "ε-regularised density (ε = 10⁻⁴ x) on a 400-point grid (≤ 0.2 % from 1200 "
            "points) and the O(1/p) rigidity of finite-p quantiles",
            rtol=0.003,
            resolution=0.03,
        ),
        Agreement(
            "outlier",
            reason=_STAT + "; the rank-one mean μ0(κ)·1 of the features puts one eigenvalue at "
            "≈ p E_κ μ0(κ)² (our leading-order estimate): measured 38.75 ± 0.25, 218.6 ± 1.2 "
            "vs 38.63, 220.2. It scales like r², and r of one draw fluctuates by 1.3 %: the "
            "rows resolve 2.3–2.4 % with 16 draws (2.8–3.1 % on seeds 0–2; declared 6 %)",
            where=lambda p, c: c["eta_tilde"] > 0 and p.alpha0 > 0,
            resolution=0.06,
        ),
        Agreement(
            "eg",
            reason=_STAT + "; ridge (λ = 0.1) on the learned features at α = n/d = 2: the "
            "saddle point of 2402.04980 Result 3.3, which the paper proves for this model. "
            "Random features (η̃ = 0) average 32 equivalent targets per draw; test MSE by the "
            "test-set control variate of one_step_gd. Measured 0.2378, 0.0804, 0.0341 vs "
            "0.2376, 0.0817, 0.0354 (−1.6 %, −3.7 % after the step; 3 sem 4.6 %, 6.0 %): the "
            "rows at η̃ = 1, 3 resolve 6–10 % (declared 12 %). The 3 % goal is blocked by the "
            "between-draw spread of one network's error and by the finite-size gap of the "
            "same saddle point measured in one_step_gd (−2 to −3 % at η̃ = 3, d = 1000)",
            resolution=0.12,
        ),
    ),
    theory_only={
        "histogram": "drawn in the figure over the simulated histogram; the same distribution "
        "is checked through its quantiles (bin masses of one draw are too noisy for a row)",
    },
    dims={
        "level": lambda p: LEVELS,
        "bin": lambda p: tuple(np.sqrt(np.array(EDGES[1:]) * np.array(EDGES[:-1]))),
    },
    figure=figure,
    smoke={"d": 60, "n_test": 400, "alpha0": 2.0, "draws": 1},
    protocol=3,
    seeds=4,
    full={"d": 1600, "draws": 2},
    full_seeds=4,
)
