"""compositional_scaling (arXiv 2407.05664): predicted exponents, validation and the order
check refusing a wrong prediction."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.experiments import compositional_scaling as cs

EXP = cs.EXPERIMENT


def test_exponents_of_the_quick_cases():
    th = cs.theory(cs.Params())
    # r = min(½, ν_g/d_in, ν_h/d_mid) with d_in = 6, d_mid = 2 (abstract / Sec. 4)
    np.testing.assert_allclose(th["rate"], [0.5, 0.25, 0.5 / 6])
    np.testing.assert_allclose(th["rate_f1"], [0.5, 0.1, 0.5 / 9])  # ν/(d + 3) variant
    np.testing.assert_allclose(th["rate_shallow"], [0.5, 0.5 / 6, 0.5 / 6])
    np.testing.assert_array_equal(th["rate_rank"], [1, 2, 3])
    assert np.all(np.isnan(th["bound_width_ratio"]))  # measured only


def test_phase_boundary():
    """g-limited below ν_g/d_in = ν_h/d_mid, h-limited above (the paper's phase transition)."""
    p = cs.Params(nu_g=(1.2, 2.4, 6.0), nu_h=(2.0, 2.0, 0.6))
    np.testing.assert_allclose(cs.theory(p)["rate"], [0.2, 0.4, 0.3])  # g, g, h-limited


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"nu_h": (1.0,)}, "nu_h"),
        ({"nu_g": (4.5, 4.5), "nu_h": (4.5, 4.5)}, "nu_h"),  # equal exponents: no order
        ({"n_train": (256, 128)}, "n_train"),
        ({"nu_g": (0.1, 1.0, 2.0)}, "nu_g"),
    ],
)
def test_params_validation(overrides, match):
    with pytest.raises(ValueError, match=match):
        cs.Params(**overrides)


def test_order_check_refuses_a_swapped_prediction():
    p = cs.Params()
    th = cs.theory(p)
    mean = {k: np.nan_to_num(np.asarray(v, dtype=float)) for k, v in th.items()}
    sem = {k: np.zeros_like(v) for k, v in mean.items()}
    assert all(r.passed for r in EXP.evaluate(p, th, mean, sem, 3))
    mean["rate_rank"] = np.array([1.0, 3.0, 2.0])  # rough cases swapped: not checked at quick
    assert all(r.passed for r in EXP.evaluate(p, th, mean, sem, 3))
    mean["rate_rank"] = np.array([2.0, 1.0, 3.0])  # the smooth case not the fastest
    assert not all(r.passed for r in EXP.evaluate(p, th, mean, sem, 3))


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
    np.testing.assert_array_equal(cs.ranks(deep), th["rate_rank"])  # the full order
    np.testing.assert_allclose(deep, th["rate"], atol=0.15)
