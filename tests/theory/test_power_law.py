import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theorylab.theory.power_law import loglog_slope


@settings(max_examples=30, deadline=None)
@given(
    exponent=st.floats(-3.0, 3.0),
    scale=st.floats(1e-3, 1e3),
    start=st.floats(0.1, 10.0),
)
def test_an_exact_power_law_returns_its_exponent_whatever_its_scale(exponent, scale, start):
    x = start * np.geomspace(1.0, 64.0, 5)
    assert loglog_slope(x, scale * x**exponent) == pytest.approx(exponent, abs=1e-9)


def test_a_batch_of_curves_gives_one_slope_per_curve_as_one_by_one():
    rng = np.random.default_rng(0)
    x = np.array([100.0, 200.0, 400.0, 800.0])
    y = np.exp(rng.normal(size=(2, 3, 4)))
    batch = loglog_slope(x, y)
    assert batch.shape == (2, 3)
    one = [[loglog_slope(x, y[i, j]) for j in range(3)] for i in range(2)]
    np.testing.assert_allclose(batch, one, rtol=1e-12)


def test_it_is_the_ordinary_least_squares_line_of_the_logs():
    rng = np.random.default_rng(1)
    x = np.array([1.0, 2.0, 5.0, 9.0, 30.0])
    y = np.exp(rng.normal(size=5))
    expected = np.polyfit(np.log(x), np.log(y), 1)[0]
    assert loglog_slope(x, y) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ([1.0], [1.0]),
        ([1.0, 2.0], [1.0, 2.0, 3.0]),
        ([1.0, 2.0], [1.0, 0.0]),
        ([0.0, 2.0], [1.0, 2.0]),
    ],
)
def test_it_refuses_too_few_mismatched_or_non_positive_points(x, y):
    with pytest.raises(ValueError, match="loglog_slope"):
        loglog_slope(x, y)
