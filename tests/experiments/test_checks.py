"""Checks: tolerances, where(params, coords), resolution, reference source, empty selections."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

import numpy as np
import pytest

from theorylab.experiments.checks import (
    Agreement,
    Criterion,
    Evidence,
    Observable,
    TheoryIdentity,
    element_label,
    iter_elements,
)
from theorylab.experiments.params import ParamsBase, Positive


@dataclass(frozen=True)
class P(ParamsBase):
    alpha: Annotated[tuple[float, ...], Positive(), "ratios"] = (1.0, 2.0)
    lam: Annotated[tuple[float, ...], Positive(), "penalties"] = (0.1,)
    peak: Annotated[float, Positive(), "where the peak is"] = 2.0


AXES = {"eg": ("alpha",), "a": ("alpha",), "b": ("alpha",), "rank": ("alpha",), "k": ("alpha",),
        "x": ("alpha",), "ratio": ()}


def ev(theory=None, mean=None, sem=None, params=None) -> Evidence:
    p = params or P()
    return Evidence(
        p, theory or {}, mean, sem, 3, lambda n: [tuple(getattr(p, a)) for a in AXES[n]], AXES
    )


def test_iter_elements_labels_every_grid_point():
    elems = list(iter_elements(np.array([[1.0, 2.0]]), ("lam", "alpha"), [(0.1,), (1.0, 2.0)]))
    assert elems == [({"lam": 0.1, "alpha": 1.0}, 1.0), ({"lam": 0.1, "alpha": 2.0}, 2.0)]
    assert element_label("eg", elems[1][0]) == "eg[lam=0.1, alpha=2]"
    with pytest.raises(ValueError, match="shape"):
        list(iter_elements(np.zeros(3), ("alpha",), [(1.0, 2.0)]))
    assert list(iter_elements(0.5, (), [])) == [({}, 0.5)]


def test_agreement_tolerance_is_sem_plus_relative_and_reports_resolution():
    check = Agreement("eg", reason="test", n_sem=3.0, rtol=0.01)
    th = {"eg": np.array([1.0, 2.0])}
    mean = {"eg": np.array([1.0 + 0.3 + 0.01 - 1e-9, 2.0 + 0.3 + 0.02 + 1e-6])}
    sem = {"eg": np.array([0.1, 0.1])}
    rows = check.evaluate(ev(th, mean, sem))
    assert [r.passed for r in rows] == [True, False]
    assert rows[0].tolerance == pytest.approx(0.31)
    # detects a relative theory error ε of either sign iff ε > (tol + |m − t|)/|t|
    assert rows[0].resolution == pytest.approx((0.31 + 0.31) / 1.0, rel=1e-6)
    assert rows[0].source == "theory"
    assert check.evaluate(ev(th, None, None)) == []


def test_resolution_is_the_smallest_detected_scaling():
    """Scaling the theory by 1 ± (resolution + δ) fails the row; by 1 ± (resolution − δ) in
    the direction away from the simulation it does not necessarily — brute force both signs."""
    check = Agreement("eg", reason="r", n_sem=2.0, rtol=0.0)
    mean, sem = {"eg": np.array([1.02, 1.9])}, {"eg": np.array([0.01, 0.02])}
    base = check.evaluate(ev({"eg": np.array([1.0, 2.0])}, mean, sem))
    for i, row in enumerate(base):
        for sign in (1.0, -1.0):
            scaled = np.array([1.0, 2.0])
            scaled[i] *= 1.0 + sign * (row.resolution + 1e-6)
            assert not check.evaluate(ev({"eg": scaled}, mean, sem))[i].passed


def test_a_theory_vanishing_up_to_round_off_has_no_relative_resolution():
    """An overlap that is zero by symmetry, computed as 1e-17, resolves no relative error (a
    scaled zero stays zero): its resolution is infinite like an exact zero's, not 1e16."""
    check = Agreement("eg", reason="r", atol=0.02)
    th = {"eg": np.array([1e-17, 0.0])}
    rows = check.evaluate(ev(th, {"eg": np.array([0.01, 0.01])}, {"eg": np.array([0.0, 0.0])}))
    assert [r.passed for r in rows] == [True, True]
    assert [r.resolution for r in rows] == [math.inf, math.inf]
    small = check.evaluate(ev({"eg": np.array([1e-3, 1.0])}, {"eg": np.array([0.0, 1.0])},
                              {"eg": np.array([0.0, 0.0])}))
    assert small[0].resolution == pytest.approx((0.02 + 1e-3) / 1e-3)


def test_required_resolution_fails_coarse_rows():
    check = Agreement("eg", reason="r", n_sem=3.0, resolution=0.05)
    rows = check.evaluate(
        ev({"eg": np.array([1.0, 2.0])}, {"eg": np.array([1.0, 2.0])},
           {"eg": np.array([0.001, 0.1])})
    )
    assert [r.passed for r in rows] == [True, False]
    assert "coarser than the required 5.00%" in rows[1].reason


def test_where_sees_params_and_coordinates():
    check = Agreement("eg", reason="r", where=lambda p, c: c["alpha"] < p.peak)
    rows = check.evaluate(
        ev({"eg": np.array([1.0, 2.0])}, {"eg": np.array([1.0, 9.0])}, {"eg": np.zeros(2)})
    )
    assert [r.observable for r in rows] == ["eg[alpha=1]"] and rows[0].passed
    rows = check.evaluate(
        ev({"eg": np.array([1.0, 2.0])}, {"eg": np.array([1.0, 9.0])}, {"eg": np.zeros(2)},
           params=P(peak=5.0))
    )
    assert [r.passed for r in rows] == [True, False]


def test_agreement_fails_on_nan():
    check = Agreement("eg", reason="r")
    rows = check.evaluate(
        ev({"eg": np.array([1.0, 2.0])}, {"eg": np.array([1.0, math.nan])}, {"eg": np.zeros(2)})
    )
    assert [r.passed for r in rows] == [True, False]


def test_theory_identity():
    check = TheoryIdentity("a", "b", reason="r", atol=1e-6)
    rows = check.evaluate(ev({"a": np.array([1.0, 2.0]), "b": np.array([1.0, 2.1])}))
    assert [r.passed for r in rows] == [True, False]
    assert rows[0].simulation is None and rows[0].value == 1.0
    assert check.theory_observables() == {"a", "b"}


def test_criterion_relations_tolerance_and_source():
    mean = {"rank": np.array([2.0, 3.0]), "ratio": 1.0 + 1e-10}
    eq = Criterion("rank", "==", 2.0, reason="r", atol=0.5)
    rows = eq.evaluate(ev({}, mean, mean))
    assert [r.passed for r in rows] == [True, False]
    assert rows[0].source == "constant" and rows[0].resolution is None
    le = Criterion("ratio", "<=", 1.0, reason="r", atol=1e-9)
    (row,) = le.evaluate(ev({}, mean, mean))
    assert row.passed and row.simulation == pytest.approx(1.0) and row.theory == 1.0
    ge = Criterion("ratio", ">=", 1.1, reason="r", rtol=0.05)  # 1.1 − 0.055 ≤ 1 fails
    assert not ge.evaluate(ev({}, mean, mean))[0].passed
    assert eq.evaluate(ev({}, None, None)) == []


def test_criterion_against_a_theory_prediction_has_a_resolution():
    c = Criterion("rank", "==", "k", reason="r", atol=0.4)
    rows = c.evaluate(ev({"k": np.array([2.0, 4.0])}, {"rank": np.array([2.0, 4.0])}, None))
    assert all(r.passed for r in rows) and rows[0].source == "theory"
    assert rows[0].resolution == pytest.approx(0.2) and rows[1].resolution == pytest.approx(0.1)
    assert c.theory_observables() == {"k"}


def test_criterion_references_params_and_other_observables():
    mean = {"rank": np.array([1.0, 2.0]), "k": np.array([1.0, 2.5])}
    by_param = Criterion("rank", "==", lambda p: np.array(p.alpha), reason="r")
    rows = by_param.evaluate(ev({}, mean, mean))
    assert [r.passed for r in rows] == [True, True] and rows[0].source == "parameter"
    by_sim = Criterion("rank", "==", "k", reason="r", reference_source="simulation", atol=0.3)
    assert [r.passed for r in by_sim.evaluate(ev({}, mean, mean))] == [True, False]
    theory_only = Criterion("k", ">=", 0.0, reason="r", source="theory")
    assert not theory_only.needs_simulation
    rows = theory_only.evaluate(ev({"k": np.array([1.0, -1.0])}))
    assert [r.passed for r in rows] == [True, False] and rows[0].value == 1.0
    with pytest.raises(ValueError, match="relation"):
        Criterion("k", "<", 0.0, reason="r")
    bad_shape = Criterion("rank", "==", lambda p: np.zeros(3), reason="r")
    with pytest.raises(ValueError, match="shape"):
        bad_shape.evaluate(ev({}, mean, mean))


def test_criterion_nan_fails_and_sem_allowance():
    (row,) = Criterion("ratio", "<=", 1.0, reason="r").evaluate(
        ev({}, {"ratio": math.nan}, {"ratio": 0.0})
    )
    assert not row.passed
    mean, sem = {"x": np.array([1.2, 1.2])}, {"x": np.array([0.1, 0.01])}
    rows = Criterion("x", "==", 1.0, reason="r", n_sem=2.0, atol=0.01).evaluate(ev({}, mean, sem))
    assert [r.passed for r in rows] == [True, False]
    assert rows[0].tolerance == pytest.approx(0.21)


def test_checks_that_select_nothing_fail_instead_of_passing_vacuously():
    mean = {"x": np.array([1.0, 2.0])}
    nothing = lambda p, c: False  # noqa: E731
    for check in (
        Agreement("x", reason="r", where=nothing),
        Criterion("x", "<=", 5.0, reason="r", where=nothing),
    ):
        (row,) = check.evaluate(ev({"x": np.array([1.0, 2.0])}, mean, mean))
        assert not row.passed and row.kind == "empty"
    for bad in ({"rtol": -1.0}, {"n_sem": math.nan}):
        with pytest.raises(ValueError):
            Criterion("x", "<=", 5.0, reason="r", **bad)
        with pytest.raises(ValueError):
            Agreement("x", reason="r", **bad)


def test_applies_restricts_a_check_to_the_settings_it_concerns():
    """``applies(params)`` leaves a check out of a setting it does not concern (a real-data run
    with allowances of its own); ``where`` still filters the elements of the checks that apply."""
    from theorylab.experiments.base import Experiment

    exp = Experiment(
        slug="toy", arxiv="0000.00000", title="t", claim="c", params=P,
        theory=lambda p: {}, simulate=lambda p, seed, device="cpu": {},
        observables={"eg": Observable("error", ("alpha",))}, checks=(
            Agreement("eg", reason="synthetic", rtol=0.01, applies=lambda p: p.peak < 3.0),
            Agreement("eg", reason="real data", rtol=0.2, applies=lambda p: p.peak >= 3.0),
            Criterion("eg", ">=", 0.0, reason="always"),
        ),
    )
    theory, mean, sem = {"eg": np.array([1.0, 2.0])}, {"eg": np.array([1.1, 2.2])}, {
        "eg": np.zeros(2)}
    synthetic = exp.evaluate(P(), theory, mean, sem, seeds=3)
    real = exp.evaluate(P(peak=5.0), theory, mean, sem, seeds=3)
    assert [r.reason for r in synthetic] == ["synthetic"] * 2 + ["always"] * 2
    assert not any(r.passed for r in synthetic[:2])
    assert [r.reason for r in real] == ["real data"] * 2 + ["always"] * 2
    assert all(r.passed for r in real)
