"""Speed of leaky_resnet: one training step against the raw matmuls of that step, same run.

A step is the forward and backward pass of C + (λ/(2L̃)) Σρ‖W‖² for the quick setting (what
Adam and each L-BFGS evaluation cost); the reference is the dense work it cannot avoid: L
products W_ℓ σ(A) of shape (w × (w+1)) @ ((w+1) × N), three times (forward, and the two
products of the backward pass). Also the measurement of one trained network (COI, momenta,
Hamiltonian). Run: ``python benchmarks/bench_leaky_resnet.py``.
"""

from __future__ import annotations

import torch

from theorylab.experiments import leaky_resnet as lr
from theorylab.measure import geodesic as geo
from theorylab.models.leaky_resnet import leaky_loss, momenta, uniform_steps
from timing import best_of


def main() -> None:
    p = lr.Params()
    x, y, v = lr.task(p, 0)
    a0, yt, read = torch.tensor(v @ x), torch.tensor(y), torch.tensor(v.T)
    leak = max(p.leaks)
    lt, rho = torch.tensor([leak], dtype=torch.float64), uniform_steps(p.depth)
    w = (0.1 * torch.randn(1, p.depth, p.width, p.width + 1, dtype=torch.float64))
    w.requires_grad_()

    def step():
        loss = leaky_loss(w, a0, yt, read, lt, rho, p.lam)[1]
        torch.autograd.grad(loss.sum(), [w])

    mats = torch.randn(p.depth, p.width, p.width + 1, dtype=torch.float64)
    feats = torch.randn(p.width + 1, p.n_points, dtype=torch.float64)

    def reference():
        for _ in range(3):
            for ell in range(p.depth):
                mats[ell] @ feats

    def measure():
        reps, moms = momenta(w.detach(), a0, yt, read, lt, rho, p.lam)
        a = [r[0].numpy() for r in reps]
        b = [m[0].numpy() for m in moms]
        pairs = zip(a, b, strict=True)
        return [geo.coi(ai, p.gamma0) + geo.hamiltonian(ai, bi, leak) for ai, bi in pairs]

    t_step, t_ref = best_of(step, repeat=50), best_of(reference, repeat=50)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"training step (L = {p.depth}, w = {p.width}, N = {p.n_points}): {t_step * 1e3:.3f} ms")
    print(f"raw matmuls of that step          : {t_ref * 1e3:.3f} ms (ratio {t_step / t_ref:.1f}x)")
    print(f"measuring one trained network     : {best_of(measure, repeat=5) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
