"""Speed of convolution_bottleneck: theory, and one training step of each network against the
raw matmuls of that step, measured in the same run.

A step is the forward and backward pass of the regularised objective (what Adam and each
L-BFGS evaluation cost). The reference is the dense work of the same step: the layer matmuls
(B × c n) @ (c n × c n) of the circulant operators, three times (forward, and the two products
of the backward pass). Run: ``python benchmarks/bench_convolution_bottleneck.py``.
"""

from __future__ import annotations

import itertools

import torch

from theorylab.experiments import convolution_bottleneck as cb
from theorylab.models.circular_cnn import cnn_preactivations, init_filters, product_spectra
from theorylab.theory.convolution import filter_spectra
from timing import best_of


def relu_step(p: cb.Params, depth: int):
    x = torch.randn(p.n_points, 1, p.n, dtype=torch.float64)
    y = x.mean(-1, keepdim=True).abs() + p.eps * x
    chans = [1, *([p.relu_channels] * (depth - 1)), 1]
    ws = init_filters(chans, p.n, generator=torch.Generator().manual_seed(0))

    def step():
        out = cnn_preactivations(ws, x, convention=p.relu_convention)[-1]
        loss = (out - y).square().sum((-1, -2)).mean(-1) + sum(w.square().sum() for w in ws)
        torch.autograd.grad(loss.sum(), ws)

    mats = [torch.randn(1, c_out * p.n, c_in * p.n, dtype=torch.float64)
            for c_in, c_out in itertools.pairwise(chans)]  # fmt: skip
    h = [torch.randn(1, p.n_points, c_in * p.n, dtype=torch.float64) for c_in in chans[:-1]]

    def reference():
        for _ in range(3):
            for m, hi in zip(mats, h, strict=True):
                torch.bmm(hi, m.transpose(1, 2))

    return best_of(step, repeat=20), best_of(reference, repeat=20)


def linear_step(p: cb.Params, depth: int):
    target = torch.as_tensor(filter_spectra(cb.teacher_filter(p)))
    chans = [p.channels, *([p.hidden] * (depth - 1)), p.channels]
    ws = init_filters(chans, p.n, generator=torch.Generator().manual_seed(0), delta=1.0)

    def step():
        fit = (product_spectra(ws) - target).abs().square().sum()
        torch.autograd.grad(fit + sum(w.square().sum() for w in ws), ws)

    return best_of(step, repeat=20)


def main() -> None:
    p = cb.Params()
    t_theory = best_of(lambda: cb.theory(cb.Params(lam=p.lam * 1.01)), repeat=5)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"theory (4 depths, 24 modes, uncached)   : {t_theory * 1e3:8.2f} ms")
    for depth in p.relu_depths:
        t, ref = relu_step(p, depth)
        print(f"ReLU CNN step, L = {depth}, B = {p.n_points}       : {t * 1e3:8.3f} ms "
              f"(raw matmuls {ref * 1e3:.3f} ms, ratio {t / ref:.1f}x)")  # fmt: skip
    for depth in p.depths:
        print(f"linear CNN step, L = {depth}               : {linear_step(p, depth) * 1e3:8.3f} ms")


if __name__ == "__main__":
    main()
