"""Representation geodesics of Leaky ResNets: Cost of Identity, kinetic and potential energy,
the Hamiltonian and the stationarity of a trained network (arXiv 2405.17573).

Jacot & Kaiser, "Hamiltonian mechanics of feature learning: bottleneck structure in leaky
ResNets". Representations are matrices A ∈ R^{w×N} (one column per training point, the paper's
convention); σ(A) = [relu(A); 1] ∈ R^{(w+1)×N} appends the constant row (the bias), K = σ(A)ᵀσ(A).
For M ∈ R^{w×N}:

* ‖M‖²_{K+γI} = Tr[M (K + γI)^{−1} Mᵀ] with γ = γ0 ‖σ(A)‖²_op (γ0 = 0: the pseudo-inverse form
  ‖M σ(A)⁺‖_F², computed from a truncated SVD);
* Cost of Identity COI(A) = ‖A‖²_K (the smallest ‖W‖_F² with W σ(A) = A); Prop. 1:
  COI ≥ ‖A‖_*²/‖A‖_F² (the nuclear stable rank) ≥ ‖A‖_F²/‖A‖²_op;
* kinetic energy (1/(2L̃)) ‖∂_pA‖²_K, potential −(L̃/2) COI(A), and the Hamiltonian at a critical
  point H = (L̃/2)‖B σ(A)ᵀ‖_F² − L̃ Tr[B Aᵀ] with momenta B_p = −(1/λ) ∂C/∂A_p;
* stationarity of layer ℓ: ‖W_ℓ − L̃ B_ℓ σ(A_{ℓ−1})ᵀ‖_F / ‖W_ℓ‖_F (0 at a critical point of the
  loss C + (λ/(2L̃)) Σ_ℓ ρ_ℓ ‖W_ℓ‖_F²);
* kinks: pre-activations sitting at the ReLU kink (|A_ij| ≤ rtol·max|A|). A smooth density
  puts a fraction O(rtol) of the entries there; many more mean the minimum lies on a kink,
  where the loss is not differentiable and the gradient-based stationarity above (which takes
  relu'(0) = 0) need not vanish.

All functions are numpy-only.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "adaptive_steps",
    "coi",
    "hamiltonian",
    "irregular_steps",
    "k_norm2",
    "kink_count",
    "nuclear_stable_rank",
    "sigma",
    "stationarity",
]


def sigma(a: np.ndarray) -> np.ndarray:
    """σ(A) = [relu(A); 1]: (w, N) → (w + 1, N)."""
    a = np.asarray(a, dtype=float)
    return np.vstack([np.maximum(a, 0.0), np.ones((1, a.shape[1]))])


def k_norm2(m: np.ndarray, a: np.ndarray, gamma0: float = 0.0, rtol: float = 1e-10) -> float:
    """‖M‖²_{K+γI} = Tr[M (K + γI)^{−1} Mᵀ], K = σ(A)ᵀσ(A), γ = γ0 ‖σ(A)‖²_op.

    ``gamma0 = 0`` gives ‖M σ(A)⁺‖_F² with σ(A)⁺ from the SVD truncated at s > rtol·s_1. With
    σ(A) = U S Vᵀ, (K + γI)^{−1} acts on span V as V (S² + γ)^{−1} Vᵀ and as 1/γ on its
    complement, so ‖M‖² = Σ_i ‖M v_i‖²/(s_i² + γ) + ‖M(I − VVᵀ)‖²/γ (no N×N inverse).
    """
    if gamma0 < 0:
        raise ValueError(f"gamma0 must be >= 0, got {gamma0}")
    m = np.asarray(m, dtype=float)
    _, s, vt = np.linalg.svd(sigma(a), full_matrices=False)
    if gamma0 == 0.0:
        keep = s > rtol * s[0]
        return float(np.sum((m @ vt[keep].T) ** 2 / s[keep] ** 2))
    gamma = gamma0 * s[0] ** 2
    proj = m @ vt.T
    inside = float(np.sum(proj**2 / (s**2 + gamma)))
    outside = max(float(np.sum(m**2) - np.sum(proj**2)), 0.0)
    return inside + outside / gamma


def coi(a: np.ndarray, gamma0: float = 0.0) -> float:
    """Cost of Identity ‖A‖²_{K+γI} (γ0 = 0: the exact COI ‖Aσ(A)⁺‖_F²)."""
    return k_norm2(a, a, gamma0)


def nuclear_stable_rank(a: np.ndarray) -> float:
    """‖A‖_*² / ‖A‖_F², the paper's cheap proxy for the dimension of A (≤ rank A; 0 for A = 0)."""
    s = np.linalg.svd(np.asarray(a, dtype=float), compute_uv=False)
    f2 = float(np.sum(s**2))
    return float(np.sum(s) ** 2 / f2) if f2 > 0 else 0.0


def hamiltonian(a: np.ndarray, b: np.ndarray, leak: float) -> float:
    """H(A, B) = (L̃/2)‖B σ(A)ᵀ‖_F² − L̃ Tr[B Aᵀ] (conserved along p at critical points)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(leak / 2 * np.sum((b @ sigma(a).T) ** 2) - leak * np.sum(b * a))


def stationarity(w: np.ndarray, a_prev: np.ndarray, b: np.ndarray, leak: float) -> float:
    """‖W − L̃ B σ(A_prev)ᵀ‖_F / ‖W‖_F: 0 exactly at a critical point of the discrete loss."""
    w = np.asarray(w, dtype=float)
    gap = w - leak * np.asarray(b, dtype=float) @ sigma(a_prev).T
    norm = float(np.linalg.norm(w))
    return float(np.linalg.norm(gap) / norm) if norm > 0 else float("inf")


def irregular_steps(depth: int, a: float) -> np.ndarray:
    """ρ_ℓ ∝ 1 + a(1/4 − |ℓ/L − 1/2|), ℓ = 1 … L, normalised to Σρ = 1 (a ∈ [0, 1))."""
    if not 0.0 <= a < 1.0:
        raise ValueError(f"a must be in [0, 1), got {a}")
    ell = np.arange(1, depth + 1)
    rho = 1.0 + a * (0.25 - np.abs(ell / depth - 0.5))
    return rho / rho.sum()


def adaptive_steps(reps: list[np.ndarray], rho: np.ndarray) -> np.ndarray:
    """One update of the adaptive layer steps: c_ℓ = ‖A_ℓ − A_{ℓ−1}‖/(ρ_ℓ‖A_ℓ‖) (the speed of
    the representation), ρ_ℓ ← c_ℓ^{−1} / Σ_i c_i^{−1}; ``reps`` = [A_0, …, A_L]."""
    rho = np.asarray(rho, dtype=float)
    if len(reps) != rho.size + 1:
        raise ValueError("reps must hold A_0 … A_L (one more than the steps)")
    c = np.array([np.linalg.norm(reps[i + 1] - reps[i]) / (rho[i] * np.linalg.norm(reps[i + 1]))
                  for i in range(rho.size)])  # fmt: skip
    inv = 1.0 / np.maximum(c, np.finfo(float).tiny)
    return inv / inv.sum()


def kink_count(reps: list[np.ndarray], rtol: float = 1e-6) -> int:
    """Number of entries of the ReLU inputs ``reps`` (e.g. A_1 … A_{L−1}) with
    |A_ij| ≤ rtol · max|A| (per matrix): pre-activations at the kink of σ."""
    if rtol <= 0:
        raise ValueError(f"rtol must be > 0, got {rtol}")
    count = 0
    for a in reps:
        a = np.abs(np.asarray(a, dtype=float))
        top = float(a.max()) if a.size else 0.0
        if top > 0:
            count += int(np.sum(a <= rtol * top))
    return count
