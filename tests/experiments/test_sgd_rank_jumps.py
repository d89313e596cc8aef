"""sgd_rank_jumps (arXiv 2305.16038): theory of the quick setting and one small run."""

from __future__ import annotations

import numpy as np
import pytest

import theorylab as tl
from theorylab.experiments import sgd_rank_jumps as sr


def test_theory_of_the_quick_setting():
    """Paper note's protocol (d = 10, L = 6, λ = 8e-4): GD keeps 4 modes, the global minimum
    has rank 2 (losses of the top-k minima 0.416293, 0.059448, 0.022481, 0.023263, 0.024657)."""
    th = sr.theory(sr.Params())
    assert th["gd_rank"] == 4 and th["global_rank"] == 2
    np.testing.assert_allclose(
        th["loss_of_rank"][:5], [0.416293, 0.059448, 0.022481, 0.023263, 0.024657], atol=1e-6
    )
    assert np.all(np.isnan(th["loss_of_rank"][5:]))
    assert sr.predicted_rank(sr.Params()) == 4
    np.testing.assert_allclose(sr.annealed_rates(sr.Params()), 0.09 * (1 / 3) ** (np.arange(5) / 4))


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="lr_end"):
        sr.Params(lr_start=0.03, lr_end=0.1)


def test_small_run_constructed_minima_and_invariance():
    """Short phases: the rank-r minima built by GD match the theory, B_2^0 is invariant and no
    basin rank goes up."""
    p = sr.Params(chains=2, settle_steps=3000, chunks=1, chunk_steps=100, polish_steps=100,
                  invariance_steps=100)
    sim = sr.simulate(p, 0)
    th = sr.theory(p)
    np.testing.assert_allclose(sim["loss_of_rank"][:5], th["loss_of_rank"][:5], rtol=1e-4)
    assert sim["invariance"] < 1e-12
    assert sim["rank_increases"] == 0


def test_registered():
    assert tl.get("sgd_rank_jumps") is sr.EXPERIMENT
