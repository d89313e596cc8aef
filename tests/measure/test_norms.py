"""Parameter norms against explicit loops; balancedness under the homogeneity rescaling."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from theorylab.measure.norms import balancedness, layer_norms2, parameter_norm2


def _weights(widths, batch, seed):
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(batch, o, i, generator=g, dtype=torch.float64)
        for i, o in itertools.pairwise(widths)
    ]


def test_parameter_norm_matches_a_loop():
    ws = _weights([4, 6, 5, 2], batch=3, seed=0)
    expected = np.zeros(3)
    per_layer = np.zeros((3, 3))
    for b in range(3):
        for ell, w in enumerate(ws):
            for row in w[b].tolist():
                for entry in row:
                    expected[b] += entry**2
                    per_layer[b, ell] += entry**2
    np.testing.assert_allclose(parameter_norm2(ws), expected, rtol=1e-13)
    np.testing.assert_allclose(layer_norms2(ws), per_layer, rtol=1e-13)
    # numpy input and requires_grad tensors give the same numbers
    np.testing.assert_allclose(parameter_norm2([w.numpy() for w in ws]), expected, rtol=1e-13)
    grad_ws = [w.clone().requires_grad_(True) for w in ws]
    np.testing.assert_allclose(parameter_norm2(grad_ws), expected, rtol=1e-13)


def test_one_network_gives_a_float_and_biases_add():
    ws = [w[0] for w in _weights([3, 4, 2], batch=1, seed=1)]
    total = parameter_norm2(ws)
    assert isinstance(total, float)
    assert total == pytest.approx(sum(float((w**2).sum()) for w in ws), rel=1e-14)
    biases = [torch.ones(4, dtype=torch.float64), 2 * torch.ones(2, dtype=torch.float64)]
    assert parameter_norm2(ws, biases=biases) == pytest.approx(total + 4 + 8, rel=1e-14)
    assert layer_norms2(ws).shape == (2,)


def test_balancedness_detects_the_homogeneity_rescaling():
    # equal layer norms: balanced
    ws = [torch.eye(3, dtype=torch.float64), torch.eye(3, dtype=torch.float64).flip(0)]
    assert balancedness(ws) == 0.0
    # rescaling (c, 1/c) keeps a ReLU network's function but unbalances it:
    # norms 3c² and 3/c², spread/mean = |c² − 1/c²| / ((c² + 1/c²)/2)
    c = 2.0
    scaled = [c * ws[0], ws[1] / c]
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    f = torch.relu(x @ ws[0].T) @ ws[1].T
    g = torch.relu(x @ scaled[0].T) @ scaled[1].T
    torch.testing.assert_close(f, g)
    assert balancedness(scaled) == pytest.approx(abs(c**2 - c**-2) / ((c**2 + c**-2) / 2))
    batch = _weights([2, 2, 2], batch=4, seed=3)
    assert balancedness(batch).shape == (4,)
    assert balancedness([torch.zeros(2, 2), torch.zeros(2, 2)]) == 0.0


def test_errors():
    with pytest.raises(ValueError, match="at least one"):
        parameter_norm2([])
    with pytest.raises(ValueError, match="out, in"):
        layer_norms2([torch.ones(3)])
    with pytest.raises(ValueError, match="batch"):
        layer_norms2([torch.ones(2, 3, 3), torch.ones(4, 3, 3)])
