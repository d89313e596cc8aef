"""One way to draw theory against simulation: a line for the theory, mean ± sem points.

Every paper's figure uses :func:`theory_vs_simulation` (and :func:`simulated` for the points of
an observable of a :class:`~theorylab.experiments.result.RunResult`), so the figures of the
report read alike: theory as lines, simulation as markers with error bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["simulated", "theory_vs_simulation"]


def simulated(result: Any, name: str, index: Any = ()) -> tuple[np.ndarray, np.ndarray] | None:
    """``(mean, sem)`` of simulated observable ``name`` (sliced by ``index``), or None when the
    result has no simulation or no such observable. NaN sem (one seed) is drawn as 0."""
    sim = getattr(result, "simulation", None)
    if sim is None or name not in sim.mean:
        return None
    mean = np.asarray(sim.mean[name], dtype=float)[index]
    sem = np.asarray(sim.sem.get(name, np.full_like(mean, np.nan)), dtype=float)[index]
    return mean, np.nan_to_num(sem)


def theory_vs_simulation(
    ax: Any,
    x_theory: Sequence[float] | np.ndarray | None,
    y_theory: Sequence[float] | np.ndarray | None,
    x_sim: Sequence[float] | np.ndarray | None = None,
    sim: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    color: Any = None,
    label: str | None = None,
    sim_label: str | None = None,
    marker: str = "o",
    ls: str = "-",
    lw: float = 1.5,
    hollow: bool = False,
    dx: float = 1.0,
) -> Any:
    """Draw ``y_theory(x_theory)`` as a line and the simulated ``(mean, sem)`` at ``x_sim`` as
    error bars in the same colour. ``dx`` multiplies ``x_sim`` (to offset overlapping series).
    Returns the colour used (so a caller can match other marks to it)."""
    if x_theory is not None and y_theory is not None:
        (line,) = ax.plot(x_theory, y_theory, color=color, ls=ls, lw=lw, label=label)
        color = line.get_color()
    if sim is not None and x_sim is not None:
        mean, sem = sim
        bars = ax.errorbar(
            np.asarray(x_sim, dtype=float) * dx,
            mean,
            yerr=sem,
            fmt=marker,
            ms=4,
            color=color,
            mfc="none" if hollow else None,
            capsize=2.5,
            label=sim_label,
        )
        color = bars.lines[0].get_color()
    return color
