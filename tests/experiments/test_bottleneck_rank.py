"""bottleneck_rank (arXiv 2305.19008): the predictions of theory(), a fast theory-vs-simulation
run on signed and one-signed rank-one teachers, the checks failing for a wrong theory, and the
quick run on seeds 0, 1, 2."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import theorylab as tl
from theorylab.experiments import bottleneck_rank as br
from theorylab.experiments.result import SimulationStats

EXP = br.EXPERIMENT


def test_theory_observables():
    p = br.Params(gd_etas=(0.01, 0.1))
    th = br.theory(p)
    assert th["jac_rank"] == 2
    c = br.teacher(p).inner
    ang = np.sort(np.arctan2(c[:, 1], c[:, 0]))
    spans = np.max(np.diff(np.concatenate([ang, [ang[0] + 2 * np.pi]]))) < np.pi
    kstar = 3.0 if spans else 2.0  # brute force: angular gaps of the teacher directions
    assert th["intercept"] == kstar
    np.testing.assert_array_equal(th["middle_count"], [kstar] * 3)
    rep = th["rep_rank"]  # k* for the hidden layers ℓ < L of each depth, NaN beyond
    assert rep.shape == (3, 12)
    for i, depth in enumerate(p.depths):
        np.testing.assert_array_equal(rep[i, : depth - 1], kstar)
        assert np.all(np.isnan(rep[i, depth - 1 :]))
    np.testing.assert_allclose(th["gd_ntk_limit"], [100.0, 10.0])
    for name in ("norm2", "weight_top", "gd_ntk_max", "gd_rep_rank"):
        assert np.all(np.isnan(th[name]))  # measured only


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"depths": (6, 3)}, "depths"),
        ({"depths": (3,)}, "depths"),
        ({"k": 3}, "k"),
        ({"lam": 0.0}, "lam"),
        ({"gd_etas": (-0.1,)}, "gd_etas"),
        ({"rank_rtol": 2.0}, "rank_rtol"),
        ({"workers": 0}, "workers"),
        ({"gd_time": 1e4, "gd_etas": (1e-3,)}, "gd_time"),
        ({"teacher_seed": 33}, "teacher_seed"),  # c_j in a 160° sector: width not forced
        ({"teacher_hidden": 1}, "teacher_hidden"),  # one direction never spans R²
    ],
)
def test_params_validation(overrides, match):
    with pytest.raises(ValueError, match=match):
        br.Params(**overrides)


#: a rank-one task small enough for a fast test (depth 8, N = 32, width 8)
SMALL = dict(
    k=1, d=3, teacher_hidden=4, n_points=32, width=8, depths=(4, 8), adam_steps=1500, lr=1e-2,
    lbfgs_calls=2, lbfgs_max_iter=500, workers=1,
)  # fmt: skip


@pytest.mark.parametrize(("teacher_seed", "kstar"), [(0, 2), (2, 1)])
def test_rank_one_bottleneck_theory_vs_simulation(teacher_seed, kstar):
    """Fast theory vs simulation: a k = 1 teacher whose c_j have both signs needs two
    non-negative units (t⁺, t⁻) through the middle layers, one of a single sign needs one;
    the depth-8 net carries exactly k* singular values > 0.5 in its middle layers and middle
    representations of rank k*, with Jacobian rank 1."""
    p = br.Params(teacher_seed=teacher_seed, **SMALL)
    th = br.theory(p)
    assert th["intercept"] == kstar  # the two teachers differ as stated
    out = br.train_relu_depth(p, 0, 8)
    assert out["middle_count"] == th["middle_count"][-1]
    assert out["middle_rep_rank"] == kstar and out["jac_rank_max"] == th["jac_rank"]


def test_gd_run_and_seeding():
    p = EXP.make_params(EXP.smoke)
    a, b = br.train_gd(p, 0), br.train_gd(p, 0)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert a["gd_ntk_max"].shape == (2,) and a["gd_rep_rank"].shape == (2, p.gd_depth - 1)
    assert np.all(a["gd_ntk_trace"] > 0) and np.all(a["gd_ntk_max"] > 0)
    assert not np.array_equal(br.train_gd(p, 1)["gd_ntk_max"], a["gd_ntk_max"])


#: a wrong theory: each rank prediction off by one, the stability limit halved
BREAKS = {
    "jac_rank": lambda v: v + 1,
    "middle_count": lambda v: v + 1,
    "rep_rank": lambda v: v + 1,
    "intercept": lambda v: v + 1,
    "gd_ntk_limit": lambda v: v / 2,
}


def _failing(p, theory, stats) -> set[str]:
    rows = EXP.evaluate(p, theory, stats.mean, stats.sem, stats.seeds)
    return {r.observable.split("[")[0].split(" ")[0] for r in rows if not r.passed}


def test_checks_fail_for_a_wrong_theory():
    """Synthetic simulation equal to the theory (NTK at 60 % of its limit) passes; each broken
    prediction fails its rows."""
    p = EXP.make_params()
    th = br.theory(p)
    sim = {name: th[name] for name in ("jac_rank", "middle_count", "rep_rank", "intercept")}
    sim |= {"converged": np.ones(3), "gd_ntk_max": 0.6 * th["gd_ntk_limit"]}
    stats = SimulationStats.from_seeds([sim])
    assert _failing(p, th, stats) == set()
    for name, brk in BREAKS.items():
        broken = _failing(p, th | {name: brk(th[name])}, stats)
        assert broken == {"gd_ntk_max" if name == "gd_ntk_limit" else name}


def test_smoke_run_and_figure():
    result = tl.run("bottleneck_rank", EXP.smoke, seeds=1)
    names = {c.observable.split("[")[0].split(" ")[0] for c in result.checks}
    assert names == {"converged", "jac_rank", "middle_count", "rep_rank", "intercept", "gd_ntk_max"}
    assert len(br.figure(result).axes) == 4
    assert len(br.figure(dataclasses.replace(result, simulation=None)).axes) == 4


@pytest.mark.slow
def test_quick_run_passes_on_three_seeds_and_fails_for_a_wrong_theory():
    """The quick protocol (L = 3, 6, 12, GD at two step sizes), seeds 0, 1, 2."""
    result = tl.run("bottleneck_rank", seeds=3)
    assert result.passed, [c for c in result.checks if not c.passed]
    for name, brk in BREAKS.items():
        broken = result.theory | {name: brk(result.theory[name])}
        assert _failing(result.params, broken, result.simulation) - {"converged"}
