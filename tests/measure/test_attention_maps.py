"""Positional and token shares of attention maps on maps built to be purely one or the other."""

from __future__ import annotations

import pytest
import torch

from theorylab.measure.attention_maps import offdiagonal, positional_share, token_share


def _tokens(n=500, length=8, symbols=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, symbols, (n, length), generator=g)


def test_a_fixed_map_is_positional():
    x = _tokens()
    fixed = torch.softmax(torch.randn(8, 8, generator=torch.Generator().manual_seed(1)), -1)
    attn = fixed.expand(x.shape[0], -1, -1)
    assert positional_share(attn) == pytest.approx(1.0)
    assert token_share(attn, x) < 1e-3  # only the sampling of which pairs match


def test_a_token_matcher_is_semantic():
    # attend uniformly to the keys holding the query's token (the semantic solution, Fig. 1)
    x = _tokens()
    same = (x[:, :, None] == x[:, None, :]).double()
    attn = same / same.sum(-1, keepdim=True)
    assert positional_share(attn) < 0.05
    assert token_share(attn, x) > 0.6
    # a hard matcher (weight independent of the count) is explained entirely by equality
    assert token_share(same, x) == pytest.approx(1.0)


def test_offdiagonal_drops_exactly_the_diagonal():
    a = torch.arange(2 * 3 * 3).reshape(2, 3, 3)
    assert offdiagonal(a).tolist() == [[1, 2, 3, 5, 6, 7], [10, 11, 12, 14, 15, 16]]
