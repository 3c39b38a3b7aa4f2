"""Serving one batch of requests: TTFT, inter-token latency, end-to-end latency, tokens/s.

TTFT is the prefill of the prompt. Each further output token is a decode step at a growing
context; their sum is the closed form of the ``decode_sums`` law, split where the decode
step's regime flips (at most once, since both of its times are linear in the context).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from symsys import kernels
from symsys.errors import InvalidParameter
from symsys.solvers import checks, steps
from symsys.solvers.inference import InferenceResult, solve
from symsys.solvers.options import StepRequest, step_solver
from symsys.solvers.result import Result
from symsys.units import to_quantity

#: why a batch generating one token per request reports no inter-token latency
ITL_NOT_APPLICABLE = ("not applicable: with output_len = 1 the only output token comes from "
                      "the prefill, so there is no next token to wait for")


def _sums(variant: str | None) -> kernels.Kernel:
    return kernels.kernel("decode_sums", ("S_c", "S_m", "s_cross", "g_s"), variant, scalar=True)


def decode_total(values: dict, prompt_len: int, steps: int,
                 variant: str | None = None) -> tuple[float, int]:
    """Seconds for decode steps j = 1..steps at contexts prompt_len + j, and how many of them
    are memory-bound. ``values`` are the decode law's inputs (any ``s``)."""
    if steps == 0:
        return 0.0, 0
    fn = _sums(variant)

    def call(j0, j1):
        args = {**values, "s_p": prompt_len, "j_0": j0, "j_1": j1}
        return [float(x) for x in fn.raw(*(args[a] for a in fn.args))]

    first_c, first_m, crossing, slope = call(1, 1)
    compute_grows = slope > 0
    if not math.isfinite(crossing):  # equal slopes: one regime for every step
        memory_steps = steps if first_m > first_c else 0
    elif compute_grows:  # memory-bound while prompt_len + j < crossing
        memory_steps = min(steps, max(0, math.ceil(crossing - prompt_len) - 1))
    else:  # compute-bound while prompt_len + j < crossing, memory-bound after
        memory_steps = steps - min(steps, max(0, math.ceil(crossing - prompt_len) - 1))
    if compute_grows or not math.isfinite(crossing):
        memory_part = call(1, memory_steps)[1] if memory_steps else 0.0
        compute_part = call(memory_steps + 1, steps)[0] if memory_steps < steps else 0.0
    else:
        compute_steps = steps - memory_steps
        compute_part = call(1, compute_steps)[0] if compute_steps else 0.0
        memory_part = call(compute_steps + 1, steps)[1] if memory_steps else 0.0
    return memory_part + compute_part, memory_steps


def step_law_total(scenario, prompt_len: int, steps: int) -> tuple[float, int]:
    """Seconds for decode steps j = 1..steps at contexts prompt_len + j, and how many are
    memory-bound, summed on the decode scenario's own law: a parallel step (tensor, expert or
    pipeline parallel) is not the single-device law that ``decode_sums`` sums in closed form,
    so its steps are evaluated in one array call of its compiled kernel."""
    if steps == 0:
        return 0.0, 0
    import numpy as np

    fn = scenario.kernel(("T", "t_compute", "t_memory"), scalar=False)
    contexts = np.arange(prompt_len + 1, prompt_len + steps + 1, dtype=float)
    values = {**scenario.values, "s": contexts}
    latency, compute, memory = (np.broadcast_to(np.asarray(x, dtype=float), contexts.shape)
                                for x in fn.raw(*(values[a] for a in fn.args)))
    return float(latency.sum()), int(np.count_nonzero(memory > compute))


@dataclass(eq=False, repr=False)
class ServingResult(Result):
    """A batch of requests served: prefill, then a decode step per further token. Its
    feasibility is the last decode step's: the K/V cache is largest there."""

    prefill: InferenceResult
    first_decode: InferenceResult
    last_decode: InferenceResult
    prompt_len: int
    output_len: int
    decode_seconds: float
    memory_bound_steps: int

    kind = "serving"

    def __post_init__(self):
        Result.__init__(self, self.last_decode.scenario, self.last_decode.raw)

    def identity(self) -> dict:
        step = self.prefill.scenario.options
        return {"kind": self.kind, "law": "prefill + decode_sums", "model": self.model.key,
                "hardware": self.hardware.key, "batch_size": step["batch_size"],
                "precision": step["precision"], "prompt_len": self.prompt_len,
                "output_len": self.output_len,
                **{name: step[name] for name in ("tensor_parallel", "pipeline_parallel",
                                                  "expert_parallel", "data_parallel",
                                                  "memory_fraction")
                   if name in step}}

    @property
    def outputs(self) -> dict:
        return {}

    def summary(self) -> dict:
        return {"ttft": self.ttft, "itl": self.itl, "itl_mean": self.itl_mean,
                "e2e_latency": self.e2e_latency, "tokens_per_sec": self.tokens_per_sec,
                "tokens_per_sec_per_request": self.tokens_per_sec_per_request,
                "kv_cache": self.kv_cache, "memory_footprint": self.memory_footprint,
                "memory_capacity": self.memory_capacity,
                "memory_bound_steps": self.memory_bound_steps, "feasible": self.feasible,
                "reason": self.reason,
                **({} if self.itl_applies else {"itl_note": ITL_NOT_APPLICABLE})}

    @property
    def ttft(self):
        return self.prefill.latency

    @property
    def itl_applies(self) -> bool:
        """Whether an inter-token latency exists: a single output token (it comes from the
        prefill) has no gap to a next token, so its ITL is not applicable, not 0."""
        return self.output_len > 1

    @property
    def itl(self):
        """Inter-token latency of the first decode step (context prompt_len + 1); None when
        ``output_len`` is 1 (no decode step: see :attr:`itl_applies`)."""
        return self.first_decode.latency if self.itl_applies else None

    @property
    def itl_mean(self):
        """Mean inter-token latency over the ``output_len - 1`` decode steps; None when
        ``output_len`` is 1."""
        if not self.itl_applies:
            return None
        return to_quantity(self.decode_seconds / (self.output_len - 1), "s")

    @property
    def e2e_latency(self):
        return to_quantity(self.prefill.raw["T"] + self.decode_seconds, "s")

    @property
    def tokens_per_sec_per_request(self):
        return to_quantity(self.output_len / self.e2e_latency.m_as("s"), "token/s")

    @property
    def replicas(self) -> int:
        """Batches served at once: the attention replicas of an expert-parallel group
        (expert_parallel / tensor_parallel), times the data-parallel replicas, times the
        pipeline's microbatches in flight (one per stage, as the step law holds them)."""
        v = self.prefill.inputs.values
        return int(round(v.get("n_ep", 1) / v.get("n_g", 1)) if "n_ep" in v else 1) \
            * self.prefill.data_parallel * int(v.get("n_pp", 1))

    @property
    def devices(self) -> int:
        """Devices serving: every replica's (see InferenceResult.devices)."""
        return self.prefill.devices

    @property
    def tokens_per_sec(self):
        """Generated tokens per second of every replica together."""
        return to_quantity(self.replicas * self.prefill.batch_size * self.output_len
                           / self.e2e_latency.m_as("s"), "token/s")

    @property
    def feasible(self) -> bool:
        """The last decode step fits each device, and the replicas fit the system."""
        return super().feasible and not self.last_decode._devices_missing()

    @property
    def reason(self) -> str:
        memory = super().reason if not super().feasible else ""
        return "; and ".join(x for x in (memory, self.last_decode._devices_missing()) if x)

    @property
    def kv_cache(self):
        """K/V cache at the last decode step: prompt_len + output_len tokens per sequence."""
        return to_quantity(self.last_decode.raw["M_kv"], "B")

    def _repr_tail(self) -> str:
        itl = f"{self.itl.to('ms'):.2f~P}" if self.itl_applies else "n/a"
        return (f": TTFT {self.ttft.to('ms'):.2f~P}, ITL {itl}, "
                f"E2E {self.e2e_latency.to('s'):.3f~P}")


class ServingModel:
    """Serving a batch of requests: ``ServingModel().solve(model, hardware, prompt_len=,
    output_len=, batch_size=, ...)``."""

    @step_solver
    def solve(self, model, hardware, *, prompt_len, output_len, **options) -> ServingResult:
        """TTFT, inter-token latency, end-to-end latency and tokens/s of one batch.

        The prefill is the step of ``phase="prefill"`` at ``seq_len=prompt_len`` and each
        further token a decode step at a growing context, so ``phase`` and ``seq_len`` are
        set by ``prompt_len`` and ``output_len``: giving either is an error. Every other step
        option applies to each step as in :meth:`Engine.solve`; the footprint of the last
        decode step (the largest K/V cache) is checked against memory_fraction x the
        physical capacity. ``batch_size`` is per replica; ``tokens_per_sec`` counts every
        batch served at once (expert_parallel / tensor_parallel attention replicas x
        data_parallel replicas x pipeline_parallel microbatches in flight, one per stage, as
        :meth:`Engine.solve` counts them), the latencies are one request's.

        Parameters
        ----------
        model, hardware : registry entries or their names.
        prompt_len : int, prompt tokens per request (the prefill).
        output_len : int, generated tokens per request (the first comes from the prefill).
        <step options>
        """
        prompt_len = checks.positive_int("prompt_len", prompt_len)
        output_len = checks.positive_int("output_len", output_len)
        for name in ("phase", "seq_len"):
            if name in options:
                raise InvalidParameter(
                    f"{name}={options[name]!r}: ServingModel solves a request's prefill and "
                    "each of its decode steps, whose phase and context follow from "
                    "prompt_len and output_len; give those instead (Engine.solve answers "
                    "one step at a given phase and seq_len)")
        request = StepRequest.from_options(**options)
        if request.law is not None and request.law not in steps.package_steps():
            raise InvalidParameter(
                f"law={request.law!r}: ServingModel counts one generated token per decode "
                "step, as the package's decode laws define it; a law of another package may "
                "yield more or fewer per step (its rate says how many): solve its steps with "
                "Engine.solve")
        # law= names the decode steps' law; the prefill's is the package's for the degrees
        prefill = solve(model, hardware, request.replace(phase="prefill", seq_len=prompt_len,
                                                         law=None))
        last = solve(model, hardware, request.replace(phase="decode",
                                                      seq_len=prompt_len + output_len - 1))
        # one output token: no decode step runs, and none past it is solved (its context
        # could exceed the model's positions and warn about a step that never happens)
        first = last if output_len == 1 else solve(
            model, hardware, request.replace(phase="decode", seq_len=prompt_len + 1))
        if first.scenario.law.name == "decode":  # the single-device law: closed-form sums
            seconds, memory_steps = decode_total(first.inputs.values, prompt_len,
                                                 output_len - 1, first.scenario.variant)
        else:
            seconds, memory_steps = step_law_total(first.scenario, prompt_len, output_len - 1)
        return ServingResult(prefill, first, last, prompt_len, output_len, seconds,
                             memory_steps)
