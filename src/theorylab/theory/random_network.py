"""Deep networks with frozen Gaussian weights: layer-wise Gaussian coefficients.

Network: h₁ = W₁x/√d, h_{ℓ+1} = W_{ℓ+1} φ(h_ℓ)/√k_ℓ, f(x) = a·φ(h_L)/√k_L, with W_ℓ, a having
i.i.d. N(0, Δ_ℓ), N(0, Δ_a) entries and x ~ N(0, σ_x² I). With all widths proportional to d,
every pre-activation h_ℓ is N(0, r_ℓ) with

    r₁ = Δ₁ σ_x²,     r_{ℓ+1} = Δ_{ℓ+1} E φ(h_ℓ)²,

and each layer acts, for any learner seeing O(d) samples, like its Gaussian-equivalent linear
map φ(h) ≈ κ₁ h + κ_* ξ (ξ independent Gaussian noise; κ₀ = 0 for the odd activations used).
Propagated through the later layers this makes the whole network a noisy linear function:
signal power K = σ_x² Δ_a Π_ℓ Δ_ℓ κ₁⁽ℓ⁾² and effective noise
ε_eff = Δ_a Σ_ℓ κ_*⁽ℓ⁾² Π_{ℓ'>ℓ} Δ_{ℓ'} κ₁⁽ℓ'⁾², with K + ε_eff = E f² exactly.

References
----------
Cui, Krzakala, Zdeborová (2023), arXiv 2302.00375, Sec. 2–3 (the κ recursion and the equivalent
noisy linear model); Schröder, Cui, Dmitriev, Loureiro (2023), arXiv 2302.00401 (same recursion
for deep random features).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from theorylab.theory.hermite import HermiteCoefficients, hermite_coefficients

__all__ = ["LinearEquivalent", "layer_coefficients", "linear_equivalent"]


def layer_coefficients(
    activations: Sequence, weight_variances: Sequence[float], input_variance: float = 1.0
) -> tuple[HermiteCoefficients, ...]:
    """Gaussian coefficients (κ₀, κ₁, κ_*, E φ²) of every layer, propagating r_ℓ.

    Parameters
    ----------
    activations
        One activation per hidden layer (anything ``parse_activation`` accepts).
    weight_variances
        Δ_ℓ of each hidden layer's weights (same length as ``activations``).
    input_variance
        σ_x² = tr Σ/d of the input.
    """
    if len(activations) != len(weight_variances):
        raise ValueError("activations and weight_variances must have the same length")
    if len(activations) == 0:
        raise ValueError("at least one hidden layer is needed")
    layers = []
    r = weight_variances[0] * input_variance
    for ell, act in enumerate(activations):
        coef = hermite_coefficients(act, variance=r)
        layers.append(coef)
        if ell + 1 < len(activations):
            r = weight_variances[ell + 1] * coef.second_moment
    return tuple(layers)


@dataclass(frozen=True)
class LinearEquivalent:
    """Noisy linear model equivalent to a deep random network (per unit input dimension)."""

    signal: float  # K: power of the learnable linear part
    noise: float  # ε_eff: power of the non-linear remainder, unlearnable from O(d) samples
    power: float  # ρ_y = E f² = K + ε_eff


def linear_equivalent(
    layers: Sequence[HermiteCoefficients],
    weight_variances: Sequence[float],
    readout_variance: float = 1.0,
    input_variance: float = 1.0,
    kappa0_tol: float = 1e-8,
) -> LinearEquivalent:
    """Signal K and effective noise ε_eff of a deep random network (arXiv 2302.00375, Eq. (6)).

    Raises ``ValueError`` for an activation with non-zero mean κ₀ at its layer's variance (beyond
    ``kappa0_tol`` relative to √E φ², the quadrature's round-off): the mean then propagates as a
    rank-one term that this equivalent does not model.
    """
    for ell, c in enumerate(layers):
        if abs(c.kappa0) > kappa0_tol * max(1.0, c.second_moment**0.5):
            raise ValueError(
                f"layer {ell + 1}: activation has non-zero mean κ0 = {c.kappa0:.4g}; "
                "use a zero-mean (e.g. odd) activation"
            )
    signal = input_variance * readout_variance
    for var, c in zip(weight_variances, layers, strict=True):
        signal *= var * c.kappa1**2
    noise = 0.0
    for ell, c in enumerate(layers):
        term = readout_variance * c.kappa_star**2
        for var, later in zip(weight_variances[ell + 1 :], layers[ell + 1 :], strict=True):
            term *= var * later.kappa1**2
        noise += term
    return LinearEquivalent(signal, noise, signal + noise)
