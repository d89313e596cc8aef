"""Cross-fitted ridge test errors on one pool (models/readout.py), against brute force."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from theorylab.models.readout import RidgePool, scan_minimum


def _brute(f, y, n, lam, sets):
    """Mean over the first ``sets`` disjoint training sets of the MSE on all other samples."""
    errs = []
    for k in range(sets):
        inside = np.zeros(len(y), dtype=bool)
        inside[k * n : (k + 1) * n] = True
        fk, yk = f[inside], y[inside]
        theta = np.linalg.solve(fk.T @ fk + lam * np.eye(f.shape[1]), fk.T @ yk)
        errs.append(np.mean((y[~inside] - f[~inside] @ theta) ** 2))
    return np.mean(errs)


def _pool(seed=0, size=100, p=12):
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((size, p)) * np.linspace(0.3, 2.0, p)
    y = np.tanh(f[:, 0]) + f[:, 1] ** 2 / 3 + 0.1 * rng.standard_normal(size)
    return f, y, RidgePool.of(torch.from_numpy(f), torch.from_numpy(y))


@pytest.mark.parametrize("n", [7, 12, 30])  # dual (n < p), n = p, primal
@pytest.mark.parametrize("lams", [[0.01, 1.0, 25.0], list(np.geomspace(1e-3, 1e3, 9))])
def test_matches_brute_force_cross_fitting(n, lams):
    """Both solvers (Cholesky for a few penalties, one eigh for a scan), both forms."""
    f, y, pool = _pool()
    got = pool.errors(n, lams, batch=2).numpy()
    want = [_brute(f, y, n, lam, 100 // n) for lam in lams]
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_sets_cap_curves_and_validation():
    f, y, pool = _pool(1, 60, 5)
    got = pool.curves([10, 20], [0.5, 2.0], sets=2)
    assert got.shape == (2, 2)
    assert got[1, 0] == pytest.approx(_brute(f, y, 10, 2.0, 2), rel=1e-9)
    with pytest.raises(ValueError, match="size"):
        pool.errors(60, [0.5])
    with pytest.raises(ValueError, match="> 0"):
        pool.errors(10, [0.0])


def test_scan_minimum_refines_a_parabola():
    lams = np.geomspace(1e-2, 1e2, 9)
    t = np.log(lams)
    errors = np.stack([0.3 + 0.05 * (t - 0.7) ** 2, 1.0 + t**2], axis=1)
    lam, err = scan_minimum(lams, errors)
    np.testing.assert_allclose(lam, [np.exp(0.7), 1.0], rtol=1e-9)
    np.testing.assert_allclose(err, [0.3, 1.0], atol=1e-12)
    # A minimum at the end of the scan stays there.
    lam, err = scan_minimum(lams, np.exp(-t)[:, None])
    assert lam[0] == pytest.approx(1e2) and err[0] == pytest.approx(1e-2)
