"""Draw-level statistics of a seed's output: the leave-one-out control variate."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.experiments.result import loo_control_variate, with_control_variates


def _draws(rng, k, rho=0.9):
    x = rng.standard_normal(k)
    y = 5.0 + rho * x + np.sqrt(1 - rho**2) * rng.standard_normal(k)
    return y, x


def test_each_adjusted_draw_moves_one_for_one_with_its_own_value():
    # leave-one-out: draw i's slope is fitted without draw i, so shifting y_i shifts only its
    # own adjusted value, by exactly the shift (the property that keeps the estimate unbiased)
    y, x = _draws(np.random.default_rng(0), 8)
    base = loo_control_variate(y, x)
    y2 = y.copy()
    y2[3] += 1.0
    moved = loo_control_variate(y2, x)
    assert moved[3] - base[3] == pytest.approx(1.0)
    other = np.arange(8) != 3
    assert not np.allclose(moved[other], base[other])  # the others' slopes saw the change


def test_unbiased_and_variance_reduced_over_replications():
    rng = np.random.default_rng(1)
    raw, adj = [], []
    for _ in range(4000):
        y, x = _draws(rng, 10)
        raw.append(y.mean())
        adj.append(loo_control_variate(y, x).mean())
    raw, adj = np.array(raw), np.array(adj)
    assert abs(adj.mean() - 5.0) < 4 * adj.std() / np.sqrt(len(adj))
    # 1 − ρ² = 0.19 of the variance, inflated by ≈ 1 + 1/(k − 2) for the fitted slope
    ratio = adj.var() / raw.var()
    assert 0.15 < ratio < 0.3


def test_a_control_broadcasts_against_the_value_axes_and_few_draws_pass_through():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 3))  # one control per α
    y = np.stack([2.0 * x, -1.0 * x], axis=1) + 7.0  # (draw, branch, α), exactly linear
    np.testing.assert_allclose(loo_control_variate(y, x[:, None, :]), 7.0, atol=1e-12)
    np.testing.assert_array_equal(loo_control_variate(y[:3], x[:3, None, :]), y[:3])


def test_several_controls_are_fitted_jointly():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(12), rng.standard_normal(12)
    y = 1.5 + 2.0 * a - 3.0 * b  # exactly linear in both controls
    np.testing.assert_allclose(loo_control_variate(y, a, b), 1.5, atol=1e-9)
    one = loo_control_variate(y, a)  # one control leaves b's share of the spread
    assert one.std() > 1.0
    np.testing.assert_array_equal(loo_control_variate(y[:4], a[:4], b[:4]), y[:4])


def test_draw_controls_align_with_the_observables_trailing_axes():
    # controls per α (shape (α, m)) shared by the branch axis of a (branch, α) observable;
    # the control key is dropped and observables not named stay raw
    rng = np.random.default_rng(4)
    draws = []
    for _ in range(8):
        c = rng.standard_normal((3, 2))  # 3 α, 2 controls
        obs = 1.0 + np.stack([c @ [1.0, -2.0], c @ [0.5, 3.0]])  # (branch, α), exactly linear
        draws.append({"obs": obs, "raw": obs.copy(), "ctrl": c})
    out = with_control_variates(draws, ["obs"], "ctrl")
    assert all("ctrl" not in d for d in out)
    np.testing.assert_allclose([d["obs"] for d in out], 1.0, atol=1e-9)
    np.testing.assert_array_equal([d["raw"] for d in out], [d["raw"] for d in draws])
    assert with_control_variates([{"obs": 1.0}], ["obs"], "ctrl") == [{"obs": 1.0}]
