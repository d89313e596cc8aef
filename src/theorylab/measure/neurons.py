"""Effective number of neurons of a hidden layer: rays after merging aligned neurons.

For a positively 1-homogeneous activation (ReLU, no bias) hidden neuron i contributes
w_out,i σ(w_in,i · h) with w_in,i the i-th row of the incoming matrix W_ℓ and w_out,i the i-th
column of the outgoing W_{ℓ+1}. Two neurons whose incoming vectors are positively proportional
(w_in,j = c w_in,i, c > 0) lie on the same *ray*: σ(c t) = c σ(t), so they merge exactly into
one neuron with outgoing weight w_out,i + c w_out,j. A neuron with w_in,i = 0 or w_out,i = 0
contributes nothing. The number of distinct rays among non-negligible neurons is the empirical
proxy for Rank_σ used in arXiv 2205.15809 (neurons on the same ray: cosine > 0.9999; the
N = 6, width-12 plateau solution has 10 rays).

Neurons may also be compared by their pre-activations on data (``features``): two neurons with
positively proportional pre-activations on the N points are interchangeable on that data set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from theorylab.measure.spectra import to_numpy

__all__ = [
    "NeuronReport",
    "count_rays",
    "effective_neurons",
    "merge_neurons",
    "neuron_directions",
    "participation_ratio",
]


def _layer_arrays(w_in, w_out, features) -> tuple[np.ndarray, np.ndarray]:
    win = to_numpy(w_in)
    wout = to_numpy(w_out)
    if win.ndim != 2 or wout.ndim != 2:
        raise ValueError(
            f"w_in must be (n, n_in) and w_out (n_out, n); got {win.shape} and {wout.shape}"
        )
    if wout.shape[1] != win.shape[0]:
        raise ValueError(
            f"w_out has {wout.shape[1]} columns but w_in has {win.shape[0]} neurons (rows)"
        )
    if features is not None:
        h = to_numpy(features)
        if h.ndim != 2 or h.shape[1] != win.shape[1]:
            raise ValueError(f"features must be (N, {win.shape[1]}), got {h.shape}")
        win = win @ h.T  # pre-activations of each neuron on the data, (n, N)
    return win, wout


def neuron_directions(w_in, w_out, *, features=None) -> tuple[np.ndarray, np.ndarray]:
    """Unit incoming directions and the scale-invariant size of every neuron.

    Parameters
    ----------
    w_in
        Incoming weights W_ℓ, shape ``(n, n_in)`` (row i = neuron i).
    w_out
        Outgoing weights W_{ℓ+1}, shape ``(n_out, n)`` (column i = neuron i).
    features
        Optional inputs of the layer, ``(N, n_in)`` (rows = points, e.g. the previous
        post-activations); then neurons are described by their pre-activations on these points.

    Returns
    -------
    directions : np.ndarray
        ``(n, n_in)`` (or ``(n, N)``), unit rows; zero rows for zero neurons.
    size : np.ndarray
        ``(n,)``, ‖w_in,i‖·‖w_out,i‖ (invariant under the rescaling c, 1/c).
    """
    win, wout = _layer_arrays(w_in, w_out, features)
    norm_in = np.linalg.norm(win, axis=1)
    norm_out = np.linalg.norm(wout, axis=0)
    safe = np.where(norm_in > 0, norm_in, 1.0)
    directions = np.where(norm_in[:, None] > 0, win / safe[:, None], 0.0)
    return directions, norm_in * norm_out


@dataclass(frozen=True, eq=False)
class NeuronReport:
    """Neurons of one hidden layer grouped into rays.

    Attributes
    ----------
    n_neurons
        Width of the layer.
    n_active
        Neurons whose size ‖w_in‖‖w_out‖ exceeds the cut-off.
    n_rays
        Distinct rays among the active neurons (the effective number of neurons).
    labels
        ``(n,)`` ray index of each neuron in 0 … n_rays − 1 (rays ordered by decreasing total
        size), −1 for dropped neurons.
    ray_size
        ``(n_rays,)`` summed size of the neurons on each ray.
    participation_ratio
        (Σ_r size_r)² / Σ_r size_r² over the rays: a threshold-free effective count.
    criterion
        The rule in words.
    """

    n_neurons: int
    n_active: int
    n_rays: int
    labels: np.ndarray
    ray_size: np.ndarray
    participation_ratio: float
    criterion: str


def participation_ratio(size) -> float:
    """(Σ_i c_i)² / Σ_i c_i² for non-negative sizes c (equal sizes: their count; 0 if all 0)."""
    c = to_numpy(size).ravel()
    if np.any(c < 0):
        raise ValueError("sizes must be >= 0")
    denom = float(np.sum(c**2))
    return float(np.sum(c)) ** 2 / denom if denom > 0 else 0.0


def effective_neurons(
    w_in,
    w_out,
    *,
    cos: float = 0.9999,
    min_norm: float = 1e-3,
    atol: float = 0.0,
    features=None,
) -> NeuronReport:
    """Group the neurons of a hidden layer into rays and drop negligible ones.

    A neuron is dropped when its size ‖w_in,i‖‖w_out,i‖ ≤ max(min_norm·max_j size_j, atol).
    Active neurons i, j are joined when cos∠(w_in,i, w_in,j) > ``cos``; rays are the connected
    components of that graph (single linkage: order independent).

    Parameters
    ----------
    w_in, w_out
        ``(n, n_in)`` incoming rows and ``(n_out, n)`` outgoing columns (one network).
    cos
        Cosine above which two neurons share a ray (0.9999 in the 2205.15809 note).
    min_norm
        Relative size cut-off (fraction of the largest neuron's size), in [0, 1).
    atol
        Absolute size floor.
    features
        Optional ``(N, n_in)`` layer inputs: compare pre-activations on the data instead.

    Returns
    -------
    NeuronReport
    """
    if not -1.0 <= cos < 1.0:
        raise ValueError(f"cos must be in [-1, 1), got {cos}")
    if not 0.0 <= min_norm < 1.0:
        raise ValueError(f"min_norm must be in [0, 1), got {min_norm}")
    if atol < 0:
        raise ValueError(f"atol must be >= 0, got {atol}")
    directions, size = neuron_directions(w_in, w_out, features=features)
    n = size.shape[0]
    top = float(size.max()) if n else 0.0
    active = size > max(min_norm * top, atol)
    idx = np.flatnonzero(active)
    labels = np.full(n, -1, dtype=int)
    ray_size = np.zeros(0)
    if idx.size:
        d = directions[idx]
        adjacency = csr_matrix(d @ d.T > cos)
        n_comp, comp = connected_components(adjacency, directed=False)
        sizes = np.bincount(comp, weights=size[idx], minlength=n_comp)
        order = np.argsort(-sizes, kind="stable")
        rank_of = np.empty(n_comp, dtype=int)
        rank_of[order] = np.arange(n_comp)
        labels[idx] = rank_of[comp]
        ray_size = sizes[order]
    criterion = (
        f"active: ‖w_in‖‖w_out‖ > max({min_norm:g}·max, {atol:g}); same ray: cosine > {cos:g}"
        + (" on data pre-activations" if features is not None else " of incoming weights")
    )
    return NeuronReport(
        n_neurons=n,
        n_active=int(idx.size),
        n_rays=int(ray_size.size),
        labels=labels,
        ray_size=ray_size,
        participation_ratio=participation_ratio(ray_size),
        criterion=criterion,
    )


def count_rays(
    w_in,
    w_out,
    *,
    cos: float = 0.9999,
    min_norm: float = 1e-3,
    atol: float = 0.0,
    features=None,
) -> int | np.ndarray:
    """Number of distinct rays among the non-negligible neurons (see :func:`effective_neurons`).

    ``w_in`` ``(..., n, n_in)`` and ``w_out`` ``(..., n_out, n)`` may carry the same leading batch
    dimensions; the result is then an integer array over them.
    """
    win = to_numpy(w_in)
    wout = to_numpy(w_out)
    if win.ndim == 2:
        return effective_neurons(
            win, wout, cos=cos, min_norm=min_norm, atol=atol, features=features
        ).n_rays
    if win.shape[:-2] != wout.shape[:-2]:
        raise ValueError("w_in and w_out have different batch dimensions")
    batch = win.shape[:-2]
    flat_in = win.reshape(-1, *win.shape[-2:])
    flat_out = wout.reshape(-1, *wout.shape[-2:])
    feats = None if features is None else to_numpy(features)
    counts = []
    for b in range(flat_in.shape[0]):
        f = None
        if feats is not None:
            f = feats if feats.ndim == 2 else feats.reshape(-1, *feats.shape[-2:])[b]
        counts.append(
            effective_neurons(
                flat_in[b], flat_out[b], cos=cos, min_norm=min_norm, atol=atol, features=f
            ).n_rays
        )
    return np.asarray(counts, dtype=int).reshape(batch)


def merge_neurons(w_in, w_out, labels) -> tuple[np.ndarray, np.ndarray]:
    """Merge the neurons on each ray into one, with balanced minimal norm.

    Neuron i on ray r with unit direction u_r (the size-weighted mean direction, renormalised)
    contributes w_out,i σ(‖w_in,i‖ u_r·h) = ‖w_in,i‖ w_out,i σ(u_r·h) (exact when the ray's
    neurons are exactly aligned), so the ray becomes one neuron with outgoing vector
    a_r = Σ_i ‖w_in,i‖ w_out,i, rescaled to ‖w_in‖ = ‖w_out‖ = √‖a_r‖ (the norm-minimising
    split). Dropped neurons (label −1) are removed.

    Parameters
    ----------
    w_in, w_out
        ``(n, n_in)`` and ``(n_out, n)`` of one network (weights, not data pre-activations).
    labels
        ``(n,)`` ray labels from :func:`effective_neurons` (without ``features``).

    Returns
    -------
    w_in_merged : np.ndarray
        ``(n_rays, n_in)``.
    w_out_merged : np.ndarray
        ``(n_out, n_rays)``.
    """
    win, wout = _layer_arrays(w_in, w_out, None)
    lab = np.asarray(labels, dtype=int)
    if lab.shape != (win.shape[0],):
        raise ValueError(f"labels must have shape ({win.shape[0]},), got {lab.shape}")
    n_rays = int(lab.max()) + 1 if lab.size and lab.max() >= 0 else 0
    new_in = np.zeros((n_rays, win.shape[1]))
    new_out = np.zeros((wout.shape[0], n_rays))
    norm_in = np.linalg.norm(win, axis=1)
    size = norm_in * np.linalg.norm(wout, axis=0)
    for r in range(n_rays):
        members = np.flatnonzero(lab == r)
        unit = win[members] / norm_in[members, None]
        direction = (size[members, None] * unit).sum(axis=0)
        u = direction / np.linalg.norm(direction)
        a = (wout[:, members] * norm_in[members]).sum(axis=1)
        scale = np.sqrt(np.linalg.norm(a))
        if scale > 0:
            new_in[r] = scale * u
            new_out[:, r] = a / scale
    return new_in, new_out
