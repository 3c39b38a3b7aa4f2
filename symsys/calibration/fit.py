"""Least-squares calibration of a law's efficiencies on measured kernel times.

The residual of kernel i is ``log T(x_i; theta) - log t_i``: relative errors, so a 5 us
kernel counts as much as a 5 ms one. The Jacobian comes from the law's exact sympy
derivatives (kernel specs ``d:right:x:T``), compiled with the predictions in one kernel;
no finite differences anywhere. Levenberg-Marquardt (numpy only) minimises the sum of
squares.

Bounds are kept by the parameterisation, never by clamping: each efficiency is a logistic
function of a free variable (0 < eta < 1), the overhead an exponential (t_o > 0) and the
smooth law's sharpness p a logistic between 1 and ``P_MAX``. A parameter that runs into its
bound is reported in the profile's ``bounds_hit`` (and gets no standard error: at a bound
the curvature says nothing about its uncertainty).

Each kernel is evaluated in its own time unit, its speed-of-light time s_i (peaks scaled
by s_i, t_o divided by it; the laws' T is homogeneous of degree one in time, so T / s_i comes
out). That is conditioning, not physics: t^p of a time in seconds underflows for p of a few
tens and overflows in microseconds for long kernels; t / s_i is of order one for any p.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np

from symsys import kernels
from symsys.calibration.measurements import Measurements
from symsys.calibration.prediction import M_TILE, error_stats, law_inputs, law_named
from symsys.calibration.profile import CalibrationProfile
from symsys.errors import InvalidParameter

#: Upper bound of the smooth law's p; at p = 64 it is within 1.1 % of max() at the ridge.
P_MAX = 64.0
_START = {"eta_c": 0.7, "eta_m": 0.7, "t_o": 5e-6, "p_smooth": 2.0}
_P_STARTS = (2.0, 8.0)  # the smooth fits start from both; the lower cost wins


@dataclass(frozen=True)
class _Transform:
    """theta(u) of one parameter, its derivative and its bound test."""

    name: str

    def value(self, u):
        if self.name == "t_o":
            return np.exp(u)
        if self.name == "p_smooth":
            return 1 + (P_MAX - 1) / (1 + np.exp(-u))
        return 1 / (1 + np.exp(-u))

    def slope(self, theta):
        if self.name == "t_o":
            return theta
        if self.name == "p_smooth":
            return (theta - 1) * (P_MAX - theta) / (P_MAX - 1)
        return theta * (1 - theta)

    def inverse(self, theta):
        if self.name == "t_o":
            return np.log(theta)
        if self.name == "p_smooth":
            return -np.log((P_MAX - 1) / (theta - 1) - 1)
        return np.log(theta / (1 - theta))

    def bound(self, theta) -> str | None:
        """A sentence when ``theta`` sits at a bound of its range, else None."""
        if self.name == "t_o":
            return "t_o reached its lower bound 0" if theta < 1e-10 else None  # < 0.1 ns
        if self.name == "p_smooth":
            if theta - 1 < 1e-3:
                return "p reached its lower bound 1 (the times add, no overlap)"
            return f"p reached its upper bound {P_MAX:g} (the max() law)" if P_MAX - theta < 0.1 \
                else None
        return f"{self.name} reached its upper bound 1" if theta > 1 - 1e-4 else None


def fit_kernel(law_name: str) -> kernels.Kernel:
    """T of a calibration law and its exact partial derivatives in the fitted parameters
    (one-sided, "right", at the max() kink of the roofline), in one array kernel."""
    law, fitted = law_named(law_name)
    return kernels.kernel(law, ("T", *(f"d:right:{p}:T" for p in fitted)))


class _Problem:
    """The residuals and exact Jacobian of one law on one set of kernels, in u space."""

    def __init__(self, law_name, measurements, hardware):
        self.law, self.fitted = law_named(law_name)
        if law_name == "gemm" and not measurements.has_shapes:
            raise InvalidParameter("law='gemm' needs GEMM shapes (m, n, k) in the measurements")
        self.compiled = fit_kernel(law_name)
        self.transforms = [_Transform(p) for p in self.fitted]
        self.measurements, self.hardware = measurements, hardware

    def theta(self, u) -> dict:
        return {t.name: float(t.value(x)) for t, x in zip(self.transforms, u)}

    def evaluate(self, u):
        theta = self.theta(u)
        values, scale = law_inputs(self.law, self.measurements, self.hardware, theta)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            T, *grads = self.compiled(*(values[a] for a in self.compiled.args))  # T / scale
            residual = np.log(T * scale / self.measurements.time)
            # d log T / d u = (dT/dtheta) / T * dtheta/du; t_o enters as t_o / scale
            jacobian = np.column_stack([
                g / T * t.slope(theta[t.name]) / (scale if t.name == "t_o" else 1)
                for g, t in zip(grads, self.transforms)])
        return residual, jacobian


def _levenberg_marquardt(problem, u, max_iter=300):
    """Minimise |r(u)|^2; returns (u, residual, jacobian, iterations)."""
    r, J = problem.evaluate(u)
    cost, damping = r @ r, 1e-3
    for iteration in range(1, max_iter + 1):
        A, g = J.T @ J, J.T @ r
        while True:
            scaled = A + damping * np.diag(np.diag(A) + 1e-12)
            step = np.linalg.solve(scaled, -g)
            r_new, J_new = problem.evaluate(u + step)
            cost_new = r_new @ r_new if np.all(np.isfinite(r_new)) else np.inf
            if cost_new < cost:
                break
            damping *= 4
            if damping > 1e12:  # no step lowers the cost: a minimum
                return u, r, J, iteration
        u, r, J = u + step, r_new, J_new
        converged = cost - cost_new <= 1e-12 * cost or np.max(np.abs(step)) < 1e-10
        cost, damping = cost_new, max(damping / 3, 1e-12)
        if converged:
            break
    return u, r, J, iteration


def _starts(problem):
    base = {name: _START[name] for name in (t.name for t in problem.transforms)}
    if "p_smooth" not in base:
        return [base]
    return [{**base, "p_smooth": p} for p in _P_STARTS]


def calibrate(measurements, hardware=None, law: str = "roofline", precision: str = "fp16",
              provenance: str = ""):
    """Fit ``law``'s efficiencies (eta_c, eta_m), overhead t_o (and p) to ``measurements``.

    ``measurements`` is a :class:`Measurements` or ``(flops, bytes, time)`` triples of pint
    Quantities (then ``hardware`` is required and ``precision`` applies). ``law`` is
    ``"roofline"`` (max), ``"smooth"`` (p-norm) or ``"gemm"`` (smooth with tile padding;
    needs GEMM shapes). Returns a :class:`CalibrationProfile`.
    """
    from symsys.registry.hardware import Hardware

    if not isinstance(measurements, Measurements):
        if hardware is None:
            raise InvalidParameter("calibrate: give hardware= with (flops, bytes, time) kernels")
        measurements = Measurements.of(measurements, Hardware[hardware].key, precision)
    hardware = Hardware[hardware if hardware is not None else measurements.device]
    problem = _Problem(law, measurements, hardware)
    best = None
    for start in _starts(problem):
        u0 = np.array([t.inverse(start[t.name]) for t in problem.transforms])
        result = _levenberg_marquardt(problem, u0)
        if best is None or result[1] @ result[1] < best[1] @ best[1]:
            best = result
    u, r, J, _ = best
    theta = problem.theta(u)
    bounds = tuple(b for t in problem.transforms if (b := t.bound(theta[t.name])))
    dof = max(len(r) - len(u), 1)
    covariance = (r @ r / dof) * np.linalg.pinv(J.T @ J)
    stderr = {}
    for i, t in enumerate(problem.transforms):
        if t.bound(theta[t.name]) is not None:
            stderr[t.name] = None  # at a bound the curvature says nothing about uncertainty
            continue
        se = float(abs(t.slope(theta[t.name])) * np.sqrt(max(covariance[i, i], 0.0)))
        stderr[t.name] = se
    params = theta
    stats = error_stats(np.expm1(r))  # r = log(predicted / measured)
    note = (f"fitted by symsys.calibrate on {datetime.date.today().isoformat()}: law {law} "
            f"({problem.law.name}), {stats['n']} kernels, least squares on log error with "
            f"exact sympy derivatives")
    return CalibrationProfile(
        device=hardware.key, precision=measurements.precision, law=law,
        eta_c=params["eta_c"], eta_m=params["eta_m"], t_o=params["t_o"],
        p_smooth=params.get("p_smooth"), m_tile=M_TILE if law == "gemm" else None,
        stderr=stderr, n=stats["n"], median=stats["median"], mean=stats["mean"],
        p90=stats["p90"], rms_log=float(np.sqrt(r @ r / len(r))), bounds_hit=bounds,
        provenance="; ".join(p for p in (provenance or measurements.source, note) if p))
