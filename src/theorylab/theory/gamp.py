"""Generalised approximate message passing (GAMP) for multi-index models, with composable priors
and output channels.

Model (arXiv 2409.13904, the sequence multi-index model with one token): data x_μ ∈ R^d with
i.i.d. N(0, 1) entries, weights W ∈ R^{d×K} (K hidden directions), pre-activations
h_μ = x_μ W/√d ∈ R^K, labels y_μ ~ P_out(· | h_μ). A learner is a pair (prior, channel):

* a **prior** gives the denoiser f_in(A, B) — the mean of w ∈ R^K under P_W(w) e^{−wᵀAw/2 + Bᵀw}
  and its covariance (Bayes-optimal), or the proximal step of a penalty (ERM, e.g. ridge:
  f_in = (λI + A)⁻¹B);
* a **channel** gives g_out(y, ω, V) = ∂_ω log Z_out, Z_out = E_{h ~ N(ω, V)} P_out(y | h), and
  its Jacobian ∂_ω g_out (Bayes-optimal), or (prox_{Vℓ(y, ·)}(ω) − ω)/V for a loss ℓ (ERM).

The objects are small and stateless (frozen dataclasses) and compose freely, in the spirit of
optax: ``gamp(x, y, GaussianPrior(), SignChannel())`` is the Bayes-optimal perceptron,
``gamp(x, y, L2Penalty(0.1), SquareLoss())`` is ridge regression, ``gamp(x, y, GaussianPrior(),
CommitteeSignChannel())`` the K = 2 committee machine. Their state evolution lives in
:mod:`theorylab.theory.state_evolution`.

The runner takes numpy arrays or anything ``numpy.asarray`` accepts after ``.detach().cpu()``
(torch tensors): this module imports no torch.

References
----------
S. Rangan, "Generalized approximate message passing for estimation with random linear mixing",
ISIT 2011. B. Aubin et al., "The committee machine: computational to statistical gaps in learning
a two-layers neural network", NeurIPS 2018 (K = 2 sign–sign committee, App. B). H. Cui,
"High-dimensional learning of narrow neural networks", arXiv 2409.13904 (Sec. 3–4).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy.special import log_ndtr, ndtr

from theorylab.theory.fixed_point import SolverStatus

__all__ = [
    "Channel",
    "CommitteeSignChannel",
    "GampResult",
    "GaussianPrior",
    "L2Penalty",
    "LinearChannel",
    "LogisticLoss",
    "Prior",
    "RademacherPrior",
    "SignChannel",
    "SquareLoss",
    "as_numpy",
    "gamp",
    "mills",
    "quadrant_moments",
    "tie_columns",
]

_LOG_2PI = math.log(2.0 * math.pi)


def as_numpy(a: Any) -> np.ndarray:
    """float64 numpy view of a numpy array or a (CPU or device) torch tensor."""
    if hasattr(a, "detach"):
        a = a.detach().cpu()
    return np.asarray(a, dtype=float)


def mills(t: np.ndarray) -> np.ndarray:
    """φ(t)/Φ(t), evaluated in log space (no underflow for t → −∞)."""
    return np.exp(-0.5 * t**2 - 0.5 * _LOG_2PI - log_ndtr(t))


# --------------------------------------------------------------------------------------------
# Priors / penalties: the input denoiser
# --------------------------------------------------------------------------------------------


class Prior(Protocol):
    """Input side: ``denoise(a (K,K), b (d,K)) -> (mean (d,K), covariance (K,K) averaged over
    the d coordinates)``; ``bo_overlap(qhat) -> Q`` is its Bayes-optimal state evolution."""

    def denoise(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class GaussianPrior:
    """w ~ N(0, variance·I_K): f_in = (I/variance + A)⁻¹B, C = (I/variance + A)⁻¹."""

    variance: float = 1.0

    def denoise(self, a, b):
        c = np.linalg.inv(np.eye(a.shape[0]) / self.variance + a)
        return b @ c, c

    def second_moment(self, k: int) -> np.ndarray:
        return self.variance * np.eye(k)

    def bo_overlap(self, qhat: np.ndarray) -> np.ndarray:
        """Q = E f_in f_inᵀ for B = Q̂w* + Q̂^{1/2}ξ: Q = C(ρQ̂² + Q̂)C, C = (I/ρ + Q̂)⁻¹."""
        c = np.linalg.inv(np.eye(qhat.shape[0]) / self.variance + qhat)
        return c @ (self.variance * qhat @ qhat + qhat) @ c


@dataclass(frozen=True)
class L2Penalty:
    """ERM penalty (λ/2)‖w‖²: f_in = (λI + A)⁻¹B (the proximal step), C = (λI + A)⁻¹."""

    lam: float

    def denoise(self, a, b):
        c = np.linalg.inv(self.lam * np.eye(a.shape[0]) + a)
        return b @ c, c


@dataclass(frozen=True)
class RademacherPrior:
    """w = ±1 with probability ½ (K = 1): f_in = tanh(B), C = 1 − tanh²(B) averaged."""

    def denoise(self, a, b):
        m = np.tanh(b)
        return m, np.atleast_2d(np.mean(1.0 - m**2))

    def second_moment(self, k: int) -> np.ndarray:
        return np.eye(k)

    def bo_overlap(self, qhat: np.ndarray) -> np.ndarray:
        """q = E_ξ tanh(q̂ + √q̂ ξ) (Nishimori: E[w* f_in] = E f_in²)."""
        from theorylab.theory.gaussian import gauss_hermite

        z, w = gauss_hermite(121)
        qh = float(qhat[0, 0])
        return np.atleast_2d(w @ np.tanh(qh + math.sqrt(max(qh, 0.0)) * z))


# --------------------------------------------------------------------------------------------
# Channels (Bayes-optimal) and losses (ERM): the output denoiser
# --------------------------------------------------------------------------------------------


class Channel(Protocol):
    """Output side: ``gout(y (n,), omega (n,K), v (K,K)) -> (g (n,K), dg (n,K,K))``. A
    Bayes-optimal channel also has ``partition`` (Z_out), ``labels`` (its finite label set)
    and ``sample(h, noise)`` (labels from pre-activations and standard normal noise)."""

    k: int

    def gout(self, y, omega, v) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class SignChannel:
    """y = sign(h + √Δ η) (probit; Δ = 0 is the sign perceptron): Z = Φ(yω/s), s² = V + Δ,
    g = y φ(t)/(s Φ(t)) with t = yω/s, ∂_ω g = −g(ω/s² + g)."""

    noise: float = 0.0
    k: int = 1
    labels: tuple[float, ...] = (-1.0, 1.0)

    def partition(self, y, omega, v):
        s = math.sqrt(float(v[0, 0]) + self.noise)
        return ndtr(y * omega[:, 0] / s)

    def gout(self, y, omega, v):
        s2 = float(v[0, 0]) + self.noise
        s = math.sqrt(s2)
        g = y * mills(y * omega[:, 0] / s) / s
        dg = -g * (omega[:, 0] / s2 + g)
        return g[:, None], dg[:, None, None]

    def sample(self, h, noise):
        return np.where(h[:, 0] + math.sqrt(self.noise) * noise >= 0, 1.0, -1.0)


@dataclass(frozen=True)
class LinearChannel:
    """y = h + √Δ η: g = (y − ω)/(Δ + V), ∂_ω g = −1/(Δ + V) (Gaussian prior: ridge, λ = Δ)."""

    noise: float = 1.0
    k: int = 1
    labels: None = None

    def gout(self, y, omega, v):
        s2 = float(v[0, 0]) + self.noise
        g = (y - omega[:, 0]) / s2
        return g[:, None], np.full((len(g), 1, 1), -1.0 / s2)

    def sample(self, h, noise):
        return h[:, 0] + math.sqrt(self.noise) * noise


@functools.cache
def _legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(n)


def quadrant_moments(
    omega: np.ndarray, v: np.ndarray, s1: float, s2: float, nodes: int = 32, second: bool = True
):
    """Mass and centred moments of h ~ N(ω, V) (K = 2) on the quadrant {s1·h1 > 0, s2·h2 > 0}.

    Returns P (n,), E[(h − ω)1] (n, 2), E[(h − ω)(h − ω)ᵀ1] (n, 2, 2) (None unless
    ``second``). The h2-integral given h1
    is closed form (truncated normal); the h1-integral is Gauss–Legendre on
    [lower limit, max(lower limit, 0) + 9] in standard units (the Gaussian tail beyond is
    < 1e-18 of the mass).
    """
    x, wx = _legendre(nodes)
    sd1 = math.sqrt(v[0, 0])
    beta = v[0, 1] / v[0, 0]
    sdc = math.sqrt(max(v[1, 1] - v[0, 1] ** 2 / v[0, 0], 1e-300))
    lo = -s1 * omega[:, 0] / sd1  # t' = s1 (h1 − ω1)/sd1 ranges over [lo, ∞)
    hi = np.maximum(lo, 0.0) + 9.0
    half = 0.5 * (hi - lo)
    tp = lo[:, None] + half[:, None] * (x + 1.0)  # (n, L)
    wt = half[:, None] * wx * np.exp(-0.5 * tp**2) / math.sqrt(2.0 * math.pi)
    dh1 = s1 * sd1 * tp  # h1 − ω1
    d2 = beta * dh1  # conditional mean of h2 − ω2
    a = s2 * (omega[:, 1:2] + d2) / sdc
    pa = ndtr(a)
    phia = np.exp(-0.5 * a**2) / math.sqrt(2.0 * math.pi)
    e1 = s2 * sdc * phia  # E[(h2 − μ)1 | h1]
    e2 = sdc**2 * (pa - a * phia)  # E[(h2 − μ)²1 | h1]
    p = (wt * pa).sum(1)
    m1 = np.stack([(wt * dh1 * pa).sum(1), (wt * (d2 * pa + e1)).sum(1)], axis=1)
    if not second:
        return p, m1, None
    m11 = (wt * dh1**2 * pa).sum(1)
    m12 = (wt * dh1 * (d2 * pa + e1)).sum(1)
    m22 = (wt * (d2**2 * pa + 2.0 * d2 * e1 + e2)).sum(1)
    m2 = np.stack([np.stack([m11, m12], 1), np.stack([m12, m22], 1)], 1)
    return p, m1, m2


#: quadrants (signs of h1, h2) making up each label of the K = 2 sign–sign committee
_COMMITTEE_QUADRANTS = {1.0: ((1, 1),), -1.0: ((-1, -1),), 0.0: ((1, -1), (-1, 1))}


@dataclass(frozen=True)
class CommitteeSignChannel:
    """K = 2 sign–sign committee: y = sign(sign h1 + sign h2) ∈ {−1, 0, +1} (Aubin et al. 2018).

    The label regions are quadrants; y = 0 is the *sum* of the two mixed quadrants (never
    1 − P₊ − P₋, which cancels catastrophically). g = V⁻¹(E[h|y] − ω),
    ∂_ω g = V⁻¹Cov[h|y]V⁻¹ − V⁻¹.
    """

    nodes: int = 32
    k: int = 2
    labels: tuple[float, ...] = (-1.0, 0.0, 1.0)

    def _moments(self, label: float, omega, v, second: bool = True):
        p = np.zeros(len(omega))
        m1 = np.zeros((len(omega), 2))
        m2 = np.zeros((len(omega), 2, 2)) if second else None
        for s1, s2 in _COMMITTEE_QUADRANTS[label]:
            dp, d1, d2 = quadrant_moments(omega, v, s1, s2, self.nodes, second)
            p, m1 = p + dp, m1 + d1
            if second:
                m2 = m2 + d2
        return np.maximum(p, 1e-250), m1, m2

    def partition(self, y, omega, v):
        return self.partition_gout(y, omega, v)[0]

    def partition_gout(self, y, omega, v):
        """Z_out and g_out together (one pass of the quadrature, no second moments)."""
        vinv = np.linalg.inv(v)
        z = np.empty(len(omega))
        g = np.empty((len(omega), 2))
        for label in self.labels:
            sel = y == label
            if sel.any():
                p, m1, _ = self._moments(label, omega[sel], v, second=False)
                z[sel], g[sel] = p, (m1 / p[:, None]) @ vinv
        return z, g

    def gout(self, y, omega, v):
        vinv = np.linalg.inv(v)
        g = np.empty((len(omega), 2))
        dg = np.empty((len(omega), 2, 2))
        for label in self.labels:
            sel = y == label
            if not sel.any():
                continue
            p, m1, m2 = self._moments(label, omega[sel], v)
            mean = m1 / p[:, None]
            cov = m2 / p[:, None, None] - mean[:, :, None] * mean[:, None, :]
            g[sel] = mean @ vinv
            dg[sel] = vinv @ cov @ vinv - vinv
        return g, dg

    def sample(self, h, noise):
        return np.sign(np.sign(h[:, 0]) + np.sign(h[:, 1]))


@dataclass(frozen=True)
class SquareLoss:
    """ERM loss ½(y − z)²: prox_{Vℓ}(ω) = (ω + Vy)/(1 + V), g = (y − ω)/(1 + V)."""

    k: int = 1

    def gout(self, y, omega, v):
        vv = float(v[0, 0])
        g = (y - omega[:, 0]) / (1.0 + vv)
        return g[:, None], np.full((len(g), 1, 1), -1.0 / (1.0 + vv))


@dataclass(frozen=True)
class LogisticLoss:
    """ERM loss log(1 + e^{−yz}): the prox by vectorised Newton steps, g = (z* − ω)/V,
    ∂_ω g = (∂z*/∂ω − 1)/V with ∂z*/∂ω = 1/(1 + Vℓ''(z*))."""

    newton_steps: int = 50
    k: int = 1

    def prox(self, y, omega, vv):
        z = omega.copy()
        for _ in range(self.newton_steps):
            s = 1.0 / (1.0 + np.exp(y * z))  # σ(−yz)
            grad = (z - omega) / vv - y * s
            hess = 1.0 / vv + s * (1.0 - s)
            step = grad / hess
            z -= step
            if np.max(np.abs(step)) < 1e-13:
                break
        return z

    def gout(self, y, omega, v):
        vv = float(v[0, 0])
        om = omega[:, 0]
        z = self.prox(y, om, vv)
        s = 1.0 / (1.0 + np.exp(y * z))
        dz = 1.0 / (1.0 + vv * s * (1.0 - s))
        return ((z - om) / vv)[:, None], ((dz - 1.0) / vv)[:, None, None]


def tie_columns(w: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project onto the permutation-symmetric set: all columns of Ŵ equal (their mean), C with
    equal diagonal and equal off-diagonal entries (the non-specialised committee state)."""
    k = w.shape[1]
    diag = np.trace(c) / k
    off = (c.sum() - np.trace(c)) / max(k * (k - 1), 1)
    tied = np.full((k, k), off)
    np.fill_diagonal(tied, diag)
    return np.repeat(w.mean(1, keepdims=True), k, axis=1), tied


# --------------------------------------------------------------------------------------------
# The GAMP iteration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GampResult:
    """Estimate ``w`` (d, K), its covariance ``c`` (K, K), the last ``omega`` and ``g`` (n, K)
    (for the Onsager term of a continued run), and the solver status."""

    w: np.ndarray
    c: np.ndarray
    omega: np.ndarray
    g: np.ndarray
    status: SolverStatus


def gamp(
    x: Any,
    y: Any,
    prior: Any,
    channel: Any,
    *,
    w0: Any,
    c0: np.ndarray | None = None,
    damping: float = 0.0,
    tol: float = 1e-8,
    max_iter: int = 200,
    nishimori: bool = False,
    constraint: Any = None,
) -> GampResult:
    """Run GAMP on data ``x`` (n, d) with i.i.d. N(0, 1) entries and labels ``y`` (n,).

    Per iteration (arXiv 2409.13904, Sec. 4; Rangan 2011), with V = C:
    ω = xŴ/√d − g_old V (Onsager term), (g, ∂g) = g_out(y, ω, V), A = −(1/d) Σ_μ ∂g_μ
    (``nishimori=True``: A = (1/d) Σ_μ g_μ g_μᵀ, valid for Bayes-optimal learners),
    B = xᵀg/√d + ŴA, (Ŵ, C) ← f_in(A, B) with damping ``Ŵ ← (1 − δ)Ŵ_new + δŴ``.

    ``constraint(w, c) -> (w, c)`` (optional) maps each iterate back onto an invariant set, e.g.
    :func:`tie_columns`: in exact arithmetic GAMP started there stays there, in floating point
    rounding errors grow along an unstable direction.

    Converged when ‖Ŵ_new − Ŵ‖_F/‖Ŵ_new‖_F ≤ ``tol``; the status reports the iterations and
    this residual (never raises).
    """
    x = as_numpy(x)
    y = as_numpy(y)
    n, d = x.shape
    w = as_numpy(w0).reshape(d, -1)
    k = w.shape[1]
    c = np.eye(k) * 1.0 if c0 is None else np.asarray(c0, dtype=float)
    g = np.zeros((n, k))
    sqd = math.sqrt(d)
    residual, it = math.inf, 0
    for it in range(1, max_iter + 1):
        v = c
        omega = x @ w / sqd - g @ v
        if nishimori and hasattr(channel, "partition_gout"):
            g = channel.partition_gout(y, omega, v)[1]  # no second moments needed
            a = (g.T @ g) / d
        else:
            g, dg = channel.gout(y, omega, v)
            a = (g.T @ g) / d if nishimori else -dg.sum(0) / d
        a = 0.5 * (a + a.T)
        b = x.T @ g / sqd + w @ a
        w_new, c_new = prior.denoise(a, b)
        if constraint is not None:
            w_new, c_new = constraint(w_new, c_new)
        if not (np.all(np.isfinite(w_new)) and np.all(np.isfinite(c_new))):
            return GampResult(w, c, omega, g, SolverStatus(
                False, it, math.nan, "gamp", "non-finite iterate"))
        residual = float(np.linalg.norm(w_new - w) / max(np.linalg.norm(w_new), 1e-300))
        w = (1.0 - damping) * w_new + damping * w
        c = (1.0 - damping) * c_new + damping * c
        if residual <= tol:
            return GampResult(w, c, omega, g, SolverStatus(True, it, residual, "gamp"))
    return GampResult(w, c, omega, g, SolverStatus(
        False, it, residual, "gamp", f"GAMP did not reach tol {tol:g} in {max_iter} iterations"))
