"""Deterministic equivalent and error universality of deep random features (arXiv 2302.00401).

Schröder, Cui, Dmitriev, Loureiro, ICML 2023. Features v = h_L of a deep network with frozen
i.i.d. Gaussian weights, h_ℓ = σ(W_ℓ h_{ℓ−1}), h_0 = x ~ N(0, I_d), W_ℓ ∈ R^{k×k_{ℓ−1}} with
N(0, 1/k_{ℓ−1}) entries; only the readout is learned, by ridge regression on X = v/√k:

    ŵ = argmin_w Σ_{μ≤n} (y_μ − w·X_μ)² + λ‖w‖²,      ε_g = E(y − ŵ·X)².

Target: a random network y = θ·σ*(W* x)/√k* (+ noise), σ* = sign in the paper's figures.

* **Closed-form moments** (Eqs. (8)–(10)): with κ1, κ* of each layer at the propagated variance
  r_1 = 1, r_{ℓ+1} = E σ(z)², z ~ N(0, r_ℓ):
  Ω_ℓ = κ1² W_ℓ Ω_{ℓ−1} W_ℓᵀ + κ*² I (Ω_0 = I), Φ_ℓ = κ1 W_ℓ Φ_{ℓ−1} (Φ_0 = κ1* W*ᵀ),
  Ψ = κ1*² W* W*ᵀ + κ**² I (:func:`theorylab.theory.feature_covariance.propagate`).
* **Sharp ridge error** (Thm. 3.1; Gaussian covariate model): the readout sees
  Cov X = Ω/k, E[X y] = Φθ/√(k k*), E y² = θᵀΨθ/k* + Δ, and the error is the deterministic
  equivalent of :func:`theorylab.theory.ridge.ridge_test_error`.
* **Gaussian universality**: the real network's error equals that of Gaussian features with the
  same moments (proven when the target is a linear function of the same features,
  y = θ*·v/√k + noise — the ``eg_shared`` observable; conjectured for the network target).

The theory is a function of the *drawn* weights: they come from ``numpy.random.default_rng(
weight_seed)`` in the order θ, W*, W_1, …, W_L, θ* (:func:`draw_weights`), and the simulation
uses these very arrays (converted to torch), with fresh data per seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from theorylab.experiments.base import (
    Agreement,
    CheckResult,
    Experiment,
    Observable,
    Variant,
    make_params,
    require_centred_activation,
    require_int,
    require_nonempty,
    require_positive,
    require_range,
)
from theorylab.theory.feature_covariance import Propagation, propagate
from theorylab.theory.fixed_point import SolverStatus
from theorylab.theory.hermite import hermite_coefficients
from theorylab.theory.ridge import FeatureMoments, optimal_ridge, ridge_test_error

__all__ = [
    "EXPERIMENT",
    "Params",
    "Weights",
    "draw_weights",
    "figure",
    "network_target_moments",
    "shared_feature_moments",
    "simulate",
    "theory",
]

MAX_DEPTH = 8


@dataclass(frozen=True)
class Params:
    """Setting of arXiv 2302.00401 (defaults: the quick size of the paper note).

    Attributes
    ----------
    alpha : sample ratios n/d (grid axis of every learning curve).
    lam : ridge penalties λ (sum convention; grid axis).
    depth : numbers of hidden layers L compared (grid axis; the depth-L network uses the first
        L weight matrices of one draw).
    activation : σ of every hidden layer (zero-mean, e.g. tanh, erf, door, sign).
    target_activation : σ* of the target's hidden layer (zero-mean).
    d : input dimension; gamma : hidden widths k = round(γ d); teacher_ratio : k* = round(· d).
    noise : label-noise variance Δ of the network target.
    shared_noise : label-noise variance of the shared-feature target y = θ*·v/√k + noise.
    weight_seed : seed of numpy's default_rng drawing θ, W*, W_1, …, θ* (see draw_weights).
    n_test : fresh test samples per seed.
    """

    alpha: tuple[float, ...] = (0.5, 1.0, 2.0, 3.0, 4.0)
    lam: tuple[float, ...] = (0.001, 0.01)
    depth: tuple[int, ...] = (1, 2, 3)
    activation: str = "tanh"
    target_activation: str = "sign"
    d: int = 200
    gamma: float = 2.0
    teacher_ratio: float = 1.0
    noise: float = 0.0
    shared_noise: float = 0.01
    weight_seed: int = 42
    n_test: int = 4000

    def __post_init__(self) -> None:
        require_nonempty("alpha", self.alpha)
        require_range("alpha", self.alpha, 1e-3, 1e3)
        require_nonempty("lam", self.lam)
        require_positive("lam", self.lam)
        require_nonempty("depth", self.depth)
        require_int("depth", self.depth, 1, MAX_DEPTH)
        if len(set(self.depth)) != len(self.depth):
            raise ValueError(f"depth must not repeat values, got {self.depth!r}")
        for name in ("activation", "target_activation"):
            require_centred_activation(name, getattr(self, name))
        require_int("d", self.d, 2, 20_000)
        require_range("gamma", self.gamma, 1e-3, 100.0)
        require_range("teacher_ratio", self.teacher_ratio, 1e-3, 100.0)
        require_positive("noise", self.noise, strict=False)
        require_positive("shared_noise", self.shared_noise, strict=False)
        require_int("weight_seed", self.weight_seed, 0)
        require_int("n_test", self.n_test, 1)
        if self.width < 1 or self.teacher_width < 1:
            raise ValueError("gamma * d and teacher_ratio * d must be >= 1")
        if any(round(a * self.d) < 1 for a in self.alpha):
            raise ValueError("alpha * d must be >= 1 sample for every alpha")

    @property
    def width(self) -> int:
        """k, the width of every hidden layer."""
        return round(self.gamma * self.d)

    @property
    def teacher_width(self) -> int:
        """k*, the width of the target's hidden layer."""
        return round(self.teacher_ratio * self.d)

    def samples(self) -> np.ndarray:
        """n = round(α d) for every α."""
        return np.array([max(1, round(a * self.d)) for a in self.alpha])


# --------------------------------------------------------------------------------------------
# The drawn instance (shared by theory and simulation)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Weights:
    """One draw of the frozen weights (numpy float64).

    theta : (k*,) target readout, N(0, 1); teacher : W* (k*, d), N(0, 1/d);
    student : W_1 (k, d) N(0, 1/d), W_ℓ (k, k) N(0, 1/k) for ℓ = 2 … max depth;
    theta_star : (k,) readout of the shared-feature target, N(0, 1).
    """

    theta: np.ndarray
    teacher: np.ndarray
    student: tuple[np.ndarray, ...]
    theta_star: np.ndarray


def draw_weights(p: Params) -> Weights:
    """Weights from ``numpy.random.default_rng(p.weight_seed)`` in the note's order.

    θ ~ N(0, I_{k*}), then W*, then W_1, …, W_{max depth} (standard normals scaled by
    1/√fan-in), then θ* — so the sign-target instance of the note (θ, W*, W_1, …) does not
    depend on the shared-feature target. The simulation uses these arrays too.
    """
    rng = np.random.default_rng(p.weight_seed)
    k, ks, d = p.width, p.teacher_width, p.d
    theta = rng.standard_normal(ks)
    teacher = rng.standard_normal((ks, d)) / math.sqrt(d)
    student = [rng.standard_normal((k, d)) / math.sqrt(d)]
    student += [rng.standard_normal((k, k)) / math.sqrt(k) for _ in range(max(p.depth) - 1)]
    theta_star = rng.standard_normal(k)
    return Weights(theta, teacher, tuple(student), theta_star)


# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------


def feature_propagation(p: Params, w: Weights, depth: int) -> Propagation:
    """Ω_ℓ and Φ_ℓ = E[h_ℓ uᵀ] (u = σ*(W* x)) of the first ``depth`` layers (Eqs. (8)–(10)).

    Variance convention of the paper ("population"): r_1 = tr Σ/d = 1, r_{ℓ+1} = E σ(z)².
    """
    tc = hermite_coefficients(p.target_activation, variance=1.0)
    return propagate(
        w.student[:depth],
        [p.activation] * depth,
        np.eye(p.d),
        tc.kappa1 * w.teacher.T,
        variance="population",
    )


def teacher_covariance(p: Params, w: Weights) -> np.ndarray:
    """Ψ = E[u uᵀ] = κ1*² W* W*ᵀ + κ**² I_{k*} (κ's of σ* at r = tr Σ/d = 1)."""
    tc = hermite_coefficients(p.target_activation, variance=1.0)
    psi = tc.kappa1**2 * (w.teacher @ w.teacher.T)
    psi[np.diag_indices_from(psi)] += tc.kappa_star**2
    return psi


def network_target_moments(
    omega: np.ndarray, phi: np.ndarray, psi: np.ndarray, theta: np.ndarray, noise: float
) -> FeatureMoments:
    """Moments seen by the readout X = v/√k for y = θ·u/√k* + noise (note item 3).

    Cov X = Ω/k, E[X y] = Φθ/√(k k*), E y² = θᵀΨθ/k* + Δ.
    """
    k, ks = omega.shape[0], theta.shape[0]
    return FeatureMoments(
        omega / k, phi @ theta / math.sqrt(k * ks), float(theta @ psi @ theta) / ks + noise
    )


def shared_feature_moments(omega: np.ndarray, theta_star: np.ndarray, noise: float):
    """Moments for the proven case y = θ*·v/√k + noise = θ*·X + noise (Thm. 3.1).

    Cov X = Ω/k, E[X y] = Ω θ*/k, E y² = θ*ᵀΩθ*/k + noise.
    """
    c = omega / omega.shape[0]
    return FeatureMoments(c, c @ theta_star, float(theta_star @ c @ theta_star) + noise)


def learning_curves(p: Params, optimal: bool = True) -> dict:
    """Sharp ridge errors over (depth, λ, n/d) for both targets, and optionally at λ*."""
    w = draw_weights(p)
    psi = teacher_covariance(p, w)
    n = p.samples().astype(float)
    lam = np.asarray(p.lam, dtype=float)
    shape = (len(p.depth), len(p.lam), len(p.alpha))
    out = {"eg": np.empty(shape), "eg_shared": np.empty(shape)}
    if optimal:
        out["eg_opt"], out["lambda_opt"] = np.empty(shape[::2]), np.empty(shape[::2])
    statuses = []
    for i, depth in enumerate(p.depth):
        prop = feature_propagation(p, w, depth)
        net = network_target_moments(prop.omega, prop.phi, psi, w.theta, p.noise)
        shared = shared_feature_moments(prop.omega, w.theta_star, p.shared_noise)
        out["eg"][i], st1 = ridge_test_error(net, n[None, :], lam[:, None])
        out["eg_shared"][i], st2 = ridge_test_error(shared, n[None, :], lam[:, None])
        if optimal:
            out["lambda_opt"][i], out["eg_opt"][i] = optimal_ridge(net, n)
        statuses += [st1, st2]
    out["target_power"] = float(w.theta @ psi @ w.theta) / p.teacher_width + p.noise
    out["solver"] = SolverStatus.combine(*statuses)
    return out


def theory(p: Params) -> dict:
    """Sharp ridge test errors over (depth, λ, n/d) for the network and shared-feature targets,
    the Gaussian model (same moments, same prediction) and the optimal-λ curve."""
    out = learning_curves(p)
    out["eg_gauss"] = out["eg"].copy()
    out["universality"] = np.ones_like(out["eg"])
    return out


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------


def _test_errors(x, y, n_list, lams, n_train):
    """(len(lams), len(n_list), m) test errors of ridge fitted on the first n samples."""
    import torch

    from theorylab.models.linear import ridge_readout

    x_test, y_test = x[n_train:], y[n_train:]
    out = []
    for n in n_list:
        w = ridge_readout(x[:n], y[:n], lams)  # (λ, k, m)
        resid = y_test[None] - torch.einsum("tk,lkm->ltm", x_test, w)
        out.append((resid**2).mean(1))  # (λ, m)
    return torch.stack(out, dim=1).cpu().numpy()


def simulate(p: Params, seed: int) -> dict:
    """Finite network, ridge readout (primal/dual normal equations), and its Gaussian twin.

    The weights are :func:`draw_weights` (numpy, ``weight_seed``) converted to torch float64;
    the data (inputs, label noise, Gaussian-model features) come from ``seed``. One training set
    of max n samples serves the whole n grid (first n samples), so points of a learning curve
    are correlated as in the paper. The Gaussian-equivalent model draws X ~ N(0, Ω/k) and
    y = β*·X + σ_ε ξ with (Ω, β* = Ω⁻¹E[Xy] scaled, σ_ε²) from the closed-form moments.
    """
    import torch

    from theorylab.models.activations import torch_activation
    from theorylab.models.device import default_device, generator
    from theorylab.models.random_network import deep_features

    device, dtype = default_device(), torch.float64
    gen = generator(seed)
    w = draw_weights(p)
    # All numpy linear algebra first (closed-form moments and the Gaussian model's factors):
    # numpy's BLAS threads contend with torch's when the two interleave.
    psi = teacher_covariance(p, w)
    gaussian = {}
    for depth in p.depth:
        prop = feature_propagation(p, w, depth)
        mom = network_target_moments(prop.omega, prop.phi, psi, w.theta, p.noise)
        gaussian[depth] = gaussian_equivalent_factors(mom)

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(device=device, dtype=dtype)

    student = [t(m) for m in w.student]
    k, ks = p.width, p.teacher_width
    n_list = [int(n) for n in p.samples()]
    n_train = max(n_list)
    total = n_train + p.n_test

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen, dtype=dtype).to(device)

    x = randn(total, p.d)
    u = torch_activation(p.target_activation)(x @ t(w.teacher).T)
    y = u @ t(w.theta) / math.sqrt(ks) + math.sqrt(p.noise) * randn(total)
    feats = deep_features(x, student, [p.activation] * len(student), p.depth)

    shape = (len(p.depth), len(p.lam), len(p.alpha))
    eg, eg_shared, eg_gauss = np.empty(shape), np.empty(shape), np.empty(shape)
    for i, depth in enumerate(p.depth):
        xr = feats[depth] / math.sqrt(k)
        y_shared = xr @ t(w.theta_star) + math.sqrt(p.shared_noise) * randn(total)
        errs = _test_errors(xr, torch.stack([y, y_shared], 1), n_list, p.lam, n_train)
        eg[i], eg_shared[i] = errs[..., 0], errs[..., 1]
        # Gaussian-equivalent model: X ~ N(0, Ω/k), y = β*·X + σ_ε ξ (closed-form moments).
        root, beta, residual = (t(a) for a in gaussian[depth])
        xg = randn(total, root.shape[1]) @ root.T
        yg = xg @ beta + torch.sqrt(residual) * randn(total)
        eg_gauss[i] = _test_errors(xg, yg[:, None], n_list, p.lam, n_train)[..., 0]
    return {
        "eg": eg,
        "eg_gauss": eg_gauss,
        "universality": eg / eg_gauss,
        "eg_shared": eg_shared,
        "target_power": float((y[n_train:] ** 2).mean()),
    }


def gaussian_equivalent_factors(mom: FeatureMoments) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(R, β*, σ_ε²) with Ω = R Rᵀ, β* = Ω⁺ψ, σ_ε² = E y² − β*·ψ: then X = R z (z standard
    Gaussian) and y = β*·X + σ_ε ξ are jointly Gaussian with the moments ``mom``."""
    evals, evecs = np.linalg.eigh(mom.omega)
    evals = np.clip(evals, 0.0, None)
    live = evals > 1e-13 * evals.max()
    proj = evecs.T @ mom.psi
    beta = evecs @ np.where(live, proj / np.where(live, evals, 1.0), 0.0)
    residual = max(mom.label_power - float(beta @ mom.psi), 0.0)
    return evecs * np.sqrt(evals), beta, np.array(residual)


# --------------------------------------------------------------------------------------------
# Checks: the note's tolerance, split at the interpolation peak n = k
# --------------------------------------------------------------------------------------------


def near_peak(params: Any, alpha: float) -> bool:
    """|n − k| ≤ 0.3 k, i.e. |α − γ| ≤ 0.3 γ: where the note allows 12 % instead of 5 %."""
    return abs(alpha - params.gamma) <= 0.3 * params.gamma


@dataclass(frozen=True)
class PeakAwareAgreement:
    """:class:`Agreement` with ``rtol_far`` away from the interpolation peak and ``rtol_peak``
    within it; the split needs ``params`` (γ), which ``Agreement.where`` does not receive."""

    observable: str
    reason: str
    rtol_far: float
    rtol_peak: float
    n_sem: float = 3.0

    @property
    def needs_simulation(self) -> bool:
        return True

    def evaluate(
        self, params, theory, mean, sem, axes: Mapping[str, tuple[str, ...]]
    ) -> list[CheckResult]:
        rows = []
        for rtol, near, where in (
            (self.rtol_far, False, "away from the peak |n − k| > 0.3k"),
            (self.rtol_peak, True, "near the peak |n − k| ≤ 0.3k"),
        ):
            check = Agreement(
                self.observable,
                reason=f"{self.reason} [{where}: {rtol:.0%}]",
                n_sem=self.n_sem,
                rtol=rtol,
                where=lambda c, near=near: near_peak(params, c["alpha"]) == near,
            )
            rows += check.evaluate(params, theory, mean, sem, axes)
        return rows


_NOTE_TOLERANCE = (
    "the note's tolerance at the quick size (d = 200, k = 400, fixed weights): 3 sem plus 5 % "
    "relative away from the interpolation peak n = k, 12 % within it (the sum, not the larger, "
    "of the two: Agreement adds them); the note's table deviates by up to 7.3 % off the peak "
    "(door, L = 3, n = d, 1.0 sem; ≤ 4.5 % elsewhere) and 3.2 % at it. 10 data seeds, not "
    "the note's 5: near n = d the door features (almost linear) interpolate their rank-d "
    "linear part and the error is heavy-tailed over seeds "
    "(door, L = 2, n = d: 5 seeds 1.74 ± 0.08 vs theory 1.38; 20 seeds 1.47 ± 0.06)"
)

# --------------------------------------------------------------------------------------------
# Figure
# --------------------------------------------------------------------------------------------


def depth_study(p: Params, depths=range(1, 7), lam: float = 0.001, alpha=None) -> dict:
    """Theory of the paper's depth figure: door network, L = 1 … 6, λ = 0.001."""
    alpha = np.linspace(0.1, 4.5, 90) if alpha is None else np.asarray(alpha)
    q = make_params(
        Params,
        {
            "activation": "door",
            "depth": tuple(depths),
            "lam": (lam,),
            "alpha": tuple(float(a) for a in alpha),
            "d": p.d,
            "gamma": p.gamma,
            "teacher_ratio": p.teacher_ratio,
            "weight_seed": p.weight_seed,
        },
    )
    w = draw_weights(q)
    psi = teacher_covariance(q, w)
    n = alpha * q.d
    curves = {}
    for depth in q.depth:
        prop = feature_propagation(q, w, depth)
        mom = network_target_moments(prop.omega, prop.phi, psi, w.theta, q.noise)
        curves[depth], _ = ridge_test_error(mom, n, lam)
    return {"alpha": alpha, "curves": curves, "lam": lam}


def figure(result):
    """Learning curves per depth (theory lines, network and Gaussian-model points ± sem) and
    the depth study (door, L = 1 … 6, theory)."""
    import matplotlib.pyplot as plt

    p = make_params(Params, result.params)
    dense_alpha = tuple(np.unique(np.r_[np.linspace(0.1, max(p.alpha) * 1.05, 120), p.alpha]))
    dense = make_params(Params, {**result.params, "alpha": dense_alpha})
    th = learning_curves(dense, optimal=False)
    a = np.asarray(dense.alpha)
    panels = len(p.depth) + 1
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.8))
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:purple"]
    sim = result.simulation
    for i, depth in enumerate(p.depth):
        ax = axes[i]
        for j, lam in enumerate(p.lam):
            col = colors[j % 4]
            ax.plot(a, th["eg"][i, j], color=col, lw=1.5, label=f"theory λ = {lam:g}")
            ax.plot(a, th["eg_shared"][i, j], color=col, lw=1, ls=":")
            if sim is not None:
                mean, sem = sim["mean"], sim["sem"]
                ax.errorbar(
                    p.alpha,
                    np.asarray(mean["eg"])[i, j],
                    yerr=np.asarray(sem["eg"])[i, j],
                    fmt="o",
                    ms=4,
                    color=col,
                    capsize=3,
                    label="network (sim)" if j == 0 else None,
                )
                ax.errorbar(
                    np.asarray(p.alpha) * 1.03,
                    np.asarray(mean["eg_gauss"])[i, j],
                    yerr=np.asarray(sem["eg_gauss"])[i, j],
                    fmt="s",
                    ms=4,
                    mfc="none",
                    color=col,
                    capsize=2,
                    label="Gaussian model (sim)" if j == 0 else None,
                )
                ax.errorbar(
                    p.alpha,
                    np.asarray(mean["eg_shared"])[i, j],
                    yerr=np.asarray(sem["eg_shared"])[i, j],
                    fmt="^",
                    ms=4,
                    color=col,
                    capsize=2,
                    label="shared-feature target (sim, dotted: theory)" if j == 0 else None,
                )
        ax.axvline(p.gamma, color="gray", lw=0.8, ls="--")
        ax.set_yscale("log")
        ax.set_xlabel("n / d")
        ax.set_ylabel("test error  E(y − ŷ)²")
        ax.set_title(f"L = {depth}, {p.activation}, {p.target_activation} target")
        ax.legend(fontsize=6)
    study = depth_study(p)
    ax = axes[-1]
    cmap = plt.get_cmap("viridis")
    for depth, curve in study["curves"].items():
        ax.plot(study["alpha"], curve, color=cmap((depth - 1) / 5), label=f"L = {depth}")
    ax.set_yscale("log")
    ax.set_xlabel("n / d")
    ax.set_title(f"depth study: door, λ = {study['lam']:g} (theory)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------------------------

EXPERIMENT = Experiment(
    slug="deep_random_features",
    arxiv="2302.00401",
    title="Deterministic equivalent and error universality of deep random features learning",
    claim=(
        "Learning only the linear readout of a deep network with frozen i.i.d. Gaussian weights "
        "(input dimension, widths and sample size proportional) by ridge regression has the "
        "same test error as a Gaussian model with the features' first two moments (Gaussian "
        "universality; proven when the target shares the features, conjectured for a random "
        "network target). These moments have a closed form — each layer maps the covariance "
        "to κ1² WΩWᵀ + κ*² I — so a deterministic equivalent gives the sharp learning curve, "
        "with its interpolation peak at n = k, for any depth and activation."
    ),
    params=Params,
    theory=theory,
    simulate=simulate,
    observables={
        "eg": Observable("ridge test error, network target", ("depth", "lam", "alpha")),
        "eg_gauss": Observable(
            "ridge test error, Gaussian features with the same moments", ("depth", "lam", "alpha")
        ),
        "universality": Observable(
            "ratio network / Gaussian-model test error (theory: 1)", ("depth", "lam", "alpha")
        ),
        "eg_shared": Observable(
            "ridge test error, target θ*·v/√k + noise (proven case)", ("depth", "lam", "alpha")
        ),
        "eg_opt": Observable("test error at the optimal λ (theory)", ("depth", "alpha")),
        "lambda_opt": Observable("optimal ridge penalty λ* (theory)", ("depth", "alpha")),
        "target_power": Observable("E y² of the network target (θᵀΨθ/k* + Δ)"),
    },
    checks=(
        PeakAwareAgreement("eg", _NOTE_TOLERANCE, rtol_far=0.05, rtol_peak=0.12),
        PeakAwareAgreement(
            "eg_gauss",
            "Gaussian features with the closed-form moments: only finite-size (O(1/√k)) and "
            "seed fluctuations, same rule as " + _NOTE_TOLERANCE,
            rtol_far=0.05,
            rtol_peak=0.12,
        ),
        PeakAwareAgreement(
            "universality",
            "network vs Gaussian model on independent data (universality, no theory curve "
            "involved); ratio of two errors each allowed the note's relative tolerance",
            rtol_far=0.05,
            rtol_peak=0.12,
        ),
        PeakAwareAgreement(
            "eg_shared",
            "proven shared-feature case; the note measured deviations ≤ 7 % (n/d = 0.5, 1.8 sem); "
            + _NOTE_TOLERANCE,
            rtol_far=0.05,
            rtol_peak=0.12,
        ),
        Agreement(
            "target_power",
            reason="E y² over the 4000 test points of 10 seeds vs θᵀΨθ/k* (Ψ with κ's at the "
            "population variance r = 1; the drawn rows have ‖w*_j‖² = 1 ± O(1/√d)): 3 sem + 1 %",
            n_sem=3.0,
            rtol=0.01,
        ),
    ),
    figure=figure,
    seeds=10,
    full={
        "d": 600,
        "gamma": 4.0,
        "teacher_ratio": 2.0,
        "depth": (2,),
        "lam": (0.001,),
        "alpha": (0.5, 1.0, 2.0, 4.0, 6.0, 8.0),
        "weight_seed": 7,
        "n_test": 3000,
    },
    full_seeds=3,
    variants=(
        Variant(
            "door",
            {"activation": "door"},
            "door activation 1.1·sign(x)·min(|x|, 2), depths 1–3 (the paper's depth study)",
        ),
        Variant(
            "sign",
            {"activation": "sign", "depth": (2,), "lam": (0.01,)},
            "sign activation, L = 2, λ = 0.01 (the note's pitfall case for quadrature)",
        ),
    ),
)
