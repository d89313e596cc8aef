"""sequence_multi_index (arXiv 2409.13904): theory shapes, validation, and one quick
theory-vs-GAMP comparison."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from theorylab.experiments import sequence_multi_index as smi
from theorylab.experiments.result import DRAWS_KEY


def test_theory_branches_coincide_below_the_transition_and_split_above():
    th = smi.theory(smi.Params(alpha=(1.0,), lam=(0.1,), alpha_committee=(1.0, 3.0)))
    assert th["solver"].converged
    assert th["q_diag"][0, 0] == pytest.approx(th["q_diag"][1, 0])  # α = 1 < α_spec
    assert th["q_off"][1, 1] < th["q_diag"][1, 1] - 0.3  # specialised at α = 3
    assert th["eps_committee"][1, 1] < th["eps_committee"][0, 1]  # specialising helps
    assert 2.0 < th["alpha_spec"] < 2.1


@pytest.mark.parametrize(("overrides", "field"), [({"alpha": (0.0,)}, "alpha"),
                                                  ({"committee_k": 3}, "committee_k"),
                                                  ({"lam": (-1.0,)}, "lam")])
def test_params_validation(overrides, field):
    with pytest.raises(ValueError, match=field):
        smi.Params(**overrides)


def test_quick_gamp_agrees_with_state_evolution():
    p = smi.Params(alpha=(2.0,), lam=(0.1,), alpha_committee=(1.0,), d=600, d_ridge=300,
                   d_committee=150, n_test=2000, draws=1)
    th, sim = smi.theory(p), smi.simulate(p, 0)
    # one draw at d = 600: fluctuations of order 1/√d ≈ 4 %
    assert sim["eps_sign"][0] == pytest.approx(th["eps_sign"][0], rel=0.08)
    assert sim["m_ridge"][0, 0] == pytest.approx(th["m_ridge"][0, 0], rel=0.08)
    assert sim["gamp_erm_gap"][0] < 1e-6
    assert sim["q_diag"][0, 0] == pytest.approx(th["q_diag"][0, 0], rel=0.2)
    assert all(np.shape(sim[k]) == np.shape(th[k]) for k in sim if k != DRAWS_KEY)


def test_simulation_is_seeded():
    p = dataclasses.replace(smi.Params(), **smi.EXPERIMENT.smoke)
    a, b = smi.simulate(p, 1), smi.simulate(p, 1)
    for k in a.keys() - {DRAWS_KEY}:
        np.testing.assert_array_equal(a[k], b[k])
    for k in a[DRAWS_KEY]:
        np.testing.assert_array_equal(a[DRAWS_KEY][k], b[DRAWS_KEY][k])
    assert not math.isclose(smi.simulate(p, 2)["eps_sign"][0], a["eps_sign"][0])
