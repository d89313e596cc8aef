"""Closed-form linear learners (ridge readouts), batched over penalties."""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["ridge_path"]


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
