"""Fourier measurements of circular CNNs: which (frequency, channel) pairs carry the weights
and the activations (arXiv 2402.08010, the Convolution Bottleneck structure).

Filters are ``(c_out, c_in, n)`` (taps last, :mod:`theorylab.models.circular_cnn`), signals
``(N, c, n)``. With the unnormalised DFT a layer is ẑ(m) = Ŵ(m) ĥ(m) per frequency m
(:mod:`theorylab.theory.convolution`), so

* the weights of layer ℓ keep the pairs (m, i) with s_i(Ŵ_ℓ(m)) large;
* the activations keep the pairs (m, i) with s_i of the N × c matrix [ẑ_ℓ(x_1)(m); …] large:
  the energy Σ_x ‖ẑ_ℓ(x)(m)‖² at frequency m splits into the squared singular values of that
  matrix, one per channel direction.
"""

from __future__ import annotations

import numpy as np

from theorylab.measure.spectra import to_numpy
from theorylab.theory.convolution import filter_spectra

__all__ = ["frequency_energy", "pair_energies", "significant_pairs", "top_pair_share"]


def significant_pairs(w, rtol: float) -> int:
    """Number of (m, i) with s_i(Ŵ(m)) > rtol · max_{m, i} s_i(Ŵ(m)) for one filter
    ``(c_out, c_in, n)`` (0 for a zero filter)."""
    if not 0.0 <= rtol <= 1.0:
        raise ValueError(f"rtol must be in [0, 1], got {rtol}")
    s = np.linalg.svd(filter_spectra(to_numpy(w)), compute_uv=False)
    top = float(np.max(s)) if s.size else 0.0
    return int(np.sum(s > rtol * top)) if top > 0 else 0


def _spectrum(z) -> np.ndarray:
    z = to_numpy(z)
    if z.ndim != 3:
        raise ValueError(f"signals have shape (N, c, n), got {z.shape}")
    return np.fft.fft(z, axis=-1)


def frequency_energy(z) -> np.ndarray:
    """Σ_x Σ_c |ẑ(x)_c(m)|² per frequency m = 0 … n − 1 (shape (n,)); by Parseval its sum is
    n Σ_x ‖z(x)‖²."""
    return np.sum(np.abs(_spectrum(z)) ** 2, axis=(0, 1))


def pair_energies(z) -> np.ndarray:
    """Energies of the (m, i) pairs: squared singular values of the N × c matrices
    [ẑ(x)(m)]_x, shape (n, min(N, c)); per frequency they sum to :func:`frequency_energy`."""
    zh = np.moveaxis(_spectrum(z), -1, 0)  # (n, N, c)
    return np.linalg.svd(zh, compute_uv=False) ** 2


def top_pair_share(z, k: int) -> float:
    """Share of the activation energy carried by the k most energetic (m, i) pairs (1 for
    k ≥ the number of pairs; NaN for zero signals)."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    e = np.sort(pair_energies(z).ravel())[::-1]
    total = float(e.sum())
    return float(e[:k].sum() / total) if total > 0 else float("nan")
