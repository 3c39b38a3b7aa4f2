"""Training: ``symsys.TrainingModel().solve(model, hardware, *, global_batch_size, seq_len, ...)``.

Binds a registry model and a device or system to the training law
(:mod:`symsys.laws.training`): the system's fast domain carries the tensor-parallel
all-reduces, its scale-out network (each device's share of its node's NICs) the pipeline
sends and the data-parallel all-reduce. A device alone has no scale-out network: pipeline or
data parallelism on one needs ``network_bandwidth=``. Options that are choices (recompute,
ZeRO stage, interleaving) become the law's 0/1 inputs, so every derivative stays exact.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools

import numpy as np

from symsys.errors import InvalidParameter
from symsys.kernels import LawRef
from symsys.registry.hardware import PRECISION_BYTES, Device, resolve_precision
from symsys.registry.models import Transformer
from symsys.solvers import checks
from symsys.solvers.inputs import device_numbers, in_network_reduction, resolve_model
from symsys.solvers.result import Output, Result
from symsys.solvers.scenario import Option, Scenario
from symsys.solvers.sensitivity import sensitivities
from symsys.units import to_quantity

#: readable output names of the training law, for sensitivities
OUTPUTS = {"step_time": "latency", "tokens_per_second": "throughput", "mfu": "U_mfu",
           "hfu": "U_hfu", "memory_per_device": "M"}
RECOMPUTE = ("none", "selective", "full")
ATTENTION = ("fused", "unfused")
ZERO_STAGES = (0, 1, 2, 3)
#: what a training solve evaluates: every output of the law
SPECS = ("*",)
#: the training law's inputs bound from its own defaults (the optimizer's bytes per parameter,
#: mixed-precision Adam: fp32 master weights and two moments held, 28 B read and written per
#: step), read from its kernels' card: a cold solve reads no law (no sympy)
LAW_DEFAULTS = ("bytes_o", "bytes_u")


def law_defaults() -> dict[str, float]:
    """The training law's defaults for :data:`LAW_DEFAULTS`, from its card."""
    from symsys import kernels

    defaults = kernels.kernel("training", SPECS, None, True).meta["defaults"]
    return {name: defaults[name] for name in LAW_DEFAULTS}


@dataclasses.dataclass(frozen=True, eq=False)
class TrainingInputs(Scenario):
    """The scenario of one training iteration; ``system`` is the system the device sits in
    (None for a device alone)."""

    system: object = None
    #: the keyword arguments of the solve, to solve again with some of them changed
    request: dict = dataclasses.field(default_factory=dict)

    recompute = Option()
    zero_stage = Option()


def _system_and_device(hardware):
    """(system or None, device) for a system name or entry, a device name or entry."""
    from symsys.registry.hardware import Hardware
    from symsys.registry.systems import System, Systems

    if isinstance(hardware, System):
        return hardware, Hardware[hardware.device]
    if isinstance(hardware, Device):
        return None, hardware
    if isinstance(hardware, str):
        if hardware in Systems:
            system = Systems[hardware]
            return system, Hardware[system.device]
        return None, Hardware.get(hardware)
    raise InvalidParameter(f"hardware={hardware!r}: expected a device or system (its name or "
                           "registry entry)")


@functools.lru_cache(maxsize=256)
def _fabric(system, device) -> tuple:
    """(fast link, its per-direction B/s or None, scale-out B/s per device or None) of a
    system or device (registry data is frozen: cached, as the solvers' device numbers are)."""
    fast = system.fast_domain if system is not None else device.interconnect
    fast_bandwidth = None if fast is None or fast.bandwidth is None else fast.bandwidth.m_as(
        "B/s")
    out = system.scale_out if system is not None else None
    network = (None if out is None or out.bandwidth is None
               else out.bandwidth.m_as("B/s") / system.devices_per_node)
    return fast, fast_bandwidth, network


def replicas_per_domain(fast, tp: int, dp: int, pp: int = 1) -> int:
    """g_d: the data-parallel replicas of one group that share a fast domain. Devices are laid
    out tensor-parallel ranks first, then data-parallel, then pipeline stages (Megatron-LM's
    order), so a group of dp replicas, tp apart, fills domains of D devices D / tp at a time:
    all dp inside one domain when tp dp <= D (with pipeline stages, each stage's tp dp devices
    must tile the domains, or a later stage's group would straddle two). Without a known
    domain size every replica talks over the network (g_d = 1)."""
    domain = None if fast is None else fast.domain_size
    if domain is None or dp == 1:
        return 1
    if tp * dp <= domain:
        if pp > 1 and domain % (tp * dp):
            raise InvalidParameter(
                f"tensor_parallel={tp} x data_parallel={dp} x pipeline_parallel={pp}: a "
                f"stage's {tp * dp} devices do not tile fast domains of {domain} "
                f"({fast.name}), so a later stage's data-parallel group would straddle two; "
                f"use tensor_parallel x data_parallel dividing {domain}")
        return dp
    if domain % tp or dp % (domain // tp):
        raise InvalidParameter(
            f"tensor_parallel={tp} x data_parallel={dp}: the data-parallel group spans fast "
            f"domains of {domain} devices ({fast.name}), {domain // max(tp, 1)} replicas each, "
            f"so data_parallel must be a multiple of {domain} / tensor_parallel "
            f"(tensor_parallel dividing {domain})")
    return domain // tp


def _links(system, device, tp: int, pp: int, dp: int, link_bandwidth,
           network_bandwidth) -> dict:
    """beta_x (fast domain, per direction), beta_n (scale-out per device, per direction),
    g_dp (the data-parallel replicas a fast domain holds, :func:`replicas_per_domain`) and
    z_nvls (1 where the fast domain's switches reduce in the network)."""
    fast, fast_bandwidth, network = _fabric(system, device)
    if fast is not None and fast.domain_size is not None and tp > fast.domain_size:
        raise InvalidParameter(
            f"tensor_parallel={tp}: the fast domain ({fast.name}) connects "
            f"{fast.domain_size} devices; tensor parallelism stays inside it")
    group = replicas_per_domain(fast, tp, dp, pp)
    if link_bandwidth is not None:
        beta_x = checks.positive_quantity("link_bandwidth", link_bandwidth, "B/s")
    elif tp == 1 and group == 1:
        beta_x = 1.0  # nothing crosses the fast domain: its terms are 0 for any bandwidth
    elif fast_bandwidth is None:
        raise InvalidParameter(f"tensor_parallel={tp}, data_parallel={dp}: {device.key} has "
                               "no device-to-device link with a sourced bandwidth; give "
                               "link_bandwidth=")
    else:
        beta_x = fast_bandwidth
    if network_bandwidth is not None:
        beta_n = checks.positive_quantity("network_bandwidth", network_bandwidth, "B/s")
    elif pp == 1 and dp == group:
        beta_n = 1.0  # no pipeline sends nor gradient all-reduce cross the network
    elif network is None:
        where = device.key if system is None else system.key
        raise InvalidParameter(
            f"{where}: pipeline or data parallelism crosses nodes, and a device alone has no "
            "scale-out network: give a system (symsys zoo systems, e.g. DGX_A100) or "
            "network_bandwidth= per device")
    else:
        beta_n = network
    return {"beta_x": beta_x, "beta_n": beta_n, "g_dp": group,
            "z_nvls": in_network_reduction(system)}


def _sixteen_bit(device, precision: str) -> str:
    """The 16-bit format that low-precision training keeps beside ``precision``: bf16 where
    the device has it, else fp16."""
    for name in ("bf16", "fp16"):
        if name in device.compute.peak_dense:
            return name
    raise InvalidParameter(f"precision={precision!r}: training in {precision} keeps attention, "
                           f"weights and gradients in 16 bits, and {device.key} has neither "
                           "bf16 nor fp16")


def _efficiency(device, precision, efficiency) -> tuple[float, float, str]:
    """(eta_c, eta_m, where they came from). "calibrated" takes the device's training
    profile where one was fitted on training runs (H100), else its kernel profile (fitted on
    inference kernels, transferred: the A100's is checked against Megatron runs)."""
    if efficiency == "calibrated":
        from symsys.calibration import profile_for
        from symsys.calibration.training_profile import training_profile_for

        trained = training_profile_for(device, precision)
        if trained is not None:
            return trained.eta_c, trained.eta_m, trained.describe()
        profile = profile_for(device, precision)
        return profile.eta_c, profile.eta_m, (f"calibrated profile {profile.device} "
                                              f"{profile.precision} ({profile.law})")
    eta_c, eta_m = checks.efficiencies(efficiency)
    source = ("speed of light (efficiency 1)" if (eta_c, eta_m) == (1.0, 1.0)
              else f"given: eta_c {eta_c:.3g}, eta_m {eta_m:.3g}")
    return eta_c, eta_m, source


def _check_shape(model, tp: int, pp: int, v: int, batch: int, micro: int, dp: int) -> None:
    shape = model.shape
    if shape.heads % tp:
        raise InvalidParameter(f"tensor_parallel={tp}: {model.key}'s {shape.heads} attention "
                               f"heads must split evenly (a divisor of {shape.heads})")
    if shape.layers % (pp * v):
        raise InvalidParameter(f"pipeline_parallel={pp} x interleave={v}: {model.key}'s "
                               f"{shape.layers} layers must split evenly over the stages' "
                               "model chunks")
    if v > 1 and pp == 1:
        raise InvalidParameter(f"interleave={v} needs pipeline_parallel > 1")
    if batch % (micro * dp):
        raise InvalidParameter(
            f"global_batch_size={batch}: must be a multiple of microbatch_size x data_parallel"
            f" = {micro} x {dp} = {micro * dp} (whole microbatches per replica)")


def training_inputs(model, hardware, *, global_batch_size, seq_len, tensor_parallel=1,
                    pipeline_parallel=1, data_parallel=1, microbatch_size=1, interleave=1,
                    recompute="none", sequence_parallel=False, zero_stage=0,
                    precision="auto", efficiency=None, attention="fused",
                    overlap_grad_reduce=False, link_bandwidth=None, network_bandwidth=None,
                    link_latency=None, network_latency=None, tokens=None) -> TrainingInputs:
    """The training law's inputs for a model on a device or system; see
    :meth:`TrainingModel.solve` for the options."""
    model = resolve_model(model)
    if not isinstance(model, Transformer):
        raise InvalidParameter(f"{model.key}: the training law applies to transformers")
    system, device = _system_and_device(hardware)
    precision = resolve_precision(device, precision)
    tp, pp, dp = (checks.positive_int(n, v) for n, v in (
        ("tensor_parallel", tensor_parallel), ("pipeline_parallel", pipeline_parallel),
        ("data_parallel", data_parallel)))
    v = checks.positive_int("interleave", interleave)
    batch = checks.positive_int("global_batch_size", global_batch_size)
    micro = checks.positive_int("microbatch_size", microbatch_size)
    s = checks.positive_int("seq_len", seq_len)
    checks.choice("recompute", recompute, RECOMPUTE)
    checks.choice("attention", attention, ATTENTION)
    if zero_stage not in ZERO_STAGES:
        raise InvalidParameter(f"zero_stage={zero_stage!r}: expected one of {ZERO_STAGES}")
    for name, flag in (("sequence_parallel", sequence_parallel),
                       ("overlap_grad_reduce", overlap_grad_reduce)):
        if not isinstance(flag, bool):
            raise InvalidParameter(f"{name}={flag!r}: expected True or False")
    _check_shape(model, tp, pp, v, batch, micro, dp)
    eta_c, eta_m, efficiency_source = _efficiency(device, precision, efficiency)
    numbers = device_numbers(device, precision)
    # below 16 bits (fp8) only the linear layers' GEMMs run at that precision: attention,
    # weights, gradients and activations stay 16-bit (Transformer Engine's fp8 recipe)
    wide = precision if PRECISION_BYTES[precision] >= 2 else _sixteen_bit(device, precision)
    element = PRECISION_BYTES[wide]
    values = {
        **model.shape.parameter_inputs(), **model.summary,
        "Pi": numbers["Pi"], "Pi_a": device_numbers(device, wide)["Pi"],
        "beta": numbers["beta"], "C_mem": numbers["C_mem"],
        "eta_c": eta_c, "eta_m": eta_m, "b": micro, "s": s, "B_g": batch,
        "n_t": tp, "n_p": pp, "n_dp": dp, "v_il": v, "z_il": int(v > 1),
        "bytes_w": element, "bytes_act": element, "bytes_g": element, **law_defaults(),
        "z_fa": int(attention == "fused"),
        "r_sel": int(recompute == "selective"), "r_full": int(recompute == "full"),
        "z_sp": int(sequence_parallel), "f_opt": int(zero_stage >= 1),
        "f_gr": int(zero_stage >= 2), "f_w": int(zero_stage == 3),
        "z_dp": int(overlap_grad_reduce),
        "alpha_x": checks.nonnegative_quantity("link_latency", link_latency, "s"),
        "alpha_c": 0.0,  # no sourced per-call latency (the link profiles are for inference)
        "alpha_n": checks.nonnegative_quantity("network_latency", network_latency, "s"),
        "D_tok": batch * s if tokens is None else checks.token_count(tokens),
        **_links(system, device, tp, pp, dp, link_bandwidth, network_bandwidth),
    }
    options = {"global_batch_size": batch, "seq_len": s, "tensor_parallel": tp,
               "pipeline_parallel": pp, "data_parallel": dp, "microbatch_size": micro,
               "interleave": v, "recompute": recompute, "sequence_parallel": sequence_parallel,
               "zero_stage": zero_stage, "precision": precision, "attention": attention,
               "efficiency": efficiency_source}
    if wide != precision:
        options["precision_note"] = (f"{precision}: the linear layers' GEMMs; attention, "
                                     f"weights, gradients and activations in {wide}")
    if system is not None:
        options["system"] = system.key
    variant = "dense" if model.shape.experts == 1 else None
    request = dict(model=model, hardware=hardware, global_batch_size=batch, seq_len=s,
                   tensor_parallel=tp, pipeline_parallel=pp, data_parallel=dp,
                   microbatch_size=micro, interleave=v, recompute=recompute,
                   sequence_parallel=sequence_parallel, zero_stage=zero_stage,
                   precision=precision, efficiency=efficiency, attention=attention,
                   overlap_grad_reduce=overlap_grad_reduce, link_bandwidth=link_bandwidth,
                   network_bandwidth=network_bandwidth, link_latency=link_latency,
                   network_latency=network_latency)
    return TrainingInputs(LawRef("training"), values, model, device, options, variant,
                          system=system, request=request)




class TrainingResult(Result):
    """One training iteration: time, rate, utilisation, memory per device and what binds."""

    kind = "training"

    step_time = Output("T", "Time of one iteration.")
    tokens_per_second = Output("R_tok", "Tokens trained per second, all devices.")
    memory_per_device = Output("M", "Weights, gradients, optimizer states and activations.")
    state_memory = Output("M_state", "Weights, gradients and optimizer states per device.")
    activation_memory = Output("M_acts", "Activations the first stage keeps.")
    model_flops = Output("F_mod", "Model FLOPs of one iteration (no recomputation).")
    hardware_flops = Output("F_hw", "Hardware FLOPs of one iteration (with recomputation).")
    bubble_time = Output("t_bub", "Pipeline bubble per iteration.")
    communication_time = Output("t_comms", "Communication per iteration, not hidden.")
    optimizer_time = Output("t_opt", "Optimizer step.")

    @property
    def devices(self) -> int:
        v = self.scenario.values
        return int(v["n_t"] * v["n_p"] * v["n_dp"])

    @property
    def mfu(self) -> float:
        """Model FLOPs utilisation: model FLOPs (no recomputation) over devices x peak x time."""
        return self.raw["U_mfu"]

    @property
    def hfu(self) -> float:
        """Hardware FLOPs utilisation: recomputation counted."""
        return self.raw["U_hfu"]

    @property
    def model_flops_per_device(self):
        """Model FLOP/s each device achieves."""
        return to_quantity(self.raw["F_dev"], self.card["units"]["F_dev"]).to("TFLOP/s")

    @property
    def bubble_share(self) -> float:
        """The share of the iteration the pipeline idles (fill and drain)."""
        return self.raw["phi_bub"]

    @property
    def communication_share(self) -> float:
        """The share of the iteration spent in communication not hidden."""
        return self.raw["phi_comm"]

    def resolve(self, **changes) -> TrainingResult:
        """The same request with some of its options changed (``data_parallel=16``), solved
        anew and validated as any solve."""
        return TrainingModel().solve(**{**self.scenario.request, **changes})

    # --- inverse designs (closed forms of the law, whole answers on the compiled law) -----
    def microbatches_for_bubble(self, share):
        """The fewest microbatches per pipeline (and so the global batch) at which the
        pipeline bubble is at most ``share`` of the iteration; a :class:`Design` with the
        closed form, the whole answer and the iteration it gives."""
        from symsys.solvers.training_design import microbatches_for_bubble

        return microbatches_for_bubble(self, share)

    def largest_microbatch(self):
        """The largest microbatch that fits in memory (splitting each replica's share of the
        global batch evenly); a :class:`Design`."""
        from symsys.solvers.training_design import largest_microbatch

        return largest_microbatch(self)

    def devices_to_train(self, tokens, time):
        """The fewest devices (more data-parallel replicas of this layout, same global
        batch) that train on ``tokens`` within ``time`` (a Quantity or text like
        "30 day"); a :class:`Design`."""
        from symsys.solvers.training_design import devices_to_train

        return devices_to_train(self, tokens, time)

    def sensitivities(self, output: str = "step_time", uncertainty=None):
        """Exact elasticities of ``output`` ("step_time", "tokens_per_second", "mfu",
        "memory_per_device", or any output of the law) to every lever: peak, bandwidths,
        capacity, link and network bandwidth and latency, batch and microbatch, degrees."""
        return sensitivities(self, OUTPUTS.get(output, output), uncertainty)

    def time_to_train(self, tokens):
        """Wall time to train on ``tokens`` (a count, a Quantity or text like "1T tokens")."""
        raw = self.scenario.call(("T_train",), D_tok=checks.token_count(tokens))
        return to_quantity(raw["T_train"], self.card["units"]["T_train"]).to("day")

    def device_hours(self, tokens):
        """Device-hours to train on ``tokens``: devices x :meth:`time_to_train`."""
        return (self.time_to_train(tokens) * self.devices).to("hour")

    def summary(self) -> dict:
        return {"step_time": self.step_time, "tokens_per_second": self.tokens_per_second,
                "mfu": self.mfu, "hfu": self.hfu,
                "model_flops_per_device": self.model_flops_per_device,
                "memory_per_device": self.memory_per_device,
                "memory_capacity": self.memory_capacity, "feasible": self.feasible,
                "reason": self.reason, "regime": self.regime,
                "communication_share": self.communication_share,
                "bubble_share": self.bubble_share, "devices": self.devices}

    def _repr_tail(self) -> str:
        return (f" {self.devices} devices: {self.step_time.to('s'):.4g~P} per iteration, "
                f"MFU {self.mfu:.1%}{'' if self.feasible else ', INFEASIBLE'}")


class TrainingModel:
    """Training iterations under tensor, pipeline and data parallelism, ZeRO and
    recomputation (``symsys.TrainingModel().solve``)."""

    @checks.keywords
    def solve(self, model, hardware, *, global_batch_size, seq_len, tensor_parallel=1,
              pipeline_parallel=1, data_parallel=1, microbatch_size=1, interleave=1,
              recompute="none", sequence_parallel=False, zero_stage=0, precision="auto",
              efficiency=None, attention="fused", overlap_grad_reduce=False,
              link_bandwidth=None, network_bandwidth=None, link_latency=None,
              network_latency=None) -> TrainingResult:
        """One training iteration of ``model`` on ``hardware``.

        Parameters
        ----------
        model : a registry transformer, its name, or a config.json path.
        hardware : a system (``symsys zoo systems``: its fast domain carries tensor
            parallelism, its scale-out network pipeline and data parallelism) or a device.
        global_batch_size, seq_len : sequences per iteration and tokens per sequence.
        tensor_parallel, pipeline_parallel, data_parallel : the parallel degrees; devices =
            their product.
        microbatch_size : sequences per microbatch; the global batch must be whole
            microbatches on each replica.
        interleave : model chunks per pipeline stage (the interleaved 1F1B schedule).
        recompute : "none", "selective" (attention scores, Korthikanti et al. 2022) or
            "full" (every layer's forward).
        sequence_parallel : split layer norms and dropouts over the tensor-parallel group.
        zero_stage : 0-3: shard optimizer states (1), gradients (2), weights (3) over the
            data-parallel replicas.
        precision : weights, gradients and activations; default "auto" (the device's native
            16-bit format). Optimizer states are fp32 Adam (12 bytes per parameter).
        efficiency : a number in (0, 1], (compute, memory), or "calibrated".
        attention : "fused" (FlashAttention: the causal half of the scores computed, none
            stored) or "unfused" (the full masked square computed and stored, as Megatron
            2021-22).
        overlap_grad_reduce : hide the data-parallel all-reduce behind the backward pass.
        link_bandwidth, network_bandwidth : override the fast-domain link and the per-device
            scale-out bandwidth (per direction); link_latency, network_latency : message
            latencies (default 0: no sourced alpha in the registry).

        Returns a :class:`TrainingResult`: ``step_time``, ``tokens_per_second``, ``mfu``,
        ``hfu``, ``model_flops_per_device``, ``memory_per_device``, ``communication_share``,
        ``bubble_share``, ``time_to_train(tokens)``, ``device_hours(tokens)``; infeasible
        when the memory per device exceeds the device's capacity, with the reason.
        """
        inputs = training_inputs(
            model, hardware, global_batch_size=global_batch_size, seq_len=seq_len,
            tensor_parallel=tensor_parallel, pipeline_parallel=pipeline_parallel,
            data_parallel=data_parallel, microbatch_size=microbatch_size,
            interleave=interleave, recompute=recompute, sequence_parallel=sequence_parallel,
            zero_stage=zero_stage, precision=precision, efficiency=efficiency,
            attention=attention, overlap_grad_reduce=overlap_grad_reduce,
            link_bandwidth=link_bandwidth, network_bandwidth=network_bandwidth,
            link_latency=link_latency, network_latency=network_latency)
        return TrainingResult(inputs, inputs.call(SPECS))

    def configurations(self, model, hardware, *, devices, global_batch_size, seq_len,
                       microbatch_sizes=(1, 2, 4, 8), recompute="none",
                       sequence_parallel=False, zero_stage=0, precision="auto",
                       efficiency=None, attention="fused", overlap_grad_reduce=False):
        """Every (tensor, pipeline, data) factorisation of ``devices`` (and each microbatch
        size) that the model's shape allows, evaluated in one vectorised call of the compiled
        training law; returns the rows sorted by step time, feasible first, as a list of
        dicts (``step_time`` in seconds, ``memory_per_device`` in bytes)."""
        devices = checks.positive_int("devices", devices)
        model = resolve_model(model)
        system, device = _system_and_device(hardware)
        fast = system.fast_domain if system is not None else device.interconnect
        domain = (fast.domain_size if fast is not None and fast.domain_size else devices)
        rows = []
        for tp, pp in itertools.product(_divisors(devices), repeat=2):
            if devices % (tp * pp) or tp > domain:  # tensor parallelism stays in the domain
                continue
            dp = devices // (tp * pp)
            for micro in microbatch_sizes:
                try:
                    _check_shape(model, tp, pp, 1, global_batch_size, micro, dp)
                    # a layout that tiles the fast domains, over links the hardware has
                    links = _links(system, device, tp, pp, dp, None, None)
                except InvalidParameter:
                    continue
                rows.append((tp, pp, dp, micro, links["g_dp"], links["beta_x"],
                             links["beta_n"]))
        if not rows:
            raise InvalidParameter(f"no (tensor, pipeline, data) factorisation of {devices} "
                                   f"devices fits {model.key}'s shape and a global batch of "
                                   f"{global_batch_size}")
        base = training_inputs(
            model, hardware, global_batch_size=global_batch_size, seq_len=seq_len,
            tensor_parallel=rows[0][0], pipeline_parallel=rows[0][1],
            data_parallel=rows[0][2], recompute=recompute,
            sequence_parallel=sequence_parallel, zero_stage=zero_stage, precision=precision,
            efficiency=efficiency, attention=attention,
            overlap_grad_reduce=overlap_grad_reduce)
        grid = np.array(rows, dtype=float)
        fn = base.kernel(("T", "M", "U_mfu"), scalar=False)
        values = {**base.values, "n_t": grid[:, 0], "n_p": grid[:, 1], "n_dp": grid[:, 2],
                  "b": grid[:, 3], "g_dp": grid[:, 4], "beta_x": grid[:, 5],
                  "beta_n": grid[:, 6]}
        with np.errstate(all="ignore"):
            step, memory, mfu = (np.broadcast_to(o, (len(rows),)) for o in
                                 fn(*(values[a] for a in fn.args)))
        capacity = base.values["C_mem"]
        out = [{"tensor_parallel": int(r[0]), "pipeline_parallel": int(r[1]),
                "data_parallel": int(r[2]), "microbatch_size": int(r[3]),
                "step_time": float(t), "memory_per_device": float(m), "mfu": float(u),
                "feasible": bool(m <= capacity)} for r, t, m, u in zip(rows, step, memory, mfu)]
        return sorted(out, key=lambda row: (not row["feasible"], row["step_time"]))


def _divisors(n: int) -> list[int]:
    return [i for i in range(1, n + 1) if n % i == 0]
