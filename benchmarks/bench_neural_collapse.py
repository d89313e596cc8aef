"""Speed of neural_collapse (arXiv 2410.04887): one plain GD step of the quick network against
the raw matrix products that step must do, measured in the same run.

The quick net (16 → 32 ×5 → 4, N = 120, float64) is tiny: a step is 6 forward products
(N × n_ℓ × n_{ℓ+1}) and 12 backward ones. The reference times exactly those 18 ``torch.mm``
calls on tensors of the same shapes; the ratio is the framework overhead (autograd, Python) per
step, which dominates at this size. Also: ``theory()`` per call.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_neural_collapse.py``.
"""

from __future__ import annotations

import itertools

import torch

from theorylab.experiments import neural_collapse as nc
from theorylab.models.linear_head import head_objective
from theorylab.models.mlp import init_mlp
from theorylab.models.training import gradient_descent
from timing import best_of

STEPS = 200


def main() -> None:
    torch.set_num_threads(1)
    p = nc.Params()
    widths = [p.dim, *([p.width] * (nc.depth(p) - 1)), p.classes]
    n = p.classes * p.per_class
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, p.dim, generator=g, dtype=torch.float64)
    y = torch.randn(n, p.classes, generator=g, dtype=torch.float64)
    ws = init_mlp(widths, generator=g)
    lam = torch.tensor([p.lam[0]], dtype=torch.float64)

    def step():
        gradient_descent(ws, lambda w: head_objective(w, x, y, p.relu_layers, lam), 0.01, STEPS)

    shapes = list(itertools.pairwise(widths))
    mats = [(torch.randn(n, a, dtype=torch.float64), torch.randn(a, b, dtype=torch.float64),
             torch.randn(n, b, dtype=torch.float64)) for a, b in shapes]  # fmt: skip

    def matmuls():
        for _ in range(STEPS):
            for h, w, gz in mats:
                h @ w  # forward
                gz @ w.T  # gradient w.r.t. the layer input
                h.T @ gz  # gradient w.r.t. the weights

    t_step = best_of(step, repeat=3) / STEPS
    t_mm = best_of(matmuls, repeat=3) / STEPS
    t_theory = best_of(lambda: nc.theory(p), repeat=5)
    flops = sum(6 * n * a * b for a, b in shapes)
    print(f"GD step (quick net, N = {n}, float64): {t_step * 1e6:.1f} µs")
    print(f"its 18 raw matmuls ({flops / 1e6:.2f} MFLOP):    {t_mm * 1e6:.1f} µs "
          f"(step / matmuls = {t_step / t_mm:.1f}×)")  # fmt: skip
    print(f"theory() per call: {t_theory * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
