"""Linear-head MLPs and their GD balancedness law (arXiv 2410.04887, Sec. 4)."""

import math

import numpy as np
import pytest
import torch

from theorylab.models.classification_data import gaussian_clusters, one_hot
from theorylab.models.linear_head import head_features, head_forward, train_linear_head
from theorylab.models.mlp import init_mlp


def test_head_is_linear_after_the_relu_layers():
    ws = init_mlp([3, 5, 5, 5, 2], generator=torch.Generator().manual_seed(0))
    x = torch.randn(7, 3, dtype=torch.float64)
    feats, pre = head_features(ws, x, relu_layers=2)
    assert len(feats) == 4 and len(pre) == 2
    assert torch.all(feats[1] >= 0)
    assert torch.allclose(feats[2], feats[1] @ ws[2][0].T)  # no ReLU in the head
    assert torch.allclose(head_forward(ws, x, 2), feats[3])
    with pytest.raises(ValueError):
        head_forward(ws, x, 4)


def test_gd_imbalance_decays_at_the_predicted_rate():
    """Near a critical point ‖D‖ shrinks by 1 − 2ηλ + 2η²λ² per GD step; with λ = 0 it stays."""
    rng = np.random.default_rng(0)
    x, labels = gaussian_clusters(rng, classes=3, per_class=6, dim=5)
    xt, yt = torch.tensor(x), torch.tensor(one_hot(labels))
    ws = init_mlp([5, 8, 8, 8, 3], batch=2, generator=torch.Generator().manual_seed(1))
    lam, eta = (0.05, 0.0), (0.05, 0.05)
    run = train_linear_head(
        ws, xt, yt, relu_layers=1, lam=lam, etas=eta, adam_steps=400, adam_lr=1e-2,
        gd_steps=400, records=8,
    )  # fmt: skip
    assert run.imbalance.shape == (8, 2, 2)
    rate = -np.diff(np.log(run.imbalance), axis=0) / 50
    predicted = -math.log(1 - 2 * eta[0] * lam[0] + 2 * eta[0] ** 2 * lam[0] ** 2)
    assert np.allclose(rate[-3:, 0], predicted, rtol=0.02)
    assert np.all(np.abs(rate[:, 1]) < 0.02 * predicted)


def test_data_sets_are_balanced_and_standardised():
    x, labels = gaussian_clusters(np.random.default_rng(0), classes=4, per_class=5, dim=3)
    assert x.shape == (20, 3) and np.bincount(labels).tolist() == [5] * 4
    assert np.allclose(x.mean(0), 0) and np.allclose(x.std(0), 1)
    assert one_hot(labels).shape == (20, 4) and np.all(one_hot(labels).sum(1) == 1)
