"""Tied two-layer autoencoder with a scalar skip, trained by online SGD, and its Euler flow.

The denoiser of Cui, Pehlevan, Lu (arXiv 2501.03937): ``f(x) = b x + wᵀ tanh(w x/√d)/√d`` with
``w ∈ R^{r×d}``, trained on ``‖f(x) − x1‖²`` (no ½) for ``x = β x1 + α ξ``, one fresh sample
per step; ``w`` with learning rate ``η`` and coupled L2 weight decay ``wd`` (torch's
``weight_decay``), ``b`` with ``η/d²``. Generated samples follow
``x ← x + dt (f(x) − x)/(1 − t_k)`` from ``x ~ N(0, I_d)``, ``t_k = k/steps``,
``k = 0 … steps − 2``.

float64 numpy, gradient written out: one step is a handful of length-d vector operations, and
torch's per-call overhead made the loop 2.5× slower than numpy (650 vs 260 µs per step at
d = 1000, r = 2, measured under load). The unit test checks the gradient against torch autograd.
This is the online-SGD trainer only; the batch-trained tied DAE of arXiv 2305.11041 (same f)
lives in its own module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "OnlineRecord",
    "dae_gradients",
    "euler_flow",
    "euler_flow_lowrank",
    "informed_init",
    "orthogonal_variance",
    "quadrant_fractions",
    "replay",
    "train_online",
]


def informed_init(means: np.ndarray, r: int, scale: float = 0.1) -> np.ndarray:
    """w_γ = scale·√d·μ_γ for γ < r (the authors' informed initialisation)."""
    return scale * means.shape[1] ** 0.5 * np.array(means[:r], dtype=float)


def dae_gradients(w: np.ndarray, b: float, x: np.ndarray, x1: np.ndarray):
    """Gradients of ‖f(x) − x1‖² for one sample: (∂/∂w (r × d), ∂/∂b).

    With h = w x/√d, e = f(x) − x1 and g = w e/√d:
    ∂/∂w_γ = (2/√d)(tanh(h_γ) e + tanh'(h_γ) g_γ x), ∂/∂b = 2 e·x.
    """
    root = w.shape[1] ** 0.5
    s = np.tanh(w @ x / root)
    e = b * x + (s @ w) / root - x1
    g = w @ e / root
    grad_w = np.outer(s, e)
    grad_w += np.outer((1.0 - s * s) * g, x)
    return (2.0 / root) * grad_w, 2.0 * float(e @ x)


@dataclass(frozen=True)
class OnlineRecord:
    """State after each recorded step: w (R, r, d), b (R,)."""

    steps: tuple[int, ...]
    w: np.ndarray
    b: np.ndarray


def train_online(
    w0: np.ndarray,
    draw_targets: Callable[[int], np.ndarray],
    *,
    beta: float,
    alpha: float,
    lr: float,
    weight_decay: float,
    record: Sequence[int],
    rng: np.random.Generator,
    b0: float = 0.0,
    chunk: int = 2000,
) -> OnlineRecord:
    """Online SGD for ``max(record)`` steps; ``draw_targets(k)`` returns k fresh targets x1 (k, d).

    Each step uses a fresh noise ξ ~ N(0, I_d) (from ``rng``), x = βx1 + αξ, and takes
    w ← w − lr(∂_w + weight_decay·w), b ← b − (lr/d²) ∂_b (both gradients at the same state).
    The state after step k is recorded for every k in ``record`` (k = 0: the initialisation).
    """
    w = np.array(w0, dtype=float)
    d = w.shape[1]
    root = d**0.5
    b = float(b0)
    shrink, lr_b = 1.0 - lr * weight_decay, 2.0 * lr / d**2
    total = max(record)
    wanted = set(record)
    kept = {0: (w.copy(), b)} if 0 in wanted else {}
    left, right = np.empty((w.shape[0], 2)), np.empty((2, d))
    step = 0
    while step < total:
        size = min(chunk, total - step)
        x1 = draw_targets(size)
        xs = beta * x1 + alpha * rng.standard_normal((size, d))
        for x, y in zip(xs, x1, strict=True):
            s = np.tanh(np.dot(w, x) / root)
            e = np.dot(s, w)
            e /= root
            e += b * x
            e -= y
            # ∂_w = (2/√d)[s, tanh'·g] @ [e; x] as one (r × 2)(2 × d) product
            left[:, 0] = s
            left[:, 1] = (1.0 - s * s) * (np.dot(w, e) / root)
            right[0], right[1] = e, x
            b -= lr_b * float(np.dot(e, x))
            w *= shrink
            w -= np.dot(left * (2.0 * lr / root), right)
            step += 1
            if step in wanted:
                kept[step] = (w.copy(), b)
    steps = tuple(sorted(wanted))
    return OnlineRecord(
        steps, np.stack([kept[k][0] for k in steps]), np.array([kept[k][1] for k in steps])
    )


def euler_flow(w: np.ndarray, b: float, x0: np.ndarray, steps: int = 100) -> np.ndarray:
    """Push x0 (N, d) through x ← x + ((b − 1)x + tanh(x wᵀ/√d) w/√d)/(steps − k),
    k = 0 … steps − 2 (dt/(1 − t_k) = 1/(steps − k))."""
    root = w.shape[1] ** 0.5
    x = np.array(x0, dtype=float)
    for k in range(steps - 1):
        velocity = (b - 1.0) * x + np.tanh(x @ w.T / root) @ w / root
        x += velocity / (steps - k)
    return x


def euler_flow_lowrank(w: np.ndarray, b: float, x0: np.ndarray, steps: int = 100) -> np.ndarray:
    """:func:`euler_flow`, computed in the basis (x0, rows of w): the same finite-d samples.

    Every Euler step maps x = c x0 + A w/√d (c scalar, A ∈ R^{N×r}) to the same form, with
    c ← c(1 + (b − 1)/(steps − k)), A ← A(1 + (b − 1)/(steps − k)) + tanh(x wᵀ/√d)/(steps − k)
    and x wᵀ/√d = c x0 wᵀ/√d + A (w wᵀ/d). Cost O(N r) per step instead of O(N d); the unit
    test checks it against :func:`euler_flow` to rounding error.
    """
    root = w.shape[1] ** 0.5
    z0 = x0 @ w.T / root
    gram = w @ w.T / w.shape[1]
    c, a = 1.0, np.zeros_like(z0)
    for k in range(steps - 1):
        z = c * z0 + a @ gram
        growth = 1.0 + (b - 1.0) / (steps - k)
        c, a = c * growth, a * growth + np.tanh(z) / (steps - k)
    return c * x0 + a @ w / root


def orthogonal_variance(x: np.ndarray, w: np.ndarray, extra: int = 2) -> float:
    """Mean square of the rows of x (N, d) in the directions orthogonal to span(w) and to the
    first ``extra`` coordinate axes (the bulk variance of generated samples)."""
    basis, _ = np.linalg.qr(np.concatenate([w, np.eye(extra, x.shape[1])]).T)
    rest = x - (x @ basis) @ basis.T
    return float((rest**2).sum() / (x.shape[0] * (x.shape[1] - basis.shape[1])))


def quadrant_fractions(z: np.ndarray) -> np.ndarray:
    """Fractions of the rows of z (N, 2) in the quadrants ++, −+, −−, +−."""
    signs = ((1, 1), (-1, 1), (-1, -1), (1, -1))
    return np.array([np.mean((s1 * z[:, 0] > 0) & (s2 * z[:, 1] > 0)) for s1, s2 in signs])


def replay(samples: np.ndarray) -> Callable[[int], np.ndarray]:
    """A ``draw_targets`` for :func:`train_online` that hands out ``samples`` in order, each
    once (retraining on a previous generation's samples)."""
    state = {"next": 0}

    def draw(k: int) -> np.ndarray:
        i = state["next"]
        state["next"] = i + k
        return samples[i : i + k]

    return draw
