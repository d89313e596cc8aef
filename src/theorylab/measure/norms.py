"""Parameter norms of (batched) networks: ‖θ‖² = Σ_ℓ ‖W_ℓ‖_F² and its per-layer parts.

Weights follow ``models/mlp.py``: ``weights[ℓ]`` of shape ``(..., n_{ℓ+1}, n_ℓ)``; the leading
dimensions (restarts/seeds) are kept in the results. For a positively homogeneous activation
without bias, rescaling W_ℓ → cW_ℓ, W_{ℓ+1} → W_{ℓ+1}/c keeps the function, so at a critical
point of C(f_θ) + λ‖θ‖² every layer has the same ‖W_ℓ‖_F² ("balancedness", arXiv 2205.15809).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from theorylab.measure.spectra import to_numpy

__all__ = ["balancedness", "layer_norms2", "parameter_norm2"]


def _scalar(x: np.ndarray):
    return x.item() if np.ndim(x) == 0 else x


def layer_norms2(weights: Sequence) -> np.ndarray:
    """‖W_ℓ‖_F² per layer.

    Parameters
    ----------
    weights
        Sequence of L tensors/arrays of shape ``(..., n_{ℓ+1}, n_ℓ)`` with the same leading
        dimensions.

    Returns
    -------
    np.ndarray
        Shape ``(..., L)``.
    """
    if len(weights) == 0:
        raise ValueError("weights must hold at least one matrix")
    norms = []
    for i, w in enumerate(weights):
        arr = to_numpy(w)
        if arr.ndim < 2:
            raise ValueError(f"weights[{i}] must have shape (..., out, in), got {arr.shape}")
        norms.append(np.sum(arr**2, axis=(-2, -1)))
    try:
        return np.stack(np.broadcast_arrays(*norms), axis=-1)
    except ValueError as err:
        raise ValueError("weights have different leading (batch) dimensions") from err


def parameter_norm2(weights: Sequence, *, biases: Sequence | None = None) -> float | np.ndarray:
    """‖θ‖² = Σ_ℓ ‖W_ℓ‖_F² (+ Σ_ℓ ‖b_ℓ‖² if ``biases`` are given), per network.

    Parameters
    ----------
    weights
        Sequence of ``(..., n_{ℓ+1}, n_ℓ)`` tensors/arrays.
    biases
        Optional sequence of ``(..., n_ℓ)`` bias vectors.

    Returns
    -------
    float or np.ndarray
        A float for one network, else an array over the leading dimensions.
    """
    total = layer_norms2(weights).sum(axis=-1)
    for b in biases or ():
        arr = to_numpy(b)
        if arr.ndim < 1:
            raise ValueError("biases must have shape (..., n)")
        total = total + np.sum(arr**2, axis=-1)
    return _scalar(np.asarray(total))


def balancedness(weights: Sequence) -> float | np.ndarray:
    """Relative spread of the layer norms, (max_ℓ − min_ℓ) ‖W_ℓ‖_F² / mean_ℓ ‖W_ℓ‖_F².

    Zero at a critical point of a weight-decayed bias-free homogeneous network (measured
    < 1.5e-3 after L-BFGS in the 2205.15809 note); a cheap stationarity gate.

    Returns
    -------
    float or np.ndarray
        Over the leading dimensions (0 for all-zero weights).
    """
    norms = layer_norms2(weights)
    mean = norms.mean(axis=-1)
    spread = norms.max(axis=-1) - norms.min(axis=-1)
    out = np.where(mean > 0, spread / np.where(mean > 0, mean, 1.0), 0.0)
    return _scalar(out)
