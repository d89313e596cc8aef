"""Matérn kernels and GP compositions (data of arXiv 2407.05664)."""

import numpy as np
import pytest
from scipy.special import gamma, kv

from theorylab.models.matern import composition, matern_kernel, rms_distances, sample_gp


@pytest.mark.parametrize("nu", [0.5, 1.5, 2.5, 4.5, 1.0, 4.0])
def test_kernel_matches_the_bessel_form(nu):
    r = np.linspace(0.01, 3.0, 9)
    s = np.sqrt(2 * nu) * r
    ref = 2 ** (1 - nu) / gamma(nu) * s**nu * kv(nu, s)
    np.testing.assert_allclose(matern_kernel(r, nu), ref, rtol=1e-10)
    assert matern_kernel(np.zeros(1), nu)[0] == pytest.approx(1.0)


def test_rms_distance_and_samples():
    a = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert rms_distances(a)[0, 1] == pytest.approx(5 / np.sqrt(2))
    x = np.random.default_rng(0).standard_normal((400, 3))
    z = sample_gp(np.random.default_rng(1), x, 1.5, 200)
    assert z.shape == (400, 200)
    assert np.mean(z**2) == pytest.approx(1.0, abs=0.1)  # unit variance
    g, y = composition(np.random.default_rng(2), x[:50], nu_g=2.5, nu_h=0.5, d_mid=2, d_out=3)
    assert g.shape == (50, 2) and y.shape == (50, 3) and np.all(np.isfinite(y))
