"""Scores of diffused data on a hidden subspace, the DSM identity, and score-learning rates.

Boffi, Jacot, Tu, Ziemann, arXiv 2410.11275 (ICLR 2025). Ornstein–Uhlenbeck forward process
``x_t = α_t x_0 + σ_t ξ`` with ``α_t = e^{−t}``, ``σ_t² = 1 − e^{−2t}``; data ``x_0 = U z`` on a
k-dimensional subspace of R^D (``U`` with orthonormal columns). The score splits as

    s_t(x) = −(I − UUᵀ) x/σ_t² + U ∇log q_t(Uᵀx),    q_t = law(α_t z + σ_t ξ_k),

a linear part plus a function of k variables. For a latent Gaussian mixture
``z ~ Σ_j π_j N(m_j, τ² I_k)``, ``q_t = Σ_j π_j N(α_t m_j, v I_k)`` with ``v = α_t²τ² + σ_t²``.

Denoising score matching: ``L_t(s) = E‖s(x_t) + ξ/σ_t‖² = E_{p_t}‖s − s_t‖² + C_t`` with
``C_t = D/σ_t² − E‖s_t‖²``, so ``L_t(0) − L_t(s_t) = E‖s_t‖²`` (computed here two independent
ways: :func:`dsm_gap_of_true_score` integrates the DSM loss, :func:`score_norm` the score).

Rates: a Lipschitz function of k variables is ε-approximated in sup norm with F1 (Barron) norm
R ∼ ε^{−(k+1)/2} (Bach 2017); with the F1-ball estimation error R/√n the balance gives the
squared score error ``n^{−2/(k+5)}`` (the paper's Theorem for the subspace case, constants, poly(D)
and logs omitted); the minimax rate for Lipschitz scores in dimension m is ``n^{−2/(m+4)}``.
Pure numpy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from theorylab.theory.gaussian import gauss_hermite

__all__ = [
    "LatentMixture",
    "dsm_gap_of_true_score",
    "f1_rate_exponent",
    "latent_score",
    "minimax_rate_exponent",
    "ou_schedule",
    "score_norm",
    "subspace_fisher",
    "subspace_score",
]


def ou_schedule(t: float) -> tuple[float, float]:
    """(α_t, σ_t²) = (e^{−t}, 1 − e^{−2t}) of the Ornstein–Uhlenbeck forward process."""
    return math.exp(-t), -math.expm1(-2.0 * t)


@dataclass(frozen=True)
class LatentMixture:
    """z ~ Σ_j π_j N(m_j, τ² I_k): ``means`` (M, k), ``tau2`` τ², ``weights`` π (M,)."""

    means: np.ndarray
    tau2: float
    weights: np.ndarray

    @classmethod
    def circle(cls, components: int, tau: float, k: int = 2, radius: float = 1.0):
        """Equal-weight means at angles 2πj/M on a circle in the first two latent axes."""
        angle = 2 * np.pi * np.arange(components) / components
        means = np.zeros((components, k))
        means[:, 0], means[:, 1 % k] = radius * np.cos(angle), radius * np.sin(angle)
        if k == 1:
            means[:, 0] = radius * np.cos(angle)
        return cls(means, tau**2, np.full(components, 1.0 / components))

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def diffused(self, t: float) -> tuple[np.ndarray, float]:
        """Means α_t m_j and common variance v = α_t²τ² + σ_t² of q_t."""
        alpha, sigma2 = ou_schedule(t)
        return alpha * self.means, alpha**2 * self.tau2 + sigma2


def latent_score(u: np.ndarray, mix: LatentMixture, t: float) -> np.ndarray:
    """∇log q_t(u) = −Σ_j r_j(u)(u − α_t m_j)/v, r = softmax_j(log π_j − ‖u − α_t m_j‖²/2v)."""
    centres, v = mix.diffused(t)
    diff = u[..., None, :] - centres  # (..., M, k)
    logits = np.log(mix.weights) - 0.5 * (diff**2).sum(-1) / v
    logits -= logits.max(-1, keepdims=True)
    r = np.exp(logits)
    r /= r.sum(-1, keepdims=True)
    return -(r[..., None] * diff).sum(-2) / v


def subspace_score(x: np.ndarray, basis: np.ndarray, mix: LatentMixture, t: float) -> np.ndarray:
    """s_t(x) = −(I − UUᵀ)x/σ_t² + U ∇log q_t(Uᵀx) for rows x (N, D), ``basis`` U (D, k)."""
    _, sigma2 = ou_schedule(t)
    u = x @ basis
    return -(x - u @ basis.T) / sigma2 + latent_score(u, mix, t) @ basis.T


def _component_rule(mix: LatentMixture, t: float, nodes: int):
    """Points u (M·n^k, k) and weights for E_{q_t}: Gauss–Hermite per mixture component."""
    centres, v = mix.diffused(t)
    z, w = gauss_hermite(nodes)
    k = mix.dim
    grid = np.stack([g.ravel() for g in np.meshgrid(*([z] * k), indexing="ij")], axis=1)
    gw = np.ones(1)
    for _ in range(k):
        gw = np.multiply.outer(gw, w).ravel()
    pts = (centres[:, None, :] + math.sqrt(v) * grid[None]).reshape(-1, k)
    return pts, (mix.weights[:, None] * gw[None]).ravel()


def subspace_fisher(mix: LatentMixture, t: float, nodes: int = 40) -> float:
    """E_{q_t}‖∇log q_t‖²: the subspace part of E_{p_t}‖s_t‖²."""
    pts, wts = _component_rule(mix, t, nodes)
    return float(wts @ (latent_score(pts, mix, t) ** 2).sum(-1))


def score_norm(mix: LatentMixture, t: float, ambient: int, nodes: int = 40) -> float:
    """E_{p_t}‖s_t‖² = (D − k)/σ_t² + E_{q_t}‖∇log q_t‖² (the orthogonal part is exactly
    −P⊥ξ/σ_t, of squared norm (D − k)/σ_t² on average)."""
    _, sigma2 = ou_schedule(t)
    return (ambient - mix.dim) / sigma2 + subspace_fisher(mix, t, nodes)


def dsm_gap_of_true_score(mix: LatentMixture, t: float, ambient: int, nodes: int = 16) -> float:
    """L_t(0) − L_t(s_t) from the DSM loss itself: L_t(0) = D/σ_t²; in L_t(s_t) the orthogonal
    part cancels (s_t's orthogonal component is −P⊥ξ/σ_t) and the subspace part is the
    2k-dimensional integral E_{z, ξ_k}‖∇log q_t(α_t z + σ_t ξ_k) + ξ_k/σ_t‖², by Gauss–Hermite
    over each mixture component of z and over ξ_k."""
    alpha, sigma2 = ou_schedule(t)
    sigma = math.sqrt(sigma2)
    k = mix.dim
    z, w = gauss_hermite(nodes)
    grid = np.stack([g.ravel() for g in np.meshgrid(*([z] * 2 * k), indexing="ij")], axis=1)
    gw = np.ones(1)
    for _ in range(2 * k):
        gw = np.multiply.outer(gw, w).ravel()
    loss = 0.0
    for mean, pi in zip(mix.means, mix.weights, strict=True):
        latent = mean + math.sqrt(mix.tau2) * grid[:, :k]
        noise = grid[:, k:]
        resid = latent_score(alpha * latent + sigma * noise, mix, t) + noise / sigma
        loss += pi * float(gw @ (resid**2).sum(-1))
    return ambient / sigma2 - loss


def f1_rate_exponent(k: int) -> float:
    """2/(k + 5): squared score error ≲ n^{−2/(k+5)} for F1-ball ERM on a k-dim subspace."""
    return 2.0 / (k + 5)


def minimax_rate_exponent(dim: int) -> float:
    """2/(m + 4): minimax squared-error rate for Lipschitz scores in dimension m."""
    return 2.0 / (dim + 4)
