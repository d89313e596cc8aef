"""Input Jacobians of networks at data points: generic (autograd) and exact for ReLU MLPs.

Layout (``models/mlp.py``): a bias-free MLP is a list of weights ``weights[ℓ]`` of shape
``(n_{ℓ+1}, n_ℓ)`` (one network) or ``(..., n_{ℓ+1}, n_ℓ)`` (a batch of networks); data points
are rows, ``x`` of shape ``(N, n_0)`` (shared) or ``(..., N, n_0)``. Pre-activations are
Z_1 = x W_1ᵀ, Z_{ℓ+1} = σ(Z_ℓ) W_{ℓ+1}ᵀ, the output is Z_L.

For a bias-free ReLU network the Jacobian at x is exact and cheap from the activation masks
(arXiv 2209.15055, proof of the lower bound; 2305.19008 "Pitfalls"):

    Jf(x) = W_L D_{L−1}(x) ⋯ D_1(x) W_1,   D_ℓ(x) = diag(σ'(Z_ℓ(x))) ∈ {0, 1},

with σ'(0) = 0, which is torch's autograd convention for ``relu``. The Jacobians are returned
as torch tensors (on the weights' device, detached): feed them to
:func:`theorylab.measure.spectra.singular_values` for ranks and pseudo-determinants.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch

__all__ = [
    "activation_masks",
    "input_jacobians",
    "layer_jacobians",
    "layer_to_layer_jacobians",
    "ntk_gram",
    "relu_mlp_jacobians",
    "relu_mlp_ntk_gram",
    "relu_mlp_ntk_spectrum",
]


def _as_tensor(x, like: torch.Tensor | None = None) -> torch.Tensor:
    t = x.detach() if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    if like is not None:
        t = t.to(device=like.device, dtype=like.dtype)
    elif not t.is_floating_point():
        t = t.to(torch.float64)
    return t


def input_jacobians(
    fn: Callable[[torch.Tensor], torch.Tensor],
    x,
    *,
    chunk_size: int | None = None,
) -> torch.Tensor:
    """Jacobians ∂fn/∂x at N points, ``torch.func.vmap(torch.func.jacrev(fn))(x)``.

    Parameters
    ----------
    fn
        Function of ONE point, shape ``(n_in,)`` → ``(n_out,)`` (or any output shape), written
        with torch operations that ``torch.func`` can transform (no in-place updates of
        captured state, no ``.item()``). For a batched model wrap it, e.g.
        ``lambda v: single_forward(weights_one, v[None])[0]``.
    x
        Points as rows, shape ``(N, n_in)`` (tensor or array; an array becomes float64).
    chunk_size
        Passed to ``vmap`` to bound memory on many points.

    Returns
    -------
    torch.Tensor
        Shape ``(N, *out_shape, n_in)``, detached.
    """
    xt = _as_tensor(x)
    if xt.ndim != 2:
        raise ValueError(f"x must have shape (N, n_in), got {tuple(xt.shape)}")
    jac = torch.func.vmap(torch.func.jacrev(fn), chunk_size=chunk_size)(xt)
    return jac.detach()


def _check_weights(weights: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    ws = [_as_tensor(w) for w in weights]
    if not ws:
        raise ValueError("weights must hold at least one matrix")
    for i, w in enumerate(ws):
        if w.ndim < 2:
            raise ValueError(f"weights[{i}] must have shape (..., out, in), got {tuple(w.shape)}")
        if i and w.shape[-1] != ws[i - 1].shape[-2]:
            raise ValueError(
                f"weights[{i}] takes {w.shape[-1]} inputs but weights[{i - 1}] gives "
                f"{ws[i - 1].shape[-2]}"
            )
    return ws


def _forward_masks(
    ws: list[torch.Tensor], x: torch.Tensor, negative_slope: float
) -> list[torch.Tensor]:
    """σ'(Z_ℓ) for the hidden layers ℓ = 1 … L−1, each of shape (..., N, n_ℓ)."""
    if x.shape[-1] != ws[0].shape[-1]:
        raise ValueError(f"x has {x.shape[-1]} features but weights[0] takes {ws[0].shape[-1]}")
    masks = []
    h = x
    for w in ws[:-1]:
        z = h @ w.mT
        slope = torch.where(z > 0, torch.ones_like(z), torch.full_like(z, negative_slope))
        masks.append(slope)
        h = z * slope
    return masks


@torch.no_grad()
def activation_masks(weights: Sequence[torch.Tensor], x, *, negative_slope: float = 0.0):
    """The diagonals of D_ℓ(x) = σ'(Z_ℓ(x)) for the hidden layers of a bias-free (leaky) ReLU MLP.

    Parameters
    ----------
    weights
        ``weights[ℓ]`` of shape ``(..., n_{ℓ+1}, n_ℓ)``.
    x
        Points as rows, ``(N, n_0)`` or ``(..., N, n_0)``.
    negative_slope
        0 for ReLU (σ'(z) = 1 if z > 0 else 0), a for leaky ReLU (σ'(z) = a for z ≤ 0).

    Returns
    -------
    list[torch.Tensor]
        L − 1 tensors of shape ``(..., N, n_ℓ)`` with entries in {negative_slope, 1}.
    """
    ws = _check_weights(weights)
    return _forward_masks(ws, _as_tensor(x, like=ws[0]), negative_slope)


def _iter_layer_jacobians(
    weights: Sequence[torch.Tensor], x, negative_slope: float
) -> Iterator[torch.Tensor]:
    """J_1 = W_1, J_{ℓ+1} = W_{ℓ+1} D_ℓ J_ℓ, each expanded to (..., N, n_ℓ, n_0)."""
    ws = _check_weights(weights)
    xt = _as_tensor(x, like=ws[0])
    masks = _forward_masks(ws, xt, negative_slope)
    n_points = xt.shape[-2]
    batch = torch.broadcast_shapes(ws[0].shape[:-2], xt.shape[:-2])
    first = ws[0].unsqueeze(-3)  # (..., 1, n_1, n_0)
    jac = first.expand(*first.shape[:-3], n_points, *first.shape[-2:])
    yield jac.expand(*batch, *jac.shape[-3:]).clone()  # a copy, not a view of the weights
    for w, d in zip(ws[1:], masks, strict=True):
        jac = w.unsqueeze(-3) @ (d.unsqueeze(-1) * jac)
        yield jac.expand(*batch, *jac.shape[-3:])


@torch.no_grad()
def layer_jacobians(
    weights: Sequence[torch.Tensor], x, *, negative_slope: float = 0.0
) -> list[torch.Tensor]:
    """Exact Jacobians of the maps input → pre-activation Z_ℓ, ℓ = 1 … L, from the masks.

    J_1 = W_1 and J_{ℓ+1}(x) = W_{ℓ+1} D_ℓ(x) J_ℓ(x); the last one is the network's Jacobian.

    Parameters
    ----------
    weights
        ``weights[ℓ]`` of shape ``(n_{ℓ+1}, n_ℓ)``, or ``(..., n_{ℓ+1}, n_ℓ)`` for a batch.
    x
        Points as rows, ``(N, n_0)`` or ``(..., N, n_0)``.
    negative_slope
        0 for ReLU, a for leaky ReLU.

    Returns
    -------
    list[torch.Tensor]
        L tensors of shape ``(..., N, n_ℓ, n_0)`` (detached, the weights' dtype and device).
    """
    return list(_iter_layer_jacobians(weights, x, negative_slope))


@torch.no_grad()
def relu_mlp_jacobians(
    weights: Sequence[torch.Tensor], x, *, negative_slope: float = 0.0
) -> torch.Tensor:
    """Exact network Jacobians Jf(x) = W_L D_{L−1}(x) ⋯ D_1(x) W_1 at every point.

    Parameters
    ----------
    weights
        ``weights[ℓ]`` of shape ``(n_{ℓ+1}, n_ℓ)`` (one network) or ``(..., n_{ℓ+1}, n_ℓ)``.
    x
        Points as rows, ``(N, n_0)`` or ``(..., N, n_0)``.
    negative_slope
        0 for ReLU, a for leaky ReLU.

    Returns
    -------
    torch.Tensor
        Shape ``(..., N, n_L, n_0)``.
    """
    # run through the layers keeping only the current product
    return deque(_iter_layer_jacobians(weights, x, negative_slope), maxlen=1)[0]


@torch.no_grad()
def layer_to_layer_jacobians(
    weights: Sequence[torch.Tensor], x, *, negative_slope: float = 0.0
) -> list[torch.Tensor]:
    """Jacobians of the steps Z_{ℓ−1} → Z_ℓ (ℓ = 1 … L, Z_0 = x): W_1, then W_ℓ D_{ℓ−1}(x).

    Their product in order is the network's Jacobian.

    Parameters
    ----------
    weights
        ``weights[ℓ]`` of shape ``(n_{ℓ+1}, n_ℓ)`` or ``(..., n_{ℓ+1}, n_ℓ)``.
    x
        Points as rows, ``(N, n_0)`` or ``(..., N, n_0)``.
    negative_slope
        0 for ReLU, a for leaky ReLU.

    Returns
    -------
    list[torch.Tensor]
        L tensors of shape ``(..., N, n_ℓ, n_{ℓ−1})``.
    """
    ws = _check_weights(weights)
    xt = _as_tensor(x, like=ws[0])
    masks = _forward_masks(ws, xt, negative_slope)
    n_points = xt.shape[-2]
    batch = torch.broadcast_shapes(ws[0].shape[:-2], xt.shape[:-2])
    first = ws[0].unsqueeze(-3)
    out = [first.expand(*batch, n_points, *first.shape[-2:]).clone()]
    for w, d in zip(ws[1:], masks, strict=True):
        step = w.unsqueeze(-3) * d.unsqueeze(-2)
        out.append(step.expand(*batch, *step.shape[-3:]))
    return out


def ntk_gram(
    fn: Callable[[Sequence[torch.Tensor], torch.Tensor], torch.Tensor],
    params: Sequence[torch.Tensor],
    x,
) -> torch.Tensor:
    """Empirical NTK Gram matrix Θ = J_θ J_θᵀ over N points (arXiv 2305.19008, item 5).

    J_θ is the Jacobian of all N·n_out outputs with respect to all parameters, so
    Θ[(i, a), (j, b)] = Σ_p ∂f_a(x_i)/∂θ_p ∂f_b(x_j)/∂θ_p. Built with ``torch.func.jacrev``;
    memory N·n_out·#θ, meant for the small networks of the quick experiments.

    Parameters
    ----------
    fn
        ``fn(params, x) -> (N, n_out)`` (e.g. ``models.mlp.single_forward`` for one network).
    params
        The parameters of ONE network (a list of tensors).
    x
        Points as rows, ``(N, n_in)``.

    Returns
    -------
    torch.Tensor
        Shape ``(N·n_out, N·n_out)``, rows ordered point-major ((i, a) ↦ i·n_out + a), detached.
        Tr Θ / N and λ_max(Θ) / N are the scale-free summaries; the GD stability bound on a
        minimum of the MSE (1/N)Σ‖f − y‖² reads (2/N) λ_max(Θ) ≤ 2/η.
    """
    ps = [_as_tensor(p) for p in params]
    xt = _as_tensor(x, like=ps[0])
    if xt.ndim != 2:
        raise ValueError(f"x must have shape (N, n_in), got {tuple(xt.shape)}")
    jacs = torch.func.jacrev(lambda *q: fn(list(q), xt), argnums=tuple(range(len(ps))))(*ps)
    out = fn(ps, xt)
    rows = out.numel()
    jmat = torch.cat([j.reshape(rows, -1) for j in jacs], dim=1)
    return (jmat @ jmat.T).detach()


@torch.no_grad()
def relu_mlp_ntk_gram(weights: Sequence[torch.Tensor], x) -> torch.Tensor:
    """The NTK Gram Θ = J_θ J_θᵀ of one bias-free ReLU MLP, exact from the activation masks.

    Same matrix as :func:`ntk_gram` with ``models.mlp.single_forward`` (rows point-major), built
    without autograd: ∂f(x)/∂W_ℓ = B_ℓ(x) ⊗ h_{ℓ−1}(x), with h_{ℓ−1} the post-activation input
    of layer ℓ and B_ℓ(x) = ∂f/∂Z_ℓ = W_L D_{L−1} ⋯ W_{ℓ+1} D_ℓ (B_L = I). About 15× faster
    than ``jacrev`` at the quick sizes of arXiv 2305.19008.

    Parameters
    ----------
    weights
        ``weights[ℓ]`` of shape ``(n_{ℓ+1}, n_ℓ)`` (one network).
    x
        Points as rows, ``(N, n_0)``.

    Returns
    -------
    torch.Tensor
        Shape ``(N·n_L, N·n_L)``.
    """
    ws = [w.detach() for w in _check_weights(weights)]
    xt = _as_tensor(x, like=ws[0])
    if xt.ndim != 2 or any(w.ndim != 2 for w in ws):
        raise ValueError("relu_mlp_ntk_gram takes one network and points of shape (N, n_0)")
    masks = _forward_masks(ws, xt, 0.0)
    inputs = [xt]
    for w, m in zip(ws[:-1], masks, strict=True):
        inputs.append((inputs[-1] @ w.T) * m)
    n_points, d_out = xt.shape[0], ws[-1].shape[0]
    back = torch.eye(d_out, dtype=xt.dtype, device=xt.device).expand(n_points, d_out, d_out)
    blocks = []
    for ell in range(len(ws) - 1, -1, -1):
        blocks.append(torch.einsum("noa,nb->noab", back, inputs[ell]).reshape(n_points * d_out, -1))
        if ell > 0:
            back = (back @ ws[ell]) * masks[ell - 1][:, None, :]
    jac = torch.cat(blocks, dim=1)
    return jac @ jac.T


def relu_mlp_ntk_spectrum(weights: Sequence[torch.Tensor], x) -> np.ndarray:
    """Eigenvalues of the NTK Gram Θ of :func:`relu_mlp_ntk_gram`, descending (numpy float64).

    λ_max(Θ)/N and Tr Θ/N are what GD stability constrains (arXiv 2305.19008): at a minimum of
    the MSE (1/N)Σ‖f − y‖², GD with step η is stable only if (2/N) λ_max(Θ) ≲ 2/η.
    """
    gram = relu_mlp_ntk_gram(weights, x).to(device="cpu", dtype=torch.float64).numpy()
    return np.linalg.eigvalsh(gram)[::-1].copy()
