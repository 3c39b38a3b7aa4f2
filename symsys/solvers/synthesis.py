"""Inverse design: the value of one lever (bandwidth, peak compute, batch, bytes per weight,
efficiency, capacity) that meets a latency or throughput target.

The output is split into its regime branches (``derive.branches``) and each branch is solved
for the lever in closed form by ``sympy.solve``; a solution counts only where its branch's
condition holds. Feeding the answer back through the forward law reproduces the target (the
result carries that check). A target no value of the lever can reach is explained with the
floor or ceiling the other terms impose.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass

import numpy as np
import sympy as sp

from symsys import derive
from symsys import symbols as S
from symsys.compile import compile_exprs
from symsys.errors import InvalidParameter, UnitError
from symsys.solvers.inference import InferenceResult, evaluate_step
from symsys.solvers.inputs import step_inputs
from symsys.solvers.sensitivity import LEVERS, OUTPUTS
from symsys.units import to_magnitude, to_quantity

SOLVABLE = ("memory_bandwidth", "peak_flops", "compute_efficiency", "memory_efficiency",
            "batch_size", "bytes_per_weight", "memory_capacity")
_TARGET = sp.Symbol("y_target", positive=True)


def _target(target) -> tuple[str, float]:
    """("latency", seconds) or ("throughput", items per second) from a Quantity."""
    if hasattr(target, "magnitude") and (np.ndim(target.magnitude) or not isinstance(
            target.magnitude, numbers.Real) or isinstance(target.magnitude, bool)):
        raise InvalidParameter(f"target={target!r}: expected one number with units, e.g. "
                               "Q_(5, 'ms') (for several targets, call solve once per target)")
    for output, unit in (("latency", "s"), ("throughput", "1/s")):
        try:
            value = to_magnitude(target, unit if output == "latency" else "1/s", "target")
        except UnitError:
            try:
                value = to_magnitude(target, "token/s", "target")
                output = "throughput"
            except UnitError:
                try:
                    value = to_magnitude(target, "sample/s", "target")
                    output = "throughput"
                except UnitError:
                    continue
        if not value > 0 or not math.isfinite(value):
            raise InvalidParameter(f"target={target}: must be positive and finite")
        return output, value
    shown = f"{target:~P} ({target.dimensionality})" if hasattr(target, "units") else repr(target)
    raise InvalidParameter(f"target={shown}: expected a latency (e.g. Q_(5, 'ms')) or a "
                           "throughput (e.g. Q_(1000, 'token/s'))")


@functools.cache
def _solutions(law, output: str, lever: str, dense: bool):
    """Closed-form branch solutions of output = y_target for the lever, compiled."""
    from symsys.laws.inference import dense as dense_case

    y = OUTPUTS[output][0](law)
    y = dense_case(y) if dense else y
    x = LEVERS[lever]
    found = derive.solve_for(y, _TARGET, x)
    args = (*law.inputs, _TARGET)
    compiled = []
    for solution, conditions in found:
        sides = [c.lhs - c.rhs for c in conditions]  # each must be >= 0 (Ge) or <= 0 (Le)
        scales = [abs(c.lhs) + abs(c.rhs) for c in conditions]  # for a relative tolerance
        signs = [1 if isinstance(c, sp.GreaterThan) else -1 for c in conditions]
        compiled.append((solution, signs, compile_exprs([solution, *sides, *scales], args,
                                                        scalar=True)))
    forward = compile_exprs([y], law.inputs, scalar=True)
    return compiled, forward


@dataclass(frozen=True, eq=False)
class SynthesisResult:
    baseline: InferenceResult
    output: str
    lever: str
    target: float
    value: float | None  # the lever's required value (canonical units), None if unreachable
    achieved: float | None
    unit: str
    explanation: str
    expression: sp.Expr | None = None

    @property
    def feasible(self) -> bool:
        """A value exists and is physical (an efficiency cannot exceed 1)."""
        if self.value is None:
            return False
        return not (self.lever.endswith("_efficiency") and self.value > 1)

    @property
    def required(self):
        return None if self.value is None else to_quantity(self.value, self.unit)

    @property
    def current(self):
        return to_quantity(self.baseline.inputs.values[LEVERS[self.lever].name]
                           if self.lever != "memory_capacity"
                           else self.baseline.memory_capacity.m_as("B"), self.unit)

    @property
    def ratio(self) -> float | None:
        """Required / current value of the lever."""
        current = self.current.magnitude
        return None if self.value is None or not current else self.value / current

    @property
    def round_trip_error(self) -> float | None:
        """|forward(required) - target| / target: the closed form checked by the law."""
        return None if self.achieved is None else abs(self.achieved - self.target) / self.target

    def __repr__(self) -> str:
        if not self.feasible:
            return f"<SynthesisResult {self.lever}: unreachable: {self.explanation}>"
        from symsys.show import format_value

        return (f"<SynthesisResult {self.lever} = {format_value(self.required)} "
                f"({self.ratio:.3g}x current) for {self.output}>")


class SynthesisSolver:
    """``SynthesisSolver().solve(model, hardware, target=Q_(5, "ms"), lever=...)``."""

    def solve(self, model, hardware, target, lever="memory_bandwidth", precision="fp16",
              batch_size=1, seq_len=None, phase="decode", **options) -> SynthesisResult:
        if not isinstance(lever, str) or lever not in SOLVABLE:
            raise InvalidParameter(f"lever={lever!r}: expected one of {', '.join(SOLVABLE)}")
        output, y = _target(target)
        inputs = step_inputs(model, hardware, batch_size, precision, phase=phase,
                             seq_len=seq_len, **options)
        baseline = InferenceResult(inputs, evaluate_step(inputs))
        if lever == "memory_capacity":
            need = baseline.raw["M"]
            return SynthesisResult(baseline, "memory_footprint", lever, need, need, need, "B",
                                   "capacity needed = weights + K/V cache + workspace")
        symbol = LEVERS[lever]
        if symbol not in inputs.law.inputs:
            raise InvalidParameter(f"lever={lever!r} does not enter the {inputs.law.name} law")
        dense = inputs.values.get("E", 1) == 1
        if lever == "batch_size" and not dense:
            raise InvalidParameter("batch_size has no closed form for MoE models (expected "
                                   "experts touched is transcendental in b)")
        solutions, forward = _solutions(inputs.law, output, lever, dense)
        law_args = [inputs.values[s.name] for s in inputs.law.inputs]
        unit = S.info(symbol).unit
        for expression, signs, fn in solutions:
            value, *sides = (float(v) for v in fn.raw(*law_args, y))
            if not (math.isfinite(value) and value > 0):
                continue
            args = [value if s is symbol else v for s, v in zip(inputs.law.inputs, law_args)]
            checks = [float(v) for v in fn.raw(*args, y)[1:]]
            residual, scale = checks[:len(signs)], checks[len(signs):]
            # the branch holds to rounding, relative to the size of its terms (an absolute
            # tolerance would accept the wrong branch when the times are nanoseconds)
            if all(sign * r >= -1e-9 * m for sign, r, m in zip(signs, residual, scale)):
                achieved = float(forward.raw(*args)[0])
                if not abs(achieved - y) <= 1e-6 * y:  # the forward law must confirm it
                    continue
                note = _bounds_note(lever, value, unit)
                return SynthesisResult(baseline, output, lever, y, value, achieved, unit, note,
                                       expression)
        return SynthesisResult(baseline, output, lever, y, None, None, unit,
                               _unreachable(forward, inputs, symbol, output, y))


def _bounds_note(lever: str, value: float, unit: str) -> str:
    if lever in ("compute_efficiency", "memory_efficiency") and value > 1:
        return f"needs {lever} = {value:.3g} > 1: beyond the speed of light, not achievable"
    if lever == "batch_size":
        return f"batch {value:.6g}: the nearest whole batch meeting the target applies"
    return ""


def _unreachable(forward, inputs, symbol, output: str, target: float) -> str:
    """Explain why no value reaches the target: the limit as the lever grows or shrinks."""
    law_args = [inputs.values[s.name] for s in inputs.law.inputs]
    here = inputs.values[symbol.name]
    limits = []
    for factor in (1e12, 1e-12):
        args = [here * factor if s is symbol else v for s, v in zip(inputs.law.inputs, law_args)]
        limits.append(float(forward.raw(*args)[0]))
    best = min(limits) if output == "latency" else max(limits)
    name = next(k for k, v in LEVERS.items() if v is symbol)
    # a memory-side lever leaves the compute time (plus overhead) as the floor, and vice versa
    other = {"memory_bandwidth": "compute", "memory_efficiency": "compute",
             "bytes_per_weight": "compute", "peak_flops": "memory",
             "compute_efficiency": "memory"}.get(name, "latency")
    if output == "latency":
        floor = to_quantity(best, "s").to("ms")
        return (f"{other} floor {floor:.4g~P}: no {name} gets below it (target "
                f"{to_quantity(target, 's').to('ms'):.4g~P})")
    return (f"throughput ceiling {best:.4g}/s: no {name} gets above it (target "
            f"{target:.4g}/s); the other terms bind")
