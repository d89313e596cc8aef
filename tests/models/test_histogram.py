"""The histogram task's data and model: counts, restricted attention, the release map."""

from __future__ import annotations

import pytest
import torch

from theorylab.models.histogram import HistogramAttention, histogram_data, unrestrict


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_targets_count_each_token():
    x, y = histogram_data(50, 10, 15, _gen())
    for xs, ys in zip(x.tolist(), y.tolist(), strict=True):
        assert ys == [xs.count(t) for t in xs]


def test_positional_attention_ignores_the_tokens_and_semantic_the_positions():
    x, _ = histogram_data(20, 10, 15, _gen(1))
    pos = HistogramAttention(15, 10, 16, 8, "positional", _gen(2))
    _, attn = pos(x)
    torch.testing.assert_close(attn, attn[:1].expand_as(attn))
    sem = HistogramAttention(15, 10, 16, 8, "semantic", _gen(3))
    perm = torch.randperm(10, generator=_gen(4))
    _, a = sem(x)
    _, b = sem(x[:, perm])  # permuting the tokens permutes the map
    torch.testing.assert_close(b, a[:, perm][:, :, perm])


@pytest.mark.parametrize("attend", ["positional", "semantic"])
def test_release_keeps_the_function(attend):
    x, _ = histogram_data(30, 10, 15, _gen(5))
    model = HistogramAttention(15, 10, 16, 8, attend, _gen(6))
    free = unrestrict(model, 0.0, _gen(7))
    assert free.attend == "both"
    with torch.no_grad():
        (lo, a), (lf, af) = model(x), free(x)
    torch.testing.assert_close(lf, lo)
    torch.testing.assert_close(af, a)
