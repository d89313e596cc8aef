"""convolution_bottleneck (arXiv 2402.08010): theory() predictions, validation, and a fast
theory-vs-simulation run of the linear CNN."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from theorylab.experiments import convolution_bottleneck as cb
from theorylab.theory.convolution import cost_of_spectra, filter_spectra, mode_minima

EXP = cb.EXPERIMENT


def test_theory_predictions():
    p = cb.Params()
    th = cb.theory(p)
    # the largest stationary point keeps at least the global minimum's modes, both shrink with L
    assert np.all(th["kept"] >= th["kept_global"])
    assert list(th["kept_global"]) == sorted(th["kept_global"], reverse=True)
    for i, depth in enumerate(p.depths):
        assert th["norm2"][i] == pytest.approx(cost_of_spectra(th["singular"][i], depth))
        assert th["norm2_global"][i] <= th["norm2"][i] + 1e-12  # it keeps a subset of the modes
    # R/L decreases with depth; the weak linear modes are dropped by the deep ReLU net only
    assert np.all(th["r_over_l_drop"][1:] > 0)
    np.testing.assert_array_equal(th["weak_dropped"], [0.0, 1.0])
    # conjugate frequencies carry the same singular values (real filters)
    s = th["singular"]
    np.testing.assert_allclose(s[:, 1], s[:, p.n - 1])


def test_scaled_convention():
    """Scaled filters: s* are the plain ones / √n, κ = nλ, and R = L Σ s^{2/L} (no 1/n)."""
    plain = cb.Params()
    scaled = dataclasses.replace(plain, convention="scaled")
    ss = cb.theory(scaled)
    s_star = np.linalg.svd(filter_spectra(cb.teacher_filter(plain)), compute_uv=False)
    for i, depth in enumerate(plain.depths):
        m = mode_minima(s_star / plain.n**0.5, plain.n * plain.lam, depth)
        np.testing.assert_allclose(ss["singular"][i], np.nan_to_num(m.local))
        assert ss["norm2"][i] == pytest.approx(depth * np.sum(ss["singular"][i] ** (2 / depth)))


@pytest.mark.parametrize(
    ("overrides", "match"),
    [({"n": 7}, "even"), ({"depths": (3, 2)}, "increasing"), ({"relu_depths": (2, 3)}, ">= 4"),
     ({"convention": "unitary"}, "convention")],
)  # fmt: skip
def test_validation(overrides, match):
    with pytest.raises(ValueError, match=match):
        EXP.make_params(overrides)


def test_linear_cnn_reaches_the_predicted_modes():
    """A fast run (L = 3, short schedule): the learned per-frequency singular values are
    the predicted ones and ‖θ‖² is the minimal-norm formula at the learned filter."""
    p = EXP.make_params({"depths": (3,), "adam_steps": 300, "lbfgs_max_iter": 300})
    th = cb.theory(p)
    for i, depth in enumerate(p.depths):
        out = cb.train_linear(p, 0, depth)
        np.testing.assert_allclose(out["singular"], th["singular"][i], atol=1e-4)
        assert out["kept"] == th["kept"][i]
        assert out["formula_gap"] < 1e-5
        assert out["norm2"] == pytest.approx(th["norm2"][i], rel=1e-5)
    # a wrong normalisation (convention B's formula for plain filters) is off by far more
    s = np.linalg.svd(filter_spectra(cb.teacher_filter(p)), compute_uv=False)
    assert cost_of_spectra(s, 2, "scaled") > 5 * cost_of_spectra(s, 2, "plain")
