"""scikit-learn's digits as a two-class mixture (theorylab.models.digits)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from theorylab.models import digits

pytestmark = pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                                reason="the digits ship with scikit-learn")


def test_reads_the_same_images_as_scikit_learn():
    sk = pytest.importorskip("sklearn.datasets")
    x, y = digits.load_digits()
    x_ref, y_ref = sk.load_digits(return_X_y=True)
    np.testing.assert_array_equal(x, x_ref)
    np.testing.assert_array_equal(y, y_ref)


def test_two_classes_are_balanced_and_centred_at_the_midpoint():
    data = digits.two_class_digits(1, 7)
    x, y = digits.load_digits()
    n = min(np.sum(y == 1), np.sum(y == 7))
    assert data.images.shape == (2 * n, 64) and data.d == 64
    plus, minus = data.images[data.labels > 0], data.images[data.labels < 0]
    assert len(plus) == len(minus) == n
    # class means ±μ_e, μ_e half their difference
    np.testing.assert_allclose(plus.mean(0), data.mean, atol=1e-12)
    np.testing.assert_allclose(minus.mean(0), -data.mean, atol=1e-12)
    # the authors' scaling: intensities 0–16 over 16·400/255
    raw = x[y == 1][:n]
    np.testing.assert_allclose(np.ptp(plus, axis=0), np.ptp(raw, axis=0) / digits.DIGITS_SCALE)
    for cls, cov in ((plus, data.cov_plus), (minus, data.cov_minus)):
        np.testing.assert_allclose(cov, np.cov(cls.T, bias=True), atol=1e-12)
        assert np.all(np.linalg.eigvalsh(cov) > -1e-12)
    # pixels that never light up are exactly zero after centring
    dead = np.all(x[(y == 1) | (y == 7)] == 0, axis=0)
    assert dead.any() and np.all(data.images[:, dead] == 0)
