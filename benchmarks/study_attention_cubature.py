"""Cubature study (not a speed benchmark): how precise is the saddle point of
dot_product_attention (arXiv 2402.03902, Sec. 3) on tensor Gauss–Hermite rules?

The integrands hold the prox's global minimiser, which jumps between local minima across
surfaces in (ξ₁, ξ₂, u₁, u₂); tensor Gauss–Hermite rules converge slowly (and not
monotonically) on such integrands. This script solves both branches at the given α with GH
rules of several orders and with a randomised quasi-Monte Carlo rule
(:func:`theorylab.theory.attention.sobol_rule`: scrambled Sobol, 2^m points with their
symmetry images, several independent scramblings, whose mean is unbiased and whose spread gives
its error), and prints each rule's q, m, θ, ε_g, ε_t and the relative deviation of the
default rule (GH ``AttentionSetting().nodes``⁴) from the randomised QMC mean. The
experiment's cubature allowance cites this table.

Run: ``python benchmarks/study_attention_cubature.py --alpha 1 2 --gh 8 12 16 20 24 --log2 14
--scrambles 4`` (about 2 minutes on one core).
"""

from __future__ import annotations

import argparse

import numpy as np

from theorylab.theory.attention import AttentionSetting, sobol_rule, solve_branch
from theorylab.theory.attention_thresholds import STARTS

KEYS = ("q", "m", "theta", "eg", "et")


def values(state) -> np.ndarray:
    return np.array([getattr(state, k) for k in KEYS])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alpha", type=float, nargs="+", default=[1.0, 2.0])
    ap.add_argument("--gh", type=int, nargs="+", default=[8, 12, 16, 20, 24])
    ap.add_argument("--log2", type=int, default=14)
    ap.add_argument("--scrambles", type=int, default=4)
    args = ap.parse_args()
    default = AttentionSetting()
    print("branch      α    rule            " + "".join(f"{k:>12}" for k in KEYS))
    for branch in ("positional", "semantic"):
        for alpha in args.alpha:
            for n in args.gh:
                s = solve_branch(AttentionSetting(nodes=n), alpha, branch, STARTS[branch])
                flag = "" if s.status.converged else "  (not converged)"
                print(f"{branch:10s} {alpha:4.2f}  GH {n:2d}^4        "
                      + "".join(f"{v:12.6g}" for v in values(s)) + flag)
            runs = np.array([values(solve_branch(default, alpha, branch, STARTS[branch],
                                                 rule=sobol_rule(args.log2, k, branch)))
                             for k in range(args.scrambles)])
            mean = runs.mean(axis=0)
            sem = runs.std(axis=0, ddof=1) / np.sqrt(len(runs))
            print(f"{branch:10s} {alpha:4.2f}  RQMC 2^{args.log2}×{args.scrambles}   "
                  + "".join(f"{v:12.6g}" for v in mean))
            print(f"{'':10s} {'':4s}  ± (sem)         "
                  + "".join(f"{v:12.2g}" for v in sem))
            gh = values(solve_branch(default, alpha, branch, STARTS[branch]))
            rel = np.where(mean != 0, gh / np.where(mean != 0, mean, 1) - 1, 0.0)
            print(f"{'':10s} {'':4s}  GH {default.nodes}^4 vs RQMC   "
                  + "".join(f"{100 * v:+11.2f}%" for v in rel))


if __name__ == "__main__":
    main()
