"""compositional_scaling (arXiv 2407.05664): predicted exponents, validation, and the two quick
checks refusing a wrong order and a width-dependent complexity."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from theorylab.experiments import compositional_scaling as cs
from theorylab.experiments.result import typed_observables

EXP = cs.EXPERIMENT
STORED = Path(__file__).parents[1] / "data" / "simulations" / "compositional_scaling.json"


def test_exponents_of_the_quick_cases():
    th = cs.theory(cs.Params())
    # r = min(½, ν_g/d_in, ν_h/d_mid) with d_in = 6, d_mid = 2 (abstract / Sec. 4)
    np.testing.assert_allclose(th["rate"], [0.5, 0.25, 0.5 / 6])
    np.testing.assert_allclose(th["rate_f1"], [0.5, 0.1, 0.5 / 9])  # ν/(d + 3) variant
    np.testing.assert_allclose(th["rate_shallow"], [0.5, 0.5 / 6, 0.5 / 6])
    assert np.all(np.isnan(th["bound_width_ratio"]))  # measured only
    np.testing.assert_array_equal(cs.in_f1(cs.Params()), [True, False, False])


def test_phase_boundary():
    """g-limited below ν_g/d_in = ν_h/d_mid, h-limited above (the paper's phase transition)."""
    p = SimpleNamespace(nu_g=(1.2, 2.4, 6.0), nu_h=(2.0, 2.0, 0.6), d_in=6, d_mid=2)
    np.testing.assert_allclose(cs.exponents(p)["rate"], [0.2, 0.4, 0.3])  # g, g, h-limited


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"nu_h": (1.0,)}, "nu_h"),
        ({"nu_g": (0.5, 4.5, 4.5), "nu_h": (4.5, 0.5, 4.5)}, "nu_h"),  # not in decreasing r
        ({"nu_g": (4.5, 4.5), "nu_h": (4.5, 4.5)}, "nu_h"),  # equal exponents: no order
        ({"n_train": (256, 128)}, "n_train"),
        ({"bound_n": 300}, "bound_n"),
        ({"nu_g": (0.1, 1.0, 2.0)}, "nu_g"),
    ],
)
def test_params_validation(overrides, match):
    with pytest.raises(ValueError, match=match):
        cs.Params(**overrides)


def _evidence(p):
    th = cs.theory(p)
    mean = {k: np.ones_like(np.asarray(v, dtype=float)) for k, v in th.items()}
    mean["exponent_drop"] = np.array([0.05, 0.05, 0.05])  # pairs 0-1, 0-2, 1-2
    sem = {k: np.zeros_like(v) for k, v in mean.items()}
    return th, mean, sem


def test_order_check_refuses_a_swapped_order():
    p = cs.Params()
    th, mean, sem = _evidence(p)
    assert all(r.passed for r in EXP.evaluate(p, th, mean, sem, 3))
    mean["exponent_drop"] = np.array([0.05, -0.01, -0.06])  # smooth slower than (0.5, 4.5)
    assert not all(r.passed for r in EXP.evaluate(p, th, mean, sem, 3))
    mean["exponent_drop"] = np.array([-0.01, 0.05, 0.06])  # smooth slower than (4.5, 0.5)
    assert not all(r.passed for r in EXP.evaluate(p, th, mean, sem, 3))
    mean["exponent_drop"] = np.array([0.05, 0.04, -0.01])  # the two rough cases swapped
    assert not all(r.passed for r in EXP.evaluate(p, th, mean, sem, 3))


def test_width_check_refuses_a_width_dependent_complexity():
    """±20 % around 1 on the (4.5, 4.5) case (both factors in F1); a complexity that grows like
    √w (a count of the inner neurons, ratio √2) fails."""
    p = cs.Params()
    th, mean, sem = _evidence(p)
    rows = [r for r in EXP.evaluate(p, th, mean, sem, 3) if "bound_width_ratio" in r.observable]
    assert len(rows) == 1 and rows[0].passed
    mean["bound_width_ratio"] = np.full(3, np.sqrt(2.0))
    assert not all(r.passed for r in EXP.evaluate(p, th, mean, sem, 3))


def _stored():
    doc = json.loads(STORED.read_text())
    p = EXP.make_params(doc["params"])
    mean = typed_observables(doc["simulation"]["mean"])
    sem = typed_observables(doc["simulation"]["sem"])
    return p, {k: np.asarray(v, dtype=float) for k, v in mean.items()}, sem


@pytest.mark.skipif(not STORED.exists(), reason="no stored quick run")
def test_stored_run_refuses_a_width_counting_complexity():
    """The stored quick run passes; a complexity that counts parameters (∝ √(#params), ×√2
    when the inner width doubles) in place of Theorem 1's fails the width check."""
    p, mean, sem = _stored()
    th = cs.theory(p)
    assert all(r.passed for r in EXP.evaluate(p, th, mean, sem, 3))
    counted = {**mean, "bound_width_ratio": mean["bound_width_ratio"] * np.sqrt(2.0)}
    assert not all(r.passed for r in EXP.evaluate(p, th, counted, sem, 3))


@pytest.mark.skipif(not STORED.exists(), reason="no stored quick run")
def test_stored_run_refuses_a_wrong_rate():
    """A wrong theory: d_in and d_mid exchanged in r = min(½, ν_g/d_in, ν_h/d_mid) predicts
    (0.5, 4.5) faster than (4.5, 0.5); listed in that order, the stored exponents fail."""
    p, mean, sem = _stored()
    order = [0, 2, 1]  # decreasing min(½, ν_g/d_mid, ν_h/d_in): 0.5, 0.25, 0.083
    wrong = np.minimum(0.5, np.minimum(np.asarray(p.nu_g) / p.d_mid, np.asarray(p.nu_h) / p.d_in))
    assert np.all(np.diff(wrong[order]) < 0)
    e = mean["exponent_deep"][order]
    swapped = {**mean, "exponent_drop": np.array([e[0] - e[1], e[0] - e[2], e[1] - e[2]])}
    assert not all(r.passed for r in EXP.evaluate(p, cs.theory(p), swapped, sem, 3))


@pytest.mark.slow
def test_full_protocol_depth_advantage_and_exponents():
    """Full protocol (hours on a CPU; not run in the quick suite): the depth advantage for
    (ν_g large, ν_h small) and the absolute exponents within ±0.15 of r."""
    p = EXP.make_params(preset="full")
    sims = [cs.simulate(p, s) for s in range(3)]
    deep = np.mean([s["exponent_deep"] for s in sims], axis=0)
    flat = np.mean([s["exponent_shallow"] for s in sims], axis=0)
    th = cs.theory(p)
    assert deep[1] > flat[1] + 0.05
    assert np.all(np.diff(deep) < 0)  # the full order
    np.testing.assert_allclose(deep, th["rate"], atol=0.15)
