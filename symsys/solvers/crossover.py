"""The crossover batch: the first batch at which a step turns compute-bound.

For a dense model the balance t_compute = t_memory is linear in b and the decode/prefill
laws carry its closed form (derived result ``b_cross``). For an MoE model the expected number
of experts touched, E (1 - (1 - k/E)^b), makes it transcendental: it is solved by bisection
on the compiled law, and the result says so.
"""

from __future__ import annotations

import functools
import math

from symsys import symbols as S
from symsys.compile import compile_exprs
from symsys.laws import Law


@functools.cache
def _closed_form(law: Law):
    return compile_exprs([law.expr(S.b_cross)], law.inputs, scalar=True)


@functools.cache
def _balance(law: Law):
    return compile_exprs([law.expr(S.t_compute) - law.expr(S.t_memory)], law.inputs,
                         scalar=True)


def _gap(law: Law, values: dict, batch: float) -> float:
    args = [batch if s.name == "b" else values[s.name] for s in law.inputs]
    return float(_balance(law).raw(*args)[0])


def crossover_batch(inputs, limit: int = 2**40) -> int | None:
    """First integer batch with t_compute >= t_memory, or None if none up to ``limit``."""
    law, values = inputs.law, inputs.values
    if "b_cross" not in {d.symbol.name for d in law.derived}:
        return None
    if values.get("E", 1) == 1:
        root = float(_closed_form(law).raw(*(values[s.name] for s in law.inputs))[0])
        if not math.isfinite(root) or root <= 0:
            return None  # the balance has no positive root: never compute-bound
        first = max(1, math.ceil(root - 1e-9 * root))
        # guard the ceiling against rounding on either side of an integer root
        while first > 1 and _gap(law, values, first - 1) >= 0:
            first -= 1
        while _gap(law, values, first) < 0:
            first += 1
        return first
    if _gap(law, values, limit) < 0:
        return None
    low, high = 0, limit  # gap(low) < 0 (or low = 0), gap(high) >= 0
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if _gap(law, values, mid) < 0 else (low, mid)
    return high
