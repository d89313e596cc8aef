"""Progress bars (tqdm, with ETA) over futures as they complete; silent when disabled."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future, as_completed

from tqdm.auto import tqdm

__all__ = ["completed"]


def completed(
    futures: Iterable[Future], *, total: int, desc: str, enabled: bool
) -> Iterator[Future]:
    """Yield futures as they finish, with a progress bar on stderr when ``enabled``."""
    futures = list(futures)
    with tqdm(
        total=total, desc=desc, disable=not enabled, unit="task", leave=False, dynamic_ncols=True
    ) as bar:
        for fut in as_completed(futures):
            bar.update(1)
            yield fut
