"""Gaussian rainbow networks and trained feature maps (arXiv 2402.13999, Sec. 2 and Sec. 5).

A *rainbow* network is a deep, bias-free, fully connected network h₀ = x, h_ℓ = σ_ℓ(W_ℓ h_{ℓ−1}),
whose weight rows are independent Gaussians with a structured covariance,
w ~ N(0, C_ℓ/p_{ℓ−1}), where C_ℓ may depend on the earlier weights W₁ … W_{ℓ−1}
(e.g. C₂ ∝ (W₁W₁ᵀ + ½ I)⁻¹). The feature map is φ(x) = h_L, not normalised by √p.

The weights are drawn in numpy (:func:`draw_rainbow_weights`), so that a numpy theory and a torch
simulation see the same matrices from the same seed; :func:`rainbow_features` is the numpy forward
pass (for Monte-Carlo moments) and :func:`torch_features` the torch one. :func:`train_network`
trains such a network (hidden layers and a linear readout) by full-batch gradient descent, giving
the "trained features" of the paper's Sec. 5.

Torch is imported lazily inside the torch functions: the numpy part (weights, forward pass) is
used by theory code, which must not need torch.

References
----------
Schröder, Dmitriev, Cui, Loureiro (2024), "Asymptotics of Learning with Deep Structured (Random)
Features", ICML, arXiv 2402.13999: Def. 2.1 (rainbow networks), Sec. 5 (trained networks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from theorylab.theory.activations import parse_activation

if TYPE_CHECKING:
    import torch

__all__ = [
    "GradientDescent",
    "RowCovariance",
    "TrainedNetwork",
    "draw_rainbow_weights",
    "inverse_gram",
    "isotropic",
    "power_law",
    "psd_sqrt",
    "rainbow_features",
    "torch_features",
    "train_network",
]

RowCovariance = Callable[[int, Sequence[np.ndarray]], np.ndarray]
"""A row-covariance rule: ``(fan_in, earlier weights W₁ … W_{ℓ−1}) -> C_ℓ``.

``C_ℓ`` is a ``fan_in × fan_in`` PSD matrix or a 1-D array (its diagonal). Rows of W_ℓ are then
N(0, C_ℓ/fan_in)."""


def isotropic() -> RowCovariance:
    """C = I: the i.i.d. deep random features of arXiv 2302.00401."""

    def rule(fan_in: int, earlier: Sequence[np.ndarray]) -> np.ndarray:
        return np.ones(fan_in)

    return rule


def power_law(exponent: float) -> RowCovariance:
    """C = diag(k^{−γ}), k = 1 … fan_in, normalised to trace fan_in (2402.13999 note, item B).

    Parameters
    ----------
    exponent
        γ ≥ 0; γ = 0 is isotropic.
    """
    if not np.isfinite(exponent) or exponent < 0:
        raise ValueError(f"power-law exponent must be >= 0, got {exponent!r}")

    def rule(fan_in: int, earlier: Sequence[np.ndarray]) -> np.ndarray:
        c = np.arange(1, fan_in + 1, dtype=float) ** (-exponent)
        return c * (fan_in / c.sum())

    return rule


def inverse_gram(shift: float = 0.5) -> RowCovariance:
    """C ∝ (W_{ℓ−1}W_{ℓ−1}ᵀ + shift·I)⁻¹, normalised to trace fan_in: a weight-dependent row
    covariance (the authors' random-features panel, ``C3 = inv(W1 W1ᵀ + 0.5 I)``).

    It needs an earlier layer, so it cannot be the first layer's rule.
    """
    if not np.isfinite(shift) or shift <= 0:
        raise ValueError(f"shift must be > 0, got {shift!r}")

    def rule(fan_in: int, earlier: Sequence[np.ndarray]) -> np.ndarray:
        if not earlier:
            raise ValueError("inverse_gram needs an earlier layer (it cannot be layer 1)")
        w_prev = earlier[-1]
        if w_prev.shape[0] != fan_in:
            raise ValueError(f"previous layer has {w_prev.shape[0]} rows, expected {fan_in}")
        c = np.linalg.inv(w_prev @ w_prev.T + shift * np.eye(fan_in))
        c = 0.5 * (c + c.T)
        return c * (fan_in / np.trace(c))

    return rule


def psd_sqrt(c: np.ndarray) -> np.ndarray:
    """Symmetric square root of a PSD matrix (eigenvalues clipped at 0)."""
    s, u = np.linalg.eigh(c)
    return (u * np.sqrt(np.clip(s, 0.0, None))) @ u.T


def draw_rainbow_weights(
    rng: np.random.Generator,
    dims: Sequence[int],
    covariances: Sequence[RowCovariance],
    scales: Sequence[float] | None = None,
) -> tuple[np.ndarray, ...]:
    """Draw W₁ … W_L of a rainbow network, layer by layer.

    W_ℓ = s_ℓ · Z_ℓ C_ℓ^{1/2} / √p_{ℓ−1} with Z_ℓ i.i.d. N(0, 1) of shape (p_ℓ, p_{ℓ−1}), so the
    rows are N(0, s_ℓ² C_ℓ/p_{ℓ−1}); C_ℓ = ``covariances[ℓ](p_{ℓ−1}, (W₁, …, W_{ℓ−1}))``.

    Parameters
    ----------
    rng
        Numpy generator; Z₁ is drawn first, then Z₂, ...
    dims
        (p₀ = d, p₁, …, p_L).
    covariances
        One row-covariance rule per layer (:func:`isotropic`, :func:`power_law`,
        :func:`inverse_gram` or any callable of that signature).
    scales
        s_ℓ (default 1) multiplying each weight matrix.

    Returns
    -------
    tuple of numpy arrays
        W_ℓ of shape (p_ℓ, p_{ℓ−1}).
    """
    n_layers = len(dims) - 1
    if n_layers < 1 or len(covariances) != n_layers:
        raise ValueError("need len(covariances) == len(dims) - 1 >= 1")
    scales = [1.0] * n_layers if scales is None else list(scales)
    if len(scales) != n_layers:
        raise ValueError("need one scale per layer")
    weights: list[np.ndarray] = []
    for fan_in, fan_out, rule, scale in zip(dims[:-1], dims[1:], covariances, scales, strict=True):
        z = rng.standard_normal((fan_out, fan_in))
        c = np.asarray(rule(fan_in, tuple(weights)), dtype=float)
        root = np.sqrt(c) if c.ndim == 1 else psd_sqrt(c)
        w = z * root if c.ndim == 1 else z @ root
        weights.append(scale * w / np.sqrt(fan_in))
    return tuple(weights)


def rainbow_features(
    x: np.ndarray, weights: Sequence[np.ndarray], activations: Sequence
) -> np.ndarray:
    """Numpy forward pass φ(x) = h_L, h_ℓ = σ_ℓ(W_ℓ h_{ℓ−1}), for inputs x of shape (n, d)."""
    h = np.asarray(x, dtype=float)
    for w, act in zip(weights, activations, strict=True):
        h = parse_activation(act)(h @ w.T)
    return h


def torch_features(
    x: torch.Tensor, weights: Sequence[torch.Tensor], activations: Sequence[str]
) -> torch.Tensor:
    """Torch forward pass φ(x) = h_L (same convention as :func:`rainbow_features`)."""
    from theorylab.models.activations import torch_activation

    h = x
    for w, act in zip(weights, activations, strict=True):
        h = torch_activation(act)(h @ w.T)
    return h


@dataclass(frozen=True)
class GradientDescent:
    """Full-batch gradient descent on ½·mean (y − f(x))², f(x) = a·φ(x)/√p_L.

    Attributes
    ----------
    steps : number of full-batch steps.
    learning_rate : step size η (the same for every layer and for the readout a).
    """

    steps: int = 300
    learning_rate: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.steps, int) or self.steps < 0:
            raise ValueError(f"steps must be an integer >= 0, got {self.steps!r}")
        if not np.isfinite(self.learning_rate) or self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}")


@dataclass(frozen=True)
class TrainedNetwork:
    """Weights after training, the readout a, and the training loss before each step."""

    weights: tuple[torch.Tensor, ...]
    readout: torch.Tensor
    losses: np.ndarray

    def numpy_weights(self) -> tuple[np.ndarray, ...]:
        """The hidden weights as float64 numpy arrays (for the closed-form recursion)."""
        return tuple(w.detach().cpu().double().numpy() for w in self.weights)


def train_network(
    x: torch.Tensor,
    y: torch.Tensor,
    weights: Sequence[torch.Tensor],
    activations: Sequence[str],
    settings: GradientDescent,
) -> TrainedNetwork:
    """Train hidden layers and readout of f(x) = a·φ(x)/√p_L by full-batch gradient descent.

    The readout starts at a = 0, so the first step only moves a and the features start moving
    once the readout has picked up the target (no random output at initialisation).

    Parameters
    ----------
    x, y
        Training inputs (n, d) and labels (n,).
    weights
        Initial hidden weights W₁ … W_L (copied, not modified).
    activations
        One activation spec per hidden layer.
    settings
        Number of steps and learning rate.

    Returns
    -------
    TrainedNetwork
        Detached trained weights, readout and the loss ½·mean (y − f)² before every step (and
        after the last), length ``steps + 1``.
    """
    import torch

    params = [w.detach().clone().requires_grad_(True) for w in weights]
    width = params[-1].shape[0]
    readout = torch.zeros(width, dtype=x.dtype, device=x.device, requires_grad=True)
    everything = [*params, readout]
    losses = np.empty(settings.steps + 1)
    for step in range(settings.steps + 1):
        out = torch_features(x, params, activations) @ readout / width**0.5
        loss = 0.5 * ((y - out) ** 2).mean()
        losses[step] = float(loss.detach())
        if step == settings.steps:
            break
        grads = torch.autograd.grad(loss, everything)
        with torch.no_grad():
            for p, g in zip(everything, grads, strict=True):
                p -= settings.learning_rate * g
    return TrainedNetwork(
        tuple(p.detach() for p in params), readout.detach(), np.asarray(losses, dtype=float)
    )
