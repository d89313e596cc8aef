"""The seed scheme: every stream derives from (slug, seed, purpose), and a seed's draws have
streams of their own."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.seeding import Streams, numpy_rng, stream_seed


def _first(streams: Streams, purpose: str = "data") -> np.ndarray:
    return streams.numpy(purpose).standard_normal(4)


def test_a_stream_is_a_function_of_slug_seed_and_purpose_only():
    np.testing.assert_array_equal(_first(Streams("a", 3)), _first(Streams("a", 3)))
    by_name = numpy_rng("a", 3, "data").standard_normal(4)
    np.testing.assert_array_equal(_first(Streams("a", 3)), by_name)
    others = [_first(Streams("b", 3)), _first(Streams("a", 4)), _first(Streams("a", 3), "init")]
    for other in others:
        assert not np.allclose(other, _first(Streams("a", 3)))
    assert Streams("a", 3).integer("x") == stream_seed("a", 3, "x")


def test_draws_within_a_seed_are_reproducible_and_share_no_stream():
    s = Streams("a", 3)
    firsts = [_first(s.draw(k)) for k in range(4)]
    np.testing.assert_array_equal(firsts[2], _first(Streams("a", 3).draw(2)))
    assert not np.allclose(firsts[0], _first(s))  # a draw is not the seed itself
    for i in range(4):
        for j in range(i):
            assert not np.allclose(firsts[i], firsts[j])
    assert not np.allclose(_first(s.draw(1)), _first(Streams("a", 4).draw(1)))
    # a draw's streams are the seed's streams of the prefixed purpose
    np.testing.assert_array_equal(_first(s.draw(1)), _first(s, "draw 1/data"))
    a = s.draw(0).torch("w")
    b = Streams("a", 3).draw(0).torch("w")
    import torch

    assert torch.equal(torch.randn(3, generator=a), torch.randn(3, generator=b))


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_bad_seeds_and_draws_are_refused(bad):
    with pytest.raises(ValueError, match="seed"):
        Streams("a", bad)
    with pytest.raises(ValueError, match="draw"):
        Streams("a", 0).draw(-1)
