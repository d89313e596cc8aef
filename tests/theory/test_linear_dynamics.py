"""theory.linear_dynamics: SC formula (2405.17580 Eq. (1)), its limits, the lazy closed form."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.theory import linear_dynamics as ld


def test_psd_sqrt_squares_back_and_clips_round_off():
    rng = np.random.default_rng(0)
    m = rng.standard_normal((6, 4))
    p = m @ m.T  # rank 4: two round-off eigenvalues, possibly negative
    r = ld.psd_sqrt(p)
    np.testing.assert_allclose(r @ r, p, atol=1e-10)
    assert np.all(np.isfinite(r))


def test_lazy_limit_of_the_sc_step():
    """c ≫ ‖A‖: the speed factor √(s² + c²) → c, so a step is A − 2ηc (A − Y) (Sec. 3)."""
    rng = np.random.default_rng(1)
    a, y = 1e-3 * rng.standard_normal((5, 5)), 1e-3 * rng.standard_normal((5, 5))
    c, eta = 1e3, 1e-5
    np.testing.assert_allclose(
        ld.self_consistent_step(a, y, c, eta), a - 2 * eta * c * (a - y), rtol=1e-9, atol=1e-15
    )


def test_balanced_limit_of_the_sc_step():
    """c = 0 on an aligned diagonal problem: ds/dt = −2 s (s − y) per mode (balanced)."""
    a, y = np.diag([2.0, 0.5]), np.diag([3.0, 1.0])
    out = ld.self_consistent_step(a, y, 0.0, 0.01)
    np.testing.assert_allclose(np.diag(out), [2.0 + 0.01 * 2 * 2.0, 0.5 + 0.01 * 2 * 0.5 * 0.5])


def test_sc_step_is_exact_at_a_balanced_point():
    """At a balanced point (W1 = W2 = diag(√s), so W2W2ᵀ = (AAᵀ)^{1/2}) with c = 0, one GD step of
    the network and one SC step agree to O(η²): the formula is exact there."""
    s0 = np.array([1.5, 1.0, 0.4, 0.1])
    eta = 1e-4
    w1 = np.diag(np.sqrt(s0))
    y = np.diag([2.0, 0.5, 1.0, 0.0])
    a = w1 @ w1
    g = a - y
    a_gd = (w1 - eta * g @ w1.T) @ (w1 - eta * w1.T @ g)
    a_sc = ld.self_consistent_step(a, y, 0.0, eta)
    np.testing.assert_allclose(a_gd, a_sc, atol=10 * eta**2)


def test_sc_trajectory_shape_and_validation():
    a0, y = np.zeros((3, 3)), np.eye(3)
    traj = ld.self_consistent_trajectory(a0, y, 1.0, 0.05, 4)
    assert traj.shape == (5, 3, 3)
    np.testing.assert_allclose(traj[0], a0)
    with pytest.raises(ValueError, match="eta"):
        ld.self_consistent_trajectory(a0, y, 1.0, 0.0, 4)
    with pytest.raises(ValueError, match="c"):
        ld.self_consistent_trajectory(a0, y, -1.0, 0.1, 4)


def test_lazy_curve_closed_form_and_minimum():
    curve = ld.lazy_test_curve(50, 0.01, 10.0, 0.5, 1.0, 0.09)
    q = 1 - 2 * 0.01 * 10.0
    t = np.arange(51)
    np.testing.assert_allclose(curve.test, q ** (2 * t) * 1.5 + (1 - q**t) ** 2 * 0.09)
    assert curve.test[0] == pytest.approx(1.5)
    # the discrete minimum lies above the continuous-time minimum ab/(a + b), and close to it
    cont = ld.lazy_min_test_error(0.5, 1.0, 0.09)
    assert cont == pytest.approx(1.5 * 0.09 / 1.59)
    assert cont <= curve.best <= cont * 1.01


def test_lazy_reference_value_of_the_paper_note():
    """Quick setting of 2405.17580 (d = 40, w = 3346, σ²w = 48.1, ε = 0.3): lazy-limit minimum
    0.0855 (GD measured 0.0847 as the mean over 6 seeds, a 1 % finite-σ²w effect)."""
    c, w = 40**-1.15 * 3346, 3346
    curve = ld.lazy_test_curve(200, 0.2 / c, c, c * c / w, 1.0, 0.09)
    assert curve.best_step == 6
    assert curve.best == pytest.approx(0.08548, abs=1e-4)


def test_phase_diagram_lines():
    """Fig. 2: lazy above σ²w = d, infinite noise above σ⁴w = 1, under-parameterised w < K."""
    d = 40
    assert ld.regime(40**-1.15, 3346, d, 3).lazy
    assert not ld.regime(40**-1.62, 3346, d, 3).lazy
    assert not ld.regime(40**-1.15, 3346, d, 3).infinite_noise
    assert ld.regime(40**-0.9, 3346, d, 3).infinite_noise
    assert ld.regime(1.0, 2, d, 3).underparameterised
