"""Neural-collapse metrics on constructed features with known answers."""

import numpy as np
import pytest

from theorylab.measure.collapse import (
    balance_gap,
    class_means,
    decay_rate,
    nc1,
    nc2_condition,
    nc3_alignment,
    negativity,
    pair_balancedness,
)


def _collapsed(k=3, n=5, p=6, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    means = np.eye(k, p) * np.arange(1, k + 1)[:, None]
    labels = np.repeat(np.arange(k), n)
    return means[labels] + noise * rng.standard_normal((k * n, p)), labels, means


def test_class_means_and_perfect_collapse():
    z, labels, means = _collapsed()
    assert np.allclose(class_means(z, labels), means)
    assert nc1(z, labels) == 0.0
    assert nc2_condition(z, labels) == pytest.approx(3.0)  # s_1/s_K of diag(1, 2, 3)


def test_nc1_is_within_over_between_trace():
    z = np.array([[0.0], [2.0], [10.0], [12.0]])
    labels = np.array([0, 0, 1, 1])
    # Σ_W: each point 1 from its mean → tr = 1; Σ_B: means 1, 11 around 6 → tr = 25
    assert nc1(z, labels) == pytest.approx(1 / 25)


def test_orthogonal_frame_has_condition_one_and_nc3_alignment():
    z, labels, _ = _collapsed(noise=0.0)
    z = z / np.linalg.norm(z, axis=1, keepdims=True)  # equal-norm orthogonal class means
    assert nc2_condition(z, labels) == pytest.approx(1.0)
    assert nc3_alignment(class_means(z, labels) * 2.0, z, labels) == pytest.approx(1.0)
    assert nc3_alignment(-class_means(z, labels), z, labels) == pytest.approx(-1.0)


def test_balancedness_zero_for_a_balanced_pair():
    rng = np.random.default_rng(1)
    u, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    v, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    s = np.diag([3.0, 2.0, 1.0, 0.5])
    lower = u @ s  # W_ℓ W_ℓᵀ = U S² Uᵀ
    upper = v @ s @ u.T  # W_{ℓ+1}ᵀ W_{ℓ+1} = U S² Uᵀ
    assert balance_gap(lower, upper) == pytest.approx(0.0, abs=1e-12)
    assert pair_balancedness(lower, 2 * upper) == pytest.approx(3.0)


def test_negativity_and_decay_rate():
    assert negativity(np.abs(np.random.default_rng(2).standard_normal((5, 3)))) == 0.0
    assert negativity(-np.eye(3)) == pytest.approx(1.0)
    t = np.arange(0, 100, 10)
    assert decay_rate(3.0 * np.exp(-0.01 * t), t) == pytest.approx(0.01)
    with pytest.raises(ValueError):
        decay_rate([1.0, -1.0])
    assert nc2_condition(np.ones((4, 2)), np.array([0, 0, 1, 1])) > 1e12  # equal means
