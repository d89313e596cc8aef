"""Rainbow-network weights (row covariances), teacher, forward passes, numpy gradient descent."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from theorylab.models.rainbow import (
    GradientDescent,
    activation_derivative,
    draw_rainbow_weights,
    draw_teacher,
    inverse_gram,
    isotropic,
    power_law,
    psd_sqrt,
    rainbow_features,
    sample_pool,
    torch_features,
    train_network,
)


def test_power_law_is_normalised_and_decreasing():
    c = power_law(0.4)(50, ())
    assert c.sum() == pytest.approx(50.0)
    assert np.all(np.diff(c) < 0)
    np.testing.assert_allclose(c[0] / c[9], 10**0.4)
    np.testing.assert_allclose(power_law(0.0)(7, ()), np.ones(7))
    np.testing.assert_allclose(isotropic()(7, ()), np.ones(7))


def test_inverse_gram_is_the_normalised_inverse():
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((6, 4))
    c = inverse_gram(0.5)(6, (w1,))
    expected = np.linalg.inv(w1 @ w1.T + 0.5 * np.eye(6))
    np.testing.assert_allclose(c, expected * 6 / np.trace(expected), rtol=1e-12)
    with pytest.raises(ValueError, match="earlier layer"):
        inverse_gram()(6, ())
    with pytest.raises(ValueError, match="rows"):
        inverse_gram()(5, (w1,))


@pytest.mark.parametrize(
    ("make", "match"),
    [(lambda: power_law(-1.0), "exponent"), (lambda: inverse_gram(0.0), "shift")],
)
def test_rules_validate(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_rows_have_the_requested_covariance():
    """Rows of W_ℓ are N(0, s² C/fan_in): Monte Carlo over many rows (brute force)."""
    rng = np.random.default_rng(1)
    fan_in, rows = 5, 200_000
    w1, w2 = draw_rainbow_weights(
        rng, [fan_in, rows, 3], [power_law(0.8), isotropic()], scales=[1.0, 2.0]
    )
    emp = w1.T @ w1 / rows * fan_in
    np.testing.assert_allclose(emp, np.diag(power_law(0.8)(fan_in, ())), atol=0.02)
    assert w2.shape == (3, rows)
    # Full (non-diagonal) covariance through its square root.
    c = np.array([[2.0, 0.6], [0.6, 0.5]])
    (w,) = draw_rainbow_weights(rng, [2, rows], [lambda fan_in, earlier: c])
    np.testing.assert_allclose(w.T @ w / rows * 2, c, atol=0.02)


def test_weight_dependent_rule_sees_the_earlier_layer_and_seed_reproduces():
    dims = [8, 12, 10]
    rules = [power_law(0.4), inverse_gram(0.5)]
    a = draw_rainbow_weights(np.random.default_rng(3), dims, rules, [1.0, 1.5])
    b = draw_rainbow_weights(np.random.default_rng(3), dims, rules, [1.0, 1.5])
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    # Re-draw layer 2 by hand from the same stream position: W2 = 1.5 Z C2^{1/2}/√p1.
    rng = np.random.default_rng(3)
    z1 = rng.standard_normal((12, 8))
    w1 = z1 * np.sqrt(power_law(0.4)(8, ())) / np.sqrt(8)
    z2 = rng.standard_normal((10, 12))
    c2 = inverse_gram(0.5)(12, (w1,))
    np.testing.assert_allclose(a[0], w1, rtol=1e-12)
    np.testing.assert_allclose(a[1], 1.5 * z2 @ psd_sqrt(c2) / np.sqrt(12), rtol=1e-10)
    with pytest.raises(ValueError):
        draw_rainbow_weights(np.random.default_rng(0), dims, rules[:1])


def test_psd_sqrt_squares_back():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((5, 5))
    c = a @ a.T
    r = psd_sqrt(c)
    np.testing.assert_allclose(r @ r, c, atol=1e-10)
    np.testing.assert_allclose(r, r.T)


def test_numpy_and_torch_forward_passes_agree():
    rng = np.random.default_rng(4)
    weights = draw_rainbow_weights(rng, [6, 9, 7], [isotropic(), inverse_gram()])
    x = rng.standard_normal((11, 6))
    f_np = rainbow_features(x, weights, ["tanh", "erf"])
    f_t = torch_features(
        torch.from_numpy(x), [torch.from_numpy(w) for w in weights], ["tanh", "erf"]
    )
    np.testing.assert_allclose(f_t.numpy(), f_np, rtol=1e-12, atol=1e-14)
    from scipy.special import erf

    np.testing.assert_allclose(f_np, erf(np.tanh(x @ weights[0].T) @ weights[1].T))
    assert f_np.shape == (11, 7)


def test_teacher_numpy_and_torch_labels_agree():
    t = draw_teacher(np.random.default_rng(0), 7, 5, "tanh(2x)", 0.3)
    assert t.weight.shape == (5, 7) and t.theta.shape == (5,)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((9, 7))
    xi = rng.standard_normal(9)
    clean = np.tanh(2 * x @ t.weight.T) @ t.theta / np.sqrt(5)
    np.testing.assert_allclose(t.clean(x), clean, rtol=1e-12)
    got = t.torch_labels(torch.from_numpy(x), torch.from_numpy(xi)).numpy()
    np.testing.assert_allclose(got, clean + 0.3 * xi, rtol=1e-12)
    # __call__ draws its noise from the generator it is given.
    np.testing.assert_allclose(t(x, np.random.default_rng(2)), t(x, np.random.default_rng(2)))


@pytest.mark.parametrize("spec", ["tanh", "tanh(2x)", "erf", "linear", "cube", "door", "sign"])
def test_activation_derivative_matches_finite_differences(spec):
    from theorylab.theory.activations import parse_activation

    x = np.linspace(-3.1, 3.1, 56)  # avoids the kinks of door (±2) and sign (0)
    h = 1e-6
    act = parse_activation(spec)
    numeric = (act(x + h) - act(x - h)) / (2 * h)
    np.testing.assert_allclose(activation_derivative(spec)(x), numeric, rtol=1e-6, atol=1e-8)


def test_activation_derivative_refuses_unknown():
    with pytest.raises(ValueError, match="derivative"):
        activation_derivative("relu")


def _toy_problem(n=200, d=10, width=16):
    rng = np.random.default_rng(5)
    weights = draw_rainbow_weights(rng, [d, width, width], [isotropic(), isotropic()])
    x = rng.standard_normal((n, d))
    y = np.tanh(x[:, 0]) + 0.5 * x[:, 1]
    return x, y, weights


def _autograd_descent(x, y, weights, activations, steps, eta):
    """Reference: the same gradient descent with torch autograd (float64)."""
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    params = [torch.from_numpy(w.copy()).requires_grad_(True) for w in weights]
    width = params[-1].shape[0]
    readout = torch.zeros(width, dtype=torch.float64, requires_grad=True)
    losses = []
    for step in range(steps + 1):
        out = torch_features(xs, params, activations) @ readout / width**0.5
        loss = 0.5 * ((ys - out) ** 2).mean()
        losses.append(float(loss))
        if step == steps:
            break
        grads = torch.autograd.grad(loss, [*params, readout])
        with torch.no_grad():
            for p, g in zip([*params, readout], grads, strict=True):
                p -= eta * g
    return [p.detach().numpy() for p in params], readout.detach().numpy(), np.array(losses)


@pytest.mark.parametrize("activations", [["tanh", "tanh"], ["erf", "tanh(2x)"], ["door", "cube"]])
def test_numpy_descent_equals_autograd(activations):
    """Back-propagation written out in numpy = torch autograd, step for step."""
    x, y, w = _toy_problem(n=60)
    w = [0.5 * v for v in w] if "cube" in activations else w
    net = train_network(x, y, w, activations, GradientDescent(steps=12, learning_rate=0.4))
    ref_w, ref_a, ref_losses = _autograd_descent(x, y, w, activations, 12, 0.4)
    np.testing.assert_allclose(net.losses, ref_losses, rtol=1e-10)
    np.testing.assert_allclose(net.readout, ref_a, rtol=1e-9, atol=1e-12)
    for got, want in zip(net.weights, ref_w, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_training_reduces_the_loss_and_is_deterministic():
    x, y, w = _toy_problem()
    settings = GradientDescent(steps=60, learning_rate=0.5)
    a = train_network(x, y, w, ["tanh", "tanh"], settings)
    b = train_network(x, y, w, ["tanh", "tanh"], settings)
    # The readout starts at zero: the first loss is ½ mean y².
    assert a.losses[0] == pytest.approx(0.5 * float(np.mean(y**2)), rel=1e-12)
    assert a.losses.shape == (61,)
    assert a.losses[-1] < 0.5 * a.losses[0]
    np.testing.assert_array_equal(a.losses, b.losses)
    for wa, w0 in zip(a.weights, w, strict=True):
        assert not np.allclose(wa, w0)  # the hidden layers moved
    np.testing.assert_array_equal(w[0], _toy_problem()[2][0])  # inputs untouched


def test_zero_steps_returns_the_initial_weights():
    x, y, w = _toy_problem()
    net = train_network(x, y, w, ["tanh", "tanh"], GradientDescent(steps=0))
    for wa, w0 in zip(net.weights, w, strict=True):
        np.testing.assert_array_equal(wa, w0)
    assert np.all(net.readout == 0)


def test_first_step_moves_only_the_readout():
    """At a = 0 the hidden layers' gradient vanishes; the readout moves by η φᵀy/(n√p)."""
    x, y, w = _toy_problem(n=50)
    net = train_network(x, y, w, ["tanh", "tanh"], GradientDescent(steps=1, learning_rate=0.3))
    phi = rainbow_features(x, w, ["tanh", "tanh"])
    np.testing.assert_allclose(net.readout, 0.3 * phi.T @ y / (50 * np.sqrt(16)), rtol=1e-12)
    for wa, w0 in zip(net.weights, w, strict=True):
        np.testing.assert_array_equal(wa, w0)


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"steps": -1}, "steps"), ({"learning_rate": 0.0}, "learning_rate")]
)
def test_gradient_descent_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GradientDescent(**kwargs)


def test_sample_pool_replays_its_generator():
    """Blocks of x then ξ from the generator; features of every net, mean squared pre-activations
    of the first net's layers."""
    rng = np.random.default_rng(6)
    t = draw_teacher(rng, 5, 4, "tanh", 0.2)
    nets = [draw_rainbow_weights(rng, [5, 6, 3], [isotropic()] * 2) for _ in range(2)]
    feats, y, squares = sample_pool(torch.Generator().manual_seed(3), 25, t, nets, "tanh", chunk=10)
    gen = torch.Generator().manual_seed(3)
    xs, xis = [], []
    for size in (10, 10, 5):
        xs.append(torch.randn(size, 5, generator=gen, dtype=torch.float64))
        xis.append(torch.randn(size, generator=gen, dtype=torch.float64))
    x, xi = torch.cat(xs).numpy(), torch.cat(xis).numpy()
    np.testing.assert_allclose(y.numpy(), t.clean(x) + 0.2 * xi, rtol=1e-12)
    for f, ws in zip(feats, nets, strict=True):
        np.testing.assert_allclose(f.numpy(), rainbow_features(x, ws, ["tanh"] * 2), rtol=1e-12)
    pre1 = x @ nets[0][0].T
    pre2 = np.tanh(pre1) @ nets[0][1].T
    np.testing.assert_allclose(squares, [np.mean(pre1**2), np.mean(pre2**2)], rtol=1e-12)
