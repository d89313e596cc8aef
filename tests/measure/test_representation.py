"""measure/representation.py: the reformulated losses L^r, L^k and the residual weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from theorylab.measure.representation import (
    gram,
    layer_representations,
    pinv_trace,
    reformulated_loss_k,
    reformulated_loss_r,
    reformulation_report,
    residual_weights,
    span_projector,
)


def _random_net(rng, widths):
    return [rng.standard_normal((widths[i + 1], widths[i])) for i in range(len(widths) - 1)]


def _loss(ws, x, y, lam):
    h = x
    for i, w in enumerate(ws):
        h = h @ w.T
        if i < len(ws) - 1:
            h = np.maximum(h, 0.0)
    return float(np.sum((h - y) ** 2) / x.shape[0] + lam * sum(np.sum(w**2) for w in ws))


@pytest.fixture
def net():
    """Bias-free ReLU net with N = 7 points in R^3 and hidden widths 10 > N, 12 > N."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 3))
    y = rng.standard_normal((7, 2))
    return _random_net(rng, (3, 10, 12, 2)), x, y


def test_representations_follow_the_forward_pass(net):
    ws, x, _ = net
    z, z_sigma = layer_representations(ws, x)
    assert [a.shape for a in z] == [(7, 10), (7, 12), (7, 2)]
    np.testing.assert_array_equal(z_sigma[0], x)
    np.testing.assert_allclose(z_sigma[2], np.maximum(z[1], 0.0))
    np.testing.assert_allclose(z[2], np.maximum(np.maximum(x @ ws[0].T, 0) @ ws[1].T, 0) @ ws[2].T)
    # torch input gives the same numbers
    zt, _ = layer_representations([torch.as_tensor(w) for w in ws], torch.as_tensor(x))
    np.testing.assert_allclose(zt[2], z[2])


def test_projector_is_the_orthogonal_projector_on_the_span():
    rng = np.random.default_rng(1)
    feats = rng.standard_normal((4, 9))  # 4 points in R^9: a rank-4 span
    proj = span_projector(feats)
    np.testing.assert_allclose(proj, proj.T, atol=1e-12)
    np.testing.assert_allclose(proj @ proj, proj, atol=1e-12)
    assert np.trace(proj) == pytest.approx(4.0)
    np.testing.assert_allclose(feats @ proj, feats, atol=1e-12)


def test_residual_hand_example():
    # one point x = e_1 in R^2, W = [1, 1]: P = e_1 e_1ᵀ, W̃ = [0, 1], ‖W P‖² = 1 = Tr[K K^σ⁺]
    ws = [np.array([[1.0, 1.0]])]
    x = np.array([[1.0, 0.0]])
    np.testing.assert_allclose(residual_weights(ws, x)[0], [[0.0, 1.0]])
    rep = reformulation_report(ws, x, np.array([[1.0]]), lam=0.5)
    assert rep.trace_term[0] == pytest.approx(1.0)
    assert rep.residual_norm2[0] == pytest.approx(1.0)
    assert rep.loss == pytest.approx(0.5 * 2.0)  # output 1 = target; λ‖W‖² = 0.5·2
    assert rep.loss_r == pytest.approx(0.5 * 1.0)


def test_norm_splits_into_trace_and_residual(net):
    """‖W_ℓ‖² = Tr[K_ℓ (K_{ℓ−1}^σ)⁺] + ‖W̃_ℓ‖² for any weights (Sec. 3.1)."""
    ws, x, y = net
    rep = reformulation_report(ws, x, y, lam=0.1)
    np.testing.assert_allclose(rep.trace_term + rep.residual_norm2, rep.layer_norm2, rtol=1e-10)
    # first layer: 7 points span R^3, nothing is left over; hidden layers: width > N, a residual
    assert rep.residual_norm2[0] < 1e-20
    assert np.all(rep.residual_ratio[1:] > 0.1)
    np.testing.assert_array_equal(rep.span_rank, [3, 7, 7])
    # the residual never touches the data: Z^σ W̃ᵀ = 0
    _, z_sigma = layer_representations(ws, x)
    for h, r in zip(z_sigma, residual_weights(ws, x), strict=True):
        np.testing.assert_allclose(h @ r.T, 0.0, atol=1e-10)


def test_minimal_norm_weights_have_no_residual_and_match_both_reformulations(net):
    """Removing W̃ keeps every output and L_λ(W P) = L^r = L^k (the reformulation is exact)."""
    ws, x, y = net
    lam = 0.05
    _, z_sigma = layer_representations(ws, x)
    minimal = [w @ span_projector(h) for w, h in zip(ws, z_sigma, strict=True)]
    z_min, _ = layer_representations(minimal, x)
    z_old, _ = layer_representations(ws, x)
    np.testing.assert_allclose(z_min[-1], z_old[-1], atol=1e-10)
    rep = reformulation_report(minimal, x, y, lam)
    assert rep.loss == pytest.approx(_loss(minimal, x, y, lam), rel=1e-12)
    assert rep.loss_r == pytest.approx(rep.loss, rel=1e-9)
    assert rep.loss_k == pytest.approx(rep.loss, rel=1e-8)
    assert np.max(rep.residual_ratio) < 1e-7
    assert rep.loss_gap == pytest.approx(0.0, abs=1e-9)
    # and the original network pays exactly λ Σ ‖W̃‖² more
    full = reformulation_report(ws, x, y, lam)
    assert full.loss - full.loss_r == pytest.approx(lam * full.residual_norm2.sum(), rel=1e-9)


def test_loss_k_equals_loss_r_on_random_matrices():
    """‖Z (Z^σ)⁺‖² = Tr[K (K^σ)⁺] for arbitrary (not network-generated) representations."""
    rng = np.random.default_rng(2)
    n = 6
    z_sigma = [rng.standard_normal((n, 4)), rng.standard_normal((n, 9))]
    z = [rng.standard_normal((n, 9)), rng.standard_normal((n, 3))]
    y = rng.standard_normal((n, 3))
    lr = reformulated_loss_r(z, z_sigma, y, 0.3)
    lk = reformulated_loss_k([gram(a) for a in z], [gram(h) for h in z_sigma], z[-1], y, 0.3)
    assert lk == pytest.approx(lr, rel=1e-9)
    # the regulariser is the minimal ‖W‖² with Z^σ Wᵀ = Z: lstsq's min-norm solution
    direct = sum(
        np.sum(np.linalg.lstsq(h, a, rcond=None)[0] ** 2) for a, h in zip(z, z_sigma, strict=True)
    )
    assert lr == pytest.approx(np.sum((z[-1] - y) ** 2) / n + 0.3 * direct, rel=1e-9)


def test_pinv_trace_tikhonov_limit():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((5, 5))
    k_sigma = a @ a.T + np.eye(5)
    k = gram(rng.standard_normal((5, 2)))
    exact = float(np.trace(k @ np.linalg.inv(k_sigma)))
    assert pinv_trace(k, k_sigma) == pytest.approx(exact, rel=1e-12)
    assert pinv_trace(k, k_sigma, gamma=1e-9) == pytest.approx(exact, rel=1e-7)
    assert pinv_trace(k, k_sigma, gamma=1.0) < exact  # regularised inverse is smaller


def test_bad_input_is_rejected(net):
    ws, x, y = net
    with pytest.raises(ValueError, match="rtol"):
        reformulation_report(ws, x, y, 0.1, rtol=1.5)
    with pytest.raises(ValueError, match="columns"):
        layer_representations(ws, x[:, :2])
    with pytest.raises(ValueError, match="gamma"):
        pinv_trace(np.eye(2), np.eye(2), gamma=-1.0)
