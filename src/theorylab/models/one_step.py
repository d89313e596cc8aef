"""A two-layer network trained by one large full-batch gradient step, then a ridge readout.

The protocol of arXiv 2402.04980 (Sec. 2) and 2410.18938: f(x) = (1/√p) Σ_i a_i σ(w_i·x) with
unit-norm rows w_i and a_i = 1/√p frozen during the step; one GD step on the half-MSE of n0
samples with learning rate η = η̃ p; then the readout is refit by ridge (sum convention
Σ(y − a·φ)² + λ‖a‖², φ = σ(W1 x)/√p) on fresh data. Also the spike of the update
(top singular triple of W1 − W0), the measured side of the spiked-random-features model.

The test error of one draw is a mean of n_test squared errors whose spread is dominated by the
target coordinate (the error of the learned ŷ(κ) at large |κ|): :func:`hermite_controls` and
:func:`control_variate_mean` subtract the part of that spread explained by Hermite functions of
Gaussian test coordinates, whose means are exactly zero (a control variate that knows nothing
of the model; cross-fitted, so the estimate stays unbiased).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

__all__ = [
    "SpikeMeasurement",
    "control_variate_mean",
    "first_layer_gradient",
    "hermite_controls",
    "measure_spike",
    "nested_ridge_errors",
    "one_step_first_layer",
    "unit_rows",
]

Act = Callable[[torch.Tensor], torch.Tensor]


def unit_rows(p: int, d: int, gen: torch.Generator, dtype=torch.float64) -> torch.Tensor:
    """W0: p rows uniform on the unit sphere of R^d (Gaussian rows normalised)."""
    w = torch.randn(p, d, generator=gen, dtype=dtype)
    return w / w.norm(dim=1, keepdim=True)


def first_layer_gradient(
    w0: torch.Tensor,
    sample: Callable[[int], tuple[torch.Tensor, torch.Tensor]],
    n0: int,
    student: Act,
    chunk: int = 5000,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """The full-batch step direction Gᵀ (p × d) with W1 = W0 + η̃ p Gᵀ.

    G = (1/n0) Σ_μ x_μ [(y_μ − f0(x_μ)) a_i/√p σ'(w_i·x_μ)]_i, a_i = 1/√p: minus the gradient
    of (1/2n0) Σ(y − f0)² in W, accumulated over chunks of ``sample(m) -> (x, y)``.
    """
    p = w0.shape[0]
    w = w0.to(dtype)
    g = torch.zeros_like(w)
    done = 0
    while done < n0:
        m = min(chunk, n0 - done)
        x, y = sample(m)
        x, y = x.to(dtype), y.to(dtype)
        pre = (x @ w.T).requires_grad_(True)
        act = student(pre)
        (dact,) = torch.autograd.grad(act.sum(), pre)
        res = y - act.detach().sum(1) / p
        g += ((res[:, None] / p) * dact).T @ x
        done += m
    return (g / n0).to(w0.dtype)


def one_step_first_layer(
    d: int, n0: int, student: Act, teacher: Act, layer_gen: torch.Generator,
    batch_gen: torch.Generator, dtype: torch.dtype = torch.float64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(W0, Gᵀ) of one draw of the one-step protocol (p = d): W0 with unit rows from
    ``layer_gen``, and the step direction on ``n0`` fresh samples x ~ N(0, I_d) with
    y = σ*(x₁) drawn from ``batch_gen`` (zero when n0 = 0, i.e. random features)."""
    w0 = unit_rows(d, d, layer_gen, dtype)
    if n0 == 0:
        return w0, torch.zeros_like(w0)

    def sample(m: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(m, d, generator=batch_gen, dtype=torch.float32)
        return x, teacher(x[:, 0])

    return w0, first_layer_gradient(w0, sample, n0, student)


@dataclass(frozen=True)
class SpikeMeasurement:
    """Top singular value of W1 − W0 over √p (≈ r), mean squared row norm of the update with
    its rank-one part removed (the bulk B of W1 = W0 + B + spike, ≈ c − 1), and the top right
    singular vector (unit, d entries)."""

    spike: float
    bulk: float
    direction: torch.Tensor


def measure_spike(w0: torch.Tensor, w1: torch.Tensor, iters: int = 200) -> SpikeMeasurement:
    """Top singular triple of Δ = W1 − W0 by power iteration on ΔᵀΔ (the spike is separated
    from the bulk by a factor ~ r√p/‖B‖, so a few iterations converge); the bulk is
    ‖Δ − s1 u1 v1ᵀ‖_F²/p = (‖Δ‖_F² − s1²)/p."""
    p = w0.shape[0]
    delta = w1 - w0
    v = delta.sum(0)
    if float(v.norm()) == 0.0:
        v = torch.ones_like(v)
    for _ in range(iters):
        new = delta.T @ (delta @ v)
        new = new / new.norm()
        if float((new - v).norm()) < 1e-13:
            v = new
            break
        v = new
    s1 = float((delta @ v).norm())
    bulk = (float((delta**2).sum()) - s1**2) / p
    return SpikeMeasurement(s1 / p**0.5, bulk, v)


def hermite_controls(coords: torch.Tensor, degrees: Sequence[int], total: int) -> torch.Tensor:
    """Control variates of exactly zero mean: the products Π_i He_{j_i}(z_i)/√(j_i!) of the
    columns z_i of ``coords`` (n × m, independent standard normals), 0 < Σ j_i ≤ ``total``,
    j_i ≤ ``degrees[i]`` (He the probabilists' Hermite polynomials, orthonormal under N(0,1)).
    Returns n × (number of products); a leading batch dimension of ``coords`` is kept."""
    per_coord = []
    for i, deg in enumerate(degrees):
        z = coords[..., i]
        he = [torch.ones_like(z), z]
        for k in range(1, deg):
            he.append(z * he[k] - k * he[k - 1])
        norm = 1.0
        cols = []
        for k in range(deg + 1):
            norm *= max(k, 1)
            cols.append(he[k] / norm**0.5)
        per_coord.append(cols)
    products: list[tuple[int, torch.Tensor]] = [(0, torch.ones_like(coords[..., 0]))]
    for cols in per_coord:
        products = [(s + k, v * c) for s, v in products for k, c in enumerate(cols)
                    if s + k <= total]
    return torch.stack([v for s, v in products if s > 0], -1)


def control_variate_mean(values: torch.Tensor, controls: torch.Tensor,
                         folds: int = 2) -> torch.Tensor:
    """Mean of ``values`` (n, K) minus b·(mean of ``controls``), controls of exactly zero mean
    ((n, m) shared by the K columns, or (K, n, m) one set per column); b is the least-squares
    coefficient of the values on the controls, fitted on the other folds (cross-fitting: b is
    independent of the points it corrects, so the estimate is unbiased for any b)."""
    n = values.shape[0]
    cont = controls if controls.ndim == 3 else controls.expand(values.shape[1], *controls.shape)
    edges = [round(n * f / folds) for f in range(folds + 1)]
    out = torch.zeros(values.shape[1], dtype=values.dtype)
    for f in range(folds):
        test = torch.zeros(n, dtype=torch.bool)
        test[edges[f]:edges[f + 1]] = True
        a, y = cont[:, ~test], values[~test].T[..., None]
        a = a - a.mean(1, keepdim=True)
        b = torch.linalg.lstsq(a, y - y.mean(1, keepdim=True)).solution[..., 0]  # (K, m)
        adj = values[test].mean(0) - (cont[:, test].mean(1) * b).sum(-1)
        out += adj * (edges[f + 1] - edges[f]) / n
    return out


def nested_ridge_errors(
    w1: torch.Tensor,
    student: Act,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    ns: Sequence[int],
    lam: float,
    controls: torch.Tensor | None = None,
    blocks: bool = False,
    pre: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Test MSE of the ridge readout fitted on the first n training points, for every n in
    ``ns`` (nested sets: common random numbers along the learning curve), and the test
    predictions. Primal normal equations (ΦᵀΦ + λI)a = Φᵀy, Gram accumulated incrementally in
    increasing n. ``y_train``/``y_test`` may hold several targets as columns (one Gram, one
    factorisation for all): errors then have shape (len(ns), K), predictions
    (len(ns), n_test, K); with 1-d targets (len(ns),) and (len(ns), n_test). With ``controls``
    (zero-mean test-point functions, see :func:`control_variate_mean`) the test MSE is the
    control-variate estimate instead of the plain mean. With ``blocks`` the error at n is the
    mean over the ⌊max(ns)/n⌋ disjoint blocks of n training points (the first block is the
    nested one; the others are independent readout sets for the same weights and test points,
    solved in the dual when n < p); the predictions are those of the first block. ``pre``:
    the pre-activations (X_train W1ᵀ, X_test W1ᵀ) when the caller has them (one draw, several
    steps: X W0ᵀ + η̃ p X G), in place of the products with ``w1``."""
    p = w1.shape[0]
    vector = y_train.ndim == 1
    yt, yv = (y_train[:, None], y_test[:, None]) if vector else (y_train, y_test)
    pre_train, pre_test = (x_train @ w1.T, x_test @ w1.T) if pre is None else pre
    phi_test = student(pre_test) / p**0.5
    gram = torch.zeros(p, p, dtype=w1.dtype)
    rhs = torch.zeros(p, yt.shape[1], dtype=w1.dtype)
    eye = torch.eye(p, dtype=w1.dtype)
    order = sorted(range(len(ns)), key=lambda k: ns[k])
    errors = torch.empty(len(ns), yt.shape[1], dtype=w1.dtype)
    preds = torch.empty(len(ns), pre_test.shape[0], yt.shape[1], dtype=w1.dtype)

    def error(pred: torch.Tensor) -> torch.Tensor:
        sq = (yv - pred) ** 2
        return sq.mean(0) if controls is None else control_variate_mean(sq, controls)

    start = 0
    parts = []
    for k in order:
        n = ns[k]
        phi = student(pre_train[start:n]) / p**0.5
        parts.append(phi)
        gram += phi.T @ phi
        rhs += phi.T @ yt[start:n]
        start = n
        a = torch.linalg.solve(gram + lam * eye, rhs)
        preds[k] = phi_test @ a
        errors[k] = error(preds[k])
    if blocks and parts:
        phi_all = torch.cat(parts)
        for k, n in enumerate(ns):
            count = phi_all.shape[0] // n
            for b in range(1, count):
                phi, y = phi_all[b * n:(b + 1) * n], yt[b * n:(b + 1) * n]
                if n < p:
                    dual = phi @ phi.T + lam * torch.eye(n, dtype=phi.dtype)
                    a = phi.T @ torch.linalg.solve(dual, y)
                else:
                    a = torch.linalg.solve(phi.T @ phi + lam * eye, phi.T @ y)
                errors[k] += error(phi_test @ a)
            errors[k] /= max(count, 1)
    if vector:
        return errors[:, 0], preds[..., 0]
    return errors, preds
