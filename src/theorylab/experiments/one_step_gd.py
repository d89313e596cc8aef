"""Asymptotics of feature learning in two-layer networks after one gradient step (arXiv 2402.04980).

Cui, Pesce, Dandi, Krzakala, Lu, Zdeborová, Loureiro, ICML 2024. A network
f(x) = (1/√p) Σ_i a_i σ(w_i·x), rows w_i uniform on the unit sphere, a_i = 1/√p, makes one
full-batch gradient step on its first layer with learning rate η = η̃ p on n0 = α0 d samples of
y = σ*(θ*·x); its readout is then refit by ridge on n = α d fresh samples (sum loss, penalty λ).

* Result 3.1: the updated layer is a spiked random-features (sRF) model
  W1 ≈ √c W0 + r 1 v̂ᵀ with (r, c, γ = v̂·θ*) given by the activations, α0 and η̃
  (:func:`theorylab.theory.spiked_rf.spiked_rf_parameters`);
* Result 3.3 / Eqs. (14)–(16): the test error of ridge on the sRF features is the solution of a
  conditional-Gaussian-equivalence saddle point on the Marchenko–Pastur spectrum of c W0 W0ᵀ
  (p = d), :func:`~theorylab.theory.spiked_rf.solve_saddle_point`. The spectral F-term (the spike
  direction seen through the bulk) is kept; ``drop_F`` removes it as the authors' stored
  notebook output does (θ = 0, ε ≈ 3 % higher at α = 3 for σ* = sin);
* Sec. 4 (Fig. 1): random features (η̃ = 0) learn only the linear part of σ*, so their error
  never falls below the non-linear part E σ*² − (E zσ*)²; one step learns a non-linear function
  ŷ(κ) of the spike coordinate κ = v̂·x and goes below it.

Finding: at d = 1000 the one-step network sits off the saddle point by up to 4.4 %
(η̃ = 1, α = 0.2): the sRF model itself converges to it only as 1/d at small α (+10.5, +4.5,
+1.8 % at d = 500, 1000, 2000), and the network differs from its sRF model by 2–4 %; the
test-error check declares an allowance for both (see its reason).

p = d throughout (all of the authors' material); λ is not normalised (sum loss).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

import numpy as np

from theorylab.experiments.base import (
    Activation,
    Agreement,
    Criterion,
    Experiment,
    NonNegative,
    Observable,
    ParamsBase,
    Range,
    Relation,
)
from theorylab.experiments.plotting import simulated, theory_vs_simulation
from theorylab.experiments.result import seed_output
from theorylab.theory.activations import parse_activation
from theorylab.theory.fixed_point import SolverStatus
from theorylab.theory.gaussian import gauss_hermite
from theorylab.theory.spiked_rf import (
    activation_moments,
    conditional_coefficients,
    marchenko_pastur_bulk,
    solve_saddle_point,
    spiked_rf_parameters,
)

__all__ = ["EXPERIMENT", "Params", "figure", "simulate", "theory"]

#: Students whose derivative the step needs (smooth, odd).
SMOOTH_STUDENTS = ("tanh", "erf", "sin")


@dataclass(frozen=True)
class Params(ParamsBase):
    """Setting of arXiv 2402.04980, Fig. 1 (σ* = sin, σ = tanh, α0 = 20, λ = 0.1)."""

    alpha: Annotated[
        tuple[float, ...], Range(1e-3, 100.0), "readout sample ratios n/d (the curve's grid)"
    ] = (0.2, 1.6, 3.0)
    eta_tilde: Annotated[
        tuple[float, ...], NonNegative(100.0), "step sizes η̃ (η = η̃ p); 0 = random features"
    ] = (0.0, 1.0, 3.0)
    alpha0: Annotated[
        float, NonNegative(1e6), "first-step batch n0/d (0 = no step: random features)"
    ] = 20.0
    lam: Annotated[
        float,
        Range(1e-3, 1e6),
        "ridge penalty of the readout (sum loss, not × n); below 1e-3 the interpolation peak "
        "at α = 1 needs > 10⁴ saddle-point iterations",
    ] = 0.1
    teacher: Annotated[str, Activation(centred=True), "target σ* (odd), y = σ*(θ*·x)"] = "sin"
    student: Annotated[
        str, Activation(centred=True), "hidden activation σ (odd, smooth: tanh, erf, sin)"
    ] = "tanh"
    drop_F: Annotated[
        bool, "drop the spectral F-term (reproduces the authors' stored notebook output)"
    ] = False
    d: Annotated[int, Range(20, 20_000), "input dimension d = width p of the simulation"] = 1000
    n_test: Annotated[int, Range(100, 1_000_000), "fresh test points per draw"] = 4000
    draws: Annotated[
        int, Range(1, 1000),
        "independent draws (W0, first batch, data) per seed; the sem pools every draw of every "
        "seed",
    ] = 6

    relations = (
        Relation(
            "student",
            lambda p: parse_activation(p.student).name in SMOOTH_STUDENTS,
            f"must be smooth (one of {', '.join(SMOOTH_STUDENTS)}, optionally scaled): the "
            "step uses σ'",
        ),
        Relation(
            "alpha0",
            lambda p: p.alpha0 == 0 or round(p.alpha0 * p.d) >= 1,
            "alpha0 * d must be >= 1 (or alpha0 = 0)",
        ),
    )


#: κ > 0 grid on which the (odd) learned function ŷ(κ) is compared (Fig. 3 of the paper).
KAPPA = (0.5, 1.0, 1.5, 2.0)


# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------


def nonlinear_part(p: Params) -> float:
    """E σ*² − (E zσ*)²: the error floor of random features (Sec. 4)."""
    m = activation_moments(p.student, p.teacher)
    return m["mu2_star"] - m["mu1_star"] ** 2


def finite_size_bulk(p: Params, eta: float) -> float:
    """Leading finite-d term of the bulk B (derived here, not in the paper): the mean part of
    row i of the update, η̃ E[σ*(x1) σ″(w_i·x)] w_i ≈ η̃ (w_i·θ*) μ1* E σ‴(z) w_i, adds
    η̃² (μ1* E σ‴)² E(w_i·θ*)² = η̃² (μ1* E σ‴)²/d to the mean squared row norm."""
    s, t = parse_activation(p.student), parse_activation(p.teacher)
    z, w = gauss_hermite(201)
    third = float(w @ (s(z) * (z**3 - 3 * z)))  # E σ‴(z) = E σ(z) He3(z)
    return 0.0 if p.alpha0 == 0 else eta**2 * (float(w @ (z * t(z))) * third) ** 2 / p.d


def learned_function(p: Params, srf, overlaps: np.ndarray) -> np.ndarray:
    """ŷ(κ) = μ0(κ) m + μ1(κ) κ θ on :data:`KAPPA` (the κ-nodes replaced by the grid)."""
    s = parse_activation(p.student)
    k = np.asarray(KAPPA)
    z, wz = gauss_hermite(41)
    su = s(srf.r * k[:, None] + math.sqrt(srf.c) * z)
    mu0, mu1 = su @ wz, (su * z) @ wz / math.sqrt(srf.c)
    return mu0 * overlaps[6] + mu1 * k * overlaps[4]


def theory(p: Params) -> dict:
    """sRF parameters, test error ε(η̃, α) and ŷ(κ) (saddle point warm-started along α)."""
    eg = np.empty((len(p.eta_tilde), len(p.alpha)))
    learned = np.empty((len(p.eta_tilde), len(KAPPA)))
    spike, excess, cosine, statuses = [], [], [], []
    for i, eta in enumerate(p.eta_tilde):
        srf = spiked_rf_parameters(p.student, p.teacher, p.alpha0, eta)
        spike.append(srf.r)
        excess.append(srf.c - 1.0 + finite_size_bulk(p, eta))
        cosine.append(srf.gamma)
        cc = conditional_coefficients(p.student, p.teacher, srf)
        spec = marchenko_pastur_bulk(srf.c)
        start = None
        for j in np.argsort(p.alpha):
            sp = solve_saddle_point(cc, spec, srf.c, p.alpha[j], p.lam, drop_f=p.drop_F,
                                    start=start)
            start = sp.overlaps if sp.status.converged else None
            eg[i, j] = sp.test_error
            statuses.append(sp.status)
            if j == int(np.argmax(p.alpha)):
                learned[i] = learned_function(p, srf, sp.overlaps)
    return {
        "eg": eg,
        "spike": np.array(spike),
        "bulk_excess": np.array(excess),
        "cosine": np.array(cosine),
        "learned": learned,
        "nonlinear_floor": nonlinear_part(p),
        "solver": SolverStatus.combine(*statuses),
    }


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------

_FLOOR_SAMPLES = 2_000_000
#: Random features: targets σ*(x_k), k < 32, share W0 and the data (one Gram, 32 right-hand
#: sides); W0 and x are rotation invariant, so each is a draw of the same problem.
RF_TARGETS = 32
#: Test-set control variates: Hermite functions up to this total degree of the target
#: coordinate x_1 (degree ≤ 8) and of the spike coordinate orthogonal to it (degree ≤ 4).
CONTROL_DEGREES, CONTROL_TOTAL = (8, 4), 8


def _one_draw(p: Params, streams, k: int) -> dict:
    """Draw k of a seed: W0, first batch, readout and test data, all fresh; one gradient
    direction serves every η̃ (W1 = W0 + η̃ p Gᵀ; the step is computed in float32)."""
    import torch

    from theorylab.models.activations import torch_activation
    from theorylab.models.one_step import (
        hermite_controls,
        measure_spike,
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
    gen = streams.torch(f"readout and test data {k}")
    ns = [max(1, round(a * d)) for a in p.alpha]
    x_tr = torch.randn(max(ns), d, generator=gen, dtype=dt)
    x_te = torch.randn(p.n_test, d, generator=gen, dtype=dt)
    y_tr, y_te = tgt(x_tr[:, 0]), tgt(x_te[:, 0])
    base = (x_tr @ w0.T, x_te @ w0.T)
    step = (x_tr @ g.T, x_te @ g.T) if n0 > 0 else None  # X W1ᵀ = X W0ᵀ + η̃ p X Gᵀ
    out = {name: np.zeros(len(p.eta_tilde)) for name in ("spike", "bulk_excess", "cosine")}
    eg = np.empty((len(p.eta_tilde), len(p.alpha)))
    learned = np.full((len(p.eta_tilde), len(KAPPA)), np.nan)
    k_rf = min(RF_TARGETS, d)
    for i, eta in enumerate(p.eta_tilde):
        w1 = w0 + eta * d * g
        if eta == 0 or n0 == 0:  # no step: every direction e_k is an equivalent target
            controls = hermite_controls(x_te[:, :k_rf].T[..., None], CONTROL_DEGREES[:1],
                                        CONTROL_TOTAL)
            errors, _ = nested_ridge_errors(w0, sig, x_tr, tgt(x_tr[:, :k_rf]), x_te,
                                            tgt(x_te[:, :k_rf]), ns, p.lam, controls,
                                            blocks=True, pre=base)
            eg[i] = errors.mean(1).numpy()
            continue
        m = measure_spike(w0, w1)
        sign = 1.0 if float(m.direction[0]) >= 0 else -1.0
        out["spike"][i], out["bulk_excess"][i] = m.spike, m.bulk
        out["cosine"][i] = abs(float(m.direction[0]))
        perp = m.direction.clone()
        perp[0] = 0.0  # the spike coordinate without its x_1 part: N(0, 1), independent of x_1
        coords = torch.stack([x_te[:, 0], x_te @ (perp / perp.norm())], 1)
        controls = hermite_controls(coords, CONTROL_DEGREES, CONTROL_TOTAL)
        pre = (base[0] + eta * d * step[0], base[1] + eta * d * step[1])
        errors, preds = nested_ridge_errors(w1, sig, x_tr, y_tr, x_te, y_te, ns, p.lam, controls,
                                            blocks=True, pre=pre)
        eg[i] = errors.numpy()
        kappa = (x_te @ (sign * m.direction)).numpy()
        best = preds[int(np.argmax(p.alpha))].numpy()
        for j, c in enumerate(KAPPA):  # ŷ is odd: pool κ and −κ (an exact symmetry)
            up, down = np.abs(kappa - c) < 0.1, np.abs(kappa + c) < 0.1
            if up.any() and down.any():
                learned[i, j] = 0.5 * (best[up].mean() - best[down].mean())
    return {"eg": eg, "learned": learned, **out}


def simulate(p: Params, seed: int, device: str = "cpu") -> dict:
    """The mean over ``draws`` independent draws (W0, first batch, readout and test data) of
    the one-step network, with the draws of ε, r, c and the cosine (their sem pools every draw
    of every seed); θ* = e_1.

    Within a draw the readout data are nested over α (common random numbers along each curve)
    and shared by every η̃; at an α with n ≤ max(n)/2 the error is also averaged over the other
    disjoint blocks of n readout points (independent readout sets, same weights); the test MSE
    on ``n_test`` points is a control-variate estimate
    (:func:`theorylab.models.one_step.control_variate_mean`): Hermite functions of the target
    coordinate x_1 and of the measured spike coordinate orthogonal to it, whose means are exactly
    0 for Gaussian inputs, remove most of the test-set noise. The sRF parameters are measured on
    W1 − W0 (top singular triple); ŷ(κ) is the mean network output of the test points with
    |v̂·x − κ| < 0.1, v̂ the measured spike direction. The non-linear part of the target is a
    Monte-Carlo average over 2·10⁶ scalar Gaussians. No theory output enters.
    """
    from theorylab.seeding import Streams

    streams = Streams(EXPERIMENT.slug, seed)
    draws = [_one_draw(p, streams, k) for k in range(p.draws)]
    pooled = seed_output([{k: r[k] for k in ("eg", "spike", "bulk_excess", "cosine")}
                          for r in draws])
    with np.errstate(invalid="ignore"):
        stack = np.array([r["learned"] for r in draws])
        counts = np.isfinite(stack).sum(0)
        learned = np.where(counts > 0, np.nansum(stack, 0) / np.maximum(counts, 1), np.nan)
    z = streams.numpy("floor").standard_normal(_FLOOR_SAMPLES)
    t = parse_activation(p.teacher)(z)
    floor = float(np.mean(t**2) - np.mean(z * t) ** 2)
    return {**pooled, "learned": learned, "nonlinear_floor": floor}


# --------------------------------------------------------------------------------------------
# Figure
# --------------------------------------------------------------------------------------------


def figure(result):
    """Test error vs α for every η̃ (theory lines, simulation points); ŷ(κ) vs h(κ)."""
    import dataclasses

    import matplotlib.pyplot as plt

    p = result.params
    dense = dataclasses.replace(p, alpha=tuple(np.linspace(0.1, max(p.alpha) * 1.1, 40)))
    th = theory(dense)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for i, eta in enumerate(p.eta_tilde):
        theory_vs_simulation(ax, dense.alpha, th["eg"][i], p.alpha, simulated(result, "eg", i),
                             label=f"η̃ = {eta:g}" + (" (random features)" if eta == 0 else ""))
    ax.axhline(th["nonlinear_floor"], color="gray", ls=":", label="non-linear part of σ*")
    ax.set(xlabel="α = n/d", ylabel="test error", yscale="log",
           title=f"σ* = {p.teacher}, σ = {p.student}, α0 = {p.alpha0:g}, λ = {p.lam:g}")
    ax.legend(fontsize=7)
    k = np.linspace(-2.5, 2.5, 101)
    srf = spiked_rf_parameters(p.student, p.teacher, p.alpha0, max(p.eta_tilde))
    t = parse_activation(p.teacher)
    z, w = gauss_hermite(41)
    ax2.plot(k, t(srf.gamma * k[:, None] + srf.rho * z) @ w, "k--", label="target h(κ)")
    for i, eta in enumerate(p.eta_tilde):
        if eta == 0 or p.alpha0 == 0:  # no spike: κ is not defined
            continue
        sim = simulated(result, "learned", i)
        kk = np.concatenate([-np.asarray(KAPPA)[::-1], KAPPA])
        odd = np.concatenate([-th["learned"][i][::-1], th["learned"][i]])
        sim = None if sim is None else (np.concatenate([-sim[0][::-1], sim[0]]),
                                        np.concatenate([sim[1][::-1], sim[1]]))
        theory_vs_simulation(ax2, kk, odd, kk, sim, label=f"ŷ(κ), η̃ = {eta:g}")
    ax2.set(xlabel="κ = v̂·x (spike coordinate)", ylabel="prediction",
            title=f"learned function at α = {max(p.alpha):g}")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------------------------


def _stepped(p: Params, c) -> bool:
    return c["eta_tilde"] > 0 and p.alpha0 > 0


_STAT = (
    "3 sem over 18 independent draws (3 seeds × 6, pooled; W0, first batch, readout and test data) "
    "of the one-step network at d = p = 1000, α0 = 20, σ* = sin, σ = tanh, λ = 0.1; test MSE "
    "by a control variate on 4000 test points (Hermite functions of x_1 and of the spike "
    "coordinate, exact mean 0: removes 2/3 of the test-set sd) and, at α = 0.2, averaged over "
    "15 disjoint readout sets per draw"
)


EXPERIMENT = Experiment(
    slug="one_step_gd",
    arxiv="2402.04980",
    title="Asymptotics of feature learning in two-layer networks after one gradient-step",
    claim=(
        "After one large gradient step (η = η̃ p on n0 = α0 d samples) the first layer of a "
        "two-layer network is a spiked random-features model whose spike points close to the "
        "target direction; ridge on its features has a test error given exactly by a "
        "low-dimensional saddle point. Random features only learn the linear part of the target "
        "and stay above its non-linear part; one step learns a non-linear function of the spike "
        "coordinate and goes below it."
    ),
    params=Params,
    theory=theory,
    simulate=simulate,
    observables={
        "eg": Observable("test MSE of the ridge readout", ("eta_tilde", "alpha")),
        "spike": Observable("spike strength r (top singular value of W1 − W0 over √p)",
                            ("eta_tilde",)),
        "bulk_excess": Observable("c − 1: bulk variance gained by the step", ("eta_tilde",)),
        "cosine": Observable("γ = |v̂·θ*|, cosine of spike and target", ("eta_tilde",)),
        "learned": Observable("learned function ŷ(κ) along the spike at the largest α",
                              ("eta_tilde", "kappa")),
        "nonlinear_floor": Observable("E σ*² − (E zσ*)²: non-linear part of the target"),
    },
    checks=(
        Agreement(
            "eg",
            reason=_STAT + "; random features (η̃ = 0): the saddle point of Result 3.3 at r = 0; "
            "each draw averages 32 equivalent targets σ*(x_k) sharing W0 and the data. Measured "
            "0.4199, 0.2587, 0.2079 vs 0.4199, 0.2588, 0.2081 at α = 0.2, 1.6, 3 (within "
            "0.1 %, resolution 0.3–1.0 %)",
            where=lambda p, c: c["eta_tilde"] == 0 or p.alpha0 == 0,
            resolution=0.03,
        ),
        Agreement(
            "eg",
            reason=_STAT + "; after the step (η̃ = 1, 3): Result 3.3 with the F-term. 3 sem is "
            "2.0–4.2 % of ε (was 5.0–6.7 % with 12 plain draws), but at d = 1000 the network "
            "sits off the theory by more: η̃ = 1, α = 0.2: +4.4 % (0.0915 vs 0.0877; +4.2 ± 0.9 % "
            "pooled over 40 other draws); η̃ = 3, α = 3: −1.8 % (−2.8 ± 0.6 % pooled); the "
            "other rows +2.0, +0.7 % (η̃ = 1), +1.6, −1.0 % (η̃ = 3). Two finite-size parts, "
            "measured: (i) the sRF model itself (W = √c W0 + r 1v̂ᵀ with Result 3.1's r, c, γ, "
            "no gradient) sits +10.5, +4.5, +1.8 % (± 0.8) above the theory at η̃ = 1, α = 0.2 "
            "for d = 500, 1000, 2000 (∝ 1/d: the theory is its limit; all sRF rows within 1.5 % "
            "at d = 2000); (ii) the network differs from its sRF model by ~2–4 % (η̃ = 3, α = 3: "
            "−2.8 % vs +2.5 % at d = 1000, −1.9 ± 0.9 % vs 0.0 ± 0.5 % at d = 2000). Declared "
            "allowance 5 % for both at d = 1000 (the authors' own d = 2000 simulations sit "
            "3.5–3.9 % above their theory at small α). Resolution 8–12 % (declared 13 %): the "
            "3 % goal is blocked by these finite-size gaps, not by the estimator. Measured, not "
            "adopted: extrapolating 2ε(1000) − ε(500) (shared randomness, 31 draws) leaves "
            "≤ 2.4 ± 1.3 % but multiplies 3 sem by 1.5–2.8; Result 3.3 at each draw's measured "
            "r, c, γ moves the theory by only 0.3–1.4 % (the 1/d part is in the finite-n ridge)",
            where=_stepped,
            rtol=0.05,
            resolution=0.13,
        ),
        Agreement(
            "spike",
            reason=_STAT + "; Result 3.1: r = η̃ μ1 √(μ1*² + μ2*/α0) vs the top singular value "
            "of W1 − W0 over √p: measured 0.3779, 1.1338 vs 0.3780, 1.1341 (resolution 0.3 %)",
            where=_stepped,
            resolution=0.03,
        ),
        Agreement(
            "bulk_excess",
            reason=_STAT + "; Result 3.1: c − 1 = η̃² μ2* Var σ'(z)/α0, plus the leading finite-d "
            "term η̃²(μ1* E σ‴)²/d derived here (2.3 % of c − 1 at d = 1000; without it the "
            "theory sits 2.3 % low), vs the mean squared row norm of W1 − W0 without its "
            "rank-one part: measured 0.002155, 0.01939 vs 0.002157, 0.01941 (resolution 0.4 %)",
            where=_stepped,
            resolution=0.03,
        ),
        Agreement(
            "cosine",
            reason=_STAT + "; Result 3.1: γ = μ1*/√(μ1*² + μ2*/α0) vs |v̂·θ*| of the top right "
            "singular vector of W1 − W0: measured 0.97109 vs 0.97185 (−0.08 %, within 3 sem = "
            "0.10 %; 0.97067 ± 0.0003 at d = 2000, so a small gap that is not 1/d; resolution "
            "0.17 %)",
            where=_stepped,
            resolution=0.03,
        ),
        Agreement(
            "nonlinear_floor",
            reason="the random-features floor of Sec. 4, E σ*² − (E zσ*)², vs a Monte-Carlo "
            "average over 2·10⁶ Gaussians per seed: 0.06466 vs 0.064453 (resolution 0.8 %)",
            resolution=0.03,
        ),
        Criterion(
            "eg",
            ">=",
            "nonlinear_floor",
            reason="Sec. 4 (Fig. 1): random features learn only the linear part of σ*, so their "
            "error stays above its non-linear part at every α: simulated 0.42, 0.26, 0.21 vs "
            "0.0645",
            where=lambda p, c: c["eta_tilde"] == 0 or p.alpha0 == 0,
        ),
        Criterion(
            "eg",
            "<=",
            "nonlinear_floor",
            reason="Sec. 4 (Fig. 1): one large step (η̃ = 3, α0 = 20) learns a non-linear "
            "function of the spike coordinate and goes below the random-features floor: "
            "simulated 0.031 vs 0.0645 at the largest α",
            where=lambda p, c: c["eta_tilde"] == max(p.eta_tilde) > 0
            and c["alpha"] == max(p.alpha) and p.alpha0 > 0,
        ),
    ),
    theory_only={
        "learned": "ŷ(κ) = μ0(κ)m + μ1(κ)κθ (Result 3.3, Fig. 3) is drawn against the binned "
        "network output: at d = 1000, 16 draws, it agrees within 1–2 % at κ = 0.5…2 but with "
        "deviations beyond 3 sem (η̃ = 3: +1.5 % at κ = 0.5, −1.8 % at κ = 2; sem 0.1–0.3 %): "
        "the same sRF-vs-network gap as the test error, not a 3 % check",
    },
    dims={"kappa": lambda p: KAPPA},
    figure=figure,
    smoke={"d": 60, "n_test": 400, "alpha0": 2.0, "alpha": (0.5, 1.5), "draws": 1},
    protocol=3,
    seeds=3,
    full={"d": 2000, "draws": 4},
    full_seeds=3,
    cpu_only="not ported to accelerators: float64 torch with numpy readouts per draw",
)
