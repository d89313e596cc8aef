"""Finite-size and ridge study (not a speed benchmark): dot_product_attention's positional
branch against L-BFGS, over d and λ.

At the paper's λ = 0.01 the empirical minimiser from the positional initialisation has
q = σ²‖Q‖²/d 1–5 % below the replica-symmetric saddle point (Sec. 3 of arXiv 2402.03902) and m
1–2 % above it at d = 500–2000 (q −4.2/−4.7/−1.4 % at α = 1, −3.4/−4.6/−2.7 % at α = 2 for
d = 500, 1000, 2000 with 48, 24, 16 draws): not a 1/d effect, though it may shrink slowly. At
larger λ the agreement is within about 1 % (λ = 0.02: −1.1/−0.2 % in q at α = 1/2; λ = 0.05:
−0.8/−0.2 %; λ = 0.1: +0.1 %), at smaller λ it breaks down (λ = 0.005: −20/−34 %); the loss
Hessian at the minimiser has its smallest eigenvalue ≈ 0.1 λ at λ = 0.01 (the data term nearly
cancels the ridge), where a replica-symmetric description of the minimum of a non-convex risk
may become inexact, or its finite-size corrections large. The theory side uses the randomised
QMC rule (:func:`theorylab.theory.attention.sobol_rule`, two scramblings), so its cubature
error (≤ 0.2 %) is not in the comparison.

Each line: λ, α, d and, for q, m and ε_t = R(Q̂)/d, the theory, the mean ± sem over the draws,
and the relative deviation. Training only (no test set), one positional init per draw.

Run: ``python benchmarks/study_attention_ridge.py --lam 0.005 0.01 0.02 0.05 0.1 --d 1000
--draws 24`` (about 4 minutes on one core); ``--lam 0.01 --d 500 2000 --draws 48 16`` for the
rest of the d-scan (about 6 minutes).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from theorylab.models.attention import AttentionTask, ReducedTask, risk, train_lbfgs
from theorylab.seeding import Streams
from theorylab.theory.attention import AttentionSetting, sobol_rule, solve_branch
from theorylab.theory.attention_thresholds import STARTS

SIGMA, OMEGA, A11 = 0.5, 0.3, 0.6
ALPHAS = (1.0, 2.0)
KEYS = ("q", "m", "et")


def theory(lam: float, alpha: float, scrambles: int = 2) -> np.ndarray:
    """q, m, ε_t of the positional branch, averaged over randomised QMC rules."""
    st = AttentionSetting(SIGMA, OMEGA, A11, A11, lam)
    runs = [solve_branch(st, alpha, "positional", STARTS["positional"],
                         rule=sobol_rule(14, k, "positional")) for k in range(scrambles)]
    return np.array([[getattr(r, k) for k in KEYS] for r in runs]).mean(axis=0)


def one_draw(d: int, lam: float, k: int) -> np.ndarray:
    streams = Streams("dpa-ridge-study", 100_000 * d + k)
    gen = streams.torch("teacher, data and init")
    a = torch.tensor([[A11, 1 - A11], [1 - A11, A11]], dtype=torch.float64)
    teacher = torch.randn(d, generator=gen, dtype=torch.float64)
    teacher *= d**0.5 / teacher.norm()
    data = ReducedTask.of(AttentionTask.draw(round(max(ALPHAS) * d), d, SIGMA, OMEGA, a,
                                             teacher, gen))
    q0 = 0.25 * torch.ones(d, dtype=torch.float64) + 0.05 * torch.randn(
        d, generator=gen, dtype=torch.float64)
    out = []
    for alpha in ALPHAS:
        task = data.head(round(alpha * d))
        q, _ = train_lbfgs(q0, task, lam)
        out.append([SIGMA**2 * float(q @ q) / d, abs(float(q.sum())) / d,
                    float(risk(q, task, lam)) / d])
    return np.array(out)  # (alpha, key)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lam", type=float, nargs="+", default=[0.005, 0.01, 0.02, 0.05, 0.1])
    ap.add_argument("--d", type=int, nargs="+", default=[1000])
    ap.add_argument("--draws", type=int, nargs="+", default=[24])
    args = ap.parse_args()
    draws = args.draws * len(args.d) if len(args.draws) == 1 else args.draws
    for lam in args.lam:
        th = {alpha: theory(lam, alpha) for alpha in ALPHAS}
        for d, n in zip(args.d, draws, strict=True):
            sims = np.array([one_draw(d, lam, k) for k in range(n)])
            mean, sem = sims.mean(axis=0), sims.std(axis=0, ddof=1) / np.sqrt(n)
            for i, alpha in enumerate(ALPHAS):
                cols = [f"{key} {th[alpha][j]:.5f} vs {mean[i, j]:.5f} ± {sem[i, j]:.5f} "
                        f"({100 * (mean[i, j] / th[alpha][j] - 1):+.1f} %)"
                        if abs(th[alpha][j]) > 1e-6 else f"{key} {th[alpha][j]:.1e} vs "
                        f"{mean[i, j]:.1e}" for j, key in enumerate(KEYS)]
                print(f"λ = {lam:<6g} α = {alpha:g}  d = {d:<5d} ({n} draws)  "
                      + "  ".join(cols), flush=True)


if __name__ == "__main__":
    main()
