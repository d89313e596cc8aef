"""Deep linear networks trained to a minimum of the weight-decayed loss (arXiv 2209.15055).

A deep linear network is an MLP with the identity activation; its representation cost is
R(A; L) = L Σ_i s_i(A)^{2/L} (:func:`theorylab.theory.representation_cost.linear_cost`), attained
by balanced layers, and at a critical point of MSE + λ‖θ‖² the trained layers are balanced, so
‖θ‖² equals that closed form at the learned product.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from theorylab.models.training import (
    TrainingConfig,
    TrainingResult,
    gradient_descent,
    regularized_mse,
    train,
)

__all__ = [
    "DeepLinearFit",
    "fit_whitened_problem",
    "gradient_descent_path",
    "identity",
    "orthogonal_init",
    "train_deep_linear",
    "weight_product",
]


def identity(z: torch.Tensor) -> torch.Tensor:
    """σ(z) = z: the activation of a deep linear network (picklable, unlike a lambda)."""
    return z


def weight_product(weights: Sequence[torch.Tensor]) -> torch.Tensor:
    """W_L ⋯ W_1 of one network (``weights[ℓ]`` of shape ``(..., n_{ℓ+1}, n_ℓ)``)."""
    product = weights[0]
    for w in weights[1:]:
        product = w @ product
    return product


def gradient_descent_path(
    weights: list[torch.Tensor],
    objective: Callable[[list[torch.Tensor]], torch.Tensor],
    eta: float,
    steps: int,
    record: Callable[[list[torch.Tensor]], np.ndarray],
) -> np.ndarray:
    """Full-batch GD (:func:`theorylab.models.training.gradient_descent`, in place) recording
    ``record(weights)`` before the first step and after every step.

    Returns
    -------
    numpy.ndarray
        The ``steps + 1`` records stacked along a new first axis.
    """
    with torch.no_grad():
        out = [np.asarray(record(weights))]
    for _ in range(steps):
        gradient_descent(weights, objective, eta, 1)
        with torch.no_grad():
            out.append(np.asarray(record(weights)))
    return np.stack(out)


def orthogonal_init(width: int, depth: int, generator: torch.Generator, *, batch: int = 1):
    """Independent Haar rotations of SO(width), ``(batch, width, width)`` leaf tensors (float64).

    Their product is a rotation (singular values 1, determinant +1). Weight-decayed deep linear
    nets of width d have a local minimum wherever a singular value of the product is 0 (for
    L > 2, s = 0 is a local minimum of (s − m)² + λ L s^{2/L}), and a product can only go from
    det < 0 to det > 0 through such a singular matrix: with He init (random determinant sign)
    a depth-6 net stopped with a collapsed singular value (objective 0.39 vs the global 0.037).
    Hence rotations, a target with det > 0 (:func:`theorylab.models.teachers.
    whitened_linear_task`), and several restarts (a depth-12 run from one rotation also lost a
    singular value).
    """
    layers = []
    for _ in range(depth):
        g = torch.randn(batch, width, width, generator=generator, dtype=torch.float64)
        q, r = torch.linalg.qr(g)
        q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))[:, None, :]
        q[:, :, 0] *= torch.sign(torch.linalg.det(q))[:, None]  # det +1
        layers.append(q.contiguous().requires_grad_(True))
    return layers


@dataclass(frozen=True)
class DeepLinearFit:
    """The best of the restarts of :func:`train_deep_linear`.

    Attributes
    ----------
    weights
        ``[W_1, …, W_L]`` of the restart with the lowest objective (detached).
    result
        The :class:`~theorylab.models.training.TrainingResult` of all restarts.
    best
        Index of that restart.
    """

    weights: list[torch.Tensor]
    result: TrainingResult
    best: int

    @property
    def objective(self) -> float:
        return float(self.result.loss[self.best])

    @property
    def grad_norm(self) -> float:
        return float(self.result.grad_norm[self.best])

    @property
    def converged(self) -> bool:
        return bool(self.result.converged[self.best])


def train_deep_linear(
    x: torch.Tensor,
    y: torch.Tensor,
    depth: int,
    lam: float,
    generator: torch.Generator,
    *,
    restarts: int = 4,
    config: TrainingConfig | None = None,
) -> DeepLinearFit:
    """Fit a width-d deep linear net (d = x.shape[1] = y.shape[1]) to (x, y) on
    (1/N)‖f(X) − Y‖² + λ‖θ‖², from ``restarts`` orthogonal initialisations trained in one batch
    (L-BFGS only by default: the loss is smooth); returns the one of lowest objective."""
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"a width-d net needs d_in = d_out, got {x.shape[1]} and {y.shape[1]}")
    config = config or TrainingConfig(
        adam_steps=0, lbfgs_calls=5, lbfgs_max_iter=500, grad_tol=1e-5, plateau_rtol=1e-10
    )
    weights = [
        w.to(x.device).detach().requires_grad_(True)
        for w in orthogonal_init(x.shape[1], depth, generator, batch=restarts)
    ]
    res = train(weights, lambda ws: regularized_mse(ws, x, y, lam, identity), config)
    best = int(np.argmin(res.loss))
    return DeepLinearFit([w[best].detach() for w in weights], res, best)


def fit_whitened_problem(
    singular_values: Sequence[float],
    n: int,
    depths: Sequence[int],
    lam: float,
    task_generator: torch.Generator,
    init_generators: Sequence[torch.Generator],
    *,
    restarts: int = 4,
    device: torch.device | str = "cpu",
) -> dict[str, np.ndarray]:
    """Deep linear nets of every depth on the whitened problem of
    :func:`theorylab.models.teachers.whitened_linear_task` (Y = X Mᵀ, M of the given singular
    values), whose global minimum is known in closed form.

    Returns
    -------
    dict
        Per depth: ``norm2`` (‖θ‖² of the best restart), ``loss`` (its objective),
        ``converged`` (1.0 or 0.0) and ``cost`` (L Σ s_i^{2/L} of its learned product: equal
        to ``norm2`` at a critical point, where the layers are balanced).
    """
    from theorylab.measure.norms import parameter_norm2
    from theorylab.measure.spectra import singular_values as svals
    from theorylab.models.teachers import whitened_linear_task
    from theorylab.theory.representation_cost import linear_cost

    x, mat = whitened_linear_task(task_generator, n, singular_values)
    x, y = x.to(device), (x @ mat.T).to(device)
    rows = []
    for depth, gen in zip(depths, init_generators, strict=True):
        fit = train_deep_linear(x, y, depth, lam, gen, restarts=restarts)
        cost = linear_cost(svals(weight_product(fit.weights)), depth)
        rows.append((parameter_norm2(fit.weights), fit.objective, float(fit.converged), cost))
    norm2, loss, converged, cost = (np.array(col, dtype=float) for col in zip(*rows, strict=True))
    return {"norm2": norm2, "loss": loss, "converged": converged, "cost": cost}
