"""Single-node inference: ``Engine.solve`` / ``SingleNodeModel().solve``.

The solver maps the model, device and options to the decode, prefill or fixed-workload law's
inputs (:mod:`symsys.solvers.inputs`), calls the law's compiled function once, and wraps the
outputs in units lazily (a Quantity is built only when a field is read, which keeps a solve
in the tens of microseconds).
"""

from __future__ import annotations

from symsys import kernels
from symsys.errors import InfeasibleConfiguration
from symsys.kernels import LawRef
from symsys.solvers import balance, parallel
from symsys.solvers.inputs import StepInputs, network_bandwidth, request_inputs
from symsys.solvers.options import StepRequest, step_solver
from symsys.solvers.result import Output, Result
from symsys.units import format_value, to_quantity

#: what a single step reports: every output of its law and the ridge point
STEP_SPECS = ("*", "I_ridge")


def step_specs(law) -> tuple[str, ...]:
    """What a step solve evaluates: every output, and the ridge point where the law derives
    it (the package's step laws do; a law of another package need not)."""
    if isinstance(law, LawRef) or any(d.symbol.name == "I_ridge" for d in law.derived):
        return STEP_SPECS
    return ("*",)


def evaluate_step(inputs: StepInputs) -> dict[str, float]:
    """Every output of the step's law, and the device's ridge point (the roofline law's, at
    the step's peak, bandwidth and efficiencies, where the law does not derive it)."""
    out = inputs.call(step_specs(inputs.law))
    if "I_ridge" not in out:
        ridge = kernels.kernel("roofline", ("I_ridge",), scalar=True)
        out["I_ridge"] = float(ridge.named(inputs.values)["I_ridge"])
    return out


class InferenceResult(Result):
    """One solved step: Quantities (built on access) named for the step law's outputs, the
    bottleneck, the footprint against the device's memory, the crossover batch."""

    kind = "step"

    @property
    def inputs(self) -> StepInputs:
        return self.scenario

    @property
    def phase(self) -> str:
        return self.scenario.phase

    @property
    def efficiency_source(self) -> str:
        """Which efficiencies produced this answer: speed of light, given, or a profile."""
        profile = self.inputs.profile
        v = self.inputs.values
        runtime = self.inputs.options.get("runtime")
        extra = "" if runtime is None else (
            f"; runtime {runtime if isinstance(runtime, str) else 'given'}: "
            f"{v['n_aux']:g} non-GEMM kernels per layer, {v['t_aux'] * 1e6:.2f} us each, "
            f"{v['q_act']:.3g} B per token, layer and model dimension")
        if profile is not None:
            link = self.inputs.options.get("link_calibration")
            return (f"calibrated profile {profile.device} {profile.precision} ({profile.law}): "
                    f"eta_c {profile.eta_c:.3f}, eta_m {profile.eta_m:.3f}, "
                    f"{profile.t_o * 1e6:.2f} us per GEMM kernel"
                    + (f"; {link}" if link else "") + extra)
        if v["eta_c"] == v["eta_m"] == 1 and v["t_o"] == v["t_kern"] == 0 and not extra:
            return "speed of light (efficiency 1, no overhead)"
        return (f"given: eta_c {v['eta_c']:.3g}, eta_m {v['eta_m']:.3g}, overhead "
                f"{v['t_o']:.3g} s" + extra)

    @property
    def batch_size(self) -> int:
        return self.inputs.values["b"]

    @property
    def system(self):
        """The system this step runs on (its device is ``hardware``), or None for a device."""
        return parallel.system_of(self.scenario)

    @property
    def data_parallel(self) -> int:
        """Independent replicas of the step's parallel group (``data_parallel``; 1 unless
        given): each serves its own requests at this latency."""
        return int(self.scenario.options.get("data_parallel", 1))

    @property
    def group_devices(self) -> int:
        """Devices of one replica: the expert-parallel group (e devices, e/n tensor-parallel
        groups) or the tensor-parallel group, x pipeline stages."""
        v = self.inputs.values
        return int(v.get("n_ep", v.get("n_g", 1)) * v.get("n_pp", 1))

    @property
    def devices(self) -> int:
        """Devices the step occupies: data-parallel replicas x the devices of one replica
        (tensor- or expert-parallel group x pipeline stages)."""
        return self.data_parallel * self.group_devices

    def copies(self, spec: str) -> int:
        """``data_parallel`` for the law's rate (the throughput is all replicas': each
        replica's rate times r), 1 for every other output (one replica's)."""
        return self.data_parallel if spec == self.card["rate"] else 1

    @property
    def throughput_per_replica(self):
        """Tokens (samples) per second of one replica of the parallel group (the law's
        rate)."""
        return self.quantity(self.card["rate"])

    def step_output(self, role: str) -> str | None:
        """The output the step law declares for ``role`` (``"communication"``,
        ``"dispatch"``, ``"stage"``: :class:`~symsys.laws.base.StepRole`), or None."""
        declared = self.card.get("step")
        return None if declared is None else declared[role]

    @property
    def communication_share(self) -> float | None:
        """Share of the step's latency that is communication, t_comm / T (a pipeline's
        t_comm / t_stage: each of its p stages communicates for t_comm; None for a step
        without collectives). The outputs are those the law's step role declares."""
        comm = self.step_output("communication")
        if comm is None:
            return None
        return self.raw[comm] / self.raw[self.step_output("stage") or self.card["latency"]]

    @property
    def nodes(self) -> int:
        """Fast domains (nodes) one replica of the parallel group spans: the N domains of a
        tensor-parallel group, times the stages' domains (a new one after each of the
        ``network_sends``); 1 inside one domain."""
        v = self.inputs.values
        return int(v.get("n_node", 1)) * (self.network_sends + 1)

    @property
    def network_sends(self) -> int:
        """Pipeline sends per token that cross between fast domains over the scale-out
        network (0 inside one domain or without pipeline parallelism)."""
        return int(self.inputs.values.get("p_net", 0))

    @property
    def network_share(self) -> float | None:
        """Share of the step's communication that crosses the scale-out network: the
        all-reduces' steps between domains and the sends between them (None for a step
        without collectives; 0 inside one fast domain). The cross-domain part is the
        communication less what it is with the network free (beta_n infinite, alpha_n 0)."""
        comm = self.step_output("communication")
        if comm is None or not self.raw[comm]:
            return None if comm is None else 0.0
        if self.nodes == 1:
            return 0.0
        local = self.scenario.call(step_specs(self.scenario.law), beta_n=float("inf"),
                                   alpha_n=0.0)[comm]
        return (self.raw[comm] - local) / self.raw[comm]

    def _network_caveat(self) -> str:
        """Why a calibrated answer across fast domains is looser than it says ('' when not)."""
        if self.inputs.profile is None:
            return ""
        return ("the scale-out network between fast domains has no fitted profile: its "
                "bandwidth is the NICs' line rate (speed of light) and its latency "
                f"{self.inputs.values['alpha_n'] * 1e6:g} us per step (network_latency), while "
                "the fast domain and the kernels are calibrated; measured cross-node "
                "communication is slower")

    def _devices_missing(self) -> str:
        """Why the replicas do not fit the system's devices ('' when they do, or on a bare
        device, whose count is not bounded here)."""
        system = self.system
        if system is None or self.devices <= system.devices:
            return ""
        return (f"data_parallel={self.data_parallel} replicas x {self.group_devices} devices "
                f"each = {self.devices} devices, but {system.key} has {system.devices} "
                f"(use at most data_parallel={system.devices // self.group_devices})")

    @property
    def caveat(self) -> str:
        """Why this answer is a looser bound than a roofline usually gives ('' when not).

        On a device whose memory is on-chip SRAM (Cerebras, Groq) the roofline reads the
        weights at the SRAM's full aggregate bandwidth and computes at the peak, with none
        of the on-chip network, synchronisation or per-layer latency that dominate there, so
        its microseconds per token are far below what such a system serves.

        A calibrated step across fast domains (``nodes`` > 1) is calibrated in its kernels and
        its fast domain only: the scale-out network has no fitted profile, so its sends and
        all-reduce steps between domains stay at the NICs' line rate, and the caveat says so.
        """
        if self.nodes > 1:
            network = self._network_caveat()
            if network:
                return network
        hw = self.hardware
        memory = getattr(getattr(hw, "memory", None), "type", "")
        if not memory.upper().startswith("SRAM") or not self.feasible:
            return ""
        return (f"a loose bound: {hw.key} holds the weights in on-chip SRAM, which this law "
                f"reads at its full aggregate bandwidth "
                f"({format_value(hw.memory.bandwidth)}), with no on-chip network, "
                "synchronisation or per-layer latency; measured serving is far slower (give "
                "an efficiency or an overhead per step to tighten it)")

    # --- times and rates -----------------------------------------------------------------
    latency_compute = Output("t_compute", "Time if only compute bound.")
    latency_memory = Output("t_memory", "Time if only memory bound.")
    flops = Output("F", "FLOPs of the step.")
    bytes_moved = Output("Q", "Bytes moved between memory and the device.")
    weight_bytes = Output("W_read", "Weight bytes read in the step.")
    arithmetic_intensity = Output("I", "FLOP per byte moved.")
    @property
    def ridge_point(self):
        """Intensity at which compute and memory bounds meet (the roofline law's ridge point
        where the step law does not derive one)."""
        units = self.card["units"]
        if "I_ridge" not in units:
            units = kernels.kernel("roofline", ("I_ridge",), scalar=True).meta["units"]
        return to_quantity(self.raw["I_ridge"], units["I_ridge"])

    @property
    def mfu(self) -> float | None:
        """Model FLOPs utilisation: achieved FLOP/s over the device's peak at this precision
        (the law's U_c; None for a law without one)."""
        return self.raw.get("U_c")

    @property
    def mbu(self) -> float | None:
        """Memory bandwidth utilisation: achieved bytes/s over the device's peak bandwidth
        (the law's U_m; None for a law without one)."""
        return self.raw.get("U_m")

    def raise_if_infeasible(self) -> InferenceResult:
        if not self.feasible:
            raise InfeasibleConfiguration(f"{self.model.key} on {self.hardware.key}: {self.reason}")
        return self

    # --- balance points and capacity ----------------------------------------------------
    def _regime_terms(self) -> tuple[str, str]:
        (_, compute), (_, memory), *_ = self.card["regimes"]  # and communication, if any
        return compute, memory

    @property
    def crossover_batch(self) -> int | None:
        """First batch at which this step is compute-bound (None if no batch is)."""
        return balance.first_integer(self.scenario, "b", *self._regime_terms())

    @property
    def crossover_batch_exact(self) -> float | None:
        """The real root of t_compute = t_memory in b (closed form; None for MoE models,
        whose expected experts touched make it transcendental)."""
        return balance.crossing(self.scenario, "b", *self._regime_terms())[0]

    @property
    def max_batch_size(self) -> int | None:
        """The largest batch whose footprint fits the device's usable memory (its
        ``memory_fraction``; 0 if none, None if
        the footprint does not grow with the batch): the
        closed-form root of footprint = capacity in b, checked at whole batches."""
        return balance.max_fitting(self.scenario, "b")[1]

    @property
    def max_batch_size_exact(self) -> float | None:
        """The real root of footprint = capacity in b (closed form)."""
        return balance.max_fitting(self.scenario, "b")[0]

    # --- parallel degrees ---------------------------------------------------------------
    @property
    def min_tensor_parallel(self) -> int | None:
        """The smallest tensor-parallel degree (at this pipeline depth) whose per-device
        footprint fits, among the degrees the K/V heads allow, checked on the compiled law;
        None if none within the fast domain (on a system with a scale-out network: within its
        devices) fits, or for hardware with no link."""
        return parallel.min_fitting_degree(self.scenario)[1]

    @property
    def min_tensor_parallel_exact(self) -> float | None:
        """The real root of footprint(n) = capacity in n (closed form, n <= K/V heads)."""
        return parallel.min_fitting_degree(self.scenario)[0]

    @property
    def fastest_tensor_parallel(self) -> int | None:
        """The allowed tensor-parallel degree with the least latency on the compiled law,
        within the fast domain (on a system with a scale-out network: within its devices):
        beyond it the all-reduces' message latency outgrows the shrinking weight read."""
        return parallel.fastest_degree(self.scenario)[1]

    @property
    def fastest_tensor_parallel_exact(self) -> float | None:
        """The real root n* of d(t_memory + t_comm)/dn = 0 (closed form; memory-bound step,
        n <= K/V heads); None with no message latency (``link_latency``), when every added
        device shortens the step."""
        return parallel.fastest_degree(self.scenario)[0]

    @property
    def feasible(self) -> bool:
        """The footprint fits each device's memory, and the replicas fit the system."""
        return super().feasible and not self._devices_missing()

    @property
    def min_expert_parallel(self) -> int | None:
        """The smallest expert-parallel degree (at this tensor-parallel degree) whose
        per-device footprint fits, checked on the compiled law; None without expert
        parallelism or when none within the fast domain fits."""
        return parallel.min_expert_degree(self.scenario)

    @property
    def min_pipeline_parallel(self) -> int | None:
        """The fewest pipeline stages (at this tensor-parallel degree) whose per-device
        footprint fits, checked on the compiled law (how many wafers hold a model whose
        weights stay on chip); None without pipeline parallelism or when none fits."""
        return parallel.min_pipeline_degree(self.scenario)

    @property
    def reason(self) -> str:
        """Why the step does not fit, and the tensor-parallel degree that would hold it."""
        missing = self._devices_missing()
        if not super().feasible:
            text = self._memory_reason()
            return text + (f"; and {missing}" if missing else "")
        return missing

    def _memory_reason(self) -> str:
        text = super().reason
        if self.phase == "forward":
            return text
        where = f"{self.system.key}'s" if self.system is not None else "the"
        if self.step_output("dispatch") is not None:  # an expert-parallel step
            need = self.min_expert_parallel
            return text + (f"; fits with expert_parallel={need}" if need is not None
                           else f"; no expert-parallel degree within {where} fast domain "
                                "fits at this tensor_parallel")
        need = self.min_tensor_parallel
        if need is not None:
            return text + f"; fits with tensor_parallel={need}"
        stages = self.min_pipeline_parallel
        if stages is not None:
            return text + f"; fits with pipeline_parallel={stages}"
        if network_bandwidth(self.system) is not None:  # the search spans the system's nodes
            where = f"{self.system.key}'s {self.system.devices} devices"
        else:
            where += " fast domain"
        return text + f"; no tensor-parallel degree within {where} fits"

    # --- presentation --------------------------------------------------------------------
    def summary(self) -> dict:
        return {**super().summary(), "latency_compute": self.latency_compute,
                "latency_memory": self.latency_memory, "mfu": self.mfu, "mbu": self.mbu,
                "crossover_batch": self.crossover_batch,
                "crossover_batch_exact": self.crossover_batch_exact,
                "max_batch_size": self.max_batch_size, "efficiency": self.efficiency_source,
                **self._parallel_summary(),
                **({"min_tensor_parallel": self.min_tensor_parallel}
                   if not self.feasible and self.step_output("communication") is None
                   else {}),
                **({"caveat": self.caveat} if self.caveat else {})}

    def _parallel_summary(self) -> dict:
        replicas = ({"data_parallel": self.data_parallel, "devices": self.devices,
                     "throughput_per_replica": self.throughput_per_replica}
                    if self.data_parallel != 1 else {})
        comm, dispatch = self.step_output("communication"), self.step_output("dispatch")
        if comm is None:
            return replicas
        if dispatch is not None:  # expert parallel: the degrees of a tensor-parallel law
            out = {"devices": self.devices, "expert_parallel": int(self.inputs.values["n_ep"]),
                   "latency_communication": self.quantity(comm),
                   "communication_share": self.communication_share,
                   "latency_all_to_all": self.quantity(dispatch),
                   "min_expert_parallel": self.min_expert_parallel}
        else:
            out = {"devices": self.devices,
                   "latency_communication": self.quantity(comm),
                   "min_tensor_parallel": self.min_tensor_parallel,
                   "fastest_tensor_parallel": self.fastest_tensor_parallel,
                   "fastest_tensor_parallel_exact": self.fastest_tensor_parallel_exact}
        out.update(replicas)
        if self.nodes > 1:
            out.update(nodes=self.nodes, network_share=self.network_share)
        stage = self.step_output("stage")
        if stage is not None:
            out.update(latency_stage=self.quantity(stage))
            if "t_send" in self.raw:  # the package's pipeline laws' sends
                out.update(latency_send=self.quantity("t_send"))
            if self.network_sends:
                out.update(network_sends=self.network_sends,
                           latency_send_network=self.quantity("t_send_net"))
        return out

    def _derivation_note(self) -> str:
        if self.phase == "decode" and not self.inputs.seq_len_given and "s" in self.inputs.values:
            return (r"\text{no seq\_len: decode with no cached context } (s = 0)"
                    r"\text{, the weights-only roofline}")
        return ""

    def _repr_tail(self) -> str:
        v = self.inputs.values
        parts = [self.system.key] if self.system is not None else []
        parts += [f"{label} {int(v[name])}" for label, name in (("TP", "n_g"), ("EP", "n_ep"),
                                                                 ("PP", "n_pp"))
                  if v.get(name, 1) > 1]
        if self.data_parallel != 1:
            parts.append(f"DP {self.data_parallel}")
        if self.nodes > 1:
            parts.append(f"{self.nodes} nodes")
        where = f" ({', '.join(parts)})" if parts else ""
        return (f"{where} {self.phase} b={self.batch_size}: {self.latency.to('ms'):.3f~P}, "
                f"{self.bottleneck}-bound{'' if self.feasible else ', INFEASIBLE'}")


def solve(model, hardware, request: StepRequest,
          raise_if_infeasible: bool = False) -> InferenceResult:
    """Solve one inference step for a checked ``request``; see :meth:`Engine.solve`."""
    inputs = request_inputs(model, hardware, request)
    result = InferenceResult(inputs, evaluate_step(inputs))
    return result.raise_if_infeasible() if raise_if_infeasible else result


class Engine:
    """The seeds' entry point: ``Engine.solve(model=, hardware=, batch_size=, precision=)``."""

    @staticmethod
    @step_solver
    def solve(model, hardware, *, raise_if_infeasible=False, **options) -> InferenceResult:
        """Latency, throughput, bottleneck and footprint of one inference step.

        Every step solver takes the same step options (:mod:`symsys.solvers.options`); this
        one answers the step itself.

        Parameters
        ----------
        model, hardware : a registry entry or its name (``symsys zoo``), or a Workload. The
            hardware may be a system (``symsys zoo systems``, e.g. "DGX_H100"): its device,
            with its fast-domain fabric for the collectives and the domain's size as the
            largest group. ``tensor_parallel`` stays 1 unless given, on a system too, so a
            call means the same in every solver; a step that does not fit says which degree
            would hold it (``min_tensor_parallel``).
        raise_if_infeasible : raise InfeasibleConfiguration when the footprint does not fit.
        <step options>
        """
        return solve(model, hardware, StepRequest.from_options(**options),
                     raise_if_infeasible)


class SingleNodeModel:
    """Object form of :meth:`Engine.solve`, as the wafer-scale seed uses it."""

    @step_solver
    def solve(self, model, hardware, *, raise_if_infeasible=False,
              **options) -> InferenceResult:
        """See :meth:`Engine.solve`: the same options, keyword-only.

        Parameters
        ----------
        model, hardware : a registry entry or its name, or a Workload.
        raise_if_infeasible : raise InfeasibleConfiguration when the footprint does not fit.
        <step options>
        """
        return solve(model, hardware, StepRequest.from_options(**options),
                     raise_if_infeasible)
