"""The result store at scale: a theory-only phase diagram of N points through the real sweep.

Times, separately, on a fresh store:

* write  – ``tl.sweep`` over the whole grid (theory only, in-process: ``--jobs 1``),
* resume – the same sweep again (must compute nothing),
* load   – ``tl.load`` into a DataFrame, then a second load (the columnar cache, if any),
* resume after a load (the cache's file stamps say which records were already checked),

and compares the per-record cost of each with the theory itself (``exp.theory`` on a sample of
the points). The default experiment is the phase diagram of ``linear_mixed_regime`` (Fig. 2 of
2405.17580: init scale γσ² × width γw) with one GD step, so that a point's theory costs tens
of microseconds and the store's own overhead is what is measured.

    python benchmarks/bench_store.py [--points 100000] [--experiment SLUG] [--store DIR]

The numbers depend on the disk and on what else runs on the machine: say which when quoting.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import theorylab as tl
from theorylab.experiments.base import make_params

# slug -> (base params, axis 1 (name, lo, hi), axis 2 (name, lo, hi)); an axis of a
# tuple-valued parameter gets one-element tuples (one init per point)
Axis = tuple[str, float, float]
PHASE_DIAGRAMS: dict[str, tuple[dict[str, Any], Axis, Axis]] = {
    "linear_mixed_regime": ({"steps": 1}, ("gamma_sigma2", -3.0, 0.5), ("gamma_w", 1.0, 2.5)),
    "bayes_extensive": ({"d": 40, "n_test": 200}, ("alpha", 0.1, 4.0), ("lam", 1e-3, 1.0)),
}


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float
    records: int

    @property
    def per_record_us(self) -> float:
        return 1e6 * self.seconds / max(self.records, 1)


def grid_shape(points: int) -> tuple[int, int]:
    """(a, b) with a * b == points and a the largest divisor of ``points`` up to its root."""
    a = max(d for d in range(1, math.isqrt(points) + 1) if points % d == 0)
    return a, points // a


def phase_grid(slug: str, points: int) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Base params and the two-axis grid of ``points`` points of ``slug``'s phase diagram."""
    base, (n1, lo1, hi1), (n2, lo2, hi2) = PHASE_DIAGRAMS[slug]
    a, b = grid_shape(points)
    exp = tl.get(slug)
    fields = exp.params.__dataclass_fields__
    grid = {}
    for name, lo, hi, n in ((n1, lo1, hi1, a), (n2, lo2, hi2, b)):
        values = [float(v) for v in np.linspace(lo, hi, n)]
        tupled = "tuple" in str(fields[name].type)
        grid[name] = [(v,) for v in values] if tupled else values
    return base, grid


def theory_seconds(slug: str, base: dict[str, Any], grid: dict[str, list[Any]], n: int) -> float:
    """Mean seconds of ``exp.theory`` over ``n`` points spread over the grid."""
    exp = tl.get(slug)
    (n1, v1), (n2, v2) = grid.items()
    idx = np.linspace(0, 1, n)
    params = [
        make_params(exp.params, {**base, n1: v1[round(t * (len(v1) - 1))],
                                 n2: v2[round((1 - t) * (len(v2) - 1))]})
        for t in idx
    ]
    exp.theory(params[0])  # warm caches and imports
    start = time.perf_counter()
    for p in params:
        exp.theory(p)
    return (time.perf_counter() - start) / n


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run(slug: str, points: int, root: Path) -> list[Phase]:
    base, grid = phase_grid(slug, points)
    per_theory = theory_seconds(slug, base, grid, min(points, 200))
    phases = [Phase("theory alone (est.)", per_theory * points, points)]

    t, summary = timed(lambda: tl.sweep(slug, grid, base, store=root))
    assert summary.ran == points and summary.failed == 0, summary
    phases.append(Phase("write (sweep)", t, points))

    t, again = timed(lambda: tl.sweep(slug, grid, base, store=root))
    assert (again.skipped, again.ran) == (points, 0), again
    phases.append(Phase("resume (nothing to do)", t, points))

    t, frame = timed(lambda: tl.load(slug, root))
    assert frame["key"].nunique() == points
    phases.append(Phase(f"load, first ({len(frame)} rows)", t, points))
    t, again_frame = timed(lambda: tl.load(slug, root))
    assert len(again_frame) == len(frame)
    phases.append(Phase("load, second", t, points))

    t, after = timed(lambda: tl.sweep(slug, grid, base, store=root))
    assert (after.skipped, after.ran) == (points, 0), after
    phases.append(Phase("resume after a load", t, points))
    return phases


def du(root: Path) -> tuple[int, int]:
    """(files, bytes) under ``root``."""
    files = [p for p in root.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=100_000, help="grid points (default 100000)")
    ap.add_argument("--experiment", default="linear_mixed_regime", choices=sorted(PHASE_DIAGRAMS))
    ap.add_argument("--store", type=Path, default=None, help="store folder (default: a temp dir)")
    args = ap.parse_args()
    parent = args.store or Path(tempfile.mkdtemp(prefix="bench-store-"))
    root = parent / "store"
    if root.exists():
        shutil.rmtree(root)
    try:
        phases = run(args.experiment, args.points, root)
        files, size = du(root)
    finally:
        if args.store is None:
            shutil.rmtree(parent, ignore_errors=True)
    theory = phases[0].seconds
    print(f"{args.experiment}: {args.points} theory points, {os.cpu_count()} cores, "
          f"store {files} files, {size / 2**20:.1f} MiB")
    print(f"{'phase':<34} {'seconds':>9} {'µs/record':>10} {'× theory':>9}")
    for ph in phases:
        ratio = ph.seconds / theory if theory > 0 else math.inf
        print(f"{ph.name:<34} {ph.seconds:9.2f} {ph.per_record_us:10.1f} {ratio:9.1f}")


if __name__ == "__main__":
    main()
