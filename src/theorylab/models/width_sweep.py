"""Minimal regularised loss of bias-free shallow ReLU networks at several hidden widths.

The sparsity papers (arXiv 2205.15809, Props. 6–7 and 13–14) compare the *global* minimum of
L_λ(W) = (1/N)‖W_2 σ(W_1 X) − Y‖_F² + λ(‖W_1‖² + ‖W_2‖²) across hidden widths, so every width
needs many restarts and a float64 polish to ~1e-13 relative:

1. all widths and restarts are one batch: networks are zero-padded to the largest width and
   the absent neurons masked out (they get no gradient and no weight decay); Adam with a cosine
   learning rate trains every restart;
2. the ``polished`` best restarts of each width are polished together by one full-batch
   L-BFGS call (strong Wolfe), which ranks them;
3. the ``refined`` best of each width are polished one by one: L-BFGS on a summed batch shares
   its line search, and one network sitting on a ReLU kink then stalls the others (measured:
   ~1e-6 above the minimum at N = 6, width 9), while alone each reaches ~1e-13.

The minimum over the refined networks is the width's minimal loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from theorylab.models.mlp import init_mlp
from theorylab.models.training import TrainingConfig, regularized_mse, train

__all__ = ["SweepConfig", "WidthSweep", "fit_widths"]


@dataclass(frozen=True)
class SweepConfig:
    """Restarts and optimiser schedule of :func:`fit_widths`.

    Attributes
    ----------
    restarts : random initialisations per width (trained together as one batch).
    polished : best restarts per width (after Adam) polished together by one L-BFGS call.
    refined : best of those per width polished alone (``lbfgs_calls`` L-BFGS calls each).
    adam_steps, lr : Adam schedule (cosine decay from ``lr`` to 1e-5).
    init_std : standard deviation of the initial weights.
    lbfgs_calls, lbfgs_max_iter : L-BFGS polishing (calls of at most ``lbfgs_max_iter``).
    """

    restarts: int = 32
    polished: int = 8
    refined: int = 1
    adam_steps: int = 3000
    lr: float = 3e-2
    init_std: float = 0.7
    lbfgs_calls: int = 3
    lbfgs_max_iter: int = 300

    def __post_init__(self) -> None:
        if not 1 <= self.refined <= self.polished <= self.restarts:
            raise ValueError("need 1 <= refined <= polished <= restarts")


@dataclass(frozen=True)
class WidthSweep:
    """Best networks for one data set, one per hidden width.

    Attributes
    ----------
    widths : the hidden widths.
    loss : ``(len(widths),)`` minimal regularised loss over the refined networks.
    grad_norm : gradient norm of each width's best network.
    w_in, w_out : best networks, ``w_in[i]`` of shape ``(widths[i], n_0)``, ``w_out[i]`` of
        shape ``(n_out, widths[i])``.
    criterion : the polishing's convergence statement.
    """

    widths: tuple[int, ...]
    loss: np.ndarray
    grad_norm: np.ndarray
    w_in: list[np.ndarray]
    w_out: list[np.ndarray]
    criterion: str


def _masked(weights: list[torch.Tensor], mask: torch.Tensor) -> list[torch.Tensor]:
    """Hidden neuron j of a padded network exists iff mask[b, j] = 1 (rows of W_1, cols of W_2)."""
    return [weights[0] * mask, weights[1] * mask.transpose(1, 2)]


def _best_of(losses: np.ndarray, n_widths: int, per_width: int, k: int) -> np.ndarray:
    """Batch indices of the k best networks of every width, shape ``(n_widths, k)``."""
    order = np.argsort(losses.reshape(n_widths, per_width), axis=1, kind="stable")[:, :k]
    return order + per_width * np.arange(n_widths)[:, None]


def fit_widths(
    x: torch.Tensor,
    y: torch.Tensor,
    widths: Sequence[int],
    lam: float,
    config: SweepConfig,
    generator: torch.Generator,
) -> WidthSweep:
    """Minimal loss of a bias-free shallow ReLU net on ``(x, y)`` at every width (see module).

    Parameters
    ----------
    x, y
        ``(N, n_0)`` inputs and ``(N, n_out)`` targets (float64, on the device of the run).
    widths
        Hidden widths (positive integers).
    lam
        Weight decay λ of :func:`~theorylab.models.training.regularized_mse`.
    config
        Restarts and schedule.
    generator
        CPU generator of the initial weights (drawn on the CPU, then moved).
    """
    widths = tuple(int(w) for w in widths)
    n_w, r, device = len(widths), config.restarts, x.device
    params = init_mlp(
        [x.shape[1], max(widths), y.shape[1]],
        batch=n_w * r,
        generator=generator,
        std=config.init_std,
        device=device,
    )
    mask = torch.zeros(n_w * r, max(widths), 1, dtype=x.dtype, device=device)
    for i, w in enumerate(widths):
        mask[i * r : (i + 1) * r, :w] = 1.0

    def objective_for(m: torch.Tensor):
        return lambda ws: regularized_mse(_masked(ws, m), x, y, lam)

    adam = TrainingConfig(adam_steps=config.adam_steps, lr=config.lr, lbfgs_calls=0)
    first = train(params, objective_for(mask), adam)
    chosen = torch.as_tensor(_best_of(first.loss, n_w, r, config.polished).ravel(), device=device)
    batch = [w.detach()[chosen].clone().requires_grad_(True) for w in params]
    ranking = TrainingConfig(adam_steps=0, lbfgs_calls=1, lbfgs_max_iter=config.lbfgs_max_iter)
    second = train(batch, objective_for(mask[chosen]), ranking)
    finalists = _best_of(second.loss, n_w, config.polished, config.refined)
    refine = TrainingConfig(
        adam_steps=0,
        lbfgs_calls=config.lbfgs_calls,
        lbfgs_max_iter=config.lbfgs_max_iter,
        grad_tol=1e-10,
        plateau_rtol=1e-14,
    )
    loss, grad_norm = np.full(n_w, np.inf), np.full(n_w, np.nan)
    w_in: list[np.ndarray] = [np.empty(0)] * n_w
    w_out: list[np.ndarray] = [np.empty(0)] * n_w
    converged = 0
    for i, w in enumerate(widths):
        for b in finalists[i]:
            one = [
                batch[0].detach()[b, None, :w].clone().requires_grad_(True),
                batch[1].detach()[b, None, :, :w].clone().requires_grad_(True),
            ]
            res = train(one, lambda ws: regularized_mse(ws, x, y, lam), refine)
            converged += int(res.converged[0])
            if res.loss[0] < loss[i]:
                loss[i], grad_norm[i] = res.loss[0], res.grad_norm[0]
                w_in[i] = one[0].detach()[0].cpu().numpy()
                w_out[i] = one[1].detach()[0].cpu().numpy()
    criterion = (
        f"{converged}/{n_w * config.refined} refined networks converged (gradient norm <= 1e-10 "
        f"or relative loss change <= 1e-14 over an L-BFGS call); max gradient norm of the best "
        f"{float(np.nanmax(grad_norm)):.2g}"
    )
    return WidthSweep(widths, loss, grad_norm, w_in, w_out, criterion)
