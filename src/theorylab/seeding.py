"""One seed scheme: every random stream of a simulation derives from (slug, seed, purpose).

A simulation asks for its streams by purpose — ``"data"``, ``"teacher"``, ``"init"``,
``"test"`` — and gets independent numpy generators (or torch generators, through
:func:`theorylab.models.device.torch_generator`) that depend on nothing else: not on the order in
which streams are requested, not on the process, not on the device. Changing how a simulation
uses its streams changes its results, so it must come with a new ``protocol`` version of its
experiment (which enters the store key).

The derivation is numpy's :class:`~numpy.random.SeedSequence` with entropy
``(seed, h(slug), h(purpose))``, ``h`` a stable 64-bit hash (SHA-256, not Python's salted
``hash``). This module imports no torch.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

import numpy as np

__all__ = ["Streams", "numpy_rng", "seed_sequence", "stream_seed"]


def _h64(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def _check(slug: str, seed: int, purpose: str) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    if not slug or not purpose:
        raise ValueError("slug and purpose must be non-empty strings")


def seed_sequence(slug: str, seed: int, purpose: str) -> np.random.SeedSequence:
    """The :class:`~numpy.random.SeedSequence` of one stream of one seed of one experiment."""
    _check(slug, seed, purpose)
    return np.random.SeedSequence([int(seed), _h64(slug), _h64(purpose)])


def numpy_rng(slug: str, seed: int, purpose: str) -> np.random.Generator:
    """A numpy ``Generator`` (PCG64) for the stream (slug, seed, purpose)."""
    return np.random.default_rng(seed_sequence(slug, seed, purpose))


def stream_seed(slug: str, seed: int, purpose: str) -> int:
    """A 63-bit integer seed for the stream (slug, seed, purpose), for libraries that take one
    integer (``torch.Generator.manual_seed``)."""
    state = seed_sequence(slug, seed, purpose).generate_state(1, np.uint64)[0]
    return int(state) & ((1 << 63) - 1)


@dataclass(frozen=True)
class Streams:
    """The random streams of one seed of one experiment: ``Streams(slug, seed).numpy("data")``.

    ``torch(purpose)`` returns a seeded CPU ``torch.Generator`` (draw on the CPU, then move the
    tensors: a seed gives the same problem on every device).
    """

    slug: str
    seed: int
    prefix: str = ""

    def __post_init__(self) -> None:
        _check(self.slug, self.seed, "check")

    def draw(self, k: int) -> Streams:
        """The streams of the ``k``-th independent draw within this seed: every purpose is
        prefixed ``"draw k/"``, so draws share no stream with each other or with the seed."""
        if k < 0:
            raise ValueError(f"draw must be >= 0, got {k}")
        return dataclasses.replace(self, prefix=f"{self.prefix}draw {k}/")

    def numpy(self, purpose: str) -> np.random.Generator:
        return numpy_rng(self.slug, self.seed, self.prefix + purpose)

    def integer(self, purpose: str) -> int:
        return stream_seed(self.slug, self.seed, self.prefix + purpose)

    def torch(self, purpose: str):
        from theorylab.models.device import torch_generator

        return torch_generator(self.slug, self.seed, self.prefix + purpose)
