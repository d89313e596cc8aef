"""Timing shared by the benchmark scripts (imported as a sibling module: run them as
``python benchmarks/bench_*.py``)."""

from __future__ import annotations

import timeit
from collections.abc import Callable


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time in seconds of ``repeat`` single calls of ``fn`` (``timeit.repeat``)."""
    return min(timeit.repeat(fn, number=1, repeat=repeat))
