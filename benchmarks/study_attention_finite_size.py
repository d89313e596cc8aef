"""Finite-size study (not a speed benchmark): dot_product_attention's rows at several d.

Runs the experiment's simulation of one draw (:func:`theorylab.models.attention.fit_branches`:
both inits, α = 1 and 2, 20 000 test sequences) at each d on fresh streams, applies the pair-cost
control variate with a slope fitted over all draws of that d (as the experiment does per seed),
and prints, per checked row, the relative deviation from the theory (randomised QMC rule, so the
cubature error is not in it) with its sem and the per-draw spread. A deviation ∝ 1/d is finite
size; the experiment's finite-size allowances are c/d with c read off this table. One that
stays is the theory's (see study_attention_ridge.py for the positional branch's q).

Run: ``python benchmarks/study_attention_finite_size.py --d 500 1000 2000 --draws 64 36 24``
(about 25 minutes on one core).
"""

from __future__ import annotations

import argparse

import numpy as np

from theorylab.models.attention import fit_branches
from theorylab.seeding import Streams
from theorylab.theory.attention import AttentionSetting, sobol_rule, solve_branch
from theorylab.theory.attention_thresholds import STARTS

ALPHAS = (1.0, 2.0)
BRANCHES = ("positional", "semantic")
ROWS = [("positional", 1.0, k) for k in ("q", "m", "eg", "et")] + [
    ("positional", 2.0, k) for k in ("q", "m", "eg", "et")] + [
    ("semantic", 2.0, k) for k in ("q", "theta", "eg", "et")]


def theory(branch: str, alpha: float, scrambles: int = 4) -> dict:
    runs = [solve_branch(AttentionSetting(), alpha, branch, STARTS[branch],
                         rule=sobol_rule(14, k, branch)) for k in range(scrambles)]
    return {k: float(np.mean([getattr(r, k) for r in runs])) for k in ("q", "m", "theta", "eg",
                                                                        "et")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, nargs="+", default=[500, 1000, 2000])
    ap.add_argument("--draws", type=int, nargs="+", default=[64, 36, 24])
    args = ap.parse_args()
    th = {(b, a): theory(b, a) for b in BRANCHES for a in ALPHAS}
    for d, n in zip(args.d, args.draws, strict=True):
        outs = []
        for k in range(n):
            streams = Streams("dpa-pilot", 100_000 * d + k)
            outs.append(fit_branches(d, 0.5, 0.3, 0.6, 0.01, ALPHAS, BRANCHES, 20_000,
                                     streams.torch("a"), streams.torch("b")))
        dev = np.array([o["pair_cost_dev"] for o in outs])
        for branch, alpha, key in ROWS:
            i, j = BRANCHES.index(branch), ALPHAS.index(alpha)
            y = np.array([o[key][i, j] for o in outs])
            if key != "m":  # the experiment leaves m raw
                x = dev[:, j]
                y = y - np.cov(y, x)[0, 1] / x.var(ddof=1) * x
            t = th[branch, alpha][key]
            print(f"d = {d:<5d} ({n} draws)  {branch:10s} α = {alpha:g}  {key:5s}  "
                  f"{100 * (y.mean() / t - 1):+6.2f} % ± {100 * y.std(ddof=1) / np.sqrt(n) / t:.2f}"
                  f"  (per draw {100 * y.std(ddof=1) / t:.1f} %)", flush=True)


if __name__ == "__main__":
    main()
