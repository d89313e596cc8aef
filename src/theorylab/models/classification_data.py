"""Small balanced classification data sets with one-hot targets (numpy; no download).

:func:`gaussian_clusters`: each of K classes is a union of Gaussian sub-clusters (centres
N(0, I_d), isotropic within-cluster noise), inputs standardised per coordinate — a synthetic
stand-in for the image classes of arXiv 2410.04887 that needs no download. It returns
``(x, labels)``, x of shape ``(K·n, d)`` (float64) and integer labels sorted by class;
:func:`one_hot` makes the K-dimensional targets.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gaussian_clusters", "one_hot", "standardise"]


def standardise(x: np.ndarray) -> np.ndarray:
    """Every column to zero mean and unit variance (constant columns to zero)."""
    sd = x.std(0)
    return (x - x.mean(0)) / np.where(sd > 0, sd, 1.0)


def one_hot(labels: np.ndarray, k: int | None = None) -> np.ndarray:
    """K × N one-hot targets as rows: shape ``(N, K)``."""
    labels = np.asarray(labels, dtype=int)
    k = int(labels.max()) + 1 if k is None else k
    return np.eye(k)[labels]


def gaussian_clusters(
    rng: np.random.Generator,
    *,
    classes: int,
    per_class: int,
    dim: int,
    clusters: int = 3,
    spread: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` points per class, each from one of ``clusters`` sub-clusters of its class
    (centre N(0, I_dim), within-cluster standard deviation ``spread``), then standardised."""
    if min(classes, per_class, dim, clusters) < 1 or spread < 0:
        raise ValueError("classes, per_class, dim, clusters must be >= 1 and spread >= 0")
    centres = rng.standard_normal((classes, clusters, dim))
    labels = np.repeat(np.arange(classes), per_class)
    which = rng.integers(0, clusters, size=labels.size)
    x = centres[labels, which] + spread * rng.standard_normal((labels.size, dim))
    return standardise(x), labels

