"""nonlinear_rank (arXiv 2209.15055): the deep-linear closed form, the bias-free rank of the
teachers, seeded simulations, the checks failing for a wrong theory, and the quick run."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import theorylab as tl
from theorylab.experiments import bottleneck_rank as br
from theorylab.experiments import nonlinear_rank as nr
from theorylab.experiments.result import SimulationStats
from theorylab.theory import representation_cost as rc

EXP = nr.EXPERIMENT


def test_linear_minimiser_closed_forms():
    # L = 2: (s − m)² + 2λ s is minimised by soft thresholding s = max(m − λ, 0)
    assert nr.linear_minimiser(1.3, 0.1, 2) == pytest.approx(1.2, abs=1e-10)
    assert nr.linear_minimiser(0.05, 0.1, 2) == pytest.approx(0.0, abs=1e-10)
    # L = 1: (s − m)² + λ s² → s = m/(1 + λ)
    assert nr.linear_minimiser(2.0, 0.5, 1) == pytest.approx(2.0 / 1.5, abs=1e-10)
    # L > 2: stationarity s = m − λ s^{2/L − 1}, and it beats every point of a fine grid
    for depth in (3, 6, 12):
        s = nr.linear_minimiser(0.6, 1e-3, depth)
        assert s == pytest.approx(0.6 - 1e-3 * s ** (2 / depth - 1), abs=1e-12)
        grid = np.linspace(0, 0.6, 20001)
        phi = (grid - 0.6) ** 2 + 1e-3 * depth * grid ** (2 / depth)
        assert (s - 0.6) ** 2 + 1e-3 * depth * s ** (2 / depth) <= phi.min() + 1e-12
    # a small singular value at large depth is killed (0 is the global minimum)
    assert nr.linear_minimiser(0.01, 1e-3, 12) == 0.0


def test_linear_theory_tends_to_rank():
    """R(A; L)/L → rank A (Sec. 3, linear case); the closed form on the balanced factors."""
    p = nr.Params(linear_depths=(3, 12, 60))
    th = nr.theory(p)
    per_layer = th["linear_norm2"] / np.array(p.linear_depths)
    assert np.all(np.diff(per_layer) < 0) and per_layer[-1] == pytest.approx(6.0, abs=0.05)
    np.testing.assert_array_equal(th["linear_rank"], [6, 6, 6])
    s = np.array([nr.linear_minimiser(m, p.lam, 12) for m in p.linear_singular_values])
    factors = rc.balanced_factors(np.diag(s), 12)
    assert sum(np.sum(f**2) for f in factors) == pytest.approx(th["linear_norm2"][1], rel=1e-12)
    m = np.asarray(p.linear_singular_values)
    assert th["linear_loss"][1] == pytest.approx(
        np.sum((s - m) ** 2) + p.lam * 12 * np.sum(s ** (1 / 6))
    )


def _plane_width(c: np.ndarray) -> int:
    """k* of a k = 2 teacher by brute force: 3 iff every angular gap of the c_j is < 180°."""
    ang = np.sort(np.arctan2(c[:, 1], c[:, 0]))
    return 3 if np.max(np.diff(np.concatenate([ang, [ang[0] + 2 * np.pi]]))) < np.pi else 2


def test_theory_predicts_the_bias_free_width_of_each_teacher():
    """k* = 3 for a k = 2 teacher whose directions positively span R² (brute force over the
    angular gaps), 2 for the signed k = 1 teacher; a k = 2 teacher in a half-plane, whose
    width at finite depth the theory does not predict, is refused by validation."""
    seen = set()
    for seed in range(40):
        c = nr.teachers(_bypass(nr.Params(), seed))[0].inner
        if _plane_width(c) == 2:
            with pytest.raises(ValueError, match=r"teacher_seed.*positively span"):
                nr.Params(teacher_seed=seed)
            seen.add("refused")
            continue
        th = nr.theory(nr.Params(teacher_seed=seed))
        np.testing.assert_array_equal(th["jac_rank"], [2, 1])
        np.testing.assert_array_equal(th["carried_units"], [3, 2])  # signed k = 1: t⁺, t⁻
        np.testing.assert_array_equal(th["intercept"], th["carried_units"])
        seen.add("spanning")
    assert seen == {"refused", "spanning"}  # both cases occur among the draws
    p = nr.Params(teacher_ranks=(1,), signed_rank_one=False, teacher_seed=0)
    c = nr.teachers(p)[0].inner[:, 0]
    assert nr.theory(p)["carried_units"][0] == (2 if (c > 0).any() and (c < 0).any() else 1)


def _bypass(p, seed: int):
    """``p`` with another teacher_seed, not validated (to draw a teacher validation refuses)."""
    q = object.__new__(type(p))
    for f in type(p).__dataclass_fields__:
        object.__setattr__(q, f, getattr(p, f))
    object.__setattr__(q, "teacher_seed", seed)
    return q


def test_the_k2_teacher_is_that_of_bottleneck_rank():
    t_nr = nr.teachers(nr.Params(teacher_seed=5))[0]
    t_br = br.teacher(br.Params(teacher_seed=5))
    assert np.array_equal(t_nr.inner, t_br.inner) and np.array_equal(t_nr.outer, t_br.outer)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"depths": (6, 3)}, "depths"),
        ({"depths": (6,)}, "depths"),
        ({"teacher_ranks": (3,)}, "teacher_ranks"),
        ({"lam": 0.0}, "lam"),
        ({"linear_singular_values": (1.0, 2.0)}, "linear_singular_values"),
        ({"rank_rtol": 2.0}, "rank_rtol"),
        ({"workers": 0}, "workers"),
    ],
)
def test_params_validation(overrides, match):
    with pytest.raises(ValueError, match=match):
        nr.Params(**overrides)


def test_smoke_simulation_is_seeded_and_shaped():
    p = EXP.make_params(EXP.smoke)
    a, b = nr.simulate(p, 0), nr.simulate(p, 0)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert a["norm2"].shape == (2, 2) and a["intercept"].shape == (2,)
    assert a["weight_top"].shape == (2, 2, 3, nr.N_TOP) and a["rep_rank"].shape == (2, 2, 3)
    assert not np.array_equal(nr.simulate(p, 1)["norm2"], a["norm2"])


def test_deep_linear_nets_reach_the_theory_minimum():
    """Theory vs simulation, fast: ‖θ‖² and objective of trained deep linear nets at the global
    minimiser of the whitened problem (L = 2, 4)."""
    p = nr.Params(linear_depths=(2, 4))
    th, out = nr.theory(p), nr.train_linear(p, 0)
    np.testing.assert_array_equal(out["linear_converged"], [1.0, 1.0])
    np.testing.assert_allclose(out["linear_norm2"], th["linear_norm2"], rtol=1e-6)
    np.testing.assert_allclose(out["linear_loss"], th["linear_loss"], rtol=1e-6)


#: a wrong theory: every prediction off by one unit (ranks) or 1e-5 relative (closed forms)
BREAKS = {
    "jac_rank": lambda v: v + 1,
    "carried_units": lambda v: v + 1,
    "intercept": lambda v: v + 1,
    "linear_norm2": lambda v: v * (1 + 2e-6),
    "linear_loss": lambda v: v * (1 - 2e-6),
}


def _failing(p, theory, stats) -> set[str]:
    rows = EXP.evaluate(p, theory, stats.mean, stats.sem, stats.seeds)
    return {r.observable.split("[")[0].split(" ")[0] for r in rows if not r.passed}


def test_checks_fail_for_a_wrong_theory():
    """A simulation that agrees with the theory passes; each broken prediction fails its rows."""
    p = EXP.make_params()
    th = nr.theory(p)
    sim = {name: th[name] for name in BREAKS} | {
        "converged": np.ones((2, 3)),
        "linear_converged": np.ones(3),
    }
    stats = SimulationStats.from_seeds([sim])
    assert _failing(p, th, stats) == set()
    for name, brk in BREAKS.items():
        assert _failing(p, th | {name: brk(th[name])}, stats) == {name}
    assert _failing(p, th, SimulationStats.from_seeds([sim | {"converged": np.zeros((2, 3))}])) == {
        "converged"
    }


def test_smoke_run_and_figure():
    result = tl.run("nonlinear_rank", EXP.smoke, seeds=1)
    # converged 2 × 2, linear_converged 1, jac_rank / carried_units / intercept 2 each,
    # linear_norm2 and linear_loss 1 each (smoke: 2 depths, 1 linear depth)
    assert len(result.checks) == 4 + 1 + 3 * 2 + 2
    fig = nr.figure(result)
    assert len(fig.axes) == 2
    fig = nr.figure(dataclasses.replace(result, simulation=None))
    assert len(fig.axes) == 2


@pytest.mark.slow
def test_quick_run_passes_on_three_seeds_and_fails_for_a_wrong_theory():
    """The quick protocol (depths 3, 6, 12; k = 2 and signed k = 1 teachers), seeds 0, 1, 2."""
    result = tl.run("nonlinear_rank", seeds=3)
    assert result.passed, [c for c in result.checks if not c.passed]
    for name, brk in BREAKS.items():
        broken = result.theory | {name: brk(result.theory[name])}
        assert name in _failing(result.params, broken, result.simulation)
