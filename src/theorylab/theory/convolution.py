"""Circular convolutions in the Fourier domain: the cost of linear CNNs (arXiv 2402.08010).

Wen & Jacot, "Which frequencies do CNNs need? Emergent bottleneck structure in feature
learning", ICML 2024. A layer with a full-length circular filter w ∈ R^{c_out×c_in×n} computes
the cross-correlation z[t] = Σ_k w[k] h[t + k mod n] (PyTorch ``conv1d`` with circular padding).
With the unnormalised DFT x̂(m) = Σ_t x[t] e^{−2πimt/n} it is diagonal in frequency,

    ẑ(m) = Ŵ(m) ĥ(m),   Ŵ(m) = conj(ŵ(m)) ∈ C^{c_out×c_in}   (ŵ: FFT along the taps),

so a depth-L linear CNN is the block-diagonal family Â(m) = Ŵ_L(m) ⋯ Ŵ_1(m), m = 0 … n − 1,
and real filters give Â(n − m) = conj(Â(m)). Parseval, Σ_k ‖w[k]‖_F² = (1/n) Σ_m ‖ŵ(m)‖_F²,
splits the parameter norm over frequencies; each frequency is a deep linear network with the
Schatten-2/L cost, hence the minimal parameter norm

    R(A; L) = (c/n) · L Σ_m Σ_i s_i(Â(m))^{2/L},

c = 1 for plain filters (convention "plain") and c = n when every layer is scaled by n^{−1/2}
(convention "scaled": z = n^{−1/2} w ⋆ h, so Ŵ = n^{−1/2} conj ŵ and R = L Σ_m Σ_i s^{2/L}).
The formula is exact for full-length kernels; kernels shorter than n constrain Ŵ(m) to
trigonometric polynomials and the formula is then only a lower bound on their norm.

With the loss C = (1/n) Σ_m ‖Â_θ(m) − Â*(m)‖_F² (the per-position population MSE for white
inputs) plus λ‖θ‖², the problem decouples into one scalar problem per (frequency, singular
direction) of the teacher: min_{s ≥ 0} (s − s*)² + κ L s^{2/L}, κ = λ (plain) or nλ (scaled).
:func:`mode_minima` solves it. The CBN rank Σ_m rank Â(m) counts the (frequency, channel)
pairs a minimum keeps.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from theorylab.theory.representation_cost import RANK_RTOL, jacobian_bound, linear_cost

__all__ = [
    "CONVENTIONS",
    "ModeMinima",
    "cbn_rank",
    "cnn_jacobian_bound",
    "cnn_min_norm",
    "cost_of_spectra",
    "filter_spectra",
    "frequency_singular_values",
    "mode_minima",
    "mode_penalty",
    "product_spectra",
]

#: plain filters (R carries 1/n) or filters scaled by n^{−1/2} per layer (no 1/n)
CONVENTIONS = ("plain", "scaled")


def _scale(n: int, convention: str) -> float:
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    return 1.0 if convention == "plain" else n**-0.5


def filter_spectra(w, convention: str = "plain") -> np.ndarray:
    """Per-frequency matrices Ŵ(m) of a circular cross-correlation filter.

    Parameters
    ----------
    w
        Filter ``(..., c_out, c_in, n)`` (taps on the last axis).
    convention
        ``"plain"`` (Ŵ = conj ŵ) or ``"scaled"`` (Ŵ = n^{−1/2} conj ŵ).

    Returns
    -------
    numpy.ndarray
        Complex, shape ``(..., n, c_out, c_in)``: Ŵ(m) for m = 0 … n − 1.
    """
    w = np.asarray(w, dtype=float)
    if w.ndim < 3:
        raise ValueError(f"a filter has shape (..., c_out, c_in, n), got {w.shape}")
    n = w.shape[-1]
    spec = np.conj(np.fft.fft(w, axis=-1)) * _scale(n, convention)
    return np.moveaxis(spec, -1, -3)


def product_spectra(filters, convention: str = "plain") -> np.ndarray:
    """Â(m) = Ŵ_L(m) ⋯ Ŵ_1(m) of a linear CNN ``filters = [w_1, …, w_L]``, shape (n, c_L, c_0)."""
    if len(filters) == 0:
        raise ValueError("a network has at least one filter")
    out = filter_spectra(filters[0], convention)
    for w in filters[1:]:
        out = filter_spectra(w, convention) @ out
    return out


def frequency_singular_values(a_hat) -> np.ndarray:
    """Singular values of every Â(m), shape ``(..., n, min(c_out, c_in))``, descending."""
    return np.linalg.svd(np.asarray(a_hat), compute_uv=False)


def cnn_min_norm(
    filter_tensor, depth: float, *, convention: str = "plain", rtol: float = RANK_RTOL
) -> float:
    """Minimal parameter norm of a depth-L full-length circular linear CNN computing a filter.

    R(A; L) = (1/n) Σ_m L Σ_i s_i(Â(m))^{2/L} (plain) or L Σ_m Σ_i s_i^{2/L} (scaled), with Â(m)
    the per-frequency matrices of ``filter_tensor`` (values ≤ rtol·max of one frequency are
    round-off and dropped, see :func:`theorylab.theory.representation_cost.linear_cost`).

    Parameters
    ----------
    filter_tensor
        The end-to-end filter, shape ``(C_out, C_in, N)`` (any real filter of that shape).
    depth
        Number of layers L ≥ 1 (L = 1: ‖filter‖², Parseval).
    convention
        ``"plain"`` or ``"scaled"`` (module docstring).

    Returns
    -------
    float
        min{Σ_ℓ ‖w_ℓ‖² : the depth-L CNN computes the filter}: exact for kernels of length N,
        a lower bound for shorter kernels.
    """
    a_hat = filter_spectra(filter_tensor, convention)
    return cost_of_spectra(frequency_singular_values(a_hat), depth, convention, rtol=rtol)


def cost_of_spectra(s, depth: float, convention: str = "plain", *, rtol: float = RANK_RTOL):
    """R from per-frequency singular values ``s`` (..., n, k) (see :func:`cnn_min_norm`)."""
    s = np.asarray(s, dtype=float)
    n = s.shape[-2]
    per_freq = np.asarray(linear_cost(s, depth, rtol=rtol))
    return float(np.sum(per_freq, axis=-1) * (1.0 / n if convention == "plain" else 1.0))


def cbn_rank(a_hat, rtol: float = 1e-6) -> int:
    """Σ_m rank Â(m): the number of kept (frequency, channel) pairs (s > rtol · max_m s_1(m))."""
    s = frequency_singular_values(a_hat)
    return int(np.sum(s > rtol * np.max(s))) if s.size and np.max(s) > 0 else 0


def mode_penalty(lam: float, n: int, convention: str) -> float:
    """κ of the per-mode problem (s − s*)² + κ L s^{2/L}: λ (plain) or nλ (scaled)."""
    _scale(n, convention)
    return float(lam) if convention == "plain" else float(lam) * n


class ModeMinima(NamedTuple):
    """Solutions of min_{s ≥ 0} g(s) = (s − s*)² + κ L s^{2/L}, element-wise in s*.

    ``local``: the positive local minimum (NaN where none exists); ``global_``: the global
    minimiser (0 or ``local``); ``exists``/``kept``: masks of a positive local / global minimum.
    """

    local: np.ndarray
    global_: np.ndarray
    exists: np.ndarray
    kept: np.ndarray


def mode_minima(s_star, kappa: float, depth: int, iterations: int = 200) -> ModeMinima:
    """Stationary points s − s* + κ s^{2/L − 1} = 0 of the per-mode problem (Sec. 3 of the paper).

    L = 1: s = s*/(1 + κ) (ridge). L = 2: soft threshold s = max(s* − κ, 0). L ≥ 3: s = 0 is
    always a local minimum; h(s) = s + κ s^{2/L−1} is convex on s > 0 with its minimum at
    s_c = (κ(1 − 2/L))^{L/(2(L − 1))}; a positive local minimum exists iff s* ≥ h(s_c) and is
    the larger root of h(s) = s*, in [s_c, s*] (vectorised bisection to machine precision). The
    global minimum keeps the mode iff g(s_local) < g(0) = s*².
    """
    s_star = np.asarray(s_star, dtype=float)
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    if not kappa >= 0:
        raise ValueError(f"kappa must be >= 0, got {kappa}")
    if depth == 1:
        local = s_star / (1.0 + kappa)
        exists = s_star > 0
    elif depth == 2:
        local = np.where(s_star > kappa, s_star - kappa, np.nan)
        exists = s_star > kappa
    else:
        p = 2.0 / depth - 1.0
        s_c = (kappa * (1.0 - 2.0 / depth)) ** (depth / (2.0 * (depth - 1.0)))
        h_c = s_c + kappa * s_c**p if s_c > 0 else 0.0
        exists = s_star > h_c
        lo = np.full(s_star.shape, s_c)
        hi = np.maximum(s_star, s_c)
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            above = mid + kappa * np.where(mid > 0, mid, 1.0) ** p > s_star
            lo, hi = np.where(above, lo, mid), np.where(above, mid, hi)
        local = np.where(exists, 0.5 * (lo + hi), np.nan)
    s_loc = np.nan_to_num(local)
    g_local = (s_loc - s_star) ** 2 + kappa * depth * s_loc ** (2.0 / depth)
    kept = exists & (g_local < s_star**2)
    return ModeMinima(local, np.where(kept, s_loc, 0.0), exists, kept)


def cnn_jacobian_bound(jac_singular_values, depth: float, k: int, n: int):
    """Lower bound on ‖θ‖² of any depth-L circular CNN from its input Jacobian.

    The layer operators T_ℓ (circulant blocks) have ‖T_ℓ‖_F² = n‖w_ℓ‖² (Parseval), and the MLP
    argument (Horn's inequality, masks of norm ≤ 1, AM-GM) applied to the T_ℓ gives
    ‖θ‖² ≥ (kL/n) |Jf(x)|_{+,k}^{2/(kL)} for every k ≤ rank Jf(x) (plain filters).
    """
    return np.asarray(jacobian_bound(jac_singular_values, depth, k)) / n
