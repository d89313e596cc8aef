"""Deep linear networks: rotations, the weight product, training to the closed-form minimum."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from theorylab.models.deep_linear import (
    fit_whitened_problem,
    identity,
    orthogonal_init,
    train_deep_linear,
    weight_product,
)
from theorylab.models.device import generator
from theorylab.models.teachers import whitened_linear_task


def test_orthogonal_init_is_a_rotation():
    ws = orthogonal_init(5, 3, generator(4), batch=2)
    eye = torch.eye(5, dtype=torch.float64).expand(2, 5, 5)
    for w in ws:
        assert w.requires_grad and w.shape == (2, 5, 5)
        torch.testing.assert_close(w.detach() @ w.detach().mT, eye)
        torch.testing.assert_close(torch.linalg.det(w.detach()), torch.ones(2, dtype=torch.float64))


def test_weight_product_and_identity():
    g = generator(1)
    ws = [
        torch.randn(4, 3, generator=g),
        torch.randn(5, 4, generator=g),
        torch.randn(2, 5, generator=g),
    ]
    torch.testing.assert_close(weight_product(ws), ws[2] @ ws[1] @ ws[0])
    x = torch.randn(7, 3, generator=g)
    assert torch.equal(identity(x), x)


def test_whitened_task():
    x, m = whitened_linear_task(generator(2), 40, (2.0, 1.0, 0.5))
    torch.testing.assert_close(x.T @ x / 40, torch.eye(3, dtype=torch.float64))
    torch.testing.assert_close(
        torch.linalg.svdvals(m), torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64)
    )
    assert torch.linalg.det(m) > 0
    with pytest.raises(ValueError, match="n must"):
        whitened_linear_task(generator(2), 2, (1.0, 1.0, 1.0))


def test_depth_two_reaches_soft_thresholding():
    """L = 2: the minimiser has s_i = max(m_i − λ, 0) (2‖A‖_* penalty) and ‖θ‖² = 2 Σ s_i."""
    lam, m = 0.1, np.array([1.5, 0.8, 0.05])
    x, mat = whitened_linear_task(generator(3), 30, m)
    fit = train_deep_linear(x, x @ mat.T, 2, lam, generator(4), restarts=2)
    assert fit.converged and fit.grad_norm <= 1e-5
    s = torch.linalg.svdvals(weight_product(fit.weights)).numpy()
    np.testing.assert_allclose(s, np.maximum(m - lam, 0.0), atol=1e-6)
    norm2 = sum(float(w.square().sum()) for w in fit.weights)
    assert norm2 == pytest.approx(2 * np.sum(np.maximum(m - lam, 0.0)), rel=1e-6)


def test_fit_whitened_problem_is_balanced_at_its_minima():
    """At a critical point ‖θ‖² equals L Σ s^{2/L} of the learned product (balanced layers)."""
    out = fit_whitened_problem(
        (1.5, 1.0, 0.7), 24, (2, 3), 1e-3, generator(5), [generator(6), generator(7)], restarts=2
    )
    np.testing.assert_array_equal(out["converged"], [1.0, 1.0])
    np.testing.assert_allclose(out["norm2"], out["cost"], rtol=1e-6)
    assert np.all(out["loss"] > 0)


def test_gradient_descent_path_records_every_step():
    """gradient_descent_path: steps + 1 records, the first before any step, GD in place."""
    import torch

    from theorylab.models.deep_linear import gradient_descent_path

    w = [torch.tensor([[2.0]], dtype=torch.float64, requires_grad=True)]
    path = gradient_descent_path(
        w, lambda ws: 0.5 * ws[0].square().sum()[None], 0.25, 3, lambda ws: ws[0].item()
    )
    np.testing.assert_allclose(path, [2.0, 1.5, 1.125, 0.84375])
    assert w[0].item() == 0.84375
