"""The spiked-random-features (sRF) model of a two-layer network after one large gradient step.

Cui, Pesce, Dandi, Krzakala, Lu, Zdeborová, Loureiro, *Asymptotics of feature learning in
two-layer networks after one gradient-step* (arXiv 2402.04980, ICML 2024), Sec. 3; the same
model underlies arXiv 2410.18938. After one full-batch step of size η = η̃ p on n0 = α0 d
samples of y = σ*(θ*·x), the first layer of a width-p network with unit-norm rows W0 and frozen
readout a_i = 1/√p is, in the proportional limit,

    W1 ≈ √c W0 + r 1 v̂ᵀ,     θ* = γ v̂ + ρ ζ̂  (ζ̂ ⊥ v̂, ρ = √(1 − γ²)),

(Result 3.1 of 2402.04980) with, for odd σ, σ* (so that the network at initialisation is ≈ 0):

    r = η̃ μ1 √(μ1*² + μ2*/α0),   c = 1 + η̃² μ2* Var σ'(z) / α0,   γ = μ1* / √(μ1*² + μ2*/α0),

μ1 = E z σ(z), μ1* = E z σ*(z), μ2* = E σ*(z)². Ridge on the features σ(W1 x)/√p is then a
*conditional* Gaussian-equivalent model given the spike coordinate κ = v̂·x: features
μ0(κ) + μ1(κ) (W x)_⊥ + μ2(κ) ξ (Result 3.3). Its test error solves the saddle point of
:func:`solve_saddle_point` (the notation of the authors' theory notebook, with the spectral
``F`` term kept: dropping it — ``drop_F`` — reproduces their stored output, 3 % higher at
α = 3 for σ* = sin and further from the simulations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from theorylab.theory.activations import Activation, parse_activation
from theorylab.theory.fixed_point import SolverStatus, solve_fixed_point
from theorylab.theory.gaussian import gauss_hermite
from theorylab.theory.spectral import SpectralMeasure, marchenko_pastur_measure

__all__ = [
    "ConditionalCoefficients",
    "SaddlePoint",
    "SpikedRF",
    "activation_moments",
    "conditional_coefficients",
    "feature_resolvent",
    "marchenko_pastur_bulk",
    "outlier_location",
    "solve_saddle_point",
    "spiked_rf_parameters",
]

_DERIVATIVE_STEP = 1e-5
_INNER, _OUTER = 41, 101  # Gauss–Hermite nodes of the z (inner) and κ (outer) averages


@dataclass(frozen=True)
class SpikedRF:
    """sRF parameters: spike strength ``r``, bulk variance ``c``, cosine ``gamma`` of the spike
    direction with θ*."""

    r: float
    c: float
    gamma: float

    @property
    def rho(self) -> float:
        return math.sqrt(max(0.0, 1.0 - self.gamma**2))


def _derivative(act: Activation, x: np.ndarray) -> np.ndarray:
    h = _DERIVATIVE_STEP
    return (act(x + h) - act(x - h)) / (2 * h)


def activation_moments(student: str, teacher: str) -> dict[str, float]:
    """μ1 = E zσ(z), Var σ'(z), μ1* = E zσ*(z), μ2* = E σ*(z)² (z ~ N(0, 1), 201 nodes)."""
    s, t = parse_activation(student), parse_activation(teacher)
    z, w = gauss_hermite(201)
    dsig = _derivative(s, z)
    mu1 = float(w @ (z * s(z)))
    return {
        "mu1": mu1,
        "var_dsigma": float(w @ dsig**2 - (w @ dsig) ** 2),
        "mu1_star": float(w @ (z * t(z))),
        "mu2_star": float(w @ t(z) ** 2),
    }


def spiked_rf_parameters(student: str, teacher: str, alpha0: float, eta_tilde: float) -> SpikedRF:
    """(r, c, γ) of Result 3.1 (α0 = 0 or η̃ = 0: random features, r = 0, c = 1, γ = 0).

    ``Var σ'`` is the variance of σ'(z) (``E σ'² − (E σ')²``, the note's ``ss``): the mean of σ'
    equals μ1 and builds the spike, its fluctuation inflates the bulk.
    """
    m = activation_moments(student, teacher)
    if alpha0 == 0:
        return SpikedRF(0.0, 1.0, 0.0)
    norm = math.sqrt(m["mu1_star"] ** 2 + m["mu2_star"] / alpha0)
    gamma = m["mu1_star"] / norm if norm > 0 else 0.0
    return SpikedRF(
        r=eta_tilde * m["mu1"] * norm,
        c=1.0 + eta_tilde**2 * m["mu2_star"] * m["var_dsigma"] / alpha0,
        gamma=gamma if eta_tilde != 0 else 0.0,
    )


@dataclass(frozen=True)
class ConditionalCoefficients:
    """Functions of the spike coordinate κ on the outer Gauss–Hermite nodes (Result 3.3).

    Student: μ0(κ) = E σ(rκ + √c z), μ1(κ) = E σ'(rκ + √c z), μ2(κ)² = E σ² − μ0² − c μ1².
    Teacher: h = E σ*(γκ + ρz), h1 = E z σ*(γκ + ρz), hh = E σ*(γκ + ρz)².
    """

    kappa: np.ndarray
    weights: np.ndarray
    mu0: np.ndarray
    mu1: np.ndarray
    mu2: np.ndarray
    h: np.ndarray
    h1: np.ndarray
    hh: np.ndarray


def conditional_coefficients(student: str, teacher: str, srf: SpikedRF) -> ConditionalCoefficients:
    s, t = parse_activation(student), parse_activation(teacher)
    kappa, wk = gauss_hermite(_OUTER)
    z, wz = gauss_hermite(_INNER)
    u = srf.r * kappa[:, None] + math.sqrt(srf.c) * z
    su = s(u)
    mu0 = su @ wz
    mu1 = (su * z) @ wz / math.sqrt(srf.c)
    mu2 = np.sqrt(np.clip(su**2 @ wz - mu0**2 - srf.c * mu1**2, 0.0, None))
    tu = t(srf.gamma * kappa[:, None] + srf.rho * z)
    return ConditionalCoefficients(
        kappa, wk, mu0, mu1, mu2, tu @ wz, (tu * z) @ wz, tu**2 @ wz
    )


@dataclass(frozen=True)
class SaddlePoint:
    """Overlaps (q1, q2, V1, V2, θ, ψ, m) at one α, the test error and the learned function."""

    overlaps: np.ndarray
    test_error: float
    learned: np.ndarray  # ŷ(κ) = μ0(κ) m + μ1(κ) κ θ on the outer nodes
    status: SolverStatus


#: Starting point (q1, q2, V1, V2, θ, ψ, m) of the authors' theory notebook.
START = np.array([0.1, 0.2, 3.0, 3.0, 0.5, 0.5, 1.5])


def _error_terms(cc: ConditionalCoefficients, x: np.ndarray):
    q1, q2, v1, v2, theta, psi, m = x
    v = cc.mu1**2 * v1 + cc.mu2**2 * v2
    q = cc.mu1**2 * q1 + cc.mu2**2 * q2
    mean = cc.mu0 * m + cc.mu1 * cc.kappa * theta
    err = cc.hh - 2 * mean * cc.h - 2 * cc.mu1 * psi * cc.h1 + mean**2 + q
    return v, mean, err


def saddle_point_map(
    cc: ConditionalCoefficients, spectrum: SpectralMeasure, c: float, alpha: float, lam: float,
    drop_f: bool = False,
):
    """The map x → x' of the saddle-point equations (hats from x, then overlaps, then m).

    Spectral data: D_j the eigenvalues of c W0 Π W0ᵀ (``spectrum``), F_j → c, H_j → D_j (the
    deterministic replacement of (u_jᵀ W v)², (u_jᵀ W ζ)²); ``drop_f`` sets F = 0 (θ = 0).
    """
    wk, k = cc.weights, cc.kappa
    d = spectrum.nodes
    f_j = 0.0 if drop_f else c
    no_mean = float(wk @ cc.mu0**2) < 1e-14  # r = 0, odd σ: μ0 ≡ 0 and m is not identified

    def step(x: np.ndarray) -> np.ndarray:
        v, mean, err = _error_terms(cc, x)
        inv = 1.0 / (1.0 + v)
        q1h = alpha * wk @ (cc.mu1**2 * err * inv**2)
        q2h = alpha * wk @ (cc.mu2**2 * err * inv**2)
        v1h = alpha * wk @ (cc.mu1**2 * inv)
        v2h = alpha * wk @ (cc.mu2**2 * inv)
        th_h = alpha * wk @ (k * cc.mu1 * (cc.h - mean) * inv)
        ps_h = alpha * wk @ (cc.mu1 * cc.h1 * inv)
        s = lam + v1h * d + v2h
        n = q1h * d + q2h + th_h**2 * f_j + ps_h**2 * d
        avg = spectrum.mean
        m = 0.0
        if not no_mean:
            m = (wk @ (cc.mu0 * (cc.h - cc.mu1 * k * x[4]) * inv)) / (wk @ (cc.mu0**2 * inv))
        return np.array(
            [
                avg(d * n / s**2),
                avg(n / s**2),
                avg(d / s),
                avg(1.0 / s),
                th_h * avg(f_j / s),
                ps_h * avg(d / s),
                m,
            ]
        )

    return step


def solve_saddle_point(
    cc: ConditionalCoefficients,
    spectrum: SpectralMeasure,
    c: float,
    alpha: float,
    lam: float,
    *,
    drop_f: bool = False,
    start: np.ndarray | None = None,
    dampings: tuple[float, ...] = (0.5, 0.8, 0.95),
    tol: float = 1e-9,
) -> SaddlePoint:
    """Solve the saddle point at one (α, λ) by damped iteration: damping 0.5 as the authors,
    retried from the start with 0.8 and 0.95 if it does not converge (at r = 0 the θ-update is
    θ' = −kθ with k = αμ1²⟨c/S⟩/(1+V), which damping d tames only for k < (1+d)/(1−d)).

    Test error ε = E_κ[hh − 2ŷh − 2μ1ψh1 + ŷ² + μ1²q1 + μ2²q2] with ŷ(κ) = μ0 m + μ1 κ θ.
    """
    step = saddle_point_map(cc, spectrum, c, alpha, lam, drop_f)
    x0 = START if start is None else start
    tried = []
    for k, damping in enumerate(dampings):
        last = k == len(dampings) - 1
        with np.errstate(over="ignore", invalid="ignore"):
            res = solve_fixed_point(
                step, x0, damping=damping, tol=tol, max_iter=5_000 if last else 1_500
            )
        tried.append(res.status)
        if res.status.converged:
            break
    if not res.status.converged:
        res = type(res)(res.x, SolverStatus.combine(*tried))
    x = np.asarray(res.x)
    _, mean, err = _error_terms(cc, x)
    return SaddlePoint(x, float(cc.weights @ err), mean, res.status)


def marchenko_pastur_bulk(c: float, ratio: float = 1.0, n: int = 400) -> SpectralMeasure:
    """Spectrum of c W0 Π W0ᵀ for unit-norm rows W0 (p/d = ratio): MP with scale c."""
    return marchenko_pastur_measure(ratio, c, n)


# --------------------------------------------------------------------------------------------
# Spectrum of the learned features (arXiv 2410.18938)
# --------------------------------------------------------------------------------------------


def feature_resolvent(
    cc: ConditionalCoefficients,
    c: float,
    p_over_d: float,
    p_over_n: float,
    z: np.ndarray,
    *,
    start: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 20_000,
    method: str = "newton",
) -> tuple[np.ndarray, SolverStatus]:
    """Deterministic equivalent of ``g(z) = tr(FᵀF/n − z)⁻¹/p`` for one neuron type.

    Our reconstruction from the conditional Gaussian structure of the sRF features (given
    κ = v̂·x a feature vector is μ0(κ) + μ1(κ) √c W0 x + μ2(κ) ξ), not the notation of
    arXiv 2410.18938 (whose text was not available); it reduces to the random-features
    linearisation at r = 0. With R̄_j = 1/(−z + A D_j + B) over the spectrum D of c W0 Π W0ᵀ
    (Marchenko–Pastur, ratio p/d, scale c):

        τ1 = ⟨D R̄⟩, τ2 = ⟨R̄⟩,   δ(κ) = (p/n)(μ1(κ)² τ1 + μ2(κ)² τ2),
        A = E_κ μ1²/(1 + δ),   B = E_κ μ2²/(1 + δ),   g = τ2.

    The D-averages are exact through the MP Stieltjes transform:
    ⟨R̄⟩ = G(w)/A, ⟨D R̄⟩ = (1 + w G(w))/A with w = (z − B)/A. The conditional means (μ0, the
    κ-linear part) are of finite rank: they leave this bulk unchanged and create outliers.
    Returns ``(τ1, τ2)`` per z, shape ``(len(z), 2)``, and the solver status.
    """
    from theorylab.theory.spectral import marchenko_pastur_stieltjes, solve_resolvent

    m1, m2, wk = cc.mu1**2, cc.mu2**2, cc.weights

    def step(tau: np.ndarray, zz: np.ndarray) -> np.ndarray:
        delta = p_over_n * (tau[:, :1] * m1 + tau[:, 1:] * m2)
        a = (m1 / (1 + delta)) @ wk
        b = (m2 / (1 + delta)) @ wk
        w = (zz - b) / a
        g = marchenko_pastur_stieltjes(w, p_over_d, c)
        return np.stack([(1 + w * g) / a, g / a], axis=-1)

    z = np.atleast_1d(np.asarray(z, dtype=complex))
    g0 = start if start is not None else np.array([-c / z[0], -1 / z[0]])
    return solve_resolvent(step, z, g0, damping=0.5, tol=tol, max_iter=max_iter, method=method)


def outlier_location(cc: ConditionalCoefficients, p: int) -> float:
    """Top eigenvalue of FᵀF/n from the mean feature μ0(κ)·1: ≈ p E_κ μ0(κ)² (order p)."""
    return float(p * (cc.weights @ cc.mu0**2))
