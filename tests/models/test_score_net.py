"""Shallow ReLU score networks trained by denoising score matching (arXiv 2410.11275)."""

from __future__ import annotations

import torch

from theorylab.models.score_net import DSMConfig, ShallowScoreNets, train_dsm


def test_batched_networks_are_independent():
    gen = torch.Generator().manual_seed(0)
    nets = ShallowScoreNets(3, 5, 7, gen)
    x = torch.randn(3, 4, 5, generator=gen)
    out = nets(x)
    assert out.shape == (3, 4, 5)
    x2 = x.clone()
    x2[1] += 1.0
    out2 = nets(x2)
    assert torch.equal(out[0], out2[0]) and torch.equal(out[2], out2[2])


def test_dsm_learns_the_linear_score_of_gaussian_data():
    """x_0 ~ N(0, I_D): p_t = N(0, I) for the OU process, the score is −x; DSM with the linear
    skip must get close to it."""
    gen = torch.Generator().manual_seed(1)
    dim, alpha, sigma = 3, 0.8, 0.6
    data = torch.randn(2000, dim, generator=gen)
    nets = ShallowScoreNets(1, dim, 16, gen)
    config = DSMConfig(steps=600, batch=256, lr=0.02)
    train_dsm(nets, data, [2000], alpha, sigma, config, gen)
    x = torch.randn(1, 4000, dim, generator=gen) * (alpha**2 + sigma**2) ** 0.5
    with torch.no_grad():
        err = ((nets(x) + x / (alpha**2 + sigma**2)) ** 2).sum(-1).mean()
    assert err < 0.05 * dim / (alpha**2 + sigma**2)
