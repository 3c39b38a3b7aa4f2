"""Serving a request: prefill, then one decode step per further output token.

Token ``j`` (j = 1 .. n - 1; the prefill produces token 0) is decoded with ``s_p + j`` cached
tokens. Both of the decode step's times are linear in the positions the step attends to,
s_kv, which grow with the context (as the context itself with no sliding window; capped at w
in the windowed layers), so their difference changes sign at most once, at ``s_x``: the sum of
the step latencies over a growing context is two closed-form sums, one per regime, split where
the regime flips.
"""

from __future__ import annotations

import sympy as sp

from symsys.laws.base import Derived, Law
from symsys.laws.inference import decode, dense
from symsys.symbols import (
    E_hit,
    L,
    L_w,
    S_c,
    S_m,
    T,
    g_s,
    j,
    j_0,
    j_1,
    s,
    s_cross,
    s_kv,
    s_p,
    t_compute,
    t_memory,
    w_sw,
)


def _through(held, term) -> sp.Expr:
    """The decode law's ``term`` flattened to its inputs, except the outputs ``held``."""
    flat: dict = {}
    for output, rhs in decode.definitions:
        flat[output] = output if output in held else rhs.xreplace(flat)
    return flat[term]


def _triangle(n):
    """1 + 2 + ... + n, and 0 for n <= 0."""
    n = sp.Max(n, 0)
    return n * (n + 1) / 2


#: sum over j = j_0 .. j_1 of the positions attended at context s_p + j, s_kv(s_p + j) =
#: (s_p + j) - (L_w/L) max(s_p + j - w, 0) (the decode law's s_kv): the contexts' sum, less
#: the L_w/L share of the positions beyond the window, 1 + 2 + ... at each step past it
_ATTENDED = (sp.factor(sp.summation(s_p + j, (j, j_0, j_1)))
             - L_w / L * (_triangle(s_p + j_1 - w_sw) - _triangle(s_p + j_0 - 1 - w_sw)))


#: what a decode step costs besides its roofline max(): the law's T less that max (the fixed
#: overhead and, calibrated, each kernel launch's), taken from the law, not retyped
_OVERHEAD = decode.expr(T) - sp.Max(decode.expr(t_compute), decode.expr(t_memory))


def _regime_sum(term):
    """Sum over j = j_0 .. j_1 of the decode step's ``term`` time plus its overhead at s_p + j.

    The step depends on the context only through the positions it attends to, s_kv, and is
    linear in them (both checked here, so the closed form cannot silently go wrong if the
    decode law changes): step = step(s_kv = 0) + s_kv step', and the sum is
    (j_1 - j_0 + 1) step(s_kv = 0) + step' * (the sum of s_kv over the steps).
    """
    step = _through({s_kv}, term) + _OVERHEAD
    if s in step.free_symbols:
        raise ValueError(f"decode {term} depends on the context s other than through s_kv")
    slope = sp.diff(step, s_kv)
    if sp.diff(slope, s_kv) != 0:
        raise ValueError(f"decode {term} is not linear in the attended positions s_kv")
    return (j_1 - j_0 + 1) * step.xreplace({s_kv: 0}) + sp.simplify(slope) * _ATTENDED


def _crossing(_law) -> sp.Expr:
    """The context s at which the decode law's compute and memory times are equal.

    Both times are linear in the attended positions s_kv: solved for s_kv, then s_kv turned
    back into a context. Below the window s_kv = s; past it s_kv grows by (L - L_w)/L per
    token, so the crossing is that much further out, and never comes when every layer is
    windowed (L_w = L: the step stops changing at s = w).

    The experts touched, E_hit = E (1 - (1 - k/E)^b), does not depend on s: it is held as a
    symbol while solving and put back after. Solved through it, sympy would clear the
    fraction into E^b and (E - k)^b, which overflow a float (and exact integers) for an MoE
    model at a large batch.
    """
    held = {E_hit, s_kv}
    (attended,) = sp.solve(sp.Eq(_through(held, t_compute), _through(held, t_memory)), s_kv)
    context = sp.Piecewise((attended, attended <= w_sw), (sp.oo, L_w >= L),
                           (attended + L_w * (attended - w_sw) / (L - L_w), True))
    return context.xreplace({E_hit: decode.expr(E_hit)})


_DECODE_INPUTS = tuple(x for x in decode.inputs if x != s)

decode_sums = Law(
    name="decode_sums",
    title="Decode over a growing context (closed-form sums)",
    summary=(
        "Generating tokens j_0 .. j_1 of a request whose prompt has s_p tokens costs the sum of "
        "the decode step latencies at contexts s_p + j. In each regime the step latency is "
        "linear in the positions it attends to (the context, capped at the window w in "
        "sliding-window layers), so each sum is a polynomial in j_0 and j_1 (with the steps "
        "past the window counted apart); the request's total "
        "uses the memory-bound sum up to the crossing context s_x and the compute-bound sum "
        "after it (or the other way round, by the sign of the slopes)."
    ),
    inputs=(*_DECODE_INPUTS, s_p, j_0, j_1),
    definitions=(
        (S_c, _regime_sum(t_compute)),
        (S_m, _regime_sum(t_memory)),
        # which side of s_x is compute-bound: the sign of d(t_compute - t_memory)/ds, taken
        # below the window (past it the windowed layers stop adding: the slope shrinks by
        # (L - L_w)/L and keeps its sign)
        (g_s, sp.diff(_through({s_kv}, t_compute) - _through({s_kv}, t_memory), s_kv)),
    ),
    derived=(Derived(s_cross, _crossing, solves=(t_compute, t_memory), unknown=s),),
    regimes=(),
    defaults=dict(decode.defaults),
    variants={"dense": dense},
    notes=("The crossing s_x is solved from the decode law (t_compute = t_memory in s); when "
           "the two slopes are equal the regime never changes.",),
)
