"""Training batches of independent networks to convergence, with the convergence reported.

The implicit-bias papers (arXiv 2205.15809, 2209.15055, 2305.19008) read parameter norms and
singular values *at a minimum* of the regularised loss, so training must really converge:

1. Adam with a cosine learning-rate decay (``lr → lr_final``) gets into the basin;
2. full-batch L-BFGS with a strong-Wolfe line search, in float64, polishes to a stationary point
   (Adam alone leaves weight-decay-sized gradients, see the papers' notes).

All networks of a batch are trained together: ``objective(params)`` returns the per-network
losses (shape ``(batch,)``) and we minimise their *sum*. The networks share no parameter, so the
gradient of the sum with respect to network b's weights is the gradient of its own loss. For
Adam (coordinate-wise) this makes batched training identical to training each network alone.
L-BFGS on the sum couples the networks through the shared step length and the curvature pairs
of the concatenated parameter vector: each network still ends at a stationary point of its own
loss (where the summed gradient vanishes, every block does), but the path — and, for a
non-convex loss, possibly the minimum reached — can differ from a run on its own.

Convergence (reported, never assumed): after L-BFGS, network b is *converged* when its gradient
norm ``‖∇_θb loss_b‖ ≤ grad_tol`` or when its loss changed by less than ``plateau_rtol``
(relative) over the last L-BFGS call. :class:`TrainingResult` holds the per-network loss,
gradient norm, relative change, the verdict and a sentence saying which test declared it.

Shared routine for the deep-MLP papers (``nonlinear_rank``, ``bottleneck_rank``)::

    train_mlp_on(x, y, *, depth, width, lam, seeds=(0,), config=TrainingConfig(),
                 activation=torch.relu, std=None, device=None) -> TrainedMLPs

trains bias-free MLPs of the given depth (number of weight matrices) and hidden width on
``len(tasks) × len(seeds)`` problems at once (``x``/``y`` of shape ``(N, ·)`` for one task or
``(T, N, ·)`` for T tasks, e.g. several teachers) on the loss :func:`regularized_mse`;
``TrainedMLPs.weights[ℓ][t * len(seeds) + s]`` is task t, initial seed s.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from theorylab.models.device import generator as make_generator
from theorylab.models.mlp import Activation, init_mlp, mlp_forward, select, single_forward, stack

__all__ = [
    "BestFit",
    "TrainedMLPs",
    "TrainingConfig",
    "TrainingResult",
    "best_fits",
    "constant_schedule",
    "evaluate",
    "gradient_descent",
    "regularized_mse",
    "train",
    "train_best",
    "train_mlp_on",
]

Objective = Callable[[list[torch.Tensor]], torch.Tensor]


@dataclass(frozen=True)
class TrainingConfig:
    """Optimiser schedule and convergence thresholds.

    Attributes
    ----------
    adam_steps, lr, lr_final
        Adam steps with the learning rate decayed from ``lr`` to ``lr_final`` by a half cosine.
    lbfgs_calls, lbfgs_max_iter, lbfgs_history
        L-BFGS phase: at most ``lbfgs_calls`` calls (each a fresh L-BFGS with strong-Wolfe line
        search, at most ``lbfgs_max_iter`` iterations and ``history`` curvature pairs); calls
        stop as soon as every network is converged.
    grad_tol
        A network is converged when its gradient norm is ≤ ``grad_tol`` …
    plateau_rtol
        … or when its loss changed by less than ``plateau_rtol`` (relative) over one L-BFGS call.
    threads
        Torch intra-op threads while training on the CPU (restored afterwards); ``None`` keeps
        the current setting. The matrices of these papers are tiny (width ≈ 24, N ≈ 128):
        extra threads gain nothing and, on a loaded machine, cost up to 4× in wall time
        (measured on 2 shared cores).
    """

    adam_steps: int = 3000
    lr: float = 2e-3
    lr_final: float = 1e-5
    lbfgs_calls: int = 3
    lbfgs_max_iter: int = 1500
    lbfgs_history: int = 50
    grad_tol: float = 1e-9
    plateau_rtol: float = 1e-12
    threads: int | None = 1

    def __post_init__(self) -> None:
        for name in ("adam_steps", "lbfgs_calls", "lbfgs_max_iter"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1 or None, got {self.threads}")
        if self.lbfgs_history < 1:
            raise ValueError(f"lbfgs_history must be >= 1, got {self.lbfgs_history}")
        for name in ("lr", "lr_final", "grad_tol", "plateau_rtol"):
            if not (getattr(self, name) >= 0 and math.isfinite(getattr(self, name))):
                raise ValueError(f"{name} must be >= 0 and finite, got {getattr(self, name)}")


@dataclass(frozen=True)
class TrainingResult:
    """Outcome of :func:`train` for a batch of networks.

    Attributes
    ----------
    loss, grad_norm
        Final objective and gradient norm of each network, shape ``(batch,)``.
    converged
        Per network, by the criterion of :class:`TrainingConfig` (see ``criterion``).
    criterion
        Which test declared convergence, with the thresholds and counts.
    adam_steps, lbfgs_iterations, elapsed_s
        Work done: Adam steps, total L-BFGS iterations over all calls, wall time.
    history
        Summed objective at the start, every 10 % of Adam, and after each L-BFGS call.
    loss_change
        Relative change of each network's loss over the last L-BFGS call (``nan`` if none ran).
    lbfgs_calls, function_evals
        L-BFGS calls made and objective evaluations (Adam steps plus L-BFGS evaluations).
    """

    loss: np.ndarray
    grad_norm: np.ndarray
    converged: np.ndarray
    criterion: str
    adam_steps: int
    lbfgs_iterations: int
    elapsed_s: float
    history: np.ndarray
    loss_change: np.ndarray | None = None
    lbfgs_calls: int = 0
    function_evals: int = 0

    @property
    def all_converged(self) -> bool:
        return bool(np.all(self.converged))


def regularized_mse(
    weights: Sequence[torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    lam: float,
    activation: Activation = torch.relu,
) -> torch.Tensor:
    """Per-network loss ``(1/N) Σ_i ‖f(x_i) − y_i‖² + λ Σ_ℓ ‖W_ℓ‖_F²``, shape ``(batch,)``.

    The MSE sums over outputs and averages over the N points (the convention of the notes of
    arXiv 2209.15055 and 2205.15809). ``x`` is ``(N, n_0)`` or ``(batch, N, n_0)``; ``y`` is
    ``(N, n_L)`` or ``(batch, N, n_L)``.
    """
    out = mlp_forward(weights, x, activation)
    mse = (out - y).square().sum(-1).mean(-1)
    reg = sum(w.square().sum((1, 2)) for w in weights)
    return mse + lam * reg


def _per_network_grads(
    params: list[torch.Tensor], objective: Objective
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-network losses and gradient norms (one forward/backward pass)."""
    losses = objective(params)
    grads = torch.autograd.grad(losses.sum(), params)
    sq = sum(g.reshape(g.shape[0], -1).square().sum(1) for g in grads)
    return losses.detach(), sq.sqrt()


def evaluate(params: list[torch.Tensor], objective: Objective) -> tuple[np.ndarray, np.ndarray]:
    """Per-network loss and gradient norm at ``params`` (numpy arrays of shape ``(batch,)``)."""
    losses, gnorm = _per_network_grads(params, objective)
    return losses.cpu().numpy(), gnorm.cpu().numpy()


def cosine_lr(step: int, total: int, lr: float, lr_final: float) -> float:
    """The learning rate of :func:`train`'s Adam phase at ``step`` of ``total`` (cosine decay
    from ``lr`` to ``lr_final``)."""
    return lr_final + 0.5 * (lr - lr_final) * (1.0 + math.cos(math.pi * step / total))


def _adam(
    params: list[torch.Tensor], objective: Objective, config: TrainingConfig, history: list
) -> None:
    opt = torch.optim.Adam(params, lr=config.lr)
    total = config.adam_steps
    every = max(1, total // 10)
    for step in range(total):
        for group in opt.param_groups:
            group["lr"] = cosine_lr(step, total, config.lr, config.lr_final)
        loss = objective(params).sum()
        grads = torch.autograd.grad(loss, params)
        for p, g in zip(params, grads, strict=True):
            p.grad = g.contiguous()
        opt.step()
        if (step + 1) % every == 0:
            history.append(float(loss.detach()))


def _lbfgs_call(
    params: list[torch.Tensor], objective: Objective, config: TrainingConfig, tol_grad: float
) -> tuple[int, int]:
    """One fresh L-BFGS run (strong Wolfe); returns (iterations, function evaluations)."""
    opt = torch.optim.LBFGS(
        params,
        lr=1.0,
        max_iter=config.lbfgs_max_iter,
        max_eval=int(config.lbfgs_max_iter * 1.25),
        history_size=config.lbfgs_history,
        tolerance_grad=tol_grad,
        tolerance_change=0.0,  # stop on stagnation only through max_iter / the gradient test
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        loss = objective(params).sum()
        grads = torch.autograd.grad(loss, params)
        for p, g in zip(params, grads, strict=True):
            p.grad = g.contiguous()
        return loss

    opt.step(closure)
    state = opt.state[opt._params[0]]
    return int(state.get("n_iter", 0)), int(state.get("func_evals", 0))


def train(
    params: list[torch.Tensor],
    objective: Objective,
    config: TrainingConfig = TrainingConfig(),
) -> TrainingResult:
    """Minimise the summed per-network losses: Adam (cosine lr), then L-BFGS (strong Wolfe).

    Parameters
    ----------
    params
        Leaf tensors with ``requires_grad``; axis 0 of each is the network index. Updated in
        place.
    objective
        ``objective(params) -> (batch,)`` per-network losses (network b may only depend on
        ``p[b]`` of every ``p`` in ``params``).
    config
        Schedule and convergence thresholds.

    Returns
    -------
    TrainingResult
        Final per-network losses and gradient norms and the convergence verdict.
    """
    with _threads(config.threads if params[0].device.type == "cpu" else None):
        return _train(params, objective, config)


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    previous = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _train(
    params: list[torch.Tensor], objective: Objective, config: TrainingConfig
) -> TrainingResult:
    start = time.perf_counter()
    batch = params[0].shape[0]
    per_net = sum(p[0].numel() for p in params)
    history: list[float] = []
    loss0, _ = evaluate(params, objective)
    history.append(float(loss0.sum()))
    if config.adam_steps > 0:
        _adam(params, objective, config, history)
    loss, gnorm = evaluate(params, objective)
    change = np.full(batch, np.nan)
    iterations = evals = calls = 0
    # max-entry test of torch's L-BFGS: max|g| ≤ grad_tol/√P implies ‖g_b‖ ≤ grad_tol for all b
    tol_grad = config.grad_tol / math.sqrt(per_net)
    for _ in range(config.lbfgs_calls):
        if config.lbfgs_max_iter == 0 or np.all(gnorm <= config.grad_tol):
            break
        before = loss
        it, ev = _lbfgs_call(params, objective, config, tol_grad)
        iterations += it
        evals += ev
        calls += 1
        loss, gnorm = evaluate(params, objective)
        history.append(float(loss.sum()))
        change = np.abs(before - loss) / np.maximum(np.abs(loss), np.finfo(float).tiny)
        if np.all(_converged(gnorm, change, config)):
            break
    converged = _converged(gnorm, change, config)
    by_grad = int(np.sum(gnorm <= config.grad_tol))
    by_plateau = int(np.sum(converged)) - by_grad
    criterion = (
        f"{by_grad}/{batch} networks with gradient norm <= {config.grad_tol:g}, "
        f"{by_plateau} more with relative loss change <= {config.plateau_rtol:g} over the last "
        f"L-BFGS call; {batch - int(np.sum(converged))} not converged "
        f"(max gradient norm {float(np.max(gnorm)):.3g})"
    )
    return TrainingResult(
        loss=loss,
        grad_norm=gnorm,
        converged=converged,
        criterion=criterion,
        adam_steps=config.adam_steps,
        lbfgs_iterations=iterations,
        elapsed_s=time.perf_counter() - start,
        history=np.asarray(history),
        loss_change=change,
        lbfgs_calls=calls,
        function_evals=config.adam_steps + evals,
    )


def _converged(gnorm: np.ndarray, change: np.ndarray, config: TrainingConfig) -> np.ndarray:
    plateau = np.nan_to_num(change, nan=np.inf) <= config.plateau_rtol
    return (gnorm <= config.grad_tol) | plateau


# --------------------------------------------------------------------------------------------
# Shared routine of the deep-MLP papers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainedMLPs:
    """Bias-free MLPs trained by :func:`train_mlp_on`.

    Attributes
    ----------
    weights
        Detached ``weights[ℓ]`` of shape ``(T·S, n_{ℓ+1}, n_ℓ)``; network ``t·S + s`` is task t,
        initial seed ``seeds[s]``.
    result
        The :class:`TrainingResult` (per network).
    x, y
        Training inputs and targets of every network, ``(T·S, N, ·)``.
    seeds
        Initial seeds (network s of each task is drawn from ``generator(seeds[s])``).
    n_tasks, depth, width, lam
        The setting.
    """

    weights: list[torch.Tensor]
    result: TrainingResult
    x: torch.Tensor
    y: torch.Tensor
    seeds: tuple[int, ...]
    n_tasks: int
    depth: int
    width: int
    lam: float

    def index(self, task: int, seed_index: int = 0) -> int:
        """Batch index of (task, seed)."""
        return task * len(self.seeds) + seed_index

    def network(self, task: int, seed_index: int = 0) -> list[torch.Tensor]:
        """Weights of one network, ``[(n_{ℓ+1}, n_ℓ)]``."""
        return select(self.weights, self.index(task, seed_index))


def train_mlp_on(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    depth: int,
    width: int,
    lam: float,
    seeds: Sequence[int] = (0,),
    config: TrainingConfig = TrainingConfig(),
    activation: Activation = torch.relu,
    std: float | Sequence[float] | None = None,
    device: torch.device | str | None = None,
) -> TrainedMLPs:
    """Train depth-L bias-free MLPs on the regularised MSE for every (task, seed) at once.

    Parameters
    ----------
    x, y
        ``(N, d)`` and ``(N, d_out)`` for one task, or ``(T, N, d)`` and ``(T, N, d_out)`` for T
        tasks (e.g. several teachers), float64 recommended.
    depth
        Number of weight matrices L (L − 1 hidden layers of width ``width``).
    width
        Hidden width.
    lam
        Weight decay λ of :func:`regularized_mse`.
    seeds
        Initial seeds; every task is trained from the same ``len(seeds)`` initialisations
        (He init unless ``std``), network s drawn from ``generator(seeds[s])``.
    config
        Optimiser schedule and convergence thresholds.
    activation, std, device
        σ, init scale (see :func:`~theorylab.models.mlp.init_mlp`), device of the run.
    """
    if depth < 1 or width < 1:
        raise ValueError(f"depth and width must be >= 1, got {depth}, {width}")
    if x.dim() == 2:
        x, y = x[None], y[None]
    if x.dim() != 3 or y.dim() != 3 or x.shape[:2] != y.shape[:2]:
        raise ValueError(f"x and y must be (T, N, ·) with equal T and N, got {x.shape}, {y.shape}")
    seeds = tuple(int(s) for s in seeds)
    n_tasks, n_seeds = x.shape[0], len(seeds)
    device = x.device if device is None else torch.device(device)
    widths = [x.shape[2], *([width] * (depth - 1)), y.shape[2]]
    inits = [
        init_mlp(widths, generator=make_generator(s), std=std, dtype=x.dtype, device=device)
        for s in seeds
    ]
    weights = stack([inits[s] for _ in range(n_tasks) for s in range(n_seeds)])
    xb = x.to(device).repeat_interleave(n_seeds, dim=0)
    yb = y.to(device).repeat_interleave(n_seeds, dim=0)
    # one task: the inputs are shared, so the first layer is one wide matmul (see mlp._matmul_t)
    x_obj, y_obj = (x[0].to(device), y[0].to(device)) if n_tasks == 1 else (xb, yb)

    def objective(ws: list[torch.Tensor]) -> torch.Tensor:
        return regularized_mse(ws, x_obj, y_obj, lam, activation)

    result = train(weights, objective, config)
    return TrainedMLPs(
        weights=[w.detach() for w in weights],
        result=result,
        x=xb,
        y=yb,
        seeds=seeds,
        n_tasks=n_tasks,
        depth=depth,
        width=width,
        lam=float(lam),
    )


@dataclass(frozen=True)
class BestFit:
    """The restart of lowest objective of one task of :func:`train_mlp_on`.

    Attributes
    ----------
    weights
        ``[W_1, …, W_L]`` of that network, ``(n_{ℓ+1}, n_ℓ)`` each (detached).
    mse
        Its training MSE (1/N) Σ_i ‖f(x_i) − y_i‖² (without the penalty).
    objective, grad_norm, loss_change, converged
        From the :class:`TrainingResult` (``loss_change`` is ``inf`` when no L-BFGS call ran).
    """

    weights: list[torch.Tensor]
    mse: float
    objective: float
    grad_norm: float
    loss_change: float
    converged: bool


def best_fits(run: TrainedMLPs, activation: Activation = torch.relu) -> list[BestFit]:
    """Per task of ``run``, the restart with the lowest objective (the one to measure)."""
    res = run.result
    fits = []
    for task in range(run.n_tasks):
        idx = [run.index(task, s) for s in range(len(run.seeds))]
        best = idx[int(np.argmin(res.loss[idx]))]
        weights = select(run.weights, best)
        with torch.no_grad():
            out = single_forward(weights, run.x[best], activation)
            mse = float((out - run.y[best]).square().sum(-1).mean())
        change = np.nan if res.loss_change is None else res.loss_change[best]
        fits.append(
            BestFit(
                weights=weights,
                mse=mse,
                objective=float(res.loss[best]),
                grad_norm=float(res.grad_norm[best]),
                loss_change=float(np.nan_to_num(change, nan=np.inf)),
                converged=bool(res.converged[best]),
            )
        )
    return fits


def train_best(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    depth: int,
    width: int,
    lam: float,
    seeds: Sequence[int],
    config: TrainingConfig,
) -> list[BestFit]:
    """:func:`train_mlp_on` (bias-free ReLU MLPs, every task × seed in one batch), then the
    restart of lowest objective of every task (:func:`best_fits`)."""
    run = train_mlp_on(x, y, depth=depth, width=width, lam=lam, seeds=seeds, config=config)
    return best_fits(run)


# --------------------------------------------------------------------------------------------
# Plain gradient descent
# --------------------------------------------------------------------------------------------

Schedule = Callable[[int], float]


def constant_schedule(eta: float) -> Schedule:
    """η_t = η for every step t."""
    if not (eta > 0 and math.isfinite(eta)):
        raise ValueError(f"eta must be > 0 and finite, got {eta!r}")
    return lambda step: eta


def gradient_descent(
    weights: list[torch.Tensor],
    objective: Objective,
    eta: float | Schedule,
    steps: int,
) -> np.ndarray:
    """Plain full-batch GD θ ← θ − η_t ∇ Σ_b objective_b(θ), in place.

    Parameters
    ----------
    weights
        Leaf tensors with ``requires_grad`` (axis 0: network index, as in :func:`train`).
    objective
        ``objective(weights) -> (batch,)`` per-network losses.
    eta
        Step size η, or a schedule ``step -> η_t``.
    steps
        Number of steps.

    Returns
    -------
    numpy.ndarray
        The summed objective *before* each step, shape ``(steps,)``.

    Notes
    -----
    GD at step η is only stable near a minimum whose sharpness λ_max(Hessian) is ≤ 2/η; for the
    MSE (1/N)Σ‖f − y‖² that reads λ_max(Θ)/N ≲ 1/η with Θ the NTK Gram (arXiv 2305.19008).
    """
    schedule = constant_schedule(eta) if not callable(eta) else eta
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    history = np.empty(steps)
    for t in range(steps):
        loss = objective(weights).sum()
        grads = torch.autograd.grad(loss, weights)
        step = schedule(t)
        with torch.no_grad():
            for w, g in zip(weights, grads, strict=True):
                w.sub_(step * g)
        history[t] = float(loss.detach())
    return history
