"""scikit-learn's handwritten digits (8 × 8 images, ships with the package; no download) as a
two-class mixture, preprocessed as in the real-data experiments of arXiv 2305.11041.

Torch-free (the theory side reads the class statistics). The images are read from the
``digits.csv.gz`` that scikit-learn ships (64 pixel columns, 0–16, and the label), located
without importing scikit-learn (its import takes seconds); :func:`load_digits` returns the same
arrays as ``sklearn.datasets.load_digits(return_X_y=True)`` (unit-tested).

:func:`two_class_digits` follows the authors' MNIST preprocessing (HugoCui/DAE,
``mnist_simulations.py``, Appendix D of the paper): keep two classes, balance them (the first
images of the larger class), centre the pixels at their mean and rescale (the authors divide
0–255 intensities by 400; here the 0–16 intensities by 16·400/255, the same intensity scale),
then centre at the midpoint of the two class means so that ``x = s μ_e + z`` with class means
``±μ_e``. The empirical class means and covariances of this pool are what the theory is fed;
a simulation trains on a random subset of the pool and tests on the held-out rest (a fresh
split per seed, so the held-out images are a random sample of the pool; a fixed split into
halves of ≈ 90 images per class would shift the test statistics by a finite-sample amount
common to every seed: the test half's ‖μ_e‖² is 7 % below the training half's).
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["DIGITS_SCALE", "TwoClassDigits", "load_digits", "two_class_digits"]

#: Divisor of the 0–16 pixel intensities: the authors' 1/400 on the 0–255 scale.
DIGITS_SCALE = 16.0 * 400.0 / 255.0


def _digits_file() -> Path:
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the digits data ship with scikit-learn: pip install scikit-learn"
        )
    return Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"


@functools.cache
def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 images ``(X, y)``: X of shape (1797, 64), float64 intensities 0–16; y int."""
    with gzip.open(_digits_file(), "rt") as f:
        data = np.loadtxt(f, delimiter=",")
    data.setflags(write=False)
    return data[:, :-1], data[:, -1].astype(int)


@dataclass(frozen=True)
class TwoClassDigits:
    """Two preprocessed digit classes: ``images`` (rows, d = 64), ``labels`` ±1 (``+1`` for the
    first class); ``mean`` is μ_e (half the difference of the class means), ``cov_plus`` /
    ``cov_minus`` the class covariances (normalised by the class size)."""

    images: np.ndarray
    labels: np.ndarray
    mean: np.ndarray
    cov_plus: np.ndarray
    cov_minus: np.ndarray

    @property
    def d(self) -> int:
        return self.images.shape[1]


def _cov(x: np.ndarray) -> np.ndarray:
    z = x - x.mean(0)
    return z.T @ z / x.shape[0]


@functools.cache
def two_class_digits(plus: int = 1, minus: int = 7) -> TwoClassDigits:
    """The classes ``plus`` (s = +1) and ``minus`` (s = −1) of the digits, balanced and
    preprocessed as in the module docstring."""
    x, y = load_digits()
    xp, xm = x[y == plus], x[y == minus]
    n = min(len(xp), len(xm))
    xp, xm = xp[:n], xm[:n]
    centre = np.vstack([xp, xm]).mean(0)
    xp, xm = (xp - centre) / DIGITS_SCALE, (xm - centre) / DIGITS_SCALE
    mid = 0.5 * (xp.mean(0) + xm.mean(0))
    xp, xm = xp - mid, xm - mid
    images = np.vstack([xp, xm])
    images.setflags(write=False)
    labels = np.concatenate([np.ones(n), -np.ones(n)])
    return TwoClassDigits(images, labels, 0.5 * (xp.mean(0) - xm.mean(0)), _cov(xp), _cov(xm))
