"""deep_random_features (arXiv 2302.00401): reference values, properties, theory vs simulation."""

from __future__ import annotations

import numpy as np
import pytest

import theorylab as tl
from theorylab.experiments import deep_random_features as drf
from theorylab.experiments.base import CheckResult
from theorylab.theory.feature_covariance import propagate
from theorylab.theory.ridge import ridge_test_error

ALPHAS = (0.5, 1.0, 2.0, 3.0, 4.0)

# Theory rows of the reference table of the paper note (../shared/papers/
# 2302.00401-deep_random_features.md, "Checks"): d = 200, k = 400, k* = 200, sign target,
# weights from numpy default_rng(42) in the order θ, W*, W_1, … (our draw_weights order).
# We do NOT reproduce them exactly: our values are 0.1–0.84 % higher (max at door, L = 1,
# n/d = 2), uniformly across activations, depths and also for the larger instance below, under
# every variance convention we tried (population / trace / per-neuron, teacher κ per neuron,
# arcsin teacher kernel) — so some convention of the note's own computation differs. Other draw
# orders move the numbers by 2–45 %, so the 1 % agreement does pin the instance.
NOTE_TABLE = {
    ("tanh", 2, 0.01): (0.9280, 0.8651, 0.6550, 0.5605, 0.5102),
    ("tanh", 1, 0.001): (0.9044, 1.0924, 1.4230, 0.8304, 0.6050),
    ("door", 1, 0.001): (0.9761, 1.7248, 0.9958, 0.6821, 0.5296),
    ("door", 3, 0.001): (1.1799, 1.2939, 1.5606, 0.8764, 0.6346),
    ("sign", 2, 0.01): (0.9352, 1.2435, 2.6032, 1.5156, 1.0921),
}


@pytest.mark.parametrize(("activation", "depth", "lam"), list(NOTE_TABLE))
def test_note_reference_table_within_one_percent(activation, depth, lam):
    p = drf.Params(activation=activation, depth=(depth,), lam=(lam,), alpha=ALPHAS)
    th = drf.learning_curves(p, optimal=False)
    assert th["solver"].converged
    np.testing.assert_allclose(th["eg"][0, 0], NOTE_TABLE[(activation, depth, lam)], rtol=0.01)


def test_shared_feature_case_reference_values():
    # Note, "Checks", proven case: tanh, L = 2, d = 200, k = 400, y = θ*·v/√k + 0.1 ξ, λ = 0.01,
    # weights default_rng(3) drawn as W_1, W_2, then θ* ~ N(0, I_k): theory 0.1027 / 0.0512 /
    # 0.0254 / 0.0163 at n/d = 0.5 / 1 / 2 / 4 (reproduced to all printed digits).
    d, k = 200, 400
    rng = np.random.default_rng(3)
    w1 = rng.standard_normal((k, d)) / np.sqrt(d)
    w2 = rng.standard_normal((k, k)) / np.sqrt(k)
    theta_star = rng.standard_normal(k)
    omega = propagate([w1, w2], ["tanh", "tanh"], np.eye(d), variance="population").omega
    moments = drf.shared_feature_moments(omega, theta_star, 0.01)
    err, status = ridge_test_error(moments, np.array([0.5, 1, 2, 4]) * d, 0.01)
    assert status.converged
    np.testing.assert_allclose(err, [0.1027, 0.0512, 0.0254, 0.0163], atol=5e-5)


@pytest.mark.slow
def test_larger_instance_reference_within_one_percent():
    # Note: d = 600, k_1 = k_2 = 2400, k* = 1200, tanh, L = 2, λ = 0.001, default_rng(7):
    # 0.9256, 0.9822, 0.9365, 1.0429 (peak at n = k), 0.8030, 0.6441 at n/d = 0.5 … 8. Ours are
    # 0.3–0.65 % higher (same unexplained offset as the quick table).
    p = drf.EXPERIMENT.make_params(preset="full")
    th = drf.learning_curves(p, optimal=False)
    np.testing.assert_allclose(
        th["eg"][0, 0], [0.9256, 0.9822, 0.9365, 1.0429, 0.8030, 0.6441], rtol=0.01
    )


def test_interpolation_peaks():
    # Strongly non-linear features at small λ peak at n = k (n/d = γ = 2): tanh at L = 1
    # (κ* = 0.166), sign at L = 2. Door at L = 1 is almost linear (κ* = 0.107 vs κ1 = 1.05) and
    # peaks near n = d instead (note, remark under the table). (tanh at L = 2 has κ* = 0.081 in
    # its last layer: its λ = 0.001 curve is a broad bump between n = d and n = k.)
    alpha = tuple(np.round(np.linspace(0.6, 3.4, 57), 4))

    def peak(**kw):
        curve = drf.learning_curves(drf.Params(alpha=alpha, **kw), optimal=False)["eg"][0, 0]
        return alpha[int(np.argmax(curve))]

    assert peak(activation="tanh", depth=(1,), lam=(0.001,)) == pytest.approx(2.0, abs=0.15)
    assert peak(activation="sign", depth=(2,), lam=(0.01,)) == pytest.approx(2.0, abs=0.15)
    assert peak(activation="door", depth=(1,), lam=(0.001,)) == pytest.approx(1.0, abs=0.15)


def test_theory_invariants():
    p = drf.Params(alpha=(0.5, 2.0, 6.0), depth=(1, 2), d=100)
    th = drf.theory(p)
    assert th["solver"].converged
    # λ* minimises the error: never above the error at any of the fixed λ.
    assert np.all(th["eg_opt"] <= th["eg"].min(axis=1) + 1e-10)
    # E y² = θᵀΨθ/k* with Ψ = κ1*² W*W*ᵀ + κ**² I (sign: κ1*² + κ**² = 1 on the diagonal).
    w = drf.draw_weights(p)
    psi = (2 / np.pi) * w.teacher @ w.teacher.T + (1 - 2 / np.pi) * np.eye(p.teacher_width)
    assert th["target_power"] == pytest.approx(w.theta @ psi @ w.theta / 100, rel=1e-12)
    # Nothing learned (λ → ∞): the error is E y².
    big = drf.learning_curves(
        drf.Params(depth=(2,), lam=(1e9,), alpha=(1.0,), d=100), optimal=False
    )
    assert big["eg"][0, 0, 0] == pytest.approx(th["target_power"], rel=1e-5)


def test_weights_follow_the_documented_draw_order():
    p = drf.Params(depth=(2,), d=20, gamma=1.5, teacher_ratio=0.5)
    w = drf.draw_weights(p)
    rng = np.random.default_rng(p.weight_seed)
    np.testing.assert_array_equal(w.theta, rng.standard_normal(10))
    np.testing.assert_array_equal(w.teacher, rng.standard_normal((10, 20)) / np.sqrt(20))
    np.testing.assert_array_equal(w.student[0], rng.standard_normal((30, 20)) / np.sqrt(20))
    np.testing.assert_array_equal(w.student[1], rng.standard_normal((30, 30)) / np.sqrt(30))
    np.testing.assert_array_equal(w.theta_star, rng.standard_normal(30))
    # Depth-1 results do not depend on how many deeper layers are drawn.
    small = {"d": 50, "alpha": (1.0,)}
    a = drf.learning_curves(drf.Params(depth=(1,), **small), optimal=False)["eg"][0]
    b = drf.learning_curves(drf.Params(depth=(3, 1), **small), optimal=False)["eg"][1]
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_simulation_is_seeded_and_has_theory_shapes():
    p = drf.Params(d=40, alpha=(0.5, 2.0), depth=(1, 2), n_test=300)
    a, b = drf.simulate(p, 3), drf.simulate(p, 3)
    for name in ("eg", "eg_gauss", "eg_shared", "universality"):
        np.testing.assert_array_equal(a[name], b[name])
        assert np.asarray(a[name]).shape == (2, 2, 2)
    np.testing.assert_allclose(a["universality"], a["eg"] / a["eg_gauss"])
    assert not np.allclose(drf.simulate(p, 4)["eg"], a["eg"])


def test_gaussian_equivalent_factors_reproduce_the_moments():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 6))
    beta = rng.standard_normal(6)
    omega = a @ a.T
    mom = drf.FeatureMoments(omega, omega @ beta, float(beta @ omega @ beta) + 0.3)
    root, b, residual = drf.gaussian_equivalent_factors(mom)
    np.testing.assert_allclose(root @ root.T, omega, atol=1e-12)
    np.testing.assert_allclose(b, beta, rtol=1e-9)
    assert float(residual) == pytest.approx(0.3, rel=1e-9)


def test_peak_aware_tolerance():
    p = drf.Params(alpha=(1.0, 2.0), depth=(1,), lam=(0.01,))
    theory = {"eg": np.array([[[1.0, 1.0]]])}
    mean = {"eg": np.array([[[1.08, 1.08]]])}
    sem = {"eg": np.zeros((1, 1, 2))}
    check = drf.PeakAwareAgreement("eg", "test", rtol_far=0.05, rtol_peak=0.12)
    rows = check.evaluate(p, theory, mean, sem, drf.EXPERIMENT.axes)
    assert all(isinstance(r, CheckResult) for r in rows)
    by_label = {r.observable: r.passed for r in rows}
    assert by_label == {
        "eg[depth=1, lam=0.01, alpha=1]": False,
        "eg[depth=1, lam=0.01, alpha=2]": True,
    }


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"alpha": (-1.0,)}, "alpha"),
        ({"alpha": ()}, "alpha"),
        ({"lam": (0.0,)}, "lam"),
        ({"depth": (0,)}, "depth"),
        ({"depth": (2, 2)}, "depth"),
        ({"activation": "relu"}, "activation"),
        ({"activation": "foo"}, "activation"),
        ({"target_activation": "abs"}, "target_activation"),
        ({"d": 1}, "d"),
        ({"gamma": -2.0}, "gamma"),
        ({"noise": -0.1}, "noise"),
    ],
)
def test_params_validation(overrides, match):
    with pytest.raises(ValueError, match=match):
        drf.Params(**overrides)


def test_quick_run_passes():
    """The note's check at the quick size: d = 200, k = 400, k* = 200, depths 1–3, 10 seeds."""
    result = tl.run("deep_random_features")
    failed = [c for c in result.checks if not c.passed]
    assert result.passed, failed
    per_curve = 3 * 2 * 5  # depth × λ × n/d
    assert len([c for c in result.checks if c.kind == "agreement"]) == 4 * per_curve + 1


@pytest.mark.slow
@pytest.mark.parametrize("variant", drf.EXPERIMENT.variants, ids=lambda v: v.name)
def test_variants_pass(variant):
    assert tl.run("deep_random_features", dict(variant.overrides)).passed, variant.name
