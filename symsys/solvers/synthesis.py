"""Inverse design: the value of one lever that meets a latency or throughput target, for any
law that declares the lever, with the law's capacity respected.

The output is split into its regime branches and each branch is solved for the lever in closed
form (kernel spec ``inverse:x:y``); a solution counts only where its branch's conditions hold,
to rounding. Feeding the answer back through the forward law reproduces the target (the result
carries that check). A design is *achievable* only if the value exists, is physical (an
efficiency cannot exceed 1) and the scenario then fits its capacity: a batch that meets a
throughput target but overflows memory, or a bandwidth that meets a latency target for weights
that do not fit, is reported not achievable with a reason that names the capacity. A target no
value of the lever can reach is explained with the floor or ceiling the other terms impose.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from symsys.errors import InvalidParameter, UnitError, suggest
from symsys.kernel_source import TARGET
from symsys.solvers import balance, checks
from symsys.solvers.options import StepRequest, step_solver
from symsys.solvers.result import Result, binding
from symsys.units import format_value, parse_quantity, to_magnitude, to_quantity

#: the units a target may be in: a latency, or a rate of steps, tokens or samples
_TARGET_UNITS = ("s", "1/s", "token/s", "sample/s")


def _target(target) -> tuple[str, float]:
    """("latency", seconds) or ("throughput", items per second) from a Quantity or text."""
    if isinstance(target, str):  # the one text reader the command line uses too
        target = parse_quantity(target, _TARGET_UNITS, "target", error=InvalidParameter,
                                wanted="a latency (e.g. '3 ms') or a throughput (e.g. "
                                       "'20k token/s', '1000 sample/s')")
    if hasattr(target, "magnitude") and (np.ndim(target.magnitude) or not isinstance(
            target.magnitude, numbers.Real) or isinstance(target.magnitude, bool)):
        raise InvalidParameter(f"target={target!r}: expected one number with units, e.g. "
                               "Q_(5, 'ms') (for several targets, call solve once per target)")
    for output, unit in zip(("latency", "throughput", "throughput", "throughput"),
                            _TARGET_UNITS):
        try:
            value = to_magnitude(target, unit, "target")
        except UnitError:
            continue
        if not value > 0 or not math.isfinite(value):
            raise InvalidParameter(f"target={target}: must be positive and finite")
        return output, value
    shown = f"{target:~P} ({target.dimensionality})" if hasattr(target, "units") else repr(target)
    raise InvalidParameter(f"target={shown}: expected a latency (e.g. Q_(5, 'ms')) or a "
                           "throughput (e.g. Q_(1000, 'token/s'))")


@dataclass(eq=False, repr=False)
class SynthesisResult(Result):
    """The lever value meeting a target, whether it is achievable, and why not."""

    baseline: Result
    output: str
    lever: str
    target: float
    required_value: float | None  # the lever's required value (canonical units)
    achieved: float | None
    unit: str
    explanation: str
    design: Result | None = None  # the scenario with the lever at its required value
    spec: str = ""

    kind = "synthesis"

    def __post_init__(self):
        Result.__init__(self, self.baseline.scenario, self.baseline.raw)

    @property
    def value(self) -> float | None:
        return self.required_value

    @property
    def throughput(self):
        """The baseline's throughput: with ``data_parallel`` replicas, all of theirs."""
        return self.baseline.throughput

    @property
    def achievable(self) -> bool:
        """A value exists, is physical, and the design it gives fits its capacity."""
        if self.required_value is None:
            return False
        if _beyond_peak(self.card, self.lever, self.required_value):
            return False
        return self.design is None or self.design.feasible

    @property
    def feasible(self) -> bool:
        """The design fits its capacity (the baseline's answer when no value exists)."""
        return (self.design or self.baseline).feasible

    @property
    def reason(self) -> str:
        """Why the design is not achievable ('' when it is)."""
        return "" if self.achievable else self.explanation

    @property
    def required(self):
        return None if self.required_value is None else to_quantity(self.required_value,
                                                                    self.unit)

    @property
    def current(self):
        symbol = dict(self.card["levers"])[self.lever]
        return to_quantity(self.scenario.values[symbol], self.unit)

    @property
    def ratio(self) -> float | None:
        """Required / current value of the lever."""
        current = self.current.magnitude
        return None if self.required_value is None or not current else \
            self.required_value / current

    @property
    def round_trip_error(self) -> float | None:
        """|forward(required) - target| / target: the closed form checked by the law."""
        return None if self.achieved is None else abs(self.achieved - self.target) / self.target

    @property
    def expression(self):
        """The closed form of the branch that answered, as a sympy expression."""
        if not self.spec:
            return None
        from symsys.kernels import expressions

        return expressions(self.scenario.law, [self.spec.split("#")[0]],
                           self.scenario.variant)[self.spec]

    def summary(self) -> dict:
        role = {"latency": "latency", "throughput": "rate"}.get(self.output)
        target = (to_quantity(self.target, self.card["units"][self.card[role]]) if role
                  else self.target)
        return {"lever": self.lever, "target": target, "required": self.required,
                "current": self.current, "ratio": self.ratio, "achievable": self.achievable,
                "feasible": self.feasible, "reason": self.reason,
                "note": self.explanation if self.achievable else ""}

    def _repr_tail(self) -> str:
        if not self.achievable:
            return f"{self.lever}: not achievable: {self.explanation}"
        return (f"{self.lever} = {format_value(self.required)} ({self.ratio:.3g}x current) "
                f"for {self.output}")

    def __repr__(self) -> str:  # the design question, not the baseline's label
        return f"<SynthesisResult {self._repr_tail()}>"


def synthesize(baseline: Result, target, lever: str) -> SynthesisResult:
    """The value of ``lever`` at which the scenario of ``baseline`` meets ``target`` (a
    latency or a throughput Quantity), with the law's capacity respected."""
    scenario = baseline.scenario
    card = scenario.card
    levers = dict(card["levers"])
    if not isinstance(lever, str) or lever not in levers:
        raise InvalidParameter(f"lever={lever!r}: the {card['law']} law's levers are "
                               f"{', '.join(levers)}." + suggest(str(lever), levers))
    output, y = _target(target)
    symbol = levers[lever]
    unit = card["units"][symbol]
    if symbol == card["capacity"]:  # the capacity a design needs is its footprint
        need = baseline.raw[card["footprint"]]
        design = type(baseline)(scenario.replace(**{symbol: need}), baseline.raw)
        return SynthesisResult(baseline, "memory_footprint", lever, need, need, need, unit,
                               f"capacity needed = the footprint {card['footprint']}", design)
    forward = card["latency"] if output == "latency" else card["rate"]
    if forward is None:
        raise InvalidParameter(f"target: the {card['law']} law has no {output} output")
    # r data-parallel replicas serve r times the law's rate: the law must give 1/r of a
    # throughput target (the latency is one replica's, as every other output)
    replicas = baseline.copies(forward)
    y_law = y / replicas
    spec = f"inverse:{symbol}:{forward}"
    fn = scenario.kernel(spec, scalar=False)
    if f"{spec}#none" in fn.outputs:
        raise InvalidParameter(
            f"lever={lever!r}: the {card['law']} law has no closed form in {symbol} for "
            f"{scenario.label()} (an MoE step's expected experts touched make it "
            "transcendental in the batch); choose another lever")
    for name in (o for o in fn.outputs if "." not in o.rsplit("#", 1)[-1]):
        value = _branch_value(scenario, fn, name, y_law)
        if value is None:
            continue
        design_raw = scenario.replace(**{symbol: value}).call(("*",))
        achieved = design_raw[forward] * replicas
        if not abs(achieved - y) <= 1e-6 * y:  # the forward law must confirm it
            continue
        design = type(baseline)(scenario.replace(**{symbol: value}), design_raw)
        note = _note(lever, value, design, card)
        return SynthesisResult(baseline, output, lever, y, value, achieved, unit, note, design,
                               name)
    return SynthesisResult(baseline, output, lever, y, None, None, unit,
                           _unreachable(scenario, symbol, lever, forward, output, y,
                                        replicas))


def _branch_value(scenario, fn, name: str, y: float) -> float | None:
    """The branch's solution if it is positive, finite and its conditions hold to rounding.

    ``fn`` is the array kernel: a branch that divides by zero here (a fixed workload with no
    per-sample bytes) gives inf or NaN on its own, without hiding the other branches."""
    values = {**scenario.values, TARGET: y}

    def evaluate():
        with np.errstate(all="ignore"):
            return dict(zip(fn.outputs, (float(v) for v in fn(*(values[a] for a in fn.args)))))

    value = evaluate()[name]
    if not (math.isfinite(value) and value > 0):
        return None
    values[name.split(":")[1]] = value
    check = evaluate()
    sides = [k for k in check if k.startswith(name + ".side.")]
    # each side >= 0 where the branch holds, to rounding relative to the size of its terms
    if all(check[s] >= -1e-9 * check[s.replace(".side.", ".scale.")] for s in sides):
        return value
    return None


def _beyond_peak(card: dict, lever: str, value: float) -> bool:
    """An efficiency (a fraction of a peak) above 1: beyond the speed of light."""
    return dict(card["levers"])[lever] in checks.FRACTIONS and value > 1


def _note(lever: str, value: float, design: Result, card: dict) -> str:
    """What the answer means beyond its value, and why a found value is not achievable."""
    if _beyond_peak(card, lever, value):
        return f"needs {lever} = {value:.3g} > 1: beyond the speed of light, not achievable"
    if not design.feasible:
        shown = format_value(to_quantity(value, card["units"][dict(card["levers"])[lever]]))
        text = f"{lever} = {shown} meets the target but does not fit: {design.reason}"
        symbol = dict(card["levers"])[lever]
        if symbol in card["integers"] and card["footprint"]:
            largest = balance.max_fitting(design.scenario, symbol)[1]
            text += f"; the largest {lever} that fits is {largest}"
        return text
    if lever == "batch_size":
        return f"batch {value:.6g}: the nearest whole batch meeting the target applies"
    return ""


def _unreachable(scenario, symbol: str, lever: str, forward: str, output: str,
                 target: float, replicas: int = 1) -> str:
    """Explain why no value reaches the target: the limit as the lever grows or shrinks, and
    the regime that binds there (a throughput ceiling is all ``replicas``' rate)."""
    here = scenario.values[symbol]
    limits = [scenario.replace(**{symbol: here * f}).call(("*",)) for f in (1e12, 1e-12)]
    pick = min if output == "latency" else max
    best = pick(limits, key=lambda raw: raw[forward])
    regimes = scenario.card["regimes"]
    wall = f"{binding(regimes, best).lower()} " if regimes else ""
    if output == "latency":
        return (f"{wall}floor {format_value(to_quantity(best[forward], 's'))}: no {lever} gets "
                f"below it (target {format_value(to_quantity(target, 's'))})")
    replicas_text = f" ({replicas} data-parallel replicas)" if replicas != 1 else ""
    return (f"{wall}ceiling {best[forward] * replicas:.4g}/s{replicas_text}: no {lever} gets "
            f"above it (target {target:.4g}/s)")


class SynthesisSolver:
    """Inverse design: ``SynthesisSolver().solve(model, hardware, target="3 ms",
    lever="memory_bandwidth", ...)``."""

    @step_solver
    def solve(self, model, hardware, *, target, lever="memory_bandwidth",
              **options) -> SynthesisResult:
        """The value of ``lever`` that meets ``target``, and whether the design is achievable.

        The baseline is the step :meth:`Engine.solve` answers for the step options. With
        data_parallel=r a throughput target is all r replicas' (as
        ``InferenceResult.throughput``): each replica must serve 1/r of it, so the lever is
        solved on the law for target / r, and ``achieved`` is r times the law's rate; a
        latency target is one replica's, unchanged by r.

        Parameters
        ----------
        model, hardware : registry entries or their names.
        target : a latency ("3 ms", ``Q_(3, "ms")``) or a throughput ("3000 token/s",
            "20k tok/s", "500 samples per second"). Text is read by
            :func:`symsys.units.parse_quantity`, as the command line reads it: a k/M/G
            after the number multiplies it, token/sample/sec words are read in any case,
            unit letters keep their SI case ("3 MS" is megasiemens: an error that suggests
            "3 ms").
        lever : one of the step law's levers: memory_bandwidth (default), peak_flops,
            memory_efficiency, compute_efficiency, overhead, batch_size, seq_len,
            bytes_per_weight, bytes_per_kv, memory_capacity (the capacity the step needs).
            A parallel step (tensor_parallel > 1, link_latency given, pipeline_parallel > 1
            or expert_parallel > 1) adds link_bandwidth (per direction), link_latency,
            collective_latency and group_size; across fast domains network_bandwidth and
            network_latency; pipeline stages add pipeline_stages, expert parallelism
            expert_parallel.
        <step options>
        """
        from symsys.solvers.inference import solve

        baseline = solve(model, hardware, StepRequest.from_options(**options))
        return synthesize(baseline, target, lever)
