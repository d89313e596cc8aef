"""Local minima of L2-regularised deep linear networks on a fully observed matrix.

A depth-L linear network A_θ = W_L ⋯ W_1 trained on C(A) + λ‖θ‖² is balanced at every critical
point, where ‖θ‖² = L Σ_i s_i(A)^{2/L} (:func:`theorylab.theory.representation_cost.
linear_cost`). With all entries observed, C(A) = (1/d²)‖A − Y‖_F² and the problem decouples
along the singular vectors of Y = Σ y_i u_i v_iᵀ: each mode solves

    h_y(s) = (s − y)²/d² + λ L s^{2/L},  s ≥ 0

(arXiv 2305.16038, Wang & Jacot, the matrix form of the regularised loss). For L ≥ 3 the
penalty is concave at 0 with infinite slope, so s = 0 is always a local minimum of every mode;
a mode also has a positive local minimum s_+(y) iff the stationarity equation
(s − y)/d² + λ s^{2/L − 1} = 0 has a root (its larger root; the left side is convex in s). The
local minima of the network are therefore indexed by the set of modes kept, the losses of
"keep the top k modes" are Σ_{i≤k} h(s_+(y_i)) + Σ_{i>k} y_i²/d², and the nested sets of minima
of rank ≤ r are the B_r of the paper. All functions are numpy/scipy only.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from theorylab.theory.representation_cost import linear_cost

__all__ = [
    "global_rank",
    "kept_minimum_losses",
    "mode_objective",
    "positive_minimum",
]


def _check(lam: float, depth: int, scale: float) -> None:
    if not (lam > 0 and math.isfinite(lam)):
        raise ValueError(f"lam must be > 0 and finite, got {lam!r}")
    if isinstance(depth, bool) or int(depth) != depth or depth < 3:
        raise ValueError(f"depth must be an integer >= 3 (minima of several ranks), got {depth!r}")
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be > 0 and finite, got {scale!r}")


def mode_objective(s, y: float, lam: float, depth: int, scale: float):
    """h_y(s) = scale·(s − y)² + λ L s^{2/L} (scale = 1/d² for the fully observed MSE)."""
    s = np.asarray(s, dtype=float)
    penalty = linear_cost(s[..., None], depth, rtol=0.0)  # L s^{2/L}, per element
    return scale * (s - y) ** 2 + lam * np.asarray(penalty)


def positive_minimum(y: float, lam: float, depth: int, scale: float) -> float:
    """The positive local minimum s_+(y) of h_y, or NaN when h_y has none (then s = 0 is its
    only minimum).

    Stationarity: g(s) = scale·(s − y) + λ s^{2/L − 1} = 0. g is convex on (0, ∞), → +∞ at 0
    and g(y) > 0, so a local minimum exists iff min g < 0, at the larger root, found by
    bracketing between the minimiser of g and y.
    """
    _check(lam, depth, scale)
    y = float(y)
    if not y > 0:
        return math.nan
    p = 2.0 / depth - 1.0  # in (−1, 0)

    def g(s: float) -> float:
        return scale * (s - y) + lam * s**p

    # g'(s) = scale + λ p s^{p−1} = 0
    s_m = (-lam * p / scale) ** (1.0 / (1.0 - p))
    if s_m >= y or g(s_m) >= 0:
        return math.nan
    return float(brentq(g, s_m, y, xtol=1e-15, rtol=1e-15, maxiter=200))


def kept_minimum_losses(ys, lam: float, depth: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Minima that keep the top k modes, k = 0 … R (R: modes with a positive local minimum).

    Returns
    -------
    (losses, s_plus)
        ``losses[k]`` = Σ_{i≤k} h(s_+(y_i)) + Σ_{i>k} scale·y_i² for k = 0 … R, and
        ``s_plus[i]`` = s_+(y_i) for every mode (NaN where none), ``ys`` sorted decreasingly.
        The modes with a positive minimum are the top R (s_+ exists for every y above a
        threshold: g decreases as y grows).
    """
    y = -np.sort(-np.asarray(ys, dtype=float))
    s_plus = np.array([positive_minimum(v, lam, depth, scale) for v in y])
    keep = np.isfinite(s_plus)
    n_keep = int(np.argmin(keep)) if not keep.all() else len(y)
    dropped = scale * y**2
    kept = np.array(
        [mode_objective(s, v, lam, depth, scale) for s, v in zip(s_plus[:n_keep], y[:n_keep],
                                                                   strict=True)]
    )
    losses = np.array(
        [kept[:k].sum() + dropped[k:].sum() for k in range(n_keep + 1)], dtype=float
    )
    return losses, s_plus


def global_rank(ys, lam: float, depth: int, scale: float) -> int:
    """Rank of the global minimum: the k of the lowest "keep the top k" loss."""
    losses, _ = kept_minimum_losses(ys, lam, depth, scale)
    return int(np.argmin(losses))
