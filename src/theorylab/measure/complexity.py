"""Width-independent complexity of accordion networks (arXiv 2407.05664, Theorem 1).

For f = f_L ∘ … ∘ f_1 with shallow blocks f_ℓ(z) = W_ℓ relu(V_ℓ z + b_ℓ)
(:mod:`theorylab.models.accnet`), the covering-number bound of the paper controls the
generalisation gap of a Lipschitz loss, up to constants and log factors, by

    r · (Π_ℓ ρ_ℓ) · Σ_ℓ (R_ℓ / ρ_ℓ) √(d_{ℓ−1} + d_ℓ) / √N,

where R_ℓ is the F1 norm of block ℓ, ρ_ℓ its Lipschitz constant, d_ℓ the outer dimensions and r
the input radius. Here R_ℓ is bounded by the path norm Σ_i ‖W_{·i}‖ ‖(V_{i·}, b_i)‖ and ρ_ℓ by
‖W_ℓ‖_op ‖V_ℓ‖_op; d_ℓ is the numerical rank of W_ℓ (s_i > rtol · s_1, the authors' 0.1) for the
inner outer-dimensions, the true d_0 and d_L at the ends. Nothing depends on the inner widths
w_ℓ: splitting a neuron into two copies scaled by 1/√2 leaves every term unchanged.

:func:`frobenius_product_bound` is the plain product-of-norms baseline r Π_ℓ ‖V_ℓ‖_F ‖W_ℓ‖_F/√N
(a Neyshabur-type norm bound, no F1 structure): it is also unchanged by splitting neurons, but on
separately trained networks of different widths it follows the weights' total mass, which a
weak weight decay leaves to grow with the width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from theorylab.measure.spectra import numerical_rank, singular_values, to_numpy

__all__ = ["BlockComplexity", "accnet_bound", "block_complexity", "frobenius_product_bound"]


@dataclass(frozen=True)
class BlockComplexity:
    """F1 bound R (path norm), Lipschitz bound ρ and output rank d of one block."""

    f1: float
    lipschitz: float
    rank: int


def block_complexity(v, b, w, rank_rtol: float = 0.1) -> BlockComplexity:
    """R, ρ, d of f(z) = W relu(V z + b) for one network (V (w, d_in), b (w,), W (d_out, w))."""
    v, b, w = to_numpy(v), to_numpy(b), to_numpy(w)
    inner = np.sqrt((v**2).sum(1) + b**2)
    outer = np.sqrt((w**2).sum(0))
    lip = float(singular_values(w)[0] * singular_values(v)[0])
    return BlockComplexity(float(outer @ inner), lip, int(numerical_rank(w, rtol=rank_rtol)))


def accnet_bound(
    blocks: Sequence[tuple], radius: float, n: int, rank_rtol: float = 0.1
) -> float:
    """The Theorem 1 complexity of one AccNet (constants and log factors dropped).

    ``blocks`` = [(V_ℓ, b_ℓ, W_ℓ)] of one network; ``radius`` the input radius r; ``n`` the
    number of training points. The first outer dimension is V_1's input dimension, the last
    W_L's output dimension; the inner ones are the numerical ranks of the W_ℓ.
    """
    parts = [block_complexity(*blk, rank_rtol=rank_rtol) for blk in blocks]
    dims = [to_numpy(blocks[0][0]).shape[1], *[p.rank for p in parts[:-1]]]
    dims.append(to_numpy(blocks[-1][2]).shape[0])
    lips = np.array([p.lipschitz for p in parts])
    if np.any(lips <= 0):
        return 0.0
    terms = [
        p.f1 / p.lipschitz * np.sqrt(dims[i] + dims[i + 1]) for i, p in enumerate(parts)
    ]
    return float(radius * np.prod(lips) * np.sum(terms) / np.sqrt(n))


def frobenius_product_bound(blocks: Sequence[tuple], radius: float, n: int) -> float:
    """r Π_ℓ ‖V_ℓ‖_F ‖W_ℓ‖_F / √N of one AccNet ``[(V_ℓ, b_ℓ, W_ℓ)]`` (biases left out)."""
    norms = [np.linalg.norm(to_numpy(v)) * np.linalg.norm(to_numpy(w)) for v, _, w in blocks]
    return float(radius * np.prod(norms) / np.sqrt(n))
