"""Representation costs of deep networks: the linear closed form, its depth expansion, bounds.

For a depth-L network f_θ = W_L σ(⋯σ(W_1 x)) with a homogeneous activation, the representation
cost R(f; L) = min{‖θ‖² : f_θ = f}, ‖θ‖² = Σ_ℓ ‖W_ℓ‖_F², is the function-space bias of weight
decay. This module holds what two papers of the family share (arXiv 2209.15055, 2305.19008):

* deep linear networks (σ = id): R(A; L) = L Σ_i s_i(A)^{2/L} (Schatten-2/L cost), attained by
  the balanced factorisation, and its expansion in depth
  R(A; L) = L R^(0) + R^(1) + R^(2)/L + O(L^{−2}) with R^(0) = rank A, R^(1) = 2 log|A|_+,
  R^(2) = 2 Σ_i (log s_i)²  (2305.19008, Sec. "finite depth", linear case);
* the finite-depth Jacobian bound (Horn's inequality, ReLU masks of norm ≤ 1, AM-GM): for every
  input x and k ≤ rank Jf_θ(x),
  Σ_ℓ Σ_{i≤k} s_i(W_ℓ)² ≥ L k |Jf_θ(x)|_{+,k}^{2/(kL)} ≥ L k + 2 log|Jf_θ(x)|_{+,k},
  so R(f; L) ≥ L k + 2 log|Jf|_{+,k} (2209.15055 Thm. on R^(0) ≥ Rank_J; 2305.19008 R^(1) ≥
  2 log|Jf|_+);
* the bottleneck structure of the weights derived from it: the tail Σ_ℓ Σ_{i>k} s_i(W_ℓ)² is at
  most ‖θ‖² − L k |J|_{+,k}^{2/(kL)}, and the top-k singular values sit near √(1 + R^(1)/(kL));
* the finite-depth trade-off between inner dimension and regularity: dimension k beats k' > k
  at depth L iff L k + R^(1)_k < L k' + R^(1)_{k'}.

Conventions: |A|_{+,k} = Π_{i≤k} s_i(A) (singular values in decreasing order) and
|A|_+ = |A|_{+, rank A}. All functions take singular values (numpy arrays; the last axis holds
the values of one matrix, leading axes are batch axes) and are numpy-only.

Numerical rank (one rule for the whole module): a singular value s of A counts as non-zero iff
s > rtol · s_max(A), with rtol = :data:`RANK_RTOL` = 512 ε ≈ 1.1e-13 unless a function is given
another ``rtol``. The SVD of an exactly rank-deficient float64 matrix returns round-off values of
order ε · s_max (≲ 10 ε measured, e.g. for rank-1 and rank-2 products up to 1000 × 3) instead of
zeros, and at large depth each of them would add L s^{2/L} ≈ L (1e-16)^{2/L} to the cost
(+15 % at L = 64 for a rank-2 3 × 3 matrix). 512 ε is numpy.linalg.matrix_rank's max(M, N) ε for
matrices up to 512 wide; a fixed factor is used because most functions here see the singular
values only, not the shape. Singular values given in lower precision (float32, ~1e-7 round-off)
need a larger ``rtol``. :func:`linear_cost`, :func:`linear_expansion` and
:func:`balanced_factors` apply the rule (see :func:`nonzero_singular_values`); the Jacobian
bounds take the top k values as given (choose k ≤ rank J).

References
----------
A. Jacot, "Implicit bias of large depth networks: a notion of rank for nonlinear functions",
ICLR 2023, arXiv 2209.15055. A. Jacot, "Bottleneck structure in learned features:
low-dimension vs regularity tradeoff", NeurIPS 2023, arXiv 2305.19008.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

__all__ = [
    "RANK_RTOL",
    "LinearExpansion",
    "balanced_factors",
    "crossover_depth",
    "expected_top_singular_value",
    "jacobian_bound",
    "jacobian_log_bound",
    "layers_above_bound",
    "linear_cost",
    "linear_expansion",
    "log_pdet_k",
    "nonzero_singular_values",
    "preferred_dimension",
    "tail_bound",
    "tail_log_bound",
    "weight_head",
    "weight_tail",
]


def _sorted_values(singular_values) -> np.ndarray:
    """Singular values as a float array, last axis sorted in decreasing order, checked ≥ 0."""
    s = np.asarray(singular_values, dtype=float)
    if s.ndim == 0:
        s = s[None]
    if np.any(~np.isfinite(s)) or np.any(s < 0):
        raise ValueError("singular values must be finite and >= 0")
    return -np.sort(-s, axis=-1)


def _check_depth(depth: float) -> float:
    if not (np.isfinite(depth) and depth > 0):
        raise ValueError(f"depth must be > 0 and finite, got {depth!r}")
    return float(depth)


def _check_k(k: int, size: int | None = None) -> int:
    if isinstance(k, bool) or int(k) != k or k < 1 or (size is not None and k > size):
        allowed = f"[1, {size}]" if size is not None else ">= 1"
        raise ValueError(f"k must be an integer {allowed}, got {k!r}")
    return int(k)


def _scalar(x: np.ndarray):
    return float(x) if np.ndim(x) == 0 else x


#: Relative rank tolerance of the module: s counts as non-zero iff s > RANK_RTOL · s_max.
RANK_RTOL = 512 * float(np.finfo(float).eps)


def _check_rtol(rtol: float) -> float:
    if not (np.isfinite(rtol) and 0 <= rtol < 1):
        raise ValueError(f"rtol must be in [0, 1), got {rtol!r}")
    return float(rtol)


def _nonzero(s: np.ndarray, rtol: float, atol: float = 0.0) -> np.ndarray:
    """Mask of the values of ``s`` (sorted, last axis) above max(atol, rtol · s_max)."""
    threshold = np.maximum(atol, rtol * s[..., :1]) if s.shape[-1] else atol
    return s > threshold


def nonzero_singular_values(singular_values, rtol: float = RANK_RTOL):
    """Mask of the singular values that count as non-zero: s > rtol · s_max (module rule).

    Parameters
    ----------
    singular_values
        Singular values (last axis; leading axes are a batch), in any order.
    rtol
        Relative tolerance, :data:`RANK_RTOL` by default.

    Returns
    -------
    numpy.ndarray of bool
        Same shape as ``singular_values`` (order preserved); its sum over the last axis is the
        numerical rank. Exact zeros never count.
    """
    s = np.asarray(singular_values, dtype=float)
    if s.ndim == 0:
        s = s[None]
    top = _sorted_values(s)[..., :1]
    return s > _check_rtol(rtol) * top


# --------------------------------------------------------------------------------------------
# Deep linear networks
# --------------------------------------------------------------------------------------------


def linear_cost(singular_values, depth: float, *, rtol: float = RANK_RTOL):
    """Representation cost of a matrix by a depth-L linear network, R(A; L) = L Σ_i s_i^{2/L}.

    The sum runs over the non-zero singular values only: values s ≤ rtol · s_max (round-off of
    a rank-deficient A, see the module's numerical-rank rule) are dropped, since s^{2/L} → 1 as
    L grows.

    Parameters
    ----------
    singular_values
        Singular values of A (last axis; leading axes are a batch).
    depth
        Number of layers L > 0 (L = 1 gives ‖A‖_F², L = 2 twice the nuclear norm).
    rtol
        Relative rank tolerance, :data:`RANK_RTOL` by default (0 keeps every non-zero value).

    Returns
    -------
    float or numpy.ndarray
        min{Σ_ℓ ‖W_ℓ‖_F² : W_L ⋯ W_1 = A}, per batch element.

    References
    ----------
    2209.15055 (theory item 2 of the note); Dai, Karzand, Srebro (2021), representation costs
    of linear networks. Attained by :func:`balanced_factors`.
    """
    s = _sorted_values(singular_values)
    depth = _check_depth(depth)
    keep = _nonzero(s, _check_rtol(rtol))
    return _scalar(depth * np.sum(np.where(keep, s, 0.0) ** (2.0 / depth), axis=-1))


class LinearExpansion(NamedTuple):
    """Terms of R(A; L) = L R^(0) + R^(1) + R^(2)/L + O(L^{−2}) (2305.19008, linear case)."""

    r0: float | np.ndarray  #: rank A (number of non-zero singular values)
    r1: float | np.ndarray  #: 2 log|A|_+ = 2 Σ_{s_i > 0} log s_i
    r2: float | np.ndarray  #: 2 Σ_{s_i > 0} (log s_i)²

    def cost(self, depth: float):
        """The expansion truncated after three terms, L R^(0) + R^(1) + R^(2)/L."""
        depth = _check_depth(depth)
        return depth * self.r0 + self.r1 + self.r2 / depth


def linear_expansion(
    singular_values, depth: float | None = None, *, atol: float = 0.0, rtol: float = RANK_RTOL
):
    """Depth expansion of the linear representation cost: (R^(0), R^(1), R^(2)).

    From s^{2/L} = exp(2 log s / L) = 1 + 2 log s/L + 2 (log s)²/L² + O(L^{−3}) for s > 0 (and
    0 for s = 0): R^(0) = rank A, R^(1) = 2 log|A|_+, R^(2) = 2 Σ_i (log s_i)².

    Parameters
    ----------
    singular_values
        Singular values of A (last axis; leading axes are a batch).
    depth
        Not needed by the terms (they do not depend on L); accepted so that calls mirror
        :func:`linear_cost`. Use :meth:`LinearExpansion.cost` to evaluate the truncation.
    atol
        Singular values ≤ ``atol`` count as zero (exact zeros always do).
    rtol
        Singular values ≤ ``rtol`` · s_max count as zero too (the module's rank rule,
        :data:`RANK_RTOL` by default), so that round-off values of a rank-deficient A neither
        add to the rank nor contribute log(1e-16) terms.

    Returns
    -------
    LinearExpansion
        ``(r0, r1, r2)``; unpacks as a tuple.
    """
    s = _sorted_values(singular_values)
    if depth is not None:
        _check_depth(depth)
    keep = _nonzero(s, _check_rtol(rtol), float(atol))
    logs = np.where(keep, np.log(np.where(keep, s, 1.0)), 0.0)
    r0 = np.sum(keep, axis=-1).astype(float)
    r1 = 2.0 * np.sum(logs, axis=-1)
    r2 = 2.0 * np.sum(logs**2, axis=-1)
    return LinearExpansion(_scalar(r0), _scalar(r1), _scalar(r2))


def balanced_factors(matrix, depth: int, *, rtol: float = RANK_RTOL) -> list[np.ndarray]:
    """Balanced factorisation A = W_L ⋯ W_1 attaining :func:`linear_cost`.

    With the thin SVD A = U S Vᵀ (rank r): W_1 = S^{1/L} Vᵀ, W_ℓ = S^{1/L} (1 < ℓ < L),
    W_L = U S^{1/L}; every layer has the singular values s_i^{1/L}, so
    Σ_ℓ ‖W_ℓ‖_F² = L Σ_i s_i^{2/L}. For L = 1 the single factor is A.

    Parameters
    ----------
    matrix
        A, shape (d_out, d_in).
    depth
        Number of factors L ≥ 1.
    rtol
        Relative rank tolerance (module rule, :data:`RANK_RTOL` by default): singular values
        ≤ rtol · s_max are dropped, so that the factors attain :func:`linear_cost` with the same
        ``rtol``.

    Returns
    -------
    list of numpy.ndarray
        [W_1, …, W_L] (applied first to last), inner widths r = rank A (at least 1).
    """
    a = np.asarray(matrix, dtype=float)
    if a.ndim != 2:
        raise ValueError(f"matrix must be 2-D, got shape {a.shape}")
    if isinstance(depth, bool) or int(depth) != depth or depth < 1:
        raise ValueError(f"depth must be an integer >= 1, got {depth!r}")
    if depth == 1:
        return [a.copy()]
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    r = max(1, int(np.sum(_nonzero(s, _check_rtol(rtol))))) if s.size else 1
    root = s[:r] ** (1.0 / depth)
    first = root[:, None] * vt[:r]
    last = u[:, :r] * root[None, :]
    return [first, *[np.diag(root) for _ in range(depth - 2)], last]


# --------------------------------------------------------------------------------------------
# Jacobian bounds at finite depth (Horn + AM-GM)
# --------------------------------------------------------------------------------------------


def log_pdet_k(jac_singular_values, k: int):
    """log|J|_{+,k} = Σ_{i≤k} log s_i(J) (−inf if s_k = 0), per batch element."""
    s = _sorted_values(jac_singular_values)
    k = _check_k(k, s.shape[-1])
    with np.errstate(divide="ignore"):
        return _scalar(np.sum(np.log(s[..., :k]), axis=-1))


def jacobian_bound(jac_singular_values, depth: float, k: int):
    """Lower bound on the parameter norm from one Jacobian: L k |J|_{+,k}^{2/(kL)}.

    For a bias-free ReLU net, Jf_θ(x) = W_L D_{L−1} ⋯ D_1 W_1 with 0/1 diagonal masks, so by
    Horn's inequality |J|_{+,k} ≤ Π_ℓ Π_{i≤k} s_i(W_ℓ) and by AM-GM over the kL factors
    Σ_ℓ Σ_{i≤k} s_i(W_ℓ)² ≥ L k |J|_{+,k}^{2/(kL)}; a fortiori ‖θ‖² ≥ this bound.

    Parameters
    ----------
    jac_singular_values
        Singular values of Jf_θ(x) (last axis; e.g. shape (N, min(d_out, d_in)) for N points).
    depth
        Number of weight matrices L.
    k
        Number of top singular values used, 1 ≤ k ≤ number of values.

    Returns
    -------
    float or numpy.ndarray
        The bound, per point.

    References
    ----------
    2209.15055 (note item 3) and 2305.19008 (note item 2): finite-depth form, derived in the
    notes; the papers state the L → ∞ consequences R^(0) ≥ Rank_J, R^(1) ≥ 2 log|Jf|_+.
    """
    depth = _check_depth(depth)
    logdet = np.asarray(log_pdet_k(jac_singular_values, k))
    return _scalar(depth * k * np.exp(2.0 * logdet / (k * depth)))


def jacobian_log_bound(jac_singular_values, depth: float, k: int):
    """The weaker, additive form L k + 2 log|J|_{+,k} ≤ :func:`jacobian_bound` (e^u ≥ 1 + u).

    Its excess over L k is the R^(1) lower bound 2 log|J|_{+,k} of 2305.19008.
    """
    depth = _check_depth(depth)
    return _scalar(depth * k + 2.0 * np.asarray(log_pdet_k(jac_singular_values, k)))


def weight_head(layer_singular_values: Sequence, k: int) -> float:
    """Σ_ℓ Σ_{i≤k} s_i(W_ℓ)²: the part of ‖θ‖² carried by the top k directions of each layer.

    ``layer_singular_values`` is a list (one array per layer, sizes may differ). Layers with
    fewer than k values contribute all of them.
    """
    _check_k(k)
    return float(sum(np.sum(_sorted_values(s)[..., :k] ** 2) for s in layer_singular_values))


def weight_tail(layer_singular_values: Sequence, k: int) -> float:
    """Σ_ℓ Σ_{i>k} s_i(W_ℓ)²: the part of ‖θ‖² outside the top k directions of each layer."""
    _check_k(k)
    return float(sum(np.sum(_sorted_values(s)[..., k:] ** 2) for s in layer_singular_values))


def tail_bound(norm2: float, jac_singular_values, depth: float, k: int):
    """Upper bound on :func:`weight_tail`: ‖θ‖² − L k |J|_{+,k}^{2/(kL)} (note item 4).

    Because ‖θ‖² = head + tail and head ≥ :func:`jacobian_bound`. Take the minimum over data
    points (the maximum of the Jacobian bound) for the tightest statement.
    """
    return _scalar(norm2 - np.asarray(jacobian_bound(jac_singular_values, depth, k)))


def tail_log_bound(norm2: float, jac_singular_values, depth: float, k: int):
    """The additive form c_1 − 2 log|J|_{+,k} with c_1 = ‖θ‖² − L k (≥ :func:`tail_bound`)."""
    return _scalar(norm2 - np.asarray(jacobian_log_bound(jac_singular_values, depth, k)))


def layers_above_bound(tail: float, p: float) -> float:
    """At most tail/p layers can have s_{k+1}(W_ℓ)² > p when Σ_ℓ Σ_{i>k} s_i(W_ℓ)² ≤ tail."""
    if not p > 0:
        raise ValueError(f"p must be > 0, got {p!r}")
    return max(float(tail), 0.0) / p


# --------------------------------------------------------------------------------------------
# Finite-depth trade-off and the bottleneck scale
# --------------------------------------------------------------------------------------------


def expected_top_singular_value(r1: float, k: int, depth: float) -> float:
    """Typical top-k weight singular value at depth L: √(1 + R^(1)/(kL)) (note item 4).

    If the kL values s_i(W_ℓ), i ≤ k, carry a cost L k + R^(1) and are equal (the AM-GM
    equality case), each has s² = 1 + R^(1)/(kL).
    """
    depth = _check_depth(depth)
    _check_k(k)
    value = 1.0 + r1 / (k * depth)
    if value < 0:
        raise ValueError(f"1 + r1/(k L) must be >= 0, got {value!r}")
    return float(np.sqrt(value))


def crossover_depth(k: int, r1_k: float, k_prime: int, r1_k_prime: float) -> float:
    """Depth beyond which inner dimension k beats k' > k: L* = (R^(1)_k − R^(1)_{k'})/(k' − k).

    Dimension k is preferred at depth L iff L k + R^(1)_k < L k' + R^(1)_{k'} (2305.19008, the
    low-dimension vs regularity trade-off). A negative L* means k wins at every depth.
    """
    if k_prime <= k:
        raise ValueError(f"k_prime must be > k, got k={k!r}, k_prime={k_prime!r}")
    return (r1_k - r1_k_prime) / (k_prime - k)


def preferred_dimension(depth: float, r1_by_dimension: Mapping[int, float]) -> int:
    """Inner dimension k minimising L k + R^(1)_k at depth L (ties go to the smaller k).

    Parameters
    ----------
    depth
        Network depth L.
    r1_by_dimension
        Candidate inner dimensions k and the regularity cost R^(1)_k of the best function of
        that dimension.
    """
    depth = _check_depth(depth)
    if not r1_by_dimension:
        raise ValueError("r1_by_dimension must not be empty")
    return min(sorted(r1_by_dimension), key=lambda k: depth * k + r1_by_dimension[k])
