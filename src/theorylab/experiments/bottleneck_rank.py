"""Bottleneck structure in learned features: low dimension vs regularity (arXiv 2305.19008).

A. Jacot, NeurIPS 2023. The representation cost of a depth-L homogeneous network expands as
R(f; L) = L R^(0)(f) + R^(1)(f) + R^(2)(f)/L + O(L^{−2})
(:mod:`theorylab.theory.representation_cost`): R^(0) is the bottleneck rank of 2209.15055,
R^(1) measures regularity and bounds the log pseudo-determinant of the Jacobian,
R^(1) ≥ 2 log|Jf(x)|_+. At large depth the minimisers have a
*bottleneck structure*: most weight matrices have R^(0) singular values near
√(1 + R^(1)/(kL)) and the others collapse; the hidden representations of the middle layers are
R^(0)-dimensional. Large learning rates keep the NTK small (GD is only stable at a minimum whose
sharpness (2/N)λ_max(Θ) is ≤ 2/η), which is what makes the representations low-dimensional.

The experiment (the note's quick protocol, identical runs to ``nonlinear_rank``): a teacher
f*(x) = B relu(C P x) with inner dimension k = 2 on N = 128 Gaussian points in R^6, bias-free ReLU
MLPs of width 24 and depths L ∈ {3, 6, 12} trained on the MSE with weight decay λ = 1e-3 (Adam,
then L-BFGS polishing in float64). Measured: per-layer weight spectra and representation ranks,
per-point Jacobian spectra, ‖θ‖², R^(1)_est = ‖θ‖² − k*L and the bounds of the note (items 2,
4). The dimension k* of the bounds is read from the middle weight spectra of the deepest network
(number of singular values > 0.5), as the note's pitfall prescribes: a bias-free ReLU layer
cannot carry a signed k-dimensional latent in k non-negative units. Seed 0 (the note's run; its
eight teacher directions c_j lie in a 138° sector) gives k* = k = 2; seeds 1 and 2, whose
directions positively span the latent plane, give k* = k + 1 = 3 at L = 6 and 12.
Besides: a deep *linear* network trained to convergence, whose ‖θ‖² must equal the closed form
L Σ s_i^{2/L} of its learned product (balancedness at a critical point), and plain full-batch GD
at a small and a large step size η, comparing the NTK with the stability limit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorylab.experiments.base import (
    Criterion,
    Experiment,
    Observable,
    make_params,
    pad_ragged,
    require_int,
    require_nonempty,
    require_positive,
    require_range,
)
from theorylab.models.parallel import run_jobs
from theorylab.theory import representation_cost as rc

__all__ = ["EXPERIMENT", "Params", "figure", "simulate", "theory"]

#: number of top singular values of W_ℓ kept in the per-layer profile
N_TOP = 5


@dataclass(frozen=True)
class Params:
    """Setting of the quick protocol of the 2305.19008 note (shared with ``nonlinear_rank``).

    Attributes
    ----------
    depths : depths L (number of weight matrices) of the ReLU networks, increasing.
    d, k, teacher_hidden : input/output dimension, teacher inner dimension and teacher width.
    n_points : number N of Gaussian training points.
    width, lam : hidden width of the student and weight decay λ on Σ‖W_ℓ‖_F².
    adam_steps, lr, lbfgs_calls, lbfgs_max_iter : optimiser schedule (Adam with cosine decay
        from ``lr`` to 1e-5, then L-BFGS with strong Wolfe line search).
    restarts : initialisations per depth, trained together; the lowest objective is measured.
    rank_rtol : relative threshold of representation and Jacobian ranks (s_i > rtol·s_1).
    bottleneck_ratio, bottleneck_value : criterion (i): a layer is a bottleneck layer when
        s_{k+1}(W_ℓ) < ratio·s_k(W_ℓ) and exactly k singular values exceed ``value``.
    linear_depth, linear_width, linear_lbfgs_calls : the deep linear network check.
    gd_depth, gd_etas, gd_time, gd_lam : the learning-rate experiment: plain full-batch GD at
        each step size η for round(gd_time/η) steps (the same gradient-flow time η·t).
    workers : processes over which the trainings are spread (1: in this process); spawned, so a
        script calling ``simulate`` needs the ``if __name__ == "__main__":`` guard.
    """

    depths: tuple[int, ...] = (3, 6, 12)
    d: int = 6
    k: int = 2
    teacher_hidden: int = 8
    n_points: int = 128
    width: int = 24
    lam: float = 1e-3
    adam_steps: int = 3000
    lr: float = 2e-3
    lbfgs_calls: int = 3
    lbfgs_max_iter: int = 1500
    restarts: int = 1
    rank_rtol: float = 1e-2
    bottleneck_ratio: float = 0.05
    bottleneck_value: float = 0.5
    linear_depth: int = 4
    linear_width: int = 12
    linear_lbfgs_calls: int = 5
    gd_depth: int = 6
    gd_etas: tuple[float, ...] = (0.005, 0.02)
    gd_time: float = 20.0
    gd_lam: float = 1e-3
    workers: int = 2

    def __post_init__(self) -> None:
        require_nonempty("depths", self.depths)
        require_int("depths", self.depths, 2, 64)
        if list(self.depths) != sorted(set(self.depths)):
            raise ValueError(f"depths must be strictly increasing, got {self.depths}")
        require_int("d", self.d, 1, 10_000)
        require_int("k", self.k, 1, self.d)
        require_int("teacher_hidden", self.teacher_hidden, 1, 10_000)
        require_int("n_points", self.n_points, 2, 1_000_000)
        require_int("width", self.width, max(self.k, 1), 100_000)
        require_positive("lam", self.lam)
        require_int("adam_steps", self.adam_steps, 0, 10_000_000)
        require_positive("lr", self.lr)
        require_int("lbfgs_calls", self.lbfgs_calls, 0, 1000)
        require_int("lbfgs_max_iter", self.lbfgs_max_iter, 0, 10_000_000)
        require_int("restarts", self.restarts, 1, 1000)
        require_range("rank_rtol", self.rank_rtol, 1e-12, 1.0)
        require_range("bottleneck_ratio", self.bottleneck_ratio, 1e-12, 1.0)
        require_positive("bottleneck_value", self.bottleneck_value)
        require_int("linear_depth", self.linear_depth, 1, 64)
        require_int("linear_width", self.linear_width, 1, 100_000)
        require_int("linear_lbfgs_calls", self.linear_lbfgs_calls, 1, 1000)
        require_int("gd_depth", self.gd_depth, 2, 64)
        require_nonempty("gd_etas", self.gd_etas)
        require_positive("gd_etas", self.gd_etas)
        require_positive("gd_time", self.gd_time)
        require_positive("gd_lam", self.gd_lam)
        require_int("workers", self.workers, 1, 256)


# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------


def theory(p: Params) -> dict:
    """What the paper predicts independently of any training run.

    * ``inner_dimension``: R^(0) of the teacher f* = B relu(C P x), its inner dimension k: the
      middle representations of deep minimisers are at least Rank_J = k dimensional;
    * ``inner_dimension_max``: k + 1, the size of a positive basis of R^k: k + 1 non-negative
      units carry a signed k-dimensional latent through bias-free ReLU layers exactly (relu(Vz)
      with V a simplex frame is injective), so a bias-free bottleneck needs at most k + 1
      (the note's pitfall: k units do not suffice for a signed latent without an irregular,
      costly squeeze);
    * ``gd_ntk_limit``: stability of GD with step η at a minimum of the MSE needs the sharpness
      λ_max(Hessian) ≈ (2/N) λ_max(Θ) ≤ 2/η, i.e. λ_max(Θ)/N ≤ 1/η (note item 5).

    The other predictions (R^(1) ≥ 2 log|J|_{+,k}, the tail bound, the top-k scale
    √(1 + R^(1)/(kL)), L Σ s^{2/L} for a linear net) are bounds or closed forms evaluated on the
    trained network: they are computed in :func:`simulate` with
    :mod:`theorylab.theory.representation_cost` and compared in the checks.
    """
    return {
        "inner_dimension": float(p.k),
        "inner_dimension_max": float(p.k + 1),
        "gd_ntk_limit": 1.0 / np.asarray(p.gd_etas, dtype=float),
    }


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------


def _task(p: Params, seed: int):
    """Teacher and training set of one seed (drawn on the CPU from ``generator(seed)``)."""
    from theorylab.models.device import default_device, generator
    from theorylab.models.teachers import bottleneck_teacher, teacher_dataset

    gen = generator(seed)
    teacher = bottleneck_teacher(p.d, p.k, p.teacher_hidden, gen)
    x, y = teacher_dataset(teacher, p.n_points, gen)
    device = default_device()
    return x.to(device), y.to(device)


def _init_seeds(p: Params, seed: int, salt: int) -> tuple[int, ...]:
    """Initialisation seeds of the restarts, distinct from the data seed and across jobs."""
    return tuple(1_000_003 * (seed + 1) + 1009 * salt + r for r in range(p.restarts))


@dataclass(frozen=True)
class NetworkSpectra:
    """Everything measured on one trained network, before a bottleneck dimension is chosen.

    Attributes
    ----------
    weights : singular values of each W_ℓ (L arrays, descending).
    representations : numerical rank of each hidden pre-activation matrix Z_ℓ over the data.
    jacobians : singular values of Jf(x) at every data point, shape (N, min(d_out, d)).
    jacobian_ranks : numerical rank of Jf(x) at every point.
    norm2 : ‖θ‖².
    """

    weights: tuple[np.ndarray, ...]
    representations: np.ndarray
    jacobians: np.ndarray
    jacobian_ranks: np.ndarray
    norm2: float

    @property
    def depth(self) -> int:
        return len(self.weights)


def network_spectra(weights_one, x, rank_rtol: float) -> NetworkSpectra:
    """Weight spectra, representation ranks (s_i > rtol·s_1) and per-point Jacobian spectra."""
    from theorylab.measure.jacobian import relu_mlp_jacobians
    from theorylab.measure.norms import parameter_norm2
    from theorylab.measure.spectra import numerical_rank, singular_values
    from theorylab.models.mlp import mlp_preactivations

    zs = mlp_preactivations([w[None] for w in weights_one], x)
    jac_s = singular_values(relu_mlp_jacobians(weights_one, x))
    return NetworkSpectra(
        weights=tuple(singular_values(w) for w in weights_one),
        representations=np.array([numerical_rank(z[0], rank_rtol) for z in zs[:-1]], float),
        jacobians=jac_s,
        jacobian_ranks=np.asarray(numerical_rank(jac_s, rank_rtol, from_singular_values=True)),
        norm2=float(parameter_norm2(weights_one)),
    )


def _middle(depth: int) -> np.ndarray:
    """Mask of the middle hidden layers L/4 < ℓ ≤ 3L/4 among ℓ = 1 … L−1."""
    hidden = np.arange(1, depth)
    return (hidden > depth / 4) & (hidden <= 3 * depth / 4)


def bottleneck_dimension(spectra: NetworkSpectra, value: float) -> int:
    """Number of large singular values (> ``value``) of the middle weight matrices (median).

    The note's pitfall: a bias-free ReLU net cannot carry a signed latent in k non-negative
    units, so the dimension of items 2 and 4 is read from the middle spectra, not the teacher.
    The middle weights are the W_{ℓ+1} that read the middle hidden layers Z_ℓ.
    """
    middle = np.flatnonzero(_middle(spectra.depth)) + 1  # 0-based index of W_{ℓ+1}
    counts = [int(np.sum(spectra.weights[i] > value)) for i in middle] or [
        int(np.sum(s > value)) for s in spectra.weights
    ]
    return max(1, int(np.median(counts)))


def measure_network(spectra: NetworkSpectra, k: int, p: Params) -> dict:
    """Ranks and the bounds of the note (items 2 and 4) at bottleneck dimension ``k``.

    Parameters
    ----------
    spectra
        From :func:`network_spectra`.
    k
        Dimension used in R^(1)_est = ‖θ‖² − kL and the bounds.
    p
        Params (criterion (i) thresholds).
    """
    depth, layer_s, jac_s, norm2 = spectra.depth, spectra.weights, spectra.jacobians, spectra.norm2
    rep_ranks = spectra.representations
    ratio = max(
        float(np.max(rc.jacobian_bound(jac_s, depth, kk))) / rc.weight_head(layer_s, kk)
        for kk in range(1, min(k + 1, jac_s.shape[1]) + 1)
    )
    k_jac = min(k, jac_s.shape[1])
    tail = rc.weight_tail(layer_s, k)
    bound = float(np.min(rc.tail_bound(norm2, jac_s, depth, k_jac)))
    r1_est = norm2 - k * depth
    max_log_pdet2 = float(np.max(2.0 * np.asarray(rc.log_pdet_k(jac_s, k_jac))))

    top = np.full((depth, N_TOP), np.nan)
    for ell, s in enumerate(layer_s):
        top[ell, : min(N_TOP, s.size)] = s[:N_TOP]
    bottleneck = [
        s.size > k
        and s[k] < p.bottleneck_ratio * s[k - 1]
        and int(np.sum(s > p.bottleneck_value)) == k
        for s in layer_s
    ]
    middle = _middle(depth)
    mid_layers = [s[:k] for s, is_b in zip(layer_s, bottleneck, strict=True) if is_b]
    topk_rms = float(np.sqrt(np.mean(np.concatenate(mid_layers) ** 2))) if mid_layers else np.nan
    return {
        "norm2": norm2,
        "r1_est": r1_est,
        "max_log_pdet2": max_log_pdet2,
        "r1_margin": r1_est - max_log_pdet2,
        "bound_ratio": ratio,
        "tail": tail,
        "tail_bound": bound,
        "tail_slack": bound - tail,
        "head": rc.weight_head(layer_s, k),
        "bottleneck_layers": float(np.sum(bottleneck)),
        "middle_rep_rank": float(np.max(rep_ranks[middle])) if np.any(middle) else np.nan,
        "middle_weight_rank": float(bottleneck_dimension(spectra, p.bottleneck_value)),
        "frac_high_rank": float(np.mean(rep_ranks > k)),
        "jac_rank_max": float(np.max(spectra.jacobian_ranks)),
        "jac_rank_mean": float(np.mean(spectra.jacobian_ranks)),
        "topk_rms": topk_rms,
        "topk_expected": rc.expected_top_singular_value(max(r1_est, -k * depth), k, depth),
        "rep_ranks": rep_ranks,
        "weight_top": top,
    }


def train_relu_depth(p: Params, seed: int, depth: int) -> tuple[NetworkSpectra, dict]:
    """Train the ReLU networks of one depth on the seed's task; spectra of the best restart."""
    import torch

    from theorylab.models.training import TrainingConfig, train_mlp_on

    x, y = _task(p, seed)
    config = TrainingConfig(
        adam_steps=p.adam_steps,
        lr=p.lr,
        lbfgs_calls=p.lbfgs_calls,
        lbfgs_max_iter=p.lbfgs_max_iter,
    )
    run = train_mlp_on(
        x,
        y,
        depth=depth,
        width=p.width,
        lam=p.lam,
        seeds=_init_seeds(p, seed, depth),
        config=config,
    )
    best = int(np.argmin(run.result.loss))
    weights = [w[best] for w in run.weights]
    with torch.no_grad():
        mse = float(((run.y[best] - _forward_one(weights, x)) ** 2).sum(-1).mean())
    change = run.result.loss_change
    stats = {
        "mse": mse,
        "objective": float(run.result.loss[best]),
        "grad_norm": float(run.result.grad_norm[best]),
        "loss_change": float(np.nan_to_num(change[best], nan=np.inf))
        if change is not None
        else float("inf"),
        "converged": float(run.result.converged[best]),
        "train_s": run.result.elapsed_s,
    }
    return network_spectra(weights, x, p.rank_rtol), stats


def _forward_one(weights, x):
    from theorylab.models.mlp import single_forward

    return single_forward(weights, x)


def train_linear(p: Params, seed: int) -> dict:
    """Deep linear network on y = A x (A of rank k) with weight decay, trained to convergence.

    At a critical point of MSE + λ‖θ‖² the layers are balanced (W_{ℓ+1}ᵀW_{ℓ+1} = W_ℓW_ℓᵀ) and
    ‖θ‖² equals the linear representation cost L Σ s_i^{2/L} of the learned product
    (2209.15055 item 2; :func:`theorylab.theory.representation_cost.linear_cost`).
    """
    import torch

    from theorylab.measure.norms import parameter_norm2
    from theorylab.measure.spectra import singular_values
    from theorylab.models.device import default_device, generator
    from theorylab.models.training import TrainingConfig, train_mlp_on

    gen = generator(seed + 7_777_777)
    u = torch.linalg.qr(torch.randn(p.d, p.k, generator=gen, dtype=torch.float64))[0]
    v = torch.linalg.qr(torch.randn(p.d, p.k, generator=gen, dtype=torch.float64))[0]
    s = torch.linspace(2.0, 0.5, p.k, dtype=torch.float64)
    a = (u * s) @ v.T
    x = torch.randn(p.n_points, p.d, generator=gen, dtype=torch.float64)
    device = default_device()
    x, y = x.to(device), (x @ a.T).to(device)
    config = TrainingConfig(adam_steps=300, lr=5e-3, lbfgs_calls=p.linear_lbfgs_calls)
    run = train_mlp_on(
        x,
        y,
        depth=p.linear_depth,
        width=p.linear_width,
        lam=p.lam,
        seeds=_init_seeds(p, seed, 0)[:1],
        config=config,
        activation=_identity,
    )
    weights = [w[0] for w in run.weights]
    product = weights[0]
    for w in weights[1:]:
        product = w @ product
    norm2 = float(parameter_norm2(weights))
    cost = float(rc.linear_cost(singular_values(product), p.linear_depth))
    return {
        "linear_norm2": norm2,
        "linear_cost": cost,
        "linear_rel_error": abs(norm2 - cost) / cost,
        "linear_grad_norm": float(run.result.grad_norm[0]),
    }


def _identity(z):
    return z


def gradient_descent(weights, objective, eta: float, steps: int) -> np.ndarray:
    """Plain full-batch GD θ ← θ − η ∇ objective, in place; returns the objective every step."""
    import torch

    history = np.empty(steps)
    for t in range(steps):
        loss = objective(weights).sum()
        grads = torch.autograd.grad(loss, weights)
        with torch.no_grad():
            for w, g in zip(weights, grads, strict=True):
                w.sub_(eta * g)
        history[t] = float(loss.detach())
    return history


def ntk_spectrum(weights_one, x) -> np.ndarray:
    """Eigenvalues of the NTK Gram Θ = J_θ J_θᵀ (all N·d_out outputs), descending."""
    from theorylab.measure.jacobian import relu_mlp_ntk_gram

    gram = relu_mlp_ntk_gram(weights_one, x).cpu().numpy()
    return np.linalg.eigvalsh(gram)[::-1]


def train_gd(p: Params, seed: int) -> dict:
    """GD at every step size η of ``p.gd_etas`` from the same He initialisation.

    Measures λ_max(Θ)/N, Tr Θ/(N L), the number of hidden layers with representation rank > k
    and max_x 2 log|Jf(x)|_{+,k} after the same gradient-flow time η·t = ``gd_time`` at every η
    (so that the step size, not the training time, differs; 2305.19008 item 5: larger η ⇒
    smaller NTK, fewer high-dimensional layers, smaller Jacobian pseudo-determinants).
    """
    import torch

    from theorylab.measure.jacobian import relu_mlp_jacobians
    from theorylab.measure.spectra import numerical_rank, singular_values
    from theorylab.models.device import generator
    from theorylab.models.mlp import init_mlp, mlp_preactivations
    from theorylab.models.training import regularized_mse

    x, y = _task(p, seed)
    widths = [p.d, *([p.width] * (p.gd_depth - 1)), y.shape[1]]
    rows = []
    for eta in p.gd_etas:
        gen = generator(_init_seeds(p, seed, 99)[0])
        weights = init_mlp(widths, generator=gen, device=x.device)
        steps = max(1, round(p.gd_time / eta))
        hist = gradient_descent(weights, lambda ws: regularized_mse(ws, x, y, p.gd_lam), eta, steps)
        one = [w[0].detach() for w in weights]
        eig = ntk_spectrum(one, x)
        with torch.no_grad():
            zs = mlp_preactivations(weights, x)
        ranks = np.array([numerical_rank(z[0].detach(), p.rank_rtol) for z in zs[:-1]])
        jac_s = singular_values(relu_mlp_jacobians(one, x))
        tail = hist[-max(1, steps // 10) :]
        rows.append(
            {
                "gd_ntk_max": float(eig[0]) / p.n_points,
                "gd_ntk_trace": float(np.sum(eig)) / (p.n_points * p.gd_depth),
                "gd_high_rank_layers": float(np.sum(ranks > p.k)),
                "gd_max_log_pdet2": float(np.max(2 * np.asarray(rc.log_pdet_k(jac_s, p.k)))),
                "gd_objective": float(hist[-1]),
                "gd_objective_spread": float((tail.max() - tail.min()) / tail.min()),
                "gd_rep_ranks": ranks.astype(float),
            }
        )
    out = {key: np.array([r[key] for r in rows]) for key in rows[0] if key != "gd_rep_ranks"}
    out["gd_rep_ranks"] = np.stack([r["gd_rep_ranks"] for r in rows])
    return out


def _job(p: Params, seed: int, name: str, depth: int):
    if name == "relu":
        return name, depth, train_relu_depth(p, seed, depth)
    if name == "linear":
        return name, depth, train_linear(p, seed)
    return name, depth, train_gd(p, seed)


def simulate(p: Params, seed: int) -> dict:
    """All trainings of one seed (one teacher and data set): ReLU depths, linear net, GD.

    The jobs are independent; with ``workers > 1`` they run in spawned processes (one thread
    each), longest first.
    """
    jobs = [("relu", depth) for depth in sorted(p.depths, reverse=True)]
    jobs += [("gd", p.gd_depth), ("linear", p.linear_depth)]
    results = run_jobs(_job, [(p, seed, name, depth) for name, depth in jobs], p.workers)
    relu = {depth: r for name, depth, r in results if name == "relu"}
    other = {name: r for name, _, r in results if name != "relu"}
    k_star = bottleneck_dimension(relu[max(p.depths)][0], p.bottleneck_value)
    per_depth = [
        {**measure_network(relu[depth][0], k_star, p), **relu[depth][1]} for depth in p.depths
    ]
    out: dict = {"bottleneck_dim": float(k_star)}
    for key in per_depth[0]:
        if key == "rep_ranks":
            out[key] = pad_ragged([r[key] for r in per_depth], max(p.depths) - 1)
        elif key == "weight_top":
            out[key] = pad_ragged([r[key] for r in per_depth], max(p.depths))
        else:
            out[key] = np.array([r[key] for r in per_depth], dtype=float)
    out.update(other["linear"])
    out.update(other["gd"])
    out.update(_depth_trends(p, out))
    return out


def _depth_trends(p: Params, out: dict) -> dict:
    """Scalar summaries across depths used by criteria (ii) and (iii)."""
    frac = out["frac_high_rank"]
    trends = {
        "frac_high_rank_monotone": float(np.all(np.diff(frac) <= 0) and frac[-1] < frac[0])
        if len(frac) > 1
        else np.nan,
    }
    if len(p.depths) > 1:
        trends["tail_ratio"] = float(out["tail"][-1] / out["tail"][-2])
        r1 = out["r1_est"]
        trends["r1_rel_change"] = float(abs(r1[-1] - r1[-2]) / abs(r1[-1]))
    else:
        trends["tail_ratio"] = trends["r1_rel_change"] = np.nan
    return trends


# --------------------------------------------------------------------------------------------
# Figure
# --------------------------------------------------------------------------------------------


def _floats(value) -> np.ndarray:
    """Observable as a float array (a stored run has ``None`` where NaN was)."""
    return np.asarray(value, dtype=float)


def figure(result):
    """Representation rank per layer (several depths), weight spectra at the largest depth,
    R^(1)_est vs its Jacobian lower bound, and the NTK after GD vs the stability limit 1/η."""
    import matplotlib.pyplot as plt

    p = make_params(Params, result.params)
    fig, axes = plt.subplots(1, 4, figsize=(17, 4))
    sim = result.simulation
    if sim is None:
        return fig
    mean = {key: _floats(v) for key, v in sim["mean"].items()}
    sem = {key: np.nan_to_num(_floats(v)) for key, v in sim["sem"].items()}
    ax = axes[0]
    ranks, ranks_sem = mean["rep_ranks"], sem["rep_ranks"]
    for i, depth in enumerate(p.depths):
        ell = np.arange(1, depth)
        ax.errorbar(
            ell / depth, ranks[i, : depth - 1], yerr=ranks_sem[i, : depth - 1], marker="o",
            capsize=2, label=f"L = {depth}",
        )  # fmt: skip
    ax.axhline(p.k, color="black", ls="--", label=f"inner dimension k = {p.k}")
    ax.set_xlabel("layer ℓ / L")
    ax.set_ylabel(f"rank of pre-activations Z_ℓ (s_i > {p.rank_rtol:g}·s_1)")
    ax.set_title("bottleneck: rank per hidden layer")
    ax.legend(fontsize=7)

    ax = axes[1]
    top = mean["weight_top"][-1]
    depth = p.depths[-1]
    for i in range(N_TOP):
        ax.plot(np.arange(1, depth + 1), top[:depth, i], marker="o", ms=3, label=f"s_{i + 1}")
    expected = float(mean["topk_expected"][-1])
    ax.axhline(expected, color="black", ls="--", label="√(1 + R¹_est/(kL))")
    ax.set_yscale("log")
    ax.set_xlabel("layer ℓ")
    ax.set_ylabel("singular values of W_ℓ")
    ax.set_title(f"weight spectra, L = {depth}")
    ax.legend(fontsize=7)

    ax = axes[2]
    d = np.asarray(p.depths)
    ax.errorbar(
        d, mean["r1_est"], yerr=sem["r1_est"], fmt="o-", capsize=3,
        label="R¹_est = ‖θ‖² − kL (sim)",
    )  # fmt: skip
    ax.errorbar(
        d, mean["max_log_pdet2"], yerr=sem["max_log_pdet2"], fmt="s--",
        capsize=3, label="max_x 2 log|Jf(x)|_{+,k} (lower bound)",
    )  # fmt: skip
    ax.set_xlabel("depth L")
    ax.set_ylabel("R¹")
    ax.set_title("R¹ ≥ 2 log|J|₊")
    ax.legend(fontsize=7)

    ax = axes[3]
    etas = np.asarray(p.gd_etas)
    grid = np.geomspace(etas.min() / 2, etas.max() * 2, 50)
    ax.plot(grid, 1 / grid, color="black", label="stability limit 1/η")
    ax.errorbar(
        etas, mean["gd_ntk_max"], yerr=sem["gd_ntk_max"], fmt="o", capsize=3,
        label="λ_max(Θ)/N after GD (sim)",
    )  # fmt: skip
    ax.errorbar(
        etas, mean["gd_ntk_trace"], yerr=sem["gd_ntk_trace"], fmt="s",
        capsize=3, label="Tr Θ/(NL) (sim)",
    )  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_xticks(etas, [f"{e:g}" for e in etas])
    ax.set_xlabel("GD step size η")
    ax.set_ylabel("NTK scale")
    ax.set_title(f"NTK after GD vs stability limit (L = {p.gd_depth})")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------------------------


def _deep(coords) -> bool:
    return coords["depths"] >= 12


EXPERIMENT = Experiment(
    slug="bottleneck_rank",
    arxiv="2305.19008",
    title="Bottleneck structure in learned features: low-dimension vs regularity tradeoff",
    claim=(
        "The representation cost of deep ReLU networks expands in depth as L R^(0) + R^(1) + "
        "R^(2)/L: the bottleneck rank R^(0) plus a regularity term R^(1) that upper-bounds the "
        "log pseudo-determinant of the Jacobian. At large depth, weight-decayed minimisers "
        "have a bottleneck structure: almost every weight matrix keeps R^(0) singular values "
        "near √(1 + R^(1)/(kL)) while the others collapse, and the middle representations "
        "are R^(0)-dimensional. Large learning rates keep the NTK small, which is what makes "
        "the representations low-dimensional."
    ),
    params=Params,
    theory=theory,
    simulate=simulate,
    observables={
        "inner_dimension": Observable("R^(0) of the teacher: its inner dimension k"),
        "gd_ntk_limit": Observable("GD stability limit on λ_max(Θ)/N: 1/η", ("gd_etas",)),
        "norm2": Observable("‖θ‖² of the trained ReLU net", ("depths",)),
        "r1_est": Observable("R^(1)_est = ‖θ‖² − k*L", ("depths",)),
        "max_log_pdet2": Observable("max over points of 2 log|Jf(x)|_{+,k}", ("depths",)),
        "r1_margin": Observable("R^(1)_est − max_x 2 log|Jf(x)|_{+,k}", ("depths",)),
        "bound_ratio": Observable(
            "max over points and k' ≤ k+1 of L k'|J|_{+,k'}^{2/(k'L)} / Σ_ℓΣ_{i≤k'} s_i(W_ℓ)²",
            ("depths",),
        ),
        "tail": Observable("Σ_ℓ Σ_{i>k} s_i(W_ℓ)² (note item 4)", ("depths",)),
        "tail_bound": Observable("min_x ‖θ‖² − L k |J|_{+,k}^{2/(kL)}", ("depths",)),
        "tail_slack": Observable("tail_bound − tail (≥ 0 by item 4)", ("depths",)),
        "head": Observable("Σ_ℓ Σ_{i≤k} s_i(W_ℓ)²", ("depths",)),
        "bottleneck_layers": Observable(
            "layers with s_{k+1} < ratio·s_k and exactly k singular values > value", ("depths",)
        ),
        "inner_dimension_max": Observable("k + 1: positive-basis bound for bias-free ReLU nets"),
        "bottleneck_dim": Observable(
            "k*: median number of singular values > bottleneck_value of the middle weights at "
            "the largest depth (used as k in R^(1)_est and the bounds)"
        ),
        "middle_weight_rank": Observable("that median number at each depth", ("depths",)),
        "middle_rep_rank": Observable(
            "max representation rank over the middle hidden layers L/4 < ℓ ≤ 3L/4", ("depths",)
        ),
        "frac_high_rank": Observable(
            "fraction of hidden layers with representation rank > k", ("depths",)
        ),
        "jac_rank_max": Observable("max over points of the Jacobian rank", ("depths",)),
        "jac_rank_mean": Observable("mean over points of the Jacobian rank", ("depths",)),
        "topk_rms": Observable(
            "rms of the top-k singular values of the bottleneck layers", ("depths",)
        ),
        "topk_expected": Observable("√(1 + R^(1)_est/(kL)) (note item 4)", ("depths",)),
        "rep_ranks": Observable(
            "representation rank per hidden layer, shape (len(depths), max(depths) − 1), "
            "NaN-padded (not a declared grid: a per-layer profile)"
        ),
        "weight_top": Observable(
            f"top {N_TOP} singular values of W_ℓ, shape (len(depths), max(depths), {N_TOP}), "
            "NaN-padded per-layer profile"
        ),
        "mse": Observable("training MSE of the measured network", ("depths",)),
        "objective": Observable("final regularised objective", ("depths",)),
        "grad_norm": Observable("final gradient norm (convergence criterion)", ("depths",)),
        "loss_change": Observable(
            "relative objective change over the last L-BFGS call", ("depths",)
        ),
        "converged": Observable("1 if the training criterion declared convergence", ("depths",)),
        "train_s": Observable("training wall time (s)", ("depths",)),
        "frac_high_rank_monotone": Observable(
            "1 if frac_high_rank is non-increasing in L and smaller at the largest depth"
        ),
        "tail_ratio": Observable("tail at the largest depth / tail at the second largest"),
        "r1_rel_change": Observable("|R^(1)_est(L_max) − R^(1)_est(L_prev)| / R^(1)_est(L_max)"),
        "linear_norm2": Observable("‖θ‖² of the trained deep linear net"),
        "linear_cost": Observable("L Σ s_i^{2/L} of its learned product (closed form)"),
        "linear_rel_error": Observable("|‖θ‖² − L Σ s^{2/L}| / L Σ s^{2/L}"),
        "linear_grad_norm": Observable("final gradient norm of the linear net"),
        "gd_ntk_max": Observable("λ_max(Θ)/N after GD", ("gd_etas",)),
        "gd_ntk_trace": Observable("Tr Θ/(N L) after GD", ("gd_etas",)),
        "gd_high_rank_layers": Observable(
            "hidden layers with representation rank > k after GD", ("gd_etas",)
        ),
        "gd_max_log_pdet2": Observable("max_x 2 log|Jf(x)|_{+,k} after GD", ("gd_etas",)),
        "gd_objective": Observable("regularised objective after GD", ("gd_etas",)),
        "gd_objective_spread": Observable(
            "relative spread of the objective over the last 10 % of GD steps", ("gd_etas",)
        ),
        "gd_rep_ranks": Observable(
            "representation rank per hidden layer after GD, shape (len(gd_etas), gd_depth − 1)"
        ),
    },
    checks=(
        Criterion(
            "middle_rep_rank",
            "==",
            "bottleneck_dim",
            reference_source="simulation",
            where=_deep,
            reason="the bottleneck: at large depth (L ≥ 12) the middle hidden representations "
            "(L/4 < ℓ ≤ 3L/4, rank s_i > 1e-2·s_1) have exactly the dimension k* carried by the "
            "middle weights (number of singular values > 0.5; note: ranks 2 at ℓ = 3…9, L = 12)",
        ),
        Criterion(
            "bottleneck_dim",
            ">=",
            "inner_dimension",
            reason="the bottleneck dimension k* is at least the task's inner dimension k = "
            "Rank_J of the teacher (2209.15055: R^(0) ≥ Rank_J); note: k* = 2 = k",
        ),
        Criterion(
            "bottleneck_dim",
            "<=",
            "inner_dimension_max",
            reason="and at most k + 1 (a positive basis of R^k carries the signed latent through "
            "bias-free ReLU layers; the note's pitfall on signed latents)",
        ),
        Criterion(
            "bottleneck_layers",
            ">=",
            5.0,
            where=_deep,
            reason="note criterion (i): at L = 12, ≥ 5 of the 12 layers have s_{k+1} < "
            "0.05·s_k and exactly k singular values > 0.5 (measured 6 in the note)",
        ),
        Criterion(
            "frac_high_rank",
            "<=",
            0.4,
            where=_deep,
            reason="note criterion (ii): fraction of hidden layers with representation rank > k "
            "is ≤ 0.4 at L = 12 (measured 4/11 = 0.36 in the note)",
        ),
        Criterion(
            "frac_high_rank_monotone",
            "==",
            1.0,
            reason="note criterion (ii): that fraction does not increase with L and is smaller at "
            "the largest depth (note: 2/2, 5/5, 4/11)",
        ),
        Criterion(
            "tail_ratio",
            "<=",
            0.5,
            reason="note criterion (ii): the item-4 tail Σ_ℓΣ_{i>k} s_i(W_ℓ)² at the largest depth "
            "is < 0.5 × its value at the previous depth (note: 2.17/5.66 = 0.38 for L = 12 vs 6)",
        ),
        Criterion(
            "r1_margin",
            ">=",
            0.0,
            reason="note criterion (iii), item 2: R^(1)_est = ‖θ‖² − kL ≥ max_x 2 log|Jf(x)|_{+,k} "
            "(a theorem at every depth; note: 10.45/13.25/13.44 vs 3.23/3.22/3.26)",
        ),
        Criterion(
            "r1_rel_change",
            "<=",
            0.1,
            reason="note criterion (iii): R^(1)_est converges with depth, |R^(1)(L_max) − "
            "R^(1)(L_prev)| < 0.1·R^(1)(L_max) (note: 1.4 % for L = 12 vs 6)",
        ),
        Criterion(
            "bound_ratio",
            "<=",
            1.0,
            atol=1e-9,
            reason="note criterion (iv), item 2 (Horn + AM-GM, a theorem): "
            "L k'|J|_{+,k'}^{2/(k'L)} ≤ Σ_ℓΣ_{i≤k'} s_i(W_ℓ)² at every point and k' ≤ k + 1; "
            "1e-9 for round-off",
        ),
        Criterion(
            "tail_slack",
            ">=",
            0.0,
            atol=1e-9,
            reason="note criterion (iv), item 4 (a theorem): Σ_ℓΣ_{i>k} s_i(W_ℓ)² ≤ ‖θ‖² − "
            "L k |J|_{+,k}^{2/(kL)} at every point; 1e-9 for round-off",
        ),
        Criterion(
            "topk_rms",
            "==",
            "topk_expected",
            reference_source="simulation",
            rtol=0.03,
            where=_deep,
            reason="note item 4 (AM-GM equality case): at L ≥ 12 the top-k singular values of "
            "the bottleneck layers sit at √(1 + R^(1)_est/(kL)); 3 % allowed (the note measured "
            "rms 1.237 vs 1.25, 1 %; the outer layers carry part of R^(1))",
        ),
        Criterion(
            "linear_rel_error",
            "<=",
            1e-3,
            reason="the issue's check: a deep linear net trained with weight decay to "
            "convergence is balanced, so ‖θ‖² = L Σ s_i^{2/L} of its learned product; 1e-3 "
            "relative (the nonlinear_rank note measured 1e-6 at a converged minimum)",
        ),
        Criterion(
            "gd_ntk_max",
            "<=",
            "gd_ntk_limit",
            rtol=0.1,
            reason="note item 5: GD with step η is only stable where the sharpness "
            "(2/N)λ_max(Θ) ≤ 2/η; at the edge of stability the sharpness hovers at 2/η, so "
            "10 % is allowed for the oscillation and the Gauss-Newton approximation",
        ),
    ),
    figure=figure,
    seeds=1,
)
