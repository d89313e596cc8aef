"""deep_random_features (arXiv 2302.00401): reference values, exact averages, theory vs
simulation, and checks that fail when the theory is off by a few per cent."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import theorylab as tl
from theorylab.experiments import deep_random_features as drf
from theorylab.theory.feature_covariance import propagate
from theorylab.theory.hermite import hermite_coefficients
from theorylab.theory.ridge import FeatureMoments, ridge_test_error

ALPHAS = (0.5, 1.0, 2.0, 3.0, 4.0)

# Theory rows of the reference table of the paper note (../shared/papers/
# 2302.00401-deep_random_features.md, "Checks"): d = 200, k = 400, k* = 200, sign target,
# weights from numpy default_rng(42) in the order θ, W*, W_1, … (our draw_weights order), one
# drawn target (``eg_draw``). We do NOT reproduce them exactly: our values are 0.1–0.84 %
# higher (max at door, L = 1, n/d = 2), uniformly across activations, depths and also for the
# larger instance below, under every variance convention we tried (population / trace /
# per-neuron, teacher κ per neuron, arcsin teacher kernel) — so some convention of the note's
# own computation differs. Other draw orders move the numbers by 2–45 %, so the 1 % agreement
# does pin the instance.
NOTE_TABLE = {
    ("tanh", 2, 0.01): (0.9280, 0.8651, 0.6550, 0.5605, 0.5102),
    ("tanh", 1, 0.001): (0.9044, 1.0924, 1.4230, 0.8304, 0.6050),
    ("door", 1, 0.001): (0.9761, 1.7248, 0.9958, 0.6821, 0.5296),
    ("door", 3, 0.001): (1.1799, 1.2939, 1.5606, 0.8764, 0.6346),
    ("sign", 2, 0.01): (0.9352, 1.2435, 2.6032, 1.5156, 1.0921),
}


@pytest.mark.parametrize(("activation", "depth", "lam"), list(NOTE_TABLE))
def test_note_reference_table_within_one_percent(activation, depth, lam):
    p = drf.Params(activation=activation, depth=(depth,), lam=(lam,), alpha=ALPHAS, d=200)
    th = drf.theory(p)
    assert th["solver"].converged
    np.testing.assert_allclose(th["eg_draw"][0, 0], NOTE_TABLE[(activation, depth, lam)], rtol=0.01)


def test_shared_feature_case_reference_values():
    # Note, "Checks", proven case: tanh, L = 2, d = 200, k = 400, y = θ*·v/√k + 0.1 ξ, λ = 0.01,
    # weights default_rng(3) drawn as W_1, W_2, then θ* ~ N(0, I_k): theory 0.1027 / 0.0512 /
    # 0.0254 / 0.0163 at n/d = 0.5 / 1 / 2 / 4 (reproduced to all printed digits).
    d, k = 200, 400
    rng = np.random.default_rng(3)
    w1 = rng.standard_normal((k, d)) / np.sqrt(d)
    w2 = rng.standard_normal((k, k)) / np.sqrt(k)
    theta_star = rng.standard_normal(k)
    c = propagate([w1, w2], ["tanh", "tanh"], np.eye(d), variance="population").omega / k
    moments = FeatureMoments(c, c @ theta_star, float(theta_star @ c @ theta_star) + 0.01)
    err, status = ridge_test_error(moments, np.array([0.5, 1, 2, 4]) * d, 0.01)
    assert status.converged
    np.testing.assert_allclose(err, [0.1027, 0.0512, 0.0254, 0.0163], atol=5e-5)


@pytest.mark.slow
def test_larger_instance_reference_within_one_percent():
    # Note: d = 600, k_1 = k_2 = 2400, k* = 1200, tanh, L = 2, λ = 0.001, default_rng(7):
    # 0.9256, 0.9822, 0.9365, 1.0429 (peak at n = k), 0.8030, 0.6441 at n/d = 0.5 … 8. Ours are
    # 0.3–0.65 % higher (same unexplained offset as the quick table).
    p = drf.EXPERIMENT.make_params(preset="full")
    th = drf.theory(p)
    np.testing.assert_allclose(
        th["eg_draw"][0, 0], [0.9256, 0.9822, 0.9365, 1.0429, 0.8030, 0.6441], rtol=0.01
    )


def test_interpolation_peaks():
    # Strongly non-linear features at small λ peak at n = k (n/d = γ = 2): tanh at L = 1
    # (κ* = 0.166), sign at L = 2. Door at L = 1 is almost linear (κ* = 0.107 vs κ1 = 1.05) and
    # peaks near n = d instead (the rank-d linear part of its features).
    alpha = tuple(np.round(np.linspace(0.6, 3.4, 57), 4))

    def peak(**kw):
        curve = drf.theory(drf.Params(alpha=alpha, **kw))["eg"][0, 0]
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
    # Nothing learned (λ → ∞): the error is E y² — E sign² = 1 averaged; θᵀΨθ/k* drawn.
    big = drf.theory(dataclasses.replace(p, lam=(1e6,)))
    np.testing.assert_allclose(big["eg"], 1.0, rtol=1e-4)
    w = drf.draw_weights(p)
    psi = (2 / np.pi) * w.teacher @ w.teacher.T + (1 - 2 / np.pi) * np.eye(p.teacher_width)
    np.testing.assert_allclose(big["eg_draw"], w.theta @ psi @ w.theta / 100, rtol=1e-4)
    # Shared-feature target: n → ∞ leaves only its label noise.
    far = drf.theory(dataclasses.replace(p, alpha=(500.0,), lam=(1e-3,)))
    np.testing.assert_allclose(far["eg_shared"], p.shared_noise, rtol=0.02)


def test_target_average_equals_monte_carlo_over_target_draws():
    # The target-averaged prediction (exact: linear in ψψᵀ and E y²) against the mean of the
    # per-draw predictions over 600 draws of (θ, W*) at d = 20, k = 40, k* = 20, same student.
    p = drf.Params(d=20, depth=(2,), alpha=(0.5, 1.5, 3.0), lam=(0.01, 0.3))
    exact = drf.theory(p)["eg"][0]
    w = drf.draw_weights(p)
    tc = hermite_coefficients("sign", variance=1.0)
    k, ks, d = p.width, p.teacher_width, p.d
    prop = propagate(
        w.student, ["tanh"] * 2, np.eye(d), tc.kappa1 * np.eye(d), variance="population"
    )
    omega, linear_part = prop.omega, prop.phi  # Φ = (linear part)·W*ᵀ for any drawn W*
    rng = np.random.default_rng(11)
    errs = []
    for _ in range(600):
        theta = rng.standard_normal(ks)
        wt = rng.standard_normal((ks, d)) / np.sqrt(d)
        phi = linear_part @ wt.T
        psi = tc.kappa1**2 * wt @ wt.T + tc.kappa_star**2 * np.eye(ks)
        mom = FeatureMoments(omega / k, phi @ theta / np.sqrt(k * ks), theta @ psi @ theta / ks)
        errs.append(ridge_test_error(mom, p.samples()[None, :], np.array(p.lam)[:, None])[0])
    errs = np.array(errs)
    sem = errs.std(axis=0, ddof=1) / np.sqrt(len(errs))
    assert np.all(np.abs(errs.mean(axis=0) - exact) <= 3 * sem)
    assert np.all(sem / exact < 0.02)  # one draw spreads by ±30–50 % at d = 20: 2 % has teeth


def test_mp_limit_is_close_to_the_drawn_one_layer_equivalent():
    # At d = 200 the drawn-student L = 1 prediction and its d → ∞ form differ by O(1/d).
    th = drf.theory(drf.Params())
    np.testing.assert_allclose(th["eg_mp"], th["eg"][0], rtol=3e-3)


def test_weights_follow_the_documented_draw_order():
    p = drf.Params(depth=(2,), d=20, gamma=1.5, teacher_ratio=0.5)
    w = drf.draw_weights(p)
    rng = np.random.default_rng(p.weight_seed)
    np.testing.assert_array_equal(w.theta, rng.standard_normal(10))
    np.testing.assert_array_equal(w.teacher, rng.standard_normal((10, 20)) / np.sqrt(20))
    np.testing.assert_array_equal(w.student[0], rng.standard_normal((30, 20)) / np.sqrt(20))
    np.testing.assert_array_equal(w.student[1], rng.standard_normal((30, 30)) / np.sqrt(30))
    # Depth-1 results do not depend on how many deeper layers are drawn.
    small = {"d": 50, "alpha": (1.0,)}
    a = drf.theory(drf.Params(depth=(1,), **small))["eg_draw"][0]
    b = drf.theory(drf.Params(depth=(3, 1), **small))["eg_draw"][1]
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_simulation_is_seeded_and_has_theory_shapes():
    p = drf.Params(d=30, alpha=(0.5, 2.0), depth=(1, 2), n_test=100, draws=2)
    a, b = drf.simulate(p, 3), drf.simulate(p, 3)
    th = drf.theory(p)
    for name, value in a.items():
        np.testing.assert_array_equal(value, b[name])
        assert np.shape(value) == np.shape(th[name])
    assert not np.allclose(drf.simulate(p, 4)["eg"], a["eg"])
    # One draw per seed is the first draw of a seed with more draws.
    one = drf.simulate(dataclasses.replace(p, draws=1), 3)
    two = drf.simulate(dataclasses.replace(p, draws=2), 3)
    assert not np.allclose(one["eg"], two["eg"])


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
        ({"gamma": 0.05, "d": 2}, "gamma"),
        ({"noise": -0.1}, "noise"),
        ({"draws": 0}, "draws"),
    ],
)
def test_params_validation(overrides, match):
    with pytest.raises(ValueError, match=match):
        drf.EXPERIMENT.make_params(overrides)


# --------------------------------------------------------------------------------------------
# Theory against simulation at the quick size, and checks that can fail
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_run():
    return tl.run("deep_random_features")


def test_quick_run_passes(quick_run):
    """Every check at the quick size: d = 200, k = 400, k* = 200, depths 1–3."""
    failed = [c for c in quick_run.checks if not c.passed]
    assert quick_run.passed, failed
    agreements = [c for c in quick_run.checks if c.kind == "agreement"]
    # eg, eg_shared (3 × 2 × 5 each), eg_mp (2 × 5), eg_opt and λ* (3 × 5 each).
    assert len(agreements) == 30 + 30 + 10 + 15 + 15
    theory_rows = [c for c in agreements if not c.observable.startswith("lambda_opt")]
    assert max(c.resolution for c in theory_rows) <= drf.PEAK_RESOLUTION
    off_peak = [c for c in theory_rows if any(f"alpha={a}]" in c.observable for a in (0.5, 3, 4))]
    assert max(c.resolution for c in off_peak) <= 0.03


@pytest.mark.parametrize("factor", [1.03, 0.97])
def test_checks_fail_when_the_main_prediction_is_off_by_three_percent(quick_run, factor):
    """The deliberate break: every error prediction scaled by ``factor``; some row must fail."""
    th = dict(quick_run.theory)
    for name in ("eg", "eg_shared", "eg_mp", "eg_opt"):
        th[name] = np.asarray(th[name]) * factor
    sim = quick_run.simulation
    rows = drf.EXPERIMENT.evaluate(quick_run.params, th, sim.mean, sim.sem, sim.seeds)
    failed = {r.observable.split("[")[0] for r in rows if not r.passed}
    assert {"eg", "eg_shared", "eg_mp", "eg_opt"} <= failed


def test_a_wrong_kappa_fails_the_checks(quick_run, monkeypatch):
    """An independent mutation of the shared solver: κ1 of every layer 2 % too large."""
    import theorylab.theory.feature_covariance as fc

    real = fc.hermite_coefficients

    def wrong(activation, variance=1.0, **kw):
        c = real(activation, variance=variance, **kw)
        return dataclasses.replace(c, kappa1=1.02 * c.kappa1)

    monkeypatch.setattr(fc, "hermite_coefficients", wrong)
    drf.layer_moments.cache_clear()
    try:
        th = drf.theory(quick_run.params)
    finally:
        monkeypatch.undo()
        drf.layer_moments.cache_clear()
    sim = quick_run.simulation
    rows = drf.EXPERIMENT.evaluate(quick_run.params, th, sim.mean, sim.sem, sim.seeds)
    assert any(not r.passed for r in rows if r.observable.startswith("eg["))


@pytest.mark.slow
def test_quick_run_passes_on_three_seeds():
    assert tl.run("deep_random_features", seeds=3).passed


@pytest.mark.slow
@pytest.mark.parametrize("variant", drf.EXPERIMENT.variants, ids=lambda v: v.name)
def test_variants_pass(variant):
    assert tl.run("deep_random_features", dict(variant.overrides)).passed, variant.name


def test_figure_draws(quick_run):
    import matplotlib

    matplotlib.use("Agg")
    fig = drf.figure(quick_run)
    assert len(fig.axes) == len(quick_run.params.depth) + 2
    assert math.isfinite(float(np.sum(quick_run.theory["eg"])))
