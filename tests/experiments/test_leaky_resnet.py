"""leaky_resnet (arXiv 2405.17573): theory, validation, and a fast run of the measurements
(the Hamiltonian check is gated on stationarity: NaN, a failure, when the gate is not met); the
layer-steps variant (Sec. 3, Fig. 2a): a fast run and its checks' power."""

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
     ({"width": 8}, "width"), ({"mode": "layer_steps", "n_test": 1, "depths": (3, 6)}, "depths"),
     ({"mode": "layer_steps", "n_test": 0}, "n_test"), ({"depths": (6, 4)}, "depths"),
     ({"k_first": 1}, "k_first")],
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
    _, y, v, x_test, _ = lr.task(p, 0)
    assert x_test.shape == (p.d, 0)
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


def test_layer_steps_short_run():
    """The three schemes share one initialisation; the irregular steps stay fixed, the adaptive
    ones are learned (Σρ = 1); the ratios are adaptive / equidistant."""
    small = {"n_points": 16, "n_test": 8, "width": 8, "teacher_width": 8, "d": 4, "k": 1,
             "k_first": 2, "adam_steps": 30, "adapt_every": 10, "workers": 1}
    p = EXP.make_params({**lr.LAYER_STEPS, **small, "depths": (4, 5)})
    x, y, _, x_test, y_test = lr.task(p, 0)
    assert x.shape == (4, 16) and x_test.shape == y_test.shape == (4, 8)
    both = np.hstack([y, y_test])
    assert np.sum(both**2) / 24 == pytest.approx(1.0)  # train and test normalised together
    out = lr.simulate(p, 0)
    assert out["test_error"].shape == out["train_cost"].shape == (2, 3)
    assert out["steps"].shape == (2, 5) and np.isnan(out["steps"][0, 4])
    np.testing.assert_allclose(np.nansum(out["steps"], axis=1), 1.0)
    ad, eq = lr.SCHEMES.index("adaptive"), lr.SCHEMES.index("equidistant")
    test = out["test_error"]
    np.testing.assert_allclose(out["test_ratio"], test[:, ad] / test[:, eq])
    np.testing.assert_allclose(out["first_step"], out["steps"][:, 0] * np.array(p.depths))
    assert out["last_step"][1] == pytest.approx(out["steps"][1, 4] * 5)


def _name(row) -> str:
    return row.observable.split(" ")[0]


def _steps_rows(sim: dict):
    p = EXP.make_params(lr.LAYER_STEPS)
    th = lr.theory(p)
    return EXP.evaluate(p, th, sim, {k: np.zeros_like(np.asarray(v)) for k, v in sim.items()}, 3)


def test_layer_steps_checks_detect_swapped_schemes():
    """The layer-steps checks apply only to that mode and fail when the schemes' labels are
    swapped (equidistant called adaptive), the learned steps reversed along depth, or the
    adaptive update does nothing (every ratio exactly 1: no gain is not a gain)."""
    test = np.array([[0.17, 0.18, 0.15], [0.16, 0.16, 0.155], [0.16, 0.16, 0.16]])
    train = np.array([[0.09, 0.09, 0.07], [0.08, 0.08, 0.08], [0.08, 0.08, 0.08]])
    sim = {"train_cost": train, "test_ratio": test[:, 2] / test[:, 0],
           "train_ratio": train[:, 2] / train[:, 0], "first_step": np.array([0.6, 0.6, 0.6]),
           "last_step": np.array([1.3, 0.8, 0.7])}
    rows = _steps_rows(sim)
    assert {_name(r) for r in rows} == {"train_cost", "test_ratio", "train_ratio",
                                            "first_step", "last_step"}
    assert all(r.passed for r in rows)
    swapped = {**sim, "test_ratio": 1 / sim["test_ratio"], "train_ratio": 1 / sim["train_ratio"]}
    failed = {_name(r) for r in _steps_rows(swapped) if not r.passed}
    assert failed == {"test_ratio", "train_ratio"}
    reversed_steps = {**sim, "first_step": np.array([1.3, 0.8, 0.7]),
                      "last_step": np.array([0.6, 0.6, 1.2])}
    failed = {_name(r) for r in _steps_rows(reversed_steps) if not r.passed}
    assert failed == {"first_step", "last_step"}
    ones = np.ones(3)  # a no-op adaptive update: the adaptive network is the equidistant one
    noop = {**sim, "test_ratio": ones, "train_ratio": ones, "first_step": ones, "last_step": ones}
    failed = {_name(r) for r in _steps_rows(noop) if not r.passed}
    assert failed == {"test_ratio", "train_ratio", "first_step", "last_step"}
    main = EXP.make_params()
    assert all(_name(r) not in sim for r in EXP.evaluate(main, lr.theory(main)))
