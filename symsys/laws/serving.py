"""Serving a request: prefill, then one decode step per further output token.

Token ``j`` (j = 1 .. n - 1; the prefill produces token 0) is decoded with ``s_p + j`` cached
tokens. Both of the decode step's times are linear in the context, so their difference changes
sign at most once, at ``s_x``: the sum of the step latencies over a growing context is two
closed-form sums (sympy ``summation``), one per regime, split where the regime flips.
"""

from __future__ import annotations

import sympy as sp

from symsys.laws.base import Derived, Law
from symsys.laws.inference import decode, dense
from symsys.symbols import (
    E_hit,
    S_c,
    S_m,
    g_s,
    j,
    j_0,
    j_1,
    s,
    s_cross,
    s_p,
    t_compute,
    t_memory,
    t_o,
)


def _regime_sum(term):
    """Sum over j = j_0 .. j_1 of the decode step's ``term`` time plus overhead at s_p + j.

    The step is linear in the context (checked here, so the closed form cannot silently go
    wrong if the decode law changes): step(s) = step(0) + s step'(s), and the sum is
    (j_1 - j_0 + 1) step(0) + step' * summation(s_p + j).
    """
    step = decode.expr(term) + t_o
    slope = sp.diff(step, s)
    if sp.diff(slope, s) != 0:
        raise ValueError(f"decode {term} is not linear in the context s")
    contexts = sp.factor(sp.summation(s_p + j, (j, j_0, j_1)))
    return (j_1 - j_0 + 1) * step.xreplace({s: 0}) + sp.simplify(slope) * contexts


def _crossing(_law) -> sp.Expr:
    """The context s at which the decode law's compute and memory times are equal.

    The experts touched, E_hit = E (1 - (1 - k/E)^b), does not depend on s: it is held as a
    symbol while solving and put back after. Solved through it, sympy would clear the
    fraction into E^b and (E - k)^b, which overflow a float (and exact integers) for an MoE
    model at a large batch.
    """
    flat: dict = {}
    for output, rhs in decode.definitions:
        flat[output] = output if output == E_hit else rhs.xreplace(flat)
    (solution,) = sp.solve(sp.Eq(flat[t_compute], flat[t_memory]), s)
    return solution.xreplace({E_hit: decode.expr(E_hit)})


_DECODE_INPUTS = tuple(x for x in decode.inputs if x != s)

decode_sums = Law(
    name="decode_sums",
    title="Decode over a growing context (closed-form sums)",
    summary=(
        "Generating tokens j_0 .. j_1 of a request whose prompt has s_p tokens costs the sum of "
        "the decode step latencies at contexts s_p + j. In each regime the step latency is "
        "linear in the context, so each sum is a polynomial in j_0 and j_1; the request's total "
        "uses the memory-bound sum up to the crossing context s_x and the compute-bound sum "
        "after it (or the other way round, by the sign of the slopes)."
    ),
    inputs=(*_DECODE_INPUTS, s_p, j_0, j_1),
    definitions=(
        (S_c, _regime_sum(t_compute)),
        (S_m, _regime_sum(t_memory)),
        # which side of s_x is compute-bound: the sign of d(t_compute - t_memory)/ds
        (g_s, sp.diff(decode.expr(t_compute) - decode.expr(t_memory), s)),
    ),
    derived=(Derived(s_cross, _crossing, solves=(t_compute, t_memory), unknown=s),),
    regimes=(),
    defaults=dict(decode.defaults),
    variants={"dense": dense},
    notes=("The crossing s_x is solved from the decode law (t_compute = t_memory in s); when "
           "the two slopes are equal the regime never changes.",),
)
