"""A two-layer network trained by one large full-batch gradient step, then a ridge readout.

The protocol of arXiv 2402.04980 (Sec. 2) and 2410.18938: f(x) = (1/√p) Σ_i a_i σ(w_i·x) with
unit-norm rows w_i and a_i = 1/√p frozen during the step; one GD step on the half-MSE of n0
samples with learning rate η = η̃ p; then the readout is refit by ridge (sum convention
Σ(y − a·φ)² + λ‖a‖², φ = σ(W1 x)/√p) on fresh data. Also the spike of the update
(top singular triple of W1 − W0), the measured side of the spiked-random-features model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

__all__ = [
    "SpikeMeasurement",
    "first_layer_gradient",
    "measure_spike",
    "nested_ridge_errors",
    "unit_rows",
]

Act = Callable[[torch.Tensor], torch.Tensor]


def unit_rows(p: int, d: int, gen: torch.Generator, dtype=torch.float64) -> torch.Tensor:
    """W0: p rows uniform on the unit sphere of R^d (Gaussian rows normalised)."""
    w = torch.randn(p, d, generator=gen, dtype=dtype)
    return w / w.norm(dim=1, keepdim=True)


def first_layer_gradient(
    w0: torch.Tensor,
    sample: Callable[[int], tuple[torch.Tensor, torch.Tensor]],
    n0: int,
    student: Act,
    chunk: int = 5000,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """The full-batch step direction Gᵀ (p × d) with W1 = W0 + η̃ p Gᵀ.

    G = (1/n0) Σ_μ x_μ [(y_μ − f0(x_μ)) a_i/√p σ'(w_i·x_μ)]_i, a_i = 1/√p: minus the gradient
    of (1/2n0) Σ(y − f0)² in W, accumulated over chunks of ``sample(m) -> (x, y)``.
    """
    p = w0.shape[0]
    g = torch.zeros_like(w0)
    done = 0
    while done < n0:
        m = min(chunk, n0 - done)
        x, y = sample(m)
        pre = (x @ w0.T).requires_grad_(True)
        act = student(pre)
        (dact,) = torch.autograd.grad(act.sum(), pre)
        res = y - act.detach().sum(1) / p
        g += ((res[:, None] / p) * dact).T @ x
        done += m
    return (g / n0).to(w0.dtype)


@dataclass(frozen=True)
class SpikeMeasurement:
    """Top singular value of W1 − W0 over √p (≈ r), mean squared row norm of the update with
    its rank-one part removed (the bulk B of W1 = W0 + B + spike, ≈ c − 1), and the top right
    singular vector (unit, d entries)."""

    spike: float
    bulk: float
    direction: torch.Tensor


def measure_spike(w0: torch.Tensor, w1: torch.Tensor, iters: int = 200) -> SpikeMeasurement:
    """Top singular triple of Δ = W1 − W0 by power iteration on ΔᵀΔ (the spike is separated
    from the bulk by a factor ~ r√p/‖B‖, so a few iterations converge); the bulk is
    ‖Δ − s1 u1 v1ᵀ‖_F²/p = (‖Δ‖_F² − s1²)/p."""
    p = w0.shape[0]
    delta = w1 - w0
    v = delta.sum(0)
    if float(v.norm()) == 0.0:
        v = torch.ones_like(v)
    for _ in range(iters):
        new = delta.T @ (delta @ v)
        new = new / new.norm()
        if float((new - v).norm()) < 1e-13:
            v = new
            break
        v = new
    s1 = float((delta @ v).norm())
    bulk = (float((delta**2).sum()) - s1**2) / p
    return SpikeMeasurement(s1 / p**0.5, bulk, v)


def nested_ridge_errors(
    w1: torch.Tensor,
    student: Act,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    ns: Sequence[int],
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Test MSE of the ridge readout fitted on the first n training points, for every n in
    ``ns`` (nested sets: common random numbers along the learning curve), and the test
    predictions. Primal normal equations (ΦᵀΦ + λI)a = Φᵀy, Gram accumulated incrementally in
    increasing n. ``y_train``/``y_test`` may hold several targets as columns (one Gram, one
    factorisation for all): errors then have shape (len(ns), K), predictions
    (len(ns), n_test, K); with 1-d targets (len(ns),) and (len(ns), n_test)."""
    p = w1.shape[0]
    vector = y_train.ndim == 1
    yt, yv = (y_train[:, None], y_test[:, None]) if vector else (y_train, y_test)
    phi_test = student(x_test @ w1.T) / p**0.5
    gram = torch.zeros(p, p, dtype=w1.dtype)
    rhs = torch.zeros(p, yt.shape[1], dtype=w1.dtype)
    eye = torch.eye(p, dtype=w1.dtype)
    order = sorted(range(len(ns)), key=lambda k: ns[k])
    errors = torch.empty(len(ns), yt.shape[1], dtype=w1.dtype)
    preds = torch.empty(len(ns), x_test.shape[0], yt.shape[1], dtype=w1.dtype)
    start = 0
    for k in order:
        n = ns[k]
        phi = student(x_train[start:n] @ w1.T) / p**0.5
        gram += phi.T @ phi
        rhs += phi.T @ yt[start:n]
        start = n
        a = torch.linalg.solve(gram + lam * eye, rhs)
        preds[k] = phi_test @ a
        errors[k] = ((yv - preds[k]) ** 2).mean(0)
    if vector:
        return errors[:, 0], preds[..., 0]
    return errors, preds
