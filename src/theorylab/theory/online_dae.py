"""Online-SGD training of a tied two-layer autoencoder with a skip, and the flow it drives.

Cui, Pehlevan, Lu, arXiv 2501.03937 (Result 1 and the generated-density formula). Denoiser
``f(x) = b x + wᵀ σ(w x/√d)/√d`` (``w ∈ R^{r×d}``, scalar skip ``b``) trained on the loss
``‖f(x) − x1‖²`` (no ½) by online SGD, one fresh sample per step, with learning rate ``η`` on
``w`` (coupled L2 weight decay ``wd``) and ``η/d²`` on ``b``. Target ``x1 = μ_c + s z``
(cluster ``c`` with probability ``π_c``, ``z ~ N(0, I_d)``; ``s² = 1`` for data, the bulk
variance of the previous generation's samples under retraining), input ``x = β x1 + α ξ``.

As ``d → ∞`` with ``‖μ_k‖ = O(1)`` the summary statistics ``M_kγ = μ_k·w_γ/√d``,
``Q_γδ = w_γ·w_δ/d`` and ``b`` follow ODEs in ``τ = 2ηn/d`` (the 2 because the loss has no ½);
the weight decay enters as ``λ = wd·d/2``. The Gaussian expectations run over the ``2r`` local
fields ``λ1 = w z/√d ~ N(0, s² Q)``, ``λ0 = w ξ/√d ~ N(0, Q)``; the target-mean projections
``u = (μ_k·z)``, ``v = (μ_k·ξ)`` enter linearly and are replaced by their conditional means
``M Q⁻¹ λ1``, ``M Q⁻¹ λ0`` (own derivation, written out in :func:`overlap_rates`).

Generated samples (Euler flow with velocity ``(f(x) − x)/(1 − t)``): ``Z = w x/√d`` follows an
``r``-dimensional map, the part of ``x`` orthogonal to ``span(w)`` is multiplied by
``S = Π_k (1 + (b − 1) dt/(1 − t_k))``, so a projection on unit directions ``e_j`` with
``G_jγ = e_j·w_γ/√d`` is ``G Q⁻¹ Z_final + N(0, S² (I − G Q⁻¹ Gᵀ))`` — with ``S²``, not the
``S`` of the authors' notebook. Pure numpy/scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri, owens_t

from theorylab.theory.gaussian import gauss_hermite

__all__ = [
    "OverlapTrajectory",
    "Target",
    "bivariate_orthant",
    "bulk_scale",
    "flow_times",
    "generated_projection",
    "overlap_ode",
    "overlap_rates",
    "retraining_recursion",
    "skip_weight",
]


@dataclass(frozen=True)
class Target:
    """Gaussian-mixture target and training setting.

    ``means`` (K × K Gram matrix ``T_kl = μ_k·μ_l`` suffices: only inner products enter),
    ``weights`` π_k, ``beta``/``alpha`` the signal and noise scales of the input, ``eta`` the
    learning rate (the SGD-noise term of dQ/dτ is proportional to it), ``lam = wd·d/2`` and
    ``s2`` the bulk variance of the target.
    """

    gram: np.ndarray
    weights: np.ndarray
    beta: float
    alpha: float
    eta: float
    lam: float
    s2: float = 1.0


def skip_weight(tau, beta: float, alpha: float, s2: float = 1.0, b0: float = 0.0):
    """Closed form of db/dτ = β s² − b(α² + β² s²): ``b(τ) = b∞ + (b0 − b∞) e^{−(α²+β²s²)τ}``,
    ``b∞ = β s²/(α² + β² s²)``."""
    rate = alpha**2 + beta**2 * s2
    b_inf = beta * s2 / rate
    return b_inf + (b0 - b_inf) * np.exp(-rate * np.asarray(tau, dtype=float))


def _nodes(r: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Tensor Gauss–Hermite rule in 2r dimensions: points (P, 2r), weights (P,)."""
    z, w = gauss_hermite(n)
    grids = np.meshgrid(*([z] * 2 * r), indexing="ij")
    weights = np.ones(1)
    for _ in range(2 * r):
        weights = np.multiply.outer(weights, w).ravel()
    return np.stack([g.ravel() for g in grids], axis=1), weights


def overlap_rates(M, Q, b, target: Target, nodes) -> tuple[np.ndarray, np.ndarray, float]:
    """(dM/dτ, dQ/dτ, db/dτ) of Result 1 for one state.

    Per cluster c (``M_c`` its row of M, ``T_c`` its column of T):
    ``h = β(M_c + λ1) + αλ0``, ``μ_k·x1 = T_kc + u_k``, ``μ_k·x = β(T_kc + u_k) + α v_k``,
    ``μ_k·e = b μ_k·x + Σ_δ M_kδ σ_δ − μ_k·x1``, ``g_γ = b h_γ + Σ_δ Q_γδ σ_δ − (M_cγ + λ1_γ)``;
    dM_kγ/dτ = −E[σ_γ μ_k·e + σ'_γ g_γ μ_k·x] − λ M_kγ,
    dQ_γδ/dτ = −E[σ_γ g_δ + σ'_γ g_γ h_δ + (γ ↔ δ)] − 2λ Q_γδ
    + 2η E[A σ_γσ_δ − B(σ_γ σ'_δ g_δ + σ'_γ σ_δ g_γ) + C σ'_γσ'_δ g_γ g_δ]
    with the per-coordinate bulk moments A = ‖e‖²/d, −B = e·x/d, C = ‖x‖²/d:
    A = s²(1 − bβ)² + b²α², B = βs²(1 − bβ) − bα², C = β²s² + α²; db/dτ = B.
    """
    t, s2, beta, alpha = target.gram, target.s2, target.beta, target.alpha
    pts, wts = nodes
    r = Q.shape[0]
    chol = np.linalg.cholesky(Q)
    lam1 = np.sqrt(s2) * pts[:, :r] @ chol.T  # (P, r)
    lam0 = pts[:, r:] @ chol.T
    proj = M @ np.linalg.inv(Q)  # (K, r): E[u | λ1] = proj λ1 (s² cancels)
    u, v = lam1 @ proj.T, lam0 @ proj.T  # (P, K)
    a_e = s2 * (1 - b * beta) ** 2 + b**2 * alpha**2
    b_e = beta * s2 * (1 - b * beta) - b * alpha**2
    c_e = beta**2 * s2 + alpha**2
    dM = np.zeros_like(M)
    dQ = np.zeros_like(Q)
    for c, pi in enumerate(target.weights):
        h = beta * (M[c] + lam1) + alpha * lam0  # (P, r)
        s = np.tanh(h)
        ds = 1.0 - s**2
        mu_x1 = t[:, c] + u  # (P, K)
        mu_x = beta * mu_x1 + alpha * v
        mu_e = b * mu_x + s @ M.T - mu_x1
        g = b * h + s @ Q - (M[c] + lam1)  # Q symmetric
        sw, dsg = s * wts[:, None], ds * g * wts[:, None]
        dM -= pi * (mu_e.T @ sw + mu_x.T @ dsg)
        first = sw.T @ g + dsg.T @ h  # [γ, δ] = E[σ_γ g_δ + σ'_γ g_γ h_δ]
        noise = a_e * (sw.T @ s) - b_e * (sw.T @ (ds * g) + dsg.T @ s) + c_e * (dsg.T @ (ds * g))
        dQ += pi * (-(first + first.T) + 2 * target.eta * noise)
    dM -= target.lam * M
    dQ -= 2 * target.lam * Q
    return dM, dQ, b_e


@dataclass(frozen=True)
class OverlapTrajectory:
    """(M, Q, b) at the requested times: shapes (T, K, r), (T, r, r), (T,)."""

    tau: np.ndarray
    M: np.ndarray
    Q: np.ndarray
    b: np.ndarray


def overlap_ode(
    target: Target,
    M0: np.ndarray,
    Q0: np.ndarray,
    b0: float,
    taus,
    nodes: int = 8,
    dtau: float = 0.05,
) -> OverlapTrajectory:
    """Integrate :func:`overlap_rates` by RK4 with a step ≤ ``dtau`` landing on every requested
    time (``nodes`` Gauss–Hermite nodes per local field: ``nodes^(2r)`` points)."""
    rule = _nodes(Q0.shape[0], nodes)
    taus = np.asarray(taus, dtype=float)
    M, Q, b = np.array(M0, dtype=float), np.array(Q0, dtype=float), float(b0)
    out_m, out_q, out_b = [], [], []
    now = 0.0

    def rates(state):
        return overlap_rates(*state, target, rule)

    for stop in taus:
        steps = max(1, int(np.ceil((stop - now) / dtau - 1e-9))) if stop > now else 0
        h = (stop - now) / steps if steps else 0.0
        for _ in range(steps):
            k1 = rates((M, Q, b))
            k2 = rates((M + h / 2 * k1[0], Q + h / 2 * k1[1], b + h / 2 * k1[2]))
            k3 = rates((M + h / 2 * k2[0], Q + h / 2 * k2[1], b + h / 2 * k2[2]))
            k4 = rates((M + h * k3[0], Q + h * k3[1], b + h * k3[2]))
            M = M + h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
            Q = Q + h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
            Q = (Q + Q.T) / 2
            b = b + h / 6 * (k1[2] + 2 * k2[2] + 2 * k3[2] + k4[2])
        now = stop
        out_m.append(M)
        out_q.append(Q)
        out_b.append(b)
    return OverlapTrajectory(taus, np.array(out_m), np.array(out_q), np.array(out_b))


# --------------------------------------------------------------------------------------------
# The generative flow
# --------------------------------------------------------------------------------------------


def flow_times(steps: int = 100) -> np.ndarray:
    """Euler times t_k = k/steps, k = 0 … steps − 2 (the flow stops at 1 − 1/steps, where the
    velocity (f(x) − x)/(1 − t) is still finite), as in the authors' sampler."""
    return np.arange(steps - 1) / steps


def bulk_scale(b, steps: int = 100):
    """S(b) = Π_k (1 + (b − 1) dt/(1 − t_k)): the factor the flow applies to every direction
    orthogonal to span(w). The bulk variance of generated samples is S²."""
    t = flow_times(steps)
    b = np.asarray(b, dtype=float)
    return np.prod(1.0 + (b[..., None] - 1.0) / (steps * (1.0 - t)), axis=-1)


def bivariate_orthant(h, k, rho):
    """P(X > −h, Y > −k) = Φ2(h, k; ρ) for standard normals with correlation ρ (Owen's T)."""
    h, k, rho = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (h, k, rho)))
    h = np.where(np.abs(h) < 1e-12, 1e-12, h)
    k = np.where(np.abs(k) < 1e-12, 1e-12, k)
    root = np.sqrt(np.maximum(1.0 - rho**2, 1e-300))
    a_h = (k - rho * h) / (h * root)
    a_k = (h - rho * k) / (k * root)
    corr = np.where(h * k < 0, 0.5, 0.0)
    return 0.5 * ndtr(h) + 0.5 * ndtr(k) - owens_t(h, a_h) - owens_t(k, a_k) - corr


@dataclass(frozen=True)
class GeneratedProjection:
    """Law of (e_j·x) of generated samples: a mixture over Z_0 nodes of Gaussians.

    ``centres`` (P, m) the means G Q⁻¹ Z_final per node, ``weights`` (P,), ``cov`` (m, m) the
    common Gaussian part S²(I − G Q⁻¹ Gᵀ), ``scale`` S.
    """

    centres: np.ndarray
    weights: np.ndarray
    cov: np.ndarray
    scale: float

    def abs_quantiles(self, levels) -> np.ndarray:
        """Quantiles of |e_j·x| (rows j, columns levels), by bisection on the mixture CDF."""
        sd = np.sqrt(np.diag(self.cov))[None, :]
        levels = np.asarray(levels, dtype=float)
        lo = np.zeros((self.cov.shape[0], levels.size))
        hi = np.full_like(lo, np.abs(self.centres).max() + 12 * sd.max() + 1.0)
        for _ in range(45):  # bracket width / 2^45 < 1e-12
            mid = (lo + hi) / 2
            cdf = np.einsum(
                "p,pjl->jl",
                self.weights,
                ndtr((mid[None] - self.centres[..., None]) / sd[..., None])
                - ndtr((-mid[None] - self.centres[..., None]) / sd[..., None]),
            )
            below = cdf < levels[None, :]
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return (lo + hi) / 2

    def quadrants(self) -> np.ndarray:
        """P(sign(e_1·x), sign(e_2·x)) for the quadrants (+,+), (−,+), (−,−), (+,−)."""
        sd = np.sqrt(np.diag(self.cov))[:2]
        rho = self.cov[0, 1] / (sd[0] * sd[1])
        z = self.centres[:, :2] / sd
        out = []
        for s1, s2 in ((1, 1), (-1, 1), (-1, -1), (1, -1)):
            out.append(self.weights @ bivariate_orthant(s1 * z[:, 0], s2 * z[:, 1], s1 * s2 * rho))
        return np.array(out)


def generated_projection(
    G: np.ndarray, Q: np.ndarray, b: float, steps: int = 100, nodes: int = 160
) -> GeneratedProjection:
    """Projections of generated samples on unit directions with ``G_jγ = e_j·w_γ/√d``.

    Z_0 ~ N(0, Q) on an equal-weight grid (``nodes`` per dimension at the mid-point
    probabilities (i + ½)/nodes of each independent standard normal coordinate), pushed by
    Z ← Z + dt((b − 1)Z + Q tanh(Z))/(1 − t_k) (the Euler flow of the sampler in the span of w).
    Gauss–Hermite nodes are not used here: the flow expands the neighbourhood of Z = 0 into the
    region between the modes, which a Gauss–Hermite grid leaves empty.
    """
    r = Q.shape[0]
    z = ndtri((np.arange(nodes) + 0.5) / nodes)
    grid = np.stack([g.ravel() for g in np.meshgrid(*([z] * r), indexing="ij")], axis=1)
    weights = np.full(grid.shape[0], 1.0 / grid.shape[0])
    Z = grid @ np.linalg.cholesky(Q).T
    for t in flow_times(steps):
        Z = Z + ((b - 1.0) * Z + np.tanh(Z) @ Q) / (steps * (1.0 - t))
    scale = float(bulk_scale(b, steps))
    proj = G @ np.linalg.inv(Q)
    cov = scale**2 * (np.eye(G.shape[0]) - proj @ G.T)
    cov = (cov + cov.T) / 2 + 1e-12 * np.eye(G.shape[0])
    return GeneratedProjection(Z @ proj.T, weights, cov, scale)


def retraining_recursion(
    beta: float, alpha: float, tau: float, generations: int, steps: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Model collapse in the bulk: generation g is trained (from b = 0, for time τ) on samples
    of generation g − 1, whose bulk variance is s²_g; then b_g = skip_weight(τ; s²_g) and
    s²_{g+1} = S(b_g)². Returns (b_g for g = 0 … G−1, s²_g for g = 1 … G)."""
    s2 = 1.0
    bs, variances = [], []
    for _ in range(generations):
        b = float(skip_weight(tau, beta, alpha, s2))
        s2 = float(bulk_scale(b, steps)) ** 2
        bs.append(b)
        variances.append(s2)
    return np.array(bs), np.array(variances)
