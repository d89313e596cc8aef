"""Torch models: activations match the numpy registry; ridge readout; random networks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from theorylab.models.activations import TORCH_ACTIVATIONS, torch_activation
from theorylab.models.device import generator
from theorylab.models.linear import ridge_path
from theorylab.models.random_network import draw_random_network
from theorylab.theory.activations import ACTIVATIONS, parse_activation


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_torch_and_numpy_activations_agree(name):
    x = np.linspace(-3, 3, 61)
    expected = ACTIVATIONS[name](x)
    got = TORCH_ACTIVATIONS[name](torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_scaled_spec_and_unknown():
    x = torch.linspace(-1, 1, 5, dtype=torch.float64)
    np.testing.assert_allclose(
        torch_activation("tanh(2x)")(x).numpy(), parse_activation("tanh(2x)")(x.numpy())
    )
    with pytest.raises(ValueError):
        torch_activation("nope")


def test_ridge_path_matches_direct_solve():
    g = generator(0)
    x = torch.randn(50, 20, generator=g, dtype=torch.float64)
    y = torch.randn(50, generator=g, dtype=torch.float64)
    w = ridge_path(x, y, [0.1, 2.0])
    for i, lam in enumerate([0.1, 2.0]):
        direct = torch.linalg.solve(
            x.T @ x / 20 + lam * torch.eye(20, dtype=torch.float64), x.T @ y / 20**0.5
        )
        torch.testing.assert_close(w[i], direct)


def test_random_network_shapes_and_reproducibility():
    net = draw_random_network(10, [7, 5], ["tanh", "erf"], [1.0, 2.0], 1.0, generator(1))
    net2 = draw_random_network(10, [7, 5], ["tanh", "erf"], [1.0, 2.0], 1.0, generator(1))
    x = torch.randn(4, 10, generator=generator(2), dtype=torch.float64)
    assert net(x).shape == (4,)
    assert net.features(x).shape == (4, 5)
    torch.testing.assert_close(net(x), net2(x))
    big = draw_random_network(200, [300], ["tanh"], [2.0], 0.5, generator(3))
    assert big.weights[0].var().item() == pytest.approx(2.0, rel=0.03)  # 60 000 entries
    assert big.readout.var().item() == pytest.approx(0.5, rel=0.3)  # 300 entries


@pytest.mark.parametrize(("n", "p"), [(50, 20), (12, 20), (20, 20)])
@pytest.mark.parametrize("n_lams", [2, 10])
def test_ridge_readout_sum_convention_primal_and_dual(n, p, n_lams):
    from theorylab.models.linear import ridge_readout

    g = generator(5)
    x = torch.randn(n, p, generator=g, dtype=torch.float64)
    y = torch.randn(n, 3, generator=g, dtype=torch.float64)
    lams = list(np.logspace(-2, 1, n_lams))
    w = ridge_readout(x, y, lams)
    assert w.shape == (n_lams, p, 3)
    for i, lam in enumerate(lams):
        direct = torch.linalg.solve(x.T @ x + lam * torch.eye(p, dtype=torch.float64), x.T @ y)
        torch.testing.assert_close(w[i], direct, rtol=1e-9, atol=1e-10)
    assert ridge_readout(x, y[:, 0], lams).shape == (n_lams, p)


def test_deep_features_given_weights():
    from theorylab.models.random_network import deep_features

    g = generator(6)
    x = torch.randn(5, 4, generator=g, dtype=torch.float64)
    w1 = torch.randn(6, 4, generator=g, dtype=torch.float64)
    w2 = torch.randn(3, 6, generator=g, dtype=torch.float64)
    out = deep_features(x, [w1, w2], ["tanh", "door"], depths=(1, 2))
    torch.testing.assert_close(out[1], torch.tanh(x @ w1.T))
    torch.testing.assert_close(out[2], 1.1 * torch.clamp(out[1] @ w2.T, -2.0, 2.0))
    assert set(deep_features(x, [w1, w2], ["tanh", "tanh"])) == {2}
    with pytest.raises(ValueError, match="depths"):
        deep_features(x, [w1, w2], ["tanh", "tanh"], depths=(3,))


# --------------------------------------------------------------------------------------------
# Ridge error paths (models.linear: HeldOutMoments, RidgeBasis, RidgePath, learning curves)
# --------------------------------------------------------------------------------------------


def _problem(n, p, m, seed=0, n_test=400):
    g = generator(seed)
    scale = torch.linspace(0.2, 1.0, p, dtype=torch.float64)
    x = torch.randn(n + n_test, p, generator=g, dtype=torch.float64) * scale
    y = torch.randn(n + n_test, m, generator=g, dtype=torch.float64) + x[:, :m]
    return x, y


@pytest.mark.parametrize(("n", "p"), [(60, 20), (12, 20), (20, 20)])
def test_ridge_path_equals_explicit_fits(n, p):
    from theorylab.models.linear import HeldOutMoments, RidgeBasis, ridge_readout

    x, y = _problem(n, p, 3)
    test = HeldOutMoments.from_samples(x[n:], y[n:])
    basis = RidgeBasis.fit(x[:n], test.gram)
    lams = [1e-3, 0.1, 2.0]
    w = ridge_readout(x[:n], y[:n], lams)
    direct = [float(((y[n:] - x[n:] @ w[i]) ** 2).mean(0).sum()) for i in range(3)]
    np.testing.assert_allclose(basis.path(y[:n], test).errors(lams), direct, rtol=1e-9)
    # Targets = the features themselves (θ ~ N(0, I) averaged): the diagonal shortcut.
    w = ridge_readout(x[:n], x[:n], lams)
    direct = [float(((x[n:] - x[n:] @ w[i]) ** 2).mean(0).sum()) for i in range(3)]
    path = basis.self_path(float(test.gram.trace()))
    assert path.quadratic.ndim == 1
    np.testing.assert_allclose(path.errors(lams), direct, rtol=1e-9, atol=1e-13)


def test_ridge_path_noise_average_matches_many_noise_draws():
    # The exact average over an independent label noise (variance 0.09) against 20 000 noise
    # columns of variance 0.09/20 000 fitted at once (their summed error has the same mean and
    # a relative spread ≈ √(2/20 000) = 1 %).
    from theorylab.models.linear import HeldOutMoments, RidgeBasis

    n, p = 30, 20
    x, _ = _problem(n, p, 1)
    xi = torch.randn(n + 400, 20_000, generator=generator(1), dtype=torch.float64)
    xi *= (0.09 / 20_000) ** 0.5
    zero = HeldOutMoments(x[n:].T @ x[n:] / 400, torch.zeros(p, 1, dtype=torch.float64), 0.0)
    basis = RidgeBasis.fit(x[:n], zero.gram)
    exact = basis.path(torch.zeros(n, 1, dtype=torch.float64), zero, noise=0.09)
    sampled = basis.path(xi[:n], HeldOutMoments.from_samples(x[n:], xi[n:]))
    lams = [1e-2, 1.0]
    np.testing.assert_allclose(exact.errors(lams), sampled.errors(lams), rtol=0.03)


def test_ridge_path_minimum_is_the_minimum_of_a_dense_scan():
    from theorylab.models.linear import HeldOutMoments, RidgeBasis

    x, y = _problem(40, 25, 2, seed=3)
    test = HeldOutMoments.from_samples(x[40:], y[40:])
    path = RidgeBasis.fit(x[:40], test.gram).path(y[:40], test, noise=0.5)
    lam, err = path.minimum(1e-4, 1e3)
    dense = path.errors(np.logspace(-4, 3, 20_001))
    assert err <= dense.min() + 1e-12
    assert err == pytest.approx(dense.min(), rel=1e-7)
    assert float(path.errors(lam)) == pytest.approx(err, rel=1e-12)


def test_ridge_learning_curves_nested_training_sets():
    from theorylab.models.linear import HeldOutMoments, RidgeBasis, ridge_learning_curves

    x, y = _problem(50, 20, 2, seed=4)
    sizes, lams = [10, 30, 50], [0.01, 1.0]
    out = ridge_learning_curves(x, y, sizes, lams, noise=0.1, scan=(1e-3, 1e2), self_noise=0.2)
    assert out["errors"].shape == out["self"].shape == (2, 3)
    test = HeldOutMoments.from_samples(x[50:], y[50:])
    for j, n in enumerate(sizes):
        basis = RidgeBasis.fit(x[:n], test.gram)
        path = basis.path(y[:n], test, 0.1)
        np.testing.assert_allclose(out["errors"][:, j], path.errors(lams), rtol=1e-12)
        assert (out["lambda_min"][j], out["error_min"][j]) == path.minimum(1e-3, 1e2)
        self_path = basis.self_path(float(test.gram.trace()), 0.2)
        np.testing.assert_allclose(out["self"][:, j], self_path.errors(lams), rtol=1e-12)
