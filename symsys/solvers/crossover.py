"""The crossover batch: the first batch at which a step turns compute-bound.

For a dense model the balance t_compute = t_memory is linear in b and the decode/prefill
laws carry its closed form (derived result ``b_cross``). For an MoE model the expected number
of experts touched, E (1 - (1 - k/E)^b), makes it transcendental: it is solved by bisection
on the compiled law, and the result says so. Both kernels go through :mod:`symsys.kernels`,
so a cold process needs no sympy once they are cached.
"""

from __future__ import annotations

import math

from symsys import kernels

STEP_LAWS = ("decode", "prefill")  # the laws that carry b_cross


def _closed_form(name: str) -> kernels.Kernel:
    def build():
        from symsys import symbols as S
        from symsys.laws import get

        law = get(name)
        return [law.expr(S.b_cross)], law.inputs, ["b_cross"]

    return kernels.kernel(f"{name}-crossover", build, scalar=True)


def _balance(name: str) -> kernels.Kernel:
    def build():
        from symsys import symbols as S
        from symsys.laws import get

        law = get(name)
        return [law.expr(S.t_compute) - law.expr(S.t_memory)], law.inputs, ["gap"]

    return kernels.kernel(f"{name}-balance", build, scalar=True)


def _gap(name: str, values: dict, batch: float) -> float:
    return float(_balance(name).named({**values, "b": batch})["gap"])


def crossover_exact(inputs) -> float | None:
    """The real b solving t_compute = t_memory (dense models: the closed form), or None."""
    name, values = inputs.law.name, inputs.values
    if name not in STEP_LAWS or values.get("E", 1) != 1:
        return None
    root = float(_closed_form(name).named(values)["b_cross"])
    return root if math.isfinite(root) and root > 0 else None


def crossover_batch(inputs, limit: int = 2**40) -> int | None:
    """First integer batch with t_compute >= t_memory, or None if none up to ``limit``."""
    name, values = inputs.law.name, inputs.values
    if name not in STEP_LAWS:
        return None
    if values.get("E", 1) == 1:
        root = crossover_exact(inputs)
        if root is None:
            return None  # the balance has no positive root: never compute-bound
        first = max(1, math.ceil(root - 1e-9 * root))
        # guard the ceiling against rounding on either side of an integer root
        while first > 1 and _gap(name, values, first - 1) >= 0:
            first -= 1
        while _gap(name, values, first) < 0:
            first += 1
        return first
    if _gap(name, values, limit) < 0:
        return None
    low, high = 0, limit  # gap(low) < 0 (or low = 0), gap(high) >= 0
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if _gap(name, values, mid) < 0 else (low, mid)
    return high
