"""Where simulations run, and their torch random streams.

The device is an explicit argument (``simulate(params, seed, device=...)``, ``tl.run(...,
device=...)``, the CLI's ``--device``); nothing reads it from the environment. Random draws are
made on the CPU with a generator of the seed scheme (:mod:`theorylab.seeding`) and then moved,
so that a seed gives the same problem on every device.
"""

from __future__ import annotations

import torch

from theorylab.seeding import stream_seed

__all__ = ["as_device", "check_device", "generator", "torch_generator"]


def as_device(device: str | torch.device | None) -> torch.device:
    """``device`` as a ``torch.device`` (``None`` is the CPU)."""
    return torch.device("cpu" if device is None else device)


def check_device(device: str) -> None:
    """Raise ``ValueError`` (one line, naming the device) unless torch can allocate on it."""
    try:
        torch.empty(0, device=device)
    except (RuntimeError, AssertionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{device}: not usable here ({reason})") from None


def torch_generator(slug: str, seed: int, purpose: str) -> torch.Generator:
    """A CPU ``torch.Generator`` for the stream (slug, seed, purpose) of the seed scheme."""
    return torch.Generator().manual_seed(stream_seed(slug, seed, purpose))


def generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with the integer ``seed`` (for model code handed an integer, e.g.
    :meth:`theorylab.seeding.Streams.integer`; experiments derive theirs from the seed scheme)."""
    return torch.Generator().manual_seed(int(seed))
