"""Speed of denoising_autoencoder's theory per grid point, against the dense linear algebra.

Per point of the (Δ, α) grid: the isotropic, Wishart (d × d matrices, the prior side in Σ_+'s
eigenbasis with one Cholesky inverse, potrf + potri, per evaluation) and digits (d = 64)
theories, with their fixed-point iterations (one more evaluation than iterations per point);
then what one evaluation costs: the Wishart prior side (one d × d inverse and O(d²) traces)
and the channel side (the 2-d proximal map on the 30 × 30 Gauss–Hermite grid of both
clusters). The "explicit" row re-solves the Wishart point
with the prior side written out (G = inv(M), G B G formed: the implementation before the
eigenbasis). Reference costs measured in the same run: one d × d eigh (paid once per geometry,
cached), one d × d inverse (numpy's LU) and one Cholesky inverse (potrf + potri, the prior
side's inverse).
Run: ``python benchmarks/bench_denoising_autoencoder.py [--d 500]``.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from scipy.linalg.lapack import dpotrf as potrf
from scipy.linalg.lapack import dpotri as potri

from theorylab.experiments import denoising_autoencoder as da
from theorylab.theory import dae
from timing import best_of


def explicit_prior(geo, lam, h):
    """The prior side of Sec. 3 with explicit d × d matrices (reference and 'before')."""
    qh, mh, vh, qph, qmh, vph, vmh = h
    sp, sm, mu = geo.sigma_plus, geo.sigma_minus, geo.mu
    d = sp.shape[0]
    g = np.linalg.inv((lam + vh) * np.eye(d) + vph * sp + vmh * sm)
    gbg = g @ (qh * np.eye(d) + qph * sp + qmh * sm + mh**2 * np.outer(mu, mu)) @ g
    return np.array([np.trace(gbg), mh * mu @ g @ mu, np.trace(g), np.trace(sp @ gbg),
                     np.trace(sm @ gbg), np.trace(sp @ g), np.trace(sm @ g)]) / d


def one_iteration(geo, p) -> tuple[float, float]:
    """Best times of one prior-side and one channel-side evaluation at the solution of ``p``."""
    delta, alpha = np.asarray(p.Delta, float)[:, None], np.asarray(p.alpha, float)[None, :]
    st = dae.solve_saddle_point(geo, alpha, delta, p.lam)
    x = np.stack([st.q, st.m, st.V, st.q_plus, st.q_minus, st.V_plus, st.V_minus])
    hats = dae._channel(x, alpha, delta, st.b, 30)[0]
    t_prior = best_of(lambda: geo.prior(p.lam, hats), repeat=7)
    t_channel = best_of(lambda: dae._channel(x, alpha, delta, st.b, 30), repeat=7)
    return t_prior, t_channel


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--d", type=int, default=500)
    args = ap.parse_args()
    point = {"alpha": (1.0,), "Delta": (0.25,)}
    wish = da.Params(covariance="wishart", d=args.d, **point)
    geo = da.geometry(wish)  # built and eigendecomposed once (cached)
    sp = geo.sigma_plus
    t_eigh = best_of(lambda: np.linalg.eigh(sp))
    t_inv = best_of(lambda: np.linalg.inv(sp + np.eye(args.d)))
    t_chol = best_of(lambda: potri(potrf(sp + np.eye(args.d), lower=True)[0], lower=True))
    cases = {
        "isotropic": da.Params(**point),
        "wishart": wish,
        "digits": da.Params(covariance="digits", d=64, **point),
    }
    load = os.getloadavg()[0]
    rows = {name: best_of(lambda p=p: da.theory(p), repeat=5) for name, p in cases.items()}
    iterations = {name: da.theory(p)["solver"].iterations for name, p in cases.items()}
    rows["isotropic, 3 × 3 grid / 9"] = best_of(lambda: da.theory(da.Params())) / 9
    wish_grid = da.Params(covariance="wishart", d=args.d, alpha=(0.5, 1.0), Delta=(0.25, 0.64))
    rows["wishart, 2 × 2 grid / 4"] = best_of(lambda: da.theory(wish_grid), repeat=3) / 4
    iterations["wishart, 2 × 2 grid / 4"] = da.theory(wish_grid)["solver"].iterations / 4
    t_prior, t_channel = one_iteration(geo, wish)
    fast = da.theory(wish)
    original = dae.ClusterGeometry._prior_matrix
    dae.ClusterGeometry._prior_matrix = explicit_prior
    try:
        rows["wishart, explicit prior"] = best_of(lambda: da.theory(wish), repeat=2)
        slow = da.theory(wish)
    finally:
        dae.ClusterGeometry._prior_matrix = original
    diff = max(abs(float(fast[k][0, 0]) / float(slow[k][0, 0]) - 1) for k in ("q", "m", "excess"))
    print(f"load average {load:.2f} (1 min, at the start)")
    print(f"d = {args.d}: eigh {1e3 * t_eigh:.1f} ms, inverse {1e3 * t_inv:.1f} ms, "
          f"Cholesky inverse {1e3 * t_chol:.1f} ms")
    for name, t in rows.items():
        its = f"  ({iterations[name]:g} iterations)" if name in iterations else ""
        print(f"  theory per point, {name:28s} {1e3 * t:8.1f} ms{its}")
    print(f"  one iteration: prior side (d = {args.d}) {1e3 * t_prior:.1f} ms, "
          f"channel side {1e3 * t_channel:.1f} ms")
    print(f"  fast vs explicit prior: max relative difference {diff:.1e} "
          f"({fast['solver'].iterations} iterations)")


if __name__ == "__main__":
    main()
