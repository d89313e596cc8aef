"""Jacobians: jacrev vs activation masks vs finite differences; linear maps; known ranks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from theorylab.measure.jacobian import (
    activation_masks,
    input_jacobians,
    layer_jacobians,
    layer_to_layer_jacobians,
    ntk_gram,
    relu_mlp_jacobians,
    relu_mlp_ntk_gram,
    relu_mlp_ntk_spectrum,
)
from theorylab.measure.spectra import numerical_rank, singular_values

DT = torch.float64


def _weights(widths, seed, batch=None):
    g = torch.Generator().manual_seed(seed)
    shape = () if batch is None else (batch,)
    return [
        torch.randn(*shape, o, i, generator=g, dtype=DT) * (2.0 / i) ** 0.5
        for i, o in itertools.pairwise(widths)
    ]


def _forward(ws, v, slope=0.0):
    """Reference forward pass of one network at v (n_0,) or rows (M, n_0), written independently."""
    h = v
    for i, w in enumerate(ws):
        h = h @ w.T
        if i < len(ws) - 1:
            h = torch.nn.functional.leaky_relu(h, slope) if slope else torch.relu(h)
    return h


def _preacts(ws, v):
    out, h = [], v
    for w in ws:
        z = w @ h
        out.append(z)
        h = torch.relu(z)
    return out


def _points(n, d, seed):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=DT)


def _central_differences(fn, x, h=1e-6):
    """(fn(x + h e_j) − fn(x − h e_j)) / 2h for every point and direction, one batched call."""
    n, d = x.shape
    steps = h * torch.eye(d, dtype=DT)
    plus = fn((x[:, None, :] + steps).reshape(n * d, d)).reshape(n, d, -1)
    minus = fn((x[:, None, :] - steps).reshape(n * d, d)).reshape(n, d, -1)
    return ((plus - minus) / (2 * h)).transpose(1, 2)


def test_jacrev_mask_and_finite_differences_agree_on_a_random_relu_net():
    ws = _weights([5, 16, 12, 3], seed=0)
    x = _points(20, 5, seed=1)
    # precondition: no point within 1e-3 of a kink, so central differences (h = 1e-6) are exact
    for p in x:
        assert min(z.abs().min().item() for z in _preacts(ws, p)[:-1]) > 1e-3
    masks = relu_mlp_jacobians(ws, x)
    auto = input_jacobians(lambda v: _forward(ws, v), x)
    fd = _central_differences(lambda v: _forward(ws, v), x)
    assert masks.shape == auto.shape == fd.shape == (20, 3, 5)
    torch.testing.assert_close(masks, auto, rtol=1e-13, atol=1e-13)
    # FD error on a piecewise-linear map is round-off: ~ε·|f|/h ≈ 1e-10
    torch.testing.assert_close(masks, fd, rtol=0, atol=1e-8)


def test_leaky_relu_masks_match_jacrev():
    ws = _weights([4, 8, 8, 2], seed=2)
    x = _points(10, 4, seed=3)
    masks = relu_mlp_jacobians(ws, x, negative_slope=0.1)
    auto = input_jacobians(lambda v: _forward(ws, v, 0.1), x)
    torch.testing.assert_close(masks, auto, rtol=1e-13, atol=1e-13)
    assert not torch.allclose(masks, relu_mlp_jacobians(ws, x))


def test_jacobian_of_a_linear_map_is_its_matrix():
    g = torch.Generator().manual_seed(4)
    a = torch.randn(3, 6, generator=g, dtype=DT)
    x = _points(7, 6, seed=5)
    jac = input_jacobians(lambda v: a @ v, x)
    torch.testing.assert_close(jac, a.expand(7, 3, 6), rtol=0, atol=0)
    # a one-layer "network" is the linear map itself; numpy inputs are accepted
    torch.testing.assert_close(relu_mlp_jacobians([a], x.numpy()), a.expand(7, 3, 6))


def test_zero_preactivation_uses_the_autograd_convention():
    ws = _weights([3, 5, 2], seed=6)
    x = torch.zeros(1, 3, dtype=DT)  # every pre-activation is exactly 0
    auto = input_jacobians(lambda v: _forward(ws, v), x)
    torch.testing.assert_close(relu_mlp_jacobians(ws, x), auto)
    assert torch.count_nonzero(auto) == 0


@pytest.mark.parametrize("k", [1, 2, 3])
def test_known_rank_smooth_function_f_of_px(k):
    """f(x) = B tanh(C P x), P of rank k: every Jacobian has rank exactly k (generic B, C)."""
    g = torch.Generator().manual_seed(10 + k)
    d, hidden, out = 6, 10, 5
    p = torch.linalg.qr(torch.randn(d, k, generator=g, dtype=DT))[0].T  # k×d, orthonormal rows
    c = torch.randn(hidden, k, generator=g, dtype=DT)
    b = torch.randn(out, hidden, generator=g, dtype=DT)
    x = _points(40, d, seed=20 + k)
    jac = input_jacobians(lambda v: b @ torch.tanh(c @ (p @ v)), x)
    s = singular_values(jac)
    np.testing.assert_array_equal(numerical_rank(jac, 1e-8), np.full(40, k))
    # the discarded values are round-off, the kept ones are well separated
    assert s[:, k:].max() < 1e-12 * s[:, 0].min()
    assert (s[:, k - 1] / s[:, 0]).min() > 1e-4


def test_known_rank_relu_net_with_rank_k_first_layer():
    """W_1 = A P with P of rank k: Jf(x) = (…) A P has rank ≤ k, and = k at these points."""
    k, d = 2, 6
    g = torch.Generator().manual_seed(30)
    p = torch.linalg.qr(torch.randn(d, k, generator=g, dtype=DT))[0].T
    ws = _weights([k, 24, 24, 5], seed=31)
    ws = [ws[0] @ p, *ws[1:]]
    x = _points(64, d, seed=32)
    jac = relu_mlp_jacobians(ws, x)
    np.testing.assert_array_equal(numerical_rank(jac, 1e-8), np.full(64, k))


def test_layer_jacobians_match_jacrev_of_each_preactivation():
    widths = [4, 9, 7, 6, 3]
    ws = _weights(widths, seed=40)
    x = _points(12, 4, seed=41)
    layers = layer_jacobians(ws, x)
    assert [tuple(j.shape) for j in layers] == [(12, n, 4) for n in widths[1:]]
    for ell in range(len(ws)):
        auto = input_jacobians(lambda v, ell=ell: _preacts(ws, v)[ell], x)
        torch.testing.assert_close(layers[ell], auto, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(layers[-1], relu_mlp_jacobians(ws, x))


def test_layer_to_layer_jacobians_compose_to_the_network_jacobian():
    widths = [4, 9, 7, 3]
    ws = _weights(widths, seed=42)
    x = _points(8, 4, seed=43)
    steps = layer_to_layer_jacobians(ws, x)
    assert [tuple(j.shape) for j in steps] == [(8, 9, 4), (8, 7, 9), (8, 3, 7)]
    prod = steps[0]
    for step in steps[1:]:
        prod = step @ prod
    torch.testing.assert_close(prod, relu_mlp_jacobians(ws, x), rtol=1e-13, atol=1e-13)
    # step ℓ is the Jacobian of z ↦ W_ℓ relu(z) at z = Z_{ℓ−1}(x)
    z1 = torch.stack([_preacts(ws, p)[0] for p in x])
    auto = input_jacobians(lambda z: ws[1] @ torch.relu(z), z1)
    torch.testing.assert_close(steps[1], auto, rtol=0, atol=0)


def test_batched_weights_and_points():
    ws = _weights([3, 6, 5, 2], seed=50, batch=4)
    x = _points(9, 3, seed=51)
    jac = relu_mlp_jacobians(ws, x)
    assert jac.shape == (4, 9, 2, 3)
    for b in range(4):
        torch.testing.assert_close(jac[b], relu_mlp_jacobians([w[b] for w in ws], x))
    xb = torch.stack([x + b for b in range(4)])
    jacb = relu_mlp_jacobians(ws, xb)
    for b in range(4):
        torch.testing.assert_close(jacb[b], relu_mlp_jacobians([w[b] for w in ws], xb[b]))
    steps = layer_to_layer_jacobians(ws, x)
    assert steps[0].shape == (4, 9, 6, 3)
    # one network, a batch of point sets
    one = [w[0] for w in ws]
    torch.testing.assert_close(relu_mlp_jacobians(one, xb)[2], relu_mlp_jacobians(one, xb[2]))


def test_agrees_with_models_mlp_layout():
    from theorylab.models.mlp import init_mlp, mlp_preactivations, select, single_forward

    ws = init_mlp([5, 8, 8, 3], batch=3, generator=torch.Generator().manual_seed(60))
    x = _points(11, 5, seed=61)
    zs = mlp_preactivations(ws, x)
    for mask, z in zip(activation_masks(ws, x), zs[:-1], strict=True):
        torch.testing.assert_close(mask, (z > 0).to(DT))
    jac = relu_mlp_jacobians(ws, x)
    for b in range(3):
        one = select(ws, b)
        auto = input_jacobians(lambda v, one=one: single_forward(one, v), x)
        torch.testing.assert_close(jac[b], auto, rtol=1e-13, atol=1e-13)


def test_shape_errors():
    ws = _weights([3, 4, 2], seed=70)
    with pytest.raises(ValueError, match="features"):
        relu_mlp_jacobians(ws, torch.zeros(2, 4, dtype=DT))
    with pytest.raises(ValueError, match="inputs"):
        relu_mlp_jacobians([ws[0], ws[0]], torch.zeros(2, 3, dtype=DT))
    with pytest.raises(ValueError, match="x must"):
        input_jacobians(torch.sin, torch.zeros(3, dtype=DT))


def test_ntk_of_a_linear_model_is_the_input_gram_times_identity():
    """f(x) = W x: ∂f_a(x_i)/∂W_{cd} = δ_ac x_{i,d}, so Θ[(i,a),(j,b)] = (x_i·x_j) δ_ab."""
    g = torch.Generator().manual_seed(80)
    w = torch.randn(3, 4, generator=g, dtype=DT)
    x = _points(5, 4, seed=81)
    theta = ntk_gram(lambda ps, xx: xx @ ps[0].T, [w], x)
    expected = torch.kron(x @ x.T, torch.eye(3, dtype=DT))
    torch.testing.assert_close(theta, expected, rtol=1e-13, atol=1e-13)


def test_ntk_of_a_relu_net_matches_the_layerwise_formula():
    """Bias-free ReLU MLP: ∂f(x)/∂W_ℓ = B_ℓ(x)ᵀ h_{ℓ−1}(x)ᵀ with B_ℓ = ∂f/∂Z_ℓ = J of steps
    ℓ+1 … L, so Θ(x, y) = Σ_ℓ (h_{ℓ−1}(x)·h_{ℓ−1}(y)) B_ℓ(x) B_ℓ(y)ᵀ (independent check)."""
    ws = _weights([3, 7, 6, 2], seed=82)
    x = _points(6, 3, seed=83)
    theta = ntk_gram(lambda ps, xx: _forward(ps, xx), ws, x)
    steps = layer_to_layer_jacobians(ws, x)
    expected = torch.zeros(6, 2, 6, 2, dtype=DT)
    h = x
    for ell in range(len(ws)):
        back = torch.eye(2, dtype=DT).expand(6, 2, 2)
        for step in steps[ell + 1 :][::-1]:
            back = back @ step
        expected += torch.einsum("ik,jk,iam,jbm->iajb", h, h, back, back)
        h = torch.relu(h @ ws[ell].T)
    torch.testing.assert_close(theta, expected.reshape(12, 12), rtol=1e-12, atol=1e-12)
    assert torch.linalg.eigvalsh(theta).min() > -1e-10  # a Gram matrix
    # the exact mask construction gives the same matrix without autograd
    torch.testing.assert_close(relu_mlp_ntk_gram(ws, x), theta, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError):
        relu_mlp_ntk_gram([w[None] for w in ws], x)


def test_ntk_spectrum_matches_autograd():
    """Eigenvalues of Θ = squared singular values of J_θ (autograd), descending."""
    ws = _weights([4, 7, 5, 3], seed=84)
    x = _points(9, 4, seed=85)

    def f(*params):
        return _forward(list(params), x).reshape(-1)

    jac = torch.func.jacrev(f, argnums=(0, 1, 2))(*ws)
    flat = torch.cat([j.reshape(j.shape[0], -1) for j in jac], dim=1)
    ref = np.sort(torch.linalg.svdvals(flat).numpy() ** 2)[::-1]
    np.testing.assert_allclose(relu_mlp_ntk_spectrum(ws, x), ref, rtol=1e-10, atol=1e-10)
