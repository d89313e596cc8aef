"""The tied two-layer denoising autoencoder with a skip connection, trained to convergence.

``f(y) = b y + w tanh(w·y/√d)/√d`` (one hidden unit, tied weights, scalar skip ``b``; without
the skip ``b = 0``), trained on pairs (noisy ``y``, clean ``x``) by minimising

    Σ_ν ½‖f(y_ν) − x_ν‖² + (λ/2)‖w‖²          (arXiv 2305.11041, Sec. 2)

in float64: several restarts (``w ~ N(0, I)``, ``b`` profiled out) batched as independent
networks and trained by full-batch L-BFGS (:func:`theorylab.models.training.train`), the best
restart kept.
The loss is evaluated through the projections only — with ``h_ν = w·y_ν/√d`` and
``g_ν = w·x_ν/√d``,
``½‖b y − x‖² + φ(h)(b h − g) + ½ φ(h)²‖w‖²/d`` per sample — so one evaluation costs two
matrix–vector products with the data, not an n × d residual.

:func:`population_error` gives the exact test error of given weights on the Gaussian mixture
(an infinite paired test set): the test error only depends on the projections of one test point
on ``w``, which are Gaussian given the cluster. Used by arXiv 2305.11041 and meant for the
generative papers built on the same denoiser (2310.03575, 2501.03937).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from theorylab.models.training import TrainingConfig, train
from theorylab.theory.gaussian import expect2, gauss_hermite

__all__ = [
    "DAEFit",
    "MixtureMoments",
    "SignDAE",
    "dae_loss",
    "denoise",
    "direction_controls",
    "fit_sign_dae",
    "image_error",
    "image_pca_error",
    "optimal_skip",
    "pca_direction",
    "pca_error",
    "population_error",
    "rescaling_fit",
    "train_dae",
    "training_pool",
]


def denoise(w: torch.Tensor, b: torch.Tensor | float, y: torch.Tensor) -> torch.Tensor:
    """``f(y) = b y + w tanh(w·y/√d)/√d`` for rows ``y`` (shape (N, d)), one network ``w``."""
    d = y.shape[-1]
    h = y @ w / math.sqrt(d)
    return b * y + torch.tanh(h)[:, None] * w[None, :] / math.sqrt(d)


def dae_loss(
    w: torch.Tensor, b: torch.Tensor, y: torch.Tensor, x: torch.Tensor, lam: float,
    stats: tuple[float, float, float] | None = None,
) -> torch.Tensor:
    """Per-network training loss, shape (R,), for weights ``w`` (R, d), skips ``b`` (R,) and one
    data set ``y, x`` (n, d). ``stats = (Σ‖y‖², Σ y·x, Σ‖x‖²)`` may be precomputed."""
    d = y.shape[-1]
    syy, sxy, sxx = stats if stats is not None else _gram(y, x)
    h = w @ y.T / math.sqrt(d)  # (R, n)
    g = w @ x.T / math.sqrt(d)
    phi = torch.tanh(h)
    q = (w * w).sum(-1)
    skip = 0.5 * (b**2 * syy - 2.0 * b * sxy + sxx)
    hidden = (phi * (b[:, None] * h - g)).sum(-1) + 0.5 * q / d * (phi * phi).sum(-1)
    return skip + hidden + 0.5 * lam * q


def optimal_skip(
    w: torch.Tensor, y: torch.Tensor, x: torch.Tensor, stats: tuple[float, float, float]
) -> torch.Tensor:
    """The loss is quadratic in ``b``: its minimiser given ``w`` is
    ``b(w) = (Σ y·x − Σ_ν φ(h_ν) h_ν)/Σ‖y‖²``. Training profiles ``b`` out (its curvature
    ``Σ‖y‖² ≈ n d`` dwarfs that of ``w`` and would stall L-BFGS); at the minimum of the
    profiled loss ``(w, b(w))`` is a stationary point of the full loss."""
    d = y.shape[-1]
    h = w @ y.T / math.sqrt(d)
    return (stats[1] - (torch.tanh(h) * h).sum(-1)) / stats[0]


def _gram(y: torch.Tensor, x: torch.Tensor) -> tuple[float, float, float]:
    return float((y * y).sum()), float((y * x).sum()), float((x * x).sum())


@dataclass(frozen=True)
class DAEFit:
    """The best of the restarts: weights, skip, loss and the convergence verdict."""

    w: np.ndarray
    b: float
    loss: float
    converged: bool
    criterion: str
    restart_losses: np.ndarray


def train_dae(
    y: torch.Tensor,
    x: torch.Tensor,
    lam: float,
    *,
    skip: bool = True,
    restarts: int = 2,
    generator: torch.Generator | None = None,
    config: TrainingConfig | None = None,
) -> DAEFit:
    """Minimise the DAE loss from ``restarts`` initialisations ``w ~ N(0, I)`` (``b`` profiled
    out: :func:`optimal_skip`); without ``skip`` the skip is fixed at 0. Returns the restart of
    lowest loss."""
    d = y.shape[-1]
    config = config or TrainingConfig(
        adam_steps=0, lbfgs_calls=4, lbfgs_max_iter=2000, grad_tol=1e-5, plateau_rtol=1e-12
    )
    w = torch.randn(restarts, d, generator=generator, dtype=y.dtype).to(y.device)
    w.requires_grad_(True)
    stats = _gram(y, x)

    def objective(p):
        b = optimal_skip(p[0], y, x, stats) if skip else torch.zeros_like(p[0][:, 0])
        return dae_loss(p[0], b, y, x, lam, stats)

    result = train([w], objective, config)
    best = int(np.argmin(result.loss))
    b = optimal_skip(w.detach(), y, x, stats)[best] if skip else 0.0
    return DAEFit(
        w=w.detach()[best].cpu().numpy(),
        b=float(b),
        loss=float(result.loss[best]),
        converged=bool(result.converged[best]),
        criterion=result.criterion,
        restart_losses=np.asarray(result.loss),
    )


def rescaling_fit(y: torch.Tensor, x: torch.Tensor) -> float:
    """Least-squares skip-only denoiser ``r(y) = b y``: ``b = Σ y·x / Σ‖y‖²``."""
    return float((y * x).sum() / (y * y).sum())


def pca_direction(x: torch.Tensor) -> np.ndarray:
    """Top eigenvector of the clean training data's second moment ``XᵀX/n`` (unit norm)."""
    m = (x.T @ x / x.shape[0]).cpu().numpy()
    _, vecs = np.linalg.eigh(m)
    return vecs[:, -1]


# --------------------------------------------------------------------------------------------
# Exact test error on the Gaussian mixture
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MixtureMoments:
    """The two-cluster mixture ``x = s μ_e + z``, ``z ~ N(0, Σ_s)`` seen by the test error:
    ``mean`` is μ_e; ``cov_plus``/``cov_minus`` the cluster covariances (d × d), or None with
    ``s2_plus``/``s2_minus`` for isotropic clusters."""

    mean: np.ndarray
    s2_plus: float
    s2_minus: float
    cov_plus: np.ndarray | None = None
    cov_minus: np.ndarray | None = None

    @property
    def d(self) -> int:
        return self.mean.shape[0]

    def quad(self, a: np.ndarray, s: float) -> float:
        """``aᵀ Σ_s a``."""
        cov = self.cov_plus if s > 0 else self.cov_minus
        if cov is None:
            return float((self.s2_plus if s > 0 else self.s2_minus) * (a @ a))
        return float(a @ cov @ a)

    @property
    def clean_power(self) -> float:
        """``E‖x‖² = ‖μ_e‖² + (tr Σ_+ + tr Σ_−)/2``."""
        if self.cov_plus is None:
            tr = self.d * 0.5 * (self.s2_plus + self.s2_minus)
        else:
            tr = 0.5 * (np.trace(self.cov_plus) + np.trace(self.cov_minus))
        return float(self.mean @ self.mean + tr)


def population_error(
    mix: MixtureMoments, delta: float, b: float, w: np.ndarray | None = None, nodes: int = 80
) -> float:
    """Exact total test error ``E‖f(y) − x‖²`` of ``f(y) = b y + w tanh(w·y/√d)/√d`` (``w=None``:
    the rescaling ``b y`` alone) for ``y = √(1 − Δ) x + √Δ ξ``.

    ``E‖b y − x‖² = (1 − bc)² E‖x‖² + b² Δ d``; the hidden unit adds, per cluster ``s``,
    ``E[‖w‖²/d φ(h)² + 2 φ(h)(b y − x)·w/√d]`` where ``(u, v) = (w·x/√d, √Δ w·ξ/√d)`` is
    Gaussian: ``u ~ N(s w·μ_e/√d, wᵀΣ_s w/d)``, ``v ~ N(0, Δ‖w‖²/d)`` independent,
    ``h = c u + v`` and ``(b y − x)·w/√d = (bc − 1) u + b v`` (tensor Gauss–Hermite,
    :func:`theorylab.theory.gaussian.expect2`).
    """
    d = mix.d
    c = math.sqrt(1.0 - delta)
    total = (1.0 - b * c) ** 2 * mix.clean_power + b**2 * delta * d
    if w is None:
        return float(total)
    q = float(w @ w) / d
    for s in (1.0, -1.0):
        mean_u = s * float(w @ mix.mean) / math.sqrt(d)
        var_u = mix.quad(w, s) / d
        cov = np.array([[var_u, 0.0], [0.0, delta * q]])

        def integrand(du, v, mean_u=mean_u):
            u = mean_u + du
            phi = np.tanh(c * u + v)
            return q * phi**2 + 2.0 * phi * ((b * c - 1.0) * u + b * v)

        total += 0.5 * float(expect2(integrand, cov, n=nodes))
    return float(total)


def image_error(
    x: np.ndarray, delta: float, b: float, w: np.ndarray | None = None, nodes: int = 80
) -> float:
    """Test error ``E_ξ‖f(c x + √Δ ξ) − x‖²`` averaged over the rows ``x`` (real test images),
    exact in the noise ξ: given ``x``, ``u = w·x/√d`` is fixed and ``v = √Δ w·ξ/√d ~ N(0, Δq)``
    (one-dimensional Gauss–Hermite); the terms as in :func:`population_error`."""
    d = x.shape[1]
    c = math.sqrt(1.0 - delta)
    total = (1.0 - b * c) ** 2 * float(np.mean(np.sum(x * x, axis=1))) + b**2 * delta * d
    if w is None:
        return float(total)
    q = float(w @ w) / d
    z, weight = gauss_hermite(nodes)
    u = (x @ w / math.sqrt(d))[:, None]
    v = math.sqrt(delta * q) * z[None, :]
    phi = np.tanh(c * u + v)
    hidden = (q * phi**2 + 2.0 * phi * ((b * c - 1.0) * u + b * v)) @ weight
    return float(total + np.mean(hidden))


def image_pca_error(x: np.ndarray, delta: float, e: np.ndarray) -> float:
    """:func:`pca_error` averaged over the rows ``x`` (real test images), exact in the noise."""
    c = math.sqrt(1.0 - delta)
    return float(np.mean(np.sum(x * x, axis=1) + (c**2 - 2.0 * c) * (x @ e) ** 2) + delta)


def training_pool(covariance: str, d: int, s2: float, n_max: int, gen: torch.Generator):
    """Clean training data of arXiv 2305.11041 and the exact test errors that go with it.

    Returns the pool (``n_max`` rows, float64; a fit at sample size n uses the first n), ``√d μ_e``
    and ``error(n, Δ, b, w)``, ``pca(n, Δ, e)``: the total test errors of the DAE (``w=None``:
    the rescaling) and of PCA. ``covariance``: ``isotropic`` (``s2 I``) or ``wishart`` (the
    authors' ``s2 F Fᵀ``), ``μ_e = 1/√d``, errors on the Gaussian mixture (an infinite paired
    test set, :func:`population_error`); or ``digits``: the 358 preprocessed images 1 vs 7
    (:mod:`theorylab.models.digits`) in a random order, errors averaged over the images not
    trained on (exact in the noise, :func:`image_error`).
    """
    from theorylab.models.digits import two_class_digits
    from theorylab.theory.dae import wishart_factors

    dt = torch.float64
    if covariance == "digits":
        data = two_class_digits()
        pool = data.images[torch.randperm(len(data.images), generator=gen).numpy()]
        return (torch.from_numpy(pool[:n_max].copy()), data.mean * math.sqrt(d),
                lambda n, delta, b, w=None: image_error(pool[n:], delta, b, w),
                lambda n, delta, e: image_pca_error(pool[n:], delta, e))
    mu_e = torch.ones(d, dtype=dt) / math.sqrt(d)
    s = torch.randint(0, 2, (n_max,), generator=gen).to(dt) * 2.0 - 1.0
    if covariance == "isotropic":
        z = math.sqrt(s2) * torch.randn(n_max, d, generator=gen, dtype=dt)
        mix = MixtureMoments(mu_e.numpy(), s2, s2)
    else:
        fp, fm = (torch.from_numpy(f) for f in wishart_factors(d))
        zp = torch.randn(n_max, fp.shape[1], generator=gen, dtype=dt) @ fp.T
        zm = torch.randn(n_max, fm.shape[1], generator=gen, dtype=dt) @ fm.T
        z = math.sqrt(s2) * torch.where(s[:, None] > 0, zp, zm)
        cov_p, cov_m = (s2 * (f @ f.T).numpy() for f in (fp, fm))
        mix = MixtureMoments(mu_e.numpy(), float(np.trace(cov_p)) / d,
                             float(np.trace(cov_m)) / d, cov_p, cov_m)
    return (s[:, None] * mu_e + z, mu_e.numpy() * math.sqrt(d),
            lambda n, delta, b, w=None: population_error(mix, delta, b, w),
            lambda n, delta, e: pca_error(mix, delta, e))


def direction_controls(covariance: str, s2: float, x: torch.Tensor, xi: torch.Tensor,
                       ns) -> np.ndarray:
    """Control variates of one training set of the synthetic mixtures (:func:`training_pool`,
    ``isotropic`` or ``wishart``), each of exactly zero mean, on the first n rows for each n of
    ``ns``: shape (len(ns), 3) with, along the mean direction μ_e = 1/√d (u = x·μ_e, v = ξ·μ_e
    for the clean rows x and the noise ξ ~ N(0, I)), the sample means of v² − 1,
    u² − E u² and u v. With x = s μ_e + z, z ~ N(0, Σ_s), s = ±1 equally likely:
    E u² = 1 + (μ_eᵀΣ_+μ_e + μ_eᵀΣ_−μ_e)/2, i.e. 1 + s2 for isotropic clusters and
    1 + s2 (‖F_+ᵀμ_e‖² + ‖F_−ᵀμ_e‖²)/2 for the Wishart ones. They are the sample's own
    signal-to-noise along μ_e, which sets how well the hidden unit finds μ_e."""
    from theorylab.theory.dae import wishart_factors

    d = x.shape[1]
    mu_e = torch.ones(d, dtype=x.dtype) / math.sqrt(d)
    if covariance == "isotropic":
        power = 1.0 + s2
    elif covariance == "wishart":
        m = mu_e.numpy()
        power = 1.0 + 0.5 * s2 * sum(float(np.sum((f.T @ m) ** 2)) for f in wishart_factors(d))
    else:
        raise ValueError(f"covariance must be isotropic or wishart, got {covariance!r}")
    u, v = (x @ mu_e).cpu(), (xi @ mu_e).cpu()
    return np.array([[float((v[:n] ** 2).mean()) - 1.0, float((u[:n] ** 2).mean()) - power,
                      float((u[:n] * v[:n]).mean())] for n in ns])


def pca_error(mix: MixtureMoments, delta: float, e: np.ndarray) -> float:
    """Exact total test error of the projection ``f(y) = (y·e) e`` on a unit vector ``e``:
    ``E‖x‖² + (c² − 2c) E(x·e)² + Δ``."""
    c = math.sqrt(1.0 - delta)
    second = float(e @ mix.mean) ** 2 + 0.5 * (mix.quad(e, 1.0) + mix.quad(e, -1.0))
    return mix.clean_power + (c**2 - 2.0 * c) * second + delta


# --------------------------------------------------------------------------------------------
# Sign hidden unit: the denoiser of the flow (arXiv 2310.03575)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignDAE:
    """``f(y) = c y + w sign(w·y)``: skip ``c``, tied weight ``w``, the training signs ``h``."""

    c: float
    w: torch.Tensor
    signs: torch.Tensor
    rounds: int
    stable: bool

    def __call__(self, y: torch.Tensor) -> torch.Tensor:
        return self.c * y + torch.sign(y @ self.w)[:, None] * self.w[None, :]


def fit_sign_dae(
    y: torch.Tensor, x: torch.Tensor, lam: float, signs: torch.Tensor, max_rounds: int = 20,
    iterate: bool = True,
) -> SignDAE:
    """Exact minimiser of ``Σ_ν ½‖c y_ν + w sign(w·y_ν) − x_ν‖² + (λ/2)‖w‖²`` (λ on w only).

    With the hidden unit's signs ``h_ν`` on the training inputs fixed the loss is quadratic:
    ``u = Σ h x``, ``v = Σ h y``, ``c = (Σ y·x − v·u/(n+λ))/(Σ‖y‖² − ‖v‖²/(n+λ))``,
    ``w = (u − c v)/(n + λ)``. Starting from ``signs``, ``h ← sign(w·y_ν)`` is repeated until the
    signs are self-consistent (``stable``) or ``max_rounds`` is reached; ``iterate=False`` keeps
    ``signs``.
    """
    n = y.shape[0]
    h = signs.to(y.dtype)
    syx, syy = float((y * x).sum()), float((y * y).sum())
    for rounds in range(1, max_rounds + 1):
        u, v = h @ x, h @ y
        c = (syx - float(v @ u) / (n + lam)) / (syy - float(v @ v) / (n + lam))
        w = (u - c * v) / (n + lam)
        if not iterate:
            return SignDAE(c, w, h, rounds, True)
        new = torch.sign(y @ w)
        if torch.equal(new, h):
            return SignDAE(c, w, h, rounds, True)
        h = new
    return SignDAE(c, w, h, max_rounds, False)
