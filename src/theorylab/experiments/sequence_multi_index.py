"""High-dimensional learning of narrow neural networks (arXiv 2409.13904).

H. Cui's review writes perceptrons, committee machines, autoencoders and attention layers as one
*multi-index model*: the label depends on a d-dimensional input only through K ≪ d projections
h = xW/√d. For n = αd samples with d → ∞, Bayes-optimal (BO) learning and empirical risk
minimisation (ERM) are described by K×K overlaps solving replica saddle-point equations
(Sec. 3), which are the state evolution (SE) of a GAMP algorithm (Sec. 4) that therefore reaches
the predicted performance at finite d. One engine (:mod:`theorylab.theory.gamp`,
:mod:`theorylab.theory.state_evolution`) runs three instances, each theory against GAMP on data:

* BO sign perceptron (K = 1, y = sign h, w ~ N(0, 1)): q = q̂/(1 + q̂) with the stable Q̂
  integral; test error ε = arccos(√q)/π, and α·ε → 1/(πc) at large α;
* ridge ERM on sign labels (K = 1, ½Σ(y − z)² + λ‖w‖²/2): SE for (m, q, V), the closed-form
  ridge risk (deterministic equivalent of the Gaussian-equivalent linear target), GAMP with the
  square loss and ℓ2 proximal denoiser, and the direct (Cholesky) ridge solve on the same data;
* BO committee machine K = 2 (y = sign(sign h₁ + sign h₂) ∈ {−1, 0, 1}): the non-specialised
  branch Q = a·11ᵀ (both hidden units learn w₁* + w₂*) and the specialised branch, which
  appears continuously at α_spec where the former loses stability.
"""

from __future__ import annotations

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
    TheoryIdentity,
)
from theorylab.experiments.plotting import simulated, theory_vs_simulation
from theorylab.experiments.result import seed_output
from theorylab.theory.fixed_point import SolverStatus
from theorylab.theory.gamp import (
    CommitteeSignChannel,
    GaussianPrior,
    L2Penalty,
    SignChannel,
    SquareLoss,
    gamp,
    tie_columns,
)
from theorylab.theory.ridge import Spectrum, ridge_risk
from theorylab.theory.state_evolution import (
    bo_error,
    bo_state_evolution,
    erm_state_evolution,
    sign_bo_limit,
    specialisation_threshold,
    symmetric_committee_overlap,
)

__all__ = ["EXPERIMENT", "Params", "figure", "simulate", "theory"]

MU1 = math.sqrt(2.0 / math.pi)  # E[sign(z) z], z ~ N(0, 1)
BRANCHES = ("non-specialised", "specialised")


@dataclass(frozen=True)
class Params(ParamsBase):
    """Setting of arXiv 2409.13904's three verified instances (defaults: the quick size)."""

    alpha: Annotated[
        tuple[float, ...], Range(0.05, 50.0), "sample ratios n/d (sign perceptron and ridge)"
    ] = (0.5, 1.0, 2.0, 4.0)
    lam: Annotated[tuple[float, ...], Range(1e-3, 1e3), "ridge penalties λ (ERM)"] = (
        0.01, 0.1, 1.0)
    alpha_committee: Annotated[
        tuple[float, ...], Range(0.1, 6.0), "sample ratios n/d of the K = 2 committee"
    ] = (1.0, 3.0)
    committee_k: Annotated[
        int, Range(2, 2), "hidden units K of the committee (the sign–sign channel with its "
        "y = 0 label is implemented for K = 2)"
    ] = 2
    alpha_large: Annotated[
        float, Range(50.0, 1e5), "α at which the SE's α·ε is compared with its α → ∞ limit"
    ] = 1000.0
    d: Annotated[int, Range(20, 20_000), "input dimension of the perceptron GAMP runs"] = 2000
    d_ridge: Annotated[int, Range(20, 10_000), "input dimension of the ridge runs"] = 1000
    ridge_draws: Annotated[int, Range(1, 100), "independent ridge draws averaged per seed"] = 3
    d_committee: Annotated[int, Range(20, 10_000), "input dimension of the committee runs"] = 1000
    n_test: Annotated[int, Range(100, 1_000_000), "test points for the committee error"] = 20_000
    committee_tol: Annotated[
        float, Positive(0.1), "GAMP stopping tolerance ‖ΔŴ‖/‖Ŵ‖ for the committee"
    ] = 1e-3
    draws: Annotated[
        int, Range(1, 1000), "independent draws of the three instances per seed; the sem pools "
        "every draw of every seed"
    ] = 10


# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------


def perceptron_se(alpha: float):
    """BO sign perceptron: Q = Q̂/(1 + Q̂), stable Q̂ (damping 0.5, start q = 1e-4)."""
    res = bo_state_evolution(GaussianPrior(), SignChannel(), alpha, np.array([[1e-4]]),
                             damping=0.5, tol=1e-12)
    return float(res.x[0, 0]), res.status


def ridge_closed_form(alpha: np.ndarray, lam: np.ndarray):
    """Test MSE of ridge on y = sign(z): the Gaussian-equivalent target y = μ₁z + ζ with
    E ζ² = 1 − μ₁² fed to the ridge deterministic equivalent (:mod:`theorylab.theory.ridge`)."""
    spec = Spectrum.isotropic(dim=1.0, value=1.0, target_norm2=MU1**2)
    risk = ridge_risk(spec, noise=1.0 - MU1**2, n=alpha, lam=lam)
    return risk.excess_risk + 1.0 - MU1**2, risk.status


def committee_branches(alpha: float):
    """(Q₁₁, Q₁₂) of the non-specialised branch (root of the map on Q = a·11ᵀ) and of the
    specialised branch (Anderson-accelerated SE from Q₀ = I/2, off the invariant set)."""
    prior, channel = GaussianPrior(), CommitteeSignChannel()
    # Hermite nodes per axis: Q within 0.2 % of a 60-node grid for α ≤ 3; above, V = I − Q
    # shrinks and the integrand sharpens (24 nodes are 5 % off on Q₁₂ at α = 4)
    nodes = 24 if alpha <= 3.0 else 60
    a = symmetric_committee_overlap(prior, channel, alpha, nodes=nodes)
    res = bo_state_evolution(prior, channel, alpha, 0.5 * np.eye(2), tol=1e-10, nodes=nodes,
                             method="anderson", max_iter=500)
    if not res.status.converged:  # Anderson can overshoot far from the fixed point
        res = bo_state_evolution(prior, channel, alpha, 0.5 * np.eye(2), tol=1e-10,
                                 nodes=nodes, max_iter=3000)
    q = res.x
    if q[0, 0] - q[0, 1] < 1e-6:  # below α_spec both starts reach the non-specialised point
        q = np.full((2, 2), a)
    return np.full((2, 2), a), q, res.status


def theory(p: Params) -> dict:
    alpha = np.asarray(p.alpha, float)
    lam = np.asarray(p.lam, float)
    statuses = []
    q_sign = np.empty(alpha.shape)
    for i, a in enumerate(alpha):
        q_sign[i], st = perceptron_se(a)
        statuses.append(st)
    q_large, st = perceptron_se(p.alpha_large)
    statuses.append(st)
    eps_large = bo_error(SignChannel(), np.array([[q_large]]), np.eye(1))
    # ridge ERM SE on each (λ, α)
    mqv = np.empty((3, len(lam), len(alpha)))
    for i, la in enumerate(lam):
        for j, a in enumerate(alpha):
            res = erm_state_evolution(SquareLoss(), SignChannel(), la, a)
            mqv[:, i, j] = res.x
            statuses.append(res.status)
    m, q = mqv[0], mqv[1]
    mse_det, st = ridge_closed_form(alpha[None, :], lam[:, None])
    statuses.append(st)
    # committee K = 2
    ac = np.asarray(p.alpha_committee, float)
    qd = np.empty((2, len(ac)))
    qo = np.empty((2, len(ac)))
    eps_c = np.empty((2, len(ac)))
    ch = CommitteeSignChannel()
    for j, a in enumerate(ac):
        q_ns, q_sp, st = committee_branches(a)
        statuses.append(st)
        for b, qq in enumerate((q_ns, q_sp)):
            qd[b, j], qo[b, j] = qq[0, 0], qq[0, 1]
            eps_c[b, j] = bo_error(ch, qq, np.eye(2), nodes=80)
    a_spec, st = specialisation_threshold(GaussianPrior(), CommitteeSignChannel(), nodes=24)
    statuses.append(st)
    return {
        "q_sign": q_sign,
        "eps_sign": np.arccos(np.sqrt(q_sign)) / np.pi,
        "alpha_eps_large": p.alpha_large * eps_large,
        "alpha_eps_limit": sign_bo_limit(),
        "m_ridge": m,
        "q_ridge": q,
        "mse_ridge": 1.0 - 2.0 * MU1 * m + q,
        "mse_ridge_closed_form": mse_det,
        "eps_ridge": np.arccos(m / np.sqrt(q)) / np.pi,
        "gamp_erm_gap": np.zeros(alpha.shape),
        "q_diag": qd,
        "q_off": qo,
        "eps_committee": eps_c,
        "alpha_spec": a_spec,
        "solver": SolverStatus.combine(*statuses),
    }


# --------------------------------------------------------------------------------------------
# Simulation: GAMP (and a direct ridge solve) on data
# --------------------------------------------------------------------------------------------


def _teacher(rng: np.random.Generator, d: int, k: int) -> np.ndarray:
    """Teacher columns orthogonalised and scaled to W*ᵀW*/d = I (removes the O(1/√d) spread of
    the teacher norm, which the d → ∞ theory does not have)."""
    w, _ = np.linalg.qr(rng.standard_normal((d, k)))
    return w * math.sqrt(d)


def _perceptron(p: Params, streams) -> dict:
    rng = streams.numpy("perceptron")
    w_star = _teacher(rng, p.d, 1)[:, 0]
    n_max = max(1, round(max(p.alpha) * p.d))
    x = rng.standard_normal((n_max, p.d))
    y = np.where(x @ w_star >= 0, 1.0, -1.0)
    w0 = 1e-3 * streams.numpy("perceptron init").standard_normal(p.d)
    m = np.empty(len(p.alpha))
    q = np.empty(len(p.alpha))
    for j, a in enumerate(p.alpha):
        n = max(1, round(a * p.d))
        res = gamp(x[:n], y[:n], GaussianPrior(), SignChannel(), w0=w0, tol=1e-7, max_iter=300)
        m[j] = res.w[:, 0] @ w_star / p.d
        q[j] = res.w[:, 0] @ res.w[:, 0] / p.d
    return {"q_sign": m, "eps_sign": np.arccos(np.clip(m / np.sqrt(q), -1, 1)) / np.pi}


def _ridge_solve(x: np.ndarray, y: np.ndarray, lam: float, gram=None, rhs=None) -> np.ndarray:
    """argmin ½‖y − xw‖² + (λ/2)‖w‖² by a Cholesky solve of the normal equations (the primal
    or the dual form, whichever is smaller) — what scikit-learn's ``Ridge(solver="cholesky",
    fit_intercept=False)`` computes; scikit-learn is not installed in this environment.
    ``gram``/``rhs`` (xᵀx, xᵀy) may be passed when already formed."""
    from scipy.linalg import solve

    n, d = x.shape
    if gram is not None:  # xᵀx and xᵀy given
        return solve(gram + lam * np.eye(d), rhs, assume_a="pos")
    if n >= d:
        return solve(x.T @ x + lam * np.eye(d), x.T @ y, assume_a="pos")
    return x.T @ solve(x @ x.T + lam * np.eye(n), y, assume_a="pos")


def _ridge_draw(p: Params, rng: np.random.Generator):
    """One draw of teacher and data: (m, q) of the direct ridge solve on each (λ, α), and the
    relative gap between GAMP-ERM and the direct solve at the largest λ on each α."""
    d = p.d_ridge
    w_star = _teacher(rng, d, 1)[:, 0]
    n_max = max(1, round(max(p.alpha) * d))
    x = rng.standard_normal((n_max, d)) / math.sqrt(d)
    y = np.where(x @ w_star >= 0, 1.0, -1.0)
    m = np.empty((len(p.lam), len(p.alpha)))
    q = np.empty_like(m)
    gap = np.empty(len(p.alpha))
    gram, rhs, done = np.zeros((d, d)), np.zeros(d), 0
    for j in np.argsort(p.alpha):  # Gram matrix of nested training sets, built incrementally
        n = max(1, round(p.alpha[j] * d))
        if n > done:
            gram += x[done:n].T @ x[done:n]
            rhs += x[done:n].T @ y[done:n]
            done = n
        for i, la in enumerate(p.lam):
            w = _ridge_solve(x[:n], y[:n], la, gram if n >= d else None, rhs)
            m[i, j], q[i, j] = w @ w_star / d, w @ w / d
        # GAMP with the square loss and the ℓ2 prox at the largest λ, on the same data
        res = gamp(x[:n] * math.sqrt(d), y[:n], L2Penalty(max(p.lam)), SquareLoss(),
                   w0=np.zeros(d), tol=1e-11, max_iter=2000)
        ref = _ridge_solve(x[:n], y[:n], max(p.lam), gram if n >= d else None, rhs)
        gap[j] = np.max(np.abs(res.w[:, 0] - ref)) / np.max(np.abs(ref))
    return m, q, gap


def _ridge(p: Params, streams) -> dict:
    """Averages over ``ridge_draws`` independent draws of teacher and data (cheap next to the
    committee)."""
    rng = streams.numpy("ridge")
    draws = [_ridge_draw(p, rng) for _ in range(p.ridge_draws)]
    m = np.mean([dr[0] for dr in draws], axis=0)
    q = np.mean([dr[1] for dr in draws], axis=0)
    eps = np.mean([np.arccos(np.clip(dr[0] / np.sqrt(dr[1]), -1, 1)) / np.pi for dr in draws],
                  axis=0)
    return {
        "m_ridge": m,
        "q_ridge": q,
        "mse_ridge": 1.0 - 2.0 * MU1 * m + q,  # E(y − ŷ)² for Gaussian x, exact given ŵ
        "eps_ridge": eps,
        "gamp_erm_gap": np.max([dr[2] for dr in draws], axis=0),
    }


def _committee(p: Params, streams) -> dict:
    rng = streams.numpy("committee")
    d = p.d_committee
    ch = CommitteeSignChannel(nodes=12)
    w_star = _teacher(rng, d, 2)
    n_max = max(1, round(max(p.alpha_committee) * d))
    x = rng.standard_normal((n_max, d))
    y = ch.sample(x @ w_star / math.sqrt(d), None)
    x_test = rng.standard_normal((p.n_test, d))
    y_test = ch.sample(x_test @ w_star / math.sqrt(d), None)
    init = streams.numpy("committee init")
    starts = (np.repeat(0.05 * init.standard_normal((d, 1)), 2, axis=1),  # on the tied set
              0.05 * init.standard_normal((d, 2)))  # asymmetric random start
    qd = np.empty((2, len(p.alpha_committee)))
    qo = np.empty_like(qd)
    eps = np.empty_like(qd)
    for j, a in enumerate(p.alpha_committee):
        n = max(1, round(a * d))
        for b, (w0, con) in enumerate(zip(starts, (tie_columns, None), strict=True)):
            res = gamp(x[:n], y[:n], GaussianPrior(), ch, w0=w0, tol=p.committee_tol,
                       max_iter=400, nishimori=True, constraint=con)
            qq = res.w.T @ res.w / d
            qd[b, j], qo[b, j] = 0.5 * np.trace(qq), qq[0, 1]
            omega = x_test @ res.w / math.sqrt(d)
            z = np.stack([ch.partition(np.full(p.n_test, lab), omega, res.c)
                          for lab in ch.labels])
            guess = np.asarray(ch.labels)[np.argmax(z, axis=0)]
            eps[b, j] = float(np.mean(guess != y_test))
    return {"q_diag": qd, "q_off": qo, "eps_committee": eps}


def simulate(p: Params, seed: int, device: str = "cpu") -> dict:
    """``draws`` independent draws of teacher and data for the three instances, each run by
    GAMP and the direct ridge solve (numpy float64; ``device`` is not used): their mean, and
    the draws, over which the sem pools."""
    from theorylab.seeding import Streams

    streams = Streams(EXPERIMENT.slug, seed)
    return seed_output([one_draw(p, streams.draw(k)) for k in range(p.draws)])


def one_draw(p: Params, streams) -> dict:
    """The three instances on one draw's streams."""
    return {**_perceptron(p, streams), **_ridge(p, streams), **_committee(p, streams)}


# --------------------------------------------------------------------------------------------
# Figure
# --------------------------------------------------------------------------------------------


def figure(result):
    """ε vs α: BO perceptron and ridge (SE lines, GAMP / direct-solve points); committee K = 2:
    both SE branches with GAMP points, α_spec marked."""
    import dataclasses

    import matplotlib.pyplot as plt

    p = result.params
    dense = dataclasses.replace(p, alpha=tuple(np.geomspace(0.1, 8.0, 40)),
                                alpha_committee=tuple(np.linspace(0.25, 3.5, 14)))
    th = theory(dense)
    a, ac = np.asarray(dense.alpha), np.asarray(dense.alpha_committee)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    theory_vs_simulation(ax, a, th["eps_sign"], p.alpha, simulated(result, "eps_sign"),
                         color="black", label="BO perceptron (SE)",
                         sim_label=f"GAMP, d = {p.d}")
    ax.plot(a, th["alpha_eps_limit"] / a, color="gray", ls=":", label="0.4417/α")
    for i, lam in enumerate(p.lam):
        theory_vs_simulation(ax, a, th["eps_ridge"][i], p.alpha,
                             simulated(result, "eps_ridge", i), color=f"C{i}", ls="--",
                             marker="s", label=f"ridge λ = {lam:g}")
    ax.set(xscale="log", xlabel="α = n/d", ylabel="test error ε", ylim=(0, 0.5),
           title="K = 1: Bayes-optimal vs ridge on sign labels")
    ax.legend(fontsize=7)
    for b, name in enumerate(BRANCHES):
        theory_vs_simulation(ax2, ac, th["eps_committee"][b], p.alpha_committee,
                             simulated(result, "eps_committee", b), color=f"C{b + 3}",
                             label=f"{name} (SE)", sim_label=f"GAMP {name}")
    ax2.axvline(th["alpha_spec"], color="gray", ls=":",
                label=f"α_spec = {th['alpha_spec']:.3f}")
    ax2.set(xlabel="α = n/d", ylabel="BO test error ε", title="committee K = 2")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------------------------

_DRAWS = 30  # 3 seeds × 10 draws


def _near_peak(p: Params, c) -> bool:
    """Small λ near n ≈ d: the interpolation peak of ridge, where one draw is heavy-tailed."""
    return c["lam"] < 0.05 and c["alpha"] <= 1.5


def _specialised_row(c) -> bool:
    """The specialised branch well above the transition (α_spec ≈ 2.05)."""
    return c["branch"] == "specialised" and c["alpha_committee"] >= 2.5


def _ridge_checks(name: str, what: str) -> tuple[Agreement, Agreement]:
    away = Agreement(name, reason=f"{what} vs the direct ridge solve at d = 1000; {_RIDGE}; "
                     "away from the interpolation peak: resolves 0.3–1.8 %",
                     where=lambda p, c: not _near_peak(p, c), resolution=0.03)
    near = Agreement(name, reason=f"{what} vs the direct ridge solve at d = 1000; {_RIDGE}; at "
                     "the interpolation peak (λ = 0.01, α ≤ 1) one draw's ridge solution is "
                     "heavy-tailed: resolves 0.9–2.4 % on seeds 0–2 and on seeds 3–5 "
                     "(declared 3.5 %; 5 % with 12 draws)", where=_near_peak, resolution=0.035)
    return away, near
_RIDGE = (f"3 sem over {_DRAWS} draws (3 seeds × 10, pooled), each the mean of 3 independent "
          "ridge draws of teacher and "
          "data (the direct solve is what scikit-learn's Ridge(solver='cholesky') computes)")
_GAMP = (f"3 sem over {_DRAWS} independent draws of teacher and data (3 seeds × 10, pooled); "
         "GAMP (Sec. 4 of the "
         "review) run on the data is the finite-size algorithm whose overlaps the SE predicts")
EXPERIMENT = Experiment(
    slug="sequence_multi_index",
    arxiv="2409.13904",
    title="High-dimensional learning of narrow neural networks",
    claim=(
        "Networks with a finite number K of hidden units trained on n = αd high-dimensional "
        "samples — perceptrons, committee machines, autoencoders, attention layers — are one "
        "multi-index model. As d → ∞ both Bayes-optimal learning and empirical risk minimisation "
        "are described by K×K overlaps solving replica equations, which are the state "
        "evolution of a GAMP algorithm; GAMP therefore reaches the predicted errors at finite "
        "d. Instances: the Bayes-optimal perceptron (α·ε → 0.4417), ridge on sign labels, and "
        "the K = 2 committee whose hidden units specialise at α_spec ≈ 2.05."
    ),
    params=Params,
    theory=theory,
    simulate=simulate,
    observables={
        "q_sign": Observable("BO perceptron overlap q (simulation: ŵ·w*/d of GAMP)", ("alpha",)),
        "eps_sign": Observable("BO perceptron test error arccos(√q)/π", ("alpha",)),
        "alpha_eps_large": Observable("α·ε of the perceptron SE at α = alpha_large"),
        "alpha_eps_limit": Observable("lim α·ε = 1/(πc), c = φ(0)E[φ/(ΦΦ̄)]"),
        "m_ridge": Observable("ridge teacher overlap ŵ·w*/d", ("lam", "alpha")),
        "q_ridge": Observable("ridge norm ‖ŵ‖²/d", ("lam", "alpha")),
        "mse_ridge": Observable("ridge test MSE E(y − ŷ)²", ("lam", "alpha")),
        "mse_ridge_closed_form": Observable(
            "ridge test MSE from the deterministic equivalent", ("lam", "alpha")),
        "eps_ridge": Observable("classification error of sign(ŷ) for ridge", ("lam", "alpha")),
        "gamp_erm_gap": Observable(
            "max|ŵ_GAMP − ŵ_direct|/max|ŵ_direct| at the largest λ", ("alpha",)),
        "q_diag": Observable("committee Q₁₁ = Q₂₂", ("branch", "alpha_committee")),
        "q_off": Observable("committee Q₁₂", ("branch", "alpha_committee")),
        "eps_committee": Observable("committee BO test error", ("branch", "alpha_committee")),
        "alpha_spec": Observable("specialisation transition of the K = 2 committee"),
    },
    checks=(
        Agreement("q_sign", reason="BO overlap q = q̂/(1 + q̂) of the perceptron SE (Sec. 3) vs "
                  f"ŵ·w*/d of GAMP at d = 2000; {_GAMP}", resolution=0.03),
        Agreement("eps_sign", reason="BO test error arccos(√q)/π (Sec. 3) vs the exact test "
                  f"error arccos(m/√q)/π of GAMP's ŵ at d = 2000; {_GAMP}", resolution=0.03),
        TheoryIdentity("alpha_eps_large", "alpha_eps_limit", atol=5e-4,
                       reason="the large-α law of the BO perceptron, α·ε → 0.4417: the full SE "
                       "at α = 10³ (stable Q̂ integral; the naive one gives q = 1, ε = 0) vs the "
                       "asymptotic integral; the correction is O(1/α) ≈ 1e-5 at α = 10³"),
        *_ridge_checks("m_ridge", "ERM SE m (Sec. 3, ℓ2 penalty, square loss)"),
        *_ridge_checks("q_ridge", "ERM SE q"),
        *_ridge_checks("mse_ridge", "ERM SE test MSE 1 − 2μ₁m + q (exact given ŵ for Gaussian x)"),
        *_ridge_checks("eps_ridge", "ERM SE classification error arccos(m/√q)/π"),
        TheoryIdentity("mse_ridge", "mse_ridge_closed_form", atol=1e-8,
                       reason="the replica/SE ridge error equals the closed-form ridge risk of "
                       "the Gaussian-equivalent linear target y = μ₁z + ζ (two independent "
                       "solvers)"),
        Criterion("gamp_erm_gap", "<=", "gamp_erm_gap", atol=1e-6,
                  reason="GAMP with the square loss and the ℓ2 proximal denoiser (Sec. 4) has "
                  "the ridge minimiser as its fixed point: its ŵ equals the direct ridge solve's "
                  "coefficients up to GAMP's stopping tolerance 1e-11 (allowance 1e-6)"),
        Agreement("q_diag", reason="committee K = 2 SE (Sec. 3; Aubin et al. 2018) on both "
                  "branches vs GAMP at d = 1000 from a tied start (non-specialised) and an "
                  f"asymmetric random start (specialised); {_GAMP}. One draw's Q fluctuates by "
                  "≈ 4 % at d = 1000, so 30 draws resolve 1.3–2.1 % (seeds 0–2), 1.9–2.7 % "
                  "(seeds 3–5; declared 3.5 %); measured within 1 % of the SE on every row",
                  resolution=0.035),
        Agreement("q_off", reason="committee Q₁₂: equal to Q₁₁ on the non-specialised branch "
                  f"(and below α_spec); GAMP at d = 1000; {_GAMP}; resolves 1.4–2.1 % "
                  "(seeds 0–2), 1.9–2.7 % (seeds 3–5; declared 3.5 %)",
                  where=lambda p, c: not _specialised_row(c), resolution=0.035),
        Agreement("q_off", reason="committee Q₁₂ on the specialised branch above α_spec (SE "
                  "0.161 at α = 3): a small overlap whose per-draw spread at d = 1000 is ≈ 0.025 "
                  f"(15 %; 0.014 at d = 4000, where 14 draws give 0.1610 ± 0.0038); {_GAMP}; "
                  "resolves 6.7 % (seeds 0–2), 10.7 % (seeds 3–5; declared 15 %); measured "
                  "0.1614 vs 0.1613",
                  where=lambda p, c: _specialised_row(c), resolution=0.15),
        Agreement("eps_committee", reason="committee BO error 1 − E max_y Z_out (Sec. 3) vs "
                  "the test error of GAMP's posterior predictor argmax_y Z_out(y; ω, C) on "
                  f"20 000 fresh points; {_GAMP}; resolves 1.1–1.7 %",
                  where=lambda p, c: not _specialised_row(c), resolution=0.03),
        Agreement("eps_committee", reason="specialised-branch BO error above α_spec (SE 0.2982 "
                  "at α = 3) vs GAMP's predictor: the per-draw spread of the specialised GAMP "
                  f"fixed point at d = 1000 limits this row to 3.9 % (seeds 0–2), 4.1 % (seeds "
                  f"3–5; declared 6 %); {_GAMP}; "
                  "measured 0.3029 vs 0.2982. The right tail of partly specialised GAMP "
                  "fixed points (ε 0.33–0.35 at d = 1000) is finite size: a d-scan "
                  "(benchmarks/study_committee_finite_size.py, fresh draws) gives +2.1 ± 0.6 %, "
                  "+0.8 ± 0.5 %, +0.4 ± 0.4 %, +0.3 ± 0.5 % at d = 500, 1000, 2000, 4000 (60, 34, "
                  "24, 14 draws; d = 4000 on 16 cores), the per-draw sd falling 0.014, 0.0083, "
                  "0.0053, 0.0052 (of which 0.0032 is the 20 000 test points' binomial noise); "
                  "a 19-draw sample at d = 1000 gave +4.0 ± 1.2 %",
                  where=lambda p, c: _specialised_row(c),
                  resolution=0.06),
    ),
    theory_only={
        "alpha_spec": "located by the linear instability of the non-specialised SE fixed point; "
        "tested against the iterated SE on both sides in tests/theory/test_state_evolution.py",
    },
    figure=figure,
    dims={"branch": lambda p: BRANCHES},
    smoke={"alpha": (1.0,), "lam": (0.1,), "alpha_committee": (1.0,), "d": 100,
           "d_ridge": 100, "d_committee": 60, "n_test": 500, "ridge_draws": 1, "draws": 2},
    protocol=4,
    seeds=3,
    full={"d": 4000, "d_ridge": 2000, "d_committee": 2000, "draws": 6},
    full_seeds=3,
    cpu_only="GAMP and the ERM references in numpy",
)
