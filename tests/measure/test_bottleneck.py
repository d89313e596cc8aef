"""Per-layer measurements of deep ReLU networks (arXiv 2209.15055, 2305.19008): exact
bottlenecks of known rank, and the finite-depth inequalities that hold for every network."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from theorylab.measure import bottleneck as bn
from theorylab.models.device import generator
from theorylab.models.mlp import init_mlp
from theorylab.theory import representation_cost as rc


def _bottleneck_net(depth: int, width: int = 10, d: int = 6, scale: float = 1.0):
    """ReLU net passing (x_1, x_2)⁺ through every layer: W_ℓ = scale·diag(1, 1, 0, …)."""
    first = torch.zeros(width, d, dtype=torch.float64)
    first[0, 0] = first[1, 1] = scale
    middle = torch.zeros(width, width, dtype=torch.float64)
    middle[0, 0] = middle[1, 1] = scale
    last = torch.zeros(d, width, dtype=torch.float64)
    last[0, 0] = last[1, 1] = scale
    return [first, *[middle.clone() for _ in range(depth - 2)], last]


def _points(n: int = 64, d: int = 6, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, generator=generator(seed), dtype=torch.float64)


def test_profile_of_an_exact_rank_two_bottleneck():
    depth = 8
    prof = bn.network_profile(_bottleneck_net(depth), _points(), 1e-2)
    assert prof.depth == depth and prof.norm2 == pytest.approx(2 * depth)
    np.testing.assert_array_equal(prof.representations, np.full(depth - 1, 2.0))
    assert prof.jacobians.shape == (64, 6) and prof.jacobian_ranks.max() == 2
    # J = diag(1{x1>0}, 1{x2>0}, 0, …): rank = number of positive coordinates among x1, x2
    x = _points().numpy()
    np.testing.assert_array_equal(prof.jacobian_ranks, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0))
    assert bn.middle_count(prof, 0.5) == 2 and bn.middle_rep_rank(prof) == 2
    top = bn.top_values(prof, 3, 10)
    assert top.shape == (10, 3)
    np.testing.assert_array_equal(top[:depth], np.tile([1.0, 1.0, 0.0], (depth, 1)))
    assert np.all(np.isnan(top[depth:]))


def test_middle_layers_and_counts():
    np.testing.assert_array_equal(np.flatnonzero(bn.middle_layers(12, 12)) + 1, range(4, 10))
    np.testing.assert_array_equal(np.flatnonzero(bn.middle_layers(6, 6)) + 1, [2, 3, 4])
    np.testing.assert_array_equal(np.flatnonzero(bn.middle_layers(2, 3)) + 1, [1, 2])
    assert bn.count_above(np.array([1.2, 0.9, 0.5, 0.1]), 0.5) == 2
    net = _bottleneck_net(8)
    for i in range(2, 6):  # W_3 … W_6, the middle weights of depth 8, get a third value 0.9
        net[i][2, 2] = 0.9
    prof = bn.network_profile(net, _points(seed=1), 1e-2)
    assert bn.middle_count(prof, 0.5) == 3 and bn.middle_count(prof, 0.95) == 2


def test_per_layer_padding():
    out = bn.per_layer([1.0, 2.0], 4)
    np.testing.assert_array_equal(out[:2], [1.0, 2.0])
    assert np.all(np.isnan(out[2:]))
    assert bn.per_layer(np.ones((2, 3)), 5).shape == (5, 3)
    with pytest.raises(ValueError):
        bn.per_layer([1.0, 2.0, 3.0], 2)


def test_bound_ratio_is_one_at_the_amgm_equality_case():
    """Balanced rank-2 layers c·diag(1, 1, 0…): L·2·(c^{2L})^{1/L} = 2 L c² = ‖θ‖²."""
    depth, c = 5, 1.1
    x = torch.rand(20, 6, generator=generator(2), dtype=torch.float64) + 0.1  # positive inputs
    prof = bn.network_profile(_bottleneck_net(depth, scale=c), x, 1e-2)
    assert bn.bound_ratio(prof, (2,)) == pytest.approx(1.0, abs=1e-12)
    assert bn.bound_ratio(prof, (1, 2)) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_finite_depth_inequalities_hold_for_every_network(seed):
    """Theorems for any weights (Horn + AM-GM; arXiv 2209.15055 lower bound, 2305.19008 R^(1)
    bound and tail bound): a violation is a bug of the measurement, never a finding."""
    depth = 2 + seed
    gen = generator(10 + seed)
    weights = [w[0].detach() for w in init_mlp([6, *[9] * (depth - 1), 6], generator=gen)]
    prof = bn.network_profile(weights, _points(40, seed=20 + seed), 1e-2)
    assert 0 < bn.bound_ratio(prof, (1, 2, 3)) <= 1 + 1e-12
    for k in (1, 2, 3):
        head, tail = rc.weight_head(prof.weights, k), rc.weight_tail(prof.weights, k)
        assert head + tail == pytest.approx(prof.norm2, rel=1e-12)
        lower = np.max(rc.jacobian_bound(prof.jacobians, depth, k))
        assert head >= lower * (1 - 1e-12)  # Σ_ℓ Σ_{i≤k} s_i² ≥ L k |J|_{+,k}^{2/(kL)}
        assert tail <= np.min(rc.tail_bound(prof.norm2, prof.jacobians, depth, k)) + 1e-10
        finite = np.isfinite(rc.log_pdet_k(prof.jacobians, k))
        r1 = prof.norm2 - k * depth  # ≥ 2 log|J|_{+,k} at every point (e^u ≥ 1 + u)
        assert np.all(r1 >= 2 * np.asarray(rc.log_pdet_k(prof.jacobians, k))[finite] - 1e-10)


def test_layer_summary_and_depth_fit():
    out = bn.layer_summary(
        _bottleneck_net(6), _points(), rank_rtol=1e-2, large_value=0.5, n_top=3, length=8
    )
    assert out["norm2"] == pytest.approx(12.0) and out["jac_rank_max"] == 2
    assert out["middle_count"] == 2 and out["middle_rep_rank"] == 2
    assert out["weight_top"].shape == (8, 3) and out["rep_rank"].shape == (8,)
    np.testing.assert_array_equal(out["rep_rank"][:5], [2] * 5)
    # ‖θ‖² = a L + b through two depths, exactly
    assert bn.depth_fit((6, 12), (2 * 6 + 5.0, 2 * 12 + 5.0)) == pytest.approx((2.0, 5.0))
    # with R^(2)/L: a = R^(0) − R^(2)/(L1 L2), b = R^(1) + R^(2)(1/L1 + 1/L2)
    r0, r1, r2 = 3.0, 4.0, 6.0
    a, b = bn.depth_fit((6, 12), [r0 * L + r1 + r2 / L for L in (6, 12)])
    assert a == pytest.approx(r0 - r2 / 72) and b == pytest.approx(r1 + r2 * (1 / 6 + 1 / 12))
    with pytest.raises(ValueError):
        bn.depth_fit((6, 6), (1.0, 2.0))
