"""Closed-form linear learners (ridge readouts), batched over penalties and targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "HeldOutMoments",
    "RidgeBasis",
    "RidgePath",
    "ridge_learning_curves",
    "ridge_path",
    "ridge_readout",
]


def ridge_path(x: torch.Tensor, y: torch.Tensor, lams: Sequence[float]) -> torch.Tensor:
    """Ridge weights for every λ: ŵ(λ) = argmin Σ_μ ½(y_μ − w·x_μ/√d)² + (λ/2)‖w‖².

    That is ŵ = (XᵀX/d + λI)⁻¹ Xᵀy/√d (the convention of arXiv 2302.00375), computed from one
    eigendecomposition of XᵀX/d for all penalties.

    Parameters
    ----------
    x
        Inputs, shape (n, d).
    y
        Labels, shape (n,).
    lams
        Penalties λ ≥ 0 (λ = 0 needs n ≥ d).

    Returns
    -------
    torch.Tensor
        Weights of shape (len(lams), d); predict with ``x @ w.T / √d``.
    """
    d = x.shape[1]
    gram = x.T @ x / d
    evals, evecs = torch.linalg.eigh(gram)
    proj = evecs.T @ (x.T @ y) / d**0.5
    lam = torch.as_tensor(list(lams), dtype=x.dtype, device=x.device)
    coef = proj[None, :] / (evals[None, :] + lam[:, None])
    return coef @ evecs.T


def ridge_readout(x: torch.Tensor, y: torch.Tensor, lams: Sequence[float]) -> torch.Tensor:
    """Ridge weights in the sum convention: ŵ(λ) = argmin_w Σ_μ (y_μ − w·x_μ)² + λ‖w‖².

    Normal equations, primal ŵ = (XᵀX + λI_p)⁻¹Xᵀy when n ≥ p (p×p system), dual
    ŵ = Xᵀ(XXᵀ + λI_n)⁻¹y when n < p (n×n system). This is the readout of arXiv 2302.00401
    (``ridge_estimator`` of the authors' notebooks) and of arXiv 2402.13999
    (``lstsq(..., l2_regularizer=λ)``). The Gram matrix is formed once; each λ > 0 is then one
    Cholesky solve (several times cheaper than an eigendecomposition for a few λ); with more
    than 8 penalties, or λ = 0, one eigendecomposition serves all of them.

    Parameters
    ----------
    x
        Features, shape (n, p) (the readout's inputs, already scaled, e.g. v/√k).
    y
        Labels, shape (n,) or (n, m) for m label vectors fitted at once.
    lams
        Penalties λ ≥ 0 (λ = 0 needs XᵀX or XXᵀ invertible).

    Returns
    -------
    torch.Tensor
        Weights of shape (len(lams), p) or (len(lams), p, m); predict with ``x @ w[i]``.
    """
    n, p = x.shape
    lam_list = [float(v) for v in lams]
    rhs = y if y.ndim == 2 else y[:, None]
    primal = n >= p
    gram = x.T @ x if primal else x @ x.T
    b = x.T @ rhs if primal else rhs
    eye = torch.eye(gram.shape[0], dtype=x.dtype, device=x.device)
    if len(lam_list) <= 8 and min(lam_list) > 0:
        sols = [
            torch.cholesky_solve(b, torch.linalg.cholesky(gram + lam * eye)) for lam in lam_list
        ]
        coef = torch.stack(sols)
    else:
        lam = torch.as_tensor(lam_list, dtype=x.dtype, device=x.device)
        evals, evecs = torch.linalg.eigh(gram)
        coef = evecs[None] @ ((evecs.T @ b)[None] / (evals[None, :, None] + lam[:, None, None]))
    w = coef if primal else x.T[None] @ coef
    return w if y.ndim == 2 else w[..., 0]


# --------------------------------------------------------------------------------------------
# Test error of ridge along the λ path, for many targets at once
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldOutMoments:
    """Second moments of held-out samples: what the test error of any linear predictor needs.

    For predictors ŷ_j = x·w_j of targets Y_j, Σ_j mean_test (Y_j − x·w_j)² equals
    ``power − 2 tr(WᵀP) + tr(WᵀMW)`` exactly (same held-out samples), so it can be evaluated for
    many penalties and targets without another pass over the test set (:class:`RidgeBasis`).

    Attributes
    ----------
    gram
        M = XᵀX/N, shape (p, p).
    cross
        P = XᵀY/N, shape (p, m).
    power
        Σ_j mean(Y_j²), a float.
    """

    gram: torch.Tensor
    cross: torch.Tensor
    power: float

    @classmethod
    def from_samples(cls, x: torch.Tensor, y: torch.Tensor) -> HeldOutMoments:
        """Moments of held-out features ``x`` (N, p) and targets ``y`` (N, m) or (N,)."""
        y2 = y if y.ndim == 2 else y[:, None]
        n = x.shape[0]
        return cls(x.T @ x / n, x.T @ y2 / n, float((y2**2).sum() / n))


@dataclass(frozen=True)
class RidgePath:
    """Summed test error of sum-convention ridge as a function of λ (see :class:`RidgeBasis`).

    E(λ) = power − 2 Σ_a u_a g_a + Σ_ab u_a H_ab u_b with u_a = 1/(s_a + λ), s the eigenvalues
    of the training Gram matrix; ``quadratic`` H is a matrix, or its diagonal as a vector.
    Each λ costs O(r²) (O(r) for a diagonal H), so a whole λ scan is free next to the
    eigendecomposition that built the path.
    """

    evals: np.ndarray
    linear: np.ndarray
    quadratic: np.ndarray
    power: float

    def errors(self, lams) -> np.ndarray:
        """Σ_j mean_test (Y_j − x·ŵ_j(λ))² for every λ > 0 in ``lams`` (shape of ``lams``)."""
        lam = np.asarray(lams, dtype=float)
        u = 1.0 / (self.evals[None, :] + lam.reshape(-1, 1))
        if self.quadratic.ndim == 1:
            quad = (u**2) @ self.quadratic
        else:
            quad = ((u @ self.quadratic) * u).sum(1)
        return (self.power - 2.0 * u @ self.linear + quad).reshape(lam.shape)

    def minimum(self, low: float, high: float, points: int = 49) -> tuple[float, float]:
        """(λ̂, E(λ̂)): the smallest test error over [low, high] — a log-spaced scan of
        ``points`` penalties, refined by golden-section search in log λ (to 1e-4) between the
        neighbours of the best scan point. A minimum at a bound is returned at that bound."""
        grid = np.linspace(np.log(low), np.log(high), points)
        scan = self.errors(np.exp(grid))
        j = int(np.argmin(scan))
        a, b = grid[max(j - 1, 0)], grid[min(j + 1, points - 1)]
        ratio = (np.sqrt(5.0) - 1.0) / 2.0
        while b - a > 1e-4:
            c, e = b - ratio * (b - a), a + ratio * (b - a)
            ec, ee = self.errors(np.exp([c, e]))
            a, b = (a, e) if ec <= ee else (c, b)
        t = 0.5 * (a + b)
        value = float(self.errors(np.exp(t)))
        if value > scan[j]:
            t, value = grid[j], float(scan[j])
        return float(np.exp(t)), value


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


@dataclass(frozen=True)
class RidgeBasis:
    """One eigendecomposition of a training Gram matrix, for the ridge paths of many targets.

    ŵ_j(λ) = argmin_w Σ_μ (Y_μj − w·x_μ)² + λ‖w‖². With G = V diag(s) Vᵀ (G = XᵀX if n ≥ p,
    primal; G = XXᵀ if n < p, dual) every ŵ_j(λ) is a sum of fixed vectors weighted by
    u_a = 1/(s_a + λ): primal ŵ = V diag(u) R with R = VᵀXᵀY, dual ŵ = X̃ᵀ diag(u) R with
    X̃ = VᵀX, R = VᵀY. With K = VᵀMV (primal) or X̃MX̃ᵀ (dual), M the held-out Gram matrix,
    the summed held-out error is the :class:`RidgePath` with H = K ∘ RRᵀ and
    g = rowsum(R ∘ VᵀP) (primal) or rowsum(R ∘ X̃P) (dual).

    Attributes
    ----------
    evals, basis
        s and V (torch).
    rows
        X̃ = VᵀX in the dual case, else X itself.
    kernel
        K, the held-out Gram matrix in the eigenbasis.
    primal
        Whether n ≥ p.
    """

    evals: torch.Tensor
    basis: torch.Tensor
    rows: torch.Tensor
    kernel: torch.Tensor
    primal: bool

    @classmethod
    def fit(cls, x: torch.Tensor, test_gram: torch.Tensor) -> RidgeBasis:
        """Eigendecompose the Gram matrix of the training features ``x`` (n, p) and project
        the held-out Gram matrix ``test_gram`` (p, p) on its eigenbasis."""
        n, p = x.shape
        if n >= p:
            evals, v = torch.linalg.eigh(x.T @ x)
            return cls(evals.clamp(min=0.0), v, x, v.T @ test_gram @ v, True)
        evals, v = torch.linalg.eigh(x @ x.T)
        xt = v.T @ x
        return cls(evals.clamp(min=0.0), v, xt, xt @ test_gram @ xt.T, False)

    def _noise_diagonal(self, noise: float) -> torch.Tensor:
        """diag H of an independent label noise of variance ``noise``, averaged exactly:
        E RRᵀ = noise·diag(s) (primal) or noise·I (dual)."""
        k = torch.diagonal(self.kernel)
        return noise * (k * self.evals if self.primal else k)

    def path(self, y: torch.Tensor, test: HeldOutMoments, noise: float = 0.0) -> RidgePath:
        """Path of the targets ``y`` ((n, m) or (n,)) plus, averaged exactly, an independent
        label noise of variance ``noise`` on training and held-out labels."""
        y2 = y if y.ndim == 2 else y[:, None]
        if self.primal:
            r = self.basis.T @ (self.rows.T @ y2)
            proj = self.basis.T @ test.cross
        else:
            r = self.basis.T @ y2
            proj = self.rows @ test.cross
        quad = self.kernel * (r @ r.T)
        quad.diagonal().add_(self._noise_diagonal(noise))
        lin = (r * proj).sum(1)
        return RidgePath(_numpy(self.evals), _numpy(lin), _numpy(quad), test.power + noise)

    def self_path(self, test_power: float, noise: float = 0.0) -> RidgePath:
        """Path of the targets y = θ·x + noise averaged over θ ~ N(0, I_p): the p features are
        the targets (summed), so RRᵀ = diag(s²) (primal) or diag(s) (dual) and H is diagonal.
        ``test_power`` is tr M, the held-out Σ_j mean x_j²."""
        k = torch.diagonal(self.kernel)
        s = self.evals
        lin, quad = (s * k, s**2 * k) if self.primal else (k, s * k)
        quad = quad + self._noise_diagonal(noise)
        return RidgePath(_numpy(s), _numpy(lin), _numpy(quad), test_power + noise)


def ridge_learning_curves(
    x: torch.Tensor,
    y: torch.Tensor,
    sizes: Sequence[int],
    lams: Sequence[float],
    *,
    noise: float = 0.0,
    scan: tuple[float, float] | None = None,
    self_noise: float | None = None,
) -> dict[str, np.ndarray]:
    """Held-out errors of ridge fitted on nested training sets: the first n rows, n ∈ ``sizes``.

    The rows after max(sizes) are held out. One :class:`RidgeBasis` per n serves every target
    and penalty (the common-random-numbers design of a learning curve drawn from one sample).

    Parameters
    ----------
    x, y
        Features (N, p) and targets (N, m) or (N,); errors are summed over the m targets.
    sizes
        Training-set sizes n.
    lams
        Penalties λ > 0 (sum convention).
    noise
        Variance of an independent label noise on y, averaged exactly.
    scan
        (λ_min, λ_max): also return each training set's own minimum of its λ path.
    self_noise
        If given, also the errors of the targets θ·x averaged over θ ~ N(0, I_p) plus a label
        noise of this variance (:meth:`RidgeBasis.self_path`).

    Returns
    -------
    dict[str, numpy.ndarray]
        ``"errors"`` (len(lams), len(sizes)); with ``scan`` ``"lambda_min"`` and ``"error_min"``
        (len(sizes),); with ``self_noise`` ``"self"`` (len(lams), len(sizes)).
    """
    n_max = max(sizes)
    test = HeldOutMoments.from_samples(x[n_max:], y[n_max:])
    shape = (len(lams), len(sizes))
    out = {"errors": np.empty(shape)}
    if scan is not None:
        out["lambda_min"], out["error_min"] = np.empty(len(sizes)), np.empty(len(sizes))
    if self_noise is not None:
        out["self"], power = np.empty(shape), float(test.gram.trace())
    for j, n in enumerate(sizes):
        basis = RidgeBasis.fit(x[:n], test.gram)
        path = basis.path(y[:n], test, noise)
        out["errors"][:, j] = path.errors(lams)
        if scan is not None:
            out["lambda_min"][j], out["error_min"][j] = path.minimum(*scan)
        if self_noise is not None:
            out["self"][:, j] = basis.self_path(power, self_noise).errors(lams)
    return out
