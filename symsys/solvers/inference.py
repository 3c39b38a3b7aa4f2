"""Single-node inference: ``Engine.solve`` / ``SingleNodeModel().solve``.

The solver maps the model, device and options to the decode, prefill or fixed-workload law's
inputs (:mod:`symsys.solvers.inputs`), calls the law's compiled function once, and wraps the
outputs in units lazily (a Quantity is built only when a field is read, which keeps a solve
in the tens of microseconds).
"""

from __future__ import annotations

from symsys.errors import InfeasibleConfiguration
from symsys.solvers import balance, validate
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
            return (f"calibrated profile {profile.device} {profile.precision} ({profile.law}): "
                    f"eta_c {profile.eta_c:.3f}, eta_m {profile.eta_m:.3f}, "
                    f"{profile.t_o * 1e6:.2f} us per GEMM kernel")
        v = self.inputs.values
        if v["eta_c"] == v["eta_m"] == 1 and v["t_o"] == v["t_kern"] == 0:
            return "speed of light (efficiency 1, no overhead)"
        return f"given: eta_c {v['eta_c']:.3g}, eta_m {v['eta_m']:.3g}, overhead {v['t_o']:.3g} s"

    @property
    def batch_size(self) -> int:
        return self.inputs.values["b"]

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
        """The largest batch whose footprint fits the device's memory (0 if none, None if
        the footprint does not grow with the batch): the
        closed-form root of footprint = capacity in b, checked at whole batches."""
        return balance.max_fitting(self.scenario, "b")[1]

    @property
    def max_batch_size_exact(self) -> float | None:
        """The real root of footprint = capacity in b (closed form)."""
        return balance.max_fitting(self.scenario, "b")[0]

    # --- presentation --------------------------------------------------------------------
    def summary(self) -> dict:
        return {**super().summary(), "latency_compute": self.latency_compute,
                "latency_memory": self.latency_memory, "mfu": self.mfu, "mbu": self.mbu,
                "crossover_batch": self.crossover_batch,
                "crossover_batch_exact": self.crossover_batch_exact,
                "max_batch_size": self.max_batch_size, "efficiency": self.efficiency_source,
                **({"latency_communication": self.quantity("t_comm")} if "t_comm" in self.raw
                   else {}),
                **({"caveat": self.caveat} if self.caveat else {})}

    def _derivation_note(self) -> str:
        if self.phase == "decode" and not self.inputs.seq_len_given and "s" in self.inputs.values:
            return (r"\text{no seq\_len: decode with no cached context } (s = 0)"
                    r"\text{, the weights-only roofline}")
        return ""

    def _repr_tail(self) -> str:
        return (f" {self.phase} b={self.batch_size}: {self.latency.to('ms'):.3f~P}, "
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
              link_latency=None, raise_if_infeasible=False) -> InferenceResult:
        """Latency, throughput, bottleneck and footprint of one inference step.

        Parameters
        ----------
        model, hardware : a registry entry or its name (``symsys zoo``), or a Workload.
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
            the device's fast-domain link (its per-direction bandwidth from the registry).
        link_latency : Quantity (time) per message step of those all-reduces; default 0.
        raise_if_infeasible : raise InfeasibleConfiguration when the footprint does not fit.
        """
        return solve(model, hardware, batch_size=batch_size, precision=precision, phase=phase,
                     seq_len=seq_len, weight_precision=weight_precision,
                     kv_precision=kv_precision, efficiency=efficiency, overhead=overhead,
                     workspace=workspace, logits=logits, tensor_parallel=tensor_parallel,
                     link_latency=link_latency, raise_if_infeasible=raise_if_infeasible)


class SingleNodeModel:
    """Object form of :meth:`Engine.solve`, as the wafer-scale seed uses it."""

    def solve(self, model, hardware, **options) -> InferenceResult:
        """See :meth:`Engine.solve`: the same options, keyword-only."""
        return Engine.solve(model, hardware, **options)
