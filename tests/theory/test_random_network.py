"""Layer recursion of deep random networks and their equivalent noisy linear model."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.theory.random_network import layer_coefficients, linear_equivalent


def test_reference_values_tanh2x_two_layers():
    # arXiv 2302.00375, authors' Multilayer_BO notebook (tanh(2x), L = 2, unit variances):
    # K = κ1⁽¹⁾²κ1⁽²⁾² = 0.409095, ε_eff = κ*⁽¹⁾²κ1⁽²⁾² + κ*⁽²⁾² = 0.152506, ρ_y = 0.561601.
    layers = layer_coefficients(["tanh(2x)"] * 2, [1.0, 1.0])
    assert layers[1].variance == pytest.approx(0.635261, abs=1e-6)
    eq = linear_equivalent(layers, [1.0, 1.0], 1.0)
    assert eq.signal == pytest.approx(0.409095, abs=1e-6)
    assert eq.noise == pytest.approx(0.152506, abs=1e-6)
    assert eq.power == pytest.approx(0.561601, abs=1e-6)


@pytest.mark.parametrize("act", ["tanh", "erf(0.7x)", "sign", "tanh(2x)", "cube"])
@pytest.mark.parametrize("depth", [1, 2, 4])
def test_signal_plus_noise_is_output_power(act, depth):
    variances = [1.3, 0.8, 1.1, 0.9][:depth]
    layers = layer_coefficients([act] * depth, variances, input_variance=0.7)
    eq = linear_equivalent(layers, variances, readout_variance=1.7, input_variance=0.7)
    assert eq.power == pytest.approx(1.7 * layers[-1].second_moment, rel=1e-10)


def test_linear_network_is_noiseless():
    layers = layer_coefficients(["linear"] * 3, [2.0, 0.5, 3.0])
    eq = linear_equivalent(layers, [2.0, 0.5, 3.0], 1.5)
    assert eq.noise == pytest.approx(0.0, abs=1e-12)
    assert eq.signal == pytest.approx(1.5 * 2.0 * 0.5 * 3.0)


def test_monte_carlo_output_power():
    # E f² over networks and inputs, by direct simulation in numpy (d = 400, 6 networks).
    rng = np.random.default_rng(1)
    d, k = 400, 500
    powers = []
    for _ in range(6):
        w1 = rng.standard_normal((k, d))
        w2 = rng.standard_normal((k, k))
        a = rng.standard_normal(k)
        x = rng.standard_normal((2000, d))
        h = np.tanh(2 * np.tanh(2 * x @ w1.T / np.sqrt(d)) @ w2.T / np.sqrt(k))
        powers.append(np.mean((h @ a / np.sqrt(k)) ** 2))
    eq = linear_equivalent(layer_coefficients(["tanh(2x)"] * 2, [1, 1]), [1, 1], 1.0)
    sem = np.std(powers, ddof=1) / np.sqrt(len(powers))
    assert abs(np.mean(powers) - eq.power) < 4 * sem + 0.01


def test_nonzero_mean_activation_is_refused():
    layers = layer_coefficients(["relu"], [1.0])
    with pytest.raises(ValueError, match="non-zero mean"):
        linear_equivalent(layers, [1.0])
    with pytest.raises(ValueError, match="same length"):
        layer_coefficients(["tanh"], [1.0, 1.0])
