"""Tests for the fixed-point solvers and their diagnostics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorylab.theory.fixed_point import (
    ConvergenceError,
    FixedPointResult,
    SolverStatus,
    solve_fixed_point,
)

DOTTIE = 0.7390851332151607


@pytest.mark.parametrize("method", ["damped", "anderson"])
def test_dottie_number(method: str) -> None:
    result = solve_fixed_point(math.cos, 1.0, method=method)
    assert result.status.converged
    assert result.status.method == method
    assert isinstance(result.x, float)
    assert result.x == pytest.approx(DOTTIE, abs=1e-11)
    assert result.status.residual <= 1e-12
    assert result.status.residual == pytest.approx(abs(math.cos(result.x) - result.x), abs=1e-16)
    assert result.require() == result.x


def test_anderson_needs_far_fewer_iterations() -> None:
    plain = solve_fixed_point(np.cos, 1.0)
    anderson = solve_fixed_point(np.cos, 1.0, method="anderson")
    assert plain.status.converged
    assert anderson.status.converged
    assert anderson.status.iterations * 5 < plain.status.iterations


def test_damping_convention() -> None:
    # One step with damping d: x1 = (1 - d) f(x0) + d x0.
    result = solve_fixed_point(lambda x: 10.0, 0.0, damping=0.25, max_iter=1)
    assert result.x == pytest.approx(7.5)
    assert result.status.iterations == 1
    assert not result.status.converged
    damped = solve_fixed_point(np.cos, 1.0, damping=0.5)
    assert damped.status.converged
    assert damped.x == pytest.approx(DOTTIE, abs=1e-11)


def closed_form_q(alpha: np.ndarray, s: float) -> np.ndarray:
    b = s + 1 + alpha
    return (b - np.sqrt(b**2 - 4 * alpha)) / 2


@pytest.mark.parametrize("method", ["damped", "anderson"])
def test_vector_problem_elementwise(method: str) -> None:
    s = 0.5
    alpha = np.array([[0.1, 0.5, 1.0], [2.0, 5.0, 20.0]])

    def update(q: np.ndarray) -> np.ndarray:
        assert q.shape == alpha.shape
        q_hat = alpha / (s + 1 - q)
        return q_hat / (1 + q_hat)

    result = solve_fixed_point(update, np.zeros_like(alpha), method=method)
    assert result.status.converged
    assert isinstance(result.x, np.ndarray)
    assert result.x.shape == alpha.shape
    np.testing.assert_allclose(result.x, closed_form_q(alpha, s), atol=1e-11)


def test_anderson_faster_on_vector_problem() -> None:
    alpha = np.linspace(0.1, 10.0, 25)

    def update(q: np.ndarray) -> np.ndarray:
        q_hat = alpha / (1.0 + 1 - q)
        return q_hat / (1 + q_hat)

    plain = solve_fixed_point(update, np.zeros(25))
    fast = solve_fixed_point(update, np.zeros(25), method="anderson", anderson_m=8)
    assert plain.status.converged
    assert fast.status.converged
    assert fast.status.iterations < plain.status.iterations
    np.testing.assert_allclose(fast.x, closed_form_q(alpha, 1.0), atol=1e-11)


def test_divergent_map_reports_without_raising() -> None:
    result = solve_fixed_point(lambda x: 2 * x + 1, 0.0)
    status = result.status
    assert not status.converged
    assert "non-finite" in status.message
    assert math.isfinite(result.x)
    assert math.isfinite(status.residual)
    assert status.residual == pytest.approx(abs(2 * result.x + 1 - result.x))
    with pytest.raises(ConvergenceError, match="non-finite"):
        result.require()


def test_divergent_map_with_max_iter() -> None:
    result = solve_fixed_point(lambda x: 2 * x + 1, np.array([0.0, 1.0]), max_iter=50)
    assert not result.status.converged
    assert result.status.iterations == 50
    assert "max_iter" in result.status.message
    assert np.all(np.isfinite(result.x))


def test_anderson_finds_repelling_fixed_point_of_affine_map() -> None:
    # Anderson solves affine maps exactly after one secant step, even repelling ones.
    result = solve_fixed_point(lambda x: 2 * x + 1, 0.0, method="anderson")
    assert result.status.converged
    assert result.x == pytest.approx(-1.0)


def test_non_finite_start_and_values() -> None:
    result = solve_fixed_point(lambda x: x, math.nan)
    assert not result.status.converged
    assert result.status.iterations == 0
    with np.errstate(divide="ignore"):
        result = solve_fixed_point(lambda x: np.log(x), 0.0)
    assert not result.status.converged
    assert "starting point" in result.status.message
    # f turns non-finite at x = 5: the last iterate with a finite residual (x = 4) is returned.
    result = solve_fixed_point(lambda x: x + 1 if x < 5 else math.nan, 0.0)
    assert not result.status.converged
    assert result.x == 4.0
    assert result.status.residual == 1.0
    assert result.status.iterations == 5
    assert "non-finite value of f at iteration 5" in result.status.message


def test_max_iter_too_small() -> None:
    result = solve_fixed_point(np.cos, 1.0, max_iter=3)
    assert not result.status.converged
    assert result.status.iterations == 3
    assert "max_iter=3" in result.status.message
    assert result.status.residual == pytest.approx(abs(math.cos(result.x) - result.x))
    with pytest.raises(ConvergenceError, match=r"saddle point did not converge.*3 iterations"):
        result.require("saddle point")


def test_already_converged_start() -> None:
    result = solve_fixed_point(lambda x: x, np.ones(3))
    assert result.status.converged
    assert result.status.iterations == 0
    assert result.status.residual == 0.0


def test_relative_tolerance_for_large_values() -> None:
    # fixed point 1e8: absolute residual ~1e-8 is accepted by the mixed criterion.
    result = solve_fixed_point(lambda x: 0.5 * x + 0.5e8, 0.0, method="anderson")
    assert result.status.converged
    assert result.x == pytest.approx(1e8, rel=1e-12)


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="elements"):
        solve_fixed_point(lambda x: np.zeros(3), np.zeros(2))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"damping": 1.0}, "damping"),
        ({"damping": -0.1}, "damping"),
        ({"damping": math.nan}, "damping"),
        ({"tol": 0.0}, "tol"),
        ({"tol": -1e-3}, "tol"),
        ({"tol": math.inf}, "tol"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_iter": 2.5}, "max_iter"),
        ({"method": "newton"}, "method"),
        ({"anderson_m": 0}, "anderson_m"),
    ],
)
def test_argument_validation(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        solve_fixed_point(np.cos, 1.0, **kwargs)


def test_status_combine() -> None:
    a = SolverStatus(True, 10, 1e-13, "anderson")
    b = SolverStatus(False, 100, 1e-3, "damped", "max_iter reached")
    c = SolverStatus.exact()
    d = SolverStatus(False, 5, 2e-2, "anderson", "non-finite iterate")
    combined = SolverStatus.combine(a, b, c, d)
    assert combined.converged is False
    assert combined.iterations == 115
    assert combined.residual == 2e-2
    assert combined.method == "anderson+damped+closed form"
    assert combined.message == "max_iter reached; non-finite iterate"

    good = SolverStatus.combine(a, c)
    assert good.converged
    assert good.message == ""
    assert good.residual == 1e-13
    assert SolverStatus.combine().converged

    with_nan = SolverStatus.combine(a, SolverStatus(False, 1, math.nan, "damped"))
    assert math.isnan(with_nan.residual)


def test_status_exact_and_as_dict() -> None:
    exact = SolverStatus.exact()
    assert exact == SolverStatus(True, 0, 0.0, "closed form")
    assert SolverStatus.exact("table").method == "table"
    assert exact.as_dict() == {
        "converged": True,
        "iterations": 0,
        "residual": 0.0,
        "method": "closed form",
    }
    failed = SolverStatus(False, 3, 0.5, "damped", "max_iter reached")
    assert failed.as_dict()["message"] == "max_iter reached"


def test_result_require() -> None:
    ok = FixedPointResult(np.array([1.0, 2.0]), SolverStatus.exact())
    np.testing.assert_array_equal(ok.require(), [1.0, 2.0])
    bad = FixedPointResult(0.3, SolverStatus(False, 42, 1.5e-3, "damped", "max_iter reached"))
    with pytest.raises(ConvergenceError) as info:
        bad.require("overlap q")
    message = str(info.value)
    assert "overlap q" in message
    assert "1.500e-03" in message
    assert "42 iterations" in message
    assert isinstance(info.value, RuntimeError)
