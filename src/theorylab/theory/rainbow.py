"""Feature and label moments of a rainbow network with a random-network teacher (arXiv 2402.13999).

The ridge test error of a readout depends on the features only through Ω = E[φφᵀ], ψ = E[φ y]
and E y² (Thm. 3.3 of the paper; :func:`theorylab.theory.ridge.ridge_test_error`). For a
rainbow network with given weights, the closed form (Thm. 3.5) propagates them layer by layer
(:func:`theorylab.theory.feature_covariance.propagate`), starting from the input moments
Ω₀ = I_d (x ~ N(0, I_d)) and ψ₀ = E[x y] of the teacher y = θ·σ*(W* x)/√p* + noise·ξ:

* ψ₀ = W*ᵀ diag(κ1_i) θ/√p*, exact by Stein's lemma (κ1_i = E σ*'(z_i), z_i = (W* x)_i);
* E y² = θᵀΩ*θ/p* + noise², with Ω* the per-neuron covariance of σ*(W* x): exact on its
  diagonal, linearised (κ1_i κ1_j (W*W*ᵀ)_ij) off it.

Torch-free: the teacher and the weights enter as arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from theorylab.theory.activations import parse_activation
from theorylab.theory.feature_covariance import Propagation, propagate
from theorylab.theory.fixed_point import SolverStatus
from theorylab.theory.ridge import FeatureMoments, ridge_test_error

__all__ = [
    "SettingMoments",
    "closed_form_moments",
    "held_out_moments",
    "learning_curve",
    "setting_moments",
    "teacher_moments",
]


def teacher_moments(
    weight: np.ndarray, theta: np.ndarray, activation: str, noise: float
) -> tuple[np.ndarray, float]:
    """ψ₀ = E[x y] and E y² of y = θ·σ*(W* x)/√p* + noise·ξ for x ~ N(0, I_d).

    Parameters
    ----------
    weight
        W*, shape (p*, d).
    theta
        θ, shape (p*,).
    activation
        σ* (a spec of :mod:`theorylab.theory.activations`).
    noise
        Standard deviation of the label noise ξ.

    Returns
    -------
    (numpy.ndarray, float)
        ψ₀ of shape (d,) and E y².
    """
    d = weight.shape[1]
    prop = propagate([weight], [activation], np.eye(d), np.eye(d), variance="per_neuron")
    k = theta.size
    psi0 = prop.phi.T @ theta / np.sqrt(k)
    power = float(theta @ prop.omega @ theta) / k + float(noise) ** 2
    return psi0, power


def closed_form_moments(
    weights: Sequence[np.ndarray],
    activations: Sequence[str],
    psi0: np.ndarray,
    label_power: float,
    *,
    variance: str = "trace",
) -> tuple[FeatureMoments, Propagation]:
    """(Ω, ψ, E y²) of the last layer's features from the layer recursion (Thm. 3.5).

    Ω_ℓ = κ1_ℓ² W_ℓ Ω_{ℓ−1} W_ℓᵀ + κ*_ℓ² I, ψ_ℓ = κ1_ℓ W_ℓ ψ_{ℓ−1}, Ω₀ = I_d, with the
    Gaussian constants at the mean pre-activation variance (``variance="trace"``, the paper's
    formula) or per neuron (``"per_neuron"``, for heterogeneous rows such as trained weights).
    """
    d = np.shape(weights[0])[1]
    prop = propagate(weights, activations, np.eye(d), psi0, variance=variance)
    return FeatureMoments(prop.omega, prop.phi, label_power), prop


def held_out_moments(
    rng: np.random.Generator,
    size: int,
    d: int,
    labels: Callable[[np.ndarray, np.random.Generator], np.ndarray],
    feature_maps: Sequence[Callable[[np.ndarray], np.ndarray]],
    chunk: int = 10_000,
) -> list[FeatureMoments | None]:
    """Empirical (Ω, ψ, E y²) of several feature maps on the same held-out samples.

    The paper's route for features without a closed form (trained nets, real data): estimate
    the moments from ``size`` samples x ~ N(0, I_d) with labels ``labels(x, rng)`` (drawn in
    blocks of ``chunk``), then use Thm. 3.3. No centring: for odd activations and centred
    Gaussian inputs E φ = 0 exactly, so the uncentred estimate is unbiased.

    Returns
    -------
    list
        One :class:`FeatureMoments` per map (``None`` for a map with non-finite features, e.g.
        the weights of a diverged training run).
    """
    grams = [0.0] * len(feature_maps)
    cross = [0.0] * len(feature_maps)
    power = 0.0
    for start in range(0, size, chunk):
        x = rng.standard_normal((min(chunk, size - start), d))
        y = labels(x, rng)
        power += float(y @ y)
        for i, fmap in enumerate(feature_maps):
            f = fmap(x)
            grams[i] = grams[i] + f.T @ f
            cross[i] = cross[i] + f.T @ y
    out: list[FeatureMoments | None] = []
    for g, c in zip(grams, cross, strict=True):
        finite = bool(np.all(np.isfinite(g)) and np.all(np.isfinite(c)))
        out.append(FeatureMoments(g / size, c / size, power / size) if finite else None)
    return out


@dataclass(frozen=True)
class SettingMoments:
    """Every moment the rainbow-feature predictions need, for one draw of the weights.

    Attributes
    ----------
    closed
        Closed form (Thm. 3.5) with per-neuron constants (exact diagonal of Ω).
    trace
        Closed form with the constants at the layer-mean variance r_ℓ (the theorem as stated).
    empirical
        Held-out estimate for the same features.
    propagation
        The layer-mean recursion (its r_ℓ, κ's).
    trained, trained_lin
        Held-out estimate and per-neuron recursion for the trained net's features (None if
        its training diverged).
    trained_init
        Closed form for the trained net at its initialisation.
    """

    closed: FeatureMoments
    trace: FeatureMoments
    empirical: FeatureMoments
    propagation: Propagation
    trained: FeatureMoments | None
    trained_lin: FeatureMoments | None
    trained_init: FeatureMoments


def setting_moments(
    weights: Sequence[np.ndarray],
    trained: Sequence[np.ndarray],
    init: Sequence[np.ndarray],
    activation: str,
    teacher: tuple[np.ndarray, np.ndarray, str, float],
    labels: Callable[[np.ndarray, np.random.Generator], np.ndarray],
    rng: np.random.Generator,
    n_emp: int,
    chunk: int = 10_000,
) -> SettingMoments:
    """The :class:`SettingMoments` of a rainbow net (``weights``) and of a trained net
    (``trained``, initialised at ``init``), every layer with ``activation``, for the teacher
    (W*, θ, σ*, noise) whose labels ``labels(x, rng)`` draws; the held-out estimates use
    ``n_emp`` samples of ``rng`` (:func:`held_out_moments`)."""
    acts = [activation] * len(weights)
    psi0, power = teacher_moments(*teacher)
    trace, prop = closed_form_moments(weights, acts, psi0, power)
    closed = closed_form_moments(weights, acts, psi0, power, variance="per_neuron")[0]
    maps = [lambda x, w=w: _forward(x, w, activation) for w in (weights, trained)]
    empirical, held_out = held_out_moments(rng, n_emp, np.shape(weights[0])[1], labels, maps, chunk)
    lin = None
    if held_out is not None:
        lin = closed_form_moments(trained, acts, psi0, power, variance="per_neuron")[0]
    at_init = closed_form_moments(init, acts, psi0, power)[0]
    return SettingMoments(closed, trace, empirical, prop, held_out, lin, at_init)


def _forward(x: np.ndarray, weights: Sequence[np.ndarray], activation: str) -> np.ndarray:
    act = parse_activation(activation)
    for w in weights:
        x = act(x @ w.T)
    return x


def learning_curve(
    moments: FeatureMoments | None, n: Sequence[float], lam: Sequence[float]
) -> tuple[np.ndarray, SolverStatus]:
    """Thm. 3.3 on the (λ, n) grid, shape (len(lam), len(n)); NaN and not converged for missing
    moments (a diverged training)."""
    if moments is None:
        nan = np.full((len(lam), len(n)), np.nan)
        return nan, SolverStatus(False, 0, np.inf, message="gradient descent diverged")
    n_arr = np.asarray(n, dtype=float)[None, :]
    return ridge_test_error(moments, n_arr, np.asarray(lam, dtype=float)[:, None])
