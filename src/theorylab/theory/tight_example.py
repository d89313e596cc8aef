"""The tight example of the sparsity bound (arXiv 2205.15809, Props. 13–14), in closed form.

Jacot, Golikov, Hongler, Gabriel, "Feature learning in L2-regularized DNNs: attraction/repulsion
and sparsity", NeurIPS 2022, Sec. 4. For ReLU the Gram pairs (K_ℓ, K_ℓ^σ) of a hidden layer lie
in a cone of the N(N+1)-dimensional space of pairs of symmetric N×N matrices, one generator per
neuron, so by Carathéodory every minimum is reachable with N(N+1) neurons per layer (Props. 6–7,
:func:`sparsity_bound`). The bound is tight up to a constant: with the incidence matrix E
(edges × vertices) of the complete bipartite graph K_{N/2,N/2},

    X_N = I_N,   Y_N = EᵀE = [[(N/2) I, J], [J, (N/2) I]]        (J all-ones, N even)

has cp-rank N²/4 (one generator per edge, Prop. 13), and a bias-free one-hidden-layer ReLU
network needs N²/4 hidden neurons to reach the minimal loss (Prop. 14).

Closed forms (derived from the paper's reformulation; the loss is the MSE summed over outputs
and averaged over the N points, L_λ = (1/N)‖Ŷ − Y_N‖_F² + λ‖W‖²). With X = I,
‖W_1‖² = Tr K_1 and ‖W_2‖² = Tr[ŶᵀŶ (K_1^σ)⁺]; negative pre-activations only cost norm, so
K_1 = K_1^σ, and relaxing "completely positive" to "PSD" gives K_1 = (ŶᵀŶ)^{1/2} and the
representation cost R(I, Ŷ) = 2‖Ŷ‖_* (exact for the CP matrices below). The regularised minimum
soft-thresholds the spectrum of Y_N — N on 1/√N, N/2 with multiplicity N − 2, 0 on
v = (1,…,1,−1,…,−1)/√N — at Nλ:

    Ŷ = Y_N − Nλ(I − vvᵀ),     min L_λ = λN² − λ²N(N−1)          (0 < λ < 1/2),

whose entries are N/2 − Nλ + λ (diagonal), λ (same side, off the diagonal) and 1 − λ (across
the two sides); R(I, Y_N) = 2 Tr Y_N = N². Numpy only (no torch).
"""

from __future__ import annotations

import numpy as np

from theorylab.theory.representation_cost import linear_cost

__all__ = [
    "BLOCKS",
    "bipartite_target",
    "incidence_matrix",
    "null_vector",
    "plateau_blocks",
    "plateau_loss",
    "plateau_output",
    "plateau_width",
    "relaxed_minimum",
    "representation_cost",
    "sparsity_bound",
    "target_spectrum",
]

#: The three kinds of entries of Y_N and Ŷ (in this order in :func:`plateau_blocks`).
BLOCKS = ("diagonal", "same side", "across")


def _check_n(n: int) -> int:
    if isinstance(n, bool) or int(n) != n or n < 2 or n % 2:
        raise ValueError(f"N must be an even integer >= 2, got {n!r}")
    return int(n)


def _check_lam(lam: float) -> float:
    if not 0.0 < lam < 0.5:
        raise ValueError(f"the closed form needs 0 < λ < 1/2, got {lam!r}")
    return float(lam)


def incidence_matrix(n: int) -> np.ndarray:
    """Incidence matrix E of K_{N/2,N/2}: one row e_a + e_b per edge (a < N/2 ≤ b), (N²/4, N)."""
    h = _check_n(n) // 2
    e = np.zeros((h * h, n))
    for k, (a, b) in enumerate((a, b) for a in range(h) for b in range(h, n)):
        e[k, [a, b]] = 1.0
    return e


def bipartite_target(n: int) -> np.ndarray:
    """Y_N = [[(N/2) I, J], [J, (N/2) I]] = EᵀE (Prop. 13): cp-rank N²/4."""
    h = _check_n(n) // 2
    y = np.zeros((n, n))
    y[:h, h:] = 1.0
    y[h:, :h] = 1.0
    return y + (n / 2) * np.eye(n)


def null_vector(n: int) -> np.ndarray:
    """v = (1, …, 1, −1, …, −1)/√N: the null vector of Y_N."""
    h = _check_n(n) // 2
    return np.concatenate([np.ones(h), -np.ones(h)]) / np.sqrt(n)


def target_spectrum(n: int) -> np.ndarray:
    """Eigenvalues of Y_N in decreasing order: N (on 1/√N), N/2 (N − 2 times), 0 (on v)."""
    n = _check_n(n)
    return np.concatenate([[float(n)], np.full(n - 2, n / 2), [0.0]])


def plateau_output(n: int, lam: float) -> np.ndarray:
    """The minimiser Ŷ = Y_N − Nλ(I − vvᵀ): the spectrum of Y_N soft-thresholded at Nλ."""
    v = null_vector(n)
    return bipartite_target(n) - n * _check_lam(lam) * (np.eye(n) - np.outer(v, v))


def plateau_blocks(n, lam: float) -> np.ndarray:
    """Entries of Ŷ per kind (:data:`BLOCKS`): (N/2 − Nλ + λ, λ, 1 − λ), shape ``(..., 3)``."""
    n = np.asarray(n, dtype=float)
    lam = _check_lam(lam)
    return np.stack(np.broadcast_arrays(n / 2 - n * lam + lam, lam + 0 * n, 1 - lam + 0 * n), -1)


def plateau_loss(n, lam: float):
    """λN² − λ²N(N−1): the minimal loss at every hidden width ≥ N²/4 (0 < λ < 1/2)."""
    n = np.asarray(n, dtype=float)
    lam = _check_lam(lam)
    out = lam * n**2 - lam**2 * n * (n - 1)
    return float(out) if out.ndim == 0 else out


def plateau_width(n):
    """N²/4: the number of edges of K_{N/2,N/2}, i.e. Rank_σ of every minimiser (Prop. 14)."""
    n = np.asarray(n, dtype=float)
    return n**2 / 4


def representation_cost(n):
    """R(I, Y_N) = 2 Tr Y_N = N² (the λ → 0 limit of the minimal weight norm)."""
    return np.asarray(n, dtype=float) ** 2


def relaxed_minimum(y: np.ndarray, lam: float) -> tuple[np.ndarray, float]:
    """min_Ŷ (1/N)‖Ŷ − Y‖_F² + λ·2‖Ŷ‖_*, solved numerically by singular-value soft thresholding.

    2‖Ŷ‖_* is the depth-2 linear cost (:func:`theorylab.theory.representation_cost.linear_cost`);
    it is the representation cost R(I, Ŷ) of a bias-free shallow ReLU net whenever the minimiser
    is completely positive, so this is the tight example's minimal loss (an independent
    numerical route to :func:`plateau_loss`). The proximal step of (N/2)·2λ‖·‖_* thresholds
    the singular values at Nλ.

    Returns
    -------
    y_hat : np.ndarray
        The minimiser.
    loss : float
        Its objective value.
    """
    n = y.shape[0]
    u, s, vt = np.linalg.svd(y)
    s_hat = np.clip(s - n * lam, 0.0, None)
    y_hat = (u * s_hat) @ vt
    loss = float(np.sum((y_hat - y) ** 2) / n + lam * linear_cost(s_hat, 2))
    return y_hat, loss


def sparsity_bound(n):
    """N(N+1): dimension of the pairs of symmetric N×N matrices, the width of Prop. 7."""
    n = np.asarray(n)
    return n * (n + 1)
