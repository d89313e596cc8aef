"""Asymptotics of learning with deep structured (random) features (arXiv 2402.13999).

Schröder, Dmitriev, Cui, Loureiro, ICML 2024. Ridge regression on the readout of a fixed feature
map φ: R^d → R^p, θ̂ = argmin Σ_μ (y_μ − θ·φ(x_μ))² + λ‖θ‖² (sum convention, un-normalised λ,
the authors' ``lstsq(..., l2_regularizer=λ)``), has in the proportional limit a test error that
depends on the features only through Ω = E[φφᵀ], ψ = E[φ y] and E y² (Thm. 3.3; solved by
:func:`theorylab.theory.ridge.ridge_test_error`). For a Gaussian *rainbow* network — weight rows
independent Gaussians with structured covariances that may depend on earlier layers — Ω and ψ
have a closed form built layer by layer from the weight matrices (Thm. 3.5;
:func:`theorylab.theory.feature_covariance.propagate`).

The setting (the paper note's quick size): x ~ N(0, I_d), d = 400; two tanh layers of widths
600 and 500; rows of W₁ ~ N(0, C₁/d) with C₁ = diag(k^{−0.4}) (trace d); rows of W₂ ~
N(0, C₂/p₁) with C₂ ∝ (W₁W₁ᵀ + ½I)⁻¹ (trace p₁), and W₂ multiplied by 1.5; teacher
y = θ·tanh(W* x)/√p* + 0.1 ξ with p* = 300. Three predictions of the test error:

* ``eg``: the closed-form Ω (trace-variance recursion, note item B);
* ``eg_emp``: Ω, ψ, E y² estimated from N_emp = 40 000 held-out samples (note item C);
* for a network *trained* by full-batch gradient descent (Sec. 5), the empirical moments of its
  features and the per-neuron closed-form recursion evaluated on its trained weights.

Checks: the closed-form and empirical-Ω predictions for the rainbow net against ridge
simulations (6 % off the interpolation peak, the note's tolerance), the peak at n = p in both,
and the recursion's pre-activation scales r₁, r₂ and E y². The trained network is a documented
finding, not a check: its two predictions are shown (figure, observables ``eg_trained_emp``,
``eg_trained_lin``) next to the measured ``eg_trained``; at the default setting they agree to
about 7 % (empirical Ω) and 5 % (per-neuron recursion) off the peak, which the note gives no
tolerance for ("in some cases" the theory captures trained features).

Weights: ``theory`` is pure numpy. All weights (rainbow net, teacher, initialisation of the
trained net) are drawn in numpy from ``weight_seed`` (independent streams
``default_rng([weight_seed, k])``), so theory and simulation see the same matrices; the
simulation seed only draws the training and test sets. The trained network's predictions need
the trained weights, which come from a (torch) training run, so they are computed in
``simulate`` (once per setting, cached) and compared with the measured error there.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from theorylab.experiments.base import (
    Agreement,
    Criterion,
    Experiment,
    Observable,
    make_params,
    require_centred_activation,
    require_int,
    require_nonempty,
    require_positive,
    require_range,
)
from theorylab.models.rainbow import (
    draw_rainbow_weights,
    inverse_gram,
    isotropic,
    power_law,
    rainbow_features,
)
from theorylab.theory.activations import parse_activation
from theorylab.theory.feature_covariance import Propagation, empirical_moments, propagate
from theorylab.theory.fixed_point import SolverStatus
from theorylab.theory.ridge import FeatureMoments, optimal_ridge, ridge_test_error

__all__ = ["EXPERIMENT", "Params", "figure", "simulate", "theory"]

# Independent numpy streams default_rng([weight_seed, k]) for the pieces of one setting.
_RAINBOW, _TEACHER, _TRAINED_INIT, _HELD_OUT, _TRAIN_SET = range(5)
_CHUNK = 10_000  # rows per Monte-Carlo chunk


@dataclass(frozen=True)
class Params:
    """Setting of arXiv 2402.13999 (defaults: the quick size of the paper note).

    Attributes
    ----------
    alpha : sample ratios n/p_L, p_L the readout width of the network (a grid; the interpolation
        peak of ridge with small λ sits at α = 1).
    lam : ridge penalties λ (sum convention, not scaled by n or p).
    d : input dimension; width1, width2 : hidden widths p₁, p₂ of the rainbow net.
    activation : σ of both hidden layers (odd: the recursion assumes centred features).
    power_law : γ of the first layer's row covariance C₁ = diag(k^{−γ}).
    gram_shift : s in C₂ ∝ (W₁W₁ᵀ + s I)⁻¹.
    second_layer_scale : factor multiplying W₂ (its rows are N(0, scale²·C₂/p₁)).
    teacher_width : p*; teacher_activation : σ* of y = θ·σ*(W* x)/√p* + noise·ξ.
    noise : standard deviation of the label noise ξ.
    n_test : test points per seed; n_emp : held-out samples for the empirical Ω (≥ 20 p).
    weight_seed : seed of every weight matrix (rainbow, teacher, trained net's initialisation),
        of the held-out set and of the trained net's training set.
    trained_width : both hidden widths of the network trained by gradient descent (same
        row-covariance rules at initialisation, same teacher).
    train_samples, train_steps, learning_rate : its full-batch gradient-descent training.
    """

    alpha: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
    lam: tuple[float, ...] = (0.01, 1.0, 10.0)
    d: int = 400
    width1: int = 600
    width2: int = 500
    activation: str = "tanh"
    power_law: float = 0.4
    gram_shift: float = 0.5
    second_layer_scale: float = 1.5
    teacher_width: int = 300
    teacher_activation: str = "tanh"
    noise: float = 0.1
    n_test: int = 4000
    n_emp: int = 40_000
    weight_seed: int = 0
    trained_width: int = 200
    train_samples: int = 2000
    train_steps: int = 200
    learning_rate: float = 1.0

    def __post_init__(self) -> None:
        require_nonempty("alpha", self.alpha)
        require_range("alpha", self.alpha, 1e-3, 100.0)
        require_nonempty("lam", self.lam)
        require_positive("lam", self.lam)
        require_int("d", self.d, 2, 20_000)
        require_int("width1", self.width1, 1, 20_000)
        require_int("width2", self.width2, 1, 20_000)
        require_centred_activation("activation", self.activation)
        require_range("power_law", self.power_law, 0.0, 10.0)
        require_positive("gram_shift", self.gram_shift)
        require_positive("second_layer_scale", self.second_layer_scale)
        require_int("teacher_width", self.teacher_width, 1, 20_000)
        require_centred_activation("teacher_activation", self.teacher_activation)
        require_positive("noise", self.noise, strict=False)
        require_int("n_test", self.n_test, 1)
        require_int("n_emp", self.n_emp, 2)
        require_int("weight_seed", self.weight_seed, 0)
        require_int("trained_width", self.trained_width, 1, 20_000)
        require_int("train_samples", self.train_samples, 1)
        require_int("train_steps", self.train_steps, 0, 100_000)
        require_positive("learning_rate", self.learning_rate)


def sample_sizes(p: Params, width: int) -> np.ndarray:
    """n = round(α·p_L) for the readout width ``width`` (at least 1)."""
    return np.array([max(1, round(a * width)) for a in p.alpha], dtype=int)


# --------------------------------------------------------------------------------------------
# The setting: weights (numpy, from weight_seed)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Teacher:
    """y = θ·σ*(W* x)/√p* + noise·ξ, W* rows N(0, I/d), θ ~ N(0, I)."""

    weight: np.ndarray  # W*, (p*, d)
    theta: np.ndarray  # θ, (p*,)
    activation: str
    noise: float

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Noisy labels of the rows of x (numpy)."""
        clean = parse_activation(self.activation)(x @ self.weight.T) @ self.theta
        return clean / np.sqrt(self.theta.size) + self.noise * rng.standard_normal(x.shape[0])


def _stream(p: Params, k: int) -> np.random.Generator:
    return np.random.default_rng([p.weight_seed, k])


def _rules(p: Params):
    return [power_law(p.power_law), inverse_gram(p.gram_shift)], [1.0, p.second_layer_scale]


@functools.lru_cache(maxsize=4)
def rainbow_weights(p: Params) -> tuple[np.ndarray, ...]:
    """W₁ (power-law rows) and W₂ (rows ∝ (W₁W₁ᵀ + sI)⁻¹, times the scale) from weight_seed."""
    rules, scales = _rules(p)
    return draw_rainbow_weights(_stream(p, _RAINBOW), [p.d, p.width1, p.width2], rules, scales)


@functools.lru_cache(maxsize=4)
def teacher(p: Params) -> Teacher:
    """The teacher network (W* first, then θ) from weight_seed."""
    rng = _stream(p, _TEACHER)
    (w_star,) = draw_rainbow_weights(rng, [p.d, p.teacher_width], [isotropic()])
    theta = rng.standard_normal(p.teacher_width)
    return Teacher(w_star, theta, p.teacher_activation, p.noise)


# --------------------------------------------------------------------------------------------
# Theory: feature moments and the deterministic equivalent
# --------------------------------------------------------------------------------------------


def teacher_moments(t: Teacher, d: int) -> tuple[np.ndarray, float]:
    """ψ₀ = E[x y] and E y² of the teacher (note item B, last line).

    Per-neuron recursion on the teacher's one layer: ψ₀ = W*ᵀ diag(κ1_i) θ/√p* is exact (Stein's
    lemma); E y² = θᵀΩ*θ/p* + noise² with Ω* exact on the diagonal and linearised off it.
    """
    prop = propagate([t.weight], [t.activation], np.eye(d), np.eye(d), variance="per_neuron")
    k = t.theta.size
    psi0 = prop.phi.T @ t.theta / np.sqrt(k)
    power = float(t.theta @ prop.omega @ t.theta) / k + t.noise**2
    return psi0, power


def closed_form_moments(
    weights, activations, t: Teacher, *, variance: str = "trace"
) -> tuple[FeatureMoments, Propagation]:
    """(Ω, ψ, E y²) of the features h_L from the layer recursion (note item B, Thm. 3.5)."""
    d = weights[0].shape[1]
    psi0, power = teacher_moments(t, d)
    prop = propagate(weights, activations, np.eye(d), psi0, variance=variance)
    return FeatureMoments(prop.omega, prop.phi, power), prop


def monte_carlo_moments(weights, activations, t: Teacher, p: Params) -> FeatureMoments:
    """Empirical (Ω, ψ, E y²) from ``p.n_emp`` held-out samples (note item C).

    No centring: for odd σ and centred Gaussian inputs E φ = 0 exactly, so the uncentred estimate
    is unbiased and the readout needs no centring either.
    """
    rng = _stream(p, _HELD_OUT)
    feats, labels = [], []
    for start in range(0, p.n_emp, _CHUNK):
        x = rng.standard_normal((min(_CHUNK, p.n_emp - start), p.d))
        labels.append(t(x, rng))
        feats.append(rainbow_features(x, weights, activations))
    return empirical_moments(np.vstack(feats), np.concatenate(labels), center=False)


@dataclass(frozen=True)
class RainbowMoments:
    """Both routes to the moments of the rainbow net's features, and the recursion's constants."""

    closed: FeatureMoments
    empirical: FeatureMoments
    propagation: Propagation


@functools.lru_cache(maxsize=4)
def rainbow_moments(p: Params) -> RainbowMoments:
    """Closed-form (trace variance) and Monte-Carlo moments of the rainbow features."""
    weights, t = rainbow_weights(p), teacher(p)
    acts = [p.activation] * len(weights)
    closed, prop = closed_form_moments(weights, acts, t, variance="trace")
    return RainbowMoments(closed, monte_carlo_moments(weights, acts, t, p), prop)


def learning_curves(moments: FeatureMoments, p: Params, width: int):
    """Test error on the (lam, alpha) grid: ``ridge_test_error`` at n = α·p_L."""
    n = sample_sizes(p, width).astype(float)
    return ridge_test_error(moments, n[None, :], np.asarray(p.lam, dtype=float)[:, None])


def peak_ratio(errors: np.ndarray, alpha: tuple[float, ...]) -> np.ndarray:
    """Per λ: error at the grid point nearest α = 1 over the larger of its grid neighbours.

    > 1 means the curve peaks at the interpolation threshold n = p; NaN with a single α.
    """
    errors = np.asarray(errors, dtype=float)
    order = np.argsort(alpha)
    a = np.asarray(alpha, dtype=float)[order]
    e = errors[:, order]
    if a.size < 2:
        return np.full(errors.shape[0], np.nan)
    j = int(np.argmin(np.abs(a - 1.0)))
    neighbours = [k for k in (j - 1, j + 1) if 0 <= k < a.size]
    return e[:, j] / e[:, neighbours].max(axis=1)


def theory(p: Params) -> dict:
    """Deterministic-equivalent test errors from the closed-form and the empirical Ω."""
    mom = rainbow_moments(p)
    eg, st = learning_curves(mom.closed, p, p.width2)
    eg_emp, st_emp = learning_curves(mom.empirical, p, p.width2)
    lam_opt, eg_opt = optimal_ridge(mom.closed, sample_sizes(p, p.width2).astype(float))
    layer = mom.propagation.constants
    omega_c, omega_e = mom.closed.omega, mom.empirical.omega
    return {
        "eg": eg,
        "eg_emp": eg_emp,
        "eg_opt": eg_opt,
        "lam_opt": lam_opt,
        "peak_ratio": peak_ratio(eg, p.alpha),
        "r1": float(np.sqrt(layer[0].variance)),
        "kappa1_1": float(layer[0].kappa1),
        "kappa_star_1": float(layer[0].kappa_star),
        "r2": float(np.sqrt(layer[1].variance)),
        "kappa1_2": float(layer[1].kappa1),
        "kappa_star_2": float(layer[1].kappa_star),
        "label_power": mom.closed.label_power,
        "omega_rel_diff": float(np.linalg.norm(omega_c - omega_e, 2) / np.linalg.norm(omega_e, 2)),
        "solver": SolverStatus.combine(st, st_emp),
    }


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------


def ridge_errors(f_train, y_train, f_test, y_test, ns, lams) -> np.ndarray:
    """Test MSE of sum-convention ridge θ̂ = (FᵀF + λI)⁻¹Fᵀy on the first n rows, (λ, n) grid.

    Uses :func:`theorylab.models.linear.ridge_path` (penalty λ' per feature of the 1/p-scaled
    Gram matrix): its predictions x·ŵ'/√p at λ' = λ/p are those of the sum convention at λ.
    """
    from theorylab.models.linear import ridge_path

    width = f_train.shape[1]
    errors = np.empty((len(lams), len(ns)))
    for j, n in enumerate(ns):
        w = ridge_path(f_train[:n], y_train[:n], [lam / width for lam in lams])
        pred = f_test @ w.T / width**0.5
        errors[:, j] = ((pred - y_test[:, None]) ** 2).mean(0).cpu().numpy()
    return errors


def _draw_data(p: Params, seed: int, n: int, t: Teacher):
    """n training + n_test test points of the teacher (torch generator of ``seed``)."""
    import torch

    from theorylab.models.activations import torch_activation
    from theorylab.models.device import default_device, generator

    gen = generator(seed)
    x = torch.randn(n + p.n_test, p.d, generator=gen, dtype=torch.float64)
    xi = torch.randn(n + p.n_test, generator=gen, dtype=torch.float64)
    w_star = torch.from_numpy(t.weight)
    theta = torch.from_numpy(t.theta)
    y = torch_activation(t.activation)(x @ w_star.T) @ theta / t.theta.size**0.5 + t.noise * xi
    device = default_device()
    return x.to(device), y.to(device)


@dataclass(frozen=True)
class TrainedFeatures:
    """The network trained by gradient descent and the theory for its features."""

    weights: tuple[np.ndarray, ...]
    losses: np.ndarray
    eg_emp: np.ndarray  # (lam, alpha) from the empirical Ω of its features
    eg_lin: np.ndarray  # (lam, alpha) from the per-neuron recursion on its trained weights
    eg_init: np.ndarray  # (lam, alpha) closed-form (trace) theory at initialisation
    top_eigenvalues: np.ndarray  # two largest eigenvalues of the empirical Ω (spike)


@functools.lru_cache(maxsize=2)
def trained_features(p: Params) -> TrainedFeatures:
    """Train the small rainbow net (full-batch GD, float64) and evaluate its theories.

    Initialisation: the same row-covariance rules as the rainbow net, widths ``trained_width``.
    Training set: ``train_samples`` fresh teacher samples. Deterministic in ``weight_seed``.
    """
    import torch

    from theorylab.models.device import default_device
    from theorylab.models.rainbow import GradientDescent, train_network

    rules, scales = _rules(p)
    k = p.trained_width
    init = draw_rainbow_weights(_stream(p, _TRAINED_INIT), [p.d, k, k], rules, scales)
    t = teacher(p)
    rng = _stream(p, _TRAIN_SET)
    x = rng.standard_normal((p.train_samples, p.d))
    y = t(x, rng)
    device = default_device()

    def tensor(a):
        return torch.from_numpy(np.ascontiguousarray(a)).to(device)

    acts = [p.activation] * 2
    net = train_network(
        tensor(x),
        tensor(y),
        [tensor(w) for w in init],
        acts,
        GradientDescent(p.train_steps, p.learning_rate),
    )
    trained = net.numpy_weights()
    emp = monte_carlo_moments(trained, acts, t, p)
    lin, _ = closed_form_moments(trained, acts, t, variance="per_neuron")
    at_init, _ = closed_form_moments(init, acts, t, variance="trace")
    # An unconverged κ root gives NaN, which fails the checks instead of passing silently.
    curves = [
        eg if status.converged else np.full_like(eg, np.nan)
        for eg, status in (learning_curves(m, p, k) for m in (emp, lin, at_init))
    ]
    evals = np.linalg.eigvalsh(emp.omega)
    return TrainedFeatures(trained, net.losses, *curves, evals[-2:][::-1])


def simulate(p: Params, seed: int) -> dict:
    """Ridge readout on the rainbow features and on the trained net's features, fresh data.

    One training set of max n points per seed, evaluated on the whole α grid (its first n
    points) and on all λ, like a learning curve; 4000 fresh test points.
    """
    import torch

    from theorylab.models.activations import torch_activation
    from theorylab.models.rainbow import torch_features

    t = teacher(p)
    device_weights = [torch.from_numpy(w) for w in rainbow_weights(p)]
    ns = sample_sizes(p, p.width2)
    n_max = int(ns.max())
    x, y = _draw_data(p, seed, n_max, t)
    device_weights = [w.to(x.device) for w in device_weights]
    acts = [p.activation] * 2
    feats = torch_features(x, device_weights, acts)
    eg = ridge_errors(feats[:n_max], y[:n_max], feats[n_max:], y[n_max:], ns, p.lam)
    x_test = x[n_max:]
    pre1 = x_test @ device_weights[0].T
    pre2 = torch_activation(p.activation)(pre1) @ device_weights[1].T

    tf = trained_features(p)
    k_ns = sample_sizes(p, p.trained_width)
    k_max = int(k_ns.max())
    xk, yk = _draw_data(p, seed + 1_000_003, k_max, t)
    trained = [torch.from_numpy(w).to(xk.device) for w in tf.weights]
    fk = torch_features(xk, trained, acts)
    eg_trained = ridge_errors(fk[:k_max], yk[:k_max], fk[k_max:], yk[k_max:], k_ns, p.lam)
    return {
        "eg": eg,
        "peak_ratio": peak_ratio(eg, p.alpha),
        "r1": float(pre1.pow(2).mean().sqrt()),
        "r2": float(pre2.pow(2).mean().sqrt()),
        "label_power": float(y[n_max:].pow(2).mean()),
        "eg_trained": eg_trained,
        "eg_trained_emp": tf.eg_emp,
        "eg_trained_lin": tf.eg_lin,
        "eg_trained_init": tf.eg_init,
        "train_loss": float(tf.losses[-1]),
        "trained_spike": float(tf.top_eigenvalues[0] / tf.top_eigenvalues[1]),
    }


# --------------------------------------------------------------------------------------------
# Figure
# --------------------------------------------------------------------------------------------


def figure(result):
    """(a) rainbow net: test error vs n per λ (closed-form Ω solid, empirical Ω dashed, ridge
    simulations ± sem); (b) the trained net: measured vs its two theories; (c) spectrum of Ω."""
    import matplotlib.pyplot as plt

    p = make_params(Params, result.params)
    mom = rainbow_moments(p)
    dense = make_params(Params, {**result.params, "alpha": tuple(np.geomspace(0.2, 8.0, 90))})
    a = np.asarray(dense.alpha)
    eg, _ = learning_curves(mom.closed, dense, p.width2)
    eg_emp, _ = learning_curves(mom.empirical, dense, p.width2)
    sim = result.simulation
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(p.lam)))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
    ax = axes[0]
    for i, lam in enumerate(p.lam):
        ax.plot(a * p.width2, eg[i], color=colors[i], lw=1.5, label=f"λ = {lam:g}")
        ax.plot(a * p.width2, eg_emp[i], color=colors[i], lw=1.2, ls="--")
        if sim is not None:
            ax.errorbar(
                sample_sizes(p, p.width2),
                np.asarray(sim["mean"]["eg"])[i],
                yerr=np.asarray(sim["sem"]["eg"])[i],
                fmt="o",
                ms=5,
                color=colors[i],
                capsize=3,
            )
    ax.plot([], [], color="gray", label="theory, closed-form Ω")
    ax.plot([], [], color="gray", ls="--", label="theory, empirical Ω")
    ax.plot([], [], "o", color="gray", label="ridge simulation")
    ax.axvline(p.width2, color="gray", lw=0.6, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n (training samples)")
    ax.set_ylabel("test error  E(y − θ̂·φ(x))²")
    ax.set_title(f"rainbow net d={p.d}, p=({p.width1},{p.width2}), {p.activation}")
    ax.legend(fontsize=7)

    ax = axes[1]
    if sim is not None:
        ns = sample_sizes(p, p.trained_width)
        mean, sem = sim["mean"], sim["sem"]
        for i, lam in enumerate(p.lam):
            ax.errorbar(
                ns,
                np.asarray(mean["eg_trained"])[i],
                yerr=np.asarray(sem["eg_trained"])[i],
                fmt="o",
                ms=5,
                color=colors[i],
                capsize=3,
                label=f"λ = {lam:g}",
            )
            ax.plot(ns, np.asarray(mean["eg_trained_emp"])[i], color=colors[i], ls="--")
            ax.plot(ns, np.asarray(mean["eg_trained_lin"])[i], color=colors[i])
            ax.plot(ns, np.asarray(mean["eg_trained_init"])[i], color=colors[i], ls=":", lw=1)
        ax.plot([], [], color="gray", label="per-neuron recursion, trained W")
        ax.plot([], [], color="gray", ls="--", label="empirical Ω of trained features")
        ax.plot([], [], color="gray", ls=":", label="theory at initialisation")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    ax.set_xlabel("n (training samples of the readout)")
    ax.set_ylabel("test error")
    ax.set_title(
        f"trained net (width {p.trained_width}, {p.train_steps} GD steps, η = {p.learning_rate:g})"
    )

    ax = axes[2]
    for m, style, label in ((mom.closed, "-", "closed form"), (mom.empirical, "--", "empirical")):
        ev = np.sort(np.linalg.eigvalsh(m.omega))[::-1]
        ax.plot(np.arange(1, ev.size + 1), ev, ls=style, label=f"{label} Ω")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rank")
    ax.set_ylabel("eigenvalue of Ω")
    ax.set_title(f"spectrum of Ω (N_emp = {p.n_emp})")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------------------------


def _off_peak(coords) -> bool:
    return abs(coords["alpha"] - 1.0) > 0.25


_OFF_PEAK = (
    "6 % relative (paper note: the closed-form Ω runs up to ~4 % high at n = 2000 from finite "
    "width) plus 2 sem of the 4 training-set seeds; |α − 1| ≤ 0.25 excluded: at the "
    "interpolation peak the error is seed-dominated (note, pitfalls)"
)
_EMPIRICAL = (
    "empirical-Ω route (note item C): 6 % relative (paper note's tolerance) plus 2 sem of the "
    "4 training-set seeds; |α − 1| ≤ 0.25 excluded as above"
)

EXPERIMENT = Experiment(
    slug="rainbow_features",
    arxiv="2402.13999",
    title="Asymptotics of learning with deep structured (random) features",
    claim=(
        "Learning only the readout of a fixed feature map by ridge regression has, when input "
        "dimension, widths and samples are proportionally large, a test error that depends on "
        "the features only through their population covariance Ω, the feature-label covariance "
        "ψ and E y². For Gaussian rainbow networks — deep nets whose weight rows are Gaussian "
        "with structured, possibly weight-dependent covariances — Ω has a closed form built "
        "layer by layer from the weight matrices; with Ω measured on the features of a network "
        "trained by gradient descent the same formula predicts its readout learning curve."
    ),
    params=Params,
    theory=theory,
    simulate=simulate,
    observables={
        "eg": Observable("ridge test error, closed-form Ω of the rainbow net", ("lam", "alpha")),
        "eg_emp": Observable(
            "ridge test error, empirical Ω/ψ/E y² (n_emp held-out samples)", ("lam", "alpha")
        ),
        "eg_opt": Observable("test error at the optimal λ (closed-form Ω)", ("alpha",)),
        "lam_opt": Observable("optimal λ (closed-form Ω)", ("alpha",)),
        "peak_ratio": Observable(
            "error at α ≈ 1 over the larger neighbour on the α grid (> 1: interpolation peak)",
            ("lam",),
        ),
        "r1": Observable("RMS pre-activation of layer 1 (r of the recursion)"),
        "kappa1_1": Observable("κ1 of layer 1 at r1"),
        "kappa_star_1": Observable("κ* of layer 1 at r1"),
        "r2": Observable("RMS pre-activation of layer 2 (r of the recursion)"),
        "kappa1_2": Observable("κ1 of layer 2 at r2"),
        "kappa_star_2": Observable("κ* of layer 2 at r2"),
        "label_power": Observable("E y² (teacher power plus noise²)"),
        "omega_rel_diff": Observable("‖Ω_closed − Ω_emp‖₂ / ‖Ω_emp‖₂"),
        "eg_trained": Observable(
            "ridge test error on the GD-trained net's features (n = α·trained_width)",
            ("lam", "alpha"),
        ),
        "eg_trained_emp": Observable(
            "theory for eg_trained from the empirical Ω of the trained features (simulation-side)",
            ("lam", "alpha"),
        ),
        "eg_trained_lin": Observable(
            "theory for eg_trained from the per-neuron recursion on the trained weights",
            ("lam", "alpha"),
        ),
        "eg_trained_init": Observable(
            "closed-form theory of the same net at initialisation (before training)",
            ("lam", "alpha"),
        ),
        "train_loss": Observable("final training loss ½ mean (y − f)² of the trained net"),
        "trained_spike": Observable("top / second eigenvalue of the trained features' Ω"),
    },
    checks=(
        Agreement("eg", reason=_OFF_PEAK, n_sem=2.0, rtol=0.06, where=_off_peak),
        Criterion(
            "eg",
            "==",
            "eg_emp",
            reason=_EMPIRICAL,
            rtol=0.06,
            n_sem=2.0,
            where=_off_peak,
        ),
        Criterion(
            "peak_ratio",
            ">=",
            1.0,
            reason="interpolation peak at n = p in the simulation (note: at n = p only check "
            "that both show the peak); λ ≤ 0.1 only — at larger λ the theory curve may be "
            "monotone",
            where=lambda c: c["lam"] <= 0.1,
        ),
        Criterion(
            "peak_ratio",
            ">=",
            1.0,
            reason="interpolation peak at n = p in the theory (λ ≤ 0.1, as above)",
            source="theory",
            where=lambda c: c["lam"] <= 0.1,
        ),
        Agreement(
            "r1",
            reason="RMS pre-activation: 3 sem plus 1 % (the recursion's r uses the closed-form "
            "Ω of the previous layer)",
            n_sem=3.0,
            rtol=0.01,
        ),
        Agreement(
            "r2",
            reason="as r1; r2 = √(tr W₂Ω₁W₂ᵀ/p₂) tests the linearised Ω₁",
            n_sem=3.0,
            rtol=0.01,
        ),
        Agreement(
            "label_power",
            reason="E y² over 4 × n_test test labels: 3 sem plus 1 % (teacher Ω* linearised "
            "off the diagonal)",
            n_sem=3.0,
            rtol=0.01,
        ),
    ),
    figure=figure,
    seeds=4,
)
