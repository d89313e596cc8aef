"""One table for every registered paper: theory time per parameter point and simulation time per
seed at the quick size, against dense linear algebra of the paper's own dimension measured in the
same run.

    python benchmarks/bench_all.py [SLUG ...] [--threads 1]

Columns: ``points`` is the number of grid points of the quick parameters (the product of the
grid fields' lengths); ``theory/pt`` the first ``theory()`` call of the process divided by it
(cold: some theories cache per-weight-draw work, which a second call at the same parameters
reuses; ``warm/pt`` is the best of two further calls);
``sim/seed`` one ``simulate(params, seed=0)`` call; ``d`` the paper's input dimension (its ``d``
parameter, or ``p``/``n`` where it has none) and ``matmul`` / ``eigh`` the time of one d×d
product and one symmetric eigendecomposition of that size, so ``sim/matmul`` says how many dense
products of the paper's size a seed costs. The per-paper scripts ``bench_<slug>.py`` break a
simulation down into the products and solves it is made of.
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

from theorylab.experiments.params import is_grid
from theorylab.runner.registry import all_experiments
from timing import best_of

DIM_FIELDS = ("d", "p", "n", "width")
MAX_REFERENCE = 4096


def grid_points(params) -> int:
    """Number of grid points of ``params``: the product of its grid fields' lengths."""
    fields = params.__dataclass_fields__
    sizes = [len(getattr(params, f)) for f in fields if is_grid(type(params), f)]
    return math.prod(sizes) if sizes else 1


def dimension(params) -> int | None:
    for name in DIM_FIELDS:
        value = getattr(params, name, None)
        if isinstance(value, int) and value > 1:
            return value
    return None


def linear_algebra(d: int) -> tuple[float, float]:
    """(matmul, eigh) wall seconds for a d×d float64 matrix, best of three."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((d, d))
    s = a @ a.T
    return best_of(lambda: a @ a), best_of(lambda: np.linalg.eigh(s))


def measure(exp) -> dict:
    p = exp.make_params()
    start = time.perf_counter()
    exp.theory(p)
    theory_s = time.perf_counter() - start
    warm_s = best_of(lambda: exp.theory(p), repeat=2)
    start = time.perf_counter()
    exp.simulate(p, 0, device="cpu")
    sim_s = time.perf_counter() - start
    d = dimension(p)
    # a d×d reference only where the simulation could form one (flow_gmm's d = 20000 works in
    # the span of its n training points and never does)
    mm, eig = linear_algebra(d) if d and d <= MAX_REFERENCE else (math.nan, math.nan)
    return {
        "slug": exp.slug,
        "points": grid_points(p),
        "theory_pt": theory_s / grid_points(p),
        "warm_pt": warm_s / grid_points(p),
        "sim_seed": sim_s,
        "d": d,
        "matmul": mm,
        "eigh": eig,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("slugs", nargs="*")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    exps = all_experiments()
    slugs = args.slugs or list(exps)
    print(f"threads {args.threads}; load average {os.getloadavg()[0]:.1f}")
    head = f"{'paper':<26}{'points':>7}{'theory/pt':>11}{'warm/pt':>10}{'sim/seed':>10}{'d':>6}"
    print(head + f"{'matmul':>10}{'eigh':>9}{'sim/matmul':>12}")
    with threadpool_limits(args.threads):
        for slug in slugs:
            r = measure(exps[slug])
            ratio = r["sim_seed"] / r["matmul"] if r["d"] else math.nan
            print(
                f"{r['slug']:<26}{r['points']:>7}{r['theory_pt'] * 1e3:>9.2f}ms"
                f"{r['warm_pt'] * 1e3:>8.2f}ms"
                f"{r['sim_seed']:>9.2f}s{r['d'] or '–':>6}{r['matmul'] * 1e3:>8.2f}ms"
                f"{r['eigh'] * 1e3:>7.1f}ms{ratio:>12.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
