"""Serving one batch of requests: TTFT, inter-token latency, end-to-end latency, tokens/s.

TTFT is the prefill of the prompt. Each further output token is a decode step at a growing
context; their sum is the closed form of the ``decode_sums`` law, split where the decode
step's regime flips (at most once, since both of its times are linear in the context).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from symsys import kernels
from symsys.solvers import validate
from symsys.solvers.inference import InferenceResult, solve
from symsys.units import to_quantity


def _sums() -> kernels.Kernel:
    def build():
        from symsys import symbols as S
        from symsys.laws.serving import decode_sums as law

        names = ("S_c", "S_m", "s_cross", "g_s")
        return [law.expr(getattr(S, n)) for n in names], law.inputs, names

    return kernels.kernel("decode_sums", build, scalar=True)


def decode_total(values: dict, prompt_len: int, steps: int) -> tuple[float, int]:
    """Seconds for decode steps j = 1..steps at contexts prompt_len + j, and how many of them
    are memory-bound. ``values`` are the decode law's inputs (any ``s``)."""
    if steps == 0:
        return 0.0, 0
    fn = _sums()

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


@dataclass(frozen=True, eq=False)
class ServingResult:
    prefill: InferenceResult
    first_decode: InferenceResult
    last_decode: InferenceResult
    prompt_len: int
    output_len: int
    decode_seconds: float
    memory_bound_steps: int

    @property
    def ttft(self):
        return self.prefill.latency

    @property
    def itl(self):
        """Inter-token latency of the first decode step (context prompt_len + 1)."""
        return self.first_decode.latency

    @property
    def itl_mean(self):
        steps = self.output_len - 1
        return to_quantity(self.decode_seconds / steps if steps else 0.0, "s")

    @property
    def e2e_latency(self):
        return to_quantity(self.prefill.raw["T"] + self.decode_seconds, "s")

    @property
    def tokens_per_sec_per_request(self):
        return to_quantity(self.output_len / self.e2e_latency.m_as("s"), "token/s")

    @property
    def tokens_per_sec(self):
        return to_quantity(self.prefill.batch_size * self.output_len
                           / self.e2e_latency.m_as("s"), "token/s")

    @property
    def kv_cache(self):
        """K/V cache at the last decode step: prompt_len + output_len tokens per sequence."""
        return to_quantity(self.last_decode.raw["M_kv"], "B")

    @property
    def memory_footprint(self):
        return self.last_decode.memory_footprint

    @property
    def feasible(self) -> bool:
        return self.last_decode.feasible

    @property
    def reason(self) -> str:
        return self.last_decode.reason

    def __repr__(self) -> str:
        return (f"<ServingResult {self.prefill.model.key} on {self.prefill.hardware.key}: "
                f"TTFT {self.ttft.to('ms'):.2f~P}, ITL {self.itl.to('ms'):.2f~P}, "
                f"E2E {self.e2e_latency.to('s'):.3f~P}>")


class ServingModel:
    """``ServingModel().solve(model, hardware, prompt_len, output_len, batch_size, precision)``."""

    def solve(self, model, hardware, prompt_len, output_len, batch_size=1, precision="fp16",
              **options) -> ServingResult:
        prompt_len = validate.positive_int("prompt_len", prompt_len)
        output_len = validate.positive_int("output_len", output_len)
        prefill = solve(model, hardware, batch_size, precision, phase="prefill",
                        seq_len=prompt_len, **options)
        first = solve(model, hardware, batch_size, precision, phase="decode",
                      seq_len=prompt_len + 1, **options)
        last = solve(model, hardware, batch_size, precision, phase="decode",
                     seq_len=prompt_len + output_len - 1, **options)
        seconds, memory_steps = decode_total(first.inputs.values, prompt_len, output_len - 1)
        return ServingResult(prefill, first, last, prompt_len, output_len, seconds,
                             memory_steps)
