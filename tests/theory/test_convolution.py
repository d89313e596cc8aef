"""Linear circular CNNs in the Fourier domain (arXiv 2402.08010): Parseval, the minimal-norm
formula against balanced factorisations, both normalisation conventions, the per-mode problem."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.theory.convolution import (
    cbn_rank,
    cnn_jacobian_bound,
    cnn_min_norm,
    filter_spectra,
    frequency_singular_values,
    mode_minima,
    mode_penalty,
    product_spectra,
)
from theorylab.theory.representation_cost import balanced_factors


def circulant(w: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Dense operator of z[t] = Σ_k w[k] h[t + k mod n], (c_out n) × (c_in n)."""
    c_out, c_in, n = w.shape
    t = np.arange(n)
    idx = (t[None, :] - t[:, None]) % n  # [t, s] -> s − t
    return scale * w[:, :, idx].transpose(0, 2, 1, 3).reshape(c_out * n, c_in * n)


def test_cross_correlation_is_diagonal_in_frequency():
    rng = np.random.default_rng(0)
    w, h = rng.normal(size=(2, 3, 6)), rng.normal(size=(3, 6))
    z = (circulant(w) @ h.ravel()).reshape(2, 6)
    w_hat = filter_spectra(w)  # (n, c_out, c_in)
    np.testing.assert_allclose(np.fft.fft(z, axis=-1).T, np.einsum("moi,im->mo", w_hat,
                               np.fft.fft(h, axis=-1)), atol=1e-12)  # fmt: skip


def test_parseval_and_operator_norm():
    w = np.random.default_rng(1).normal(size=(3, 2, 8))
    w_hat = filter_spectra(w)
    assert np.sum(np.abs(w_hat) ** 2) / 8 == pytest.approx(np.sum(w**2))
    assert np.sum(circulant(w) ** 2) == pytest.approx(8 * np.sum(w**2))


@pytest.mark.parametrize("convention", ["plain", "scaled"])
@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_min_norm_attained_by_per_frequency_balanced_factors(convention, depth):
    """Factor each Â(m) in balanced form (conjugate-symmetric), go back to real filters: their
    norm equals cnn_min_norm, and any other factorisation (random) costs more."""
    rng = np.random.default_rng(depth)
    n, c = 6, 2
    a = rng.normal(size=(c, c, n))
    a_hat = filter_spectra(a, convention)
    scale = 1.0 if convention == "plain" else n**-0.5
    layers = [np.zeros((n, c, c), complex) for _ in range(depth)]
    for m in range(n // 2 + 1):
        u, s, vh = np.linalg.svd(a_hat[m])
        root = s ** (1.0 / depth)
        for ell in range(depth):
            left = u if ell == depth - 1 else np.eye(c)
            right = vh if ell == 0 else np.eye(c)
            layers[ell][m] = left @ np.diag(root) @ right
            layers[ell][(n - m) % n] = np.conj(layers[ell][m])
    filters = [np.real(np.fft.ifft(np.conj(np.moveaxis(f, 0, -1)) / scale, axis=-1))
               for f in layers]  # fmt: skip
    np.testing.assert_allclose(product_spectra(filters, convention), a_hat, atol=1e-10)
    norm2 = sum(np.sum(f**2) for f in filters)
    assert norm2 == pytest.approx(cnn_min_norm(a, depth, convention=convention), rel=1e-10)
    if depth == 1:
        assert norm2 == pytest.approx(np.sum(a**2))  # Parseval: L = 1 is ‖a‖² in both
    else:  # an unbalanced factorisation of the same filter costs more
        unbalanced = [filters[0] * 2.0, filters[1] / 2.0, *filters[2:]]
        assert sum(np.sum(f**2) for f in unbalanced) > norm2


def test_conventions_differ_by_n_and_cbn_rank():
    rng = np.random.default_rng(3)
    n = 8
    a = rng.normal(size=(2, 2, n))
    # scaled spectra are plain/√n: R_scaled(a) = L Σ (s/√n)^{2/L} vs R_plain = (L/n) Σ s^{2/L}
    s = frequency_singular_values(filter_spectra(a))
    scaled = 3 * np.sum((s / n**0.5) ** (2 / 3))
    assert cnn_min_norm(a, 3, convention="scaled") == pytest.approx(scaled)
    assert cnn_min_norm(a, 3) == pytest.approx(3 / n * np.sum(s ** (2 / 3)))
    # a filter living on frequency 0 only, rank 1: CBN rank 1; R/L → 1/n as L grows
    flat = np.ones((2, 2, n)) / n
    assert cbn_rank(filter_spectra(flat)) == 1
    assert cnn_min_norm(flat, 400) / 400 == pytest.approx(1 / n, rel=2e-2)
    with pytest.raises(ValueError, match="convention"):
        cnn_min_norm(a, 2, convention="unitary")


def test_mode_minima_closed_forms_and_stationarity():
    s_star = np.array([0.01, 0.05, 0.3, 1.0, 2.5])
    m1 = mode_minima(s_star, 0.2, 1)
    np.testing.assert_allclose(m1.global_, s_star / 1.2)
    m2 = mode_minima(s_star, 0.2, 2)
    np.testing.assert_allclose(m2.global_, np.maximum(s_star - 0.2, 0.0))
    for depth in (3, 4, 6, 10):
        m = mode_minima(s_star, 0.05, depth)
        s = m.local[m.exists]
        # stationarity s − s* + κ s^{2/L−1} = 0 and a minimum (g'' > 0)
        np.testing.assert_allclose(s - s_star[m.exists] + 0.05 * s ** (2 / depth - 1), 0,
                                   atol=1e-12)  # fmt: skip
        assert np.all(1 + 0.05 * (2 / depth - 1) * s ** (2 / depth - 2) > 0)
        # the global minimum by brute force on a grid
        grid = np.linspace(0, 3, 30001)
        g = (grid[None] - s_star[:, None]) ** 2 + 0.05 * depth * grid[None] ** (2 / depth)
        np.testing.assert_allclose(m.global_, grid[np.argmin(g, axis=1)], atol=2e-4)


def test_mode_minima_thresholds_grow_with_depth():
    """Deeper nets drop more modes (the CBN rank decreases with L at fixed λ)."""
    s_star = np.linspace(0.01, 1.0, 200)
    kept = [int(mode_minima(s_star, 0.05, d).kept.sum()) for d in (2, 3, 4, 6, 10)]
    assert kept == sorted(kept, reverse=True) and kept[0] > kept[-1]
    assert mode_penalty(0.05, 8, "plain") == 0.05 and mode_penalty(0.05, 8, "scaled") == 0.4


def test_jacobian_bound_holds_for_linear_cnns():
    """‖θ‖² ≥ (kL/n) |J|_{+,k}^{2/(kL)} with J the dense operator of the whole linear CNN."""
    rng = np.random.default_rng(4)
    n, depth = 6, 3
    filters = [rng.normal(size=(2, 2, n)) for _ in range(depth)]
    j = np.eye(2 * n)
    for f in filters:
        j = circulant(f) @ j
    s = np.linalg.svd(j, compute_uv=False)
    norm2 = sum(np.sum(f**2) for f in filters)
    for k in (1, 3, 2 * n):
        assert cnn_jacobian_bound(s, depth, k, n) <= norm2 * (1 + 1e-12)
    # attained (equality) for the balanced minimal factorisation of a multiple of the identity
    ident = np.zeros((1, 1, n))
    ident[0, 0, 0] = 2.0
    bal = [ident ** (1 / depth) for _ in range(depth)]
    s_id = np.full(n, 2.0)
    assert cnn_jacobian_bound(s_id, depth, n, n) == pytest.approx(sum(np.sum(b**2) for b in bal))


def test_balanced_factors_reference():
    """The per-frequency cost is the deep-linear Schatten cost (2209.15055): n = 1 reduces to it."""
    a = np.random.default_rng(5).normal(size=(3, 3, 1))
    fac = balanced_factors(a[:, :, 0], 4)
    assert sum(np.sum(f**2) for f in fac) == pytest.approx(cnn_min_norm(a, 4))
