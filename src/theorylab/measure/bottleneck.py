"""The bottleneck structure of a trained deep bias-free ReLU network, layer by layer.

arXiv 2209.15055 and 2305.19008 read, at a minimum of MSE + λ‖θ‖²: the singular values of every
weight matrix W_ℓ, the numerical rank of every hidden pre-activation matrix Z_ℓ over the data,
the per-point input Jacobians Jf(x) = W_L D_{L−1}(x) ⋯ D_1(x) W_1 (exact from the ReLU masks,
:func:`theorylab.measure.jacobian.relu_mlp_jacobians`) and ‖θ‖². :func:`network_profile`
collects them once; the summaries below read the *middle* layers, L/4 < ℓ ≤ 3L/4, where the
papers predict k* singular values near 1 and the others collapsing.

Layers are numbered ℓ = 1 … L (W_ℓ) and ℓ = 1 … L − 1 (hidden representations Z_ℓ); per-layer
profiles are NaN-padded to a common length so that networks of several depths share one
``layer`` axis.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from theorylab.measure.jacobian import relu_mlp_jacobians
from theorylab.measure.norms import parameter_norm2
from theorylab.measure.spectra import numerical_rank, singular_values
from theorylab.theory.representation_cost import jacobian_bound

__all__ = [
    "NetworkProfile",
    "bound_ratio",
    "count_above",
    "depth_fit",
    "layer_summary",
    "middle_count",
    "middle_layers",
    "middle_rep_rank",
    "network_profile",
    "per_layer",
    "top_values",
]


@dataclass(frozen=True)
class NetworkProfile:
    """What is measured on one trained network.

    Attributes
    ----------
    weights
        Singular values of each W_ℓ (L arrays, descending).
    representations
        Numerical rank of each hidden pre-activation matrix Z_ℓ (N × n_ℓ), ℓ = 1 … L − 1.
    jacobians
        Singular values of Jf(x_i) at every data point, shape (N, min(d_out, d_in)).
    jacobian_ranks
        Numerical rank of Jf(x_i) at every point.
    norm2
        ‖θ‖² = Σ_ℓ ‖W_ℓ‖_F².
    """

    weights: tuple[np.ndarray, ...]
    representations: np.ndarray
    jacobians: np.ndarray
    jacobian_ranks: np.ndarray
    norm2: float

    @property
    def depth(self) -> int:
        return len(self.weights)


def network_profile(weights_one: Sequence, x, rank_rtol: float) -> NetworkProfile:
    """Measure one bias-free ReLU network (``weights_one[ℓ]`` of shape (n_{ℓ+1}, n_ℓ)) on the
    points ``x`` (N, n_0); ranks count s_i > ``rank_rtol``·s_1 (representations, Jacobians)."""
    import torch

    from theorylab.models.mlp import mlp_preactivations

    with torch.no_grad():
        zs = mlp_preactivations([w.detach()[None] for w in weights_one], x)
    jac_s = singular_values(relu_mlp_jacobians(weights_one, x))
    return NetworkProfile(
        weights=tuple(singular_values(w) for w in weights_one),
        representations=np.array([numerical_rank(z[0], rank_rtol) for z in zs[:-1]], float),
        jacobians=jac_s,
        jacobian_ranks=np.asarray(numerical_rank(jac_s, rank_rtol, from_singular_values=True)),
        norm2=float(parameter_norm2(weights_one)),
    )


def middle_layers(n: int, depth: int) -> np.ndarray:
    """Mask over ℓ = 1 … n of the middle layers L/4 < ℓ ≤ 3L/4 of a depth-L network."""
    ell = np.arange(1, n + 1)
    return (ell > depth / 4) & (ell <= 3 * depth / 4)


def count_above(s: np.ndarray, value: float) -> int:
    """Number of singular values larger than ``value``."""
    return int(np.sum(np.asarray(s) > value))


def middle_count(profile: NetworkProfile, value: float) -> float:
    """Median over the middle weight matrices of the number of singular values > ``value``:
    the number k* of directions the middle layers carry."""
    mask = middle_layers(profile.depth, profile.depth)
    return float(
        np.median([count_above(s, value) for s, m in zip(profile.weights, mask, strict=True) if m])
    )


def middle_rep_rank(profile: NetworkProfile) -> float:
    """Largest rank of the middle hidden representations (NaN for a network without them)."""
    mask = middle_layers(profile.depth - 1, profile.depth)
    return float(np.max(profile.representations[mask])) if np.any(mask) else float("nan")


def per_layer(values: Sequence, length: int) -> np.ndarray:
    """Per-layer values (first axis: ℓ = 1, 2, …) NaN-padded along that axis to ``length``."""
    arr = np.asarray(values, dtype=float)
    if arr.shape[0] > length:
        raise ValueError(f"{arr.shape[0]} layers do not fit in length {length}")
    out = np.full((length, *arr.shape[1:]), np.nan)
    out[: arr.shape[0]] = arr
    return out


def top_values(profile: NetworkProfile, n_top: int, length: int) -> np.ndarray:
    """The ``n_top`` largest singular values of each W_ℓ, shape (length, n_top), NaN-padded
    (beyond the depth, or where W_ℓ has fewer values)."""
    out = np.full((length, n_top), np.nan)
    for i, s in enumerate(profile.weights):
        out[i, : min(n_top, s.size)] = s[:n_top]
    return out


def bound_ratio(profile: NetworkProfile, ks: Iterable[int]) -> float:
    """max over points x and k of L k |Jf(x)|_{+,k}^{2/(kL)} / ‖θ‖².

    At most 1 for every network (Horn's inequality and AM-GM: the finite-depth bound of
    arXiv 2209.15055, :func:`theorylab.theory.representation_cost.jacobian_bound`), so a value
    above 1 is a bug of the Jacobian or of the norm, not a property of training.
    """
    size = profile.jacobians.shape[-1]
    return max(
        float(np.max(jacobian_bound(profile.jacobians, profile.depth, k))) / profile.norm2
        for k in ks
        if 1 <= k <= size
    )


def layer_summary(
    weights_one: Sequence, x, *, rank_rtol: float, large_value: float, n_top: int, length: int
) -> dict:
    """The per-network observables of arXiv 2209.15055 / 2305.19008, from :func:`network_profile`.

    Returns
    -------
    dict
        ``norm2`` (‖θ‖²), ``jac_rank_max`` (largest rank of Jf(x) over the points),
        ``middle_count`` (:func:`middle_count` at ``large_value``), ``middle_rep_rank``,
        ``weight_top`` (``(length, n_top)``, :func:`top_values`) and ``rep_rank`` (``(length,)``,
        rank of Z_ℓ for ℓ = 1 … L − 1, NaN beyond).
    """
    prof = network_profile(weights_one, x, rank_rtol)
    return {
        "norm2": prof.norm2,
        "jac_rank_max": float(np.max(prof.jacobian_ranks)),
        "middle_count": middle_count(prof, large_value),
        "middle_rep_rank": middle_rep_rank(prof),
        "weight_top": top_values(prof, n_top, length),
        "rep_rank": per_layer(prof.representations, length),
    }


def depth_fit(depths: Sequence[float], norm2: Sequence[float]) -> tuple[float, float]:
    """‖θ‖² = a L + b (i.e. ‖θ‖²/L = a + b/L) through two depths; returns (a, b).

    With the depth expansion R(f; L) = L R^(0) + R^(1) + R^(2)/L (arXiv 2305.19008) the fit
    through L_1, L_2 gives a = R^(0) − R^(2)/(L_1 L_2) and b = R^(1) + R^(2)(1/L_1 + 1/L_2).
    """
    (l1, l2), (n1, n2) = depths, norm2
    if l1 == l2:
        raise ValueError("the two depths must differ")
    a = (n2 - n1) / (l2 - l1)
    return float(a), float(n1 - a * l1)
