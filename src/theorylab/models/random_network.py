"""Deep fully connected networks with frozen i.i.d. Gaussian weights (targets and features).

h₁ = W₁x/√d, h_{ℓ+1} = W_{ℓ+1} φ(h_ℓ)/√k_ℓ, f(x) = a·φ(h_L)/√k_L, W_ℓ ~ N(0, Δ_ℓ) entries,
a ~ N(0, Δ_a) — the convention of arXiv 2302.00375 (and of :mod:`theorylab.theory.random_network`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from theorylab.models.activations import torch_activation

__all__ = ["RandomNetwork", "deep_features", "draw_random_network"]


@dataclass(frozen=True)
class RandomNetwork:
    """Frozen weights and activations of a random deep network."""

    weights: tuple[torch.Tensor, ...]  # W_ℓ of shape (k_ℓ, k_{ℓ-1})
    readout: torch.Tensor  # a of shape (k_L,)
    activations: tuple[str, ...]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Last hidden post-activations φ(h_L), shape (n, k_L)."""
        h = x
        for w, act in zip(self.weights, self.activations, strict=True):
            h = torch_activation(act)(h @ w.T / w.shape[1] ** 0.5)
        return h

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Network output f(x), shape (n,)."""
        phi = self.features(x)
        return phi @ self.readout / phi.shape[1] ** 0.5


def draw_random_network(
    d: int,
    widths: Sequence[int],
    activations: Sequence[str],
    weight_variances: Sequence[float],
    readout_variance: float,
    generator: torch.Generator,
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> RandomNetwork:
    """Draw a random network (on the CPU with ``generator``, then moved to ``device``)."""
    dims = [d, *widths]
    weights = tuple(
        (var**0.5 * torch.randn(k_out, k_in, generator=generator, dtype=dtype)).to(device)
        for k_in, k_out, var in zip(dims[:-1], dims[1:], weight_variances, strict=True)
    )
    readout = (readout_variance**0.5 * torch.randn(dims[-1], generator=generator, dtype=dtype)).to(
        device
    )
    return RandomNetwork(weights, readout, tuple(activations))


def deep_features(
    x: torch.Tensor,
    weights: Sequence[torch.Tensor],
    activations: Sequence[str],
    depths: Sequence[int] | None = None,
) -> dict[int, torch.Tensor]:
    """Post-activations h_ℓ = σ_ℓ(W_ℓ h_{ℓ−1}), h_0 = x, of a network with given weights.

    No scaling is applied: the weights carry it (e.g. W_ℓ with N(0, 1/k_{ℓ−1}) entries, the
    convention of arXiv 2302.00401 and :func:`theorylab.theory.feature_covariance.propagate`).

    Parameters
    ----------
    x
        Inputs, shape (n, d).
    weights
        W_1 … W_L, W_ℓ of shape (k_ℓ, k_{ℓ−1}).
    activations
        Activation spec of each layer.
    depths
        The layers ℓ ∈ {1, …, L} whose features are returned (default: only L). One forward
        pass serves all of them.

    Returns
    -------
    dict[int, torch.Tensor]
        h_ℓ (shape (n, k_ℓ)) for each requested ℓ.
    """
    if len(weights) != len(activations) or len(weights) == 0:
        raise ValueError("weights and activations must be non-empty and of the same length")
    wanted = {len(weights)} if depths is None else set(depths)
    if not wanted or min(wanted) < 1 or max(wanted) > len(weights):
        raise ValueError(f"depths must lie in 1..{len(weights)}, got {sorted(wanted)}")
    out: dict[int, torch.Tensor] = {}
    h = x
    for ell, (w, act) in enumerate(zip(weights, activations, strict=True), start=1):
        if ell > max(wanted):
            break
        h = torch_activation(act)(h @ w.T)
        if ell in wanted:
            out[ell] = h
    return out
