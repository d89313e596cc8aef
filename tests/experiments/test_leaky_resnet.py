"""leaky_resnet (arXiv 2405.17573): theory, validation, and a fast run of the measurements
(the Hamiltonian check is gated on stationarity: NaN, a failure, when the gate is not met)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorylab.experiments import leaky_resnet as lr

EXP = lr.EXPERIMENT


def test_theory():
    th = lr.theory(lr.Params(k=3))
    assert th["bottleneck_dim"] == 4.0
    assert np.all(np.isnan(th["srank"])) and th["srank"].shape == (2, 11)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [({"leaks": (5.0, 1.0)}, "increasing"), ({"depth": 5}, "depth"), ({"k": 10}, "k"),
     ({"width": 8}, "width")],
)
def test_validation(overrides, match):
    with pytest.raises(ValueError, match=match):
        EXP.make_params(overrides)


def test_measurements_of_a_short_run():
    small = {"depth": 6, "n_points": 16, "width": 8, "teacher_width": 8, "d": 4}
    p = EXP.make_params({"leaks": (1.0, 3.0), "adam_steps": 50, "lbfgs_max_iter": 20, **small})
    out = lr.train_leak(p, 0, 3.0)
    assert out["srank"].shape == (7,) and out["ham"].shape == (7,)
    assert out["min_srank"] == pytest.approx(out["srank"].min())
    assert out["adaptive_rho"].sum() == pytest.approx(1.0)
    # far from a critical point: the gate fails and the Hamiltonian check cannot pass
    assert out["stationarity"] > lr.GATE and math.isfinite(out["h_spread_ratio"])
    assert lr.hamiltonian_verdict(out["stationarity"], 0.0)[0] is False
    assert 0 <= out["kinks"] <= (p.depth - 1) * p.width * p.n_points
    _, y, v = lr.task(p, 0)
    assert np.sum(y**2) / p.n_points == pytest.approx(1.0)
    np.testing.assert_allclose(v.T @ v, np.eye(p.d), atol=1e-12)


def test_hamiltonian_verdict_is_gated():
    assert lr.hamiltonian_verdict(0.3, 0.01) == (False, "not stationary: gate 0.3 >= 0.05")
    assert lr.hamiltonian_verdict(float("nan"), 0.01)[0] is False
    assert lr.hamiltonian_verdict(0.01, 0.1)[0] is True
    assert lr.hamiltonian_verdict(0.01, 0.5)[0] is False


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="the Hamiltonian did not reproduce at quick size: the quick networks miss the "
    "stationarity gate (seed 0: 0.66 at L̃ = 1, 4.1 at L̃ = 6, > 0.05; pre-activations gather "
    "on the ReLU kink, where the loss is not differentiable)",
)
def test_hamiltonian_check_is_gated():
    """Thm. 4's conservation of H along p, at the quick setting, behind the stationarity gate
    (issue 15: an unmet gate is a failure with its number, never a pass)."""
    p = EXP.make_params({"workers": 1})
    for leak in p.leaks:
        out = lr.train_leak(p, 0, leak)
        ok, message = lr.hamiltonian_verdict(out["stationarity"], out["h_spread_ratio"])
        assert ok, f"L̃ = {leak:g}: {message}"
