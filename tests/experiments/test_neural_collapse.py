"""neural_collapse (arXiv 2410.04887): theory(), validation, a small theory-vs-simulation run
and the checks failing for a wrong theory."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorylab.experiments import neural_collapse as nc

EXP = nc.EXPERIMENT


def test_theory_rate_and_head_profile():
    p = nc.Params(lam=(5e-3, 1e-2, 0.0), gd_lr=(0.05, 0.05, 0.01), linear_layers=5)
    th = nc.theory(p)
    # Sec. 4: D ← (1 − ηλ)² D + η²λ² D per GD step near a critical point
    assert th["balance_rate"][0] == pytest.approx(-math.log(1 - 5e-4 + 2 * 0.05**2 * 5e-3**2))
    assert th["balance_rate"][0] == pytest.approx(2 * 0.05 * 5e-3, rel=1e-3)  # ≈ 2ηλ
    assert th["balance_rate"][2] == 0.0  # no decay without weight decay
    # κ(M̄_ℓ) = κ(M̄_{L1+1})^{(L−ℓ)/(L2−1)}: interior head layers ℓ = 5, 6, 7 of L = 8
    np.testing.assert_allclose(th["kappa_position"], [[0.75, 0.5, 0.25]] * 3)
    assert np.all(np.isnan(th["nc1"])) and th["nc1"].shape == (3, 8)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"gd_lr": (0.05,)}, "gd_lr"),
        ({"lam": (0.1, 0.1), "gd_lr": (0.1, 0.1)}, "lam"),
        ({"linear_layers": 2}, "linear_layers"),
        ({"lam": (-1e-3, 0.0)}, "lam"),
        ({"records": 50, "gd_steps": 10}, "records"),
        ({"lam": (0.9, 0.0), "gd_lr": (0.9, 0.01)}, "gd_lr"),
    ],
)
def test_params_validation(overrides, match):
    with pytest.raises(ValueError, match=match):
        nc.Params(**overrides)


def test_small_run_decay_rate_matches_and_control_does_not_decay():
    """A small net (width 12, 1 + 3 layers): GD imbalance decays at −log(1 − 2ηλ + 2η²λ²)."""
    p = nc.Params(
        lam=(2e-2, 0.0), gd_lr=(0.05, 0.01), per_class=8, dim=6, width=12, relu_layers=1,
        adam_steps=300, adam_lr=1e-2, gd_steps=600, records=6, workers=1,
    )  # fmt: skip
    th, sim = nc.theory(p), nc.simulate(p, 0)
    assert sim["balance_rate"][0] == pytest.approx(th["balance_rate"][0], rel=0.01)
    assert abs(sim["balance_rate"][1]) < 1e-3 * th["balance_rate"][0]
    assert sim["kappa_position"].shape == (2, 1)


def test_the_head_profile_law_is_refused_when_wrong():
    """Evaluate the checks on made-up statistics: a straight-line law off by 5 % fails."""
    p = nc.Params()
    th = nc.theory(p)
    mean = {k: np.asarray(v, dtype=float).copy() for k, v in th.items()}
    mean.update(
        accuracy=np.ones(2), balancedness=np.array([[0.01, 0.01], [1.0, 1.0]]),
        nc1=np.array([[1, 0.1, 0.02, 0.01, 0.01, 0.01], [3, 3, 3, 2, 2, 0.0]]),
        nc3=np.array([0.99, 0.2]), kappa_position=np.array([[0.5], [0.9]]),
        balance_rate=np.array([5e-4, 0.0]),
    )  # fmt: skip
    sem = {k: np.zeros_like(v) for k, v in mean.items()}
    assert all(r.passed for r in EXP.evaluate(p, th, mean, sem, 3))
    wrong = dict(th, kappa_position=th["kappa_position"] * 1.05)
    assert not all(r.passed for r in EXP.evaluate(p, wrong, mean, sem, 3))
    wrong = dict(th, balance_rate=th["balance_rate"] * 1.03)
    assert not all(r.passed for r in EXP.evaluate(p, wrong, mean, sem, 3))
