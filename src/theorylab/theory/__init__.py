"""Theory layer: numerical solvers and special functions shared by the paper modules.

Gaussian quadrature (:mod:`~theorylab.theory.gaussian`), named activations and their
``name(<scale>x)`` spec strings (:mod:`~theorylab.theory.activations`), Hermite / Gaussian
coefficients of activations (:mod:`~theorylab.theory.hermite`) and fixed-point solvers with
convergence diagnostics (:mod:`~theorylab.theory.fixed_point`).

This layer depends on numpy and scipy only and must not import torch, so that theoretical
predictions can be computed without the simulation stack.
"""

from theorylab.theory.activations import ACTIVATIONS, Activation, parse_activation
from theorylab.theory.fixed_point import (
    ConvergenceError,
    FixedPointResult,
    SolverStatus,
    solve_fixed_point,
)
from theorylab.theory.gaussian import expect, expect2, gauss_hermite
from theorylab.theory.hermite import HermiteCoefficients, hermite_coefficient, hermite_coefficients

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "ConvergenceError",
    "FixedPointResult",
    "HermiteCoefficients",
    "SolverStatus",
    "expect",
    "expect2",
    "gauss_hermite",
    "hermite_coefficient",
    "hermite_coefficients",
    "parse_activation",
    "solve_fixed_point",
]
