"""Bias-free 1-D circular CNNs with full-length kernels, batched over independent networks.

A network is the list of its filters ``filters[ℓ]`` of shape ``(batch, c_ℓ, c_{ℓ−1}, n_ℓ)``
(taps last); signals are ``(batch, N, c, n)`` (or ``(N, c, n)``, shared by the batch). A layer is
the circular cross-correlation z[t] = s Σ_k w[k] h[t + k mod n] (PyTorch ``conv1d`` on a
circularly padded input) — in the Fourier domain ẑ(m) = s·conj(ŵ(m)) ĥ(m) — with
s = 1 (plain filters) or n^{−1/2} (the "scaled" convention of
:mod:`theorylab.theory.convolution`). When the next filter has fewer taps than the signal has
positions, the signal is down-sampled (every stride-th position); when it has more, it is
up-sampled by repetition (nearest neighbour): a network with ``n_ℓ = (n, n, n/2, n/2, n, n)``
down-samples after layer 2 and up-samples before layer 5.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

__all__ = [
    "circulant",
    "circular_layer",
    "cnn_forward",
    "cnn_preactivations",
    "init_filters",
    "product_spectra",
    "resample",
    "spectra",
]

Activation = Callable[[torch.Tensor], torch.Tensor]


def _scale(n: int, convention: str) -> float:
    if convention not in ("plain", "scaled"):
        raise ValueError(f"convention must be 'plain' or 'scaled', got {convention!r}")
    return 1.0 if convention == "plain" else n**-0.5


def init_filters(
    channels: Sequence[int],
    taps: int | Sequence[int],
    *,
    batch: int = 1,
    generator: torch.Generator,
    gain: float = 1.0,
    delta: float = 0.0,
    dtype: torch.dtype = torch.float64,
) -> list[torch.Tensor]:
    """Filters ``w_ℓ = delta·E_ℓ δ_{k,0} + N(0, gain²/(c_{ℓ−1} n_ℓ))`` per tap, leaf tensors with
    ``requires_grad``.

    E_ℓ is the c_ℓ × c_{ℓ−1} identity (truncated or zero-padded), so with ``delta = 1`` and a
    small ``gain`` every Ŵ_ℓ(m) starts near the same partial isometry and every per-frequency
    singular value of a linear CNN (through hidden widths ≥ its channels) starts near 1; with
    ``delta = 0`` the per-frequency singular values are O(gain) (random).
    """
    taps = [taps] * (len(channels) - 1) if isinstance(taps, int) else list(taps)
    if len(taps) != len(channels) - 1:
        raise ValueError("one tap count per layer")
    out = []
    for c_in, c_out, n in zip(channels[:-1], channels[1:], taps, strict=True):
        std = gain / (c_in * n) ** 0.5
        w = torch.randn(batch, c_out, c_in, n, generator=generator, dtype=dtype) * std
        w[..., 0] += delta * torch.eye(c_out, c_in, dtype=dtype)
        out.append(w.requires_grad_())
    return out


def resample(h: torch.Tensor, n: int) -> torch.Tensor:
    """Signals ``(..., c, n_h)`` to ``n`` positions: every (n_h/n)-th position, or each position
    repeated n/n_h times."""
    n_h = h.shape[-1]
    if n == n_h:
        return h
    if n_h % n == 0:
        return h[..., :: n_h // n]
    if n % n_h == 0:
        return h.repeat_interleave(n // n_h, dim=-1)
    raise ValueError(f"cannot resample {n_h} positions to {n}")


def circulant(w: torch.Tensor, convention: str = "plain") -> torch.Tensor:
    """The layer as a matrix: (B, c_out, c_in, n) → (B, c_out·n, c_in·n) with
    T[(o, t), (i, s)] = s_conv · w[o, i, (s − t) mod n] (so that ‖T‖_F² = n‖w‖² plain)."""
    n = w.shape[-1]
    t = torch.arange(n, device=w.device)
    idx = (t[None, :] - t[:, None]) % n  # idx[t, s] = (s − t) mod n
    full = w[..., idx]  # (B, o, i, t, s)
    b, o, i = w.shape[:3]
    return full.permute(0, 1, 3, 2, 4).reshape(b, o * n, i * n) * _scale(n, convention)


def circular_layer(h: torch.Tensor, w: torch.Tensor, convention: str = "plain") -> torch.Tensor:
    """z[t] = s Σ_k w[k] h[t + k mod n]: ``h`` (B, N, c_in, n) or (N, c_in, n), ``w``
    (B, c_out, c_in, n) → (B, N, c_out, n). One matrix product with :func:`circulant` (for the
    small n of these experiments it is faster than FFTs)."""
    n = w.shape[-1]
    h = resample(h, n)
    mat = circulant(w, convention)
    flat = h.reshape(*h.shape[:-2], -1)
    if flat.dim() == 2:
        z = torch.einsum("nk,bjk->bnj", flat, mat)
    else:
        z = torch.bmm(flat, mat.transpose(1, 2))
    return z.reshape(*z.shape[:2], w.shape[1], n)


def cnn_preactivations(
    filters: Sequence[torch.Tensor],
    x: torch.Tensor,
    activation: Activation = torch.relu,
    convention: str = "plain",
) -> list[torch.Tensor]:
    """Pre-activations ``[z_1, …, z_L]`` (z_L is the output), each (B, N, c_ℓ, n_ℓ)."""
    zs = []
    h = x
    for i, w in enumerate(filters):
        z = circular_layer(h, w, convention)
        zs.append(z)
        h = activation(z) if i < len(filters) - 1 else z
    return zs


def cnn_forward(
    filters: Sequence[torch.Tensor],
    x: torch.Tensor,
    activation: Activation = torch.relu,
    convention: str = "plain",
) -> torch.Tensor:
    """Output of the networks, (B, N, c_L, n_L)."""
    return cnn_preactivations(filters, x, activation, convention)[-1]


def spectra(w: torch.Tensor, convention: str = "plain") -> torch.Tensor:
    """Ŵ(m) = s·conj(ŵ(m)) for m = 0 … n − 1: (B, c_out, c_in, n) → (B, n, c_out, c_in)."""
    n = w.shape[-1]
    return (torch.fft.fft(w, dim=-1).conj() * _scale(n, convention)).permute(0, 3, 1, 2)


def product_spectra(filters: Sequence[torch.Tensor], convention: str = "plain") -> torch.Tensor:
    """Â_θ(m) = Ŵ_L(m) ⋯ Ŵ_1(m) of linear CNNs with equal tap counts, (B, n, c_L, c_0)."""
    out = spectra(filters[0], convention)
    for w in filters[1:]:
        out = spectra(w, convention) @ out
    return out
