"""Test error of ridge readouts, estimated by cross-fitting on one pool of samples.

Ridge in the sum convention, θ̂ = argmin_θ Σ_μ (y_μ − θ·φ_μ)² + λ‖θ‖² (arXiv 2402.13999; the
authors' ``lstsq(..., l2_regularizer=λ)``), trained on n samples. Given one pool of N i.i.d.
samples (features F, labels y), the first K·n samples are cut into K disjoint training sets;
the readout θ̂_k of set k is tested on the N − n pool samples outside the set, whose mean
squared error is exactly

    ε̂_k(λ) = [Σ_{i∉k} y_i² − 2 θ̂_kᵀ Σ_{i∉k} φ_i y_i + θ̂_kᵀ (Σ_{i∉k} φ_iφ_iᵀ) θ̂_k] / (N − n),

computed from the pool's FᵀF, Fᵀy, yᵀy minus the set's own. Each ε̂_k is an unbiased estimate
of the expected test error at n (its test samples are independent of its training samples);
their mean averages K independent training sets, each tested on almost N samples, at the cost
of one pass over the pool. A few penalties are solved by one Cholesky factorisation each; a
λ-scan by one eigendecomposition per set (primal p × p Gram for n ≥ p, dual n × n kernel for
n < p).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["RidgePool", "scan_minimum"]

_CHOLESKY_MAX = 4  # at most this many penalties by Cholesky; more by one eigendecomposition


def _set_weights(fk: torch.Tensor, yk: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """θ̂(λ) of a batch of training sets: shape (K, p, L) from fk (K, n, p), yk (K, n)."""
    n, p = fk.shape[1], fk.shape[2]
    primal = n >= p
    ft = fk.transpose(1, 2)
    gram = ft @ fk if primal else fk @ ft
    rhs = (ft @ yk[..., None]) if primal else yk[..., None]
    if lam.numel() <= _CHOLESKY_MAX:
        eye = torch.eye(gram.shape[-1], dtype=gram.dtype, device=gram.device)
        coef = torch.cat(
            [torch.cholesky_solve(rhs, torch.linalg.cholesky(gram + v * eye)) for v in lam], -1
        )
    else:
        evals, evecs = torch.linalg.eigh(gram)
        coef = evecs @ ((evecs.transpose(1, 2) @ rhs) / (evals[..., None] + lam))
    return coef if primal else ft @ coef


@dataclass(frozen=True)
class RidgePool:
    """One pool of samples and its sums FᵀF, Fᵀy, yᵀy (see the module docstring)."""

    features: torch.Tensor
    labels: torch.Tensor
    gram: torch.Tensor
    cross: torch.Tensor
    power: torch.Tensor

    @classmethod
    def of(cls, features: torch.Tensor, labels: torch.Tensor) -> RidgePool:
        """The pool of ``features`` (N, p) and ``labels`` (N,)."""
        if features.ndim != 2 or labels.shape != features.shape[:1]:
            raise ValueError(f"need features (N, p) and labels (N,), got {features.shape}")
        f, y = features, labels
        return cls(f, y, f.T @ f, f.T @ y, y @ y)

    def errors(
        self, n: int, lams: Sequence[float], *, sets: int | None = None, batch: int = 16
    ) -> torch.Tensor:
        """Mean over training sets of ε̂_k(λ), one entry per penalty.

        Parameters
        ----------
        n
            Training-set size, 1 ≤ n < N.
        lams
            Penalties λ > 0 (sum convention, not scaled by n or p).
        sets
            Use at most this many training sets (default all ⌊N/n⌋).
        batch
            Training sets solved together.
        """
        total = self.labels.shape[0]
        lam = torch.as_tensor(list(lams), dtype=self.features.dtype, device=self.features.device)
        if lam.numel() == 0 or torch.any(lam <= 0):
            raise ValueError("penalties must be > 0")
        if not 1 <= int(n) < total:
            raise ValueError(f"training-set size {n} must be in [1, {total - 1}]")
        n = int(n)
        count = total // n if sets is None else max(1, min(total // n, int(sets)))
        acc = torch.zeros_like(lam)
        for start in range(0, count, batch):
            stop = min(start + batch, count)
            fk = self.features[start * n : stop * n].reshape(stop - start, n, -1)
            yk = self.labels[start * n : stop * n].reshape(stop - start, n)
            theta = _set_weights(fk, yk, lam)  # (K, p, L)
            rest_cross = self.cross - (fk.transpose(1, 2) @ yk[..., None])[..., 0]
            rest_power = self.power - (yk**2).sum(1)
            quad = (theta * (self.gram @ theta)).sum(1) - ((fk @ theta) ** 2).sum(1)
            lin = (theta * rest_cross[..., None]).sum(1)
            acc += ((rest_power[:, None] - 2.0 * lin + quad) / (total - n)).sum(0)
        return acc / count

    def curves(
        self, sizes: Sequence[int], lams: Sequence[float], *, sets: int | None = None
    ) -> np.ndarray:
        """:meth:`errors` on the (λ, n) grid, as a numpy array of shape (len(lams), len(sizes))."""
        cols = [self.errors(n, lams, sets=sets).cpu().numpy() for n in sizes]
        return np.stack(cols, axis=1)


def scan_minimum(lams: np.ndarray, errors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum over a log-spaced λ-scan, refined on the cubic spline through the scan (in log λ):
    its smallest stationary value between the neighbours of the best grid point (at an end of
    the scan: that grid point).

    Parameters
    ----------
    lams
        Increasing penalties, shape (L,), L ≥ 4, log-spaced.
    errors
        Errors on the scan, shape (L, ...) (e.g. (L, len(sizes))).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        λ at the minimum and the minimal error, each of shape ``errors.shape[1:]``.
    """
    from scipy.interpolate import CubicSpline

    t = np.log(np.asarray(lams, dtype=float))
    e = np.asarray(errors, dtype=float).reshape(t.size, -1)
    best_t, best_err = np.empty(e.shape[1]), np.empty(e.shape[1])
    for j in range(e.shape[1]):
        i = int(np.nanargmin(e[:, j]))
        best_t[j], best_err[j] = t[i], e[i, j]
        if 0 < i < t.size - 1 and np.all(np.isfinite(e[:, j])):
            spline = CubicSpline(t, e[:, j])
            roots = spline.derivative().roots(extrapolate=False)
            inside = roots[(roots > t[i - 1]) & (roots < t[i + 1])]
            candidates = np.concatenate([[t[i]], inside])
            k = int(np.argmin(spline(candidates)))
            best_t[j], best_err[j] = candidates[k], float(spline(candidates[k]))
    shape = np.shape(errors)[1:]
    return np.exp(best_t).reshape(shape), best_err.reshape(shape)
