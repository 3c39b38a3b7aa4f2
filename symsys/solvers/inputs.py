"""From user arguments to the numeric inputs of a law.

``request_inputs`` resolves the model and hardware (objects or names), checks a
:class:`~symsys.solvers.options.StepRequest` (whose values were checked when it was built)
against them, and returns a :class:`~symsys.solvers.scenario.Scenario` of the law to use
(decode, prefill or fixed workload) with its inputs as canonical magnitudes keyed by symbol
name; ``step_inputs`` does the same for options given by keyword. Solvers, sweeps and
sensitivities all start here, so an argument is validated in one place.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from symsys.errors import (
    InvalidParameter,
    UnknownHardware,
    did_you_mean,
    suggest,
    warn_beyond_max_context,
)
from symsys.kernels import LawRef
from symsys.registry.hardware import (
    AUTO_NOTE,
    PRECISION_BYTES,
    Device,
    Hardware,
    is_auto,
    resolve_precision,
)
from symsys.registry.links import Link
from symsys.registry.models import FixedWorkload, Models, Transformer
from symsys.registry.systems import System, Systems
from symsys.solvers import FORWARD, checks, steps
from symsys.solvers.options import OPTIONS, SET_BY, StepRequest
from symsys.solvers.scenario import Option, Scenario, device_inputs


@dataclass(frozen=True, eq=False)
class Workload:
    """A user-given workload: FLOPs and bytes per sample, plus bytes read once per batch."""

    name: str
    flops_per_sample: object  # Quantity in FLOP
    bytes_per_sample: object = None  # Quantity in B
    weight_bytes: object = None  # Quantity in B, read once per step
    key: str = ""
    group: str = "Custom"

    def __post_init__(self):
        object.__setattr__(self, "key", self.key or self.name)


class StepInputs(Scenario):
    """The scenario of one transformer or fixed-workload step; its options name the
    precisions, the phase and whether a context was given."""

    precision = Option()
    weight_precision = Option()
    kv_precision = Option()
    phase = Option()

    @property
    def seq_len_given(self) -> bool:
        return self.options["seq_len"] is not None


def resolve_model(model):
    if isinstance(model, Transformer | FixedWorkload | Workload):
        return model
    if isinstance(model, str):
        return Models.get(model)
    raise InvalidParameter(f"model={model!r}: expected a registry model, its name, or a Workload")


def resolve_hardware(hardware) -> Device:
    if isinstance(hardware, Device):
        return hardware
    if isinstance(hardware, str):
        return Hardware.get(hardware)
    raise InvalidParameter(f"hardware={hardware!r}: expected a registry device or its name")


def resolve_placement(hardware) -> tuple[Device, System | None]:
    """``(device, system)`` of a device or a system (an entry or a name; a device name is
    looked up first). A system is its device plus its fabrics; ``system`` is None for a
    device."""
    if isinstance(hardware, System):
        return hardware.hardware, hardware
    if not isinstance(hardware, str):
        return resolve_hardware(hardware), None
    # a device, else a system; suggestions (costly) only when it is neither
    device = Hardware.find(hardware)
    if device is not None:
        return device, None
    system = Systems.find(hardware)
    if system is not None:
        return system.hardware, system
    # a look-alike of one entry ('H1OO') outranks near spellings in either zoo, as in every
    # command (symsys show)
    close = ([*Hardware.close_keys(hardware, exact=True),
              *Systems.close_keys(hardware, exact=True)]
             or [*Hardware.close_keys(hardware), *Systems.close_keys(hardware)])
    raise UnknownHardware(
        f"unknown hardware {hardware!r}: neither a device (symsys zoo hardware) nor a "
        "system (symsys zoo systems)." + did_you_mean(close))


@functools.lru_cache(maxsize=1024)
def device_numbers(hw: Device, precision: str) -> dict[str, float]:
    """The roofline inputs of a device at ``precision`` (cached: registry data is frozen)."""
    numbers = device_inputs(hw, precision)
    return {name: numbers[name] for name in ("Pi", "beta", "C_mem")}


def calibration_profile(hw: Device, precision: str, efficiency, weight_precision=None):
    """The calibration profile ``efficiency`` asks for ("calibrated" or a profile), else None.
    Weights narrower than ``precision`` (weight-only int8/int4) take the profile of that
    decode (its dequantisation measured), or an error saying none was measured."""
    if isinstance(efficiency, str):
        if efficiency != "calibrated":
            raise InvalidParameter(f"efficiency={efficiency!r}: expected a number in (0, 1], "
                                   "(compute, memory), 'calibrated' or a CalibrationProfile")
        from symsys.calibration import profile_for

        return profile_for(hw, precision, weight_precision=weight_precision)
    if type(efficiency).__name__ == "CalibrationProfile":
        if (efficiency.device, efficiency.precision) != (hw.key, precision):
            raise InvalidParameter(f"profile for {efficiency.device} {efficiency.precision} "
                                   f"used on {hw.key} {precision}")
        return efficiency
    return None


def hardware_values(hw: Device, precision: str, efficiency, overhead: float | None,
                    weight_precision=None) -> dict:
    """Roofline inputs of the device. A calibration profile gives eta_c, eta_m and the
    overhead per kernel launch t_kern (the laws count a step's launches), since the profiles
    are fitted on single GEMM kernels; a user's ``overhead`` is the fixed t_o per step.

    ``efficiency`` and ``overhead`` are a :class:`StepRequest`'s (checked): None, 'calibrated',
    a profile or the pair (eta_c, eta_m); None or seconds."""
    device = device_numbers(hw, precision)
    profile = calibration_profile(hw, precision, efficiency, weight_precision)
    if profile is not None:
        if overhead is not None:
            raise InvalidParameter("overhead: a calibration profile already carries the fitted "
                                   "per-kernel overhead; give one or the other")
        return {**device, "eta_c": profile.eta_c, "eta_m": profile.eta_m, "t_o": 0.0,
                "t_kern": profile.t_o}
    eta_c, eta_m = (1.0, 1.0) if efficiency is None else efficiency
    return {**device, "eta_c": eta_c, "eta_m": eta_m, "t_kern": 0.0, "t_o": overhead or 0.0}


#: where a prefill computes logits: at the last prompt position (serving engines) or at all
LOGITS = OPTIONS["logits"].choices


@functools.lru_cache(maxsize=256)
def link_numbers(hw: Device, system: System | None = None) -> tuple[float, int | None, str]:
    """(per-direction bandwidth B/s, fast-domain size, the link's description) of the link a
    parallel group talks over: a system's fast domain, else the device's own interconnect
    (registry data is frozen: cached)."""
    owner, link = ((system.key, system.fast_domain) if system is not None
                   else (hw.key, hw.interconnect))
    if (system is not None and link is None and system.devices_per_node == 1
            and network_bandwidth(system) is not None):
        # one device per node and no fast domain (a multi-wafer Cerebras cluster): each
        # device is a domain of its own and every stage-to-stage send crosses the scale-out
        # network; its bandwidth stands in for the unused fast-domain one
        return (network_bandwidth(system), 1,
                f"{owner}'s {system.scale_out.name} (one device per node, no fast domain)")
    if not isinstance(link, Link) or link.bandwidth is None:
        raise InvalidParameter(f"tensor and pipeline parallelism: {owner} has no "
                               "device-to-device link with a sourced bandwidth in the registry")
    return link.bandwidth.m_as("B/s"), link.domain_size, f"{owner}'s {link.name}"


def in_network_reduction(system: System | None) -> int:
    """1 where ``system``'s fast domain reduces in its switches (NVLink SHARP, a sourced
    registry field), else 0: a bare device does not say which switch it sits behind, and a
    ring is what any fabric offers."""
    domain = None if system is None else system.fast_domain
    return int(domain is not None and domain.in_network_reduction)


def check_kv_split(model, n: int) -> None:
    """The K/V heads of ``model`` split evenly over ``n`` devices (or each keeps a copy)."""
    heads = model.shape.kv_heads
    if (heads % n if n <= heads else n % heads):
        raise InvalidParameter(
            f"tensor_parallel={n}: {model.key} has {heads} K/V heads, which split evenly only "
            f"over a divisor of {heads} (each device its share) or a multiple of it (each "
            "device a copy of one head)")


def _divisors(n: int) -> str:
    """The divisors of ``n``, listed for an error message ("1, 2, 4, 8")."""
    return ", ".join(str(x) for x in range(1, n + 1) if n % x == 0)


@functools.lru_cache(maxsize=256)
def network_bandwidth(system: System | None) -> float | None:
    """Scale-out bandwidth per device per direction (B/s) of a system: its nodes' NICs
    together over the devices of a node, since each device drives its own share of them
    (one NIC per GPU on a rail-optimized DGX); None without a sourced scale-out network
    (registry data is frozen: cached, a unit conversion costs as much as the solve)."""
    out = None if system is None else system.scale_out
    if out is None or out.bandwidth is None:
        return None
    return out.bandwidth.m_as("B/s") / system.devices_per_node


def node_span(n: int, stages: int, domain: int) -> tuple[int, int]:
    """``(N, p_net)`` of ``stages`` tensor-parallel groups of ``n`` devices laid out one after
    the other over fast domains of ``domain`` devices: the domains one group spans, and the
    stage-to-stage sends that cross from one domain to the next. A group inside a domain must
    tile it (n divides the domain size); a group across domains must be whole domains."""
    if n * stages <= domain:
        return 1, 0
    if n > domain:
        if n % domain:
            raise InvalidParameter(
                f"tensor_parallel={n}: a group across fast domains of {domain} devices must "
                f"hold whole domains (a multiple of {domain}, e.g. {domain * (n // domain)} "
                f"or {domain * (n // domain + 1)})")
        return n // domain, stages - 1  # every stage starts a domain of its own
    if domain % n:
        raise InvalidParameter(
            f"tensor_parallel={n} x pipeline_parallel={stages}: the stages cross fast domains "
            f"of {domain} devices, so each tensor-parallel group must tile one: "
            f"tensor_parallel must divide {domain} ({_divisors(domain)})")
    # stage i starts at device i n: its send from stage i - 1 crosses when i n starts a domain
    return 1, sum(1 for i in range(1, stages) if i * n % domain == 0)


def _across_domains(n: int, stages: int, experts: int, domain: int, link: str,
                    system: System | None) -> tuple[int, int]:
    """``(N, p_net)`` of a group larger than one fast domain, or an error saying why it
    cannot span domains here."""
    width = max(n, experts)  # an expert-parallel group is e/n tensor-parallel replicas
    named = (f"tensor_parallel={n}" if experts == 1
             else f"expert_parallel={experts} (tensor_parallel={n})")
    group = (f"{named} x pipeline_parallel={stages} = {width * stages} devices"
             if stages > 1 else named)
    where = f"{group}: {link} connects at most {domain} devices"
    if system is None:
        raise InvalidParameter(
            f"{where}, and a device alone has no scale-out network to join domains: give a "
            "system with one (symsys zoo systems, e.g. DGX_H100_SU) or use at most "
            f"{domain} devices")
    if experts > 1:
        raise InvalidParameter(
            f"{where}; expert-parallel groups across fast domains are not modelled: use "
            f"expert_parallel x pipeline_parallel of at most {domain} devices")
    if width * stages > system.devices:
        raise InvalidParameter(
            f"{where} and {system.key} has {system.devices} devices in all: use at most "
            f"{system.devices} devices")
    if network_bandwidth(system) is None:
        raise InvalidParameter(
            f"{where} and {system.key} has no scale-out network with a sourced bandwidth in "
            f"the registry to join them: use at most {domain} devices")
    return node_span(n, stages, domain)


def tensor_parallel_inputs(model, hw: Device, n: int, link_latency: float | None,
                           precision: str, system: System | None = None, stages: int = 1,
                           experts: int = 1, network_latency: float | None = None) -> dict:
    """The inputs a tensor-parallel step adds: the group size, the fast-domain link per
    direction (the system's, else the device's) and whether its switches reduce (z_nvls),
    the message latency (0 unless given: the
    registry has no sourced alpha), the K/V heads and the activation element size, and the
    scale-out network: the fast domains the group spans (N), the pipeline sends that cross
    between domains (p_net, with ``stages`` > 1), the network bandwidth per device and its
    message latency (``network_latency``, 0 unless given). The latencies are seconds (a
    :class:`StepRequest`'s, checked) or None.

    The K/V heads must split evenly. The n x ``stages`` devices fill fast domains one after
    the other; beyond one domain they need a system with a scale-out network and at least
    that many devices, a tensor-parallel group that tiles a domain or holds whole ones, and
    no expert parallelism (``experts`` x ``stages`` devices stay in one domain)."""
    check_kv_split(model, n)
    bandwidth, domain, link = link_numbers(hw, system)
    nodes, crossings = 1, 0
    if domain is not None and max(n, experts) * stages > domain:
        nodes, crossings = _across_domains(n, stages, experts, domain, link, system)
    network = network_bandwidth(system)
    values = {"n_g": n, "beta_x": bandwidth, "h_kv": model.shape.kv_heads, "z_comm": 0,
              "z_nvls": in_network_reduction(system),
              "alpha_x": link_latency or 0.0,
              "alpha_c": 0.0,  # no sourced per-call latency: calibrated link profiles carry one
              "bytes_act": PRECISION_BYTES[precision], "n_node": nodes,
              # without a scale-out network nothing crosses one (N = 1, p_net = 0) and the
              # network terms are 0 x a finite number whatever beta_n is; the fast domain's
              # bandwidth stands in, of the magnitude of the other terms, so that closed-form
              # inverses which expand (N - 1) x (...) lose no digits to a huge zero term
              "beta_n": bandwidth if network is None else network,
              "alpha_n": network_latency or 0.0}
    if stages > 1:
        values["p_net"] = crossings
    return values


def calibrated_link(values: dict, hw: Device, system: System | None, profile,
                    link_latency):
    """With a calibration profile (``efficiency="calibrated"`` or a profile) on a parallel
    step, the fast domain's link profile: beta_x becomes eta_x x beta_x and alpha_x the fitted
    latency per message step (updated in ``values``). A missing link profile is an error, never
    a silent speed-of-light link. None without a calibration profile."""
    if profile is None:
        return None
    if link_latency is not None:
        raise InvalidParameter("link_latency: a calibrated link profile already carries the "
                               "fitted message latency; give one or the other")
    from symsys.calibration.links import link_profile_for

    link = link_profile_for(hw, system)
    values["beta_x"] = link.eta_x * values["beta_x"]
    values["alpha_x"] = link.alpha_x
    values["alpha_c"] = link.alpha_c
    return link


def degrees_asked(tensor: int, stages: int, link_latency, experts: int = 1,
                  network_latency=None) -> set[str]:
    """The parallel degrees a step asks for (names of ``StepRole.parallel``): each above 1,
    and ``"tensor"`` for a link or network latency given (they ask for the parallel law even
    on one device)."""
    asked = {name for name, degree in (("tensor", tensor), ("pipeline", stages),
                                       ("expert", experts)) if degree > 1}
    if link_latency is not None or network_latency is not None:
        asked.add("tensor")
    return asked


def _stages(model, p: int) -> int:
    """``p`` pipeline stages, at most one per layer."""
    if p > model.shape.layers:
        raise InvalidParameter(f"pipeline_parallel={p}: {model.key} has "
                               f"{model.shape.layers} layers, at most one stage each")
    return p


def check_expert_split(model, e: int, n: int) -> int:
    """``e`` expert-parallel devices for ``model``: an MoE model whose E routed experts split
    evenly over them, holding whole tensor-parallel groups of ``n`` (n divides e)."""
    if e == 1:
        return e
    experts = model.shape.experts if isinstance(model, Transformer) else 1
    if experts == 1:
        raise InvalidParameter(
            f"expert_parallel={e}: {model.key} has no experts (a dense model); expert "
            "parallelism splits the routed experts of an MoE model: use expert_parallel=1, "
            "or tensor_parallel to split a dense model")
    if experts % e:
        raise InvalidParameter(
            f"expert_parallel={e}: {model.key} has {experts} routed experts, which split "
            f"evenly only over a divisor of {experts} "
            f"({_divisors(experts)}); {experts} is not divisible by {e}")
    if e % n:
        raise InvalidParameter(
            f"expert_parallel={e} with tensor_parallel={n}: the expert-parallel group is "
            f"e/n replicas of the tensor-parallel group, so tensor_parallel must divide "
            f"expert_parallel (e.g. tensor_parallel={e}, expert parallelism over the "
            "tensor-parallel group, or tensor_parallel=1, attention data parallel)")
    return e


def step_inputs(model, hardware, **options) -> StepInputs:
    """The scenario of one step for ``options`` given by keyword (see
    :data:`symsys.solvers.options.STEP_OPTIONS`)."""
    return request_inputs(model, hardware, StepRequest.from_options(**options))


def request_inputs(model, hardware, request: StepRequest) -> StepInputs:
    """The scenario of one step of ``model`` on ``hardware``: the law to use and its inputs.

    ``request``'s values were checked when it was built; here they are checked against the
    model and device (precisions the device has, a prefill's prompt, parallel degrees the
    model and fabric allow) and mapped to the law's symbols."""
    model = resolve_model(model)
    hw, system = resolve_placement(hardware)
    r = request
    auto = is_auto(r.precision)
    precision = resolve_precision(hw, r.precision)
    weight_precision = r.weight_precision or precision
    kv_precision = r.kv_precision or precision
    phase, seq_len = r.phase, r.seq_len
    values = hardware_values(hw, precision, r.efficiency, r.overhead, weight_precision)
    # the capacity the footprint is checked against: the usable share of the physical memory
    values["C_mem"] *= r.memory_fraction
    values["W_ws"] = r.workspace or 0.0
    values["bytes_w"] = PRECISION_BYTES[weight_precision]
    values["b"] = r.batch_size
    profile = calibration_profile(hw, precision, r.efficiency, weight_precision)
    if isinstance(model, Transformer):
        law, link_profile = _transformer_step(model, hw, system, r, precision, kv_precision,
                                              values, profile)
    else:
        law, link_profile = _fixed_workload_step(model, r, values), None
    options = {"precision": precision, "weight_precision": weight_precision,
               "kv_precision": kv_precision,
               "phase": phase if isinstance(model, Transformer) else FORWARD,
               "batch_size": r.batch_size, "seq_len": seq_len}
    if auto:
        options["precision_chosen"] = AUTO_NOTE
    if phase == "prefill":
        options["logits"] = r.logits
    if r.runtime is not None:
        options["runtime"] = r.runtime if isinstance(r.runtime, str) else dict(r.runtime)
    # the degrees and the memory share given (defaults leave results as they were)
    for name in ("tensor_parallel", "pipeline_parallel", "expert_parallel", "data_parallel",
                 "memory_fraction"):
        if getattr(r, name) != 1:
            options[name] = getattr(r, name)
    if system is not None:
        options["system"] = system.key
    if link_profile:
        from symsys.calibration.links import describe_for

        options["link_calibration"] = describe_for(link_profile, system)
    bind_law_inputs(law, values, r.inputs)
    if r.law is not None:
        options["step_law"] = r.law
    if r.inputs:  # as bound: canonical magnitudes
        options["inputs"] = {name: values[name] for name, _ in r.inputs}
    # a transformer with no experts, on a law that has the dense specialisation (the
    # package's step laws all do)
    dense = values.get("E") == 1 and (isinstance(law, LawRef) or "dense" in law.variants)
    variant = "dense" if dense else None
    return StepInputs(law, values, model, hw, options, variant, profile)


def _transformer_step(model, hw: Device, system, r: StepRequest, precision: str,
                      kv_precision: str, values: dict, profile):
    """The law of a transformer's step (single device, tensor, pipeline or expert parallel)
    and its calibrated link profile (or None), with the step's inputs added to ``values``."""
    phase = r.phase
    if phase == FORWARD:
        raise InvalidParameter(f"phase='forward' is the step of a fixed workload (CNN, "
                               f"ViT); {model.key} is a transformer: phase='decode' or "
                               "'prefill'")
    if r.seq_len is None and phase == "prefill":
        raise InvalidParameter("phase='prefill' needs seq_len (the prompt length)")
    s = r.seq_len or 0
    if phase == "prefill" and s == 0:
        raise InvalidParameter("seq_len=0: must be >= 1 (a prefill's prompt length)")
    if r.seq_len is not None:
        warn_beyond_max_context(model, s + (phase == "decode"))  # decode holds s + 1
    summary = model.summary
    values.update({name: summary[name] for name in
                   ("N_dense", "N_expert", "N_embed", "N_total", "e_kv", "a_attn", "a_dec",
                    "L_w", "w_sw")})
    # the serving runtime's non-GEMM kernels (zero unless a runtime is given)
    from symsys.calibration.runtimes import runtime_inputs  # the package loads numpy fits

    values.update(runtime_inputs(r.runtime, precision))
    values.update(L=model.shape.layers, V=model.shape.vocab, z_logit=LOGITS.index(r.logits),
                  E=model.shape.experts, k=model.shape.active_experts, d=model.shape.d_model,
                  bytes_kv=PRECISION_BYTES[kv_precision], s=s)
    tp, pp = r.tensor_parallel, r.pipeline_parallel
    ep = check_expert_split(model, r.expert_parallel, tp)
    law, role = steps.choose(phase, degrees_asked(tp, pp, r.link_latency, ep,
                                                  r.network_latency), r.law)
    parallel = set(role["parallel"])
    link_profile = None
    if "tensor" in parallel:
        values.update(tensor_parallel_inputs(model, hw, tp, r.link_latency, precision,
                                             system, pp, ep, r.network_latency))
        link_profile = calibrated_link(values, hw, system, profile, r.link_latency)
    if "pipeline" in parallel:
        values["n_pp"] = _stages(model, pp)
        values.setdefault("p_net", 0)
    if "expert" in parallel:
        values.update(n_ep=ep, L_d=model.shape.dense_layers or 0)
    return law, link_profile


def bind_law_inputs(law, values: dict, given) -> None:
    """Complete ``values`` for ``law``: the request's ``inputs`` (``given``, pairs of symbol
    name and value, checked against the law's units) replace what the model, device and
    options gave, and an input still missing takes the law's default; one with neither is
    an error naming it and how to give it. An input a step option decides is an error naming
    the option."""
    if not given and isinstance(law, LawRef):
        return  # the package's laws get every input from the front end
    card = kernel_card(law) if isinstance(law, LawRef) else steps.card_of(law)
    units = card["units"]
    for name, value in given or ():
        if name not in card["inputs"]:
            raise InvalidParameter(
                f"inputs: the {card['law']} law has no input {name!r}; its inputs are "
                f"{', '.join(card['inputs'])}." + suggest(name, card["inputs"]))
        if name in SET_BY:
            raise InvalidParameter(f"inputs: {name} is decided by the option "
                                   f"{SET_BY[name]}=; give that instead")
        values[name] = law_input_value(name, value, units[name])
    missing = [n for n in card["inputs"] if n not in values and n not in card["defaults"]]
    if missing:
        raise InvalidParameter(
            f"the {card['law']} law needs {', '.join(missing)}, which neither the model, the "
            "device, the options nor its defaults give: pass inputs={"
            + ", ".join(f"{n!r}: ..." for n in missing) + "} (on the command line --set "
            + " --set ".join(f"{n}=VALUE" for n in missing) + "), in "
            + ", ".join(f"{n}: {units[n]}" for n in missing))
    for name in card["inputs"]:
        values.setdefault(name, card["defaults"].get(name))


def law_input_value(name: str, value, unit: str):
    """One value of ``inputs`` as a canonical magnitude in ``unit`` (text as the command
    line gives it is read with the one quantity reader)."""
    from symsys.units import parse_quantity, to_magnitude

    if isinstance(value, list | tuple | range | dict) or getattr(value, "ndim", 0):
        raise InvalidParameter(f"inputs: {name}={value!r}: expected one value (symsys.sweep "
                               "takes a list of them)")
    if isinstance(value, str):
        if unit == "1":
            try:
                return checks.finite_number(f"inputs: {name}", float(value))
            except ValueError:
                raise InvalidParameter(f"inputs: {name}={value!r}: expected a number "
                                       "(it is dimensionless)") from None
        value = parse_quantity(value, unit, f"inputs: {name}", error=InvalidParameter,
                               positive=False)
    magnitude = to_magnitude(value, unit, f"inputs: {name}")
    return checks.finite_number(f"inputs: {name}", magnitude)


def kernel_card(law: LawRef) -> dict:
    """The card of a law of the package (read from its shipped kernel: no sympy)."""
    from symsys import kernels

    return kernels.kernel(law, "*", None, True).meta


def _fixed_workload_step(model, r: StepRequest, values: dict) -> LawRef:
    """The fixed-workload law (FLOPs per sample), with its inputs added to ``values``; the
    transformer-only options are errors that name them."""
    if r.law is not None or r.inputs:
        raise InvalidParameter(f"{model.key} is a fixed workload (FLOPs per sample): law= and "
                               "inputs= choose and feed a transformer's step law; bind another "
                               "law to it with symsys.bind")
    if r.runtime is not None:
        raise InvalidParameter(f"{model.key} is a fixed workload: runtime= (a serving "
                               "runtime's non-GEMM kernels) applies to transformers only")
    if r.tensor_parallel != 1 or r.pipeline_parallel != 1 or r.expert_parallel != 1:
        raise InvalidParameter(f"{model.key} is a fixed workload: tensor_parallel, "
                               "pipeline_parallel and expert_parallel apply to "
                               "transformers only")
    if r.phase not in ("decode", FORWARD) or r.seq_len is not None:
        raise InvalidParameter(
            f"{model.key} is a fixed workload (FLOPs per sample): phase and seq_len apply "
            "to transformers only")
    if r.link_latency is not None or r.network_latency is not None:
        raise InvalidParameter(f"{model.key} is a fixed workload on one device: link_latency "
                               "and network_latency apply to parallel transformer steps only")
    if isinstance(model, Workload):
        values["F_1"] = checks.nonnegative_quantity("flops_per_sample",
                                                      model.flops_per_sample, "FLOP")
        values["Q_1"] = checks.nonnegative_quantity("bytes_per_sample",
                                                      model.bytes_per_sample, "B")
        weight_bytes = checks.nonnegative_quantity("weight_bytes", model.weight_bytes, "B")
        values["N_total"] = weight_bytes / values["bytes_w"]
        if values["Q_1"] == 0 and weight_bytes == 0:
            raise InvalidParameter(
                f"Workload {model.name!r} moves no bytes (bytes_per_sample and weight_bytes "
                "are both 0 or absent): its time on memory and its intensity F/Q are "
                "undefined; give bytes_per_sample or weight_bytes (a Quantity in B)")
    else:
        values.update(F_1=model.flops_per_inference, Q_1=0.0, N_total=model.parameters_count)
    return LawRef("fixed_workload")
