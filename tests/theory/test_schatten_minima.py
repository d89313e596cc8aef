"""theory.schatten_minima: per-mode minima of weight-decayed deep linear nets (2305.16038)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from theorylab.theory import schatten_minima as sm

# Quick setting of the paper note (../shared/papers/2305.16038-sgd_rank_jumps.md): d = 10,
# Y = UVᵀ/√2 + 0.1 G (numpy default_rng(0)), L = 6, λ = 8e-4.
Y_SINGULAR = (6.046, 2.075, 0.544, 0.451, 0.379, 0.260, 0.177, 0.130, 0.074, 0.008)


def _ys():
    rng = np.random.default_rng(0)
    u, v, g = rng.standard_normal((10, 2)), rng.standard_normal((10, 2)), rng.standard_normal(
        (10, 10))
    return np.linalg.svd(u @ v.T / math.sqrt(2) + 0.1 * g, compute_uv=False)


def test_task_singular_values():
    np.testing.assert_allclose(_ys(), Y_SINGULAR, atol=6e-4)


def test_reference_minima_of_the_note():
    """Modes 1–4 have positive minima 6.022, 2.025, 0.396, 0.248; losses of the top-k minima
    k = 0…4: 0.416293, 0.059448, 0.022481 (global), 0.023263, 0.024657."""
    losses, s_plus = sm.kept_minimum_losses(_ys(), 8e-4, 6, 0.01)
    np.testing.assert_allclose(s_plus[:4], [6.022, 2.025, 0.396, 0.248], atol=6e-4)
    assert np.all(np.isnan(s_plus[4:]))
    np.testing.assert_allclose(
        losses, [0.416293, 0.059448, 0.022481, 0.023263, 0.024657], atol=1e-6
    )
    assert sm.global_rank(_ys(), 8e-4, 6, 0.01) == 2


@pytest.mark.parametrize("y", [0.3, 0.5, 2.0, 6.0])
def test_positive_minimum_is_a_local_minimum_of_h(y):
    lam, depth, scale = 8e-4, 6, 0.01
    s = sm.positive_minimum(y, lam, depth, scale)
    if math.isnan(s):
        # no interior stationary point: h increases from 0 on (0, y]
        grid = np.linspace(1e-6, y, 2000)
        h = sm.mode_objective(grid, y, lam, depth, scale)
        assert np.all(np.diff(h) > 0)
        return
    res = minimize_scalar(lambda t: sm.mode_objective(t, y, lam, depth, scale),
                          bounds=(0.5 * s, min(y, 1.5 * s)), method="bounded",
                          options={"xatol": 1e-12})
    assert res.x == pytest.approx(s, rel=1e-5)


def test_two_layers_have_no_separate_minima_and_bad_input():
    with pytest.raises(ValueError, match="depth"):
        sm.positive_minimum(1.0, 1e-3, 2, 1.0)
    with pytest.raises(ValueError, match="lam"):
        sm.positive_minimum(1.0, 0.0, 4, 1.0)
    assert math.isnan(sm.positive_minimum(0.0, 1e-3, 4, 1.0))
