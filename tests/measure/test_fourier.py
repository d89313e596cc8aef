"""Fourier measurements of CNN weights and activations (arXiv 2402.08010)."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.measure.fourier import (
    frequency_energy,
    pair_energies,
    significant_pairs,
    top_pair_share,
)


def test_significant_pairs_counts_frequency_channel_pairs():
    n = 8
    w = np.zeros((2, 2, n))
    w[:, :, :] = np.eye(2)[:, :, None] / n  # constant taps: only m = 0, rank 2
    assert significant_pairs(w, 0.1) == 2
    w2 = w.copy()
    w2[0, 0] += 0.5 * np.cos(2 * np.pi * np.arange(n) / n)  # adds m = ±1, one channel each
    assert significant_pairs(w2, 0.1) == 4
    assert significant_pairs(np.zeros((1, 1, n)), 0.1) == 0
    with pytest.raises(ValueError, match="rtol"):
        significant_pairs(w, 2.0)


def test_energies_parseval_and_top_share():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(20, 3, 8))
    e = frequency_energy(z)
    assert e.sum() == pytest.approx(8 * np.sum(z**2))
    np.testing.assert_allclose(pair_energies(z).sum(axis=1), e)
    assert top_pair_share(z, 24) == pytest.approx(1.0)
    # one channel direction at frequency 0 only: all energy in one pair
    flat = rng.normal(size=(20, 1, 1)) * np.ones((1, 3, 8)) * np.array([1.0, -2.0, 0.5])[:, None]
    assert top_pair_share(flat, 1) == pytest.approx(1.0)
    assert np.isnan(top_pair_share(np.zeros((2, 1, 4)), 1))
