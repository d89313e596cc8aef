"""rainbow_features (arXiv 2402.13999): note's reference values, pieces, theory vs simulation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import theorylab as tl
from theorylab.experiments import rainbow_features as rf

# A small setting for shape/seed tests (seconds, not the quick size).
TINY = {
    "d": 40,
    "width1": 60,
    "width2": 50,
    "teacher_width": 30,
    "n_test": 300,
    "n_emp": 2000,
    "trained_width": 20,
    "train_samples": 100,
    "train_steps": 5,
}


def _closed(p: rf.Params):
    weights = rf.rainbow_weights(p)
    return rf.closed_form_moments(weights, [p.activation] * 2, rf.teacher(p))


@pytest.mark.parametrize("weight_seed", [0, 1, 2])
def test_layer_constants_match_the_note(weight_seed):
    """Paper note (2402.13999, Checks): r = 0.999, κ1 = 0.606, κ* = 0.165 (layer 1) and
    r = 0.588, κ1 = 0.783, κ* = 0.072 (layer 2) for the quick-size net; they concentrate, so
    any draw matches to ~1e-2."""
    _, prop = _closed(rf.Params(weight_seed=weight_seed))
    l1, l2 = prop.constants
    assert np.sqrt(l1.variance) == pytest.approx(0.999, abs=1e-2)
    assert l1.kappa1 == pytest.approx(0.606, abs=1e-2)
    assert l1.kappa_star == pytest.approx(0.165, abs=1e-2)
    assert np.sqrt(l2.variance) == pytest.approx(0.588, abs=1e-2)
    assert l2.kappa1 == pytest.approx(0.783, abs=1e-2)
    assert l2.kappa_star == pytest.approx(0.072, abs=1e-2)


def test_learning_curve_shape_matches_the_note():
    """Paper note's one-draw closed-form errors: λ = 1: 0.248 (n = 1000), 0.176 (n = 2000);
    λ = 10: 0.213, 0.170. Absolute values scale with the teacher's power E y², which moves by
    ~8 % between draws (‖θ‖²/p* has relative sd √(2/300)); the ratio n = 2000 / n = 1000
    cancels it and must match to 2 % (draw-to-draw spread of the ratio ≲ 1 %)."""
    p = rf.Params(alpha=(2.0, 4.0), lam=(1.0, 10.0))
    moments, _ = _closed(p)
    eg, status = rf.learning_curves(moments, p, p.width2)
    assert status.converged
    assert eg[0, 1] / eg[0, 0] == pytest.approx(0.176 / 0.248, rel=0.02)
    assert eg[1, 1] / eg[1, 0] == pytest.approx(0.170 / 0.213, rel=0.02)
    # Absolute values: within the teacher-power spread (stated: 20 %, 2.5 sd of E y²).
    np.testing.assert_allclose(eg, [[0.248, 0.176], [0.213, 0.170]], rtol=0.2)


def test_teacher_moments_against_monte_carlo():
    """ψ₀ = E[x y] (exact by Stein's lemma) and E y² against 200 000 samples."""
    p = rf.Params(**TINY)
    t = rf.teacher(p)
    psi0, power = rf.teacher_moments(t, p.d)
    rng = np.random.default_rng(9)
    x = rng.standard_normal((200_000, p.d))
    y = t(x, rng)
    se = np.sqrt(np.mean(y**2) / len(y))  # sd of each ψ₀ entry's estimate (x_i has unit variance)
    np.testing.assert_allclose(x.T @ y / len(y), psi0, atol=5 * se)
    assert power == pytest.approx(np.mean(y**2), rel=0.02)


def test_closed_form_matches_monte_carlo_omega():
    """Note: closed-form Ω differs from the 40 000-sample empirical Ω by 9 % in operator norm
    (largely sampling noise); E y² and ψ of the two routes agree up to sampling noise."""
    p = rf.Params()  # the quick setting: its moments are cached for the quick run below
    th = rf.theory(p)
    assert 0.04 < th["omega_rel_diff"] < 0.15
    mom = rf.rainbow_moments(p)
    assert mom.empirical.label_power == pytest.approx(mom.closed.label_power, rel=0.02)
    # ψ̂ = mean of φ y over N samples: E‖ψ̂ − ψ‖² ≈ Σ_i (Ω_ii E y² + ψ_i²)/N (Gaussian fourth
    # moments); allow 1.5 times that noise level.
    c = mom.closed
    noise = np.sqrt(np.sum(np.diag(c.omega) * c.label_power + c.psi**2) / p.n_emp)
    assert np.linalg.norm(mom.empirical.psi - c.psi) < 1.5 * noise


def test_peak_ratio():
    errors = np.array([[1.0, 3.0, 2.0, 1.5], [1.0, 0.8, 0.6, 0.5]])
    np.testing.assert_allclose(rf.peak_ratio(errors, (0.5, 1.0, 2.0, 4.0)), [1.5, 0.8])
    # Unsorted grid, α = 1 at the end: one neighbour only.
    np.testing.assert_allclose(rf.peak_ratio(errors[:, :2], (1.0, 0.5)), [1 / 3, 1 / 0.8])
    assert np.all(np.isnan(rf.peak_ratio(errors[:, :1], (1.0,))))


def test_ridge_errors_use_the_sum_convention():
    """θ̂ = (FᵀF + λI)⁻¹Fᵀy (the authors' lstsq(..., l2_regularizer=λ)), brute force."""
    rng = np.random.default_rng(0)
    f = rng.standard_normal((90, 12))
    y = f @ rng.standard_normal(12) + rng.standard_normal(90)
    ft, yt = torch.from_numpy(f), torch.from_numpy(y)
    ns, lams = [8, 30, 60], [0.01, 5.0]
    got = rf.ridge_errors(ft[:60], yt[:60], ft[60:], yt[60:], ns, lams)
    for i, lam in enumerate(lams):
        for j, n in enumerate(ns):
            w = np.linalg.solve(f[:n].T @ f[:n] + lam * np.eye(12), f[:n].T @ y[:n])
            assert got[i, j] == pytest.approx(np.mean((y[60:] - f[60:] @ w) ** 2), rel=1e-8)


def test_sample_sizes():
    p = rf.Params(alpha=(0.5, 1.0, 2.0, 4.0))
    np.testing.assert_array_equal(rf.sample_sizes(p, 500), [250, 500, 1000, 2000])
    np.testing.assert_array_equal(rf.sample_sizes(p, 200), [100, 200, 400, 800])


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"alpha": (-1.0,)}, "alpha"),
        ({"alpha": ()}, "alpha"),
        ({"lam": (0.0,)}, "lam"),
        ({"d": 1}, "d"),
        ({"activation": "relu"}, "activation"),
        ({"activation": "foo"}, "activation"),
        ({"teacher_activation": "quadratic"}, "teacher_activation"),
        ({"noise": -0.1}, "noise"),
        ({"n_emp": 1}, "n_emp"),
        ({"gram_shift": 0.0}, "gram_shift"),
        ({"train_steps": -1}, "train_steps"),
        ({"learning_rate": 0.0}, "learning_rate"),
    ],
)
def test_params_validation(overrides, match):
    with pytest.raises(ValueError, match=match):
        rf.Params(**overrides)


def test_theory_is_deterministic_and_weights_are_shared():
    p = rf.Params(**TINY)
    a, b = rf.theory(p), rf.theory(rf.Params(**TINY))
    np.testing.assert_array_equal(a["eg"], b["eg"])
    np.testing.assert_array_equal(a["eg_emp"], b["eg_emp"])
    assert a["eg"].shape == (len(p.lam), len(p.alpha))
    other = rf.theory(rf.Params(**{**TINY, "weight_seed": 1}))
    assert not np.allclose(other["eg"], a["eg"])


def test_simulation_is_seeded_and_has_theory_shapes():
    p = rf.Params(**TINY)
    a, b = rf.simulate(p, 3), rf.simulate(p, 3)
    np.testing.assert_array_equal(a["eg"], b["eg"])
    np.testing.assert_array_equal(a["eg_trained"], b["eg_trained"])
    assert np.asarray(a["eg"]).shape == (len(p.lam), len(p.alpha))
    assert np.asarray(a["eg_trained"]).shape == (len(p.lam), len(p.alpha))
    assert np.asarray(a["peak_ratio"]).shape == (len(p.lam),)
    c = rf.simulate(p, 4)
    assert not np.allclose(c["eg"], a["eg"])
    np.testing.assert_array_equal(c["eg_trained_emp"], a["eg_trained_emp"])  # same trained net


def test_quick_run_passes_and_draws_the_figure(tmp_path):
    """The paper's check at the note's quick size: d = 400, p = (600, 500), 4 seeds."""
    result = tl.run("rainbow_features")
    failed = [c for c in result.checks if not c.passed]
    assert result.passed, failed
    kinds = [c.kind for c in result.checks]
    assert kinds.count("agreement") == 9 + 3  # eg off the peak; r1, r2, E y²
    assert kinds.count("criterion ==") == 9  # empirical Ω off the peak, 3 λ × 3 α
    assert kinds.count("criterion >=") == 2  # the peak in simulation and theory
    fig = rf.EXPERIMENT.figure(result)
    fig.savefig(tmp_path / "rainbow.png")
    # Training helped, and the trained net's theories are shown (documented finding).
    mean = result.simulation["mean"]
    assert np.all(np.asarray(mean["eg_trained"]) < np.asarray(mean["eg_trained_init"]))
