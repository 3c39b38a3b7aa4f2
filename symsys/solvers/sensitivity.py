"""Exact sensitivities: partial derivatives and elasticities of an output with respect to every
hardware and workload input, from the law's sympy derivatives (no finite differences).

At a max() kink the two one-sided derivatives differ; both are reported (``one_sided``) and the
elasticity prints as ``left|right``. The binding constraint is the lever with the largest
|elasticity|. An infeasible baseline names capacity as binding, states the capacity it needs,
and still reports the roofline sensitivities, marked conditional on fitting.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp

from symsys import derive
from symsys import symbols as S
from symsys.compile import compile_exprs
from symsys.errors import InvalidParameter
from symsys.laws import Law
from symsys.solvers.inference import InferenceResult, evaluate_step
from symsys.solvers.inputs import step_inputs
from symsys.units import to_quantity

#: readable lever name -> symbol, in the order ties are broken (specs before efficiencies)
LEVERS = {
    "memory_bandwidth": S.beta, "peak_flops": S.Pi, "memory_efficiency": S.eta_m,
    "compute_efficiency": S.eta_c, "overhead": S.t_o, "batch_size": S.b, "seq_len": S.s,
    "bytes_per_weight": S.bytes_w, "bytes_per_kv": S.bytes_kv,
    # weight streaming (present only in the streaming laws)
    "injection_bandwidth": S.beta_inj, "onchip_capacity": S.C_chip,
}
HARDWARE_LEVERS = ("memory_bandwidth", "peak_flops", "memory_efficiency", "compute_efficiency",
                   "overhead")


def _throughput(law: Law) -> sp.Expr:
    """The law's own rate: tokens/s of a transformer step, samples/s of a fixed workload."""
    return law.expr(S.R_tok if S.R_tok in law.outputs else S.R_s)


#: output name -> (builder of its expression from the law, unit)
OUTPUTS = {
    "latency": (lambda law: law.expr(S.T), "s"),
    "throughput": (_throughput, None),
    "crossover_batch": (lambda law: law.expr(S.b_cross), "1"),
    # weight streaming: B* (compute = injection) and b_max (on-chip footprint = capacity)
    "optimal_batch": (lambda law: law.expr(S.B_star), "1"),
    "max_batch": (lambda law: law.expr(S.b_max), "1"),
}
STREAMING_OUTPUTS = ("optimal_batch", "max_batch")


@dataclass(frozen=True)
class OneSided:
    """Left and right values of a derivative-based quantity at a kink."""

    left: float
    right: float

    def __format__(self, spec: str) -> str:
        return f"{format(self.left, spec)}|{format(self.right, spec)}"

    def __abs__(self) -> float:
        return max(abs(self.left), abs(self.right))


@functools.cache
def _kernel(law: Law, output: str, dense: bool):
    """[y, dy/dx left, dy/dx right for every lever in the law] compiled in one function."""
    from symsys.laws.inference import dense as dense_case

    y = OUTPUTS[output][0](law)
    y = dense_case(y) if dense else y
    levers = [name for name, sym in LEVERS.items() if sym in law.inputs and not
              (output == "crossover_batch" and sym is S.b)]
    exprs = [y]
    for name in levers:
        left, right = derive.one_sided(y, LEVERS[name])
        exprs += [left, right]
    return levers, compile_exprs(exprs, law.inputs, scalar=True)


@dataclass(frozen=True, eq=False)
class SensitivityResult:
    baseline: InferenceResult
    output: str
    value: float
    unit: str
    raw_partials: dict  # lever -> (value or OneSided, unit), wrapped in units on access
    sensitivities: dict  # lever -> elasticity (float or OneSided)
    uncertainty: dict = field(default_factory=dict)

    @property
    def partials(self) -> dict:
        """Exact partial derivatives with units (OneSided pairs of Quantities at a kink)."""
        out = {}
        for name, (value, unit) in self.raw_partials.items():
            out[name] = (OneSided(to_quantity(value.left, unit), to_quantity(value.right, unit))
                         if isinstance(value, OneSided) else to_quantity(value, unit))
        return out

    @property
    def baseline_latency(self):
        return self.baseline.latency

    @property
    def baseline_value(self):
        return to_quantity(self.value, self.unit)

    @property
    def regime(self) -> str:
        return self.baseline.bottleneck

    @property
    def feasible(self) -> bool:
        return self.baseline.feasible

    @property
    def conditional(self) -> bool:
        """True when the sensitivities hold only if the configuration fitted in memory."""
        return not self.feasible

    @property
    def capacity_needed(self):
        return self.baseline.memory_footprint

    @property
    def at_kink(self) -> bool:
        return any(isinstance(v, OneSided) for v in self.sensitivities.values())

    @property
    def binding_constraint(self) -> str:
        if not self.feasible:
            return "memory_capacity"
        # magnitudes equal to rounding (-1 vs -0.9999999999999999) tie, and ties go to the
        # lever listed first: a spec (bandwidth, peak) before its efficiency
        return max(self.sensitivities, key=lambda k: (round(abs(self.sensitivities[k]), 9),
                                                      -list(LEVERS).index(k)))

    @property
    def relative_uncertainty(self) -> float:
        """First-order relative uncertainty of the output: sqrt(sum (elasticity * u)^2)."""
        total = 0.0
        for lever, relative in self.uncertainty.items():
            e = self.sensitivities[lever]
            total += (abs(e) * relative) ** 2
        return math.sqrt(total)

    @property
    def output_uncertainty(self):
        return to_quantity(abs(self.value) * self.relative_uncertainty, self.unit)

    def __repr__(self) -> str:
        return (f"<SensitivityResult {self.output} of {self.baseline.model.key} on "
                f"{self.baseline.hardware.key}: binding {self.binding_constraint}>")


class SensitivitySolver:
    """``SensitivitySolver().solve(model=, hardware=, precision=, batch_size=, seq_len=,
    phase=, output="latency", uncertainty={lever: relative 1-sigma})``."""

    def solve(self, model, hardware, precision="fp16", batch_size=1, seq_len=None,
              phase="decode", output="latency", uncertainty=None, **options):
        if not isinstance(output, str) or output not in OUTPUTS:
            raise InvalidParameter(f"output={output!r}: expected one of {', '.join(OUTPUTS)}")
        if output in STREAMING_OUTPUTS:
            from symsys.solvers.streaming import WeightStreamingModel, streaming_inputs

            options = {k: v for k, v in options.items() if v is not None}  # CLI defaults
            other = sorted(set(options) - {"overlap", "efficiency"})
            if other:
                raise InvalidParameter(f"{', '.join(other)}: not an option of weight streaming "
                                       f"(output={output!r}), which takes overlap and efficiency")
            inputs = streaming_inputs(model, hardware, seq_len, batch_size, precision,
                                      phase=phase, **options)
            baseline = WeightStreamingModel().solve(model, hardware, seq_len, batch_size,
                                                    precision, phase=phase, **options)
        else:
            inputs = step_inputs(model, hardware, batch_size, precision, phase=phase,
                                 seq_len=seq_len, **options)
            baseline = InferenceResult(inputs, evaluate_step(inputs))
        law, values = inputs.law, inputs.values
        if output == "crossover_batch" and law.name not in ("decode", "prefill"):
            raise InvalidParameter("crossover_batch applies to transformer decode/prefill")
        dense = values.get("E", 1) == 1
        if output == "crossover_batch" and not dense:
            raise InvalidParameter("crossover_batch has no closed form for MoE models "
                                   "(expected experts touched is transcendental in b)")
        levers, fn = _kernel(law, output, dense)
        try:
            raw = [float(x) for x in fn.raw(*(values[s.name] for s in law.inputs))]
        except (ZeroDivisionError, OverflowError):  # math-module floats raise, not inf
            raw = [math.nan]
        if not all(map(math.isfinite, raw)):
            raise InvalidParameter(f"{output} or one of its derivatives is inf or NaN for "
                                   f"{baseline.model.key} on {baseline.hardware.key} at these "
                                   "inputs (an input far outside any physical range)")
        y = raw[0]
        if output == "crossover_batch" and not y > 0:
            raise InvalidParameter(
                f"crossover_batch: {baseline.model.key} on {baseline.hardware.key} never turns "
                f"compute-bound here (the closed form gives b = {y:.4g} <= 0: the K/V traffic "
                "per sequence outweighs its FLOPs), so it has no sensitivities")
        unit = OUTPUTS[output][1] or str(baseline.throughput.units)
        partials, elasticities = {}, {}
        for i, name in enumerate(levers):
            left, right = raw[1 + 2 * i], raw[2 + 2 * i]
            x = values[LEVERS[name].name]
            x_unit = S.info(LEVERS[name]).unit
            d_unit = f"({unit}) / ({x_unit})" if x_unit != "1" else unit
            el_left, el_right = (left * x / y, right * x / y) if y else (0.0, 0.0)
            if math.isclose(left, right, rel_tol=1e-12, abs_tol=0.0):
                partials[name] = (right, d_unit)
                elasticities[name] = el_right
            else:
                partials[name] = (OneSided(left, right), d_unit)
                elasticities[name] = OneSided(el_left, el_right)
        if uncertainty is not None and not isinstance(uncertainty, Mapping):
            raise InvalidParameter(f"uncertainty={uncertainty!r}: expected a mapping "
                                   "{lever: relative 1-sigma}, e.g. {'memory_bandwidth': 0.05}")
        for lever, relative in (uncertainty or {}).items():
            if lever not in elasticities:
                raise InvalidParameter(f"uncertainty: no lever {lever!r}; levers: "
                                       + ", ".join(elasticities))
            if not (isinstance(relative, int | float) and not isinstance(relative, bool)
                    and 0 <= relative < 1):
                raise InvalidParameter(f"uncertainty[{lever!r}]={relative!r}: a relative "
                                       "1-sigma in [0, 1), e.g. 0.05 for +/-5%")
        return SensitivityResult(baseline, output, y, unit, partials, elasticities,
                                 dict(uncertainty or {}))
