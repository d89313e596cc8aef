"""Speed of compositional_scaling (arXiv 2407.05664): one full-batch Adam step of a quick seed's
largest deep job (the deep AccNets of every (draw, case) at N = max n_train) and of its width
comparison (the wide nets at bound_n) against the raw matrix products of that step, measured in
the same run; the GP data of one seed; theory() per call.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_compositional_scaling.py``.
"""

from __future__ import annotations

import torch

from theorylab.experiments import compositional_scaling as cs
from theorylab.models.accnet import accnet_forward, init_accnet
from timing import best_of

STEPS = 20


def step_vs_matmuls(dims, widths, batch: int, n: int, d_in: int, lam: float):
    """(seconds per Adam step, seconds of the step's raw bmm products) for one batch."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, n, d_in, generator=g)
    y = torch.randn(batch, n, dims[-1], generator=g)
    params = init_accnet(dims, widths, batch=batch, generator=g)
    opt = torch.optim.Adam(params, lr=1e-3)

    def steps():
        for _ in range(STEPS):
            mse = (accnet_forward(params, x) - y).square().sum(-1).mean(-1)
            loss = (mse + lam * sum(q.square().flatten(1).sum(1) for q in params)).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()

    mats = []
    for a_in, w, a_out in zip(dims[:-1], widths, dims[1:], strict=True):
        for a, b in ((a_in, w), (w, a_out)):
            mats.append(
                (torch.randn(batch, n, a), torch.randn(batch, a, b), torch.randn(batch, n, b))
            )

    def matmuls():
        for _ in range(STEPS):
            for h, w, gz in mats:
                torch.bmm(h, w)
                torch.bmm(gz, w.transpose(1, 2))
                torch.bmm(h.transpose(1, 2), gz)

    return best_of(steps, repeat=2) / STEPS, best_of(matmuls, repeat=2) / STEPS


def main() -> None:
    torch.set_num_threads(1)
    p = cs.Params()
    cases = len(p.nu_g)
    for family, n, batch, lam in (
        ("deep", max(p.n_train), p.draws * cases, p.lam),
        ("wide", p.bound_n, cases, p.bound_lam),
    ):
        dims, widths = cs._layout(p, family)
        t_step, t_mm = step_vs_matmuls(dims, widths, batch, n, p.d_in, lam)
        print(f"Adam step, {batch} {family} AccNets (widths {widths[0]}) on N = {n} (float32): "
              f"{t_step * 1e3:.2f} ms; its raw bmm products {t_mm * 1e3:.2f} ms "
              f"(step / matmuls = {t_step / t_mm:.1f}×)")  # fmt: skip
    t_data = best_of(lambda: cs._data(p, 0), repeat=1)
    t_theory = best_of(lambda: cs.theory(p), repeat=5)
    points = max(p.n_train) + p.n_test
    print(f"GP data of one seed ({cases} cases, {points} points): {t_data:.2f} s")
    print(f"theory() per call: {t_theory * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
