"""Exact sensitivities of any law's output to every lever it declares, from its sympy
derivatives (no finite differences), compiled through the one kernel path.

At a max() kink the two one-sided derivatives differ; both are reported (``OneSided``) and the
elasticity prints as ``left|right``. The binding constraint is the lever with the largest
|elasticity|, or the law's capacity when the footprint does not fit: then the sensitivities
are still reported, marked conditional on fitting, with the capacity the scenario needs.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass

from symsys.errors import InvalidParameter, suggest
from symsys.solvers import balance
from symsys.solvers.options import StepRequest, step_solver
from symsys.solvers.result import Result
from symsys.units import to_quantity

#: readable output names beyond the law's roles and its own symbols
ALIASES = {"crossover_batch": "balance:b:{regime0}:{regime1}", "optimal_batch": "B_star",
           "max_batch": "b_max", "max_batch_size": "fit:b"}
#: the step options weight streaming takes (the rest apply to Engine.solve's steps only)
STREAMING_OPTIONS = ("batch_size", "precision", "seq_len", "phase", "efficiency")
#: relative difference under which two elasticities tie (the first-declared lever wins)
_TIE_DIGITS = 9


@dataclass(frozen=True)
class OneSided:
    """Left and right values of a derivative-based quantity at a kink."""

    left: float
    right: float

    def __format__(self, spec: str) -> str:
        return f"{format(self.left, spec)}|{format(self.right, spec)}"

    def __abs__(self) -> float:
        return max(abs(self.left), abs(self.right))


def output_spec(card: dict, output: str) -> tuple[str, str]:
    """``(kernel spec, unit)`` of a readable output name of a law."""
    roles = {"latency": card["latency"], "throughput": card["rate"]}
    if roles.get(output):
        spec = roles[output]
    elif output in ALIASES:
        regimes = [term for _, term in card["regimes"]]
        spec = ALIASES[output].format(regime0=regimes[0] if regimes else "",
                                      regime1=regimes[1] if len(regimes) > 1 else "")
    else:
        spec = output
    name = spec.split(":")[1] if spec.startswith(("balance:", "fit:")) else spec
    if name not in card["units"] or (spec == "" or spec.endswith(":")):
        valid = [k for k, v in roles.items() if v] + [
            a for a, s in ALIASES.items() if s.split(":")[0] in card["units"]
            or (s.startswith(("fit:", "balance:")) and card["footprint"])]
        valid += [o for o in card["outputs"]]
        raise InvalidParameter(f"output={output!r}: the {card['law']} law has no such output; "
                               f"choose from {', '.join(dict.fromkeys(valid))}."
                               + suggest(str(output), valid))
    return spec, card["units"][name]


@dataclass(eq=False, repr=False)
class SensitivityResult(Result):
    """Elasticities d ln y / d ln x and exact partials of one output at one scenario."""

    baseline: Result
    output: str
    value: float
    unit: str
    raw_partials: dict  # lever -> (value or OneSided, unit), wrapped in units on access
    sensitivities: dict  # lever -> elasticity (float or OneSided)
    uncertainty: dict

    kind = "sensitivity"

    def __post_init__(self):
        Result.__init__(self, self.baseline.scenario, self.baseline.raw)

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
    def throughput(self):
        """The baseline's throughput: with ``data_parallel`` replicas, all of theirs."""
        return self.baseline.throughput

    @property
    def baseline_value(self):
        return to_quantity(self.value, self.unit)

    @property
    def conditional(self) -> bool:
        """True when the sensitivities hold only if the configuration fitted in memory."""
        return not self.feasible

    @property
    def capacity_needed(self):
        return self.memory_footprint

    @property
    def at_kink(self) -> bool:
        return any(isinstance(v, OneSided) for v in self.sensitivities.values())

    @property
    def binding_constraint(self) -> str:
        if not self.feasible:
            capacity = self.card["capacity"]
            return next(lever for lever, symbol in self.card["levers"] if symbol == capacity)
        # magnitudes equal to rounding (-1 vs -0.9999999999999999) tie, and ties go to the
        # lever the law declares first: a spec (bandwidth, peak) before its efficiency
        order = list(self.sensitivities)
        return max(order, key=lambda k: (round(abs(self.sensitivities[k]), _TIE_DIGITS),
                                         -order.index(k)))

    @property
    def relative_uncertainty(self) -> float:
        """First-order relative uncertainty of the output: sqrt(sum (elasticity * u)^2)."""
        return math.sqrt(sum((abs(self.sensitivities[lever]) * relative) ** 2
                             for lever, relative in self.uncertainty.items()))

    @property
    def output_uncertainty(self):
        return to_quantity(abs(self.value) * self.relative_uncertainty, self.unit)

    def summary(self) -> dict:
        def plain(v):
            return {"left": v.left, "right": v.right} if isinstance(v, OneSided) else v

        out = {"output": self.output, "value": self.baseline_value,
               "binding_constraint": self.binding_constraint, "regime": self.regime,
               "feasible": self.feasible, "reason": self.reason,
               "conditional_on_fitting": self.conditional,
               "elasticities": {k: plain(v) for k, v in self.sensitivities.items()},
               "partials": {k: {"value": plain(v), "unit": u}
                            for k, (v, u) in self.raw_partials.items()}}
        if self.uncertainty:
            out["relative_uncertainty"] = self.relative_uncertainty
        return out

    def _repr_tail(self) -> str:
        return f": {self.output}, binding {self.binding_constraint}"


def sensitivities(baseline: Result, output: str = "latency",
                  uncertainty: Mapping | None = None) -> SensitivityResult:
    """Every lever's elasticity of ``output`` at the scenario of ``baseline`` (a Result).

    ``output``: "latency", "throughput", "crossover_batch", "max_batch_size" (what fits),
    "optimal_batch"/"max_batch" (weight streaming) or any output of the law by its symbol.
    ``uncertainty``: {lever: relative 1-sigma} for first-order propagation.

    The throughput of data-parallel replicas (``baseline.data_parallel``, r) is r times the
    law's rate: its value and partials are r times the law's, its elasticities the law's
    (r is a constant factor), so the value reported is ``baseline.throughput``.
    """
    scenario = baseline.scenario
    card = scenario.card
    if not isinstance(output, str):
        raise InvalidParameter(f"output={output!r}: expected a name, e.g. 'latency'")
    spec, unit = output_spec(card, output)
    unknown = spec.split(":")[1] if spec.startswith(("balance:", "fit:")) else None
    levers, specs = _plan(card["levers"], spec, unknown)
    # a root with no closed form has no exact derivatives: say so before compiling them
    if unknown is not None and math.isnan(balance._root(scenario, spec)):
        raise InvalidParameter(
            f"{output}: the {card['law']} law has no closed form for it here ({scenario.label()}"
            "; an MoE step's expected experts touched make it transcendental in b), so it has "
            "no exact sensitivities; the solve result gives its value by search")
    fn = scenario.kernel(specs)
    raw = scenario.call(specs)
    replicas = baseline.copies(spec)  # r data-parallel replicas serve r times the rate
    y = raw[spec] * replicas
    if unknown is not None and not y > 0:
        raise InvalidParameter(
            f"{output}: {scenario.label()} has no positive {unknown} here (the closed form "
            f"gives {unknown} = {y:.4g}), so it has no sensitivities")
    partials, elasticities = {}, {}
    for name, symbol, left_spec, right_spec in levers:
        left, right = raw[left_spec] * replicas, raw[right_spec] * replicas
        if fn.constants.get(left_spec) == 0 == fn.constants.get(right_spec):
            continue  # the output does not depend on this lever at all (capacity, latency)
        x = scenario.values[symbol]
        x_unit = card["units"][symbol]
        d_unit = f"({unit}) / ({x_unit})" if x_unit != "1" else unit
        el_left, el_right = (left * x / y, right * x / y) if y else (0.0, 0.0)
        if math.isclose(left, right, rel_tol=1e-12, abs_tol=0.0):
            partials[name], elasticities[name] = (right, d_unit), el_right
        else:
            partials[name] = (OneSided(left, right), d_unit)
            elasticities[name] = OneSided(el_left, el_right)
    return SensitivityResult(baseline, output, y, unit, partials, elasticities,
                             _uncertainty(uncertainty, elasticities))


@functools.lru_cache(maxsize=256)
def _plan(levers: tuple, spec: str, unknown: str | None):
    """The levers (name, symbol, left and right derivative specs) and every kernel spec of
    the sensitivities of ``spec``: the same for every scenario of a law, so built once."""
    rows = tuple((name, symbol, f"d:left:{symbol}:{spec}", f"d:right:{symbol}:{spec}")
                 for name, symbol in levers if symbol != unknown)
    return rows, (spec, *(s for row in rows for s in row[2:]))


def _uncertainty(uncertainty, elasticities: dict) -> dict:
    if uncertainty is None:
        return {}
    if not isinstance(uncertainty, Mapping):
        raise InvalidParameter(f"uncertainty={uncertainty!r}: expected a mapping "
                               "{lever: relative 1-sigma}, e.g. {'memory_bandwidth': 0.05}")
    for lever, relative in uncertainty.items():
        if lever not in elasticities:
            raise InvalidParameter(f"uncertainty: no lever {lever!r}; levers: "
                                   + ", ".join(elasticities) + suggest(str(lever), elasticities))
        if not (isinstance(relative, int | float) and not isinstance(relative, bool)
                and 0 <= relative < 1):
            raise InvalidParameter(f"uncertainty[{lever!r}]={relative!r}: a relative "
                                   "1-sigma in [0, 1), e.g. 0.05 for +/-5%")
    return dict(uncertainty)


class SensitivitySolver:
    """Exact sensitivities of a model on a device: ``SensitivitySolver().solve(model,
    hardware, output="latency", uncertainty={lever: relative 1-sigma}, ...)``."""

    @step_solver
    def solve(self, model, hardware, *, output="latency", uncertainty=None, overlap=None,
              **options) -> SensitivityResult:
        """Elasticities of ``output`` to every lever of the law that answers the question.

        The baseline is the step :meth:`Engine.solve` answers for the step options (with
        tensor_parallel > 1 the levers include link_bandwidth, link_latency,
        collective_latency and group_size, across fast domains network_bandwidth and
        network_latency; pipeline stages add pipeline_stages (n_pp), expert parallelism
        expert_parallel (n_ep), a runtime aux_kernel_time and activation_traffic). With
        data_parallel=r the throughput's value and partials are the r replicas' (r times the
        law's rate, ``InferenceResult.throughput``); its elasticities are the law's.

        Parameters
        ----------
        model, hardware : registry entries or their names.
        output : "latency" (default), "throughput", "crossover_batch", "max_batch_size" (the
            largest batch that fits), or for weight streaming "optimal_batch" (B*) and
            "max_batch" (b_max); any output symbol of the law also works ("U_c").
        uncertainty : {lever: relative 1-sigma}, propagated to first order.
        overlap : weight streaming only (see :class:`WeightStreamingModel`), which takes
            batch_size, precision, seq_len, phase and efficiency of the step options; any
            other given there is an error that names it.
        <step options>
        """
        request = StepRequest.from_options(**options)
        # the weight-streaming laws' results; anything not a name is refused by sensitivities()
        if isinstance(output, str) and output in ("optimal_batch", "max_batch"):
            from symsys.solvers.streaming import WeightStreamingModel

            other = [name for name in request.changed() if name not in STREAMING_OPTIONS]
            if other:
                raise InvalidParameter(f"{', '.join(other)}: not an option of weight streaming "
                                       f"(output={output!r}), which takes overlap and efficiency")
            baseline = WeightStreamingModel().solve(
                model, hardware, overlap=True if overlap is None else overlap,
                **{name: value for name, value in options.items() if name in STREAMING_OPTIONS})
        else:
            if overlap is not None:
                raise InvalidParameter("overlap applies to weight streaming (output="
                                       "'optimal_batch' or 'max_batch') only")
            from symsys.solvers.inference import solve

            baseline = solve(model, hardware, request)
        return sensitivities(baseline, output, uncertainty)
