"""Neural-collapse metrics of layer features and balancedness of linear layers (arXiv 2410.04887).

Features are rows (the PyTorch convention of ``models/mlp.py``): ``z`` of shape ``(N, p)`` with
integer ``labels`` of shape ``(N,)`` in ``0 … K−1``. Weights are ``(out, in)`` matrices.

* NC1 = tr Σ_W / tr Σ_B with Σ_W = (1/N) Σ_i (z_i − μ_{c(i)})(z_i − μ_{c(i)})ᵀ and
  Σ_B = (1/K) Σ_c (μ_c − μ_G)(μ_c − μ_G)ᵀ (the ratio the paper's figures use);
* NC2 = κ(M̄) = s_1(M̄)/s_K(M̄) of the *uncentred* class-mean matrix M̄ = [μ_1 … μ_K]: with the
  MSE, one-hot targets and no bias the collapsed geometry is an orthogonal frame (κ = 1);
* NC3 = mean_c cos(w_c, μ_c) between the rows of the last weight matrix and the class means of
  its input features (1: aligned);
* balancedness of a linear pair, ‖W_{ℓ+1}ᵀW_{ℓ+1} − W_ℓW_ℓᵀ‖_F / ‖W_ℓW_ℓᵀ‖_F (0 at a critical
  point of a weight-decayed loss, Sec. 4);
* negativity ‖Z̃ − σ(Z̃)‖_op / ‖Z̃‖_op of ReLU pre-activations Z̃ (the paper's plots).

Every function accepts torch tensors or numpy arrays and computes in float64.
"""

from __future__ import annotations

import numpy as np

from theorylab.measure.spectra import singular_values, to_numpy

__all__ = [
    "balance_gap",
    "class_means",
    "decay_rate",
    "nc1",
    "nc2_condition",
    "nc3_alignment",
    "negativity",
    "pair_balancedness",
]


def _features(z, labels) -> tuple[np.ndarray, np.ndarray, int]:
    arr, lab = to_numpy(z), np.asarray(to_numpy(labels), dtype=int)
    if arr.ndim != 2 or lab.shape != (arr.shape[0],):
        raise ValueError(f"z must be (N, p) and labels (N,), got {arr.shape} and {lab.shape}")
    k = int(lab.max()) + 1
    if lab.min() < 0 or np.any(np.bincount(lab, minlength=k) == 0):
        raise ValueError("labels must be 0 … K−1 with every class present")
    return arr, lab, k


def class_means(z, labels) -> np.ndarray:
    """Uncentred class means M̄ = [μ_1 … μ_K] as rows, shape ``(K, p)``."""
    arr, lab, k = _features(z, labels)
    onehot = np.eye(k)[lab]
    return (onehot.T @ arr) / onehot.sum(0)[:, None]


def nc1(z, labels) -> float:
    """tr Σ_W / tr Σ_B (within- over between-class variability; 0 = collapsed)."""
    arr, lab, _ = _features(z, labels)
    means = class_means(arr, lab)
    within = np.sum((arr - means[lab]) ** 2) / arr.shape[0]
    between = np.sum((means - means.mean(0)) ** 2) / means.shape[0]
    return float(within / between) if between > 0 else float("inf")


def nc2_condition(z, labels) -> float:
    """κ(M̄) = s_1/s_K of the uncentred class-mean matrix (1 = orthogonal frame)."""
    s = singular_values(class_means(z, labels))
    k = class_means(z, labels).shape[0]
    if s.size < k or s[k - 1] <= 0:
        return float("inf")
    return float(s[0] / s[k - 1])


def nc3_alignment(w_last, z_prev, labels) -> float:
    """mean_c cos(w_c, μ_c): rows of the last weight matrix ``(K, p)`` vs the class means of
    its input features ``z_prev`` ``(N, p)`` (1 = aligned)."""
    w = to_numpy(w_last)
    means = class_means(z_prev, labels)
    if w.shape != means.shape:
        raise ValueError(f"w_last must be (K, p) = {means.shape}, got {w.shape}")
    norms = np.linalg.norm(w, axis=1) * np.linalg.norm(means, axis=1)
    return float(np.mean(np.sum(w * means, axis=1) / np.where(norms > 0, norms, np.inf)))


def balance_gap(w_lower, w_upper) -> float:
    """‖D‖_F with D = W_{ℓ+1}ᵀW_{ℓ+1} − W_ℓW_ℓᵀ (``w_lower`` = W_ℓ, ``w_upper`` = W_{ℓ+1})."""
    lo, up = to_numpy(w_lower), to_numpy(w_upper)
    if up.shape[-1] != lo.shape[-2]:
        raise ValueError(f"W_ℓ {lo.shape} and W_ℓ+1 {up.shape} do not compose")
    return float(np.linalg.norm(up.T @ up - lo @ lo.T))


def pair_balancedness(w_lower, w_upper) -> float:
    """‖W_{ℓ+1}ᵀW_{ℓ+1} − W_ℓW_ℓᵀ‖_F / ‖W_ℓW_ℓᵀ‖_F (relative; 0 = balanced pair)."""
    lo = to_numpy(w_lower)
    scale = float(np.linalg.norm(lo @ lo.T))
    return balance_gap(lo, w_upper) / scale if scale > 0 else float("inf")


def negativity(pre) -> float:
    """‖Z̃ − relu(Z̃)‖_op / ‖Z̃‖_op of pre-activations ``(N, p)`` (0: ReLU acts as identity)."""
    z = to_numpy(pre)
    top = singular_values(z)[0]
    return float(singular_values(z - np.maximum(z, 0.0))[0] / top) if top > 0 else 0.0


def decay_rate(values, steps=None) -> float:
    """Per-step exponential decay rate −d log(v)/dt of a positive series, by least squares.

    ``values[t]`` recorded at ``steps[t]`` (default 0, 1, …). For v_t = v_0 e^{−r t} it returns r.
    """
    v = np.asarray(values, dtype=float)
    t = np.arange(v.size, dtype=float) if steps is None else np.asarray(steps, dtype=float)
    if v.ndim != 1 or v.size < 2 or t.shape != v.shape or np.any(v <= 0):
        raise ValueError("decay_rate needs at least two positive values on matching steps")
    slope = np.polyfit(t, np.log(v), 1)[0]
    return float(-slope)
