"""feature_learning_sparsity (arXiv 2205.15809): setting, theory, theory vs simulation, power."""

from __future__ import annotations

import numpy as np
import pytest

import theorylab as tl
from theorylab.experiments import feature_learning_sparsity as fls
from theorylab.theory import tight_example as te

# A reduced setting whose checks hold (N = 4 around N²/4 = 4; students of N = 3 points, wider
# than N(N+1) = 12): the quick theory-vs-simulation test of the suite.
REDUCED = {
    "n_points": (4,),
    "width_offsets": (-1, 0, 1),
    "restarts": 8,
    "polished": 4,
    "adam_steps": 1500,
    "generic_n": 3,
    "generic_width": 16,
    "generic_adam_steps": 1500,
    "generic_lbfgs_iter": 500,
}


# ------------------------------------------------------------------------------------------
# Params
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"n_points": (5,)}, "n_points"),
        ({"width_offsets": (0, 1)}, "width_offsets"),  # no width below N²/4: onset unbracketed
        ({"width_offsets": (-1, -1, 0)}, "width_offsets"),
        ({"width_offsets": (-4, 0)}, "width_offsets"),  # N = 4: width 0
        ({"lam": 0.5}, "lam"),
        ({"polished": 40}, "polished"),
        ({"refined": 9}, "refined"),
        ({"generic_width": 30}, "generic_width"),  # = N(N+1) for N = 5: Prop. 7 cannot bind
        ({"generic_depth": 1}, "generic_depth"),
    ],
)
def test_params_refuse_settings_the_checks_cannot_handle(overrides, match):
    with pytest.raises(ValueError, match=match):
        fls.Params(**overrides)


def test_widths_are_offsets_from_the_plateau_width():
    p = fls.Params(width_offsets=(-1, 0, 2))
    assert p.widths(6) == (8, 9, 11)
    assert p.widths(4) == (3, 4, 6)


# ------------------------------------------------------------------------------------------
# Theory
# ------------------------------------------------------------------------------------------


def test_theory_observables():
    p = fls.Params(n_points=(4, 6, 8), width_offsets=(-1, 0, 2))
    th = fls.theory(p)
    # Props. 13–14: the plateau starts at cp-rank(Y_N) = edges of K_{N/2,N/2} = N²/4
    np.testing.assert_array_equal(th["plateau_width"], [4, 9, 16])
    np.testing.assert_allclose(th["plateau_loss"], [0.1588, 0.357, 0.6344], rtol=1e-12)
    np.testing.assert_allclose(th["plateau_loss"], th["plateau_loss_relaxation"], atol=1e-13)
    np.testing.assert_allclose(th["min_loss"], np.repeat(th["plateau_loss"][:, None], 3, 1))
    # the structure of the minimiser is predicted on the plateau only
    assert np.all(np.isnan(th["edges_covered"][:, 0]))
    np.testing.assert_array_equal(th["edges_covered"][:, 1:], [[4, 4], [9, 9], [16, 16]])
    assert np.all(np.isnan(th["output_blocks"][:, 0]))
    np.testing.assert_allclose(th["output_blocks"][1, 1], [3 - 0.06 + 0.01, 0.01, 0.99])
    assert th["output_spread"][0, 1] == 0.0 and th["gram_output_gap"][2, 2] == 0.0
    assert th["pruned_width"] == 30  # N(N+1) for the students' N = 5 (Prop. 7)


def test_pruned_width_can_exceed_the_bound_before_training():
    """The sparsity check can bind: an untrained width-48 student keeps all its 48 neurons."""
    from theorylab.measure.sparsity import prune
    from theorylab.models.device import generator
    from theorylab.models.mlp import init_mlp

    p = fls.Params()
    ws = init_mlp([p.generic_d, p.generic_width, p.generic_width, 1], generator=generator(0))
    _, widths = prune([w[0].detach() for w in ws], cos=p.ray_cos, min_size=p.prune_size)
    assert max(widths) > fls.theory(p)["pruned_width"]


# ------------------------------------------------------------------------------------------
# Theory vs simulation
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reduced_result():
    return tl.run(fls.EXPERIMENT, REDUCED)


def test_reduced_run_passes(reduced_result):
    failed = [c for c in reduced_result.checks if not c.passed]
    assert reduced_result.passed, failed
    sim = reduced_result.simulation.mean
    # width 3 = N²/4 − 1: 0.161623 (independent implementation, 16 restarts, 6 000 Adam steps)
    assert sim["min_loss"][0, 0] == pytest.approx(0.161623, abs=2e-6)
    assert sim["plateau_width"][0] == 4


def _failing(result, theory: dict) -> set[str]:
    rows = fls.EXPERIMENT.evaluate(
        result.params, theory, result.simulation.mean, result.simulation.sem, 1
    )
    return {r.observable.split("[")[0] for r in rows if not r.passed}


@pytest.mark.parametrize(
    "name", ["min_loss", "plateau_width", "output_blocks", "edges_covered"]
)
@pytest.mark.parametrize("factor", [0.97, 1.03])
def test_a_three_percent_error_of_a_prediction_fails(reduced_result, name, factor):
    theory = dict(fls.theory(reduced_result.params))
    assert _failing(reduced_result, theory) == set()
    theory[name] = theory[name] * factor
    failed = _failing(reduced_result, theory)
    assert failed and all(f.startswith(name) for f in failed), failed


def test_the_plateau_closed_form_scaled_fails_the_plateau_rows(reduced_result, monkeypatch):
    """Break the closed form itself (+3 %): the theory identity and the plateau rows fail."""
    exact = te.plateau_loss
    monkeypatch.setattr(te, "plateau_loss", lambda n, lam: 1.03 * np.asarray(exact(n, lam)))
    rows = fls.EXPERIMENT.evaluate(
        reduced_result.params,
        fls.theory(reduced_result.params),
        reduced_result.simulation.mean,
        reduced_result.simulation.sem,
        1,
    )
    failed = [r.observable for r in rows if not r.passed]
    assert "plateau_loss = plateau_loss_relaxation[n_points=4]" in failed
    assert "min_loss[n_points=4, width_offsets=0]" in failed
    assert "min_loss >= min_loss[n_points=4, width_offsets=-1]" in failed


def test_figure(reduced_result, tmp_path):
    fig = fls.figure(reduced_result)
    fig.savefig(tmp_path / "fls.png")
    assert len(fig.axes) == 2


# ------------------------------------------------------------------------------------------
# Reproductions (slow)
# ------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("seeds", [1, 3])
def test_quick_run_passes(seeds):
    """N = 4, 6 at widths N²/4 − 3 … N²/4 + 3 and two students, on seeds 0 … seeds − 1."""
    result = tl.run("feature_learning_sparsity", seeds=seeds)
    assert result.passed, [c for c in result.checks if not c.passed]
    loss = result.simulation.mean["min_loss"]
    # independent implementation, unique minima below the plateau: N = 4 widths 1, 2, 3:
    # 2.0796, 1.1192, 0.161623; N = 6 width 8: 0.358235 (32 restarts)
    np.testing.assert_allclose(loss[0, :3], [2.0796, 1.1192, 0.161623], atol=2e-6)
    assert loss[1, 2] == pytest.approx(0.358235, abs=3e-6)


@pytest.mark.slow
def test_full_size_and_n8():
    """N = 4, 6, 8 with 64 restarts on three seeds; and the N = 8 variant."""
    assert tl.run("feature_learning_sparsity", preset="full").passed
    for variant in fls.EXPERIMENT.variants:
        assert tl.run("feature_learning_sparsity", dict(variant.overrides)).passed, variant.name
