"""Sparsity measurements of arXiv 2205.15809: loss-vs-width plateaus, edge neurons, pruning.

Jacot, Golikov, Hongler, Gabriel (NeurIPS 2022), Sec. 4. The minimal regularised loss is
non-increasing in every hidden width (Prop. 6) and constant from a width on (Prop. 7, Cor. 9):
:func:`max_relative_increase` and :func:`plateau_onset` read both off a measured curve without
any theory value. On the tight example (X = I, Y_N of the complete bipartite graph K_{N/2,N/2},
Props. 13–14) a minimiser carries one neuron per edge (:func:`edges_covered`) and its output has
the block structure of Y_N (:func:`bipartite_blocks`). :func:`prune` merges neurons on a ray
and drops negligible ones (the empirical route to the N(N+1) neurons of Prop. 7).

Weights follow :mod:`theorylab.models.mlp` for one network: ``W_ℓ`` of shape ``(n_ℓ, n_{ℓ−1})``
(numpy or torch). Numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from theorylab.measure.neurons import (
    count_rays,
    effective_neurons,
    merge_neurons,
    neuron_directions,
)
from theorylab.theory.tight_example import incidence_matrix

__all__ = [
    "TightStructure",
    "bipartite_blocks",
    "edges_covered",
    "max_relative_increase",
    "plateau_onset",
    "prune",
    "tight_structure",
]


def _sorted_curve(widths: Sequence[int], loss) -> tuple[np.ndarray, np.ndarray]:
    w = np.asarray(widths, dtype=float)
    ls = np.asarray(loss, dtype=float)
    if w.shape != ls.shape or w.ndim != 1:
        raise ValueError(f"widths and loss must be 1-d of equal length, got {w.shape}, {ls.shape}")
    order = np.argsort(w, kind="stable")
    return w[order], ls[order]


def max_relative_increase(widths: Sequence[int], loss) -> float:
    """max over consecutive widths (sorted) of (L(w') − L(w))/L(w); ≤ 0 iff non-increasing.

    NaN for fewer than two widths (nothing is compared, so nothing may pass).
    """
    _, ls = _sorted_curve(widths, loss)
    if ls.size < 2:
        return float("nan")
    return float(np.max(np.diff(ls) / ls[:-1]))


def plateau_onset(widths: Sequence[int], loss, rtol: float) -> float:
    """Smallest width from which every measured loss equals the widest width's within ``rtol``.

    The widest width's loss is the plateau value (measured, not predicted). NaN when the
    smallest width is already on the plateau (the onset is then not bracketed by the sweep).
    """
    if not 0 <= rtol < 1:
        raise ValueError(f"rtol must be in [0, 1), got {rtol!r}")
    w, ls = _sorted_curve(widths, loss)
    on = np.abs(ls - ls[-1]) <= rtol * abs(ls[-1])
    off = np.flatnonzero(~on)
    if off.size == 0:
        return float("nan")
    return float(w[off[-1] + 1])


def edges_covered(w_in, w_out, *, cos: float = 0.99, min_size: float = 1e-3) -> int:
    """Edges (a, b) of K_{N/2,N/2} whose direction (e_a + e_b)/√2 carries an active neuron.

    With X = I the pre-activations of hidden neuron i on the N points are the row ``w_in[i]``
    (``w_in`` of shape ``(n, N)``, ``w_out`` of shape ``(N_out, n)``). A neuron is active when
    ‖w_in,i‖‖w_out,i‖ > ``min_size`` of the largest; it sits on edge (a, b) when the cosine of
    its row with (e_a + e_b)/√2 exceeds ``cos``. Props. 13–14: a minimiser uses all N²/4 edges.
    """
    directions, size = neuron_directions(w_in, w_out)
    active = directions[size > min_size * size.max()]
    edges = incidence_matrix(directions.shape[1]) / np.sqrt(2)
    return int(np.sum(np.any(edges @ active.T > cos, axis=1)))


def bipartite_blocks(m) -> tuple[np.ndarray, float]:
    """Mean entry per kind (diagonal, same side, across) of an N×N matrix, and the spread.

    The kinds are those of Y_N (sides {0 … N/2−1} and {N/2 … N−1}). The spread is the largest
    range (max − min) of the entries within one kind: 0 for a matrix with the block structure
    of Y_N.
    """
    a = np.asarray(m, dtype=float)
    n = a.shape[0]
    if a.shape != (n, n) or n % 2:
        raise ValueError(f"need a square matrix of even size, got {a.shape}")
    side = np.arange(n) >= n // 2
    same = side[:, None] == side[None, :]
    diag = np.eye(n, dtype=bool)
    groups = [a[diag], a[same & ~diag], a[~same]]
    means = np.array([g.mean() if g.size else np.nan for g in groups])
    spread = max(float(np.ptp(g)) for g in groups if g.size)
    return means, spread


def prune(
    weights: Sequence, *, cos: float, min_size: float = 0.0
) -> tuple[list[np.ndarray], list[int]]:
    """Merge the neurons of every hidden layer that lie on one ray; drop negligible ones.

    Layer by layer (:func:`theorylab.measure.neurons.effective_neurons`, then
    :func:`~theorylab.measure.neurons.merge_neurons`): σ(c t) = c σ(t) makes neurons on a ray
    interchangeable, so with ``min_size = 0`` the network keeps its function (up to the
    misalignment 1 − ``cos``) with one neuron per ray, at no larger norm. Neurons of size
    ‖w_in‖‖w_out‖ ≤ ``min_size``·(largest) are removed.

    Returns
    -------
    weights : list of np.ndarray
        The pruned network.
    widths : list of int
        Its hidden widths (the effective numbers of neurons).
    """
    ws = [np.array(w, dtype=float) for w in weights]
    widths = []
    for ell in range(len(ws) - 1):
        report = effective_neurons(ws[ell], ws[ell + 1], cos=cos, min_norm=min_size)
        ws[ell], ws[ell + 1] = merge_neurons(ws[ell], ws[ell + 1], report.labels)
        widths.append(report.n_rays)
    return ws, widths


@dataclass(frozen=True)
class TightStructure:
    """A shallow network fitted to the tight example (X = I_N), measured.

    Attributes
    ----------
    rays : distinct rays of the hidden neurons (cosine > ``ray_cos``).
    edges_covered : edges of K_{N/2,N/2} carrying an active neuron (:func:`edges_covered`).
    output_blocks : ``(3,)`` mean output entry per kind (:func:`bipartite_blocks`).
    output_spread : largest range of the output entries within one kind.
    gram_output_gap : max(‖K_1 − Ŷ‖_F, ‖K_1^σ − Ŷ‖_F) / ‖Ŷ‖_F for the hidden Grams
        K_1 = Z_1ᵀ Z_1 (pre-activations) and K_1^σ = relu(Z_1)ᵀ relu(Z_1).
    """

    rays: int
    edges_covered: int
    output_blocks: np.ndarray
    output_spread: float
    gram_output_gap: float


def tight_structure(w_in, w_out, *, ray_cos: float = 0.9999) -> TightStructure:
    """Measure a bias-free shallow ReLU net on X = I: ``w_in`` (n, N), ``w_out`` (N_out, n).

    With X = I the hidden pre-activations of the N points are the columns of ``w_in`` (the
    paper's Z_1 = W_1), the output is Ŷ = W_2 relu(W_1), K_1 = W_1ᵀ W_1 and
    K_1^σ = relu(W_1)ᵀ relu(W_1).
    """
    w_in, w_out = np.asarray(w_in, dtype=float), np.asarray(w_out, dtype=float)
    act = np.maximum(w_in, 0.0)
    y_hat = w_out @ act
    blocks, spread = bipartite_blocks(y_hat)
    return TightStructure(
        rays=int(count_rays(w_in, w_out, cos=ray_cos)),
        edges_covered=edges_covered(w_in, w_out),
        output_blocks=blocks,
        output_spread=spread,
        gram_output_gap=max(
            float(np.linalg.norm(k - y_hat) / np.linalg.norm(y_hat))
            for k in (w_in.T @ w_in, act.T @ act)
        ),
    )
