"""Teacher moments, closed-form and held-out moments of rainbow features (theory/rainbow.py)."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.models.rainbow import (
    draw_rainbow_weights,
    draw_teacher,
    inverse_gram,
    power_law,
    rainbow_features,
)
from theorylab.theory.feature_covariance import empirical_moments
from theorylab.theory.rainbow import (
    closed_form_moments,
    held_out_moments,
    learning_curve,
    setting_moments,
    teacher_moments,
)
from theorylab.theory.ridge import ridge_test_error


def _teacher(d=30, width=20, seed=0):
    return draw_teacher(np.random.default_rng(seed), d, width, "tanh", 0.1)


def test_teacher_moments_against_monte_carlo():
    """ψ₀ = E[x y] (exact by Stein's lemma) and E y² against 200 000 samples."""
    t = _teacher()
    psi0, power = teacher_moments(t.weight, t.theta, t.activation, t.noise)
    rng = np.random.default_rng(9)
    x = rng.standard_normal((200_000, 30))
    y = t(x, rng)
    se = np.sqrt(np.mean(y**2) / len(y))  # sd of each entry of the estimate of ψ₀
    np.testing.assert_allclose(x.T @ y / len(y), psi0, atol=5 * se)
    se_power = np.std(y**2) / np.sqrt(len(y))
    assert power == pytest.approx(np.mean(y**2), abs=4 * se_power)


def test_linear_teacher_is_exact():
    """σ* = linear: ψ₀ = W*ᵀθ/√p*, E y² = θᵀW*W*ᵀθ/p* + noise² (no linearisation error)."""
    rng = np.random.default_rng(1)
    w, theta = rng.standard_normal((5, 8)) / np.sqrt(8), rng.standard_normal(5)
    psi0, power = teacher_moments(w, theta, "linear", 0.3)
    np.testing.assert_allclose(psi0, w.T @ theta / np.sqrt(5), rtol=1e-10)
    assert power == pytest.approx(theta @ w @ w.T @ theta / 5 + 0.09, rel=1e-10)


def test_closed_form_moments_of_a_linear_network():
    """Linear layers: Ω = W₂W₁W₁ᵀW₂ᵀ and ψ = W₂W₁ψ₀ exactly (κ1 = 1, κ* = 0)."""
    rng = np.random.default_rng(2)
    weights = draw_rainbow_weights(rng, [6, 9, 7], [power_law(0.4), inverse_gram(0.5)])
    psi0 = rng.standard_normal(6)
    mom, prop = closed_form_moments(weights, ["linear"] * 2, psi0, 2.0)
    w = weights[1] @ weights[0]
    np.testing.assert_allclose(mom.omega, w @ w.T, atol=1e-12)
    np.testing.assert_allclose(mom.psi, w @ psi0, atol=1e-12)
    assert mom.label_power == 2.0
    assert len(prop.constants) == 2


def test_held_out_moments_equal_empirical_moments_of_the_same_samples():
    """Block-wise accumulation = one-shot estimate on the same draws (two maps, one label set)."""
    t = _teacher(d=6, width=4)
    rng = np.random.default_rng(3)
    nets = [draw_rainbow_weights(rng, [6, 5, 4], [power_law(0.0)] * 2) for _ in range(2)]
    maps = [lambda x, w=w: rainbow_features(x, w, ["tanh"] * 2) for w in nets]
    got = held_out_moments(np.random.default_rng(4), 250, 6, t, maps, chunk=100)
    # Replay the same stream: blocks of 100, 100, 50, each x then the label noise.
    replay = np.random.default_rng(4)
    xs, ys = [], []
    for size in (100, 100, 50):
        x = replay.standard_normal((size, 6))
        xs.append(x)
        ys.append(t(x, replay))
    x, y = np.vstack(xs), np.concatenate(ys)
    for mom, fmap in zip(got, maps, strict=True):
        want = empirical_moments(fmap(x), y, center=False)
        np.testing.assert_allclose(mom.omega, want.omega, rtol=1e-12)
        np.testing.assert_allclose(mom.psi, want.psi, rtol=1e-12)
        assert mom.label_power == pytest.approx(want.label_power, rel=1e-12)


def test_held_out_moments_flag_non_finite_features():
    t = _teacher(d=4, width=3)
    maps = [lambda x: np.tanh(x), lambda x: np.full_like(x, np.nan)]
    good, bad = held_out_moments(np.random.default_rng(0), 50, 4, t, maps)
    assert good is not None and bad is None


def test_setting_moments_assembles_the_routes():
    """Closed forms (per-neuron, layer-mean) of the rainbow net, held-out estimates of both nets
    on the same samples, per-neuron recursion on the trained net; NaN weights → None."""
    rng = np.random.default_rng(7)
    t = draw_teacher(rng, 8, 5, "tanh", 0.1)
    rules = [power_law(0.4), inverse_gram(0.5)]
    weights = draw_rainbow_weights(rng, [8, 9, 7], rules)
    trained = draw_rainbow_weights(rng, [8, 6, 6], rules)
    teacher = (t.weight, t.theta, t.activation, t.noise)
    mom = setting_moments(weights, trained, trained, "tanh", teacher, t, rng, 300, chunk=128)
    psi0, power = teacher_moments(*teacher)
    per_neuron, _ = closed_form_moments(weights, ["tanh"] * 2, psi0, power, variance="per_neuron")
    np.testing.assert_allclose(mom.closed.omega, per_neuron.omega)
    np.testing.assert_allclose(mom.trace.omega, mom.propagation.omega)
    assert mom.empirical.dim == 7 and mom.trained.dim == 6
    assert mom.empirical.label_power == mom.trained.label_power  # the same held-out labels
    lin, _ = closed_form_moments(trained, ["tanh"] * 2, psi0, power, variance="per_neuron")
    np.testing.assert_allclose(mom.trained_lin.omega, lin.omega)
    np.testing.assert_allclose(
        mom.trained_init.omega, closed_form_moments(trained, ["tanh"] * 2, psi0, power)[0].omega
    )
    broken = [np.full_like(w, np.nan) for w in trained]
    bad = setting_moments(weights, broken, trained, "tanh", teacher, t, rng, 50)
    assert bad.trained is None and bad.trained_lin is None


def test_learning_curve_grid_and_missing_moments():
    rng = np.random.default_rng(8)
    a = rng.standard_normal((6, 6))
    mom = closed_form_moments([a / 3], ["tanh"], rng.standard_normal(6) * 0.1, 2.0)[0]
    eg, status = learning_curve(mom, [5, 20], [0.1, 1.0, 10.0])
    assert eg.shape == (3, 2) and status.converged
    want, _ = ridge_test_error(mom, 20.0, 1.0)
    assert eg[1, 1] == pytest.approx(float(want))
    nan, status = learning_curve(None, [5, 20], [0.1])
    assert nan.shape == (1, 2) and np.all(np.isnan(nan)) and not status.converged
