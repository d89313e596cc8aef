"""Singular values, numerical and stable ranks, pseudo-determinants.

Every function accepts torch tensors (any device, detached here) or numpy arrays and returns
numpy arrays or python numbers. Matrices may carry leading batch dimensions ``(..., m, n)``;
the result then carries the same leading dimensions. Computations run in float64.

Conventions (arXiv 2209.15055, 2305.19008):

- singular values s_1 ≥ s_2 ≥ … ≥ s_{min(m,n)} ≥ 0;
- numerical rank: #{i : s_i > max(rtol·s_1, atol)} — a *relative* threshold, stated with the
  number (the papers use rtol = 1e-2 for Jacobians and representations, 0.1 for weights);
- stable rank ‖A‖_F² / ‖A‖_2² = Σ s_i² / s_1² (threshold-free, ≤ rank A);
- pseudo-determinant |A|_+ = Π_{i ≤ rank A} s_i and its truncation |A|_{+,k} = Π_{i≤k} s_i.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "RankReport",
    "bulk_below_outliers",
    "describe_threshold",
    "log_pdet",
    "numerical_rank",
    "rank_report",
    "singular_values",
    "stable_rank",
    "to_numpy",
]


def to_numpy(a: torch.Tensor | np.ndarray | float) -> np.ndarray:
    """A float64 numpy copy/view of a tensor (detached, moved to the CPU) or array-like."""
    if isinstance(a, torch.Tensor):
        a = a.detach()
        if a.is_complex():
            raise TypeError("complex tensors are not supported")
        return a.to(device="cpu", dtype=torch.float64).numpy()
    arr = np.asarray(a)
    if np.iscomplexobj(arr):
        raise TypeError("complex arrays are not supported")
    return arr.astype(np.float64, copy=False)


def _as_matrix(a) -> np.ndarray:
    arr = to_numpy(a)
    if arr.ndim < 2:
        raise ValueError(f"expected a matrix of shape (..., m, n), got shape {arr.shape}")
    return arr


def _as_spectrum(a_or_s, from_singular_values: bool) -> np.ndarray:
    """Singular values along the last axis: 1-D input or ``from_singular_values`` → as given."""
    arr = to_numpy(a_or_s)
    if arr.ndim == 1 or from_singular_values:
        if arr.ndim == 0:
            raise ValueError("expected singular values along the last axis, got a scalar")
        if np.any(arr < 0):
            raise ValueError("singular values must be >= 0")
        return -np.sort(-arr, axis=-1)
    return singular_values(arr)


def _scalar(x: np.ndarray):
    """Python number for a 0-d result, else the array."""
    if np.ndim(x) == 0:
        return x.item()
    return x


def singular_values(a) -> np.ndarray:
    """Singular values of a matrix or a batch of matrices, in descending order.

    Parameters
    ----------
    a
        Array or tensor of shape ``(..., m, n)``.

    Returns
    -------
    np.ndarray
        Shape ``(..., min(m, n))``, float64, descending along the last axis.
    """
    arr = _as_matrix(a)
    if 0 in arr.shape[-2:]:
        return np.zeros((*arr.shape[:-2], 0))
    return np.linalg.svd(arr, compute_uv=False)


def _cutoff(s: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    top = s[..., :1] if s.shape[-1] else np.zeros((*s.shape[:-1], 1))
    return np.maximum(rtol * top, atol)


def _check_tol(rtol: float, atol: float) -> None:
    if not (np.isfinite(rtol) and 0.0 <= rtol <= 1.0):
        raise ValueError(f"rtol must be in [0, 1], got {rtol}")
    if not (np.isfinite(atol) and atol >= 0.0):
        raise ValueError(f"atol must be >= 0, got {atol}")


def numerical_rank(
    a_or_s, rtol: float, *, atol: float = 0.0, from_singular_values: bool = False
) -> int | np.ndarray:
    """Number of singular values s_i > max(rtol·s_1, atol).

    Parameters
    ----------
    a_or_s
        A matrix ``(..., m, n)``, or singular values: a 1-D array is always read as singular
        values; for a batch of spectra ``(..., k)`` pass ``from_singular_values=True``.
    rtol
        Relative threshold in [0, 1] (1e-2 for Jacobians/representations, 0.1 for weights in
        arXiv 2209.15055). ``rtol = 0`` with ``atol = 0`` counts the non-zero values.
    atol
        Absolute floor (≥ 0).
    from_singular_values
        Read the last axis of ``a_or_s`` as singular values.

    Returns
    -------
    int or np.ndarray
        The rank (an ``int``), or an integer array over the leading dimensions. The zero matrix
        has rank 0.
    """
    _check_tol(rtol, atol)
    s = _as_spectrum(a_or_s, from_singular_values)
    rank = np.sum(s > _cutoff(s, rtol, atol), axis=-1)
    return _scalar(rank)


def stable_rank(a, *, from_singular_values: bool = False) -> float | np.ndarray:
    """Stable rank ‖A‖_F² / ‖A‖_2² = Σ_i s_i² / s_1².

    It lies in [1, rank A] for A ≠ 0 (= n for I_n, = 1 for rank one) and needs no threshold;
    the zero matrix gets 0 (its rank).

    Parameters
    ----------
    a
        Matrix ``(..., m, n)``, or singular values (1-D, or batched with
        ``from_singular_values=True``).

    Returns
    -------
    float or np.ndarray
        Over the leading dimensions.
    """
    s = _as_spectrum(a, from_singular_values)
    if s.shape[-1] == 0:
        return _scalar(np.zeros(s.shape[:-1]))
    s2 = s**2
    top = s2[..., 0]
    total = s2.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(top > 0, total / np.where(top > 0, top, 1.0), 0.0)
    return _scalar(out)


def log_pdet(
    s, k: int | None = None, *, rtol: float | None = None, atol: float = 0.0
) -> float | np.ndarray:
    """Log pseudo-determinant log|A|_{+,k} = Σ_{i≤k} log s_i.

    With ``k = None`` the number of factors is the numerical rank at ``rtol`` (per matrix in a
    batch), i.e. log|A|_+ of arXiv 2305.19008; with ``rtol`` also None the threshold is
    s_1·len(s)·ε, the non-zero singular values up to round-off (numpy's ``matrix_rank`` uses
    s_1·max(m, n)·ε; only the spectrum, of length min(m, n), is known here).

    Parameters
    ----------
    s
        Singular values along the last axis (``(..., r)``), e.g. from :func:`singular_values`.
        A 2-D input is a batch of spectra, not a matrix.
    k
        Number of leading singular values (0 ≤ k ≤ r); excludes ``rtol``/``atol``.
    rtol, atol
        Threshold for the rank when ``k`` is None (see :func:`numerical_rank`).

    Returns
    -------
    float or np.ndarray
        Over the leading dimensions; 0 for k = 0 (empty product), −inf if a counted s_i is 0.
    """
    sv = _as_spectrum(s, from_singular_values=True)
    r = sv.shape[-1]
    with np.errstate(divide="ignore"):
        logs = np.log(sv)
    if k is not None:
        if rtol is not None or atol:
            raise ValueError("give either k or rtol/atol, not both")
        k = int(k)
        if not 0 <= k <= r:
            raise ValueError(f"k must be in [0, {r}], got {k}")
        return _scalar(logs[..., :k].sum(axis=-1))
    if rtol is None:
        rtol = r * np.finfo(np.float64).eps
    _check_tol(rtol, atol)
    keep = sv > _cutoff(sv, rtol, atol)
    return _scalar(np.where(keep, logs, 0.0).sum(axis=-1))


def _fmt(x: float) -> str:
    """1e-2 rather than 0.01; 0.1, 2.5e-3, 1e-8."""
    if x == 0 or x >= 0.1:
        return f"{x:g}"
    mant, exp = f"{x:.6e}".split("e")
    mant = mant.rstrip("0").rstrip(".")
    return f"{mant}e{int(exp)}"


def describe_threshold(rtol: float, atol: float = 0.0) -> str:
    """The rank threshold in words, e.g. ``"s_i > 1e-2·s_1"``."""
    rel = f"{_fmt(rtol)}·s_1"
    if atol > 0:
        return f"s_i > max({rel}, {_fmt(atol)})"
    return f"s_i > {rel}"


@dataclass(frozen=True, eq=False)
class RankReport:
    """A numerical rank with the threshold that produced it and the stable rank beside it.

    Attributes
    ----------
    singular_values
        Descending, shape ``(..., min(m, n))``.
    rank
        Numerical rank (int, or an integer array over the leading dimensions).
    threshold
        The rule in words, e.g. ``"s_i > 1e-2·s_1"``.
    stable_rank
        ‖A‖_F²/‖A‖_2² (float or array).
    rtol, atol
        The threshold's numbers.
    """

    singular_values: np.ndarray
    rank: int | np.ndarray
    threshold: str
    stable_rank: float | np.ndarray
    rtol: float
    atol: float = 0.0

    def __str__(self) -> str:
        sr = np.round(np.asarray(self.stable_rank), 3)
        sr_text = f"{float(sr):.3f}" if sr.ndim == 0 else str(sr.tolist())
        rank = np.asarray(self.rank)
        rank_text = str(int(rank)) if rank.ndim == 0 else str(rank.tolist())
        return f"rank {rank_text} ({self.threshold}), stable rank {sr_text}"

    def as_dict(self) -> dict:
        """JSON-friendly dictionary (lists instead of arrays)."""
        return {
            "singular_values": np.asarray(self.singular_values).tolist(),
            "rank": np.asarray(self.rank).tolist(),
            "threshold": self.threshold,
            "stable_rank": np.asarray(self.stable_rank).tolist(),
            "rtol": self.rtol,
            "atol": self.atol,
        }


def rank_report(
    a, rtol: float, *, atol: float = 0.0, from_singular_values: bool = False
) -> RankReport:
    """Singular values, numerical rank (with its threshold in words) and stable rank.

    Parameters
    ----------
    a
        Matrix ``(..., m, n)`` or singular values (1-D, or batched with
        ``from_singular_values=True``).
    rtol, atol
        Threshold s_i > max(rtol·s_1, atol).

    Returns
    -------
    RankReport
    """
    _check_tol(rtol, atol)
    s = _as_spectrum(a, from_singular_values)
    s.setflags(write=False)
    return RankReport(
        singular_values=s,
        rank=numerical_rank(s, rtol, atol=atol, from_singular_values=True),
        threshold=describe_threshold(rtol, atol),
        stable_rank=stable_rank(s, from_singular_values=True),
        rtol=float(rtol),
        atol=float(atol),
    )


def bulk_below_outliers(eigenvalues, most: int, gap: float) -> np.ndarray:
    """The ascending eigenvalues without their outliers: the top j ≤ ``most`` are left out for
    the largest j whose j-th largest exceeds ``gap`` times the next (none without such a gap)."""
    ev = np.sort(to_numpy(eigenvalues).ravel())
    if most < 0 or gap <= 1:
        raise ValueError("bulk_below_outliers needs most ≥ 0 and gap > 1")
    gaps = [j for j in range(1, min(most, ev.size - 1) + 1) if ev[-j] > gap * ev[-j - 1]]
    return ev[: -max(gaps)] if gaps else ev
