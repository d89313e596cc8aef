"""Speed of compositional_scaling (arXiv 2407.05664): one full-batch Adam step of the largest
training job of a quick seed (the deep AccNets of every (case, λ) at N = max n_train) against the
raw matrix products of that step, measured in the same run; the GP data of one seed; theory()
per call.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_compositional_scaling.py``.
"""

from __future__ import annotations

import torch

from theorylab.experiments import compositional_scaling as cs
from theorylab.models.accnet import accnet_forward, init_accnet
from timing import best_of

STEPS = 20


def main() -> None:
    torch.set_num_threads(1)
    p = cs.Params()
    n, batch = max(p.n_train), len(p.nu_g) * len(p.lams)
    dims, widths = cs._layout(p, "deep")
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(n, p.d_in, generator=g), torch.randn(batch, n, p.d_out, generator=g)
    lam = torch.full((batch,), 1e-3)
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
    for d_in, w, d_out in zip(dims[:-1], widths, dims[1:], strict=True):
        for a, b in ((d_in, w), (w, d_out)):
            mats.append(
                (torch.randn(batch, n, a), torch.randn(batch, a, b), torch.randn(batch, n, b))
            )

    def matmuls():
        for _ in range(STEPS):
            for h, w, gz in mats:
                torch.bmm(h, w)
                torch.bmm(gz, w.transpose(1, 2))
                torch.bmm(h.transpose(1, 2), gz)

    t_step = best_of(steps, repeat=2) / STEPS
    t_mm = best_of(matmuls, repeat=2) / STEPS
    t_data = best_of(lambda: cs._data(p, 0), repeat=1)
    t_theory = best_of(lambda: cs.theory(p), repeat=5)
    print(f"Adam step, {batch} deep AccNets on N = {n} (float32): {t_step * 1e3:.2f} ms")
    print(f"its raw bmm products:                      {t_mm * 1e3:.2f} ms "
          f"(step / matmuls = {t_step / t_mm:.1f}×)")  # fmt: skip
    print(f"GP data of one seed ({len(p.nu_g)} cases, {n + p.n_test} points): {t_data:.2f} s")
    print(f"theory() per call: {t_theory * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
