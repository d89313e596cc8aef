"""Where simulations run: ``THEORYLAB_DEVICE`` (cpu by default; the CLI's ``--device``).

Random draws are made on the CPU with a seeded generator and then moved, so that a seed gives
the same problem on every device.
"""

from __future__ import annotations

import os

import torch

__all__ = ["default_device", "generator"]


def default_device() -> torch.device:
    """The device named by ``THEORYLAB_DEVICE`` (e.g. ``cuda``), else the CPU."""
    return torch.device(os.environ.get("THEORYLAB_DEVICE", "cpu"))


def generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed``."""
    return torch.Generator().manual_seed(int(seed))
