"""Singular values, numerical/stable ranks and pseudo-determinants on matrices of known spectra."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from theorylab.measure.spectra import (
    RankReport,
    describe_threshold,
    log_pdet,
    numerical_rank,
    rank_report,
    singular_values,
    stable_rank,
    to_numpy,
)


def _orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _with_spectrum(rng, m: int, n: int, s: np.ndarray) -> np.ndarray:
    """U diag(s) Vᵀ with random orthogonal U (m×m), V (n×n); s has ≤ min(m, n) entries."""
    u, v = _orthogonal(rng, m), _orthogonal(rng, n)
    r = len(s)
    return (u[:, :r] * s) @ v[:, :r].T


def test_singular_values_of_matrices_with_known_spectrum():
    rng = np.random.default_rng(0)
    s = np.array([5.0, 2.0, 1.0, 0.3, 1e-3])
    a = _with_spectrum(rng, 9, 7, s)
    expected = np.concatenate([s, np.zeros(2)])
    np.testing.assert_allclose(singular_values(a), expected, rtol=1e-12, atol=1e-13)
    # torch input (float64 and float32) gives the same numbers
    np.testing.assert_allclose(singular_values(torch.from_numpy(a)), expected, atol=1e-13)
    np.testing.assert_allclose(
        singular_values(torch.from_numpy(a).float()), expected, rtol=1e-5, atol=1e-5
    )


def test_singular_values_batched_over_leading_dims():
    rng = np.random.default_rng(1)
    spectra = [np.array([3.0, 1.0, 0.5]), np.array([1.0, 1.0, 1.0]), np.array([2.0, 0.0, 0.0])]
    a = np.stack([_with_spectrum(rng, 4, 3, s) for s in spectra]).reshape(3, 1, 4, 3)
    got = singular_values(a)
    assert got.shape == (3, 1, 3)
    np.testing.assert_allclose(got[:, 0], np.stack(spectra), atol=1e-13)
    np.testing.assert_array_equal(numerical_rank(a, 1e-2), [[3], [3], [1]])
    with pytest.raises(ValueError, match="matrix"):
        singular_values(np.ones(3))


@pytest.mark.parametrize("k", [1, 2, 4])
def test_exact_rank_k_products(k):
    g = torch.Generator().manual_seed(k)
    b = torch.randn(12, k, generator=g, dtype=torch.float64)
    c = torch.randn(k, 9, generator=g, dtype=torch.float64)
    a = b @ c
    assert numerical_rank(a, 1e-10) == k
    assert numerical_rank(a.float(), 1e-4) == k
    # the (k+1)-th singular value is round-off
    assert singular_values(a)[k] < 1e-13 * singular_values(a)[0]
    batch = torch.stack([a, torch.zeros_like(a), b @ b.T[:, :9]])
    np.testing.assert_array_equal(numerical_rank(batch, 1e-10), [k, 0, k])


def test_numerical_rank_threshold_is_relative_strict_and_has_a_floor():
    s = np.array([1.0, 0.5, 0.02, 0.01, 0.005])
    assert numerical_rank(s, 1e-2) == 3  # 0.01 = 1e-2·s_1 is not counted (strict >)
    assert numerical_rank(s, 0.1) == 2
    assert numerical_rank(10 * s, 0.1) == 2  # scale invariant
    assert numerical_rank(s, 1e-2, atol=0.1) == 2  # atol wins when larger
    assert numerical_rank(s, 0.0) == 5
    assert numerical_rank(np.zeros(4), 0.0) == 0
    assert isinstance(numerical_rank(s, 0.1), int)
    # ascending input is sorted, batched spectra need the flag
    assert numerical_rank(s[::-1], 0.1) == 2
    np.testing.assert_array_equal(
        numerical_rank(np.stack([s, s / 1e3]), 0.1, from_singular_values=True), [2, 2]
    )
    with pytest.raises(ValueError, match="rtol"):
        numerical_rank(s, 2.0)
    with pytest.raises(ValueError, match=">= 0"):
        numerical_rank(-s, 0.1)


def test_stable_rank_known_values():
    n = 7
    assert stable_rank(np.eye(n)) == pytest.approx(n, rel=1e-14)
    rng = np.random.default_rng(2)
    u, v = rng.standard_normal(5), rng.standard_normal(8)
    assert stable_rank(np.outer(u, v)) == pytest.approx(1.0, rel=1e-12)
    s = np.array([2.0, 1.0, 1.0, 0.5])
    a = _with_spectrum(rng, 6, 4, s)
    expected = (4 + 1 + 1 + 0.25) / 4
    assert stable_rank(a) == pytest.approx(expected, rel=1e-12)
    assert stable_rank(s) == pytest.approx(expected, rel=1e-14)
    assert stable_rank(np.zeros((3, 3))) == 0.0
    assert stable_rank(a) <= numerical_rank(a, 0.0)
    np.testing.assert_allclose(stable_rank(np.stack([np.eye(3), np.diag([1.0, 0, 0])])), [3, 1])


def test_log_pdet_against_products_and_determinants():
    rng = np.random.default_rng(3)
    s = np.array([4.0, 2.0, 0.5, 0.1, 0.0, 0.0])
    for k in range(5):
        assert log_pdet(s, k) == pytest.approx(np.log(np.prod(s[:k])), abs=1e-14)
    assert log_pdet(s, 0) == 0.0
    # k from the rank threshold: 1e-2·s_1 = 0.04 keeps four values; the default keeps the
    # non-zero ones
    assert log_pdet(s, rtol=1e-2) == pytest.approx(np.log(4 * 2 * 0.5 * 0.1))
    assert log_pdet(s, rtol=0.1) == pytest.approx(np.log(4 * 2 * 0.5))
    a = _with_spectrum(rng, 8, 6, s[:4])
    assert log_pdet(singular_values(a)) == pytest.approx(np.log(4 * 2 * 0.5 * 0.1))
    # full-rank square matrix: log|A|_+ = log|det A|
    m = rng.standard_normal((5, 5))
    assert log_pdet(singular_values(m)) == pytest.approx(np.log(abs(np.linalg.det(m))), rel=1e-12)
    # batched spectra, with a per-row rank
    batch = np.stack([s, np.array([1.0, 1e-3, 0, 0, 0, 0])])
    np.testing.assert_allclose(
        log_pdet(batch, rtol=1e-2), [np.log(4 * 2 * 0.5 * 0.1), 0.0], atol=1e-14
    )
    np.testing.assert_allclose(log_pdet(batch, 2), [np.log(8.0), np.log(1e-3)])
    assert log_pdet(s, 5) == -np.inf
    with pytest.raises(ValueError, match="k must"):
        log_pdet(s, 7)
    with pytest.raises(ValueError, match="not both"):
        log_pdet(s, 2, rtol=0.1)


def test_rank_report_states_threshold_and_stable_rank():
    rng = np.random.default_rng(4)
    s = np.array([1.0, 0.3, 0.05, 0.004])
    a = torch.from_numpy(_with_spectrum(rng, 5, 4, s))
    report = rank_report(a, 1e-2)
    assert isinstance(report, RankReport)
    assert report.rank == 3
    assert report.threshold == "s_i > 1e-2·s_1"
    assert report.stable_rank == pytest.approx(np.sum(s**2), rel=1e-12)
    np.testing.assert_allclose(report.singular_values, s, atol=1e-14)
    assert str(report).startswith("rank 3 (s_i > 1e-2·s_1), stable rank 1.0")
    assert report.as_dict()["rank"] == 3
    assert rank_report(a, 0.1).threshold == "s_i > 0.1·s_1"
    assert rank_report(a, 0.1).rank == 2
    batched = rank_report(torch.stack([a, 2 * a]), 1e-2, atol=0.01)
    np.testing.assert_array_equal(batched.rank, [3, 3])
    assert batched.threshold == "s_i > max(1e-2·s_1, 1e-2)"


def test_describe_threshold_and_to_numpy():
    assert describe_threshold(1e-2) == "s_i > 1e-2·s_1"
    assert describe_threshold(2.5e-3) == "s_i > 2.5e-3·s_1"
    assert describe_threshold(0.1) == "s_i > 0.1·s_1"
    assert describe_threshold(1e-8, 1e-12) == "s_i > max(1e-8·s_1, 1e-12)"
    t = torch.ones(2, 2, requires_grad=True)
    arr = to_numpy(t * 3)
    assert arr.dtype == np.float64
    np.testing.assert_array_equal(arr, 3 * np.ones((2, 2)))
    assert to_numpy([1, 2]).dtype == np.float64


def test_bulk_below_outliers_drops_the_top_eigenvalues_above_the_largest_gap():
    from theorylab.measure.spectra import bulk_below_outliers

    ev = np.array([0.5, 1.0, 1.2, 10.0, 30.0])
    np.testing.assert_array_equal(bulk_below_outliers(ev, 1, 2.0), ev[:-1])
    np.testing.assert_array_equal(bulk_below_outliers(ev, 2, 2.0), ev[:-2])
    np.testing.assert_array_equal(bulk_below_outliers(ev[::-1], 4, 2.0), ev[:-2])
    np.testing.assert_array_equal(bulk_below_outliers(ev[:3], 2, 2.0), ev[:3])
    with pytest.raises(ValueError, match="gap"):
        bulk_below_outliers(ev, 1, 1.0)
