"""Bottleneck teachers f*(x) = B relu(C P x) (nonlinear_rank note, arXiv 2209.15055)."""

from __future__ import annotations

import pytest
import torch

from theorylab.models.device import generator
from theorylab.models.teachers import bottleneck_teacher, gaussian_inputs, teacher_dataset


def test_shapes_and_orthonormal_projection():
    t = bottleneck_teacher(6, 2, 8, generator(0))
    assert t.projection.shape == (2, 6) and t.inner.shape == (8, 2) and t.outer.shape == (6, 8)
    assert t.rank == 2
    torch.testing.assert_close(t.projection @ t.projection.T, torch.eye(2, dtype=torch.float64))
    t3 = bottleneck_teacher(6, 3, 5, generator(0), d_out=4, dtype=torch.float32)
    assert t3.outer.shape == (4, 5) and t3.outer.dtype == torch.float32
    assert t3(torch.zeros(7, 6)).shape == (7, 4)


def test_teacher_factors_through_the_latent():
    """f*(x + v) = f*(x) for v ⟂ rows of P; the Jacobian has rank ≤ k (= k at generic x)."""
    t = bottleneck_teacher(6, 2, 8, generator(1))
    x = gaussian_inputs(20, 6, generator(2))
    v = torch.randn(20, 6, generator=generator(3), dtype=torch.float64)
    v = v - (v @ t.projection.T) @ t.projection
    torch.testing.assert_close(t(x + v), t(x))
    jac = torch.func.vmap(torch.func.jacrev(t))(x)
    s = torch.linalg.svdvals(jac)
    assert torch.all(s[:, 2:] < 1e-12 * s[:, :1])
    assert torch.all(s[:, 1] > 1e-6 * s[:, 0])


def test_formula_and_reproducibility():
    t = bottleneck_teacher(5, 1, 4, generator(4))
    x = gaussian_inputs(3, 5, generator(5))
    expected = torch.relu(x @ t.projection.T @ t.inner.T) @ t.outer.T
    torch.testing.assert_close(t(x), expected)
    t2 = bottleneck_teacher(5, 1, 4, generator(4))
    assert torch.equal(t.inner, t2.inner) and torch.equal(t.projection, t2.projection)
    xs, ys = teacher_dataset(t, 10, generator(6))
    assert xs.shape == (10, 5) and ys.shape == (10, 5)
    torch.testing.assert_close(ys, t(xs))


def test_signed_teacher_uses_both_signs():
    t = bottleneck_teacher(6, 1, 8, generator(7), signed=True)
    assert torch.all(t.inner[:4] > 0) and torch.all(t.inner[4:] < 0)
    # it is then a·relu(u·x) + b·relu(−u·x) with a, b ≠ 0: not a function of relu(u·x) alone
    u = t.projection[0]
    a = t.outer[:, :4] @ t.inner[:4, 0]
    b = t.outer[:, 4:] @ (-t.inner[4:, 0])
    x = gaussian_inputs(10, 6, generator(8))
    s = x @ u
    expected = torch.relu(s)[:, None] * a + torch.relu(-s)[:, None] * b
    torch.testing.assert_close(t(x), expected)
    assert a.norm() > 0 and b.norm() > 0


def test_validation():
    with pytest.raises(ValueError, match="k"):
        bottleneck_teacher(3, 4, 5, generator(0))
    with pytest.raises(ValueError, match="hidden"):
        bottleneck_teacher(3, 1, 1, generator(0), signed=True)
