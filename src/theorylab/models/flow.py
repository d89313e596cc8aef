"""Transport by the velocity of a tied sign autoencoder, computed in the span of the training set.

The flow of arXiv 2310.03575 fits, at every time t, ``f(y) = c y + w sign(w·y)`` by least squares
on the pairs ``(y_ν = t x_ν + (1 − t) x0_ν, x_ν)`` (:func:`theorylab.models.dae.fit_sign_dae`) and
moves samples by ``ż = (f(z) − z)/(1 − t)``. The weight ``w = Σ_ν h_ν((1 − ct) x_ν − c(1 − t)
x0_ν)/(n + λ)`` lies in the span of the 2n training vectors ``K = [x_1 … x_n, x0_1 … x0_n]`` and
the rest of the velocity only rescales ``z``, so a transported sample stays
``z = a z_0 + K γ`` with one common scalar ``a`` and coefficients ``γ ∈ R^{2n}``. Everything —
the fit and the transport of N samples — then costs O(n²) and O(N n) per step instead of O(N d):
the same arithmetic as in R^d, in exact correspondence (tested against the direct computation).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["SpanFlow"]


@dataclass
class SpanFlow:
    """N samples ``z_i = a z0_i + K γ_i`` transported by the learnt velocity.

    Built from the clean training data ``x`` (n, d), its base draws ``x0`` (n, d), the labels
    ``s`` (initial hidden-unit signs) and the N base samples ``z0`` (N, d).
    """

    gram: torch.Tensor  # KᵀK, (2n, 2n)
    proj0: torch.Tensor  # z0 K, (N, 2n)
    labels: torch.Tensor
    lam: float
    a: float = 1.0
    coef: torch.Tensor | None = None
    unstable_fits: int = 0

    @classmethod
    def build(cls, x, x0, s, z0, lam: float) -> SpanFlow:
        k = torch.cat([x, x0], 0)
        return cls(k @ k.T, z0 @ k.T, s.to(x.dtype), lam,
                   coef=torch.zeros(z0.shape[0], k.shape[0], dtype=x.dtype, device=x.device))

    @property
    def n(self) -> int:
        return self.labels.shape[0]

    def fit(
        self, t: float, iterate: bool = True, max_rounds: int = 20
    ) -> tuple[float, torch.Tensor]:
        """Least-squares ``(c, ω)`` at time t (``w = K ω``), hidden-unit signs iterated to
        self-consistency from the labels (kept as the labels when ``iterate`` is false)."""
        n, lam, g = self.n, self.lam, self.gram
        gxx, gx0, g00 = g[:n, :n], g[:n, n:], g[n:, n:]
        syx = t * torch.trace(gxx) + (1 - t) * torch.trace(gx0)
        syy = (t**2 * torch.trace(gxx) + 2 * t * (1 - t) * torch.trace(gx0)
               + (1 - t) ** 2 * torch.trace(g00))
        y_coef = torch.cat([t * torch.eye(n, dtype=g.dtype, device=g.device),
                            (1 - t) * torch.eye(n, dtype=g.dtype, device=g.device)], 1)  # y = K Yᵀ
        h = self.labels
        for _ in range(max_rounds):
            hu = torch.cat([h, torch.zeros_like(h)])  # u = Σ h x = K hu
            hv = y_coef.T @ h  # v = Σ h y = K hv
            vu, vv = hv @ g @ hu, hv @ g @ hv
            c = float((syx - vu / (n + lam)) / (syy - vv / (n + lam)))
            omega = (hu - c * hv) / (n + lam)
            if not iterate:
                return c, omega
            new = torch.sign(y_coef @ (g @ omega))
            if torch.equal(new, h):
                return c, omega
            h = new
        self.unstable_fits += 1
        return c, omega

    def velocity(self, t: float, a: float, coef: torch.Tensor, fit) -> tuple[float, torch.Tensor]:
        """``(ȧ, γ̇)`` of ``ż = ((c − 1) z + sign(z·w) w)/(1 − t)`` at ``z = a z0 + K γ``."""
        c, omega = fit
        sign = torch.sign(a * (self.proj0 @ omega) + coef @ (self.gram @ omega))
        return (c - 1.0) * a / (1 - t), ((c - 1.0) * coef + sign[:, None] * omega) / (1 - t)

    def euler(self, t: float, h: float) -> None:
        da, dc = self.velocity(t, self.a, self.coef, self.fit(t))
        self.a, self.coef = self.a + h * da, self.coef + h * dc

    def midpoint(self, t: float, h: float) -> None:
        """One step of the midpoint rule; at t = 0 (no label information in the inputs) the
        fit keeps the labels as signs: the t → 0⁺ limit of the least-squares fit."""
        da, dc = self.velocity(t, self.a, self.coef, self.fit(t, iterate=t > 0))
        tm = t + h / 2
        a_mid, c_mid = self.a + (h / 2) * da, self.coef + (h / 2) * dc
        da, dc = self.velocity(tm, a_mid, c_mid, self.fit(tm))
        self.a, self.coef = self.a + h * da, self.coef + h * dc

    def samples(self, x, x0, z0) -> torch.Tensor:
        """The transported samples in R^d (N, d)."""
        return self.a * z0 + self.coef @ torch.cat([x, x0], 0)
