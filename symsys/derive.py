"""Calculus over laws: exact derivatives, elasticities, one-sided derivatives at max() kinks,
regime branches and inverse solutions.

Pure sympy. ``diff(expr, x)`` never leaves a ``Heaviside(0) = 1/2`` in its result: the
derivative of ``Max(a, b)`` is resolved to the side the caller asks for. Moving ``x`` up
("right") from a kink where ``a = b``, the branch that grows faster takes over, so the right
derivative of ``Max`` is ``max(a', b')`` and the left one ``min(a', b')``; away from a kink
both sides agree with the ordinary derivative.
"""

from __future__ import annotations

import sympy as sp

SIDES = ("left", "right")
#: relative difference of two max() arguments below which they are taken as equal (a kink)
KINK_TOLERANCE = sp.Float(1e-12)


def _check_side(side: str) -> None:
    if side not in SIDES:
        from symsys.errors import InvalidParameter

        raise InvalidParameter(f"side={side!r}: expected one of {SIDES}")


class OneSidedStep(sp.Function):
    """Heaviside with its value at the kink chosen: 1 where ``u > scale``, 0 where
    ``u < -scale``, and ``at_zero`` (the one-sided value) in between.

    A Function rather than a Piecewise so sympy keeps it as written (a Piecewise whose
    conditions hold Abs() sends sympy's simplifier into recursion); compile.py prints it.
    """

    nargs = 3

    @classmethod
    def eval(cls, u, scale, at_zero):
        if u.is_number and scale.is_number:
            if u > scale:
                return sp.Integer(1)
            if u < -scale:
                return sp.Integer(0)
            if at_zero.is_number:
                return at_zero
        return None

    def fdiff(self, argindex=1):
        return sp.Integer(0)  # piecewise constant: no derivative away from the step

    def _latex(self, printer):
        u, _, at_zero = (printer._print(a) for a in self.args)
        return rf"\theta_{{\pm}}\left({u}\right)"


def _resolve_heaviside(derivative: sp.Expr, x: sp.Symbol, side: str) -> sp.Expr:
    """Give every ``Heaviside(u)`` its one-sided value at ``u = 0``.

    At ``u = 0`` a step to the right in ``x`` lands on ``u > 0`` iff ``du/dx > 0``.
    """

    def one_sided(u, *_):
        slope = sp.diff(u, x)
        grows = slope > 0 if side == "right" else slope < 0
        at_zero = sp.Piecewise((1, grows), (0, True))
        # "at the kink" means equal to rounding: within KINK_TOLERANCE of the terms' scale,
        # so a kink reached by floating-point arithmetic is reported, not missed by 1 ulp
        scale = KINK_TOLERANCE * sp.Add(*(sp.Abs(t) for t in sp.Add.make_args(u)))
        return OneSidedStep(u, scale, at_zero)

    return derivative.replace(sp.Heaviside, one_sided)


def diff(expr: sp.Expr, x: sp.Symbol, side: str = "right") -> sp.Expr:
    """Exact partial derivative of ``expr`` in ``x``; at a max()/min() kink, the ``side`` one."""
    _check_side(side)
    return _resolve_heaviside(sp.diff(expr, x), x, side)


def one_sided(expr: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    """``(left, right)`` derivatives of ``expr`` in ``x``; equal wherever ``expr`` is smooth."""
    return diff(expr, x, "left"), diff(expr, x, "right")


def elasticity(expr: sp.Expr, x: sp.Symbol, side: str = "right") -> sp.Expr:
    """d ln(expr) / d ln(x) = (d expr / dx) * x / expr: the % change of expr per % of x."""
    return diff(expr, x, side) * x / expr


def branches(expr: sp.Expr) -> list[tuple[sp.Expr, tuple[sp.Basic, ...]]]:
    """Split ``expr`` at each Max/Min into smooth branches with the conditions selecting them.

    ``Max(a, b) + c`` gives ``[(a + c, (a >= b,)), (b + c, (b >= a,))]``.
    """
    kinks = sorted(expr.atoms(sp.Max, sp.Min), key=sp.count_ops)
    if not kinks:
        return [(expr, ())]
    kink = kinks[0]  # innermost first: it has the fewest operations
    out = []
    for chosen in kink.args:
        others = [a for a in kink.args if a != chosen]
        relation = sp.Ge if isinstance(kink, sp.Max) else sp.Le
        conditions = tuple(relation(chosen, other) for other in others)
        for branch, more in branches(expr.xreplace({kink: chosen})):
            out.append((branch, conditions + more))
    return out


def solve_for(expr: sp.Expr, target: sp.Expr, x: sp.Symbol) -> list[tuple[sp.Expr, tuple]]:
    """Every closed-form ``x`` with ``expr = target``, branch by branch.

    Returns ``[(solution, conditions), ...]``: a solution is valid where its branch's
    conditions hold, which the caller checks numerically (:mod:`symsys.solvers.synthesis`).
    """
    found = []
    for branch, conditions in branches(expr):
        if not branch.has(x):
            continue
        for solution in sp.solve(sp.Eq(branch, target), x):
            found.append((solution, conditions))
    return found
