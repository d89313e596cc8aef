"""barron_diffusion (arXiv 2410.11275): theory outputs and a tiny DSM training run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorylab.experiments import barron_diffusion as bd


def test_theory_rates_and_dsm_identity():
    p = bd.Params()
    th = bd.theory(p)
    assert th["rate_exponent"] == pytest.approx(2 / 7)
    assert np.allclose(th["unstructured_exponent"], [2 / 8, 2 / 36])
    assert np.allclose(th["dsm_gap"], th["score_norm"], atol=1e-5)
    # E‖s_t‖² = (D − k)/σ_t² + Fisher: the D-dependence is the orthogonal linear part only
    sigma2 = -math.expm1(-0.6)
    assert th["score_norm"][1] - th["score_norm"][0] == pytest.approx(28 / sigma2, rel=1e-10)


def test_tiny_training_run_learns_and_measures():
    p = bd.Params(
        ambient=(4,), n=(64, 1024), steps=200, batch=128, width=32, n_test=2000, n_mc=20_000
    )
    sim = bd.simulate(p, 0)
    th = bd.theory(p)
    # the exact score's DSM gap by Monte Carlo (20 000 pairs) against the quadrature
    assert sim["dsm_gap"][0] == pytest.approx(th["dsm_gap"][0], rel=0.02)
    # a trained network is far better than the zero field (error E‖s_t‖² ≈ 7.2)
    assert np.all(sim["subspace_error"] + sim["orthogonal_error"] < 0.2)
    assert sim["decay_exponent"].shape == (1,)
