"""linear_mixed_regime (arXiv 2405.17580): theory pieces and one small theory-vs-GD run."""

from __future__ import annotations

import numpy as np
import pytest

import theorylab as tl
from theorylab.experiments import linear_mixed_regime as lm


def test_theory_regimes_of_the_quick_setting():
    th = lm.theory(lm.Params())
    np.testing.assert_allclose(th["threshold"], [40**g * 3346 for g in (-2.4, -1.62, -1.15)])
    np.testing.assert_array_equal(th["never_cross"], [0, 0, 1])
    np.testing.assert_array_equal(th["top_k_cross"], [1, 1, 0])
    np.testing.assert_array_equal(th["noise_below"], [0, 1, 1])
    assert np.all(np.isnan(th["test_curve"][:2])) and np.all(np.isfinite(th["test_curve"][2]))
    assert lm.lazy_window(lm.Params(), th["threshold"][2]) == (6, 14)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="rank"):
        lm.Params(d=4, rank=3)


def test_small_run_gd_follows_the_sc_formula():
    """d = 12, w = 12^2 = 144: GD and the SC formula from the same init stay within √(d/w) in
    every regime, and the lazy init never crosses σ²w."""
    p = lm.Params(d=12, rank=2, gamma_w=2.0, steps=60, gamma_sigma2=(-2.0, -1.3, -0.8))
    sim = lm.simulate(p, 0)
    assert np.all(sim["sc_distance"] <= np.sqrt(p.d / lm.width(p)))
    th = lm.theory(p)
    assert sim["never_cross"][-1] == th["never_cross"][-1] == 1
    assert sim["top_k_cross"][0] == th["top_k_cross"][0] == 1
    np.testing.assert_allclose(sim["min_test"], sim["min_test_sc"], rtol=0.05)


def test_registered():
    assert tl.get("linear_mixed_regime") is lm.EXPERIMENT


def _rows_with(sim_changes: dict):
    """The checks re-evaluated on the stored quick run with some simulated values replaced."""
    from tests.test_power import baseline, stored
    from theorylab.experiments.result import typed_observables

    doc = stored("linear_mixed_regime")
    mean = typed_observables({**doc["simulation"]["mean"], **sim_changes})
    sem = typed_observables(doc["simulation"]["sem"])
    p = lm.EXPERIMENT.make_params(doc["params"])
    return lm.EXPERIMENT.evaluate(p, baseline(lm.EXPERIMENT), mean, sem, doc["simulation"]["seeds"])


def _stored(name: str) -> np.ndarray:
    from tests.test_power import stored

    return np.asarray(stored("linear_mixed_regime")["simulation"]["mean"][name], dtype=float)


def _with(name: str, index, value) -> dict:
    arr = _stored(name).copy()
    arr[index] = value
    return {name: arr.tolist()}


# runs: 0 active (γσ² = −2.4), 1 mixed (−1.62), 2 lazy (−1.15)
@pytest.mark.parametrize(
    ("change", "failing"),
    [
        (lambda: _with("sc_distance", 1, 0.2), "sc_distance"),  # GD leaves the SC formula
        (lambda: _with("min_test", 0, _stored("min_test")[0] * 1.05), "min_test"),
        (lambda: {"test_curve": (_stored("test_curve") * 1.05).tolist()}, "test_curve"),
        (lambda: _with("noise_suppression", 0, 0.6), "noise_suppression"),  # no low-rank bias
        (lambda: _with("noise_suppression", 2, 0.9), "noise_suppression"),  # lazy run not lazy
        (lambda: _with("top_k_cross", 0, 0.0), "top_k_cross"),  # active: no crossing
        (lambda: _with("never_cross", 2, 0.0), "never_cross"),  # lazy: a crossing
        (lambda: _with("noise_below", 1, 0.0), "noise_below"),  # mixed: noise became active
    ],
)
def test_each_criterion_fails_on_a_broken_simulation(change, failing):
    assert all(r.passed for r in _rows_with({}))
    broken = [r.observable for r in _rows_with(change()) if not r.passed]
    assert broken and all(failing in name for name in broken), broken
