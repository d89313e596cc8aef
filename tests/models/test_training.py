"""Training to convergence: batched = alone (Adam), closed-form minima, honest convergence flags."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from theorylab.models.device import generator
from theorylab.models.mlp import init_mlp, select, stack
from theorylab.models.training import (
    TrainingConfig,
    best_fits,
    constant_schedule,
    evaluate,
    gradient_descent,
    regularized_mse,
    train,
    train_best,
    train_mlp_on,
)

ADAM_ONLY = TrainingConfig(adam_steps=300, lr=1e-2, lbfgs_calls=0)
LBFGS_ONLY = TrainingConfig(adam_steps=0, lbfgs_calls=3, lbfgs_max_iter=200)


def _data(n=40, d=5, d_out=3, seed=0, batch=None):
    g = generator(seed)
    shape = (n, d) if batch is None else (batch, n, d)
    x = torch.randn(*shape, generator=g, dtype=torch.float64)
    y = torch.randn(*shape[:-1], d_out, generator=g, dtype=torch.float64)
    return x, y


def _ridge(x, y, lam):
    """Minimiser of (1/N)‖X Wᵀ − Y‖² + λ‖W‖²: W = YᵀX (XᵀX + NλI)⁻¹."""
    n, d = x.shape
    return torch.linalg.solve(x.T @ x + n * lam * torch.eye(d, dtype=x.dtype), x.T @ y).T


def test_regularized_mse_matches_definition():
    x, y = _data()
    ws = init_mlp((5, 6, 3), batch=2, generator=generator(1))
    loss = regularized_mse(ws, x, y, 0.1)
    for b in range(2):
        w1, w2 = select(ws, b)
        out = torch.relu(x @ w1.T) @ w2.T
        expected = ((out - y) ** 2).sum() / 40 + 0.1 * (w1.square().sum() + w2.square().sum())
        torch.testing.assert_close(loss[b], expected)


def test_adam_batched_equals_each_network_alone():
    """Adam is coordinate-wise and the networks share no parameter: same trajectory."""
    x, y = _data(batch=3)
    nets = [init_mlp((5, 8, 8, 3), generator=generator(s)) for s in range(3)]
    batched = stack(nets)
    res = train(batched, lambda w: regularized_mse(w, x, y, 1e-2), ADAM_ONLY)
    for b in range(3):
        alone = stack([nets[b]])
        res1 = train(
            alone, lambda w, b=b: regularized_mse(w, x[b : b + 1], y[b : b + 1], 1e-2), ADAM_ONLY
        )
        for wb, wa in zip(select(batched, b), select(alone, 0), strict=True):
            torch.testing.assert_close(wb, wa, rtol=1e-10, atol=1e-12)
        assert res.loss[b] == pytest.approx(res1.loss[0], rel=1e-10)


def test_lbfgs_batched_and_alone_reach_the_ridge_minimiser():
    """Depth 1 = ridge (strictly convex): unique minimiser W = YᵀX(XᵀX + NλI)⁻¹.

    Batched L-BFGS minimises the summed loss, so its line search and curvature pairs couple the
    networks and the iterates differ from separate runs; for a strictly convex loss both must
    still reach the same (closed-form) minimiser. The loss is μ-strongly convex with
    μ = 2λ + 2 s_min(XᵀX/N), so ‖W − W*‖_F ≤ ‖∇‖/μ: the reported gradient norm must bound the
    distance to the closed form (which also tests the reported gradient). In float64 the line
    search stalls at ‖∇‖ ≈ √(ε·loss·curvature) ≈ 1e-8 (loss ≈ 2 here): convergence is then
    declared by the loss plateau.
    """
    lam = 0.05
    x, y = _data(batch=3, seed=2)
    ws = init_mlp((5, 3), batch=3, generator=generator(3))
    res = train(ws, lambda w: regularized_mse(w, x, y, lam, lambda z: z), LBFGS_ONLY)
    assert res.all_converged, res.criterion
    assert np.all(res.grad_norm <= 1e-6)
    for b in range(3):
        exact = _ridge(x[b], y[b], lam)
        mu = 2 * lam + 2 * torch.linalg.eigvalsh(x[b].T @ x[b] / x.shape[1])[0].item()
        assert (ws[0][b].detach() - exact).norm().item() <= res.grad_norm[b] / mu + 1e-12
        alone = init_mlp((5, 3), generator=generator(10 + b))
        res1 = train(
            alone, lambda w, b=b: regularized_mse(w, x[b], y[b], lam, lambda z: z), LBFGS_ONLY
        )
        assert res1.all_converged and res1.grad_norm[0] <= 1e-6
        assert (alone[0][0].detach() - exact).norm().item() <= res1.grad_norm[0] / mu + 1e-12


def test_deep_linear_depth_two_reaches_singular_value_soft_thresholding():
    """Non-convex in θ, closed form in function space: with XᵀX = N·I the loss of A = W₂W₁ is
    ‖A − M‖² + 2λ‖A‖_* + const (M = YᵀX/N; min ‖W₁‖² + ‖W₂‖² = 2‖A‖_*), minimised by
    s_i(A) = max(s_i(M) − λ, 0) with M's singular vectors; at the minimum ‖θ‖² = 2‖A‖_*."""
    n, d, lam = 30, 4, 0.1
    q, _ = torch.linalg.qr(torch.randn(n, d, generator=generator(4), dtype=torch.float64))
    x = q * n**0.5
    y = torch.randn(n, d, generator=generator(5), dtype=torch.float64)
    m = y.T @ x / n
    u, s, vh = torch.linalg.svd(m)
    a_exact = u @ torch.diag(torch.clamp(s - lam, min=0)) @ vh
    ws = init_mlp((d, 6, d), batch=2, generator=generator(6))
    cfg = TrainingConfig(adam_steps=500, lr=1e-2, lbfgs_max_iter=500)
    res = train(ws, lambda w: regularized_mse(w, x, y, lam, lambda z: z), cfg)
    assert res.all_converged, res.criterion
    assert np.all(res.grad_norm < 1e-6)
    for b in range(2):
        w1, w2 = (w.detach() for w in select(ws, b))
        torch.testing.assert_close(w2 @ w1, a_exact, rtol=0, atol=1e-8)
        norm2 = (w1.square().sum() + w2.square().sum()).item()
        assert norm2 == pytest.approx(2 * torch.linalg.svdvals(a_exact).sum().item(), abs=1e-8)


def test_too_few_steps_are_flagged_unconverged():
    x, y = _data(seed=7)
    lin = lambda w: regularized_mse(w, x, y, 0.05, lambda z: z)  # noqa: E731
    ws = init_mlp((5, 3), batch=2, generator=generator(8))
    res = train(ws, lin, TrainingConfig(adam_steps=5, lbfgs_calls=0))
    assert not res.converged.any()
    assert "2 not converged" in res.criterion
    res = train(ws, lin, TrainingConfig(adam_steps=0, lbfgs_calls=1, lbfgs_max_iter=1))
    assert not res.converged.any() and res.lbfgs_iterations == 1
    assert np.all(res.grad_norm > 1e-6)
    # the reported loss and gradient are those of the final parameters
    loss, gnorm = evaluate(ws, lin)
    np.testing.assert_allclose(res.loss, loss)
    np.testing.assert_allclose(res.grad_norm, gnorm)


def test_lbfgs_stops_early_when_converged():
    x, y = _data(seed=9)
    lin = lambda w: regularized_mse(w, x, y, 0.05, lambda z: z)  # noqa: E731
    ws = init_mlp((5, 3), batch=1, generator=generator(10))
    cfg = TrainingConfig(adam_steps=0, lbfgs_calls=5, lbfgs_max_iter=500, grad_tol=1e-6)
    res = train(ws, lin, cfg)
    assert res.all_converged and res.lbfgs_calls == 1  # by the gradient test
    assert res.history.shape == (2,) and res.history[1] < res.history[0]
    assert "1/1 networks with gradient norm" in res.criterion
    # unreachable gradient tolerance: a second call confirms the plateau, then it stops
    ws = init_mlp((5, 3), batch=1, generator=generator(10))
    res = train(ws, lin, TrainingConfig(adam_steps=0, lbfgs_calls=5, grad_tol=1e-14))
    assert res.all_converged and res.lbfgs_calls == 2
    assert res.loss_change[0] <= 1e-12 and "1 more with relative loss change" in res.criterion


def test_train_mlp_on_indexes_tasks_and_seeds():
    """Network t·S + s of a (tasks × seeds) batch = task t trained alone from seed s (Adam)."""
    x, y = _data(n=20, batch=2, seed=11)
    cfg = TrainingConfig(adam_steps=100, lr=1e-2, lbfgs_calls=0)
    run = train_mlp_on(x, y, depth=3, width=6, lam=1e-3, seeds=(4, 7), config=cfg)
    assert run.weights[0].shape == (4, 6, 5) and run.x.shape == (4, 20, 5)
    assert run.index(1, 1) == 3
    alone = train_mlp_on(x[1], y[1], depth=3, width=6, lam=1e-3, seeds=(7,), config=cfg)
    for wb, wa in zip(run.network(1, 1), alone.network(0), strict=True):
        torch.testing.assert_close(wb, wa, rtol=1e-10, atol=1e-12)
    assert run.result.loss[3] == pytest.approx(alone.result.loss[0], rel=1e-10)
    with pytest.raises(ValueError):
        train_mlp_on(x, y[:1], depth=2, width=3, lam=1e-3)


def test_config_validation():
    with pytest.raises(ValueError, match="adam_steps"):
        TrainingConfig(adam_steps=-1)
    with pytest.raises(ValueError, match="grad_tol"):
        TrainingConfig(grad_tol=float("nan"))


# --------------------------------------------------------------------------------------------
# Plain gradient descent, best restarts
# --------------------------------------------------------------------------------------------


def test_gradient_descent_is_plain_gd():
    """θ ← θ − η ∇(θ²): θ_t = θ_0 (1 − 2η)^t, and the history is the loss before each step."""
    w = [torch.tensor([[[2.0]]], dtype=torch.float64, requires_grad=True)]
    hist = gradient_descent(w, lambda ws: (ws[0] ** 2).sum((1, 2)), eta=0.1, steps=3)
    np.testing.assert_allclose(hist, [4.0, 4.0 * 0.64, 4.0 * 0.64**2])
    assert float(w[0].detach()) == pytest.approx(2.0 * 0.8**3)


def test_gradient_descent_follows_a_schedule():
    w = [torch.tensor([[[1.0]]], dtype=torch.float64, requires_grad=True)]
    etas = [0.1, 0.2, 0.25]
    gradient_descent(w, lambda ws: (ws[0] ** 2).sum((1, 2)), eta=lambda t: etas[t], steps=3)
    assert float(w[0].detach()) == pytest.approx(0.8 * 0.6 * 0.5)
    with pytest.raises(ValueError, match="eta"):
        constant_schedule(0.0)
    with pytest.raises(ValueError, match="steps"):
        gradient_descent(w, lambda ws: ws[0].sum((1, 2)), eta=0.1, steps=-1)


def test_gradient_descent_is_unstable_above_two_over_the_curvature():
    """The stability edge of GD (arXiv 2305.19008): on a quadratic of curvature h, η < 2/h
    converges and η > 2/h diverges."""
    h = 4.0

    def loss(ws):
        return 0.5 * h * (ws[0] ** 2).sum((1, 2))

    for eta, stable in ((0.45, True), (0.55, False)):
        w = [torch.ones(1, 1, 1, dtype=torch.float64, requires_grad=True)]
        gradient_descent(w, loss, eta=eta, steps=50)
        assert (abs(float(w[0].detach())) < 1e-3) == stable


def test_best_fits_pick_the_lowest_objective_restart():
    x, y = _data(n=20, batch=2, seed=12)
    cfg = TrainingConfig(adam_steps=50, lr=1e-2, lbfgs_calls=0)
    run = train_mlp_on(x, y, depth=3, width=6, lam=1e-3, seeds=(1, 2, 3), config=cfg)
    fits = best_fits(run)
    assert len(fits) == 2
    for task, fit in enumerate(fits):
        losses = [run.result.loss[run.index(task, s)] for s in range(3)]
        best = int(np.argmin(losses))
        assert fit.objective == min(losses)
        for w_fit, w_run in zip(fit.weights, run.network(task, best), strict=True):
            assert torch.equal(w_fit, w_run)
        reg = sum(w.square().sum() for w in fit.weights).item()
        assert fit.mse == pytest.approx(fit.objective - 1e-3 * reg, rel=1e-10)
        assert fit.loss_change == np.inf and not fit.converged  # Adam only: no L-BFGS call
    again = train_best(x, y, depth=3, width=6, lam=1e-3, seeds=(1, 2, 3), config=cfg)
    assert [f.objective for f in again] == [f.objective for f in fits]
