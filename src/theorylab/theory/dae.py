"""Summary statistics of the tied two-layer denoising autoencoder with a skip connection.

The denoiser ``f(y) = b y + w φ(w·y/√d)/√d`` (one hidden unit, tied weights, scalar skip ``b``)
acts on noisy inputs ``y = c x + √Δ ξ``, ``c = √(1 − Δ)``, of a two-cluster Gaussian mixture
``x = s μ_e + z``, ``s = ±1``, ``z ~ N(0, Σ_s)``, ``‖μ_e‖ = 1`` (Cui & Zdeborová, arXiv 2305.11041;
the same denoiser is the building block of arXiv 2310.03575 and 2501.03937). Everything the test
error depends on is carried by a few *summary statistics* of ``w``:

* ``q = ‖w‖²/d``, ``m = w·μ/d`` (``μ = √d μ_e``), ``q_± = wᵀΣ_± w/d`` and the skip ``b``.

This module gives, torch-free:

* :func:`skip_weight`, :func:`rescaling_error` — the optimal linear shrinkage
  ``b* = σ² c/(σ² c² + Δ)`` and its per-coordinate error ``mse° = σ² Δ/(σ² c² + Δ)``
  (Sec. 3 of 2305.11041: at leading order the skip connection does all the work);
* :func:`hidden_unit_error` — the O(1) change of the total test error ``E‖f(y) − x‖²`` brought
  by the hidden unit at given statistics (the MSE formula of Sec. 3 of 2305.11041):
  ``½ Σ_s E[q φ(h)² − 2 φ(h)((1 − b c) u_s − b v)]``, ``u_s ~ N(s m, q_s)``, ``v ~ N(0, Δ q)``,
  ``h = c u_s + v``, with probabilists' Gauss–Hermite nodes (the authors' code misses a √2 in
  the noise part of one cluster; this is the symmetric form);
* :func:`solve_saddle_point` — the replica saddle-point equations for the statistics of the
  ridge-regularised empirical-risk minimiser at sample ratio ``α = n/d`` (Sec. 3):
  prior side with the cluster covariances (isotropic in closed form, or d × d matrices), channel
  side by a two-dimensional proximal map evaluated by damped Newton on a tensor Gauss–Hermite
  grid.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg.blas import dsymv as _symv
from scipy.linalg.lapack import dpotrf as _potrf
from scipy.linalg.lapack import dpotri as _potri

from theorylab.theory.fixed_point import SolverStatus, solve_fixed_point
from theorylab.theory.gaussian import gauss_hermite

__all__ = [
    "ClusterGeometry",
    "DAEStatistics",
    "hidden_unit_error",
    "pca_matrix_error",
    "pca_total_error",
    "rescaling_error",
    "rescaling_total_error",
    "skip_weight",
    "solve_saddle_point",
    "trained_skip",
    "wishart_factors",
]

#: Order of the unknowns in the fixed-point vector.
_NAMES = ("q", "m", "V", "q_plus", "q_minus", "V_plus", "V_minus")


# --------------------------------------------------------------------------------------------
# Leading order: the skip connection
# --------------------------------------------------------------------------------------------


def skip_weight(sigma2, delta):
    """Optimal linear shrinkage ``b* = σ² c/(σ² c² + Δ)``, ``c = √(1 − Δ)`` (Sec. 3).

    ``σ² = (tr Σ_+ + tr Σ_−)/(2d)`` is the mean cluster variance per coordinate.
    """
    delta = np.asarray(delta, dtype=float)
    c = np.sqrt(1.0 - delta)
    return sigma2 * c / (sigma2 * c**2 + delta)


def rescaling_error(sigma2, delta):
    """Per-coordinate test error of ``r(y) = b* y`` at leading order, ``σ² Δ/(σ² c² + Δ)``."""
    delta = np.asarray(delta, dtype=float)
    return sigma2 * delta / (sigma2 * (1.0 - delta) + delta)


def rescaling_total_error(b, sigma2, delta, d: int, mean_norm2: float = 1.0):
    """Exact total error ``E‖b y − x‖² = (1 − b c)²(dσ² + ‖μ_e‖²) + b² Δ d`` of a rescaling."""
    delta = np.asarray(delta, dtype=float)
    c = np.sqrt(1.0 - delta)
    return (1.0 - b * c) ** 2 * (d * sigma2 + mean_norm2) + b**2 * delta * d


def pca_total_error(sigma2, delta, d: int, alpha, mean_var=None):
    """Total test error of PCA, ``f(y) = (y·e) e`` with ``e`` the top eigenvector of the clean
    training data's second moment (the autoencoder without skip behaves like it, Sec. 4).

    ``E‖x‖² + (c² − 2c) E(x·e)² + Δ`` with ``E(x·e)² = ρ² + eᵀΣ̄e``; for an isotropic bulk
    ``σ² I`` the squared overlap of ``e`` with ``μ_e`` is the BBP value of a spike of strength
    ``ℓ = ‖μ_e‖²/σ² = 1/σ²`` at ratio ``γ = d/n = 1/α``:
    ``ρ² = (1 − γ/ℓ²)/(1 + γ/ℓ)`` above the transition ``ℓ > √γ`` (0 below).
    ``mean_var`` (default σ²) is ``μ_eᵀΣ̄μ_e``, used for ``eᵀΣ̄e``.
    """
    delta = np.asarray(delta, dtype=float)
    alpha = np.asarray(alpha, dtype=float)
    c = np.sqrt(1.0 - delta)
    gamma, ell = 1.0 / alpha, 1.0 / sigma2
    rho2 = np.where(ell**2 > gamma, (1.0 - gamma / ell**2) / (1.0 + gamma / ell), 0.0)
    spread = sigma2 if mean_var is None else mean_var
    second = rho2 + rho2 * spread + (1.0 - rho2) * sigma2
    return d * sigma2 + 1.0 + (c**2 - 2.0 * c) * second + delta


def pca_matrix_error(geometry: ClusterGeometry, delta):
    """Total test error of PCA on the top eigenvector ``e`` of the population second moment
    ``μ_e μ_eᵀ + (Σ_+ + Σ_−)/2`` (the large-n limit of the clean training data's top principal
    direction): ``E‖x‖² + (c² − 2c) eᵀ(μ_e μ_eᵀ + Σ̄)e + Δ``, Σ_± as d × d matrices."""
    delta = np.asarray(delta, dtype=float)
    d = geometry.sigma_plus.shape[0]
    mu_e = geometry.mu / math.sqrt(d)
    second = np.outer(mu_e, mu_e) + 0.5 * (geometry.sigma_plus + geometry.sigma_minus)
    top = float(np.linalg.eigvalsh(second)[-1])
    c = np.sqrt(1.0 - delta)
    return d * geometry.sigma2 + geometry.mean_norm2 + (c**2 - 2.0 * c) * top + delta


def trained_skip(sigma2, delta, d: int, train_phi_h=0.0, mean_norm2: float = 1.0):
    """Trained skip weight at finite d. The loss is quadratic in ``b``, so at the minimum
    ``b = (Σ y·x − Σ_ν φ(h_ν) h_ν)/Σ‖y‖²`` exactly; by concentration
    ``b = (c P − ⟨φ(h)h⟩)/(c² P + Δ d) + o(1/d)`` with ``P = E‖x‖² = dσ² + ‖μ_e‖²``:
    ``b* + O(1/d)``. ``train_phi_h = 0`` gives the least-squares rescaling alone."""
    delta = np.asarray(delta, dtype=float)
    c = np.sqrt(1.0 - delta)
    power = d * sigma2 + mean_norm2
    return (c * power - train_phi_h) / (c**2 * power + delta * d)


@functools.cache
def wishart_factors(d: int) -> tuple[np.ndarray, np.ndarray]:
    """The authors' Wishart clusters of arXiv 2305.11041 (HugoCui/DAE): factors F_± of shape
    d × 1.4d and d × 1.2d with N(0, 1/k) entries from numpy ``RandomState(4)`` and ``(456)``;
    Σ_± = s2 F_± F_±ᵀ. Part of the setting (the same for every seed), as in the paper."""
    out = []
    for seed, ratio in ((4, 1.4), (456, 1.2)):
        k = round(ratio * d)
        out.append(np.random.RandomState(seed).normal(0.0, 1.0, (d, k)) / math.sqrt(k))
    return out[0], out[1]


# --------------------------------------------------------------------------------------------
# The hidden unit's O(1) contribution
# --------------------------------------------------------------------------------------------


def hidden_unit_error(q, m, q_plus, q_minus, b, delta, nodes: int = 40):
    """O(1) change of the total test error by the hidden unit (Sec. 3 of 2305.11041).

    ``½ Σ_{s=±} E[q tanh(h)² − 2 tanh(h)((1 − b c) u_s − b v)]`` with independent
    ``u_s ~ N(s m, q_s)`` (the clean projection ``w·x/√d``) and ``v ~ N(0, Δ q)`` (the noise
    projection), ``h = c u_s + v``. All arguments broadcast; ``nodes`` per axis.
    """
    q, m, qp, qm, b, delta = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (q, m, q_plus, q_minus, b, delta))
    )
    c = np.sqrt(1.0 - delta)
    z, w = gauss_hermite(nodes)
    z1, z2 = z[:, None], z[None, :]
    weight = w[:, None] * w[None, :]
    out = np.zeros(q.shape)
    for s, qs in ((1.0, qp), (-1.0, qm)):
        e = (..., None, None)
        u = s * m[e] + np.sqrt(qs)[e] * z1
        v = np.sqrt(delta * q)[e] * z2
        phi = np.tanh(c[e] * u + v)
        integrand = q[e] * phi**2 - 2.0 * phi * ((1.0 - b[e] * c[e]) * u - b[e] * v)
        out += 0.5 * np.sum(integrand * weight, axis=(-2, -1))
    return out


# --------------------------------------------------------------------------------------------
# Cluster geometry (prior side of the saddle point)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterGeometry:
    """Cluster covariances and mean direction seen by the prior side of the saddle point.

    Either isotropic (``Σ_± = s2_± I``; ``matrices is None``) or two d × d matrices with
    ``mu = √d μ_e``; ``mean_norm2 = ‖μ_e‖²`` (1 for the synthetic mixtures, whose ``μ`` is
    normalised to ``‖μ‖² = d``; the data's value for real data, :meth:`from_data`).
    """

    s2_plus: float
    s2_minus: float
    sigma_plus: np.ndarray | None = None
    sigma_minus: np.ndarray | None = None
    mu: np.ndarray | None = None
    mean_norm2: float = 1.0

    @classmethod
    def isotropic(cls, s2: float, s2_minus: float | None = None) -> ClusterGeometry:
        return cls(float(s2), float(s2 if s2_minus is None else s2_minus))

    @classmethod
    def from_matrices(cls, sigma_plus, sigma_minus, mu) -> ClusterGeometry:
        sp = np.asarray(sigma_plus, dtype=float)
        sm = np.asarray(sigma_minus, dtype=float)
        mu = np.asarray(mu, dtype=float)
        d = sp.shape[0]
        mu = mu * math.sqrt(d) / np.linalg.norm(mu)
        return cls(float(np.trace(sp) / d), float(np.trace(sm) / d), sp, sm, mu)

    @classmethod
    def from_data(cls, sigma_plus, sigma_minus, mean) -> ClusterGeometry:
        """Empirical class covariances and half the difference of the class means ``μ_e``
        (real data, Sec. 4 of 2305.11041): ``μ = √d μ_e``, ``‖μ_e‖²`` kept as it is."""
        mean = np.asarray(mean, dtype=float)
        geo = cls.from_matrices(sigma_plus, sigma_minus, mean)
        return dataclasses.replace(geo, mu=mean * math.sqrt(mean.shape[0]),
                                   mean_norm2=float(mean @ mean))

    @property
    def is_isotropic(self) -> bool:
        return self.sigma_plus is None

    @property
    def sigma2(self) -> float:
        """Mean variance per coordinate ``σ² = (tr Σ_+ + tr Σ_−)/(2d)``."""
        return 0.5 * (self.s2_plus + self.s2_minus)

    def prior(self, lam: float, hats: np.ndarray) -> np.ndarray:
        """Overlaps ``(q, m, V, q_+, q_−, V_+, V_−)`` from the conjugates (axis 0 of ``hats``:
        ``q̂, m̂, V̂, q̂_+, q̂_−, V̂_+, V̂_−``), prior side of the saddle point (Sec. 3)::

            G = [(λ + V̂) I + V̂_+ Σ_+ + V̂_− Σ_−]⁻¹,  B = q̂ I + q̂_+ Σ_+ + q̂_− Σ_− + m̂² μμᵀ,
            q = tr GBG/d, m = m̂ μᵀGμ/d, V = tr G/d, q_s = tr Σ_s GBG/d, V_s = tr Σ_s G/d.
        """
        qh, mh, vh, qph, qmh, vph, vmh = hats
        if self.is_isotropic:
            g = 1.0 / (lam + vh + self.s2_plus * vph + self.s2_minus * vmh)
            q = g**2 * (qh + self.s2_plus * qph + self.s2_minus * qmh + mh**2)
            # q_s = tr Σ_s G B G / d: the mean direction enters with weight s2_s as well.
            return np.stack(
                [q, mh * g, g, self.s2_plus * q, self.s2_minus * q, self.s2_plus * g,
                 self.s2_minus * g]
            )
        out = np.empty_like(hats)
        for idx in np.ndindex(*hats.shape[1:]):
            out[(slice(None), *idx)] = self._prior_matrix(lam, hats[(slice(None), *idx)])
        return out

    @functools.cached_property
    def frame(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Σ_+'s eigenbasis, computed once per geometry: ``(λ_+, UᵀΣ_−U, Uᵀμ)`` with
        ``Σ_+ = U diag(λ_+) Uᵀ``. Every quantity of the prior side is a trace or quadratic form,
        invariant under the rotation, and in this frame ``G Σ_+`` is a column scaling of G."""
        lam_p, u = np.linalg.eigh(self.sigma_plus)
        sm = u.T @ self.sigma_minus @ u
        return lam_p, 0.5 * (sm + sm.T), u.T @ self.mu

    def _prior_matrix(self, lam: float, h: np.ndarray) -> np.ndarray:
        qh, mh, vh, qph, qmh, vph, vmh = h
        lam_p, sm, mu = self.frame
        d = lam_p.shape[0]
        a = lam + vh
        mat = vmh * sm
        mat[np.diag_indices(d)] += a + vph * lam_p
        # G = M⁻¹ by Cholesky (LAPACK potrf + potri): its lower triangle, zeros above (M is
        # exactly symmetric, so its transpose, Fortran-ordered, is factorised in place)
        chol, info = _potrf(mat.T, lower=True, clean=True, overwrite_a=True)
        if info == 0:
            g, info = _potri(chol, lower=True, overwrite_c=True)
        if info != 0:
            raise np.linalg.LinAlgError("prior side: the matrix is not positive definite")
        diag = np.diagonal(g).copy()
        gmu = _symv(1.0, g, mu, lower=1)  # G μ from the lower triangle
        t1, t3 = float(diag.sum()), float(diag @ lam_p)
        if vmh == 0:  # G Σ_− cannot be eliminated: the traces with Σ_− from G Σ_− itself
            full = g + np.tril(g, -1).T
            gsm = full @ sm
            e1, e2 = float(np.trace(gsm)), float(np.sum(gsm * full))
            e3, e4 = float(np.sum(gsm * (full * lam_p).T)), float(np.sum(gsm * gsm.T))
        # traces of products of G and Σ_+ = diag(λ_+): t1 = tr G, t2 = tr G², t3 = tr GΣ_+,
        # t4 = tr GΣ_+G, t5 = tr GΣ_+GΣ_+, all O(d²) from the lower triangle of G ∘ G:
        # Σ_ij G_ij² w_ij = 2 Σ_{i≥j} G_ij² w_ij − Σ_i G_ii² w_ii for symmetric weights w
        r1, rl = (np.square(g, out=g) @ np.stack([np.ones(d), lam_p], axis=1)).T
        d2 = diag**2
        t2 = 2.0 * float(r1.sum()) - float(d2.sum())
        t4 = float(rl.sum()) + float(r1 @ lam_p) - float(d2 @ lam_p)
        t5 = 2.0 * float(rl @ lam_p) - float(d2 @ lam_p**2)
        if vmh != 0:  # G Σ_− = (I − a G − V̂_+ G Σ_+)/V̂_−
            e1 = (d - a * t1 - vph * t3) / vmh  # tr GΣ_−
            e2 = (t1 - a * t2 - vph * t4) / vmh  # tr GΣ_−G
            e3 = (t3 - a * t4 - vph * t5) / vmh  # tr GΣ_−GΣ_+
            e4 = (d - 2 * a * t1 - 2 * vph * t3 + a**2 * t2 + 2 * a * vph * t4
                  + vph**2 * t5) / vmh**2  # tr GΣ_−GΣ_−
        # q = tr GBG/d, q_s = tr Σ_s GBG/d with B = q̂ I + q̂_+ Σ_+ + q̂_− Σ_− + m̂² μμᵀ
        q = (qh * t2 + qph * t4 + qmh * e2 + mh**2 * gmu @ gmu) / d
        q_p = (qh * t4 + qph * t5 + qmh * e3 + mh**2 * float(gmu**2 @ lam_p)) / d
        q_m = (qh * e2 + qph * e3 + qmh * e4 + mh**2 * float(gmu @ sm @ gmu)) / d
        return np.array([q, mh * float(mu @ gmu) / d, t1 / d, q_p, q_m, t3 / d, e1 / d])


# --------------------------------------------------------------------------------------------
# Channel side: the two-dimensional proximal map
# --------------------------------------------------------------------------------------------


#: Points per block of the proximal map's grid scan.
_BLOCK = 512


def _prox(a1, a2, width_v, width_u, q, b, c, grid: int = 33, newton: int = 40):
    """argmin over (v, u) of F = (v − a1)²/width_v + (u − a2)²/width_u + U(v, u),
    U = q φ(h)² − 2 φ(h) L, h = c u + v, L = (1 − c b) u − b v.

    On the line c u + v = h the objective is quadratic in u (L = u − b h, since
    (1 − cb) + bc = 1), so u*(h) = (X(h) + φ(h))/A with A = c²/w_v + 1/w_u,
    X = c(h − a1)/w_v + a2/w_u, and F*(h) = F(h − c u*, u*) is a one-dimensional function. U is
    not convex in the tails (Newton in (v, u) can cycle there), so F*(h) is scanned on a grid
    over the interval that must contain its minimiser, then refined by Newton steps on F*'(h)
    (analytic curvature, active points only) that stay within one grid spacing; where Newton
    cycles (negative curvature) a golden-section search in the grid bracket finishes.
    Returns (v*, u*, converged)."""
    v, u, _ = _prox_golden(a1, a2, width_v, width_u, q, b, c, grid, newton)
    return v, u, True


def _prox_golden(a1, a2, width_v, width_u, q, b, c, grid, newton):
    """:func:`_prox`, returning (v*, u*, whether any point was finished by golden section)."""
    wv, wu = width_v, width_u
    big_a = c**2 / wv + 1.0 / wu
    h0 = a1 + c * a2  # minimiser without U
    width = wv + c**2 * wu

    # |F*' − 2(h − h0)/width| ≤ slope (with |h| sech² h ≤ 0.45): the minimiser lies in
    # h0 ± slope·width/2.
    slope = (
        2.0 * b * 1.45 + 2.0 * q
        + 2.0 * (0.45 * c / wv + np.abs(c * a1) / wv + np.abs(a2) / wu + c / wv + 1.0) / big_a
    )
    half = 1.05 * slope * width / 2.0 + 1e-12
    trust = 2.0 * half / (grid - 1)  # Newton steps stay within one grid spacing
    shape = np.broadcast_shapes(h0.shape, half.shape)
    flat = [np.broadcast_to(v, shape).ravel() for v in (a1, a2, wv, wu, q, b, c, big_a, trust)]
    h0f, halff = np.broadcast_to(h0, shape).ravel(), np.broadcast_to(half, shape).ravel()
    offsets = np.linspace(-1.0, 1.0, grid)[:, None]
    # the scan in blocks of points, the grid along axis 0 (temporaries stay in cache, and the
    # inner loops run over the points)
    i = np.concatenate([
        np.argmin(_eval_grid(h0f[j:j + _BLOCK] + offsets * halff[j:j + _BLOCK],
                             [v[j:j + _BLOCK] for v in flat]), axis=0)
        for j in range(0, h0f.size, _BLOCK)
    ])
    i = np.clip(i, 1, grid - 2)
    start = h0f + offsets[i, 0] * halff
    h = _newton(start, flat, newton)
    golden = bool(np.isnan(h).any())
    if golden:  # Newton cycled (negative curvature): golden section in the bracket
        idx = np.flatnonzero(np.isnan(h))
        h[idx] = _golden(flat, idx, start[idx], flat[8][idx])
    h = h.reshape(shape)
    u = (c * (h - a1) / wv + a2 / wu + np.tanh(h)) / big_a
    return h - c * u, u, golden


def _eval_grid(hs, args):
    """F*(h) of :func:`_prox` on a grid along axis 0 (``args``: one value per point).

    The same operations in the same order as ``(h − a1)²/w_v + 2 φ b h + q φ² − (X + φ)²/A``,
    in place (four large buffers instead of a dozen temporaries)."""
    a1, a2, wv, wu, q, b, c, big_a = args[:8]
    phi = np.tanh(hs)
    t = np.subtract(hs, a1)
    x = np.multiply(c, t)
    x /= wv
    x += a2 / wu
    np.square(t, out=t)
    t /= wv
    tmp = np.multiply(2.0, phi)
    tmp *= b
    tmp *= hs
    t += tmp
    np.square(phi, out=tmp)
    np.multiply(q, tmp, out=tmp)
    t += tmp
    x += phi
    np.square(x, out=x)
    x /= big_a
    t -= x
    return t


def _newton(h, flat, steps):
    """Newton on F*'(h) = 0 (:func:`_prox`) from the grid minima ``h`` (flat), steps clipped to
    one grid spacing, for the points that have not converged (``|Δh| ≥ 1e-12``) only (their
    parameters are gathered again only when that set shrinks); points still moving after
    ``steps`` come back as NaN."""
    h = h.copy()
    idx = np.arange(h.size)
    a1, a2, wv, wu, q, b, c, big_a, trust = flat
    # per-point factors of F*' and F*'' (each evaluated as in the expressions they come from:
    # the iterates are bit for bit those of the written-out formulas)
    cw, aw, tw, b2, q2 = c / wv, a2 / wu, 2.0 / wv, 2.0 * b, 2.0 * q
    hh = h
    for _ in range(steps):
        phi = np.tanh(hh)
        d1 = 1.0 - phi**2
        dd1 = -2.0 * phi * d1
        t = hh - a1
        f = c * t / wv + aw + phi  # X + φ
        e = cw + d1
        # F*' = 2(h − a1)/w_v + 2b(φ'h + φ) + 2qφφ' − 2(X + φ)(c/w_v + φ')/A
        g = 2.0 * t / wv + b2 * (d1 * hh + phi) + q2 * phi * d1 - 2.0 * f * e / big_a
        curv = (tw + b2 * (dd1 * hh + 2.0 * d1) + q2 * (d1**2 + phi * dd1)
                - 2.0 * (e**2 + f * dd1) / big_a)
        dh = np.where(curv > 0, g / np.where(curv > 0, curv, 1.0), np.sign(g) * trust)
        dh = np.clip(dh, -trust, trust)
        hh = hh - dh
        h[idx] = hh
        moving = np.abs(dh) >= 1e-12
        if not moving.all():
            idx, hh = idx[moving], hh[moving]
            a1, wv, c, big_a, trust, cw, aw, tw, b2, q2 = (
                v[moving] for v in (a1, wv, c, big_a, trust, cw, aw, tw, b2, q2))
            if idx.size == 0:
                return h
    h[idx] = np.nan
    return h


def _golden(flat, idx, centre, spacing, iterations: int = 90):
    """Minimise F*(h) of :func:`_prox` over [centre − spacing, centre + spacing] (the grid
    bracket of its minimum) for the points ``idx`` by golden-section search."""
    a1, a2, wv, wu, q, b, c, big_a = (v[idx] for v in flat[:8])

    def f(h):
        phi = np.tanh(h)
        x = c * (h - a1) / wv + a2 / wu
        return (h - a1) ** 2 / wv + 2.0 * phi * b * h + q * phi**2 - (x + phi) ** 2 / big_a

    r = (math.sqrt(5.0) - 1.0) / 2.0
    lo, hi = centre - spacing, centre + spacing
    x1, x2 = hi - r * (hi - lo), lo + r * (hi - lo)
    f1, f2 = f(x1), f(x2)
    for _ in range(iterations):
        left = f1 < f2
        lo, hi = np.where(left, lo, x1), np.where(left, x2, hi)
        new = np.where(left, hi - r * (hi - lo), lo + r * (hi - lo))
        f_new = f(new)
        x1, x2 = np.where(left, new, x2), np.where(left, x1, new)
        f1, f2 = np.where(left, f_new, f2), np.where(left, f1, f_new)
    return 0.5 * (lo + hi)


def _cluster_proxes(a1, a2, wv, vs, qs, q, b, c, grid: int = 33, newton: int = 40):
    """The proximal points of both clusters (leading axis of ``a2``: s = +1, −1) on the node grid.

    When the clusters have the same ``q_s`` and ``V_s`` (isotropic clusters of equal variance)
    the map is odd, ``prox(−a1, −a2) = −prox(a1, a2)``, and the nodes are symmetric, so
    cluster − is cluster + mirrored through the origin of the node grid: computed once, with
    the same arithmetic element by element (unless a point needed the golden-section fallback,
    whose bracket is not mirror-symmetric; then both are computed)."""
    (vp, vm), (qp, qm) = vs, qs
    e = (..., None, None)
    if np.array_equal(qp, qm) and np.array_equal(vp, vm):
        v, u, golden = _prox_golden(a1, a2[0], wv, vp[e], q, b, c, grid, newton)
        if not golden:
            mirror = (-2, -1)
            return np.stack([v, -np.flip(v, mirror)]), np.stack([u, -np.flip(u, mirror)])
    a1 = np.broadcast_to(a1, a2.shape)
    v, u, _ = _prox_golden(a1, a2, wv, np.stack([vp, vm])[e], q, b, c, grid, newton)
    return v, u


def _channel(x, alpha, delta, b, nodes):
    """Conjugates from the overlaps (axis 0 of ``x``), channel side of the saddle point (Sec. 3)."""
    q, m, vv, qp, qm, vp, vm = x
    c = np.sqrt(1.0 - delta)
    z, w = gauss_hermite(nodes)
    e = (..., None, None)
    xi1, xi2 = z[:, None], z[None, :]
    weight = w[:, None] * w[None, :]

    def mean(f):
        return np.sum(f * weight, axis=(-2, -1))

    sqrt_dq = np.sqrt(delta * q)
    # both clusters in one proximal call (leading axis s = +1, −1): the map is elementwise
    a1 = sqrt_dq[e] * xi1 + 0.0 * xi2
    a2 = np.stack([np.sqrt(qs)[e] * xi2 + s * m[e] + 0.0 * xi1
                   for s, qs in ((1.0, qp), (-1.0, qm))])
    v, u = _cluster_proxes(a1, a2, (delta * vv)[e], (vp, vm), (qp, qm), q[e], b[e], c[e])
    a1 = np.broadcast_to(a1, a2.shape)
    out = {k: 0.0 for k in ("mh", "qh", "vh", "qph", "qmh", "vph", "vmh", "phi_h")}
    for k, (s, qs, vs) in enumerate(((1.0, qp, vp), (-1.0, qm, vm))):
        rv, ru = v[k] - a1[k], u[k] - a2[k]
        phi = np.tanh(c[e] * u[k] + v[k])
        out["phi_h"] = out["phi_h"] + 0.5 * mean(phi * (c[e] * u[k] + v[k]))
        out["mh"] = out["mh"] + 0.5 * alpha * s * mean(ru) / vs
        out["qh"] = out["qh"] + 0.5 * alpha * mean(rv**2) / (delta * vv**2)
        out["vh"] = out["vh"] + 0.5 * alpha * mean(phi**2 - xi1 * rv / (sqrt_dq[e] * vv[e]))
        key = "p" if s > 0 else "m"
        out[f"q{key}h"] = 0.5 * alpha * mean(ru**2) / vs**2
        out[f"v{key}h"] = -0.5 * alpha * mean(xi2 * ru) / (np.sqrt(qs) * vs)
    hats = np.stack([out[k] for k in ("qh", "mh", "vh", "qph", "qmh", "vph", "vmh")])
    return hats, out["phi_h"]


# --------------------------------------------------------------------------------------------
# The saddle point
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DAEStatistics:
    """Summary statistics of the trained DAE (arrays of the broadcast grid shape).

    ``train_phi_h`` is the training-set average of ``φ(h) h`` (``h = w·y/√d`` at the
    proximal point), which fixes the O(1/d) shift of the trained skip (:func:`trained_skip`).
    """

    q: np.ndarray
    m: np.ndarray
    V: np.ndarray
    q_plus: np.ndarray
    q_minus: np.ndarray
    V_plus: np.ndarray
    V_minus: np.ndarray
    b: np.ndarray
    train_phi_h: np.ndarray
    status: SolverStatus

    @property
    def cosine(self) -> np.ndarray:
        """``m/√q``: cosine between ``w`` and the cluster-mean direction."""
        return self.m / np.sqrt(self.q)


def solve_saddle_point(
    geometry: ClusterGeometry,
    alpha,
    delta,
    lam: float,
    *,
    skip: bool = True,
    nodes: int = 30,
    tol: float | None = None,
    damping: float = 0.5,
    max_iter: int = 2000,
) -> DAEStatistics:
    """Solve the saddle-point equations of 2305.11041 (Sec. 3) on a grid.

    ``alpha`` and ``delta`` broadcast to the grid shape. With ``skip`` the skip weight is the
    leading-order ``b*`` (Sec. 3: the trained ``b`` converges to it); without, ``b = 0`` (the
    autoencoder without skip connection). Start ``(q, m, V, q_±, V_±) = (0.8, 0.8, 0.1,
    0.8 σ², 0.1 σ²)``; Anderson-accelerated iteration to ``max |Δx| ≤ tol`` (default 1e-9 for
    isotropic clusters, 1e-10 for matrices: there the undamped iteration converges
    superlinearly, and the tighter test costs at most one evaluation).

    Isotropic clusters: the whole grid as one vector (the channel side is vectorised over the
    points), with ``damping``. Matrix clusters (the prior side costs one d × d inverse per point
    and evaluation): each point is its own 7-dimensional fixed point, first by undamped Anderson
    (fewer evaluations), and again with ``damping`` where that fails (no convergence, a prior
    side that is not positive definite, or ``m < 0``: the mirror solution ``w → −w``).
    ``status.iterations`` counts every iteration of every point, failed attempts included.
    """
    alpha, delta = np.broadcast_arrays(np.asarray(alpha, float), np.asarray(delta, float))
    shape = alpha.shape
    b = skip_weight(geometry.sigma2, delta) if skip else np.zeros(shape)
    if tol is None:
        tol = 1e-9 if geometry.is_isotropic else 1e-10
    solve = functools.partial(_solve, geometry, lam=lam, nodes=nodes, tol=tol,
                              max_iter=max_iter)
    if geometry.is_isotropic:
        x, phi_h, status = solve(alpha, delta, b, damping=damping)
        return DAEStatistics(*x, b=b, train_phi_h=phi_h, status=status)
    x, phi_h, statuses = np.empty((7, *shape)), np.empty(shape), []
    for idx in np.ndindex(*shape):
        point = (alpha[idx], delta[idx], b[idx])
        try:
            xi, phi_i, st = solve(*point, damping=0.0)
            failed = not st.converged or xi[1] < 0
            spent = st.iterations
        except np.linalg.LinAlgError:
            failed, spent = True, 0
        if failed:
            xi, phi_i, st = solve(*point, damping=damping)
            st = dataclasses.replace(st, iterations=st.iterations + spent)
        x[(slice(None), *idx)], phi_h[idx] = xi, phi_i
        statuses.append(st)
    return DAEStatistics(*x, b=b, train_phi_h=phi_h, status=SolverStatus.combine(*statuses))


def _solve(geometry, alpha, delta, b, *, lam, nodes, tol, damping, max_iter):
    """Anderson iteration of the saddle point at the points ``alpha``, ``delta`` (one vector):
    ``(x, train_phi_h, status)``."""
    shape = np.shape(alpha)
    start = np.stack(
        [np.full(shape, v) for v in (0.8, 0.8, 0.1, 0.8 * geometry.s2_plus,
                                     0.8 * geometry.s2_minus, 0.1 * geometry.s2_plus,
                                     0.1 * geometry.s2_minus)]
    )
    last = {}  # the last evaluated iterate and its φ(h)h (the solver returns that iterate)

    def step(x):
        x = x.reshape(start.shape)
        x[0] = np.maximum(x[0], 1e-12)
        x[3:5] = np.maximum(x[3:5], 1e-12)
        x[[2, 5, 6]] = np.maximum(x[[2, 5, 6]], 1e-12)
        hats, last["phi_h"] = _channel(x, alpha, delta, b, nodes)
        last["x"] = x.copy()
        return geometry.prior(lam, hats)

    res = solve_fixed_point(
        step, start, damping=damping, tol=tol, max_iter=max_iter, method="anderson"
    )
    x = np.asarray(res.x).reshape(start.shape)
    status = res.status
    if np.array_equal(x, last["x"]):
        phi_h = last["phi_h"]
    else:  # the solver stopped elsewhere (not converged) or the iterate was clamped
        _, phi_h = _channel(x, alpha, delta, b, nodes)
    return x, phi_h, status
