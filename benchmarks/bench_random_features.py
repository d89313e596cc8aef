"""Speed of the random-feature family: theory over a 50-point n grid, one simulation seed, and
the same seed's dense linear algebra measured in the same run (the reference).

deep_random_features: the reference is the forward pass of the target and of the 3-layer
network over train + test inputs, the Gaussian-model features (one (N×k)·(k×k) product per
depth), and for every (depth, n, model) the Gram matrix, one Cholesky solve per λ and the test
predictions — exactly the dense operations of one seed. rainbow_features: the forward pass of
its two-layer rainbow net and one p×p eigendecomposition per n; its seed also trains a network,
which the reference does not include.

Run: ``python benchmarks/bench_random_features.py``. Set OPENBLAS_NUM_THREADS=1 on a loaded
machine: numpy's BLAS threads spin against other processes and slow the theory down 10–50×.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch

from theorylab.experiments import deep_random_features as drf
from theorylab.experiments import rainbow_features as rb
from timing import best_of


def drf_reference(p: drf.Params) -> float:
    """Dense operations of one deep_random_features seed (same shapes, random data)."""
    g = torch.Generator().manual_seed(0)
    f64 = torch.float64
    k, ks, d = p.width, p.teacher_width, p.d
    ns = [int(n) for n in p.samples()]
    total = max(ns) + p.n_test
    x = torch.randn(total, d, generator=g, dtype=f64)
    wt = torch.randn(ks, d, generator=g, dtype=f64) / d**0.5
    ws = [torch.randn(k, d, generator=g, dtype=f64) / d**0.5]
    ws += [torch.randn(k, k, generator=g, dtype=f64) / k**0.5 for _ in range(max(p.depth) - 1)]
    root = torch.randn(k, k, generator=g, dtype=f64) / k
    eye = torch.eye(k, dtype=f64)

    def work():
        y = torch.sign(x @ wt.T).sum(1)
        h, feats = x, []
        for w in ws:
            h = torch.tanh(h @ w.T)
            feats.append(h / k**0.5)
        for v in feats:
            for xr in (v, torch.randn(total, k, generator=g, dtype=f64) @ root.T):
                for n in ns:
                    a = xr[:n]
                    gram, rhs = (a.T @ a, a.T @ y[:n, None]) if n >= k else (a @ a.T, y[:n, None])
                    eye_n = eye if n >= k else torch.eye(n, dtype=f64)
                    for lam in p.lam:
                        sol = torch.cholesky_solve(rhs, torch.linalg.cholesky(gram + lam * eye_n))
                        w = sol if n >= k else a.T @ sol
                        xr[max(ns) :] @ w

    return best_of(work)


def bench_deep_random_features() -> None:
    p = drf.Params()
    grid = drf.Params(alpha=tuple(np.linspace(0.1, 5.0, 50)))
    t_curves = best_of(lambda: drf.learning_curves(grid, optimal=False))
    t_theory = best_of(lambda: drf.theory(grid), repeat=1)
    drf.theory(p)  # warm-up
    t_seed = best_of(lambda: drf.simulate(p, 0))
    t_ref = drf_reference(p)
    print(f"deep_random_features (d = {p.d}, k = {p.width}, k* = {p.teacher_width}, L = 1–3)")
    print(f"  theory, 50 n × 2 λ × 3 depths, fixed λ   : {t_curves * 1e3:9.1f} ms")
    print(f"  theory incl. optimal λ per (n, depth)    : {t_theory * 1e3:9.1f} ms")
    print(f"  simulation, one seed (5 n, 2 λ, 3 depths) : {t_seed * 1e3:9.1f} ms")
    print(f"  same dense linear algebra (reference)    : {t_ref * 1e3:9.1f} ms")
    print(f"  simulation / reference                    : {t_seed / t_ref:9.2f}x")


def bench_rainbow_features() -> None:
    p = rb.Params()
    grid = rb.Params(alpha=tuple(np.linspace(0.1, 5.0, 50)))
    t_theory = best_of(lambda: rb.theory(grid), repeat=1)
    t_seed = best_of(lambda: rb.simulate(p, 0), repeat=1)
    g = torch.Generator().manual_seed(0)
    f64 = torch.float64
    ns = [int(n) for n in rb.sample_sizes(p, p.width2)]
    x = torch.randn(max(ns) + p.n_test, p.d, generator=g, dtype=f64)
    w1 = torch.randn(p.width1, p.d, generator=g, dtype=f64)
    w2 = torch.randn(p.width2, p.width1, generator=g, dtype=f64)

    def work():
        f = torch.tanh(torch.tanh(x @ w1.T) @ w2.T)
        for n in ns:
            torch.linalg.eigh(f[:n].T @ f[:n])

    t_ref = best_of(work)
    print(f"rainbow_features (d = {p.d}, p1 = {p.width1}, p2 = {p.width2})")
    print(f"  theory, 50 n × {len(p.lam)} λ (its theory())     : {t_theory * 1e3:9.1f} ms")
    print(f"  simulation, one seed (incl. training)     : {t_seed * 1e3:9.1f} ms")
    print(f"  rainbow forward + one eigh per n (ref.)   : {t_ref * 1e3:9.1f} ms")
    print(f"  simulation / reference                    : {t_seed / t_ref:9.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-rainbow", action="store_true")
    args = parser.parse_args()
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} torch threads, OPENBLAS={blas}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    bench_deep_random_features()
    if not args.skip_rainbow:
        bench_rainbow_features()


if __name__ == "__main__":
    main()
