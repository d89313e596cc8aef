"""Fixed-point iteration with damping or Anderson acceleration, and solver diagnostics.

Saddle-point / state-evolution equations of the papers are written as ``x = f(x)``;
:func:`solve_fixed_point` iterates them and *reports* (never raises on) non-convergence in a
:class:`SolverStatus`. Call :meth:`FixedPointResult.require` where a converged value is needed.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "ConvergenceError",
    "FixedPointResult",
    "SolverStatus",
    "solve_fixed_point",
]

_METHODS = ("damped", "anderson")


class ConvergenceError(RuntimeError):
    """A solver result was required to be converged but was not."""


@dataclass(frozen=True)
class SolverStatus:
    """Diagnostics of an iterative (or closed-form) solve.

    Parameters
    ----------
    converged : bool
        Whether the convergence criterion was met.
    iterations : int
        Number of iterations (updates) performed.
    residual : float
        Final residual (solver-specific; for :func:`solve_fixed_point` ``max |f(x) - x|``).
    method : str, default ""
        Method name, e.g. ``"anderson"``.
    message : str, default ""
        Human-readable explanation, typically set when not converged.
    """

    converged: bool
    iterations: int
    residual: float
    method: str = ""
    message: str = ""

    @classmethod
    def exact(cls, method: str = "closed form") -> SolverStatus:
        """Status of a closed-form evaluation: converged, 0 iterations, residual 0."""
        return cls(converged=True, iterations=0, residual=0.0, method=method)

    @staticmethod
    def combine(*statuses: SolverStatus) -> SolverStatus:
        """Aggregate several statuses (e.g. one per point of a sweep).

        ``converged`` is the conjunction, ``iterations`` the sum, ``residual`` the maximum (NaN if
        any residual is NaN), the distinct non-empty methods are joined with ``"+"`` in order of
        first appearance, and the messages of the non-converged statuses are joined with ``"; "``.
        With no statuses this is :meth:`exact` with an empty method.
        """
        if not statuses:
            return SolverStatus(converged=True, iterations=0, residual=0.0)
        residuals = [float(s.residual) for s in statuses]
        residual = math.nan if any(math.isnan(v) for v in residuals) else max(residuals)
        methods = list(dict.fromkeys(s.method for s in statuses if s.method))
        messages = [s.message for s in statuses if not s.converged and s.message]
        return SolverStatus(
            converged=all(s.converged for s in statuses),
            iterations=sum(int(s.iterations) for s in statuses),
            residual=residual,
            method="+".join(methods),
            message="; ".join(messages),
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict form (for JSON / tables); ``"message"`` only when non-empty."""
        out: dict[str, Any] = {
            "converged": bool(self.converged),
            "iterations": int(self.iterations),
            "residual": float(self.residual),
            "method": self.method,
        }
        if self.message:
            out["message"] = self.message
        return out


@dataclass(frozen=True)
class FixedPointResult:
    """A fixed point (or the last iterate) with its :class:`SolverStatus`.

    Parameters
    ----------
    x : numpy.ndarray or float
        Returned iterate, with the shape of the starting point (a float for scalar input).
    status : SolverStatus
        Convergence diagnostics.
    """

    x: np.ndarray | float
    status: SolverStatus

    def require(self, what: str = "fixed point") -> np.ndarray | float:
        """Return :attr:`x` if converged, otherwise raise :class:`ConvergenceError`.

        Parameters
        ----------
        what : str, default "fixed point"
            What was being solved for, used in the error message.
        """
        if self.status.converged:
            return self.x
        s = self.status
        detail = f": {s.message}" if s.message else ""
        raise ConvergenceError(
            f"{what} did not converge ({s.method or 'unknown method'}): residual {s.residual:.3e} "
            f"after {s.iterations} iterations{detail}"
        )


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _validate(damping: float, tol: float, max_iter: int, method: str, anderson_m: int) -> None:
    if not (_is_real(damping) and 0.0 <= damping < 1.0):
        raise ValueError(f"damping must be in [0, 1), got {damping!r}")
    if not (_is_real(tol) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be finite and > 0, got {tol!r}")
    _require_positive_int("max_iter", max_iter)
    if method not in _METHODS:
        raise ValueError(f"method must be one of {', '.join(_METHODS)}, got {method!r}")
    _require_positive_int("anderson_m", anderson_m)


def _require_positive_int(name: str, value: object) -> None:
    try:
        ok = operator.index(value) >= 1
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def _inf_norm(v: np.ndarray) -> float:
    return float(np.max(np.abs(v))) if v.size else 0.0


def _anderson_step(
    x: np.ndarray, g: np.ndarray, dxs: list[np.ndarray], dgs: list[np.ndarray], beta: float
) -> np.ndarray | None:
    """Type-II Anderson update, or ``None`` when it is not finite / the least squares fails."""
    dg = np.stack(dgs, axis=1)
    dx = np.stack(dxs, axis=1)
    if not (np.all(np.isfinite(dg)) and np.all(np.isfinite(dx))):
        return None
    try:
        gamma = np.linalg.lstsq(dg, g, rcond=None)[0]
    except np.linalg.LinAlgError:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        candidate = x - dx @ gamma + beta * (g - dg @ gamma)
    return candidate if np.all(np.isfinite(candidate)) else None


def solve_fixed_point(
    f: Callable[[Any], ArrayLike],
    x0: ArrayLike,
    *,
    damping: float = 0.0,
    tol: float = 1e-12,
    max_iter: int = 10_000,
    method: str = "damped",
    anderson_m: int = 5,
) -> FixedPointResult:
    """Solve ``x = f(x)`` by damped iteration or Anderson acceleration.

    Parameters
    ----------
    f : callable
        The map. It receives an iterate with the shape of ``x0`` (a float for scalar ``x0``) and
        returns a value with the same number of elements.
    x0 : float or array_like
        Starting point; arrays of any shape are treated as flat vectors.
    damping : float, default 0.0
        ``d`` in ``[0, 1)``; the damped update is ``x <- (1 - d) f(x) + d x`` (the convention of
        the authors' notebooks: ``new = (1 - d) new + d old``). ``d = 0`` is plain iteration. For
        Anderson the same mixing ``beta = 1 - d`` is applied to the extrapolated step.
    tol : float, default 1e-12
        Convergence tolerance, see Notes.
    max_iter : int, default 10000
        Maximum number of updates.
    method : {"damped", "anderson"}, default "damped"
        Iteration scheme.
    anderson_m : int, default 5
        Anderson memory (number of past differences kept).

    Returns
    -------
    FixedPointResult
        ``x`` has the shape of ``x0`` (float for scalar ``x0``). The status residual is
        ``max |f(x) - x|`` at the *returned* ``x``.

    Notes
    -----
    Convergence is the mixed absolute/relative test
    ``max |f(x) - x| <= tol * max(1, max |x|)``: absolute for ``|x| <= 1``, relative above.

    Non-convergence is never raised: when ``max_iter`` is reached, or when ``f`` produces a
    non-finite value, the iteration stops and ``status.converged`` is ``False`` with an
    explanatory ``status.message``. On a non-finite value the last finite iterate is returned.

    Anderson acceleration is type II (Walker & Ni 2011): with residuals ``g_k = f(x_k) - x_k``
    and the last ``m`` differences ``dX``, ``dG``, ``gamma = argmin |g_k - dG gamma|`` (by
    ``numpy.linalg.lstsq``) and ``x_{k+1} = x_k - dX gamma + beta (g_k - dG gamma)``. When that
    step is not finite the history is cleared and a damped step is taken instead.

    References
    ----------
    .. [1] H. F. Walker, P. Ni, "Anderson acceleration for fixed-point iterations",
       SIAM J. Numer. Anal. 49(4), 1715-1735 (2011).
    """
    _validate(damping, tol, max_iter, method, anderson_m)
    shape = np.shape(x0)
    scalar = len(shape) == 0
    x = np.array(x0, dtype=float).reshape(-1)

    def as_input(v: np.ndarray) -> Any:
        return float(v[0]) if scalar else v.reshape(shape).copy()

    def evaluate(v: np.ndarray) -> np.ndarray:
        out = np.asarray(f(as_input(v)), dtype=float).reshape(-1)
        if out.size != v.size:
            raise ValueError(
                f"f returned {out.size} elements for an iterate with {v.size} elements"
            )
        return out

    def result(
        v: np.ndarray, converged: bool, iters: int, res: float, msg: str = ""
    ) -> FixedPointResult:
        status = SolverStatus(
            converged=converged, iterations=iters, residual=res, method=method, message=msg
        )
        return FixedPointResult(x=as_input(v), status=status)

    if not np.all(np.isfinite(x)):
        return result(x, False, 0, math.nan, "non-finite starting point")

    beta = 1.0 - damping
    fx = evaluate(x)
    # Last iterate (with its residual) whose f-value was finite, returned if f blows up.
    x_prev, res_prev = x, math.inf
    # Anderson history: differences of iterates and of residuals, newest last.
    g_prev: np.ndarray | None = None
    dxs: list[np.ndarray] = []
    dgs: list[np.ndarray] = []
    iteration = 0
    while True:
        if not np.all(np.isfinite(fx)):
            if iteration == 0:
                return result(x, False, 0, math.inf, "non-finite value of f at the starting point")
            return result(
                x_prev,
                False,
                iteration,
                res_prev,
                f"non-finite value of f at iteration {iteration}; "
                "returning the last iterate with a finite residual",
            )
        g = fx - x
        res = _inf_norm(g)
        if res <= tol * max(1.0, _inf_norm(x)):
            return result(x, True, iteration, res)
        if iteration >= max_iter:
            return result(
                x, False, iteration, res, f"max_iter={max_iter} reached (residual {res:.3e})"
            )

        x_new = x + beta * g
        if method == "anderson":
            # Note: scipy.optimize.anderson is a root finder for F(x) = 0 with different update
            # semantics and no per-solve diagnostics, hence this small implementation.
            if g_prev is not None:
                dxs.append(x - x_prev)
                dgs.append(g - g_prev)
                if len(dxs) > anderson_m:
                    del dxs[0], dgs[0]
            if dgs:
                candidate = _anderson_step(x, g, dxs, dgs, beta)
                if candidate is not None:
                    x_new = candidate
                else:  # fall back to the damped step and restart the history
                    dxs.clear()
                    dgs.clear()
            g_prev = g

        x_prev, res_prev = x, res
        iteration += 1
        if not np.all(np.isfinite(x_new)):
            return result(
                x_prev,
                False,
                iteration,
                res_prev,
                f"non-finite iterate at iteration {iteration}; returning the last finite iterate",
            )
        x = x_new
        fx = evaluate(x)
