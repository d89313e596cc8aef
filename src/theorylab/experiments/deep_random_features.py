"""Deterministic equivalent and error universality of deep random features (arXiv 2302.00401).

Schröder, Cui, Dmitriev, Loureiro, ICML 2023. Features v = h_L of a deep network with frozen
weights, h_ℓ = σ(W_ℓ h_{ℓ−1}), h_0 = x ~ N(0, I_d), W_ℓ with N(0, 1/k_{ℓ−1}) entries; ridge on
X = v/√k: ŵ = argmin Σ_{μ≤n} (y_μ − w·X_μ)² + λ‖w‖², ε_g = E(y − ŵ·X)². Target: a random
network y = θ·σ*(W* x)/√k* + √Δ ξ (W*: N(0, 1/d) entries; σ* = sign in the paper's figures).
The closed-form moments (r_ℓ, κ1, κ* of Eqs. (10)–(11): Ω_ℓ = κ1² W_ℓΩ_{ℓ−1}W_ℓᵀ + κ*² I,
Φ_ℓ = κ1 W_ℓΦ_{ℓ−1}) give Cov X = Ω/k, E[Xy] = Φθ/√(k k*), E y² = θᵀΨθ/k* + Δ, and the
deterministic equivalent (Thm. 3.3, Sec. 4, App. D.2) the error of Gaussian features with these
moments — the network's too (Gaussian universality: a theorem for the shared-feature target
y = θ*·X + noise of Sec. 4, conjectured for the network target). The observables:

* ``eg``: the drawn student weights, the target averaged over θ ~ N(0, I) and W* — exact, the
  error being linear in ψψᵀ and E y² (E ψψᵀ = ΦΦᵀ/(k d) with Φ_0 = κ1* I, E y² = E σ*² + Δ);
* ``eg_draw``: one drawn target (θ, W* of ``weight_seed``, the single instance of Fig. 1);
* ``eg_shared``: the proven case y = θ*·X + noise, averaged over θ* ~ N(0, I_k);
* ``eg_mp``: L = 1, d → ∞, all weights averaged (W_1W_1ᵀ Marchenko–Pastur); ``eg_opt``,
  ``lambda_opt``: the optimal penalty of ``eg``.

Student and drawn target come from ``numpy.random.default_rng(weight_seed)`` in the authors'
order θ, W*, W_1, …, W_L (:func:`draw_weights`): theory and simulation share those matrices.
"""

from __future__ import annotations

import dataclasses
import functools
import math
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
    Variant,
)
from theorylab.experiments.plotting import simulated, theory_vs_simulation
from theorylab.theory import ridge
from theorylab.theory.feature_covariance import one_layer_limit, propagate
from theorylab.theory.fixed_point import SolverStatus
from theorylab.theory.hermite import hermite_coefficients

__all__ = ["EXPERIMENT", "Params", "Weights", "draw_weights", "figure", "simulate", "theory"]

#: Penalties searched for the optimal λ, by the theory and by the simulated λ scans alike.
LAMBDA_RANGE = (1e-5, 1e3)
#: Fresh-weight networks at d/2 per draw, for the Richardson extrapolation of ``eg_mp``.
HALF_DRAWS = 2
Floats, Ints = tuple[float, ...], tuple[int, ...]


@dataclass(frozen=True)
class Params(ParamsBase):
    """Setting of arXiv 2302.00401 (defaults: d = 300, k = 2d, k* = d, depths 1–3)."""

    alpha: Annotated[Floats, Range(1e-3, 1e3), "sample ratios n/d"] = (0.5, 1.0, 2.0, 3.0, 4.0)
    lam: Annotated[Floats, Positive(1e6), "ridge penalties λ (sum loss)"] = (1e-3, 1e-2)
    depth: Annotated[Ints, Range(1, 8), "depths L (first L layers of one draw)"] = (1, 2, 3)
    activation: Annotated[str, Activation(centred=True), "σ of every layer (centred)"] = "tanh"
    target_activation: Annotated[str, Activation(centred=True), "σ* of the target"] = "sign"
    d: Annotated[int, Range(2, 5000), "input dimension"] = 300
    gamma: Annotated[float, Range(0.05, 20.0), "hidden widths k = round(γ d)"] = 2.0
    teacher_ratio: Annotated[float, Range(0.05, 20.0), "target width k* = round(ratio·d)"] = 1.0
    noise: Annotated[float, NonNegative(100.0), "label-noise variance Δ, network target"] = 0.0
    shared_noise: Annotated[float, NonNegative(100.0), "noise variance of θ*·X + noise"] = 0.01
    weight_seed: Annotated[int, Range(0, 2**32 - 1), "seed of default_rng for the weights"] = 42
    n_test: Annotated[int, Range(10, 1_000_000), "held-out samples per data draw"] = 1000
    draws: Annotated[int, Range(1, 1000), "data draws averaged within one seed"] = 4

    relations = (
        Relation("depth", lambda p: len(set(p.depth)) == len(p.depth), "must not repeat"),
        Relation("gamma", lambda p: 1 <= p.width <= 20_000, "gamma * d must lie in [1, 20000]"),
        Relation("teacher_ratio", lambda p: 1 <= p.teacher_width <= 20_000, "k* in [1, 20000]"),
        Relation("alpha", lambda p: min(p.alpha) * p.d >= 1, "alpha * d must be >= 1"),
        Relation("d", lambda p: p.d >= 4, "must be >= 4 (eg_mp is extrapolated from d and d/2)"),
    )

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


# -- The drawn instance and its closed-form moments (cached per weight draw) -----------------------


@dataclass(frozen=True)
class Weights:
    """θ (k*,) ~ N(0, I); W* (k*, d) and W_1 (k, d) with N(0, 1/d), W_ℓ (k, k) with N(0, 1/k)."""

    theta: np.ndarray
    teacher: np.ndarray
    student: tuple[np.ndarray, ...]


@functools.lru_cache(maxsize=4)
def _draw(d: int, k: int, ks: int, layers: int, seed: int) -> Weights:
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(ks)
    teacher = rng.standard_normal((ks, d)) / math.sqrt(d)
    student = [rng.standard_normal((k, d)) / math.sqrt(d)]
    student += [rng.standard_normal((k, k)) / math.sqrt(k) for _ in range(layers - 1)]
    for a in (theta, teacher, *student):
        a.setflags(write=False)
    return Weights(theta, teacher, tuple(student))


def draw_weights(p: Params) -> Weights:
    """The weights of ``default_rng(p.weight_seed)``: θ, W*, W_1 … W_{max depth} in this order
    (depth-L results do not depend on how many deeper layers are drawn)."""
    return _draw(p.d, p.width, p.teacher_width, max(p.depth), p.weight_seed)


def _instance_key(p: Params) -> Params:  # the fields that fix the moments
    one = {"alpha": (1.0,), "lam": (1.0,), "depth": (max(p.depth),), "n_test": 10, "draws": 1}
    return dataclasses.replace(p, **one)


@functools.lru_cache(maxsize=8)
def layer_moments(key: Params) -> tuple[tuple[ridge.FeatureMoments, ridge.FeatureMoments], ...]:
    """Per depth L = 1 … max depth: the (target-averaged, drawn-target) readout moments.

    One propagation of Ω_ℓ and Φ_ℓ (Φ_0 = κ1* I_d; a drawn W* gives Φ_ℓW*ᵀ); one eigh of Ω_L per
    depth used (computed when first needed, then cached with the moments) serves both targets,
    every n and every λ (:meth:`~theorylab.theory.ridge.FeatureMoments.retarget`).
    """
    w, k, ks, d = draw_weights(key), key.width, key.teacher_width, key.d
    tc, acts = hermite_coefficients(key.target_activation), [key.activation] * len(w.student)
    prop = propagate(w.student, acts, np.eye(d), tc.kappa1 * np.eye(d), variance="population")
    u = w.teacher.T @ w.theta  # θᵀΨθ = κ1*²‖W*ᵀθ‖² + κ**²‖θ‖², and Φθ = Φ_L W*ᵀθ
    rho_draw = float(tc.kappa1**2 * u @ u + tc.kappa_star**2 * w.theta @ w.theta) / ks + key.noise
    out, rho, teacher_dir = [], tc.second_moment + key.noise, u / math.sqrt(k * ks)
    for omega, phi in zip(prop.omegas, prop.cross, strict=True):
        avg = ridge.FeatureMoments(omega / k, phi / math.sqrt(k * d), rho)
        out.append((avg, avg.retarget(phi @ teacher_dir, rho_draw)))
    return tuple(out)


def one_layer_mp(p: Params) -> tuple[np.ndarray, SolverStatus]:
    """ε_g (λ, α) of the L = 1 network in the d → ∞ limit, averaged over all weights."""
    c, tc = hermite_coefficients(p.activation), hermite_coefficients(p.target_activation)
    rho = tc.second_moment + p.noise
    spec, irreducible = one_layer_limit(c.kappa1, c.kappa_star, p.width / p.d, tc.kappa1, rho)
    alpha, lam = p.samples()[None, :] / p.d, np.asarray(p.lam)[:, None]
    risk = ridge.ridge_risk(spec, irreducible, alpha, lam)
    return risk.excess_risk + irreducible, risk.status


def theory(p: Params) -> dict:
    """Sharp ridge errors over (depth, λ, n/d) for the three targets, λ* and the L = 1 limit."""
    layers = layer_moments(_instance_key(p))
    n, lam = p.samples()[None, :].astype(float), np.asarray(p.lam, dtype=float)[:, None]
    shape = (len(p.depth), len(p.lam), len(p.alpha))
    out = {name: np.empty(shape) for name in ("eg", "eg_draw", "eg_shared")}
    out["eg_opt"], out["lambda_opt"] = np.empty(shape[::2]), np.empty(shape[::2])
    statuses = []
    for i, depth in enumerate(p.depth):
        avg, draw = layers[depth - 1]
        out["eg"][i], st1 = ridge.ridge_test_error(avg, n, lam)
        out["eg_draw"][i], st2 = ridge.ridge_test_error(draw, n, lam)
        out["eg_shared"][i], st3 = ridge.random_linear_target_error(avg, p.shared_noise, n, lam)
        out["lambda_opt"][i], out["eg_opt"][i] = ridge.optimal_ridge(avg, n[0], LAMBDA_RANGE)
        statuses += [st1, st2, st3]
    out["eg_mp"], status = one_layer_mp(p)
    out["solver"] = SolverStatus.combine(*statuses, status)
    return out


# -- Simulation ------------------------------------------------------------------------------------


def _one_draw(p: Params, streams, draw: int, device) -> dict:
    """Errors of one data draw: inputs and fresh target networks from the draw's streams."""
    import torch

    from theorylab.models.activations import torch_activation
    from theorylab.models.linear import ridge_learning_curves
    from theorylab.models.random_network import deep_features

    k, ks, d, n = p.width, p.teacher_width, p.d, [int(n) for n in p.samples()]
    data, nets = streams.torch(f"inputs, draw {draw}"), streams.torch(f"networks, draw {draw}")

    def gaussian(gen, *shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen, dtype=torch.float64).to(device)

    x = gaussian(data, max(n) + p.n_test, d)
    sigma_t = torch_activation(p.target_activation)
    y = sigma_t(x @ gaussian(nets, ks, d).T / math.sqrt(d)) / math.sqrt(ks)  # units u_j/√k*
    student = [torch.from_numpy(np.array(m)).to(device) for m in draw_weights(p).student]
    feats = deep_features(x, student, [p.activation] * len(student), p.depth)
    keys = {"eg": "errors", "eg_shared": "self", "lambda_opt": "lambda_min", "eg_opt": "error_min"}
    out, fit = {name: [] for name in keys}, functools.partial(ridge_learning_curves, noise=p.noise)
    for depth in p.depth:
        x_depth = feats[depth] / math.sqrt(k)
        curves = fit(x_depth, y, n, p.lam, scan=LAMBDA_RANGE, self_noise=p.shared_noise)
        for name, key in keys.items():
            out[name].append(curves[key])
    at_d = _fresh_one_layer(p, x, nets, n, gaussian)
    half = dataclasses.replace(p, d=p.d // 2)  # the same γ, k*/d and α at d/2 (Richardson)
    rows, sizes = max(half.samples()) + p.n_test, [int(m) for m in half.samples()]

    def at_half(h: int) -> np.ndarray:
        x_h = gaussian(streams.torch(f"d/2 {h}, draw {draw}"), rows, half.d)
        return _fresh_one_layer(half, x_h, nets, sizes, gaussian)

    at_h = np.mean([at_half(h) for h in range(HALF_DRAWS)], axis=0)
    out["eg_mp"] = at_d + (at_d - at_h) * half.d / (d - half.d)  # ε(∞) if ε = ε∞ + c/d
    return {name: np.asarray(value) for name, value in out.items()}


def _fresh_one_layer(p: Params, x, nets, n: list[int], gaussian) -> np.ndarray:
    """Ridge errors (λ, n) of an L = 1 network whose weights and target are drawn afresh."""
    from theorylab.models.activations import torch_activation
    from theorylab.models.linear import ridge_learning_curves

    k, ks, d = p.width, p.teacher_width, p.d
    sigma, sigma_t = torch_activation(p.activation), torch_activation(p.target_activation)
    fresh = sigma(x @ gaussian(nets, k, d).T / math.sqrt(d)) / math.sqrt(k)
    y_fresh = sigma_t(x @ gaussian(nets, ks, d).T / math.sqrt(d)) / math.sqrt(ks)
    return ridge_learning_curves(fresh, y_fresh, n, p.lam, noise=p.noise)["errors"]


def simulate(p: Params, seed: int, device: str = "cpu") -> dict:
    """Frozen networks, ridge readouts, held-out errors; the mean over ``p.draws`` data draws.

    Each draw takes inputs and a fresh target network W* from its own streams (the student is
    :func:`draw_weights`). The readout θ ~ N(0, I_{k*}) is averaged exactly: each hidden unit
    u_j/√k* is a target of its own, fitted on the same features, and the errors are summed
    (E_θ ε_g = Σ_j ε_g(u_j/√k*), the fits being linear in y); likewise θ* of the shared-feature
    target and the label noise (:func:`theorylab.models.linear.ridge_learning_curves`). One
    sample of max n serves the n grid (first n rows), as in the paper. ``eg_mp`` (a d → ∞
    prediction) is the Richardson extrapolation 2 ε(d) − ε(d/2) of fresh L = 1 networks at d
    and at d/2 (:data:`HALF_DRAWS` of them, averaged), which removes the O(1/d) correction.
    """
    from theorylab.models.device import as_device
    from theorylab.seeding import Streams

    streams, dev = Streams(EXPERIMENT.slug, seed), as_device(device)
    draws = [_one_draw(p, streams, r, dev) for r in range(p.draws)]
    return {name: np.mean([o[name] for o in draws], axis=0) for name in draws[0]}


# -- Figure ----------------------------------------------------------------------------------------


def figure(result):
    """Learning curves per depth (target-averaged theory and simulation; the drawn target
    dotted, the shared-feature target dashed, optimal λ dash-dotted), the L = 1 limit, and the
    depth study of Fig. 3 (door, L = 1 … 6, λ = 0.001, theory)."""
    import matplotlib.pyplot as plt

    p = result.params
    grid = np.unique(np.r_[np.linspace(0.1, max(p.alpha) * 1.05, 100), p.alpha])
    th, a = theory(dataclasses.replace(p, alpha=tuple(grid))), grid
    fig, axes = plt.subplots(1, len(p.depth) + 2, figsize=(4.0 * (len(p.depth) + 2), 3.8))

    def pair(ax, name, index, **kw):
        sim = simulated(result, name, index)
        return theory_vs_simulation(ax, a, th[name][index], p.alpha, sim, **kw)

    for i, depth in enumerate(p.depth):
        ax = axes[i]
        for j, lam in enumerate(p.lam):
            col = pair(ax, "eg", (i, j), color=f"C{j}", label=f"λ = {lam:g}")
            ax.plot(a, th["eg_draw"][i, j], color=col, lw=0.8, ls=":")
            pair(ax, "eg_shared", (i, j), color=col, lw=0.8, ls="--", marker="^")
        pair(ax, "eg_opt", i, color="k", ls="-.", marker="s", hollow=True, label="optimal λ")
        ax.axvline(p.gamma, color="gray", lw=0.8, ls="--")
        ax.set(yscale="log", xlabel="n / d", ylabel="test error E(y − ŷ)²")
        ax.set_title(f"L = {depth}, {p.activation}, {p.target_activation} target", fontsize=9)
        ax.legend(fontsize=6, title="dotted: drawn θ, W*; dashed: θ*·X", title_fontsize=6)
    for j, lam in enumerate(p.lam):
        pair(axes[-2], "eg_mp", j, color=f"C{j}", label=f"d → ∞, λ = {lam:g}")
    title = f"L = 1 limit vs fresh weights, 2ε(d) − ε(d/2), d = {p.d}"
    axes[-2].set(yscale="log", xlabel="n / d", title=title)
    door = dataclasses.replace(p, activation="door", depth=tuple(range(1, 7)), lam=(0.001,))
    layers = layer_moments(_instance_key(door))
    for depth in door.depth:
        curve, _ = ridge.ridge_test_error(layers[depth - 1][0], a * p.d, 0.001)
        axes[-1].plot(a, curve, color=plt.get_cmap("viridis")((depth - 1) / 5), label=f"L={depth}")
    axes[-1].set(yscale="log", xlabel="n / d", title="Fig. 3: door, λ = 0.001 (theory)")
    for ax in axes[-2:]:
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


# -- The experiment --------------------------------------------------------------------------------

#: Finite-size allowances and required resolutions off / within 25 % of the interpolation
#: peaks and for λ*. Largest deviations (tanh, door; eg, eg_shared, eg_mp) off / at peaks / λ*:
#: 2.5 / 4.8 / 4.7 % at d = 100, 1.2 / 2.5 / 2.8 % at d = 200, 0.5 / 1.4 / 1.9 % at d = 400.
FINITE_SIZE, PEAK_RTOL, PEAK_RESOLUTION = 0.01, 0.025, 0.05
LAMBDA_RTOL, LAMBDA_RESOLUTION = 0.03, 0.09
#: Allowance of the extrapolated L = 1 rows: the O(1/d²) remainder of 2 ε(d) − ε(d/2).
EXTRAPOLATION_RTOL = 0.005


def near_peak(p: Params, coords) -> bool:
    """n within 25 % of k (the interpolation peak of every activation, Fig. 1) or of d (the
    rank-d linear part of the features, a peak when κ* is small: door, Fig. 3)."""
    alpha = coords["alpha"]
    return abs(alpha - p.gamma) <= 0.25 * p.gamma or abs(alpha - 1.0) <= 0.25


_WHY = {
    "eg": "the network target averaged over its weights (θ exactly, W* over draws)",
    "eg_shared": "the proven case y = θ*·X + noise of Sec. 4 (θ* averaged exactly)",
}
_MEASURED = (
    " Measured at d = 300, 8 seeds × 4 draws, as (largest |deviation|, largest resolution) off "
    "/ at the peaks: tanh eg 0.8, 2.1 / 0.9, 3.6 %, eg_shared 0.3, 1.6 / 0.5, 3.2 %; door eg "
    "0.9, 2.2 / 1.8, 4.6 %, eg_shared 0.6, 1.8 / 0.9, 3.6 %; sign (L = 2) ≤ 0.4, 1.6 / 0.3, "
    "3.2 %; tanh, 3 seeds: eg 0.7, 2.3 / 0.9, 4.0 %, eg_shared 0.3, 1.6 / 0.5, 3.4 %."
)
_OFF = (
    "Deterministic equivalent (Thm. 3.3, App. D.2; closed-form moments of Eqs. (10)–(11)) vs "
    "the simulated network, {}, off the interpolation peaks of Fig. 1. Allowance 3 sem + 1 % "
    "for the O(1/d) finite-size corrections (largest off-peak deviation 2.5 / 1.2 / 0.5 % at "
    "d = 100 / 200 / 400)." + _MEASURED
)
_PEAK = (
    "As off the peaks ({}), within 25 % of n = k or n = d, where Fig. 1 and Fig. 3 peak and "
    "finite-size corrections are largest (up to 4.8 / 2.5 / 1.4 % at d = 100 / 200 / 400): "
    "allowance 3 sem + 2.5 %, rows must resolve 5 % = 2.5 % + the largest deviation (1.8 %, "
    "door) + 3 sem (≤ 0.7 %), not 3 %. The deviation is a bias of the drawn weights (W fixed "
    "by weight_seed), not only O(1/d): door at n = k moves from −0.9 / −1.5 / −2.9 % (L = 1 / "
    "2 / 3) at d = 150 to −0.9 / −1.3 / −1.7 % at d = 300, so extrapolating from d and d/2 "
    "(as for eg_mp) leaves up to 1.2 % at twice the noise; 4000 held-out points instead of "
    "1000 change it by ≤ 0.1 % (tanh)." + _MEASURED
)
_MP = (
    "L = 1 in the d → ∞ limit: the deterministic equivalent with W₁W₁ᵀ Marchenko–Pastur "
    "(Thm. 3.3, App. D.2) vs networks with fresh weights in every draw, extrapolated to "
    "d → ∞ as 2 ε(d) − ε(d/2) (Richardson; two fresh networks at d/2 = 150 per draw). The raw "
    "error has an O(1/d) correction, largest at the peaks (tanh, n = k, λ = 0.001: −0.9 % at "
    "d = 300, −1.8 % at d = 150; door −1.0 / −2.0 % at n = k, +1.4 / +3.0 % at n = d); "
    "extrapolated, ≤ 0.5 % remains (≤ 2 sem), and the per-draw sd doubles (to 0.9–2.0 %, "
    "door ≤ 3.6 %). Allowance 3 sem + 0.5 % for the O(1/d²) remainder, on and off the peaks. "
    "Measured (largest |deviation|, resolution): tanh 0.19, 1.4 %; door 0.48, 2.5 %; sign "
    "0.53, 1.5 %; tanh, 3 seeds 0.30, 2.5 % (before, raw at d = 300: tanh 0.96, 3.7 %; door "
    "1.4, 4.5 %)."
)


def _agreements(name: str) -> tuple[Agreement, Agreement]:
    off, peak = _OFF.format(_WHY[name]), _PEAK.format(_WHY[name])
    far = lambda p, c: not near_peak(p, c)  # noqa: E731
    return (
        Agreement(name, off, 3.0, FINITE_SIZE, where=far, resolution=0.03),
        Agreement(name, peak, 3.0, PEAK_RTOL, where=near_peak, resolution=PEAK_RESOLUTION),
    )


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
        "eg": Observable("ridge error, target network averaged", ("depth", "lam", "alpha")),
        "eg_draw": Observable("ridge error, the drawn target network", ("depth", "lam", "alpha")),
        "eg_shared": Observable("ridge error, θ*·X + noise averaged", ("depth", "lam", "alpha")),
        "eg_mp": Observable(
            "L = 1 error, d → ∞ (Marchenko–Pastur; simulation extrapolated from d and d/2)",
            ("lam", "alpha"),
        ),
        "eg_opt": Observable("error at the optimal λ (target averaged)", ("depth", "alpha")),
        "lambda_opt": Observable("optimal ridge penalty λ*", ("depth", "alpha")),
    },
    checks=(
        *_agreements("eg"),
        *_agreements("eg_shared"),
        Agreement("eg_mp", _MP, 3.0, EXTRAPOLATION_RTOL, resolution=0.03),
        Agreement(
            "eg_opt",
            "Optimally regularised error of the deterministic equivalent (Thm. 3.3; no peak) vs "
            "the minimum of each simulated training set's own exact λ path over [1e-5, 1e3]; "
            "allowance 3 sem + 1 % as off the peaks. Measured: tanh ≤ 0.4 % (resolution "
            "≤ 1.6 %), door ≤ 0.3 % (≤ 1.5 %), sign 0.2 % (1.2 %); three seeds ≤ 1.7 %.",
            3.0,
            FINITE_SIZE,
            resolution=0.03,
        ),
        Agreement(
            "lambda_opt",
            "Minimiser of the deterministic equivalent vs the mean of each training set's own "
            "minimiser. ε_g is flat there (quadratic in log λ), so O(1/d) corrections move λ* "
            "more than ε_g (largest deviation 4.7 / 2.8 / 1.9 % at d = 100 / 200 / 400, ≈ 2.3 % "
            "at d = 300, always below the theory): allowance 3 sem + 3 %; rows must resolve 9 % "
            "= 3 % + 2.4 % + up to 2.5 % for 3 sem with three seeds + margin. The bias is not "
            "the held-out noise (4000 instead of 1000 held-out points move it by ≤ 0.4 %) nor "
            "the mean of per-set minimisers (their sd is 1–3 %, so E λ̂ − λ̂(E ε) ≲ 0.05 %); "
            "extrapolating from d = 150 and 300 leaves up to 1.1 % (tanh, the drawn weights "
            "differ between sizes) at 2.5× the noise, so it is not used. Measured: tanh ≤ 2.3 % "
            "(resolution ≤ 6.7 %), door ≤ 2.1 % (≤ 6.1 %), sign 1.1 % (5.3 %); three seeds "
            "≤ 2.4 % (≤ 7.8 %).",
            3.0,
            LAMBDA_RTOL,
            resolution=LAMBDA_RESOLUTION,
        ),
    ),
    theory_only={
        "eg_draw": "one drawn target (θ, W* of weight_seed; Fig. 1's single instance): ‖θ‖²/k* "
        "alone moves it ±8 % between draws, and one target's simulated error varies by 4–13 % "
        "between training sets (d = 200), so 3 % is out of reach at the quick size; the same "
        "equations are checked in eg, averaged over the target exactly"
    },
    figure=figure,
    protocol=3,
    smoke={"d": 30, "n_test": 100, "alpha": (0.5, 3.0), "depth": (1, 2), "draws": 1},
    seeds=8,
    full=dict(d=600, gamma=4.0, teacher_ratio=2.0, depth=(2,), lam=(0.001,), weight_seed=7)
    | dict(alpha=(0.5, 1.0, 2.0, 4.0, 6.0, 8.0), n_test=3000, draws=1),
    full_seeds=3,
    variants=(
        Variant("door", {"activation": "door"}, "door activation, depths 1–3 (as in Fig. 3)"),
        Variant("sign", {"activation": "sign", "depth": (2,), "lam": (0.01,)}, "sign, L = 2"),
    ),
)
