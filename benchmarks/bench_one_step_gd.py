"""Speed of one_step_gd (arXiv 2402.04980) against the dense work it cannot avoid, measured in
the same run.

Theory: the saddle point per (η̃, α) point, warm-started along the α grid (a 40-point curve per
η̃), reported per point. Simulation: one seed at the quick size (d = p = 1000, n0 = 20 d), against
its unavoidable linear algebra done directly in torch: the two n0×d×p products of the step
(float32), the readout features of the largest α and the test set, and one p×p solve per α,
for every η̃.

spiked_rf_spectrum (arXiv 2410.18938) shares the model: its theory (traces, density by Newton
continuation on 300 points, saddle point) per η̃, and one seed (d = p = 800) against its step,
feature matmuls and one p×p eigendecomposition per η̃.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_one_step_gd.py``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from theorylab.experiments import one_step_gd as osg
from theorylab.experiments import spiked_rf_spectrum as srs
from timing import best_of


def seed_reference(p: osg.Params) -> float:
    g = torch.Generator().manual_seed(0)
    d, n0, n = p.d, round(p.alpha0 * p.d), round(max(p.alpha) * p.d)
    w = torch.randn(d, d, generator=g)
    x0 = torch.randn(5000, d, generator=g)
    w64 = w.double()
    x = torch.randn(n + p.n_test, d, generator=g, dtype=torch.float64)

    def work():
        for _ in range(max(1, n0 // 5000)):
            h = x0 @ w.T
            _ = h.T @ x0
        for _ in p.eta_tilde:
            phi = torch.tanh(x @ w64.T)
            gram = phi[:n].T @ phi[:n]
            for _ in p.alpha:
                torch.linalg.solve(gram + torch.eye(d, dtype=gram.dtype), gram[0])

    return best_of(work, repeat=1)


def spectrum_reference(p: srs.Params) -> float:
    g = torch.Generator().manual_seed(0)
    d, n0, n = p.d, round(p.alpha0 * p.d), round(p.n_ratio * p.d)
    w = torch.randn(d, d, generator=g)
    x0 = torch.randn(5000, d, generator=g)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)

    def work():
        for _ in range(max(1, n0 // 5000)):
            _ = (x0 @ w.T).T @ x0
        for _ in p.eta_tilde:
            f = torch.tanh(x @ w.double().T)
            torch.linalg.eigvalsh(f.T @ f / n)

    return best_of(work, repeat=1)


def main() -> None:
    torch.set_num_threads(1)
    p = osg.Params()
    curve = dataclasses.replace(p, alpha=tuple(np.linspace(0.1, 3.0, 40)))
    t_theory = best_of(lambda: osg.theory(curve), repeat=2)
    points = len(curve.alpha) * len(curve.eta_tilde)
    t_seed = best_of(lambda: osg.simulate(dataclasses.replace(p, draws=1), 0), repeat=1)
    t_ref = seed_reference(p)
    print(f"theory: {t_theory:.3f} s for {points} points = {1e3 * t_theory / points:.2f} ms/point")
    print(f"one draw (d = {p.d}; a seed averages {p.draws}): {t_seed:.2f} s; its matmuls + "
          f"solves alone: {t_ref:.2f} s "
          f"(ratio {t_seed / t_ref:.2f})")
    q = srs.Params()
    t_th = best_of(lambda: srs.theory(q), repeat=2)
    print(f"spiked_rf_spectrum theory: {t_th:.3f} s for {len(q.eta_tilde)} step sizes")
    one = dataclasses.replace(q, draws=1)
    t_seed, t_ref = best_of(lambda: srs.simulate(one, 0), repeat=1), spectrum_reference(q)
    print(f"spiked_rf_spectrum one draw (d = {q.d}; a seed averages {q.draws}): {t_seed:.2f} s; "
          f"matmuls + eigh alone: "
          f"{t_ref:.2f} s (ratio {t_seed / t_ref:.2f})")


if __name__ == "__main__":
    main()
