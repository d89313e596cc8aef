"""spiked_rf_spectrum (arXiv 2410.18938): validation, theory speed, a quick simulation."""

from __future__ import annotations

import time

import numpy as np
import pytest

from theorylab.experiments.spiked_rf_spectrum import (
    EXPERIMENT,
    TWO_TYPES,
    Params,
    simulate,
    theory,
)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"alpha0": -1.0}, "alpha0"),
        ({"student": "no_such"}, "student"),
        ({"eta_tilde": (float("inf"),)}, "eta_tilde"),
        ({"student": "relu"}, "student"),
        ({"lam": (0.0,)}, "lam"),
        ({"types": 3}, "types"),
        ({"student": "relu", "types": 1}, "student"),
    ],
)
def test_bad_input_is_refused_naming_the_field(overrides, field):
    with pytest.raises(ValueError, match=field):
        EXPERIMENT.make_params(overrides)


def test_theory_is_fast_converged_and_the_step_moves_mass_down():
    start = time.perf_counter()
    th = theory(Params())
    assert time.perf_counter() - start < 5.0  # ≈ 0.5 s idle; generous on a shared machine
    assert th["solver"].converged
    q = th["quantile"]
    assert np.all(np.diff(q, axis=1) > 0)
    assert np.all(q[2] < q[0])  # η̃ = 3: every bulk quantile below random features'
    assert th["outlier"][0] < 1e-20 and th["outlier"][2] > th["outlier"][1] > 10


def test_quick_simulation_traces_and_outlier():
    p = Params(d=200, n_test=500, eta_tilde=(0.0, 3.0), lam=(0.1, 1.0), draws=1)
    sim, th = simulate(p, 0), theory(p)
    np.testing.assert_allclose(sim["trace"], th["trace"], rtol=0.03)
    np.testing.assert_allclose(sim["quantile"][:, 1:4], th["quantile"][:, 1:4], rtol=0.06)
    assert sim["outlier"][1] == pytest.approx(th["outlier"][1], rel=0.1)


def test_two_types_theory_and_a_quick_simulation():
    """s_i = ±1, ReLU (allowed with two types), r = 2, c = 1 at d = 200, one draw: traces
    within 3 %, bulk median within 3 %; outlier and error not predicted (NaN)."""
    p = EXPERIMENT.make_params({**TWO_TYPES, "d": 200, "draws": 1, "n_test": 500})
    assert [v.name for v in EXPERIMENT.variants] == ["two_types"]
    th, sim = theory(p), simulate(p, 0)
    assert th["solver"].converged
    assert np.isnan(th["outlier"]).all() and np.isnan(th["eg"]).all()
    np.testing.assert_allclose(sim["trace"], th["trace"], rtol=0.03)
    np.testing.assert_allclose(sim["quantile"][:, 2], th["quantile"][:, 2], rtol=0.03)
    one = theory(EXPERIMENT.make_params({**TWO_TYPES, "d": 200, "types": 2, "student": "tanh"}))
    tanh_one = theory(EXPERIMENT.make_params({**TWO_TYPES, "d": 200, "types": 1,
                                              "student": "tanh"}))
    np.testing.assert_allclose(one["trace"], tanh_one["trace"], rtol=1e-8)
