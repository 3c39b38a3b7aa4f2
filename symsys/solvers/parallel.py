"""Tensor-parallel degrees of a step: the fewest devices that hold it, the degree that is fastest.

Both come from the tensor-parallel law by calculus (its derived results ``n_fit``: footprint =
capacity solved for n, and ``n_fast``: d(t_memory + t_comm)/dn = 0 solved for n), evaluated
by the same compiled kernels as every other output. The whole answers are then checked on the
compiled law itself at the degrees a model allows: a divisor of its K/V heads (each device its
share) or a multiple of them (each a copy of one head), no more than the fast domain holds, or
on a system with a scale-out network no more than its devices (a degree beyond one domain
holds whole domains, and spans them with hierarchical all-reduces: ``node_span``).
The closed forms assume each device has its share of the K/V heads (n <= h_kv) and, for
``n_fast``, a memory-bound step with serial all-reduces; the integer answers do not.
"""

from __future__ import annotations

import dataclasses
import math

from symsys.errors import InvalidParameter
from symsys.registry.systems import Systems
from symsys.solvers import steps
from symsys.solvers.inputs import (
    link_numbers,
    network_bandwidth,
    node_span,
    tensor_parallel_inputs,
)

#: the largest degree searched where no fast domain bounds the group
LIMIT = 1024


def parallel_scenario(scenario):
    """``scenario`` on a tensor-parallel law: itself if it is one, else the same step on the
    tensor-parallel law at n = 1 (equal to it exactly) over the device's or system's link;
    None for a fixed workload or hardware without a link in the registry."""
    declared = steps.role(scenario.law)
    if declared is None or "expert" in declared["parallel"]:
        return None  # no step, or degrees of an expert-parallel step: min_expert_degree
    if "tensor" in declared["parallel"]:
        return scenario
    if scenario.options.get("step_law") is not None:
        return None  # a law asked for by name is never swapped for another
    try:
        extra = tensor_parallel_inputs(scenario.model, scenario.hardware, 1, None,
                                       scenario.options["precision"], system_of(scenario))
    except InvalidParameter:
        return None
    law, _ = steps.choose(declared["phase"], {"tensor"})
    return dataclasses.replace(scenario, law=law, values={**scenario.values, **extra})


def system_of(scenario):
    """The system a scenario runs on (None for a bare device)."""
    key = scenario.options.get("system")
    if key is None:
        return None
    return Systems[key]


def degrees(heads: int, limit: int) -> list[int]:
    """The tensor-parallel degrees up to ``limit`` that split ``heads`` K/V heads evenly:
    its divisors, then its multiples."""
    below = [n for n in range(1, min(heads, limit) + 1) if heads % n == 0]
    return below + list(range(2 * heads, limit + 1, heads))


def degree_limit(scenario) -> int | None:
    """The largest tensor-parallel group here over the pipeline stages: the system's devices
    where a scale-out network joins its fast domains (an expert-parallel group stays in one),
    else the fast domain (None where the registry gives the link no domain size)."""
    system = system_of(scenario)
    _, domain, _ = link_numbers(scenario.hardware, system)
    stages = int(scenario.values.get("n_pp", 1))
    if "n_ep" not in scenario.values and network_bandwidth(system) is not None:
        return system.devices // stages
    return None if domain is None else domain // stages


def placed(scenario, n: int) -> dict | None:
    """The inputs that change with the tensor-parallel degree ``n``: n_g, the fast domains
    its group spans and the pipeline sends that cross between domains (the layout of
    ``node_span``); None where n cannot be laid out over the domains."""
    _, domain, _ = link_numbers(scenario.hardware, system_of(scenario))
    stages = int(scenario.values.get("n_pp", 1))
    nodes, crossings = 1, 0
    if domain is not None:
        try:
            nodes, crossings = node_span(n, stages, domain)
        except InvalidParameter:
            return None
    return {"n_g": n, "n_node": nodes, **({"p_net": crossings} if stages > 1 else {})}


def allowed_degrees(scenario, limit: int) -> dict[int, dict]:
    """The K/V heads' degrees up to ``limit`` that can be laid out here, with their inputs."""
    layouts = {n: placed(scenario, n) for n in degrees(int(scenario.values["h_kv"]), limit)}
    return {n: inputs for n, inputs in layouts.items() if inputs is not None}


def closed_form(scenario, spec: str, **override) -> float | None:
    """A derived result of the law at this scenario (``override`` replaces some values), or
    None where it is not a positive finite number (no latency: no optimum; a workspace over
    the capacity: nothing fits)."""
    fn = scenario.kernel(spec)
    values = {**scenario.values, **override}
    try:
        value = float(fn.raw(*(values[a] for a in fn.args))[0])
    except (ZeroDivisionError, OverflowError, ValueError):
        return None
    return value if math.isfinite(value) and value > 0 else None


def min_fitting_degree(scenario) -> tuple[float | None, int | None]:
    """``(exact, whole)``: the degree at which the per-device footprint equals the capacity
    (closed form), and the smallest allowed degree whose footprint fits on the compiled law
    (None when none within the fast domain does)."""
    tp = parallel_scenario(scenario)
    if tp is None:
        return None, None
    exact = closed_form(tp, "n_fit")
    footprint, capacity = tp.card["footprint"], tp.values[tp.card["capacity"]]
    for n, inputs in allowed_degrees(tp, degree_limit(tp) or LIMIT).items():
        if tp.call((footprint,), **inputs)[footprint] <= capacity:
            return exact, n
    return exact, None


def fastest_degree(scenario) -> tuple[float | None, int | None]:
    """``(exact, whole)``: the degree n* where d(t_memory + t_comm)/dn = 0 (closed form inside
    one fast domain; None with no message latency or where the switches reduce, when every
    added device shortens the step), and the allowed degree with the least latency on the
    compiled law, searched over the fast domain or, on a system with a scale-out network, its
    devices (where the link has no domain size: up to twice n*, beyond which the latency only
    grows; None with no n*)."""
    tp = parallel_scenario(scenario)
    if tp is None:
        return None, None
    if tp.values["alpha_x"] == 0 or tp.values.get("z_nvls", 0) == 1:
        # no message latency, or an all-reduce in the switch that takes as long for any
        # n >= 2: n* is infinite, and no sympy is needed to say so
        exact = None
    else:
        from symsys.laws.parallel import FASTEST_DEGREE_LAWS  # sympy: only for a finite n*

        exact = closed_form(dataclasses.replace(tp, law=FASTEST_DEGREE_LAWS[tp.law.name]),
                            "n_fast")
    heads, limit = int(tp.values["h_kv"]), degree_limit(tp)
    if limit is None:
        if exact is None:
            return None, None
        limit = max(heads, 2 * math.ceil(exact))
    latency = tp.card["latency"]
    times = {n: tp.call((latency,), **inputs)[latency]
             for n, inputs in allowed_degrees(tp, limit).items()}
    return exact, min(times, key=times.get)


def expert_degrees(experts: int, tensor: int, limit: int | None) -> list[int]:
    """The expert-parallel degrees that split ``experts`` routed experts evenly and hold
    whole tensor-parallel groups of ``tensor`` devices, up to ``limit`` devices."""
    top = experts if limit is None else min(experts, limit)
    return [e for e in range(2, top + 1) if experts % e == 0 and e % tensor == 0]


def min_expert_degree(scenario) -> int | None:
    """The smallest expert-parallel degree (at this tensor-parallel degree and pipeline depth)
    whose per-device footprint fits, checked on the compiled law; None for a step without
    expert parallelism, or when no allowed degree within the fast domain fits."""
    if "expert" not in steps.parallel(scenario.law):
        return None
    footprint = scenario.card["footprint"]
    capacity = scenario.values[scenario.card["capacity"]]
    for e in expert_degrees(int(scenario.values["E"]), int(scenario.values["n_g"]),
                            degree_limit(scenario)):
        if scenario.call((footprint,), n_ep=e)[footprint] <= capacity:
            return e
    return None


def min_pipeline_degree(scenario) -> int | None:
    """The fewest pipeline stages (at this tensor-parallel degree) whose per-device footprint
    fits, checked on the compiled law: how many wafers or chips hold a model whose weights
    stay in their on-chip memory. None for a step without pipeline parallelism, or when no
    depth within the system (one stage per layer at most) fits."""
    degrees = steps.parallel(scenario.law)
    if "expert" in degrees:
        return None
    if "pipeline" not in degrees:  # a step on one stage: the same on the pipeline law
        tp = parallel_scenario(scenario)
        if tp is None or tp.options.get("step_law") is not None:
            return None
        law, _ = steps.choose(tp.options["phase"], {"tensor", "pipeline"})
        scenario = dataclasses.replace(tp, law=law, values={**tp.values, "n_pp": 1, "p_net": 0})
    footprint = scenario.card["footprint"]
    capacity = scenario.values[scenario.card["capacity"]]
    system, n = system_of(scenario), int(scenario.values["n_g"])
    _, domain, _ = link_numbers(scenario.hardware, system)
    devices = (system.devices if network_bandwidth(system) is not None
               else domain) if system is not None else domain
    if devices is None:
        return None
    for p in range(1, min(devices // n, int(scenario.values["L"])) + 1):
        _, crossings = (1, 0) if domain is None else node_span(n, p, domain)
        if scenario.call((footprint,), n_pp=p, p_net=crossings)[footprint] <= capacity:
            return p
    return None
