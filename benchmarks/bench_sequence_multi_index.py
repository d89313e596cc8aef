"""Speed of sequence_multi_index: SE per α point (cold and warm-started), one GAMP run at
d = 2000 against the cost of its own matrix–vector products, measured in the same run.

Run: ``python benchmarks/bench_sequence_multi_index.py [--d 2000] [--alpha 2]``.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from theorylab.theory.gamp import CommitteeSignChannel, GaussianPrior, SignChannel, gamp
from theorylab.theory.state_evolution import bo_state_evolution
from timing import best_of


def se_sweep(alphas, warm: bool, channel, q0, **kw) -> None:
    q = q0
    for a in alphas:
        res = bo_state_evolution(GaussianPrior(), channel, a, q if warm else q0, **kw)
        q = res.x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=2000)
    parser.add_argument("--alpha", type=float, default=2.0)
    args = parser.parse_args()

    alphas = np.linspace(0.5, 5.0, 20)
    sign = dict(channel=SignChannel(), q0=np.array([[1e-4]]), damping=0.5, tol=1e-12)
    cold = best_of(lambda: se_sweep(alphas, False, **sign), repeat=3) / len(alphas)
    warm = best_of(lambda: se_sweep(alphas, True, **sign), repeat=3) / len(alphas)
    comm_alphas = np.linspace(2.5, 4.0, 6)
    comm = dict(channel=CommitteeSignChannel(), q0=0.5 * np.eye(2), tol=1e-10, nodes=24,
                method="anderson")
    c_cold = best_of(lambda: se_sweep(comm_alphas, False, **comm), repeat=1) / len(comm_alphas)
    c_warm = best_of(lambda: se_sweep(comm_alphas, True, **comm), repeat=1) / len(comm_alphas)

    rng = np.random.default_rng(0)
    d, n = args.d, round(args.alpha * args.d)
    x = rng.standard_normal((n, d))
    w_star = rng.standard_normal(d)
    y = np.sign(x @ w_star)
    w0 = 1e-3 * rng.standard_normal(d)
    res = gamp(x, y, GaussianPrior(), SignChannel(), w0=w0, tol=1e-7, max_iter=300)
    t_gamp = best_of(lambda: gamp(x, y, GaussianPrior(), SignChannel(), w0=w0, tol=1e-7,
                                  max_iter=300), repeat=3)
    w = w0[:, None]
    g = np.zeros((n, 1))
    t_mv = best_of(lambda: (x @ w / math.sqrt(d), x.T @ g / math.sqrt(d)), repeat=20)

    print(f"perceptron SE per α point, cold start      : {cold * 1e3:8.2f} ms")
    print(f"perceptron SE per α point, warm-started    : {warm * 1e3:8.2f} ms")
    print(f"committee K=2 SE per α point, cold (Q0=I/2) : {c_cold * 1e3:8.1f} ms")
    print(f"committee K=2 SE per α point, warm-started : {c_warm * 1e3:8.1f} ms")
    print(f"GAMP sign perceptron d = {d}, n = {n}: {res.status.iterations} iterations, "
          f"{t_gamp * 1e3:.1f} ms")
    print(f"its matrix-vector products alone           : {res.status.iterations * t_mv * 1e3:8.1f}"
          f" ms ({t_mv * 1e3:.2f} ms per iteration)")
    print(f"GAMP / matvec cost                         : "
          f"{t_gamp / (res.status.iterations * t_mv):8.2f}x")


if __name__ == "__main__":
    main()
