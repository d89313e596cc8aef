"""one_step_gd (arXiv 2402.04980): validation, theory speed and shape, a quick simulation."""

from __future__ import annotations

import time

import numpy as np
import pytest

from theorylab.experiments.one_step_gd import EXPERIMENT, Params, simulate, theory


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"alpha0": -1.0}, "alpha0"),
        ({"teacher": "no_such"}, "teacher"),
        ({"eta_tilde": (float("inf"),)}, "eta_tilde"),
        ({"eta_tilde": (float("nan"),)}, "eta_tilde"),
        ({"student": "sign"}, "student"),
        ({"teacher": "relu"}, "teacher"),
        ({"alpha0": 1e-5}, "alpha0"),
    ],
)
def test_bad_input_is_refused_naming_the_field(overrides, field):
    with pytest.raises(ValueError, match=field):
        EXPERIMENT.make_params(overrides)


def test_theory_is_fast_and_converged():
    p = Params()
    start = time.perf_counter()
    th = theory(p)
    assert time.perf_counter() - start < 5.0  # ≈ 0.1 s idle; generous on a shared machine
    assert th["solver"].converged
    assert th["eg"].shape == (3, 3)
    # Sec. 4: random features stay above the non-linear part, the η̃ = 3 step goes below it
    assert np.all(th["eg"][0] > th["nonlinear_floor"])
    assert th["eg"][2, -1] < th["nonlinear_floor"]


def test_drop_f_raises_the_error_of_the_sin_target():
    p = Params(eta_tilde=(3.0,))
    assert np.all(theory(Params(eta_tilde=(3.0,), drop_F=True))["eg"] > theory(p)["eg"])


def test_quick_simulation_measures_the_spiked_rf_parameters():
    """d = 300: spike strength and cosine of one draw within a few per cent of Result 3.1."""
    p = Params(d=300, n_test=1000, eta_tilde=(3.0,), alpha=(1.0,), draws=1)
    sim, th = simulate(p, 0), theory(p)
    assert sim["spike"][0] == pytest.approx(th["spike"][0], rel=0.05)
    assert sim["cosine"][0] == pytest.approx(th["cosine"][0], rel=0.02)
    assert sim["bulk_excess"][0] == pytest.approx(th["bulk_excess"][0], rel=0.1)
    assert sim["eg"][0, 0] == pytest.approx(th["eg"][0, 0], rel=0.3)
