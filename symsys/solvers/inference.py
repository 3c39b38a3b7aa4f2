"""Single-node inference: ``Engine.solve`` / ``SingleNodeModel().solve``.

The solver maps the model, device and options to the decode, prefill or fixed-workload law's
inputs (:mod:`symsys.solvers.inputs`), calls the law's compiled function once, and wraps the
outputs in units lazily (a Quantity is built only when a field is read, which keeps a solve
in the tens of microseconds).
"""

from __future__ import annotations

from symsys.errors import InfeasibleConfiguration
from symsys.solvers import balance, parallel, validate
from symsys.solvers.inputs import StepInputs, step_inputs
from symsys.solvers.result import Output, Result
from symsys.units import format_value

#: what a single step reports: every output of its law and the ridge point
STEP_SPECS = ("*", "I_ridge")


def evaluate_step(inputs: StepInputs) -> dict[str, float]:
    return inputs.call(STEP_SPECS)


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
        if profile is not None:
            link = self.inputs.options.get("link_calibration")
            return (f"calibrated profile {profile.device} {profile.precision} ({profile.law}): "
                    f"eta_c {profile.eta_c:.3f}, eta_m {profile.eta_m:.3f}, "
                    f"{profile.t_o * 1e6:.2f} us per GEMM kernel"
                    + (f"; {link}" if link else ""))
        v = self.inputs.values
        if v["eta_c"] == v["eta_m"] == 1 and v["t_o"] == v["t_kern"] == 0:
            return "speed of light (efficiency 1, no overhead)"
        return f"given: eta_c {v['eta_c']:.3g}, eta_m {v['eta_m']:.3g}, overhead {v['t_o']:.3g} s"

    @property
    def batch_size(self) -> int:
        return self.inputs.values["b"]

    @property
    def system(self):
        """The system this step runs on (its device is ``hardware``), or None for a device."""
        return parallel.system_of(self.scenario)

    @property
    def devices(self) -> int:
        """Devices the step occupies: tensor-parallel degree x pipeline stages."""
        v = self.inputs.values
        return int(v.get("n_g", 1) * v.get("n_pp", 1))

    @property
    def caveat(self) -> str:
        """Why this answer is a looser bound than a roofline usually gives ('' when not).

        On a device whose memory is on-chip SRAM (Cerebras, Groq) the roofline reads the
        weights at the SRAM's full aggregate bandwidth and computes at the peak, with none
        of the on-chip network, synchronisation or per-layer latency that dominate there, so
        its microseconds per token are far below what such a system serves.
        """
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
    ridge_point = Output("I_ridge", "Intensity at which compute and memory bounds meet.")

    @property
    def mfu(self) -> float:
        """Model FLOPs utilisation: achieved FLOP/s over the device's peak at this precision."""
        return self.raw["U_c"]

    @property
    def mbu(self) -> float:
        """Memory bandwidth utilisation: achieved bytes/s over the device's peak bandwidth."""
        return self.raw["U_m"]

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
        None if none within the fast domain fits, or for hardware with no link."""
        return parallel.min_fitting_degree(self.scenario)[1]

    @property
    def min_tensor_parallel_exact(self) -> float | None:
        """The real root of footprint(n) = capacity in n (closed form, n <= K/V heads)."""
        return parallel.min_fitting_degree(self.scenario)[0]

    @property
    def fastest_tensor_parallel(self) -> int | None:
        """The allowed tensor-parallel degree with the least latency on the compiled law,
        within the fast domain: beyond it the all-reduces' message latency outgrows the
        shrinking weight read."""
        return parallel.fastest_degree(self.scenario)[1]

    @property
    def fastest_tensor_parallel_exact(self) -> float | None:
        """The real root n* of d(t_memory + t_comm)/dn = 0 (closed form; memory-bound step,
        n <= K/V heads); None with no message latency (``link_latency``), when every added
        device shortens the step."""
        return parallel.fastest_degree(self.scenario)[0]

    @property
    def reason(self) -> str:
        """Why the step does not fit, and the tensor-parallel degree that would hold it."""
        text = super().reason
        if not text or self.phase == "forward":
            return text
        need = self.min_tensor_parallel
        where = f"{self.system.key}'s" if self.system is not None else "the"
        return text + (f"; fits with tensor_parallel={need}" if need is not None
                       else f"; no tensor-parallel degree within {where} fast domain fits")

    # --- presentation --------------------------------------------------------------------
    def summary(self) -> dict:
        return {**super().summary(), "latency_compute": self.latency_compute,
                "latency_memory": self.latency_memory, "mfu": self.mfu, "mbu": self.mbu,
                "crossover_batch": self.crossover_batch,
                "crossover_batch_exact": self.crossover_batch_exact,
                "max_batch_size": self.max_batch_size, "efficiency": self.efficiency_source,
                **self._parallel_summary(),
                **({"min_tensor_parallel": self.min_tensor_parallel}
                   if not self.feasible and "t_comm" not in self.raw else {}),
                **({"caveat": self.caveat} if self.caveat else {})}

    def _parallel_summary(self) -> dict:
        if "t_comm" not in self.raw:
            return {}
        out = {"devices": self.devices, "latency_communication": self.quantity("t_comm"),
               "min_tensor_parallel": self.min_tensor_parallel,
               "fastest_tensor_parallel": self.fastest_tensor_parallel,
               "fastest_tensor_parallel_exact": self.fastest_tensor_parallel_exact}
        if "t_stage" in self.raw:
            out.update(latency_stage=self.quantity("t_stage"),
                       latency_send=self.quantity("t_send"))
        return out

    def _derivation_note(self) -> str:
        if self.phase == "decode" and not self.inputs.seq_len_given and "s" in self.inputs.values:
            return (r"\text{no seq\_len: decode with no cached context } (s = 0)"
                    r"\text{, the weights-only roofline}")
        return ""

    def _repr_tail(self) -> str:
        v = self.inputs.values
        parts = [self.system.key] if self.system is not None else []
        parts += [f"{label} {int(v[name])}" for label, name in (("TP", "n_g"), ("PP", "n_pp"))
                  if v.get(name, 1) > 1]
        where = f" ({', '.join(parts)})" if parts else ""
        return (f"{where} {self.phase} b={self.batch_size}: {self.latency.to('ms'):.3f~P}, "
                f"{self.bottleneck}-bound{'' if self.feasible else ', INFEASIBLE'}")


def solve(model, hardware, **options) -> InferenceResult:
    """Solve one inference step; see :meth:`Engine.solve` for the options."""
    raise_if_infeasible = options.pop("raise_if_infeasible", False)
    inputs = step_inputs(model, hardware, **options)
    result = InferenceResult(inputs, evaluate_step(inputs))
    return result.raise_if_infeasible() if raise_if_infeasible else result


class Engine:
    """The seeds' entry point: ``Engine.solve(model=, hardware=, batch_size=, precision=)``."""

    @staticmethod
    @validate.keywords
    def solve(model, hardware, *, batch_size=1, precision="auto", phase="decode",
              seq_len=None, weight_precision=None, kv_precision=None, efficiency=None,
              overhead=None, workspace=None, logits="last", tensor_parallel=1,
              link_latency=None, pipeline_parallel=1, memory_fraction=1.0,
              raise_if_infeasible=False) -> InferenceResult:
        """Latency, throughput, bottleneck and footprint of one inference step.

        Parameters
        ----------
        model, hardware : a registry entry or its name (``symsys zoo``), or a Workload. The
            hardware may be a system (``symsys zoo systems``, e.g. "DGX_H100"): its device,
            with its fast-domain fabric for the collectives and the domain's size as the
            largest group. ``tensor_parallel`` stays 1 unless given, on a system too, so a
            call means the same in every solver; a step that does not fit says which degree
            would hold it (``min_tensor_parallel``).
        batch_size : int, sequences (samples) processed together; default 1.
        precision : str, compute precision (fp16, bf16, fp8, int8...; "FP16", "bfloat16" and
            other common spellings accepted); default "auto": the device's native 16-bit
            format (fp16 where the device has it, else bf16), reported in the result.
        phase : "decode" (one new token per sequence after ``seq_len`` cached tokens; with no
            ``seq_len`` there is no cached context: the weights-only roofline) or "prefill"
            (``seq_len`` prompt tokens).
        seq_len : int, cached context (decode) or prompt length (prefill).
        weight_precision, kv_precision : str, weight-only and K/V cache precisions (default:
            ``precision``).
        efficiency : a number in (0, 1] for both compute and memory, ``(compute, memory)``,
            ``"calibrated"`` or a CalibrationProfile; default 1 (speed of light).
        overhead : Quantity (time) added to every step.
        workspace : Quantity (bytes) held.
        logits : "last" (default: a prefill computes logits at the last prompt position, as
            serving engines do) or "all" (every position: scoring, training).
        tensor_parallel : int, devices the model is split over (Megatron-style); the step's
            figures are per device, the communication is two ring all-reduces per layer over
            the fast-domain link (the system's, else the device's; per direction, from the
            registry).
        link_latency : Quantity (time) per message step of those all-reduces and sends;
            default 0.
        pipeline_parallel : int, stages the layers are split over, each a tensor-parallel
            group (tensor_parallel x pipeline_parallel devices in one fast domain). The
            latency is a token's p stages in sequence with p - 1 sends of its activations;
            the throughput and footprint are with p microbatches of ``batch_size`` in flight.
        memory_fraction : the share of each device's physical memory the engine may use, a
            number in (0, 1] or text such as "90%"; default 1.0 (all of it). The footprint is
            checked against memory_fraction x the physical capacity: ``memory_capacity``,
            ``feasible``, ``max_batch_size`` and ``min_tensor_parallel`` all use that usable
            capacity, the result's options carry the fraction, and an infeasible result's
            reason names it. Serving engines reserve the rest for the CUDA context,
            activations and allocator fragmentation: vLLM's ``gpu_memory_utilization``
            (``--gpu-memory-utilization``, default 0.9;
            https://docs.vllm.ai/en/latest/models/engine_args.html) is this fraction.
        raise_if_infeasible : raise InfeasibleConfiguration when the footprint does not fit.
        """
        return solve(model, hardware, batch_size=batch_size, precision=precision, phase=phase,
                     seq_len=seq_len, weight_precision=weight_precision,
                     kv_precision=kv_precision, efficiency=efficiency, overhead=overhead,
                     workspace=workspace, logits=logits, tensor_parallel=tensor_parallel,
                     link_latency=link_latency, pipeline_parallel=pipeline_parallel,
                     memory_fraction=memory_fraction, raise_if_infeasible=raise_if_infeasible)


class SingleNodeModel:
    """Object form of :meth:`Engine.solve`, as the wafer-scale seed uses it."""

    def solve(self, model, hardware, **options) -> InferenceResult:
        """See :meth:`Engine.solve`: the same options, keyword-only."""
        return Engine.solve(model, hardware, **options)
