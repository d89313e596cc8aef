"""Teacher functions of known (bottleneck) rank, their training sets, and linear tasks.

The bottleneck teacher of arXiv 2209.15055 / 2305.19008 (quick protocol):

    f*(x) = B relu(C P x),   P ∈ R^{k×d} with orthonormal rows,  C ∈ R^{h×k} ~ N(0, 1),
                              B ∈ R^{d_out×h} ~ N(0, 1/h),

factors through the k-dimensional latent z = P x, so its bottleneck rank is ≤ k (and its
Jacobian rank is k at generic points). With ``signed=True`` every latent direction is used with
both signs (half of the rows of C positive, half negative in each column).

Two ways to draw it:

* :func:`draw_teacher` (numpy, torch-free): the teacher as a *parameter of the theory*. The
  experiments' ``theory()`` draws it from a ``teacher_seed`` and predicts what depends on it —
  :func:`nonnegative_width`, the number of non-negative units a bias-free ReLU network needs to
  carry the latent through its middle layers; ``simulate`` draws the same matrices and converts
  them with :meth:`TeacherMatrices.torch`.
* :func:`bottleneck_teacher` (a torch generator), for models drawn inside a simulation.

This module imports torch only inside the functions that need it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import linprog

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "WIDTH_NOT_FORCED",
    "BottleneckTeacher",
    "TeacherMatrices",
    "bottleneck_teacher",
    "draw_teacher",
    "gaussian_inputs",
    "nonnegative_width",
    "positively_spans",
    "teacher_dataset",
    "whitened_linear_task",
    "width_is_forced",
]


# --------------------------------------------------------------------------------------------
# The teacher as numpy matrices (theory side)
# --------------------------------------------------------------------------------------------


def _haar_rows(rng: np.random.Generator, k: int, d: int) -> np.ndarray:
    """k orthonormal rows in R^d (Haar: QR of a Gaussian matrix with the sign fix)."""
    q, r = np.linalg.qr(rng.standard_normal((d, k)))
    return (q * np.sign(np.diag(r))).T.copy()


@dataclass(frozen=True)
class TeacherMatrices:
    """``f*(x) = B relu(C P x)`` as float64 numpy matrices (see the module docstring).

    Attributes
    ----------
    projection
        P, shape (k, d), orthonormal rows.
    inner
        C, shape (h, k): row c_j is the latent direction of teacher unit j.
    outer
        B, shape (d_out, h).
    """

    projection: np.ndarray
    inner: np.ndarray
    outer: np.ndarray

    @property
    def rank(self) -> int:
        """Inner (bottleneck) dimension k."""
        return int(self.projection.shape[0])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """f*(x) for inputs of shape (..., d)."""
        return np.maximum(x @ self.projection.T @ self.inner.T, 0.0) @ self.outer.T

    def torch(self, dtype=None) -> BottleneckTeacher:
        """The same teacher as a :class:`BottleneckTeacher` (torch tensors, default float64)."""
        import torch

        dtype = torch.float64 if dtype is None else dtype
        return BottleneckTeacher(
            *(torch.as_tensor(a, dtype=dtype) for a in (self.projection, self.inner, self.outer))
        )


def draw_teacher(
    rng: np.random.Generator,
    d: int,
    k: int,
    hidden: int,
    *,
    signed: bool = False,
    d_out: int | None = None,
) -> TeacherMatrices:
    """Draw ``f*(x) = B relu(C P x)`` with numpy (draw order: P, C, B).

    Parameters
    ----------
    rng
        numpy generator (e.g. ``np.random.default_rng((teacher_seed, k))``).
    d, k, hidden
        Input dimension, inner dimension 1 ≤ k ≤ d, teacher width h.
    signed
        Force both signs in every column of C (rows ``0 … ⌈h/2⌉−1`` positive, the rest
        negative; needs h ≥ 2).
    d_out
        Output dimension (default ``d``).
    """
    if not 1 <= k <= d:
        raise ValueError(f"k must be in [1, d={d}], got {k}")
    if hidden < (2 if signed else 1):
        raise ValueError(f"hidden must be >= {2 if signed else 1}, got {hidden}")
    d_out = d if d_out is None else d_out
    p = _haar_rows(rng, k, d)
    c = rng.standard_normal((hidden, k))
    if signed:
        half = (hidden + 1) // 2
        c = np.concatenate([np.abs(c[:half]), -np.abs(c[half:])])
    b = rng.standard_normal((d_out, hidden)) / math.sqrt(hidden)
    return TeacherMatrices(p, c, b)


def positively_spans(vectors: np.ndarray) -> bool:
    """Whether the rows v_j of ``vectors`` (h, k) positively span R^k.

    They do iff no z ≠ 0 has v_j·z ≤ 0 for every j (Gordan's alternative), i.e. iff they lie
    in no closed half-space. For rows spanning R^k this is the infeasibility of the linear
    program {V z ≤ 0, Σ_j v_j·z ≤ −1}.
    """
    v = np.asarray(vectors, dtype=float)
    if v.ndim != 2 or v.shape[0] == 0:
        raise ValueError(f"vectors must have shape (h, k) with h >= 1, got {v.shape}")
    if np.linalg.matrix_rank(v) < v.shape[1]:
        return False  # they do not even span R^k
    a_ub = np.vstack([v, v.sum(axis=0, keepdims=True)])
    b_ub = np.concatenate([np.zeros(v.shape[0]), [-1.0]])
    res = linprog(np.zeros(v.shape[1]), A_ub=a_ub, b_ub=b_ub, bounds=[(None, None)] * v.shape[1])
    if res.status not in (0, 2):
        raise RuntimeError(f"linprog failed: {res.message}")
    return res.status == 2  # infeasible: no half-space contains them


def nonnegative_width(teacher: TeacherMatrices) -> int:
    """Number of units a bias-free ReLU network needs to carry the teacher's latent through its
    middle layers: k* = k + 1 if the directions c_j positively span R^k, else k (k ≤ 2).

    The middle layers of a deep minimiser act as identities on a non-negative representation
    (arXiv 2209.15055, construction of the upper bound): the latent must be encoded by a
    positively homogeneous map g into a pointed cone of dimension m, and f* = h∘g.

    * m = k + 1 always suffices: relu(V z) with V the k + 1 vertices of a simplex centred at 0
      (a positive basis) is injective.
    * If the c_j positively span R^k, f*(z) ≠ 0 for z ≠ 0 and m = k is impossible: the map
      z ↦ direction of g(z) sends S^{k−1} into a (k−1)-dimensional compact convex set, so by
      Borsuk–Ulam g(z) = g(−c z) for some z and c > 0, which would force
      B(relu(Cz) − c relu(−Cz)) = 0 — excluded for generic B with d_out ≥ k + 1. So k + 1 at
      every depth.
    * If they lie in an open half-space and k = 1 (all c_j of one sign), g = relu(±z): one
      unit, exactly. For k = 2 (a sector narrower than 180°) m = 2 suffices as L → ∞ (g maps
      the polar cone to 0, the one-unit sectors to the edges of the quadrant and the rest of
      the circle injectively into its interior), but that encoding squeezes an arc of
      180° + sector into less than 180°: at finite depth the network may still prefer k + 1
      units (the low-dimension vs regularity trade-off of arXiv 2305.19008; measured: a 160°
      sector keeps 3 units at L = 12). The returned k is then the L → ∞ value only; see
      :func:`width_is_forced`.

    For k ≥ 3 the half-space case is not derived here: ``ValueError``.
    """
    k = teacher.rank
    if positively_spans(teacher.inner):
        return k + 1
    if k > 2:
        raise ValueError("the bias-free width of a non-spanning teacher is derived for k <= 2")
    return k


#: validation message of the experiments that refuse a teacher whose width is not forced
WIDTH_NOT_FORCED = (
    "the k = 2 teacher drawn from (teacher_seed, d, teacher_hidden, k / teacher_ranks) must have "
    "directions c_j that positively span R²: otherwise its bias-free width at finite depth is "
    "set by the regularity trade-off of arXiv 2305.19008, which theory() does not predict"
)


def width_is_forced(teacher: TeacherMatrices) -> bool:
    """Whether :func:`nonnegative_width` holds at every depth, not only as L → ∞: the c_j
    positively span R^k (k + 1 units are necessary), or k = 1 (one unit of one sign, or two)."""
    return teacher.rank == 1 or positively_spans(teacher.inner)


# --------------------------------------------------------------------------------------------
# The teacher as torch tensors (simulation side)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BottleneckTeacher:
    """``f*(x) = B relu(C P x)`` (callable on ``(..., d)`` tensors, returns ``(..., d_out)``)."""

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
        import torch

        return torch.relu(self.latent(x) @ self.inner.T) @ self.outer.T


def bottleneck_teacher(
    d: int,
    k: int,
    hidden: int,
    generator: torch.Generator,
    *,
    signed: bool = False,
    d_out: int | None = None,
    dtype: torch.dtype | None = None,
) -> BottleneckTeacher:
    """Draw the bottleneck teacher ``f*(x) = B relu(C P x)`` from a torch generator.

    Parameters
    ----------
    d, k, hidden
        Input dimension, inner dimension (1 ≤ k ≤ d), teacher width h.
    generator
        CPU generator.
    signed
        Force both signs in every column of C (see :func:`draw_teacher`).
    d_out
        Output dimension (default: ``d``).
    dtype
        Of the teacher's matrices (default float64).
    """
    import torch

    if not 1 <= k <= d:
        raise ValueError(f"k must be in [1, d={d}], got {k}")
    if hidden < (2 if signed else 1):
        raise ValueError(f"hidden must be >= {2 if signed else 1}, got {hidden}")
    dtype = torch.float64 if dtype is None else dtype
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


def gaussian_inputs(n: int, d: int, generator: torch.Generator, *, dtype=None) -> torch.Tensor:
    """``n`` standard Gaussian inputs in R^d, shape ``(n, d)`` (default float64)."""
    import torch

    return torch.randn(n, d, generator=generator, dtype=dtype or torch.float64)


def teacher_dataset(
    teacher: BottleneckTeacher, n: int, generator: torch.Generator, *, dtype=None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Noiseless training set ``(X, f*(X))`` with ``X`` of ``n`` Gaussian points."""
    import torch

    dtype = dtype or torch.float64
    x = gaussian_inputs(n, teacher.projection.shape[1], generator, dtype=dtype)
    return x, teacher(x.to(teacher.projection.dtype)).to(dtype)


# --------------------------------------------------------------------------------------------
# Linear task with a known deep-linear minimiser
# --------------------------------------------------------------------------------------------


def whitened_linear_task(
    generator: torch.Generator, n: int, singular_values
) -> tuple[torch.Tensor, torch.Tensor]:
    """Whitened inputs X (XᵀX = n·I, shape (n, d)) and M = U diag(m) Vᵀ with det M > 0.

    With targets Y = X Mᵀ the regularised deep-linear loss of a product A is
    ‖A − M‖_F² + λ R(A; L) (+ const), separable in the singular values (von Neumann), so its
    global minimiser is known in closed form (arXiv 2209.15055, deep linear case). U and V are
    Haar rotations with det +1 (see :func:`theorylab.models.deep_linear.orthogonal_init` for
    why the sign of det matters).
    """
    import torch

    m = torch.as_tensor(np.asarray(singular_values, dtype=float), dtype=torch.float64)
    d = m.numel()
    if n < d:
        raise ValueError(f"n must be >= d = {d} to whiten, got {n}")
    q = torch.linalg.qr(torch.randn(n, d, generator=generator, dtype=torch.float64))[0]
    u = torch.linalg.qr(torch.randn(d, d, generator=generator, dtype=torch.float64))[0]
    v = torch.linalg.qr(torch.randn(d, d, generator=generator, dtype=torch.float64))[0]
    u[:, 0] *= torch.sign(torch.linalg.det(u))
    v[:, 0] *= torch.sign(torch.linalg.det(v))
    return q * math.sqrt(n), (u * m) @ v.T
