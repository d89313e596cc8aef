"""generative_collapse (arXiv 2501.03937): theory pieces and one small theory-vs-SGD run."""

from __future__ import annotations

import time

import numpy as np
import pytest

from theorylab.experiments import generative_collapse as gc


def test_theory_is_fast_and_consistent():
    p = gc.Params()
    start = time.perf_counter()
    th = gc.theory(p)
    assert time.perf_counter() - start < 3.0  # ≈ 0.2 s on an idle core; margin for load
    assert th["solver"].converged
    assert th["bulk_variance"] == pytest.approx(th["flow_scale"] ** 2)
    assert np.allclose(th["b"], th["b_closed_form"], atol=1e-8)
    assert np.allclose(th["quadrant"], 0.25, atol=1e-9)  # tanh is odd: a symmetric law
    assert th["retrain_b"][0] == pytest.approx(th["b"][-1], rel=1e-6)  # closed form vs RK4
    assert th["retrain_variance"][0] == pytest.approx(th["bulk_variance"], rel=1e-5)


def test_one_hidden_unit_loses_the_mode_at_minus_e2():
    """r = 1 (mode collapse): w never aligns with μ_2, so e_2·x is N(0, S²) — its |·| median
    is S·Φ⁻¹(3/4)."""
    th = gc.theory(gc.Params(hidden=1, generations=1))
    assert np.allclose(th["M"][:, 1, 0], 0.0, atol=1e-12)
    assert th["abs_quantile"][1, 1] == pytest.approx(th["flow_scale"] * 0.6744898, rel=1e-4)


def test_small_sgd_run_follows_the_ode():
    """d = 400, τ = 1 (2 000 steps): the overlaps within a few % of the ODE on one seed."""
    p = gc.Params(tau=(1.0,), d=400, d_retrain=100, generations=1, samples=500)
    th, sim = gc.theory(p), gc.simulate(p, 0)
    assert sim["M"][0, 0, 0] == pytest.approx(th["M"][0, 0, 0], rel=0.05)
    assert sim["M"][0, 1, 1] == pytest.approx(th["M"][0, 1, 1], rel=0.05)
    assert sim["b"][0] == pytest.approx(th["b"][0], rel=0.02)
    # S(b)² amplifies the O(‖μ‖²/d) = 2 % offset of b at d = 400 about eightfold
    assert sim["bulk_variance"] == pytest.approx(th["bulk_variance"], rel=0.15)


def test_one_hidden_unit_run_has_no_unselectable_rows():
    """r = 1 has no off-diagonal Q to check (the Q[1,2] row used to report "no element
    selected" and fail every r = 1 run) and takes the lost-mode allowance on the chain."""
    import theorylab as tl

    exp = tl.get("generative_collapse")
    result = tl.run(exp.slug, {**exp.smoke, "hidden": 1}, seeds=1)
    assert result.checks
    assert not [r.observable for r in result.checks if r.kind == "empty"]
    assert all("lost mode" in r.reason for r in result.checks
               if r.observable.startswith("retrain"))
    assert result.params.hidden == 1


def test_lost_mode_allowances_follow_from_the_recursion():
    """The declared lost-mode allowances are the theory's own response of b(τ; s²) and S(b) to
    the lost mode's share a²/3 of the data bulk, s² = 1 + a²/(3(d − 1)): the quantile shift at
    d = 2000 and the chain's at d_retrain = 1000."""
    from theorylab.theory.online_dae import bulk_scale, skip_weight

    p = gc.EXPERIMENT.make_params({"hidden": 1})
    t, tau = gc.target(p), p.tau[-1]

    def scale(d):
        s2 = 1 + p.mean_norm**2 / (3 * (d - 1))
        return float(bulk_scale(float(skip_weight(tau, t.beta, t.alpha, s2))))

    base = float(bulk_scale(float(skip_weight(tau, t.beta, t.alpha, 1.0))))
    assert scale(p.d) / base - 1 == pytest.approx(gc.LOST_MODE_QUANTILE, rel=0.05)
    # the first chain generation's variance S² moves by ≈ 1 %, inside LOST_MODE
    assert (scale(p.d_retrain) / base) ** 2 - 1 < gc.LOST_MODE
    rows = [c for c in gc.CHECKS if c.observable == "abs_quantile"]
    assert {c.rtol for c in rows} == {0.0, gc.LOST_MODE_QUANTILE}
