"""Tied rank-one dot-product attention on two-token sequences (arXiv 2402.03902), in torch.

Tokens x_ℓ = p_ℓ + z_ℓ with positions p_{1,2} = ±1_d/√d and content z_ℓ ~ N(0, σ²I_d). The
teacher mixes a content softmax attention with a fixed positional matrix A:
y = [(1 − ω) softmax(h*h*ᵀ) + ωA] z, h*_ℓ = z_ℓ·Q*/√d. The student is
ŷ = softmax(hhᵀ) x with h_ℓ = x_ℓ·Q/√d and one trainable Q ∈ R^d (query = key, rank one).
The empirical risk is Σ_μ ‖ŷ_μ − y_μ‖²_F/(2d) + (λ/2)‖Q‖².
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = [
    "AttentionTask",
    "ReducedTask",
    "attention_output",
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
        z = sigma * torch.randn(n, 2, d, generator=gen, dtype=dtype)
        pos = torch.ones(d, dtype=dtype) / d**0.5
        x = z + torch.stack([pos, -pos])
        h = z @ teacher / d**0.5  # (n, 2)
        t = (1 - omega) * torch.softmax(h[:, :, None] * h[:, None, :], dim=-1) + omega * a
        return cls(x, z, t @ z, teacher)


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


def fit_linear_baseline(task: AttentionTask, ridge: float = 1e-4) -> torch.Tensor:
    """B ∈ R^{2×2} minimising Σ_μ ‖B z_μ − y_μ‖²_F + ridge‖B‖² (least squares on the content)."""
    zz = torch.einsum("nld,nkd->lk", task.z, task.z)
    yz = torch.einsum("nld,nkd->lk", task.y, task.z)
    return torch.linalg.solve(zz + ridge * torch.eye(2, dtype=zz.dtype), yz.T).T
