"""Bottleneck teachers f*(x) = B relu(C P x) (nonlinear_rank note, arXiv 2209.15055)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from theorylab.models.device import generator
from theorylab.models.teachers import (
    TeacherMatrices,
    bottleneck_teacher,
    draw_teacher,
    gaussian_inputs,
    nonnegative_width,
    positively_spans,
    teacher_dataset,
    width_is_forced,
)


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


# --------------------------------------------------------------------------------------------
# numpy teachers (theory side) and their bias-free width
# --------------------------------------------------------------------------------------------


def test_numpy_teacher_shapes_formula_and_torch_twin():
    t = draw_teacher(np.random.default_rng(0), 6, 2, 8)
    assert t.projection.shape == (2, 6) and t.inner.shape == (8, 2) and t.outer.shape == (6, 8)
    np.testing.assert_allclose(t.projection @ t.projection.T, np.eye(2), atol=1e-14)
    x = np.random.default_rng(1).standard_normal((9, 6))
    np.testing.assert_allclose(t(x), np.maximum(x @ t.projection.T @ t.inner.T, 0) @ t.outer.T)
    tt = t.torch()
    assert tt.rank == t.rank == 2
    np.testing.assert_allclose(tt(torch.as_tensor(x)).numpy(), t(x), rtol=1e-14)
    again = draw_teacher(np.random.default_rng(0), 6, 2, 8)
    assert np.array_equal(again.inner, t.inner) and np.array_equal(again.outer, t.outer)
    signed = draw_teacher(np.random.default_rng(2), 6, 1, 8, signed=True)
    assert np.all(signed.inner[:4] > 0) and np.all(signed.inner[4:] < 0)
    with pytest.raises(ValueError, match="k"):
        draw_teacher(np.random.default_rng(0), 3, 4, 5)
    with pytest.raises(ValueError, match="hidden"):
        draw_teacher(np.random.default_rng(0), 3, 1, 1, signed=True)


def _angles(*degrees):
    a = np.deg2rad(np.asarray(degrees, dtype=float))
    return np.stack([np.cos(a), np.sin(a)], axis=1)


def test_positive_spanning_known_cases():
    assert positively_spans(np.array([[1.0], [-2.0]]))  # both signs in R^1
    assert not positively_spans(np.array([[1.0], [3.0]]))
    assert positively_spans(_angles(0, 120, 240))  # a positive basis of R²
    assert not positively_spans(_angles(0, 60, 138))  # inside a 138° sector
    assert not positively_spans(_angles(0, 90, 179))
    assert positively_spans(_angles(0, 90, 181))
    assert not positively_spans(_angles(0, 0, 0))  # does not span R²
    assert positively_spans(np.vstack([np.eye(3), -np.ones((1, 3))]))  # simplex frame of R³
    assert not positively_spans(np.vstack([np.eye(3), np.ones((1, 3))]))


def test_positive_spanning_brute_force_in_the_plane():
    """In R², directions positively span iff every angular gap between consecutive ones is
    < 180° (brute force over sorted angles) — checked on 300 random sets."""
    rng = np.random.default_rng(3)
    for _ in range(300):
        h = int(rng.integers(2, 7))
        v = rng.standard_normal((h, 2)) * rng.uniform(0.1, 3.0, size=(h, 1))
        ang = np.sort(np.arctan2(v[:, 1], v[:, 0]))
        gaps = np.diff(np.concatenate([ang, [ang[0] + 2 * np.pi]]))
        assert positively_spans(v) == bool(np.max(gaps) < np.pi)


def test_nonnegative_width():
    k1 = draw_teacher(np.random.default_rng(4), 6, 1, 8, signed=True)
    assert nonnegative_width(k1) == 2  # t⁺ and t⁻
    one_sign = TeacherMatrices(k1.projection, np.abs(k1.inner), k1.outer)
    assert nonnegative_width(one_sign) == 1
    p = draw_teacher(np.random.default_rng(5), 6, 2, 3).projection
    b = np.random.default_rng(6).standard_normal((6, 3))
    assert nonnegative_width(TeacherMatrices(p, _angles(0, 120, 240), b)) == 3
    assert nonnegative_width(TeacherMatrices(p, _angles(0, 60, 138), b)) == 2
    p3 = draw_teacher(np.random.default_rng(7), 6, 3, 4).projection
    frame = np.vstack([np.eye(3), -np.ones((1, 3))])
    assert nonnegative_width(TeacherMatrices(p3, frame, np.ones((6, 4)))) == 4
    with pytest.raises(ValueError, match="k <= 2"):
        nonnegative_width(TeacherMatrices(p3, np.abs(frame), np.ones((6, 4))))


def test_signed_scalar_needs_two_nonnegative_units():
    """Brute force of the k = 1 case: a positively homogeneous g: R → [0, ∞) is
    g(t) = α relu(t) + β relu(−t) with α, β ≥ 0, and for every (α, β) on a grid two inputs
    with g(t1) = g(t2) have different values of the signed teacher a·relu(t) + b·relu(−t)."""
    a, b = np.array([1.0, 0.3]), np.array([-0.4, 1.2])

    def f(t: float) -> np.ndarray:
        return max(t, 0.0) * a + max(-t, 0.0) * b

    for alpha in np.linspace(0.0, 2.0, 9):
        for beta in np.linspace(0.0, 2.0, 9):
            if alpha == beta == 0:
                continue
            if alpha > 0 and beta > 0:
                t1, t2 = 1.0, -alpha / beta
            else:  # g forgets one sign entirely
                t1, t2 = (-1.0, -2.0) if beta == 0 else (1.0, 2.0)

            def g(t: float, al: float = alpha, be: float = beta) -> float:
                return al * max(t, 0.0) + be * max(-t, 0.0)

            assert g(t1) == pytest.approx(g(t2))
            assert not np.allclose(f(t1), f(t2))


def test_width_is_forced():
    """k + 1 is forced when the c_j positively span; a k = 1 teacher is always forced; a
    k = 2 teacher in a half-plane is not (its k = 2 encoding is only the L → ∞ limit)."""
    p = draw_teacher(np.random.default_rng(5), 6, 2, 3).projection
    b = np.random.default_rng(6).standard_normal((6, 3))
    assert width_is_forced(TeacherMatrices(p, _angles(0, 120, 240), b))
    assert not width_is_forced(TeacherMatrices(p, _angles(0, 60, 160), b))
    k1 = draw_teacher(np.random.default_rng(4), 6, 1, 8)
    assert width_is_forced(k1)
    assert width_is_forced(TeacherMatrices(k1.projection, np.abs(k1.inner), k1.outer))
