"""What an attention map depends on: token identity or position (arXiv 2402.03902, Fig. 1).

For attention matrices A (n, L, L) (rows: queries) over token sequences x (n, L), on the
off-diagonal entries A_ij, i ≠ j (a query's weight on itself carries its own token whatever
the mechanism, so it is left out):

- :func:`positional_share`: the share of the variance of the entries explained by the
  position pair (i, j), 1 − E_ij Var_x(A_ij) / Var(A): 1 when the map is the same for every
  sequence (a positional mechanism), near 0 when it is set by the tokens;
- :func:`token_share`: the share explained by token equality 1[x_i = x_j] (the between-group
  variance of the two groups over the total): 1 for a matcher that attends exactly to the
  keys holding the query's token with a weight that depends on nothing else, 0 when the
  weights do not depend on whether the tokens match (a positional mechanism).
"""

from __future__ import annotations

import torch

__all__ = ["offdiagonal", "positional_share", "token_share"]


def offdiagonal(a: torch.Tensor) -> torch.Tensor:
    """The entries i ≠ j of (n, L, L) matrices, as (n, L(L − 1))."""
    n, length, _ = a.shape
    keep = ~torch.eye(length, dtype=torch.bool, device=a.device)
    return a[:, keep].reshape(n, length * (length - 1))


def positional_share(attn: torch.Tensor) -> float:
    """Share of the variance of the off-diagonal attention entries explained by (i, j)."""
    a = offdiagonal(attn.to(torch.float64))
    total = a.var(unbiased=False)
    return float(1.0 - a.var(dim=0, unbiased=False).mean() / total) if total > 0 else 1.0


def token_share(attn: torch.Tensor, x: torch.Tensor) -> float:
    """Share of the variance of the off-diagonal attention entries explained by 1[x_i = x_j]."""
    a = offdiagonal(attn.to(torch.float64)).flatten()
    same = offdiagonal((x[:, :, None] == x[:, None, :]).to(torch.float64)).flatten() > 0
    total = a.var(unbiased=False)
    if total == 0 or same.all() or not same.any():
        return 0.0
    mean = a.mean()
    between = (same.double().mean() * (a[same].mean() - mean) ** 2
               + (~same).double().mean() * (a[~same].mean() - mean) ** 2)
    return float(between / total)
