"""Torch versions of the named activations of :mod:`theorylab.theory.activations`.

The two registries are kept in step by a test that compares them on a grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import MappingProxyType

import torch

from theorylab.theory.activations import DOOR_KNEE, DOOR_SLOPE, Activation, parse_activation

__all__ = ["TORCH_ACTIVATIONS", "torch_activation"]

TORCH_ACTIVATIONS: MappingProxyType[str, Callable[[torch.Tensor], torch.Tensor]] = MappingProxyType(
    {
        "relu": torch.relu,
        "tanh": torch.tanh,
        "erf": torch.erf,
        "sign": torch.sign,
        "linear": lambda x: x,
        "sigmoid": torch.sigmoid,
        "gelu": lambda x: 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0))),
        "abs": torch.abs,
        "quadratic": lambda x: x**2,
        "cube": lambda x: x**3,
        "sin": torch.sin,
        "softplus": torch.nn.functional.softplus,
        "door": lambda x: DOOR_SLOPE * torch.clamp(x, -DOOR_KNEE, DOOR_KNEE),
    }
)


def torch_activation(spec: str | Activation) -> Callable[[torch.Tensor], torch.Tensor]:
    """The torch function of a named activation spec such as ``"tanh(2x)"``."""
    act = parse_activation(spec)
    if act.name not in TORCH_ACTIVATIONS:
        raise ValueError(
            f"activation '{act.name}' has no torch implementation; "
            f"choose one of {', '.join(sorted(TORCH_ACTIVATIONS))}"
        )
    fn = TORCH_ACTIVATIONS[act.name]
    scale = act.scale
    if scale == 1.0:
        return fn
    return lambda x: fn(scale * x)
