"""Closed-form second moments of deep networks with frozen weights (linearised, layer by layer).

A deep network h_0 = x, h_ℓ = σ_ℓ(W_ℓ h_{ℓ−1}) with *given* weight matrices W_ℓ ∈ R^{p_ℓ×p_{ℓ−1}}
and Gaussian input x ~ N(0, Ω_0). In the proportional limit (all widths ∝ d) every
pre-activation is Gaussian with variance r, and each layer acts on second moments like its
Gaussian-equivalent linear map σ(z) ≈ κ0 + κ1 z + κ* ξ (ξ independent, unit variance):

    Ω_ℓ = κ1² W_ℓ Ω_{ℓ−1} W_ℓᵀ + κ*² I + κ0² 11ᵀ,        Φ_ℓ = κ1 W_ℓ Φ_{ℓ−1},

with Φ_ℓ = E[h_ℓ tᵀ] the cross-covariance with any target t (Φ_0 = E[x tᵀ]) and
κ0 = E σ(z), κ1 = E[z σ(z)]/r, κ*² = E σ(z)² − κ0² − r κ1² at the layer's variance r.

Three conventions for r (the ``variance`` argument of :func:`propagate`):

* ``"trace"``: r_ℓ = tr(W_ℓ Ω_{ℓ−1} W_ℓᵀ)/p_ℓ, the mean pre-activation variance given the
  weights (arXiv 2402.13999, Sec. 3.2; the authors' ``linearized(avg=True)``);
* ``"per_neuron"``: r_i = (W_ℓ Ω_{ℓ−1} W_ℓᵀ)_ii with κ's per neuron,
  Ω_ℓ = K1 (Ω̃ − diag Ω̃) K1 + diag(E σ(z_i)²) + κ0 κ0ᵀ − diag(κ0²), K1 = diag(κ1_i)
  (heterogeneous rows, e.g. trained weights; ``linearized(avg=False)``);
* ``"population"``: r_1 = Δ_1 tr Ω_0, r_{ℓ+1} = Δ_{ℓ+1} p_ℓ E σ_ℓ(z)² with z ~ N(0, r_ℓ) and Δ_ℓ
  the entry variance of W_ℓ (default 1/p_{ℓ−1}, giving r_1 = tr Ω_0/p_0 and r_{ℓ+1} = E σ_ℓ²):
  the weights' *distribution*, not the draw (arXiv 2302.00401, Eq. (8); HugoCui/dRF notebooks).

The κ0 ≠ 0 terms keep Ω_ℓ the (uncentred) second moment of the layer's output, but a non-zero
mean reaching the next layer shifts its pre-activations, which the linearisation ignores: for
non-odd activations below the last layer, centre the features or use :func:`empirical_moments`.

For one layer with i.i.d. weights the d → ∞ limit needs no draw at all: Ω is a function of
W Wᵀ, whose spectrum follows the Marchenko–Pastur law (:func:`marchenko_pastur`,
:func:`one_layer_limit`).

References
----------
Schröder, Cui, Dmitriev, Loureiro (2023), arXiv 2302.00401, Sec. 3 (Eqs. (8)–(10)).
Schröder, Dmitriev, Cui, Loureiro (2024), arXiv 2402.13999, Sec. 3.2 (rainbow networks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from theorylab.theory.hermite import (
    ActivationLike,
    hermite_coefficients,
    hermite_coefficients_many,
)
from theorylab.theory.ridge import FeatureMoments, Spectrum

__all__ = [
    "VARIANCE_MODES",
    "LayerConstants",
    "Propagation",
    "empirical_moments",
    "marchenko_pastur",
    "one_layer_limit",
    "propagate",
]

VARIANCE_MODES = ("trace", "per_neuron", "population")


@dataclass(frozen=True)
class LayerConstants:
    """Gaussian constants of one layer (arrays of length p_ℓ when ``variance="per_neuron"``).

    Attributes
    ----------
    variance
        r, the variance of the pre-activations z = (W_ℓ h_{ℓ−1})_i.
    kappa0, kappa1, kappa_star
        E σ(z), E[z σ(z)]/r and √(E σ(z)² − κ0² − r κ1²).
    second_moment
        E σ(z)².
    """

    variance: float | np.ndarray
    kappa0: float | np.ndarray
    kappa1: float | np.ndarray
    kappa_star: float | np.ndarray
    second_moment: float | np.ndarray


@dataclass(frozen=True)
class Propagation:
    """Closed-form moments of every layer of a network.

    Attributes
    ----------
    omegas
        Ω_1 … Ω_L, Ω_ℓ = E[h_ℓ h_ℓᵀ] of shape (p_ℓ, p_ℓ).
    cross
        Φ_1 … Φ_L, Φ_ℓ = E[h_ℓ tᵀ] (shape (p_ℓ,) or (p_ℓ, m) like ``cross0``), or None.
    constants
        The :class:`LayerConstants` of every layer.
    """

    omegas: tuple[np.ndarray, ...]
    cross: tuple[np.ndarray, ...] | None
    constants: tuple[LayerConstants, ...]

    @property
    def omega(self) -> np.ndarray:
        """Ω_L, the covariance of the last layer's features."""
        return self.omegas[-1]

    @property
    def phi(self) -> np.ndarray | None:
        """Φ_L, the last layer's cross-covariance with the target (None if not propagated)."""
        return None if self.cross is None else self.cross[-1]


def _constants(activation: ActivationLike, r: float) -> LayerConstants:
    c = hermite_coefficients(activation, variance=r)
    return LayerConstants(r, c.kappa0, c.kappa1, c.kappa_star, c.second_moment)


def _per_neuron_constants(activation: ActivationLike, r: np.ndarray) -> LayerConstants:
    # One shared quadrature for the whole layer (exact duplicates evaluated once).
    uniq, inverse = np.unique(r, return_inverse=True)
    k0, k1, ks, m2 = (a[inverse] for a in hermite_coefficients_many(activation, uniq))
    return LayerConstants(r, k0, k1, ks, m2)


def propagate(
    weights: Sequence[np.ndarray],
    activations: Sequence[ActivationLike],
    omega0: np.ndarray,
    cross0: np.ndarray | None = None,
    *,
    variance: str = "trace",
    weight_variances: Sequence[float] | None = None,
) -> Propagation:
    """Closed-form feature covariances Ω_ℓ (and cross-covariances Φ_ℓ) layer by layer.

    Ω_ℓ = κ1² W_ℓ Ω_{ℓ−1} W_ℓᵀ + κ*² I (+ κ0² 11ᵀ), Φ_ℓ = κ1 W_ℓ Φ_{ℓ−1}
    (arXiv 2302.00401, Eqs. (8)–(10); arXiv 2402.13999, Thm. 3.5).

    Parameters
    ----------
    weights
        W_1 … W_L, W_ℓ of shape (p_ℓ, p_{ℓ−1}) — the network computes h_ℓ = σ_ℓ(W_ℓ h_{ℓ−1})
        (any scale, e.g. 1/√p_{ℓ−1}, is part of W_ℓ).
    activations
        σ_1 … σ_L (anything :func:`~theorylab.theory.activations.parse_activation` accepts).
    omega0
        Ω_0 = E[x xᵀ] of the input, shape (p_0, p_0).
    cross0
        Φ_0 = E[x tᵀ] for a target t, shape (p_0,) or (p_0, m); None to skip.
    variance
        How the pre-activation variance r is obtained: ``"trace"``, ``"per_neuron"`` or
        ``"population"`` (see the module docstring).
    weight_variances
        Entry variances Δ_ℓ of the weight distributions, used by ``"population"`` only
        (default 1/p_{ℓ−1}, the N(0, 1/p_{ℓ−1}) convention of arXiv 2302.00401).

    Returns
    -------
    Propagation
    """
    if variance not in VARIANCE_MODES:
        raise ValueError(f"variance must be one of {', '.join(VARIANCE_MODES)}, got {variance!r}")
    if len(weights) != len(activations) or len(weights) == 0:
        raise ValueError("weights and activations must be non-empty and of the same length")
    omega = np.asarray(omega0, dtype=float)
    if omega.ndim != 2 or omega.shape[0] != omega.shape[1]:
        raise ValueError(f"omega0 must be a square matrix, got shape {omega.shape}")
    phi = None if cross0 is None else np.asarray(cross0, dtype=float)
    if phi is not None and phi.shape[0] != omega.shape[0]:
        raise ValueError(f"cross0 must have {omega.shape[0]} rows, got shape {phi.shape}")
    if weight_variances is None:
        weight_variances = [1.0 / np.shape(w)[1] for w in weights]
    if len(weight_variances) != len(weights):
        raise ValueError("weight_variances must have one entry per layer")

    omegas, crosses, consts = [], [], []
    r_pop = weight_variances[0] * float(np.trace(omega))
    for ell, (w, act) in enumerate(zip(weights, activations, strict=True)):
        w = np.asarray(w, dtype=float)
        if w.ndim != 2 or w.shape[1] != omega.shape[0]:
            raise ValueError(
                f"layer {ell + 1}: weight of shape {w.shape} does not act on dimension "
                f"{omega.shape[0]}"
            )
        scale = _identity_scale(omega) if ell == 0 else None
        if scale is None:
            tilde = w @ omega @ w.T
            tilde = 0.5 * (tilde + tilde.T)
        else:  # Ω_0 = c I (every paper here): c W Wᵀ, a symmetric rank-k product (BLAS syrk)
            tilde = scale * (w @ w.T)
        width = w.shape[0]
        if variance == "per_neuron":
            c = _per_neuron_constants(act, np.clip(np.diag(tilde).copy(), 1e-300, None))
            k1 = np.asarray(c.kappa1)
            k0 = np.asarray(c.kappa0)
            new = k1[:, None] * tilde * k1[None, :]
            new[np.diag_indices(width)] = 0.0
            new += np.outer(k0, k0)
            new[np.diag_indices(width)] = np.asarray(c.second_moment)
            phi = None if phi is None else _scale_rows(k1, _apply(w, phi, ell))
        else:
            r = float(np.trace(tilde)) / width if variance == "trace" else r_pop
            c = _constants(act, r)
            new = c.kappa1**2 * tilde
            new[np.diag_indices(width)] += c.kappa_star**2
            if c.kappa0 != 0.0:
                new += c.kappa0**2
            phi = None if phi is None else c.kappa1 * _apply(w, phi, ell)
            if ell + 1 < len(weights):
                r_pop = weight_variances[ell + 1] * width * float(c.second_moment)
        omega = new
        omegas.append(omega)
        consts.append(c)
        if phi is not None:
            crosses.append(phi)
    return Propagation(tuple(omegas), tuple(crosses) if cross0 is not None else None, tuple(consts))


def _identity_scale(m: np.ndarray) -> float | None:
    """c if the square matrix ``m`` is exactly c·I, else None (an O(p²) check)."""
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        return None
    c = float(m[0, 0])
    return c if np.array_equal(m, c * np.eye(m.shape[0])) else None


def _apply(w: np.ndarray, phi: np.ndarray, ell: int) -> np.ndarray:
    """W Φ, skipping the product when Φ_0 = c I (e.g. Φ_0 = κ1* I_d of a random target)."""
    scale = _identity_scale(phi) if ell == 0 else None
    return w @ phi if scale is None else scale * w


def _scale_rows(scale: np.ndarray, m: np.ndarray) -> np.ndarray:
    return scale * m if m.ndim == 1 else scale[:, None] * m


def empirical_moments(
    features: np.ndarray, labels: np.ndarray, *, center: bool = True
) -> FeatureMoments:
    """Ω, ψ and E y² estimated from held-out samples (arXiv 2402.13999, Sec. 4, item C).

    Parameters
    ----------
    features
        Feature vectors φ(x_μ) as rows, shape (N, p). Use N ≫ p (the authors: N ≥ 20 p); a small
        N biases the predicted error downward.
    labels
        y_μ, shape (N,).
    center
        Subtract the held-out feature mean (the authors' default). The same mean must then be
        subtracted from the training and test features of the ridge readout. Labels are never
        centred: E y² is the raw second moment.

    Returns
    -------
    FeatureMoments
        Ω = FᵀF/N, ψ = Fᵀy/N (F the possibly centred features; the 1/N maximum-likelihood
        normalisation, as the authors), E y² = mean(y²).
    """
    f = np.asarray(features, dtype=float)
    y = np.asarray(labels, dtype=float).ravel()
    if f.ndim != 2 or f.shape[0] != y.shape[0] or f.shape[0] == 0:
        raise ValueError(
            f"features must be (N, p) with N = len(labels) > 0, got {f.shape} and {y.shape}"
        )
    if center:
        f = f - f.mean(axis=0, keepdims=True)
    n = f.shape[0]
    return FeatureMoments(f.T @ f / n, f.T @ y / n, float(y @ y / n))


def marchenko_pastur(ratio: float, order: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature of the Marchenko–Pastur law of W Wᵀ, W ∈ R^{k×d} with N(0, 1/d) entries.

    The eigenvalue distribution of the k×k matrix W Wᵀ tends, for k/d → y = ``ratio``, to
    (1 − 1/y)₊ δ_0 + √((b − s)(s − a)) / (2π y s) ds on [a, b] = [(1 − √y)², (1 + √y)²].
    With s = (1 − √y)² + 4√y cos²(φ/2) (i.e. s = 1 + y + 2√y cos φ) the continuous part is
    ∫_0^π (2/π) sin²φ / s dφ, smooth except near φ = π when y ≈ 1, where it varies on the
    scale |1 − √y|. Gauss–Legendre panels of ``order`` nodes, graded geometrically towards π
    down to that scale, integrate it (times any function analytic on [a, b]) to near machine
    precision for every y, including y = 1 where a = 0.

    Parameters
    ----------
    ratio
        y = k/d > 0.
    order
        Gauss–Legendre nodes per panel.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Points s_j (the atom 0 first when y > 1) and probability weights w_j (summing to 1):
        E f(s) ≈ Σ_j w_j f(s_j).
    """
    y = float(ratio)
    if not (y > 0 and np.isfinite(y)) or order < 2:
        raise ValueError(f"ratio must be > 0 and order >= 2, got {ratio!r}, {order!r}")
    scale = abs(1.0 - np.sqrt(y))
    levels = int(np.clip(np.ceil(np.log2(np.pi / max(scale, 1e-300))) + 3, 1, 48))
    edges = np.r_[0.0, np.pi - (np.pi / 2) * 0.5 ** np.arange(levels), np.pi]
    x, wx = np.polynomial.legendre.leggauss(order)
    half = 0.5 * np.diff(edges)[:, None]
    phi = (0.5 * (edges[:-1] + edges[1:])[:, None] + half * x).ravel()
    dphi = (half * wx).ravel()
    cos_half2, sin_half2 = np.cos(phi / 2) ** 2, np.sin(phi / 2) ** 2
    s = (1.0 - np.sqrt(y)) ** 2 + 4.0 * np.sqrt(y) * cos_half2
    w = dphi * (2.0 / np.pi) * 4.0 * sin_half2 * cos_half2 / s  # (2/π) sin²φ / s dφ
    if y > 1.0:
        return np.r_[0.0, s], np.r_[1.0 - 1.0 / y, w]
    return s, w


def one_layer_limit(
    kappa1: float,
    kappa_star: float,
    width_ratio: float,
    target_kappa1: float,
    label_power: float,
    order: int = 16,
) -> tuple[Spectrum, float]:
    """The d → ∞ ridge problem of one-layer random features learning a random network.

    Features v = σ(Wx) ∈ R^k (W: N(0, 1/d) entries, x ~ N(0, I_d)), readout X = v/√k; target
    y = θ·σ*(W*x)/√k* (+ noise), averaged over θ ~ N(0, I) and W* (N(0, 1/d) entries). The
    closed-form moments give Cov X = (κ1² WWᵀ + κ*² I)/k and E_target[ψψᵀ] = κ1*² κ1² WWᵀ/(k d)
    (E W*ᵀW* = (k*/d) I), both functions of WWᵀ: in its eigenbasis the readout sees eigenvalues
    (κ1² s + κ*²)/k with target weight κ1*² κ1² s/(k d), s Marchenko–Pastur distributed
    (:func:`marchenko_pastur`, y = k/d). Returned per unit input dimension (d = 1: k = y,
    n = α); the deterministic equivalent is invariant under that scaling at fixed λ.

    Parameters
    ----------
    kappa1, kappa_star
        κ1, κ* of the feature activation at the pre-activation variance r = 1.
    width_ratio
        γ = k/d.
    target_kappa1
        κ1* of the target's activation at r = 1.
    label_power
        E y² averaged over the target (E σ*(z)² + label noise for the population convention).
    order
        Gauss–Legendre order of the panels of :func:`marchenko_pastur`.

    Returns
    -------
    (Spectrum, float)
        The spectrum (eigenvalues, multiplicities γ w_j, target weights) and the irreducible error
        E y² − ψᵀΩ⁻¹ψ, to pass to :func:`theorylab.theory.ridge.ridge_risk` with n = α.
    """
    gamma = float(width_ratio)
    s, w = marchenko_pastur(gamma, order)
    evals = (kappa1**2 * s + kappa_star**2) / gamma
    signal = target_kappa1**2 * kappa1**2 * s / gamma  # q per eigenvector, d = 1
    live = evals > 0
    safe = np.where(live, evals, 1.0)
    mult = gamma * w
    target = np.where(live, mult * signal / safe**2, 0.0)
    explained = float(np.sum(np.where(live, mult * signal / safe, 0.0)))
    return Spectrum(evals, mult, target), max(float(label_power) - explained, 0.0)
