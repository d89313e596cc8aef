"""Speed of dot_product_attention: the saddle point per α point (cold from the authors'
starting point, and warm-started from a neighbouring α), the default theory() call (both
branches at α = 1, 2 and α_c), and one simulated seed (four L-BFGS fits at d = 1000 and the
test error on 20 000 sequences) against the cost of its own forward/backward passes and of the
matrix–vector product x·Q they contain, measured in the same run; one seed of the histogram
task (two restricted models trained and released) against one Adam step on a minibatch.

Run: ``python benchmarks/bench_dot_product_attention.py [--d 1000]``.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from theorylab.experiments.dot_product_attention import EXPERIMENT
from theorylab.models.attention import AttentionTask, ReducedTask, risk, train_lbfgs
from theorylab.models.histogram import QUICK, HistogramAttention, histogram_data
from theorylab.theory.attention import AttentionSetting, solve_branch
from theorylab.theory.attention_thresholds import STARTS
from timing import best_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(1)

    st = AttentionSetting()
    rows = []
    for b in ("positional", "semantic"):
        cold = best_of(lambda b=b: solve_branch(st, 2.0, b, STARTS[b]), repeat=2)
        near = solve_branch(st, 1.9, b, STARTS[b])
        warm = best_of(lambda b=b, near=near: solve_branch(
            st, 2.0, b, (near.q, near.m, near.v, near.theta), warm=near.prox), repeat=2)
        rows.append((b, cold, warm))
    p = EXPERIMENT.make_params()
    t_theory = best_of(lambda: EXPERIMENT.theory(p), repeat=1)
    t_seed = best_of(lambda: EXPERIMENT.simulate(EXPERIMENT.make_params({"d": args.d}), 0),
                     repeat=1)
    hp = EXPERIMENT.make_params({"task": "histogram"})
    t_hist = best_of(lambda: EXPERIMENT.simulate(hp, 0), repeat=1)
    gen = torch.Generator().manual_seed(0)
    h = QUICK
    model = HistogramAttention(h["symbols"], h["length"], h["dim"], h["hidden"], "semantic", gen)
    hx, hy = histogram_data(h["batch"], h["length"], h["symbols"], gen)
    opt = torch.optim.Adam(model.parameters(), lr=h["lr"])

    def adam_step():
        logits, _ = model(hx)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                 hy.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()

    t_step = best_of(adam_step, repeat=20)
    steps = 2 * (hp.hist_epochs + h["continue_epochs"]) * -(-hp.hist_train // h["batch"])

    d, n = args.d, 2 * args.d
    gen = torch.Generator().manual_seed(0)
    a = torch.tensor([[0.6, 0.4], [0.4, 0.6]], dtype=torch.float64)
    teacher = torch.randn(d, generator=gen, dtype=torch.float64)
    full_task = AttentionTask.draw(n, d, 0.5, 0.3, a, teacher, gen)
    task = ReducedTask.of(full_task)
    q0 = 0.25 * torch.ones(d, dtype=torch.float64)
    _, iters = train_lbfgs(q0, task, 0.01)
    t_train = best_of(lambda: train_lbfgs(q0, task, 0.01), repeat=2)

    def pass_():
        q = q0.clone().requires_grad_(True)
        risk(q, task, 0.01).backward()

    def full_pass():
        q = q0.clone().requires_grad_(True)
        risk(q, full_task, 0.01).backward()

    t_pass = best_of(pass_, repeat=20)
    t_full = best_of(full_pass, repeat=5)
    x = full_task.x.reshape(-1, d)
    t_mv = best_of(lambda: x @ q0, repeat=20)
    mat = np.random.default_rng(0).standard_normal((d, d))
    t_mm = best_of(lambda: mat @ mat, repeat=3)
    t_eigh = best_of(lambda: np.linalg.eigh(mat + mat.T), repeat=2)

    for b, cold, warm in rows:
        print(f"{b:10s} branch at α = 2, cold start            : {cold * 1e3:8.1f} ms")
        print(f"{b:10s} branch at α = 2, warm (from α = 1.9)   : {warm * 1e3:8.1f} ms")
    print(f"default theory() (α = 1, 2, α_c and α_l)          : {t_theory:8.2f} s")
    print(f"one simulated seed, d = {args.d} (4 L-BFGS fits + test): {t_seed:8.2f} s")
    print(f"L-BFGS at α = 2, d = {d} (positional init)        : {t_train * 1e3:8.1f} ms, "
          f"{iters} iterations")
    print(f"one risk + gradient pass (reduced scalars)        : {t_pass * 1e3:8.2f} ms "
          f"(its matvec x·Q alone {t_mv * 1e3:.3f} ms)")
    print(f"one risk + gradient pass through softmax(hhᵀ)x    : {t_full * 1e3:8.2f} ms")
    print(f"one histogram seed ({steps} Adam steps + tests)     : {t_hist:8.2f} s "
          f"(one Adam step on {h['batch']} sequences {t_step * 1e3:.2f} ms)")
    print(f"d×d matmul / eigh, d = {d}                       : {t_mm * 1e3:.1f} ms / "
          f"{t_eigh * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
