"""Training dynamics of two-layer linear networks: the self-consistent formula and its limits.

For A_θ = W2 W1 (W1 ∈ R^{w×d}, W2 ∈ R^{d×w}, entries N(0, σ²)) trained by gradient flow on
C(A) = ½‖A − Y‖_F², the learned matrix obeys dA/dt = −(W2W2ᵀ G + G W1ᵀW1), G = A − Y. The
self-consistent (SC) dynamics of arXiv 2405.17580 (Tu, Aranguri, Jacot, Eq. (1)) closes it by
W2W2ᵀ → (AAᵀ + c² I)^{1/2}, W1ᵀW1 → (AᵀA + c² I)^{1/2} with c = σ²w:

    dA/dt = −[(AAᵀ + c² I)^{1/2} G + G (AᵀA + c² I)^{1/2}].

Along a singular value s of A the speed factor is √(s² + c²): lazy (≈ c) for s ≪ c, balanced
(≈ s) for s ≫ c, so c = σ²w is the threshold between the two regimes. When c exceeds every
singular value ever visited the dynamics is linear (lazy limit): A(t) = Y + e^{−2ct}(A(0) − Y),
or for GD with step η, A_t = Y + (1 − 2ηc)^t (A(0) − Y).

Phase diagram (σ² = d^{γσ²}, w = d^{γw}; lines of the paper's Fig. 2): lazy above
γσ² + γw = 1 (σ²w = d, the scale of the task's singular values), "infinite noise" above
2γσ² + γw = 0 (σ⁴w = 1: the initial A_θ has entries larger than the task's), and
under-parameterised below w = K (rank of the task).

All functions are numpy-only.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = [
    "LazyCurve",
    "Regime",
    "lazy_min_test_error",
    "lazy_test_curve",
    "psd_sqrt",
    "regime",
    "self_consistent_step",
    "self_consistent_trajectory",
]


def psd_sqrt(m: np.ndarray) -> np.ndarray:
    """Square root of a symmetric PSD matrix by ``eigh`` (negative round-off eigenvalues → 0)."""
    vals, vecs = np.linalg.eigh(m)
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


def self_consistent_step(a: np.ndarray, y: np.ndarray, c: float, eta: float) -> np.ndarray:
    """One Euler step of the SC dynamics (Eq. (1) of 2405.17580) with threshold c = σ²w."""
    g = a - y
    eye_out = np.eye(a.shape[0])
    eye_in = np.eye(a.shape[1])
    left = psd_sqrt(a @ a.T + c * c * eye_out)
    right = psd_sqrt(a.T @ a + c * c * eye_in)
    return a - eta * (left @ g + g @ right)


def self_consistent_trajectory(
    a0: np.ndarray, y: np.ndarray, c: float, eta: float, steps: int
) -> np.ndarray:
    """A_0, A_1, …, A_steps of the discretised SC dynamics, shape ``(steps + 1, d_out, d_in)``.

    The same step η as the GD it is compared with, so the discretisations match step by step.
    """
    if not (c >= 0 and math.isfinite(c)):
        raise ValueError(f"c = σ²w must be >= 0 and finite, got {c!r}")
    if not (eta > 0 and math.isfinite(eta)):
        raise ValueError(f"eta must be > 0 and finite, got {eta!r}")
    out = np.empty((steps + 1, *np.shape(a0)))
    out[0] = a = np.asarray(a0, dtype=float)
    y = np.asarray(y, dtype=float)
    for t in range(steps):
        a = self_consistent_step(a, y, c, eta)
        out[t + 1] = a
    return out


class LazyCurve(NamedTuple):
    """Expected test error of the lazy limit at steps 0 … T, and its minimum over the steps."""

    test: np.ndarray  #: E‖A_t − A*‖²/d² per step
    best_step: int  #: argmin over integer steps
    best: float  #: the minimum over integer steps


def lazy_test_curve(
    steps: int, eta: float, c: float, init_power: float, signal_power: float, noise: float
) -> LazyCurve:
    """E‖A_t − A*‖_F²/d² for GD in the lazy limit, A_t = Y + q^t (A_0 − Y), q = 1 − 2ηc.

    With Y = A* + E and A_0, A*, E independent and centred, A_t − A* = q^t (A_0 − A*) + (1 − q^t) E,
    so the expected test error per entry is q^{2t} (a_0 + a_*) + (1 − q^t)² ε², where a_0 and a_*
    are the mean squared entries of A_0 (σ⁴w for Gaussian layers) and A* and ε² the noise
    variance (2405.17580, the lazy regime of Sec. 3).
    """
    q = 1.0 - 2.0 * eta * c
    u = q ** np.arange(steps + 1, dtype=float)
    test = u**2 * (init_power + signal_power) + (1.0 - u) ** 2 * noise
    best = int(np.argmin(test))
    return LazyCurve(test, best, float(test[best]))


def lazy_min_test_error(init_power: float, signal_power: float, noise: float) -> float:
    """Minimum over continuous time of the lazy test error: ab/(a + b) with a = a_0 + a_*,
    b = ε² (the minimum of u² a + (1 − u)² b over u ∈ [0, 1], at u = b/(a + b))."""
    a = init_power + signal_power
    return a * noise / (a + noise) if a + noise > 0 else 0.0


class Regime(NamedTuple):
    """Region of the (γσ², γw) phase diagram of 2405.17580 (Fig. 2 lines)."""

    lazy: bool  #: σ²w > d (above γσ² + γw = 1)
    infinite_noise: bool  #: σ⁴w > 1 (above 2γσ² + γw = 0)
    underparameterised: bool  #: w < K


def regime(sigma2: float, width: float, d: float, rank: int) -> Regime:
    """Which side of each phase-diagram line (σ², w) lies on, for a d×d task of rank K."""
    return Regime(sigma2 * width > d, sigma2 * sigma2 * width > 1.0, width < rank)
