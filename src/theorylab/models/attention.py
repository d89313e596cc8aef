"""Tied rank-one dot-product attention on two-token sequences (arXiv 2402.03902), in torch.

Tokens x_ℓ = p_ℓ + z_ℓ with positions p_{1,2} = ±1_d/√d and content z_ℓ ~ N(0, σ²I_d). The
teacher mixes a content softmax attention with a fixed positional matrix A:
y = [(1 − ω) softmax(h*h*ᵀ) + ωA] z, h*_ℓ = z_ℓ·Q*/√d. The student is
ŷ = softmax(hhᵀ) x with h_ℓ = x_ℓ·Q/√d and one trainable Q ∈ R^d (query = key, rank one).
The empirical risk is Σ_μ ‖ŷ_μ − y_μ‖²_F/(2d) + (λ/2)‖Q‖².
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "AttentionTask",
    "ReducedTask",
    "attention_output",
    "expected_pair_cost",
    "fit_branches",
    "fit_linear_baseline",
    "reduced_losses",
    "risk",
    "train_lbfgs",
]


@dataclass(frozen=True)
class AttentionTask:
    """Data of one draw: inputs x (n, 2, d), contents z, targets y, teacher Q*."""

    x: torch.Tensor
    z: torch.Tensor
    y: torch.Tensor
    teacher: torch.Tensor

    @classmethod
    def draw(cls, n: int, d: int, sigma: float, omega: float, a: torch.Tensor,
             teacher: torch.Tensor, gen: torch.Generator, dtype=torch.float64) -> AttentionTask:
        dev = gen.device  # drawn where the generator lives (a CUDA generator: on the GPU)
        z = sigma * torch.randn(n, 2, d, generator=gen, dtype=dtype, device=dev)
        pos = torch.ones(d, dtype=dtype, device=dev) / d**0.5
        x = z + torch.stack([pos, -pos])
        h = z @ teacher.to(dev) / d**0.5  # (n, 2)
        t = (1 - omega) * torch.softmax(h[:, :, None] * h[:, None, :], dim=-1) + omega * a.to(dev)
        return cls(x, z, t @ z, teacher.to(dev))


def attention_output(q: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """softmax(hhᵀ) x with h = x q/√d (rows of the softmax over the key token)."""
    h = x @ q / x.shape[-1] ** 0.5
    return torch.softmax(h[:, :, None] * h[:, None, :], dim=-1) @ x


def risk(q: torch.Tensor, task: AttentionTask | ReducedTask, lam: float) -> torch.Tensor:
    """Σ_μ ‖ŷ − y‖²/(2d) + (λ/2)‖q‖² (through :class:`ReducedTask` when given one)."""
    if isinstance(task, ReducedTask):
        return reduced_losses(q, task).sum() + 0.5 * lam * (q @ q)
    d = task.x.shape[-1]
    return ((attention_output(q, task.x) - task.y) ** 2).sum() / (2 * d) + 0.5 * lam * (q @ q)


@dataclass(frozen=True)
class ReducedTask:
    """Per-sequence scalars that make the L = 2 loss cost two matrix–vector products.

    With Δ = x₁ − x₂ and S₁₁ = s(h₁² − h₁h₂), S₂₂ = s(h₂² − h₁h₂): ŷ₁ − y₁ = (x₂ − y₁) + S₁₁Δ
    and ŷ₂ − y₂ = (x₁ − y₂) − S₂₂Δ, so ‖ŷ − y‖² = c + 2S₁₁b₁ − 2S₂₂b₂ + (S₁₁² + S₂₂²)δ with
    c = ‖x₂ − y₁‖² + ‖x₁ − y₂‖², b₁ = (x₂ − y₁)·Δ, b₂ = (x₁ − y₂)·Δ, δ = ‖Δ‖²."""

    x1: torch.Tensor
    x2: torch.Tensor
    c: torch.Tensor
    b1: torch.Tensor
    b2: torch.Tensor
    delta: torch.Tensor

    @classmethod
    def of(cls, task: AttentionTask) -> ReducedTask:
        x1, x2 = task.x[:, 0], task.x[:, 1]
        r1, r2, dx = x2 - task.y[:, 0], x1 - task.y[:, 1], x1 - x2
        return cls(x1, x2, (r1 * r1).sum(-1) + (r2 * r2).sum(-1), (r1 * dx).sum(-1),
                   (r2 * dx).sum(-1), (dx * dx).sum(-1))

    def to(self, device) -> ReducedTask:
        """The same scalars on ``device``."""
        return ReducedTask(*(t.to(device) for t in (self.x1, self.x2, self.c, self.b1, self.b2,
                                                     self.delta)))

    def head(self, n: int) -> ReducedTask:
        """The first ``n`` sequences."""
        return ReducedTask(*(t[:n] for t in (self.x1, self.x2, self.c, self.b1, self.b2,
                                              self.delta)))


def reduced_losses(q: torch.Tensor, task: ReducedTask) -> torch.Tensor:
    """‖ŷ_μ − y_μ‖²/(2d) per sequence, from the :class:`ReducedTask` scalars."""
    d = task.x1.shape[-1]
    h1, h2 = task.x1 @ q / d**0.5, task.x2 @ q / d**0.5
    s11, s22 = torch.sigmoid(h1 * (h1 - h2)), torch.sigmoid(h2 * (h2 - h1))
    return (task.c + 2 * s11 * task.b1 - 2 * s22 * task.b2
            + (s11 * s11 + s22 * s22) * task.delta) / (2 * d)


def train_lbfgs(q0: torch.Tensor, task: AttentionTask | ReducedTask, lam: float,
                max_iter: int = 2000, tol: float = 1e-8) -> tuple[torch.Tensor, int]:
    """Minimise :func:`risk` from ``q0`` by full-batch L-BFGS (strong-Wolfe line search);
    returns the minimiser and the number of iterations."""
    q = q0.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([q], lr=1.0, max_iter=max_iter, tolerance_grad=tol,
                            tolerance_change=1e-14, history_size=20,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = risk(q, task, lam)
        loss.backward()
        return loss

    opt.step(closure)
    return q.detach(), int(opt.state[opt._params[0]]["n_iter"])


def expected_pair_cost(d: int, sigma: float, omega: float, a11: float,
                       nodes: int = 48) -> float:
    """E[c]/d of the :class:`ReducedTask` scalar c = ‖x₂ − y₁‖² + ‖x₁ − y₂‖², exactly (a
    property of the data distribution, not of any learning theory).

    With T rows summing to one, x₂ − y₁ = p₂ + T₁₁Δz and x₁ − y₂ = p₁ − T₂₂Δz (Δz = z₂ − z₁).
    Splitting z_ℓ = h*_ℓ e + z_ℓ^⊥ along the teacher's unit direction e = Q*/√d (‖Q*‖² = d):
    ‖Δz‖² = (h*₂ − h*₁)² + ‖Δz^⊥‖² with E‖Δz^⊥‖² = 2σ²(d − 1) independent of T, and the
    cross term −2(T₁₁ + T₂₂)p₁·Δz has mean zero (T₁₁ + T₂₂ is even and h*₂ − h*₁ odd under the
    token swap when A₁₁ = A₂₂; p₁·Δz^⊥ is independent of T). Hence
    E[c]/d = 2/d + E[(T₁₁² + T₂₂²)((h*₂ − h*₁)² + 2σ²(d − 1))]/d over h*_ℓ ~ N(0, σ²) i.i.d.,
    a 2-D Gauss–Hermite integral of a smooth integrand (``nodes`` per axis). Whatever the
    teacher (given its norm), so it is each draw's exact mean."""
    from theorylab.theory.gaussian import gauss_hermite

    z, w = gauss_hermite(nodes)
    h1, h2 = np.meshgrid(sigma * z, sigma * z, indexing="ij")
    t11 = (1 - omega) / (1 + np.exp(-(h1 * h1 - h1 * h2))) + omega * a11
    t22 = (1 - omega) / (1 + np.exp(-(h2 * h2 - h1 * h2))) + omega * a11
    inner = (t11**2 + t22**2) * ((h2 - h1) ** 2 + 2 * sigma**2 * (d - 1))
    return float(2.0 / d + np.outer(w, w).ravel() @ inner.ravel() / d)


def fit_linear_baseline(task: AttentionTask, ridge: float = 1e-4) -> torch.Tensor:
    """B ∈ R^{2×2} minimising Σ_μ ‖B z_μ − y_μ‖²_F + ridge‖B‖² (least squares on the content)."""
    zz = torch.einsum("nld,nkd->lk", task.z, task.z)
    yz = torch.einsum("nld,nkd->lk", task.y, task.z)
    return torch.linalg.solve(zz + ridge * torch.eye(2, dtype=zz.dtype), yz.T).T


def fit_branches(d: int, sigma: float, omega: float, a11: float, lam: float,
                 alphas: tuple[float, ...], which: tuple[str, ...], n_test: int,
                 gen: torch.Generator, test_gen: torch.Generator, device="cpu") -> dict:
    """One draw of the teacher (‖Q*‖² = d, so ρ = σ² exactly) and of ⌈max α·d⌉ training
    sequences; at each α the layer is trained on the first αd of them (common random numbers
    across α) by :func:`train_lbfgs` from the inits ``which``: positional (0.25·1 + 0.05 N(0, I))
    and semantic (the teacher). Returns (branch, α) arrays of q = σ²‖Q̂‖²/d, m = |1ᵀQ̂|/d,
    θ = σ²|Q̂·Q*|/d, the training loss R(Q̂)/d and the test error on ``n_test`` fresh sequences
    (drawn from ``test_gen`` in chunks), and ``eg_linear``, the test error of the least-squares
    linear baseline fitted on the largest training set, and ``pair_cost_dev`` per α: the
    training set's mean of c/d (:class:`ReducedTask`) minus its exact expectation
    (:func:`expected_pair_cost`), a control variate of mean zero. Data are drawn on the CPU
    (a seed gives the same draw on every device), then trained and scored on ``device``."""
    from theorylab.models.device import as_device

    dev, dt = as_device(device), torch.float64
    a = torch.tensor([[a11, 1 - a11], [1 - a11, a11]], dtype=dt)
    teacher = torch.randn(d, generator=gen, dtype=dt)
    teacher *= d**0.5 / teacher.norm()
    train = AttentionTask.draw(max(1, round(max(alphas) * d)), d, sigma, omega, a, teacher,
                               gen, dt)
    reduced = ReducedTask.of(train).to(dev)
    inits = {"positional": 0.25 * torch.ones(d, dtype=dt)
             + 0.05 * torch.randn(d, generator=gen, dtype=dt), "semantic": teacher.clone()}
    inits = {b: q.to(dev) for b, q in inits.items()}
    out = {k: np.empty((len(which), len(alphas))) for k in ("q", "m", "theta", "eg", "et")}
    fitted = {}
    for j, al in enumerate(alphas):
        task = reduced.head(max(1, round(al * d)))
        for i, b in enumerate(which):
            q, _ = train_lbfgs(inits[b], task, lam)
            fitted[i, j] = q
            out["q"][i, j] = sigma**2 * float(q @ q) / d
            out["m"][i, j] = abs(float(q.sum())) / d
            out["theta"][i, j] = sigma**2 * abs(float(q.cpu() @ teacher)) / d
            out["et"][i, j] = float(risk(q, task, lam)) / d
    bmat = fit_linear_baseline(train).to(dev)
    err = dict.fromkeys(fitted, 0.0)
    lin, left = 0.0, n_test
    while left > 0:
        chunk = min(left, 2000)
        left -= chunk
        test = AttentionTask.draw(chunk, d, sigma, omega, a, teacher, test_gen, dt)
        test_reduced = ReducedTask.of(test).to(dev)
        for key, q in fitted.items():
            err[key] += float(reduced_losses(q, test_reduced).sum())
        z, y = test.z.to(dev), test.y.to(dev)
        lin += float(((torch.einsum("lk,nkd->nld", bmat, z) - y) ** 2).sum())
    for (i, j), e in err.items():
        out["eg"][i, j] = e / n_test
    pair_cost = expected_pair_cost(d, sigma, omega, a11)
    dev = [float(reduced.head(max(1, round(al * d))).c.mean()) / d - pair_cost for al in alphas]
    return {**out, "eg_linear": lin / (2 * d * n_test), "pair_cost_dev": np.array(dev)}
