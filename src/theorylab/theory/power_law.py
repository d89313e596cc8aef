"""Power laws: the exponent of y ∝ x^s read off a log–log least-squares line.

Several papers state their prediction as a rate — a distance decaying as 1/n (flow_gmm), a
score error decaying at least as n^(−r) (barron_diffusion), a test error decaying as N^(−r)
(compositional_scaling) — and compare it with the slope of the measured curve on log–log
axes. This module is that slope, once, for theory curves and measurements alike.
"""

from __future__ import annotations

import numpy as np


def loglog_slope(x, y) -> np.ndarray | float:
    """Least-squares slope of log y against log x, along the last axis of ``y``.

    ``x`` has one value per point (length m ≥ 2, positive); ``y`` has shape (..., m), positive.
    Returns a float for a single curve and an array of shape ``y.shape[:-1]`` for a batch.
    For y = c x^s it returns s exactly (up to rounding), whatever c.
    """
    xs, vals = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.ndim != 1 or xs.size < 2 or vals.shape[-1:] != xs.shape:
        raise ValueError(
            f"loglog_slope needs x of length ≥ 2 and y ending in that length, got x "
            f"{xs.shape} and y {vals.shape}"
        )
    if not (np.all(xs > 0) and np.all(vals > 0) and np.all(np.isfinite(xs))):
        raise ValueError("loglog_slope needs positive x and y")
    logx = np.log(xs)
    centred = logx - logx.mean()
    logy = np.log(vals)
    slope = (logy - logy.mean(axis=-1, keepdims=True)) @ centred / (centred @ centred)
    return float(slope) if slope.ndim == 0 else slope
