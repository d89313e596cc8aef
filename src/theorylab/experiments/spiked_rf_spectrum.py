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

Second layer: ``types = 1`` (all a_i = 1/√p, the one-step network) or ``types = 2`` (the paper's
finitely supported second layer a_i = s_i/√p, s_i = ±1 with probability 1/2: the spike of row i
is r s_i). With two types the simulation is the sRF model itself, W = √c W0 + r s v̂ᵀ with (r, c)
of Result 3.1 at (α0, η̃) (α0 = 10⁶ is the large-batch limit c = 1 to 10⁻⁶; σ may then be ReLU,
no step is taken), and the bulk is the several-type fixed point of
:func:`theorylab.theory.spiked_rf.feature_resolvent_types` (exactly reduced to T × T blocks).
For odd σ the two types give the single-type spectrum (flip the rows of type −); for ReLU they
do not. The top outliers and the ridge error are single-type results: with two types they are
not predicted (NaN) and their checks do not apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np

from theorylab.experiments.base import (
    Activation,
    Agreement,
    Choice,
    Experiment,
    NonNegative,
    Observable,
    ParamsBase,
    Positive,
    Range,
    Relation,
    Variant,
)
from theorylab.experiments.one_step_gd import (
    CONTROL_DEGREES,
    CONTROL_TOTAL,
    RF_TARGETS,
    SMOOTH_STUDENTS,
)
from theorylab.experiments.plotting import simulated, theory_vs_simulation
from theorylab.experiments.result import seed_output
from theorylab.theory.activations import gaussian_mean, parse_activation
from theorylab.theory.fixed_point import SolverStatus
from theorylab.theory.spectral import (
    density_bin_masses,
    density_from_stieltjes,
    density_quantiles,
)
from theorylab.theory.spiked_rf import (
    conditional_coefficients,
    feature_resolvent,
    feature_resolvent_types,
    marchenko_pastur_bulk,
    outlier_location,
    solve_saddle_point,
    spiked_rf_parameters,
    type_coefficients,
    type_trace,
)

__all__ = ["EXPERIMENT", "Params", "figure", "simulate", "theory"]

#: CDF levels at which the bulk of FᵀF/n is compared (a quantile-by-quantile distance).
LEVELS = (0.1, 0.25, 0.5, 0.75, 0.9)
#: An eigenvalue is an outlier (left out of the empirical bulk) when it exceeds this multiple
#: of the next one: the rank-one mean μ0(κ)·1 puts one eigenvalue of order p far above the bulk.
GAP = 2.0
#: Log-spaced bin edges of the spectrum histogram drawn in the figure.
EDGES = tuple(np.geomspace(1e-3, 10.0, 25))
#: Fractions of the two neuron types s_i = +1, −1 (types = 2).
HALVES = (0.5, 0.5)
#: With two types, at most this many top eigenvalues are outliers (rank of the mean part ≤ 2T).
MAX_OUTLIERS = 4


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
        str, Activation(), "hidden activation σ (types = 1: odd, smooth: tanh, erf, sin)"
    ] = "tanh"
    types: Annotated[
        int, Choice(1, 2), "neuron types: 1 = all s_i = 1 (the one-step network); 2 = s_i = ±1 "
        "with probability 1/2 (the sRF model W = √c W0 + r s v̂ᵀ, no step simulated)"
    ] = 1
    n_ratio: Annotated[float, Range(0.5, 20.0), "n/d: samples of FᵀF/n and of the ridge fit"] = 2.0
    ridge: Annotated[
        float, Range(1e-3, 1e6), "ridge penalty of the readout (sum loss; ≥ 1e-3 as one_step_gd)"
    ] = 0.1
    d: Annotated[int, Range(20, 5000), "input dimension d = width p of the simulation"] = 800
    n_test: Annotated[int, Range(100, 1_000_000), "fresh test points per draw"] = 4000
    draws: Annotated[
        int, Range(1, 1000),
        "independent draws (W0, first batch, data) per seed; the sem pools every draw of every "
        "seed",
    ] = 5

    relations = (
        Relation(
            "student",
            lambda p: p.types == 2 or parse_activation(p.student).name in SMOOTH_STUDENTS,
            f"must be smooth (one of {', '.join(SMOOTH_STUDENTS)}) for types = 1: the step "
            "uses σ'",
        ),
        Relation(
            "student",
            lambda p: p.types == 2 or abs(gaussian_mean(p.student)) < 1e-8,
            "must be odd (zero Gaussian mean) for types = 1: the one-step network starts at 0",
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


def coefficients(p: Params, eta: float):
    """(r, c, γ) of the step η̃ and the conditional coefficients of each neuron type."""
    srf = spiked_rf_parameters(p.student, p.teacher, p.alpha0, eta)
    if p.types == 1:
        return srf, [conditional_coefficients(p.student, p.teacher, srf)]
    return srf, type_coefficients(p.student, p.teacher, srf)


def stieltjes(ccs, c: float, p: Params, z: np.ndarray):
    """g(z) = tr(FᵀF/n − z)⁻¹/p: the single-type fixed point, or the several-type one."""
    if len(ccs) == 1:
        tau, status = feature_resolvent(ccs[0], c, 1.0, 1.0 / p.n_ratio, z)
        return tau[:, 1], status
    e, status = feature_resolvent_types(ccs, HALVES, c, 1.0, 1.0 / p.n_ratio, z)
    return type_trace(e, HALVES), status


def bulk_density(ccs, c: float, p: Params, points: int = 400, rel_eps: float = 1e-4):
    """ρ(x) of the bulk of FᵀF/n (Im g(x(1 + iε))/π, Newton continuation from the right edge
    down), with its solver status: a log grid over the small eigenvalues, a linear one over the
    upper part with its steep edge."""
    mu1 = max(np.max(cc.mu1**2) for cc in ccs)
    mu2 = max(np.max(cc.mu2**2) for cc in ccs)
    top = (1 + np.sqrt(1 / p.n_ratio)) ** 2 * (4 * c * mu1 + mu2)
    linear = np.linspace(1.5 * top, 0.2 * top, points // 2)
    x = np.concatenate([linear, np.geomspace(0.2 * top, 1e-5 * top, points // 2 + 1)[1:]])
    g, status = stieltjes(ccs, c, p, x * (1 + 1j * rel_eps))
    return x[::-1], density_from_stieltjes(g[::-1]), status


def theory(p: Params) -> dict:
    """Traces, bulk quantiles, top outlier and ridge test error for every η̃ (two types: traces
    and bulk only; the outlier and the error are NaN, not predicted)."""
    lam = np.asarray(p.lam, dtype=float)
    trace = np.empty((len(p.eta_tilde), len(lam)))
    quant = np.empty((len(p.eta_tilde), len(LEVELS)))
    hist = np.empty((len(p.eta_tilde), len(EDGES) - 1))
    outlier, eg, statuses = [], [], []
    for i, eta in enumerate(p.eta_tilde):
        srf, ccs = coefficients(p, eta)
        g, st = stieltjes(ccs, srf.c, p, -lam + 0j)
        trace[i] = g.real
        x, rho, st_rho = bulk_density(ccs, srf.c, p)
        quant[i] = density_quantiles(x, rho, LEVELS)
        hist[i] = density_bin_masses(x, rho, EDGES)
        statuses += [st, st_rho]
        if p.types == 2:
            outlier.append(np.nan)
            eg.append(np.nan)
            continue
        outlier.append(outlier_location(ccs[0], p.d))
        sp = solve_saddle_point(ccs[0], marchenko_pastur_bulk(srf.c), srf.c, p.n_ratio, p.ridge)
        eg.append(sp.test_error)
        statuses.append(sp.status)
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
    rows = []
    for eta in p.eta_tilde:
        w1 = w0 + eta * d * g
        pre = (base[0] + eta * d * step[0], base[1] + eta * d * step[1])
        f = sig(pre[0])
        row = spectrum_summary(torch.linalg.eigvalsh(f.T @ f / n).numpy(), p.lam, most=1)
        t = min(RF_TARGETS, d) if eta == 0 or n0 == 0 else 1  # no step: targets σ*(x_j)
        controls = hermite_controls(x_te[:, :t].T[..., None], CONTROL_DEGREES[:1], CONTROL_TOTAL)
        err, _ = nested_ridge_errors(w1, sig, x, tgt(x[:, :t]), x_te, tgt(x_te[:, :t]), [n],
                                     p.ridge, controls, pre=pre)
        rows.append({**row, "eg": float(err[0].mean())})
    return {name: np.array([row[name] for row in rows]) for name in rows[0]}


def spectrum_summary(ev: np.ndarray, lam, most: int) -> dict:
    """One spectrum of FᵀF/n: tr(FᵀF/n + λ)⁻¹/p per λ; the bulk (up to ``most`` outliers, each
    more than ``GAP`` times the next, left out) by quantiles and by :data:`EDGES` bins; the top
    eigenvalue."""
    from theorylab.measure.spectra import bulk_below_outliers

    bulk = bulk_below_outliers(ev, most, GAP)
    return {
        "trace": (1.0 / (ev[None, :] + np.asarray(lam)[:, None])).mean(1),
        "quantile": np.quantile(bulk, LEVELS),
        "histogram": np.histogram(bulk, bins=EDGES)[0] / bulk.size,
        "outlier": float(ev[-1]),
    }


def _srf_draw(p: Params, streams, k: int) -> dict:
    """Draw k with two neuron types: the sRF model itself, W = √c W0 + r s v̂ᵀ (unit-norm rows
    W0, v̂ uniform on the sphere, s_i = ±1 with probability 1/2; r, c the model's parameters at
    (α0, η̃) by Result 3.1), F = σ(XWᵀ) on n = n_ratio·d points: traces, bulk quantiles (up
    to :data:`MAX_OUTLIERS` outliers left out), top eigenvalue. No ridge (``eg`` is NaN)."""
    import torch

    from theorylab.models.activations import torch_activation

    dt = torch.float64
    sig, d = torch_activation(p.student), p.d
    gen = streams.torch(f"sRF weights {k}")
    w0 = torch.randn(d, d, generator=gen, dtype=dt)
    w0 = w0 / w0.norm(dim=1, keepdim=True)
    v = torch.randn(d, generator=gen, dtype=dt)
    s = torch.where(torch.rand(d, generator=gen, dtype=dt) < 0.5, 1.0, -1.0).to(dt)
    n = max(1, round(p.n_ratio * d))
    x = torch.randn(n, d, generator=streams.torch(f"sRF data {k}"), dtype=dt)
    base, proj = x @ w0.T, x @ (v / v.norm())
    rows = []
    for eta in p.eta_tilde:
        srf = spiked_rf_parameters(p.student, p.teacher, p.alpha0, eta)
        f = sig(srf.c**0.5 * base + srf.r * proj[:, None] * s[None, :])
        ev = torch.linalg.eigvalsh(f.T @ f / n).numpy()
        rows.append({**spectrum_summary(ev, p.lam, MAX_OUTLIERS), "eg": np.nan})
    return {name: np.array([row[name] for row in rows]) for name in rows[0]}


def simulate(p: Params, seed: int, device: str = "cpu") -> dict:
    """The mean over ``draws`` independent draws (:func:`_one_draw`, or :func:`_srf_draw` with
    two types), and the draws themselves (the sem pools every draw of every seed); θ* = e_1.
    No theory output enters (with two types, r and c of the sRF model are its parameters, not
    a checked prediction)."""
    from theorylab.seeding import Streams

    streams = Streams(EXPERIMENT.slug, seed)
    draw = _one_draw if p.types == 1 else _srf_draw
    return seed_output([draw(p, streams, k) for k in range(p.draws)])


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
        srf, ccs = coefficients(p, eta)
        x, rho, _ = bulk_density(ccs, srf.c, p, points=400)
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

def _one_type(p: Params) -> bool:
    return p.types == 1


def _two_types(p: Params) -> bool:
    return p.types == 2


#: The two-type run (the setting of our finite-matrix reference): σ = ReLU, s_i = ±1, the
#: large-batch sRF at r = η̃ μ1 μ1* = 2, c = 1 + 4·10⁻⁶ (α0 = 10⁶, linear target: μ1 = 1/2,
#: μ1* = 1), p = d = 400, n = 800, 8 draws per seed.
TWO_TYPES = {"types": 2, "student": "relu", "teacher": "linear", "alpha0": 1e6,
             "eta_tilde": (4.0,), "d": 400, "draws": 11}

_STAT2 = (
    "3 sem over 33 draws (3 seeds × 11, pooled) of the sRF model W = √c W0 + r s v̂ᵀ with s_i = ±1 "
    "(ReLU, p = d = 400, n = 800, r = 2, c = 1)"
)


def _two_type_trace(small: bool, rtol: float, measured: str, resolution: float) -> Agreement:
    return Agreement(
        "trace",
        reason=_STAT2 + "; tr(FᵀF/n + λ)⁻¹/p against the several-type deterministic equivalent "
        "(Σ(κ) = D1ΩD1 + D2², our reconstruction of the paper's bulk for a finitely supported "
        f"second layer, Sec. 3, reduced exactly to 2 × 2 blocks); {measured}; allowance "
        f"{rtol:.0%}, declared for this setting from finite-matrix comparisons at p = 400 "
        "(1 % at λ ≥ 0.1, 3 % at λ = 0.01, where the small-eigenvalue edge converges slowest)",
        rtol=rtol,
        where=lambda p, c: (c["lam"] < 0.1) == small,
        resolution=resolution,
        applies=_two_types,
    )


TWO_TYPE_CHECKS = (
    _two_type_trace(
        True, 0.03, "measured 6.646 vs 6.635 (+0.16 %) at λ = 0.01 (3 sem 0.3 %; 6.658 in an "
        "independent finite-matrix computation); the allowance alone makes the row's "
        "resolution 3.8 %", 0.05
    ),
    _two_type_trace(
        False, 0.01, "measured 3.2808 vs 3.2889, 0.74581 vs 0.74895 (−0.25 %, −0.42 %; an "
        "independent finite-matrix computation: 3.280, 0.7454) at λ = 0.1, 1", 0.02
    ),
    Agreement(
        "quantile",
        reason=_STAT2 + "; bulk quantiles at CDF levels 0.1 … 0.9 (up to 4 outliers left out: "
        "the two type means and the κ-linear parts) against Im g/π of the several-type "
        "fixed point; measured 0.25–1.0 % below (3 sem 0.3–1.0 %); allowance 1.5 %, the "
        "agreement of these reconstructed bulk equations (Sec. 3) with finite matrices found "
        "when they were derived (two types, ReLU); resolution 2–3.3 %",
        rtol=0.015,
        resolution=0.04,
        applies=_two_types,
    ),
)

_STAT = (
    "3 sem over 15 independent draws (3 seeds × 5, pooled) of the one-step network (W0, first "
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
            applies=_one_type,
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
            applies=_one_type,
        ),
        Agreement(
            "outlier",
            reason=_STAT + "; the rank-one mean μ0(κ)·1 of the features puts one eigenvalue at "
            "≈ p E_κ μ0(κ)² (our leading-order estimate): measured 38.75 ± 0.25, 218.6 ± 1.2 "
            "vs 38.63, 220.2. It scales like r², and r of one draw fluctuates by 1.3 %: the "
            "rows resolve 2.3–2.4 % with 16 draws (2.8–3.1 % on seeds 0–2; declared 6 %)",
            where=lambda p, c: c["eta_tilde"] > 0 and p.alpha0 > 0,
            resolution=0.06,
            applies=_one_type,
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
            applies=_one_type,
        ),
        *TWO_TYPE_CHECKS,
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
    protocol=4,
    seeds=3,
    full={"d": 1600, "draws": 3},
    full_seeds=3,
    variants=(
        Variant("two_types", TWO_TYPES, "second layer s_i = ±1 (two neuron types), ReLU, sRF "
                "model at r = 2, c = 1, p = d = 400, n = 800"),
    ),
    cpu_only="not ported to accelerators: float64 torch with numpy readouts per draw",
)
