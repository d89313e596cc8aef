"""Closed-form linear learners (ridge readouts), batched over penalties."""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["ridge_path", "ridge_readout"]


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
