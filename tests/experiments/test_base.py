"""The Experiment contract: params coercion, element labels, checks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from theorylab.experiments.base import (
    Agreement,
    Criterion,
    TheoryIdentity,
    coerce_field,
    element_label,
    iter_elements,
    make_params,
    params_to_dict,
    require_int,
    require_positive,
)


@dataclass(frozen=True)
class P:
    alpha: tuple[float, ...] = (1.0, 2.0)
    lam: tuple[float, ...] = (0.1,)
    d: int = 10
    name: str = "x"
    flag: bool = False
    eps: float | None = None

    def __post_init__(self):
        require_positive("alpha", self.alpha)
        require_int("d", self.d, 1)


def test_coercion_from_strings_and_lists():
    assert coerce_field(P, "alpha", ["0.5", "2"]) == (0.5, 2.0)
    assert coerce_field(P, "alpha", "3") == (3.0,)
    assert coerce_field(P, "d", "12") == 12
    assert coerce_field(P, "d", 12.0) == 12
    assert coerce_field(P, "flag", "true") is True
    assert coerce_field(P, "eps", None) is None
    assert coerce_field(P, "eps", "0.5") == 0.5
    for name, value, match in [
        ("d", "1.5", "integer"),
        ("alpha", ["x"], "number"),
        ("flag", "maybe", "boolean"),
        ("nope", 1, "unknown parameter"),
    ]:
        with pytest.raises(ValueError, match=match):
            coerce_field(P, name, value)


def test_make_params_validates_and_round_trips():
    p = make_params(P, {"alpha": [0.5], "d": "3"})
    assert p == P(alpha=(0.5,), d=3)
    assert make_params(P, params_to_dict(p)) == p
    with pytest.raises(ValueError, match="alpha"):
        make_params(P, {"alpha": ["-1"]})


def test_iter_elements_labels_every_grid_point():
    p = P()
    elems = list(iter_elements(np.array([[1.0, 2.0]]), ("lam", "alpha"), p))
    assert elems == [({"lam": 0.1, "alpha": 1.0}, 1.0), ({"lam": 0.1, "alpha": 2.0}, 2.0)]
    assert element_label("eg", elems[1][0]) == "eg[lam=0.1, alpha=2]"
    with pytest.raises(ValueError, match="shape"):
        list(iter_elements(np.zeros(3), ("alpha",), p))
    assert list(iter_elements(0.5, (), p)) == [({}, 0.5)]


def test_agreement_tolerance_is_sem_plus_relative():
    check = Agreement("eg", reason="test", n_sem=3.0, rtol=0.01)
    p = P()
    th = {"eg": np.array([1.0, 2.0])}
    mean = {"eg": np.array([1.0 + 0.3 + 0.01 - 1e-9, 2.0 + 0.3 + 0.02 + 1e-6])}
    sem = {"eg": np.array([0.1, 0.1])}
    rows = check.evaluate(p, th, mean, sem, {"eg": ("alpha",)})
    assert [r.passed for r in rows] == [True, False]
    assert rows[0].tolerance == pytest.approx(0.31)
    assert check.evaluate(p, th, None, None, {"eg": ("alpha",)}) == []


def test_agreement_fails_on_nan_and_respects_where():
    check = Agreement("eg", reason="r", where=lambda c: c["alpha"] > 1.5)
    rows = check.evaluate(
        P(),
        {"eg": np.array([1.0, 2.0])},
        {"eg": np.array([5.0, math.nan])},
        {"eg": np.array([0.1, 0.1])},
        {"eg": ("alpha",)},
    )
    assert len(rows) == 1 and not rows[0].passed


def test_theory_identity():
    check = TheoryIdentity("a", "b", reason="r", atol=1e-6)
    rows = check.evaluate(
        P(),
        {"a": np.array([1.0, 2.0]), "b": np.array([1.0, 2.1])},
        None,
        None,
        {"a": ("alpha",), "b": ("alpha",)},
    )
    assert [r.passed for r in rows] == [True, False]
    assert rows[0].simulation is None and rows[0].value == 1.0


def test_criterion_relations_and_tolerance():
    mean = {"rank": np.array([2.0, 3.0]), "ratio": 1.0 + 1e-10}
    axes = {"rank": ("alpha",), "ratio": ()}
    eq = Criterion("rank", "==", 2.0, reason="r", atol=0.5)
    assert [r.passed for r in eq.evaluate(P(), {}, mean, mean, axes)] == [True, False]
    le = Criterion("ratio", "<=", 1.0, reason="r", atol=1e-9)
    (row,) = le.evaluate(P(), {}, mean, mean, axes)
    assert row.passed and row.simulation == pytest.approx(1.0) and row.theory == 1.0
    ge = Criterion("ratio", ">=", 1.1, reason="r", rtol=0.05)  # 1.1 − 0.055 ≤ 1 fails
    assert not ge.evaluate(P(), {}, mean, mean, axes)[0].passed
    assert eq.evaluate(P(), {}, None, None, axes) == []


def test_criterion_references_params_and_other_observables():
    axes = {"rank": ("alpha",), "k": ("alpha",)}
    mean = {"rank": np.array([1.0, 2.0]), "k": np.array([1.0, 2.5])}
    by_param = Criterion("rank", "==", lambda p: np.array(p.alpha), reason="r")
    assert [r.passed for r in by_param.evaluate(P(), {}, mean, mean, axes)] == [True, True]
    by_sim = Criterion("rank", "==", "k", reason="r", reference_source="simulation", atol=0.3)
    assert [r.passed for r in by_sim.evaluate(P(), {}, mean, mean, axes)] == [True, False]
    theory_only = Criterion("k", ">=", 0.0, reason="r", source="theory")
    assert not theory_only.needs_simulation
    rows = theory_only.evaluate(P(), {"k": np.array([1.0, -1.0])}, None, None, axes)
    assert [r.passed for r in rows] == [True, False] and rows[0].value == 1.0
    with pytest.raises(ValueError, match="relation"):
        Criterion("k", "<", 0.0, reason="r")
    bad_shape = Criterion("rank", "==", lambda p: np.zeros(3), reason="r")
    with pytest.raises(ValueError, match="shape"):
        bad_shape.evaluate(P(), {}, mean, mean, axes)


def test_criterion_nan_fails():
    c = Criterion("x", "<=", 1.0, reason="r")
    (row,) = c.evaluate(P(), {}, {"x": math.nan}, {"x": 0.0}, {"x": ()})
    assert not row.passed


def test_criterion_sem_allowance():
    mean = {"x": np.array([1.2, 1.2])}
    sem = {"x": np.array([0.1, 0.01])}
    c = Criterion("x", "==", 1.0, reason="r", n_sem=2.0, atol=0.01)
    rows = c.evaluate(P(), {}, mean, sem, {"x": ("alpha",)})
    assert [r.passed for r in rows] == [True, False]
    assert rows[0].tolerance == pytest.approx(0.21)


def test_pad_ragged_keeps_rows_and_pads_with_nan():
    from theorylab.experiments.base import pad_ragged

    out = pad_ragged([np.ones((2, 3)), np.zeros((4, 3))], 5)
    assert out.shape == (2, 5, 3)
    assert np.all(out[0, :2] == 1) and np.all(np.isnan(out[0, 2:]))
    assert np.all(out[1, :4] == 0) and np.all(np.isnan(out[1, 4:]))


def test_checks_that_select_nothing_fail_instead_of_passing_vacuously():
    mean = {"x": np.array([1.0, 2.0])}
    axes = {"x": ("alpha",)}
    nothing = lambda c: False  # noqa: E731
    for check in (
        Agreement("x", reason="r", where=nothing),
        Criterion("x", "<=", 5.0, reason="r", where=nothing),
    ):
        (row,) = check.evaluate(P(), {"x": np.array([1.0, 2.0])}, mean, mean, axes)
        assert not row.passed and row.kind == "empty"
    with pytest.raises(ValueError, match="rtol"):
        Criterion("x", "<=", 5.0, reason="r", rtol=-1.0)


def test_require_centred_activation():
    from theorylab.experiments.base import require_centred_activation

    for ok in ("tanh", "erf", "sign", "door", "tanh(2x)"):
        require_centred_activation("activation", ok)
    with pytest.raises(ValueError, match=r"activation must have zero Gaussian mean.*κ0 = 0\.399"):
        require_centred_activation("activation", "relu")
    with pytest.raises(ValueError, match=r"^target: unknown activation"):
        require_centred_activation("target", "bogus")
