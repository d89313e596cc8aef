"""The loss of a weight-decayed network rewritten in its layer representations (arXiv 2205.15809).

Jacot, Golikov, Hongler, Gabriel, "Feature learning in L2-regularized DNNs: attraction/repulsion
and sparsity", Sec. 3. For a bias-free network with weights W_ℓ and data X, the paper (data as
*columns*) writes Z_ℓ = W_ℓ Z_{ℓ−1}^σ ∈ R^{n_ℓ×N}, Z_ℓ^σ = σ(Z_ℓ), Z_0^σ = X. Every W_ℓ splits as

    W_ℓ = Z_ℓ (Z_{ℓ−1}^σ)⁺ + W̃_ℓ,   W̃_ℓ = W_ℓ (I − P_{ℓ−1}),

with P_{ℓ−1} the orthogonal projector onto the span of the representations of the N points in
layer ℓ − 1. The residual W̃_ℓ does not change the outputs on the data but adds ‖W̃_ℓ‖² to the
norm, so it vanishes at every minimiser, and

    L^r(Z_1 … Z_L) = C(Z_L) + λ Σ_ℓ ‖Z_ℓ (Z_{ℓ−1}^σ)⁺‖_F²               (first reformulation)
    L^k(K, Z_L)     = C(Z_L) + λ Σ_ℓ Tr[K_ℓ (K_{ℓ−1}^σ)⁺]                 (second, Prop. 3)

with the N×N Gram matrices K_ℓ = Z_ℓᵀ Z_ℓ, K_ℓ^σ = (Z_ℓ^σ)ᵀ Z_ℓ^σ. Since
‖Z_ℓ (Z_{ℓ−1}^σ)⁺‖² = Tr[K_ℓ (K_{ℓ−1}^σ)⁺], the two agree for any representations, and for any
weights ‖W_ℓ‖² = Tr[K_ℓ (K_{ℓ−1}^σ)⁺] + ‖W̃_ℓ‖².

Here data points are *rows*, as in :mod:`theorylab.models.mlp`: ``Z[ℓ]`` has shape (N, n_ℓ) and
is the transpose of the paper's Z_ℓ; the Gram matrices are the same N×N matrices. Pseudo-inverses
are taken with an explicit relative cut-off on the singular values of Z_{ℓ−1}^σ (never numpy's
default), the same cut-off that defines the projector P, so that the identity above is exact to
rounding. Only bias-free networks (β = 0 in the paper) are handled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from theorylab.measure.spectra import describe_threshold, to_numpy

__all__ = [
    "ReformulationReport",
    "gram",
    "layer_representations",
    "pinv_trace",
    "reformulated_loss_k",
    "reformulated_loss_r",
    "reformulation_report",
    "residual_weights",
    "span_projector",
]

NumpyActivation = Callable[[np.ndarray], np.ndarray]

#: Default relative cut-off on singular values of a representation (s_i > rtol·s_1); squared
#: (1e-12) it is the eigenvalue cut-off of the Gram matrices, still above eigh's rounding floor.
DEFAULT_RTOL = 1e-6


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def _mse(out: np.ndarray, y: np.ndarray) -> float:
    """C(Z_L) = (1/N) Σ_i ‖out_i − y_i‖² (sum over outputs, mean over the N points)."""
    return float(np.sum((out - y) ** 2) / out.shape[0])


def _check_rtol(rtol: float) -> None:
    if not (np.isfinite(rtol) and 0.0 <= rtol < 1.0):
        raise ValueError(f"rtol must be in [0, 1), got {rtol}")


def layer_representations(
    weights: Sequence, x, activation: NumpyActivation = _relu
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Pre-activations and post-activations of one bias-free network on the data.

    Parameters
    ----------
    weights
        ``[W_1, …, W_L]``, ``W_ℓ`` of shape ``(n_ℓ, n_{ℓ−1})`` (one network, tensors or arrays).
    x
        Inputs ``(N, n_0)`` (rows are points).
    activation
        σ, a numpy function (ReLU by default).

    Returns
    -------
    z : list of np.ndarray
        ``[Z_1, …, Z_L]``, ``Z_ℓ`` of shape ``(N, n_ℓ)``; ``Z_L`` is the output.
    z_sigma : list of np.ndarray
        ``[Z_0^σ = X, Z_1^σ, …, Z_{L−1}^σ]``: the inputs of each weight matrix.
    """
    ws = [to_numpy(w) for w in weights]
    h = to_numpy(x)
    if h.ndim != 2 or any(w.ndim != 2 for w in ws):
        raise ValueError("pass one network: x of shape (N, n_0) and 2-d weight matrices")
    z, z_sigma = [], []
    for i, w in enumerate(ws):
        if w.shape[1] != h.shape[1]:
            raise ValueError(f"W_{i + 1} has {w.shape[1]} columns, its input has {h.shape[1]}")
        z_sigma.append(h)
        z.append(h @ w.T)
        h = activation(z[-1])
    return z, z_sigma


def gram(z) -> np.ndarray:
    """N×N Gram matrix K = Z Zᵀ of representations ``(N, n)`` (the paper's Z_ℓᵀ Z_ℓ)."""
    a = to_numpy(z)
    return a @ a.T


def _pinv_norm2(z: np.ndarray, features: np.ndarray, rtol: float) -> float:
    """‖(Z^σ)⁺ Z‖_F² = Σ_i ‖u_iᵀ Z‖² / s_i² from the truncated SVD of Z^σ (stable form)."""
    u, s, _ = _span(features, rtol)
    return float(np.sum((u.T @ z) ** 2 / s[:, None] ** 2))


def _span(features: np.ndarray, rtol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SVD of (N, n) features truncated at s_i > rtol·s_1: (U_r, s_r, V_rᵀ)."""
    u, s, vt = np.linalg.svd(features, full_matrices=False)
    keep = s > rtol * s[0] if s.size and s[0] > 0 else np.zeros_like(s, dtype=bool)
    return u[:, keep], s[keep], vt[keep]


def span_projector(features, rtol: float = DEFAULT_RTOL) -> np.ndarray:
    """Orthogonal projector P (n×n) onto the span of the N representations (rows of ``features``).

    Parameters
    ----------
    features
        ``(N, n)``: the inputs Z_{ℓ−1}^σ of a weight matrix.
    rtol
        Singular values s_i ≤ rtol·s_1 of ``features`` are treated as zero.
    """
    _check_rtol(rtol)
    _, _, vt = _span(to_numpy(features), rtol)
    return vt.T @ vt


def residual_weights(
    weights: Sequence, x, *, rtol: float = DEFAULT_RTOL, activation: NumpyActivation = _relu
) -> list[np.ndarray]:
    """W̃_ℓ = W_ℓ (I − P_{ℓ−1}): the part of each weight matrix that never meets the data.

    W̃_ℓ Z_{ℓ−1}^σ = 0 (paper convention), so it changes no output on the training set; it
    vanishes at every minimiser of the weight-decayed loss (arXiv 2205.15809, Sec. 3.1).
    """
    _check_rtol(rtol)
    _, z_sigma = layer_representations(weights, x, activation)
    out = []
    for w, h in zip(weights, z_sigma, strict=True):
        wn = to_numpy(w)
        out.append(wn - wn @ span_projector(h, rtol))
    return out


def pinv_trace(k, k_sigma, *, rtol: float = 1e-12, gamma: float = 0.0) -> float:
    """Tr[K (K^σ)⁺] with an explicit cut-off, or Tr[K (K^σ + γI)⁻¹] (Tikhonov).

    Parameters
    ----------
    k, k_sigma
        N×N positive semi-definite Gram matrices.
    rtol
        Eigenvalues of K^σ at or below rtol·(largest) are treated as zero (pseudo-inverse).
        Eigenvalues are squared singular values: rtol = 1e-12 here is 1e-6 on Z^σ.
    gamma
        If > 0, use the regularised inverse (K^σ + γ I)⁻¹ instead (the paper's Figure 1 uses
        this Tikhonov form; the note suggests γ ≈ 1e-8‖K^σ‖).
    """
    _check_rtol(rtol)
    if gamma < 0 or not np.isfinite(gamma):
        raise ValueError(f"gamma must be >= 0, got {gamma}")
    kk = to_numpy(k)
    evals, evecs = np.linalg.eigh(to_numpy(k_sigma))
    top = float(evals.max()) if evals.size else 0.0
    if gamma > 0:
        inv = 1.0 / (np.clip(evals, 0.0, None) + gamma)
    else:
        keep = evals > rtol * top if top > 0 else np.zeros_like(evals, dtype=bool)
        inv = np.where(keep, 1.0 / np.where(keep, evals, 1.0), 0.0)
    rotated = evecs.T @ kk @ evecs
    return float(np.sum(np.diag(rotated) * inv))


def reformulated_loss_r(
    z: Sequence, z_sigma: Sequence, y, lam: float, *, rtol: float = DEFAULT_RTOL
) -> float:
    """L^r = C(Z_L) + λ Σ_ℓ ‖Z_ℓ (Z_{ℓ−1}^σ)⁺‖_F² (first reformulation, Sec. 3.1).

    In the row convention the minimal-norm weights are W_ℓᵀ = (Z_{ℓ−1}^σ)⁺ Z_ℓ, computed with
    the singular values of Z_{ℓ−1}^σ cut at ``rtol``·s_1. C is the MSE (mean over points).

    Parameters
    ----------
    z
        ``[Z_1, …, Z_L]``, each ``(N, n_ℓ)``.
    z_sigma
        ``[Z_0^σ, …, Z_{L−1}^σ]``, each ``(N, n_{ℓ−1})``.
    y
        Targets ``(N, n_L)``.
    lam
        Weight decay λ.
    """
    _check_rtol(rtol)
    if len(z) != len(z_sigma):
        raise ValueError("z and z_sigma must have one entry per layer")
    norm2 = sum(
        _pinv_norm2(to_numpy(zl), to_numpy(hl), rtol) for zl, hl in zip(z, z_sigma, strict=True)
    )
    return _mse(to_numpy(z[-1]), to_numpy(y)) + lam * norm2


def reformulated_loss_k(
    k: Sequence,
    k_sigma: Sequence,
    z_out,
    y,
    lam: float,
    *,
    rtol: float = 1e-12,
    gamma: float = 0.0,
) -> float:
    """L^k = C(Z_L) + λ Σ_ℓ Tr[K_ℓ (K_{ℓ−1}^σ)⁺] (second reformulation, Prop. 3).

    Parameters
    ----------
    k
        ``[K_1, …, K_L]``: N×N Grams of the pre-activations (K_L = Z_L Z_Lᵀ of the outputs).
    k_sigma
        ``[K_0^σ = X Xᵀ, …, K_{L−1}^σ]``.
    z_out, y
        Outputs Z_L and targets, ``(N, n_L)``.
    lam
        Weight decay λ.
    rtol, gamma
        See :func:`pinv_trace`.
    """
    if len(k) != len(k_sigma):
        raise ValueError("k and k_sigma must have one entry per layer")
    reg = sum(pinv_trace(kl, ks, rtol=rtol, gamma=gamma) for kl, ks in zip(k, k_sigma, strict=True))
    return _mse(to_numpy(z_out), to_numpy(y)) + lam * reg


@dataclass(frozen=True, eq=False)
class ReformulationReport:
    """A trained network measured against the reformulation of arXiv 2205.15809.

    Attributes
    ----------
    layer_norm2
        ``(L,)`` ‖W_ℓ‖_F².
    trace_term
        ``(L,)`` Tr[K_ℓ (K_{ℓ−1}^σ)⁺] = ‖Z_ℓ (Z_{ℓ−1}^σ)⁺‖_F², the minimal norm for the same
        representations (evaluated from the truncated SVD of Z_{ℓ−1}^σ).
    residual_norm2
        ``(L,)`` ‖W̃_ℓ‖_F² (so layer_norm2 = trace_term + residual_norm2 up to rounding).
    residual_ratio
        ``(L,)`` ‖W̃_ℓ‖_F / ‖W_ℓ‖_F (0 at a minimiser).
    trace_gap
        ``(L,)`` |‖W_ℓ‖² − Tr[K_ℓ (K_{ℓ−1}^σ)⁺]| / ‖W_ℓ‖².
    span_rank
        ``(L,)`` rank of Z_{ℓ−1}^σ at the cut-off.
    loss
        L_λ(W) = C(Z_L) + λ‖W‖².
    loss_r, loss_k
        L^r (from the SVDs of the Z^σ) and L^k (from the N×N Gram matrices, eigenvalue cut-off
        rtol²) of the network's representations: ≤ loss, equal at a minimiser.
    threshold
        The cut-off in words.
    """

    layer_norm2: np.ndarray
    trace_term: np.ndarray
    residual_norm2: np.ndarray
    residual_ratio: np.ndarray
    trace_gap: np.ndarray
    span_rank: np.ndarray
    loss: float
    loss_r: float
    loss_k: float
    threshold: str

    @property
    def loss_gap(self) -> float:
        """(L_λ(W) − L^r) / L_λ(W) = λ Σ‖W̃_ℓ‖² / L_λ: the weight decay spent on residuals."""
        return (self.loss - self.loss_r) / self.loss if self.loss > 0 else 0.0


def reformulation_report(
    weights: Sequence,
    x,
    y,
    lam: float,
    *,
    rtol: float = DEFAULT_RTOL,
    activation: NumpyActivation = _relu,
) -> ReformulationReport:
    """Measure how far a trained network is from the reformulated loss's minimal-norm weights.

    Parameters
    ----------
    weights
        ``[W_1, …, W_L]`` of one bias-free network (``(n_ℓ, n_{ℓ−1})``).
    x, y
        Training inputs ``(N, n_0)`` and targets ``(N, n_L)``.
    lam
        Weight decay λ of the loss C + λ‖W‖² (C the MSE, mean over points).
    rtol
        Cut-off s_i > rtol·s_1 on the singular values of each Z_{ℓ−1}^σ, used for both the
        projector P_{ℓ−1} and the pseudo-inverse (eigenvalue cut-off rtol² for K^σ).
    activation
        σ (numpy), ReLU by default.
    """
    _check_rtol(rtol)
    ws = [to_numpy(w) for w in weights]
    z, z_sigma = layer_representations(ws, x, activation)
    yy = to_numpy(y)
    norm2 = np.array([float(np.sum(w**2)) for w in ws])
    resid = residual_weights(ws, x, rtol=rtol, activation=activation)
    resid2 = np.array([float(np.sum(r**2)) for r in resid])
    trace = np.array([_pinv_norm2(zl, hl, rtol) for zl, hl in zip(z, z_sigma, strict=True)])
    ranks = np.array([_span(h, rtol)[1].size for h in z_sigma])
    safe = np.where(norm2 > 0, norm2, 1.0)
    loss = _mse(z[-1], yy) + lam * float(norm2.sum())
    loss_k = reformulated_loss_k(
        [gram(zl) for zl in z], [gram(h) for h in z_sigma], z[-1], yy, lam, rtol=rtol**2
    )
    return ReformulationReport(
        layer_norm2=norm2,
        trace_term=trace,
        residual_norm2=resid2,
        residual_ratio=np.sqrt(resid2 / safe),
        trace_gap=np.abs(norm2 - trace) / safe,
        span_rank=ranks,
        loss=loss,
        loss_r=reformulated_loss_r(z, z_sigma, yy, lam, rtol=rtol),
        loss_k=loss_k,
        threshold=describe_threshold(rtol) + " on the singular values of each Z_{ℓ−1}^σ",
    )
