"""Balance points and capacity limits of any law, in closed form where sympy finds one.

A balance point is where two outputs of a law are equal (compute = memory: the crossover
batch; injection = compute: B*); a capacity limit is where the law's footprint equals its
capacity input (the largest batch or context that fits). Both are kernel specs
(``balance:x:a:b``, ``fit:x``), solved by ``sympy.solve`` when the kernel is built; where no
closed form exists (the expected experts an MoE step touches make the crossover
transcendental) the kernel gives NaN and the integer answer comes from bisection on the
compiled difference. Integer answers are always checked on the compiled law at their
neighbours, so rounding can never pick the wrong side of an exact root.
"""

from __future__ import annotations

import math

from symsys.errors import InvalidParameter

#: the largest count searched by bisection (a batch beyond 2**40 is not a design point)
LIMIT = 2**40


def _check_unknown(scenario, unknown: str) -> None:
    integers = scenario.card["integers"]
    if unknown not in integers:
        raise InvalidParameter(f"{unknown!r} is not a count of the {scenario.card['law']} law; "
                               f"its counts are {', '.join(integers) or 'none'}")


def _root(scenario, spec: str) -> float:
    """The closed-form root of a ``balance:`` or ``fit:`` spec here: NaN when the law has no
    closed form for it (then the caller searches), inf or <= 0 when there is no positive
    root."""
    fn = scenario.kernel(spec)
    values = scenario.values
    try:
        return float(fn.raw(*(values[a] for a in fn.args))[0])
    except (ZeroDivisionError, OverflowError):
        return math.inf


def _positive(root: float) -> float | None:
    return root if math.isfinite(root) and root > 0 else None


def first_integer(scenario, unknown: str, lhs: str, rhs: str) -> int | None:
    """The first whole ``unknown`` >= 1 at which ``lhs`` >= ``rhs`` (their difference grows
    with it); None when none does (up to :data:`LIMIT` where there is no closed form)."""
    _check_unknown(scenario, unknown)
    gap = f"gap:{lhs}:{rhs}"

    def sign(x):
        return scenario.call(gap, **{unknown: x})[gap]

    root = _root(scenario, f"balance:{unknown}:{lhs}:{rhs}")
    if math.isnan(root):  # no closed form: bisection on the compiled difference
        return None if sign(LIMIT) < 0 else _bisect(sign, LIMIT)
    if _positive(root) is None:
        return None
    first = max(1, math.ceil(root - 1e-9 * root))
    while first > 1 and sign(first - 1) >= 0:
        first -= 1
    while sign(first) < 0:
        first += 1
    return first


def _bisect(sign, limit: int) -> int:
    low, high = 0, limit  # sign(low) < 0 (or low = 0), sign(high) >= 0
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if sign(middle) < 0 else (low, middle)
    return high


def crossing(scenario, unknown: str, lhs: str, rhs: str) -> tuple[float | None, int | None]:
    """``(exact, first whole)`` value of ``unknown`` at which ``lhs`` reaches ``rhs``; the
    exact one is None where the law has no closed form (or no positive root).

    Example: ``crossing(s, "b", "t_compute", "t_memory")`` is the crossover batch.
    """
    exact = _positive(_root(scenario, f"balance:{unknown}:{lhs}:{rhs}"))
    return exact, first_integer(scenario, unknown, lhs, rhs)


#: at most this many whole steps from the closed-form root to the largest value that fits
_ROUNDING_STEPS = 16


def max_fitting(scenario, unknown: str = "b") -> tuple[float | None, int | None]:
    """``(exact, largest whole)`` ``unknown`` whose footprint fits the capacity: 0 if none
    does, None if every value does (the footprint does not grow with it).

    The exact value solves footprint = capacity in closed form (``fit:`` spec); the whole one
    is its floor, checked on the compiled footprint at the neighbours.
    """
    card = scenario.card
    if card["footprint"] is None:
        raise InvalidParameter(f"the {card['law']} law has no footprint to fit in a capacity")
    _check_unknown(scenario, unknown)
    gap = f"gap:{card['footprint']}:{card['capacity']}"

    def fits(x):
        return scenario.call(gap, **{unknown: x})[gap] <= 0

    root = _root(scenario, f"fit:{unknown}")
    exact = _positive(root)
    if math.isnan(root):
        if not fits(1):
            return None, 0
        low, high = 1, LIMIT  # fits(low); search the last that fits
        if fits(high):
            return None, None  # the footprint never reaches the capacity: no limit
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if fits(middle) else (low, middle)
        return None, low
    if exact is None:
        return None, 0
    best = math.floor(exact + 1e-9 * exact)
    if best >= 2**52:  # floats no longer tell neighbouring whole numbers apart: the floor
        return exact, best
    # the closed form is exact; these steps only undo rounding in it, so a few suffice
    for _ in range(_ROUNDING_STEPS):
        if best < 1 or fits(best):
            break
        best -= 1
    for _ in range(_ROUNDING_STEPS):
        if not fits(best + 1):
            break
        best += 1
    return exact, max(best, 0)
