"""Prune a trained bias-free ReLU network to its rays and re-polish it (arXiv 2205.15809).

Sparsity (Props. 7–8 of Jacot, Golikov, Hongler, Gabriel, NeurIPS 2022): a minimum of the
weight-decayed loss is reachable with few neurons per layer. Empirically: merge the neurons of
every hidden layer that lie on one ray (σ(ct) = cσ(t) makes them interchangeable), drop the
negligible ones (:func:`theorylab.measure.sparsity.prune`), then polish the narrow network by
L-BFGS in float64; if the sparse description is right it reaches the wide network's loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from theorylab.measure.sparsity import prune
from theorylab.models.training import TrainingConfig, regularized_mse, train

__all__ = ["PrunedNetwork", "prune_and_repolish"]


@dataclass(frozen=True)
class PrunedNetwork:
    """Outcome of :func:`prune_and_repolish`.

    Attributes
    ----------
    widths : hidden widths after merging rays and dropping (the effective numbers of neurons).
    merged_widths : hidden widths after merging rays only (nothing dropped).
    loss : regularised loss of the pruned network after re-polishing.
    grad_norm : its gradient norm.
    weights : the re-polished pruned network, ``[(n_ℓ, n_{ℓ−1})]``.
    """

    widths: list[int]
    merged_widths: list[int]
    loss: float
    grad_norm: float
    weights: list[np.ndarray]


def prune_and_repolish(
    weights: Sequence,
    x: torch.Tensor,
    y: torch.Tensor,
    lam: float,
    *,
    cos: float,
    min_size: float,
    config: TrainingConfig,
) -> PrunedNetwork:
    """Merge rays (cosine > ``cos``), drop neurons of size ≤ ``min_size``·largest, re-polish.

    Parameters
    ----------
    weights
        ``[W_1, …, W_L]`` of one network (numpy or torch, ``(n_ℓ, n_{ℓ−1})``).
    x, y
        Training inputs ``(N, n_0)`` and targets ``(N, n_L)`` (float64, device of the run).
    lam
        Weight decay of :func:`~theorylab.models.training.regularized_mse`.
    cos, min_size
        See :func:`theorylab.measure.sparsity.prune`.
    config
        Schedule of the re-polishing (typically L-BFGS only).
    """
    merged, merged_widths = prune(weights, cos=cos)
    pruned, widths = prune(merged, cos=cos, min_size=min_size)
    narrow = [
        torch.as_tensor(w, dtype=x.dtype, device=x.device)[None].clone().requires_grad_(True)
        for w in pruned
    ]
    res = train(narrow, lambda ws: regularized_mse(ws, x, y, lam), config)
    return PrunedNetwork(
        widths=widths,
        merged_widths=merged_widths,
        loss=float(res.loss[0]),
        grad_norm=float(res.grad_norm[0]),
        weights=[w.detach()[0].cpu().numpy() for w in narrow],
    )
