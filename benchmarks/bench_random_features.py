"""Speed of the random-feature family at the papers' sizes, against the dense linear algebra that
any implementation must do, measured in the same run.

deep_random_features (arXiv 2302.00401, Fig. 1 size: d = 600, k_1 = k_2 = 2400, k* = 1200,
L = 2): the theory needs the closed-form Ω (two k×k×k products per layer) and one k×k
eigendecomposition per depth; every (n, λ) point and the optimal λ of every n then cost O(k).
The reference is one ``numpy.linalg.eigh`` of a k×k matrix plus the propagation's products.
One simulation seed (one data draw) fits ridge at every n of the grid for the network target
(k* targets at once, the readout averaged exactly) and for fresh one-layer weights; the
reference is the same Gram products and eigendecompositions done directly (``torch``), without
the λ paths, the held-out moments and the forward passes.

rainbow_features: whatever its module exports (``theory``, ``simulate``); its reference is the
forward pass of its rainbow net and one eigendecomposition per sample size.

Run: ``python benchmarks/bench_random_features.py [--quick] [--skip-rainbow]``. Set
OPENBLAS_NUM_THREADS/OMP_NUM_THREADS on a loaded machine: BLAS threads spinning against other
processes slow every number here (the ratios less so).
"""

from __future__ import annotations

import argparse
import dataclasses
import os

import numpy as np
import torch

from theorylab.experiments import deep_random_features as drf
from timing import best_of


def drf_theory_reference(p: drf.Params) -> float:
    """Seconds of the unavoidable dense work of ``drf.theory``: Ω's products and one eigh per
    depth (random matrices of the same shapes)."""
    rng = np.random.default_rng(0)
    k, d = p.width, p.d
    w1, w2 = rng.standard_normal((k, d)) / d**0.5, rng.standard_normal((k, k)) / k**0.5
    depths = max(p.depth)

    def work():
        omega = w1 @ w1.T
        for _ in range(depths - 1):
            omega = w2 @ omega @ w2.T
        for _ in range(len(p.depth)):
            np.linalg.eigh(omega + np.eye(k))

    return best_of(work, repeat=2)


def drf_seed_reference(p: drf.Params) -> float:
    """Seconds of one seed's Gram matrices and eigendecompositions (same shapes, random data)."""
    g = torch.Generator().manual_seed(0)
    k, ns = p.width, [int(n) for n in p.samples()]
    x = torch.randn(max(ns), k, generator=g, dtype=torch.float64) / k**0.5
    sets = len(p.depth) + 1  # the depths' features and the fresh one-layer features

    def work():
        for _ in range(sets):
            for n in ns:
                a = x[:n]
                torch.linalg.eigh(a.T @ a if n >= k else a @ a.T)

    return best_of(work, repeat=1)


def bench_deep_random_features(quick: bool) -> None:
    preset = "quick" if quick else "full"
    p = drf.EXPERIMENT.make_params({"draws": 1}, preset=preset)
    points = len(p.alpha) * len(p.lam) * len(p.depth)
    dense = dataclasses.replace(p, alpha=tuple(np.linspace(0.1, max(p.alpha), 50)))

    def cold(q):
        drf.layer_moments.cache_clear()
        return drf.theory(q)

    t_cold = best_of(lambda: cold(p), repeat=1)
    t_dense = best_of(lambda: drf.theory(dense), repeat=1) if not quick else float("nan")
    t_warm = best_of(lambda: drf.theory(p), repeat=2)
    t_ref = drf_theory_reference(p)
    t_seed = best_of(lambda: drf.simulate(p, 0), repeat=1)
    t_seed_ref = drf_seed_reference(p)
    print(
        f"deep_random_features, {preset} (d = {p.d}, k = {p.width}, k* = {p.teacher_width}, "
        f"L = {p.depth}, {len(p.alpha)} n/d × {len(p.lam)} λ)"
    )
    print(f"  theory, cold (propagation + eigh + all points) : {t_cold * 1e3:10.1f} ms")
    print(f"  Ω products + one eigh per depth (reference)   : {t_ref * 1e3:10.1f} ms")
    print(f"  theory cold / reference                       : {t_cold / t_ref:10.2f}x")
    print(f"  theory per point, eigendecomposition cached   : {t_warm / points * 1e3:10.2f} ms")
    if not quick:
        per_point = t_dense / (50 * len(p.lam) * len(p.depth))
        print(f"  same, 50-point n grid (incl. optimal λ per n) : {per_point * 1e3:10.2f} ms")
    print(f"  simulation, one seed = one data draw          : {t_seed * 1e3:10.1f} ms")
    print(f"  its Gram eigendecompositions alone (reference): {t_seed_ref * 1e3:10.1f} ms")
    print(f"  simulation / reference                        : {t_seed / t_seed_ref:10.2f}x")


def bench_rainbow_features() -> None:
    """Times whatever rainbow_features exports; skipped (with the reason) if its API moved."""
    try:
        from theorylab.experiments import rainbow_features as rb

        p = rb.EXPERIMENT.make_params()
        widths = [getattr(p, name) for name in ("width1", "width2")]
        sizes = getattr(p, "n", None) or [round(a * widths[-1]) for a in p.alpha]
        held_out = getattr(p, "n_test", 1000)
        t_theory = best_of(lambda: rb.theory(p), repeat=1)
        t_seed = best_of(lambda: rb.simulate(p, 0), repeat=1)
    except (AttributeError, TypeError, ValueError) as exc:
        print(f"rainbow_features: skipped ({type(exc).__name__}: {exc})")
        return
    g = torch.Generator().manual_seed(0)
    f64 = torch.float64
    x = torch.randn(int(max(sizes)) + held_out, p.d, generator=g, dtype=f64)
    w1 = torch.randn(widths[0], p.d, generator=g, dtype=f64) / p.d**0.5
    w2 = torch.randn(widths[1], widths[0], generator=g, dtype=f64) / widths[0] ** 0.5

    def work():
        f = torch.tanh(torch.tanh(x @ w1.T) @ w2.T)
        for n in sizes:
            torch.linalg.eigh(f[: int(n)].T @ f[: int(n)])

    t_ref = best_of(work)
    print(f"rainbow_features (d = {p.d}, p1 = {widths[0]}, p2 = {widths[1]})")
    print(f"  theory (its theory())                         : {t_theory * 1e3:10.1f} ms")
    print(f"  simulation, one seed                          : {t_seed * 1e3:10.1f} ms")
    print(f"  rainbow forward + one eigh per n (reference)  : {t_ref * 1e3:10.1f} ms")
    print(f"  simulation / reference                        : {t_seed / t_ref:10.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="quick size instead of the paper's")
    parser.add_argument("--skip-rainbow", action="store_true")
    args = parser.parse_args()
    blas = os.environ.get("OPENBLAS_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "default"))
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} torch threads, BLAS threads {blas}"
    )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    bench_deep_random_features(args.quick)
    if not args.skip_rainbow:
        bench_rainbow_features()


if __name__ == "__main__":
    main()
