"""Batched bias-free MLPs: shapes, values against a plain per-network loop, initialisation."""

from __future__ import annotations

import math

import pytest
import torch

from theorylab.models.device import generator
from theorylab.models.mlp import (
    init_mlp,
    mlp_forward,
    mlp_preactivations,
    select,
    single_forward,
    stack,
)

WIDTHS = (5, 7, 4, 3)


def _loop_forward(weights_one, x):
    """Reference: f(x) = W_L relu(⋯ relu(W_1 x)) one point at a time, column convention."""
    outs = []
    for xi in x:
        h = xi
        for i, w in enumerate(weights_one):
            h = w @ h
            if i + 1 < len(weights_one):
                h = torch.clamp(h, min=0.0)
        outs.append(h)
    return torch.stack(outs)


def test_init_shapes_dtype_and_requires_grad():
    ws = init_mlp(WIDTHS, batch=4, generator=generator(0))
    assert [tuple(w.shape) for w in ws] == [(4, 7, 5), (4, 4, 7), (4, 3, 4)]
    assert all(w.dtype == torch.float64 and w.requires_grad and w.is_leaf for w in ws)


def test_init_he_and_explicit_std():
    ws = init_mlp((200, 300, 100), batch=2, generator=generator(1))
    # He: Var = 2 / fan_in; 120 000 and 60 000 entries give ≈ 0.5 % relative error on the std
    assert ws[0].std().item() == pytest.approx(math.sqrt(2 / 200), rel=0.02)
    assert ws[1].std().item() == pytest.approx(math.sqrt(2 / 300), rel=0.02)
    ws = init_mlp((200, 300, 100), generator=generator(1), std=(0.5, 2.0))
    assert ws[0].std().item() == pytest.approx(0.5, rel=0.02)
    assert ws[1].std().item() == pytest.approx(2.0, rel=0.02)
    with pytest.raises(ValueError):
        init_mlp((3, 4, 5), generator=generator(1), std=(1.0,))
    with pytest.raises(ValueError):
        init_mlp((3,), generator=generator(1))


def test_init_is_seeded():
    a = init_mlp(WIDTHS, batch=2, generator=generator(3))
    b = init_mlp(WIDTHS, batch=2, generator=generator(3))
    c = init_mlp(WIDTHS, batch=2, generator=generator(4))
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
    assert not torch.equal(a[0], c[0])


@pytest.mark.parametrize("shared", [True, False])
def test_forward_matches_plain_loop(shared):
    batch = 3
    ws = init_mlp(WIDTHS, batch=batch, generator=generator(5))
    g = generator(6)
    x = torch.randn(10, 5, generator=g, dtype=torch.float64)
    xb = x if shared else torch.randn(batch, 10, 5, generator=g, dtype=torch.float64)
    out = mlp_forward(ws, xb)
    assert out.shape == (batch, 10, 3)
    for b in range(batch):
        xi = x if shared else xb[b]
        expected = _loop_forward(select(ws, b), xi)
        torch.testing.assert_close(out[b], expected, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(single_forward(select(ws, b), xi), expected)


def test_preactivations_shapes_and_recursion():
    ws = init_mlp(WIDTHS, batch=2, generator=generator(7))
    x = torch.randn(9, 5, generator=generator(8), dtype=torch.float64)
    zs = mlp_preactivations(ws, x)
    assert [tuple(z.shape) for z in zs] == [(2, 9, 7), (2, 9, 4), (2, 9, 3)]
    torch.testing.assert_close(zs[-1], mlp_forward(ws, x))
    for b in range(2):
        torch.testing.assert_close(zs[0][b], x @ ws[0][b].T)
        for i in range(1, 3):
            torch.testing.assert_close(zs[i][b], torch.relu(zs[i - 1][b]) @ ws[i][b].T)


def test_linear_activation_is_the_matrix_product():
    ws = init_mlp(WIDTHS, batch=2, generator=generator(9))
    x = torch.randn(4, 5, generator=generator(10), dtype=torch.float64)
    out = mlp_forward(ws, x, activation=lambda z: z)
    for b in range(2):
        prod = ws[2][b] @ ws[1][b] @ ws[0][b]
        torch.testing.assert_close(out[b], x @ prod.T)


def test_single_forward_works_with_jacrev():
    ws = init_mlp(WIDTHS, batch=1, generator=generator(11))
    one = [w.detach() for w in select(ws, 0)]
    x = torch.randn(6, 5, generator=generator(12), dtype=torch.float64)
    jac = torch.func.vmap(torch.func.jacrev(lambda v: single_forward(one, v)))(x)
    assert jac.shape == (6, 3, 5)
    for i in range(6):  # ReLU net: J(x) = W_3 D_2 W_2 D_1 W_1 with 0/1 masks D
        d1 = (x[i] @ one[0].T > 0).double()
        d2 = ((torch.relu(x[i] @ one[0].T) @ one[1].T) > 0).double()
        expected = one[2] @ torch.diag(d2) @ one[1] @ torch.diag(d1) @ one[0]
        torch.testing.assert_close(jac[i], expected)


def test_stack_concatenates_networks():
    a = init_mlp(WIDTHS, batch=1, generator=generator(13))
    b = init_mlp(WIDTHS, batch=2, generator=generator(14))
    s = stack([a, b])
    assert [w.shape[0] for w in s] == [3, 3, 3]
    assert all(w.is_leaf and w.requires_grad for w in s)
    assert torch.equal(s[1][0], a[1][0].detach())
    assert torch.equal(s[2][2], b[2][1].detach())
    with pytest.raises(ValueError):
        stack([a, a[:2]])
