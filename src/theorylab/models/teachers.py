"""Teacher functions of known (bottleneck) rank and their Gaussian training sets.

The bottleneck teacher of the ``nonlinear_rank`` note (arXiv 2209.15055, "Experiment to run"):

    f*(x) = B relu(C P x),   P ∈ R^{k×d} with orthonormal rows,  C ∈ R^{h×k} ~ N(0, 1),
                              B ∈ R^{d_out×h} ~ N(0, 1/h),

factors through the k-dimensional latent P x, so its bottleneck rank is ≤ k (and its Jacobian
rank is k at generic points). With ``signed=True`` every latent direction is used with both
signs (half of the rows of C positive, half negative in each column), so the teacher depends on
both relu(u·x) and relu(−u·x): a bias-free ReLU network needs two units per latent dimension to
carry it (the "signed k = 1 teacher that costs 2 units" of the note).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["BottleneckTeacher", "bottleneck_teacher", "gaussian_inputs", "teacher_dataset"]


@dataclass(frozen=True)
class BottleneckTeacher:
    """``f*(x) = B relu(C P x)`` (callable on ``(..., d)`` inputs, returns ``(..., d_out)``)."""

    projection: torch.Tensor  # P, (k, d), orthonormal rows
    inner: torch.Tensor  # C, (hidden, k)
    outer: torch.Tensor  # B, (d_out, hidden)

    @property
    def rank(self) -> int:
        """Inner (bottleneck) dimension k."""
        return self.projection.shape[0]

    def latent(self, x: torch.Tensor) -> torch.Tensor:
        """The k-dimensional latent ``P x``."""
        return x @ self.projection.T

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.latent(x) @ self.inner.T) @ self.outer.T


def bottleneck_teacher(
    d: int,
    k: int,
    hidden: int,
    generator: torch.Generator,
    *,
    signed: bool = False,
    d_out: int | None = None,
    dtype: torch.dtype = torch.float64,
) -> BottleneckTeacher:
    """Draw the bottleneck teacher ``f*(x) = B relu(C P x)`` (see the module docstring).

    Parameters
    ----------
    d
        Input dimension.
    k
        Inner dimension (1 ≤ k ≤ d).
    hidden
        Width h of the teacher's hidden layer.
    generator
        CPU generator.
    signed
        Force both signs in every column of C (rows ``0 … ⌈h/2⌉−1`` positive, the rest
        negative; needs h ≥ 2); otherwise C ~ N(0, 1) as drawn.
    d_out
        Output dimension (default: ``d``).
    dtype
        Of the teacher's matrices.
    """
    if not 1 <= k <= d:
        raise ValueError(f"k must be in [1, d={d}], got {k}")
    if hidden < (2 if signed else 1):
        raise ValueError(f"hidden must be >= {2 if signed else 1}, got {hidden}")
    d_out = d if d_out is None else d_out
    gauss = torch.randn(d, k, generator=generator, dtype=torch.float64)
    q, r = torch.linalg.qr(gauss)
    q = q * torch.sign(torch.diagonal(r))  # Haar-distributed orthonormal columns
    c = torch.randn(hidden, k, generator=generator, dtype=torch.float64)
    if signed:
        half = (hidden + 1) // 2
        c = torch.cat([c[:half].abs(), -c[half:].abs()])
    b = torch.randn(d_out, hidden, generator=generator, dtype=torch.float64) / hidden**0.5
    return BottleneckTeacher(q.T.contiguous().to(dtype), c.to(dtype), b.to(dtype))


def gaussian_inputs(
    n: int, d: int, generator: torch.Generator, *, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """``n`` standard Gaussian inputs in R^d, shape ``(n, d)``."""
    return torch.randn(n, d, generator=generator, dtype=dtype)


def teacher_dataset(
    teacher: BottleneckTeacher,
    n: int,
    generator: torch.Generator,
    *,
    dtype: torch.dtype = torch.float64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Noiseless training set ``(X, f*(X))`` with ``X`` of ``n`` Gaussian points."""
    x = gaussian_inputs(n, teacher.projection.shape[1], generator, dtype=dtype)
    return x, teacher(x.to(teacher.projection.dtype)).to(dtype)
