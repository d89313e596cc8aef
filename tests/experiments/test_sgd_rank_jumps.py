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


def _rows_with(sim_changes: dict):
    """The checks re-evaluated on the stored quick run with some simulated values replaced."""
    from tests.test_power import baseline, stored
    from theorylab.experiments.result import typed_observables

    doc = stored("sgd_rank_jumps")
    mean = typed_observables({**doc["simulation"]["mean"], **sim_changes})
    sem = typed_observables(doc["simulation"]["sem"])
    p = sr.EXPERIMENT.make_params(doc["params"])
    return sr.EXPERIMENT.evaluate(p, baseline(sr.EXPERIMENT), mean, sem, doc["simulation"]["seeds"])


@pytest.mark.parametrize(
    ("change", "failing"),
    [
        ({"rank_increases": 1.0}, "rank_increases"),  # one upward jump in one chain
        ({"gd_rank_min": 3.0}, "gd_rank_min"),  # the GD control left its rank
        ({"annealed_below": 0.4}, "annealed_below"),  # fewer than half the chains jumped
        ({"sgd_loss_mismatch": 0.02}, "sgd_loss_mismatch"),  # an endpoint off its rank's loss
        ({"invariance": 1e-10}, "invariance"),  # SGD leaves the low-rank set
        ({"loss_of_rank": 1.01}, "loss_of_rank"),  # the constructed minima's losses 1 % off
    ],
)
def test_each_criterion_fails_on_a_broken_simulation(change, failing):
    from tests.test_power import stored

    assert all(r.passed for r in _rows_with({}))
    if "loss_of_rank" in change:  # a scale of the stored losses
        losses = stored("sgd_rank_jumps")["simulation"]["mean"]["loss_of_rank"]
        change = {"loss_of_rank": (np.asarray(losses) * change["loss_of_rank"]).tolist()}
    broken = [r.observable for r in _rows_with(change) if not r.passed]
    assert broken and all(name.startswith(failing) for name in broken), broken
