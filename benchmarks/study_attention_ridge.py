"""Finite-size and ridge study (not a speed benchmark): dot_product_attention's positional
branch against L-BFGS, over d and λ.

At the paper's λ = 0.01 the empirical minimiser from the positional initialisation has
q = σ²‖Q‖²/d ≈ 3 % below the replica-symmetric saddle point (Sec. 3 of arXiv 2402.03902) and m
1–2 % above it, and the gap does not close with d. With the pair-cost control variate (``cv``
lines), on an H200 (``--device cuda``), d = 2000/4000/8000/16 000 with 32/24/16/12 draws:

    q, α = 1    −2.2  −2.8  −3.0  −2.8 %   (sem 0.44 / 0.30 / 0.25 / 0.25 %)
    q, α = 2    −2.4  −2.5  −3.3  −3.0 %   (sem 0.60 / 0.55 / 0.37 / 0.27 %)
    m, α = 1    +1.5  +1.7  +1.9  +1.9 %   (sem ≈ 0.2 %)
    m, α = 2    +0.9  +1.0  +1.3  +1.2 %   (sem ≈ 0.2 %)
    ε_t         +1.2/+0.6 at d = 2000, then +0.2 … +0.4 %

while the semantic branch at α = 2 (``--branch semantic``, d = 4000/8000, 12/8 draws) agrees in q
(−0.1 %) and θ (−0.1 %), sem ≤ 0.25 %. The authors' own gradient-descent means at d = 1000
(SPOC-group/positional-and-semantic-attention, empirics/results_mean_standardA.csv, ω = 0.3, α = 2)
have m = 0.2618 against their theory table's 0.2586: +1.3 %, as here. On the CPU, at d =
500/1000/2000 (48/24/16 draws, raw), q was −4.2/−4.7/−1.4 % at α = 1 and −3.4/−4.6/−2.7 % at α = 2.
At larger λ the agreement is within about 1 % (λ = 0.02: −1.1/−0.2 % in q at α = 1/2; λ = 0.05:
−0.8/−0.2 %; λ = 0.1: +0.1 %; d = 1000, 24 draws), at smaller λ it breaks down (λ = 0.005: −20/−34
%); the loss Hessian at the minimiser has its smallest eigenvalue ≈ 0.1 λ at λ = 0.01 (the data
term nearly cancels the ridge). L-BFGS has converged there (gradient norm ≤ 1e-7, and 20 000
iterations at tolerance 1e-12 reach the same q). The theory side uses the randomised QMC rule
(:func:`theorylab.theory.attention.sobol_rule`, two scramblings), so its cubature error (≤ 0.2 %)
is not in the comparison.

Each line: raw or control-variate (leave-one-out slope on the training set's pair cost, exact
mean zero), λ, α, d and, for q, m, θ and ε_t = R(Q̂)/d, the theory, the mean ± sem over the draws,
and the relative deviation. Training only (no test set), one init per draw. ``--jsonl`` writes
every draw.

Run: ``python benchmarks/study_attention_ridge.py --lam 0.005 0.01 0.02 0.05 0.1 --d 1000
--draws 24`` (about 4 minutes on one core); ``--lam 0.01 --d 500 2000 --draws 48 16`` for the
rest of the CPU d-scan (about 6 minutes); ``--device cuda --lam 0.01 --d 2000 4000 8000 16000
--draws 32 24 16 12`` for the GPU d-scan (about 2 minutes on an H200, data drawn on the GPU).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from theorylab.experiments.result import loo_control_variate
from theorylab.models.attention import (
    AttentionTask,
    ReducedTask,
    expected_pair_cost,
    risk,
    train_lbfgs,
)
from theorylab.seeding import Streams
from theorylab.theory.attention import AttentionSetting, sobol_rule, solve_branch
from theorylab.theory.attention_thresholds import STARTS

SIGMA, OMEGA, A11 = 0.5, 0.3, 0.6
ALPHAS = (1.0, 2.0)
KEYS = ("q", "m", "theta", "et")


def theory(lam: float, alpha: float, branch: str = "positional", scrambles: int = 2
           ) -> np.ndarray:
    """q, m, θ, ε_t of a branch, averaged over randomised QMC rules."""
    st = AttentionSetting(SIGMA, OMEGA, A11, A11, lam)
    runs = [solve_branch(st, alpha, branch, STARTS[branch], rule=sobol_rule(14, k, branch))
            for k in range(scrambles)]
    return np.array([[getattr(r, k) for k in KEYS] for r in runs]).mean(axis=0)


def generator(d: int, k: int, device: str) -> torch.Generator:
    """The draw's generator: the CPU stream of the study, or on a GPU a CUDA generator seeded
    from it (another sample of the same distribution, drawn where it is trained)."""
    streams = Streams("dpa-ridge-study", 100_000 * d + k)
    if device == "cpu":
        return streams.torch("teacher, data and init")
    gen = torch.Generator(device=device)
    gen.manual_seed(streams.integer("teacher, data and init"))
    return gen


def one_draw(d: int, lam: float, k: int, branch: str = "positional",
             device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """(α, key) statistics of one draw and the training sets' pair-cost deviations (α,), the
    experiment's control variate of exact mean zero."""
    gen = generator(d, k, device)
    dev = gen.device
    a = torch.tensor([[A11, 1 - A11], [1 - A11, A11]], dtype=torch.float64)
    teacher = torch.randn(d, generator=gen, dtype=torch.float64, device=dev)
    teacher *= d**0.5 / teacher.norm()
    data = ReducedTask.of(AttentionTask.draw(round(max(ALPHAS) * d), d, SIGMA, OMEGA, a,
                                             teacher, gen))
    if branch == "positional":
        q0 = 0.25 * torch.ones(d, dtype=torch.float64, device=dev) + 0.05 * torch.randn(
            d, generator=gen, dtype=torch.float64, device=dev)
    else:
        q0 = teacher.clone()
    out, cv = [], []
    pair_cost = expected_pair_cost(d, SIGMA, OMEGA, A11)
    for alpha in ALPHAS:
        task = data.head(round(alpha * d))
        q, _ = train_lbfgs(q0, task, lam)
        out.append([SIGMA**2 * float(q @ q) / d, abs(float(q.sum())) / d,
                    SIGMA**2 * abs(float(q @ teacher)) / d, float(risk(q, task, lam)) / d])
        cv.append(float(task.c.mean()) / d - pair_cost)
    return np.array(out), np.array(cv)


def controlled(sims: np.ndarray, cvs: np.ndarray) -> np.ndarray:
    """Each draw adjusted by the pair-cost control variate of its α (broadcast over the keys),
    leave-one-out slopes per (α, key)."""
    return loo_control_variate(sims, cvs[:, :, None])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lam", type=float, nargs="+", default=[0.005, 0.01, 0.02, 0.05, 0.1])
    ap.add_argument("--d", type=int, nargs="+", default=[1000])
    ap.add_argument("--draws", type=int, nargs="+", default=[24])
    ap.add_argument("--branch", choices=("positional", "semantic"), default="positional")
    ap.add_argument("--device", default="cpu", help="e.g. cuda: data drawn and trained there")
    ap.add_argument("--jsonl", help="also write every draw as a JSON line to this file")
    args = ap.parse_args()
    draws = args.draws * len(args.d) if len(args.draws) == 1 else args.draws
    log = open(args.jsonl, "a") if args.jsonl else None  # noqa: SIM115
    for lam in args.lam:
        th = {alpha: theory(lam, alpha, args.branch) for alpha in ALPHAS}
        for d, n in zip(args.d, draws, strict=True):
            rows = []
            for k in range(n):
                rows.append(one_draw(d, lam, k, args.branch, args.device))
                if log:
                    log.write(json.dumps({"lam": lam, "d": d, "draw": k, "branch": args.branch,
                                          "stats": rows[-1][0].tolist(),
                                          "pair_cost_dev": rows[-1][1].tolist()}) + "\n")
                    log.flush()
            sims = np.array([r[0] for r in rows])
            cvs = np.array([r[1] for r in rows])
            for label, vals in (("raw", sims), ("cv", controlled(sims, cvs) if n > 2 else sims)):
                mean, sem = vals.mean(axis=0), vals.std(axis=0, ddof=1) / np.sqrt(n)
                for i, alpha in enumerate(ALPHAS):
                    cols = [f"{key} {th[alpha][j]:.5f} vs {mean[i, j]:.5f} ± {sem[i, j]:.5f} "
                            f"({100 * (mean[i, j] / th[alpha][j] - 1):+.1f} %)"
                            if abs(th[alpha][j]) > 1e-6 else f"{key} {th[alpha][j]:.1e} vs "
                            f"{mean[i, j]:.1e}" for j, key in enumerate(KEYS)]
                    print(f"{label:3s} λ = {lam:<6g} α = {alpha:g}  d = {d:<5d} ({n} draws)  "
                          + "  ".join(cols), flush=True)


if __name__ == "__main__":
    main()
