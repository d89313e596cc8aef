"""Speed of bayes_extensive: theory over an α grid, one simulation seed, and the reference.

The reference is the same dense linear algebra as one simulation seed (the forward pass of the
target network over train + test inputs, and one d×d eigendecomposition per α), measured in the
same run with torch: the ratio says how close the simulation is to the machine's matmul/solve
speed. Run: ``python benchmarks/bench_bayes_extensive.py [--d 300]``.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from theorylab.experiments import bayes_extensive as be
from timing import best_of


def reference_linear_algebra(p: be.Params) -> float:
    """Time of the dense operations a seed cannot avoid (matmuls + one eigh per α)."""
    width = round(p.gamma * p.d)
    n_max = round(max(p.alpha) * p.d)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n_max + p.n_test, p.d, generator=g, dtype=torch.float64)
    w1 = torch.randn(width, p.d, generator=g, dtype=torch.float64)
    w2 = torch.randn(width, width, generator=g, dtype=torch.float64)

    def work():
        h = torch.tanh(x @ w1.T) @ w2.T
        for a in p.alpha:
            xs = x[: round(a * p.d)]
            torch.linalg.eigh(xs.T @ xs)
        return h

    return best_of(work, repeat=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=300)
    args = parser.parse_args()
    p = be.Params(d=args.d)

    grid = be.Params(alpha=tuple(np.linspace(0.1, 7.0, 50)))
    t_grid = best_of(lambda: be.theory(grid), repeat=5)
    points = [be.Params(alpha=(a,)) for a in grid.alpha]
    t_points = best_of(lambda: [be.theory(q) for q in points], repeat=2)
    t_seed = best_of(lambda: be.simulate(p, 0), repeat=3)
    t_ref = reference_linear_algebra(p)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, d = {p.d}")
    print(f"theory, 50-point α grid, vectorised : {t_grid * 1e3:8.1f} ms")
    print(f"theory, 50 points one by one        : {t_points * 1e3:8.1f} ms")
    print(f"simulation, one seed (4 α, 3 λ)     : {t_seed * 1e3:8.1f} ms")
    print(f"same dense linear algebra (reference): {t_ref * 1e3:8.1f} ms")
    print(f"simulation / reference               : {t_seed / t_ref:8.2f}x")


if __name__ == "__main__":
    main()
