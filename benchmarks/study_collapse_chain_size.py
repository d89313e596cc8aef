"""Finite-size study (not a speed benchmark): generative_collapse's retraining chain against d.

The model-collapse recursion (Result 1 with bulk variance s²: b_g = b(τ; s²_g),
s²_{g+1} = S(b_g)²) is a d → ∞ statement. This script runs the experiment's retraining chain
alone (online SGD from the informed init, the Euler flow, retraining on the generated samples)
at several d_retrain and prints each generation's deviation from the recursion, in per cent,
mean and sem over draws. A deviation that scales as 1/d is finite size.

Run: ``python benchmarks/study_collapse_chain_size.py --d 500 1000 4000 --draws 16 16 4``.
"""

from __future__ import annotations

import argparse

import numpy as np

from theorylab.experiments import generative_collapse as gc
from theorylab.models.online_dae import euler_flow_lowrank, orthogonal_variance, replay
from theorylab.seeding import Streams


def one_chain(p: gc.Params, k: int) -> list[float]:
    """(b_g for every generation, then s²_g for every generation) of one chain."""
    d = p.d_retrain
    rng = Streams("gc-chain", 500 + k).numpy("retraining")
    mu = gc._embed(p, d)

    def draw(n):
        return mu[rng.integers(0, 3, n)] + rng.standard_normal((n, d))

    n_gen = gc._steps(p, p.tau[-1], d)
    bs, variances = [], []
    for _ in range(p.generations):
        last = gc._train(p, d, draw, [n_gen], rng)
        w, b = last.w[-1], float(last.b[-1])
        generated = euler_flow_lowrank(w, b, rng.standard_normal((n_gen, d)), p.flow_steps)
        bs.append(b)
        variances.append(orthogonal_variance(generated, w))
        draw = replay(generated)
    return bs + variances


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, nargs="+", default=[500, 1000, 4000])
    parser.add_argument("--draws", type=int, nargs="+", default=[16, 16, 4])
    parser.add_argument("--hidden", type=int, default=2, choices=(1, 2))
    args = parser.parse_args()
    if len(args.draws) != len(args.d):
        parser.error("--draws needs one count per --d")
    for d, draws in zip(args.d, args.draws, strict=True):
        p = gc.Params(d_retrain=d, hidden=args.hidden)
        th = gc.theory(p)
        ref = np.r_[th["retrain_b"], th["retrain_variance"]]
        dev = 100.0 * (np.array([one_chain(p, k) for k in range(draws)]) / ref - 1.0)
        sem = dev.std(0, ddof=1) / np.sqrt(draws) if draws > 1 else np.full(dev.shape[1], np.nan)
        g = p.generations
        print(f"d = {d} ({draws} draws), deviation from the recursion in %, mean ± sem:")
        print("  b_g  ", "  ".join(f"{m:+.3f} ± {s:.3f}" for m, s in zip(dev.mean(0)[:g],
                                                                        sem[:g], strict=True)))
        print("  s²_g ", "  ".join(f"{m:+.3f} ± {s:.3f}" for m, s in zip(dev.mean(0)[g:],
                                                                        sem[g:], strict=True)))


if __name__ == "__main__":
    main()
