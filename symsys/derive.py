"""Calculus over laws: exact derivatives, elasticities, one-sided derivatives at max() kinks,
regime branches and inverse solutions.

Pure sympy. A law with a max()/min() is smooth on each side of its kinks, so
:func:`diff` and :func:`elasticity` split it there (:func:`branches`) and return a
:class:`PiecewiseDerivative`: one clean expression per branch, labelled with the law's
regime and printed in the law's notation. At a kink itself the ``side`` picks the branch:
moving ``x`` up ("right") from a tie ``a = b`` of ``Max(a, b)``, the argument that grows
faster takes over, so the right derivative of ``Max`` is ``max(a', b')`` and the left one
``min(a', b')``.

Compiled kernels need the derivative as one expression instead; :func:`diff_expr` builds it
from ``sympy.diff``, giving each ``Heaviside`` its one-sided value (:class:`OneSidedStep`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import sympy as sp

from symsys import symbols as S

SIDES = ("left", "right")
#: relative difference of two max() arguments below which they are taken as equal (a kink)
KINK_TOLERANCE = sp.Float(1e-12)
#: derivatives with at most this many operations are also tried through sympy.simplify,
#: which is worth its cost on short expressions (an elasticity that cancels to -1) only
_SIMPLIFY_OPS = 60


def _invalid(message: str):
    from symsys.errors import InvalidParameter

    return InvalidParameter(message)


def _check_side(side: str) -> None:
    if side not in SIDES:
        raise _invalid(f"side={side!r}: expected one of {SIDES}")


# --- the one-expression form compiled kernels evaluate ------------------------------------
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
        # printed as its definition (no undefined step symbol, no float tolerance)
        u, _, at_zero = (printer._print(a) for a in self.args)
        return (rf"\begin{{cases}} 1 & {u} > 0 \\ {at_zero} & {u} = 0 \\ 0 & {u} < 0 "
                r"\end{cases}")


def _resolve_heaviside(derivative: sp.Expr, x: sp.Symbol, side: str) -> sp.Expr:
    """Give every ``Heaviside(u)`` its one-sided value at ``u = 0``.

    At ``u = 0`` a step to the right in ``x`` lands on ``u > 0`` iff ``du/dx > 0``.
    """

    def one_sided(u, *_):
        # u may have kinks of its own (a max() inside a max(): the window inside the roofline)
        slope = _resolve_heaviside(sp.diff(u, x), x, side)
        grows = slope > 0 if side == "right" else slope < 0
        at_zero = sp.Piecewise((1, grows), (0, True))
        # "at the kink" means equal to rounding: within KINK_TOLERANCE of the terms' scale,
        # so a kink reached by floating-point arithmetic is reported, not missed by 1 ulp
        scale = KINK_TOLERANCE * sp.Add(*(sp.Abs(t) for t in sp.Add.make_args(u)))
        return OneSidedStep(u, scale, at_zero)

    return derivative.replace(sp.Heaviside, one_sided)


def diff_expr(expr: sp.Expr, x: sp.Symbol, side: str = "right") -> sp.Expr:
    """The ``side`` derivative of ``expr`` in ``x`` as one sympy expression, what compiled
    kernels evaluate (its steps carry a float tolerance; print :func:`diff` instead).

    Parameters
    ----------
    expr : the expression to differentiate.
    x : the symbol to differentiate in.
    side : "right" or "left": the one-sided value taken at a max()/min() kink.
    """
    _check_side(side)
    return _resolve_heaviside(sp.diff(expr, x), x, side)


# --- smooth branches ----------------------------------------------------------------------
def _split(expr: sp.Expr, x: sp.Symbol | None = None) -> list[tuple[sp.Expr, tuple, tuple]]:
    """:func:`branches`, each with the ``(kink, chosen argument)`` substitutions, in the
    order made, that turned ``expr`` into it (replayed on the law's terms to name them).
    With ``x``, only the kinks that move with ``x`` are split: a max() of other inputs (a
    sliding window's max(0, s - w) in a derivative in b) is smooth in x and stays."""
    kinks = sorted((k for k in expr.atoms(sp.Max, sp.Min) if x is None or k.has(x)),
                   key=sp.count_ops)
    if not kinks:
        return [(expr, (), ())]
    kink = kinks[0]  # innermost first: it has the fewest operations
    out = []
    for chosen in kink.args:
        others = [a for a in kink.args if a != chosen]
        relation = sp.Ge if isinstance(kink, sp.Max) else sp.Le
        conditions = tuple(relation(chosen, other) for other in others)
        for branch, more, choices in _split(expr.xreplace({kink: chosen}), x):
            out.append((branch, conditions + more, ((kink, chosen), *choices)))
    return out


def branches(expr: sp.Expr) -> list[tuple[sp.Expr, tuple[sp.Basic, ...]]]:
    """Split ``expr`` at each Max/Min into smooth branches with the conditions selecting them.

    ``Max(a, b) + c`` gives ``[(a + c, (a >= b,)), (b + c, (b >= a,))]``.
    """
    return [(branch, conditions) for branch, conditions, _ in _split(expr)]


def _ordered(conditions: tuple) -> tuple | None:
    """``conditions`` as ``larger >= smaller`` relations without repeats; None when two of
    them contradict (``a >= b`` and ``b >= a`` for different a, b: a branch of zero width)."""
    pairs: list[tuple[sp.Expr, sp.Expr]] = []
    for condition in conditions:
        if condition is sp.true:
            continue
        if condition is sp.false:
            return None
        big, small = ((condition.lhs, condition.rhs) if isinstance(condition, sp.GreaterThan)
                      else (condition.rhs, condition.lhs))
        if (small, big) in pairs and big != small:
            return None
        if (big, small) not in pairs:
            pairs.append((big, small))
    return tuple(sp.Ge(big, small, evaluate=False) for big, small in pairs)


def _tidy(expr: sp.Expr) -> sp.Expr:
    """The shortest of a few equivalent forms of ``expr`` (fewest operations; ties keep
    sympy's own form, which is usually how the law reads)."""
    candidates = [expr, sp.factor_terms(expr)]
    if sp.count_ops(expr) <= _SIMPLIFY_OPS:
        candidates += [sp.simplify(expr), _grouped(expr)]
    return min(candidates, key=sp.count_ops)


def _grouped(expr: sp.Expr) -> sp.Expr:
    """``expr`` with its numerator's terms grouped by the symbols most of them share, as a
    person factors a sum: ``bytes_kv*e_kv*s + bytes_kv*e_kv`` becomes ``bytes_kv*e_kv*(s + 1)``."""
    numerator, denominator = sp.fraction(expr)
    terms = sp.Add.make_args(sp.expand(numerator))
    shared = [s for s in numerator.free_symbols if sum(t.has(s) for t in terms) > 1]
    shared.sort(key=lambda s: (-sum(t.has(s) for t in terms), s.name))
    return sp.collect(sp.Add(*terms), shared, func=sp.factor) / denominator


# --- where an expression comes from -------------------------------------------------------
@dataclass(frozen=True)
class _Source:
    """The law output an expression is (under ``variant``), so branches can be named."""

    law: object
    output: sp.Symbol
    variant: str | None

    def special(self, expr: sp.Expr) -> sp.Expr:
        return self.law.variants[self.variant](expr) if self.variant else expr


@lru_cache(maxsize=64)
def _flat_outputs(law, variant: str | None) -> dict[sp.Expr, sp.Symbol]:
    source = _Source(law, None, variant)
    flat: dict[sp.Expr, sp.Symbol] = {}
    for output in law.outputs:
        flat.setdefault(source.special(law.expr(output)), output)
    return flat


@lru_cache(maxsize=1024)
def _find_source(expr: sp.Expr) -> _Source | None:
    """The built-in law output that ``expr`` is, plain or in one of its variants."""
    from symsys.laws import ALL

    for law in ALL.values():
        if not expr.free_symbols <= set(law.inputs):
            continue
        for variant in (None, *law.variants):
            output = _flat_outputs(law, variant).get(expr)
            if output is not None:
                return _Source(law, output, variant)
    return None


def _resolve(target, x, of, variant) -> tuple[sp.Expr, sp.Symbol, _Source | None]:
    """``(expression, symbol, source)`` of what :func:`diff` was asked for."""
    from symsys.laws.base import Law

    if isinstance(target, Law):
        output = target.symbol(of if of is not None else _latency(target))
        if variant is not None and variant not in target.variants:
            valid = ", ".join(target.variants) or "none"
            raise _invalid(f"variant={variant!r}: law {target.name!r} has variants: {valid}")
        source = _Source(target, output, variant)
        return source.special(target.expr(output)), target.symbol(x), source
    if of is not None or variant is not None:
        raise _invalid(f"of={of!r}, variant={variant!r} name a law's output: pass the Law "
                       "itself, e.g. derive.diff(decode, 'b', of='T')")
    expr = sp.sympify(target)
    if isinstance(x, str):
        x = _symbol_named(x, expr)
    return expr, x, _find_source(expr)


def _latency(law) -> sp.Symbol:
    if law.latency is None:
        raise _invalid(f"law {law.name!r} has no latency output: give of=, one of "
                       + ", ".join(o.name for o in law.outputs))
    return law.latency


def _symbol_named(name: str, expr: sp.Expr) -> sp.Symbol:
    for symbol in expr.free_symbols:
        if symbol.name == name:
            return symbol
    if name in S.TABLE:
        return S.TABLE[name].symbol
    raise _invalid(f"x={name!r} is neither in the expression nor in the symbol table")


def _name_branch(source: _Source | None, choices: tuple, conditions: tuple):
    """``(regime, shown, names)``: the law's regime the branch lies in (or None), its
    conditions with each side that is one of the law's outputs written as that output's
    symbol, and ``(expression, symbol)`` of the output differentiated and
    its regime terms as they read in the branch, the output first (for the law's notation)."""
    if source is None:
        return None, conditions, ()

    def as_in_branch(expr):  # the same substitutions the branch went through
        for kink, chosen in choices:
            expr = expr.xreplace({kink: chosen})
        return expr

    law = source.law
    terms = [(label, as_in_branch(source.special(law.expr(term)))) for label, term in law.regimes]
    # an output that is a bare input (n_tok = b) would rename that input everywhere: skipped
    outputs = {as_in_branch(e): o for e, o in _flat_outputs(law, source.variant).items()
               if not e.is_Atom}
    outputs.update({form: term for (_, form), (_, term) in zip(terms, law.regimes, strict=True)})
    pairs = {(c.lhs, c.rhs) for c in conditions}
    regime = next((label for label, form in terms
                   if len(terms) > 1 and all((form, other) in pairs
                                             for other_label, other in terms
                                             if other_label != label)), None)
    shown = tuple(sp.Ge(outputs.get(c.lhs, c.lhs), outputs.get(c.rhs, c.rhs), evaluate=False)
                  for c in conditions)
    wanted = [source.output, *(term for _, term in law.regimes)]
    names = tuple((form, o) for form, o in outputs.items() if o in wanted)
    return regime, shown, tuple(sorted(names, key=lambda item: wanted.index(item[1])))


def _elasticity_in_notation(numerator: sp.Expr, names: tuple, plain: sp.Expr) -> sp.Expr | None:
    """The elasticity ``numerator / output`` written with the law's symbols: the output
    differentiated as its own symbol and its regime terms folded into the numerator
    (``-t_memory/T``), when that is shorter than ``plain``, its form in inputs."""
    (_, output), *terms = names
    candidates = []
    for sign in (1, -1):  # sympy spreads a leading minus over a sum, hiding the term in it
        folded = sign * numerator
        for form, term in terms:
            folded = folded.subs(form, term)
        candidates.append(_tidy(sign * folded / output))
    best = min(candidates, key=sp.count_ops)
    return best if sp.count_ops(best) < sp.count_ops(plain) else None


# --- piecewise results --------------------------------------------------------------------
@dataclass(frozen=True)
class Branch:
    """One smooth piece of a :class:`PiecewiseDerivative`.

    ``expr`` is the exact derivative (or elasticity) there; ``conditions`` the relations
    ``larger >= smaller`` between max()/min() arguments, over the inputs, that select it;
    ``shown`` the same relations in the law's notation (a side that is one of the law's
    outputs written as its symbol); ``regime`` the law's name of the regime, or None;
    ``notation`` an elasticity written with the law's outputs (``-t_memory/T``) where that
    is shorter, else None.
    """

    expr: sp.Expr
    conditions: tuple = ()
    shown: tuple = ()
    regime: str | None = None
    notation: sp.Expr | None = None

    @property
    def shown_expr(self) -> sp.Expr:
        """``expr`` as printed: ``notation`` where there is one, else ``expr``."""
        return self.expr if self.notation is None else self.notation


class PiecewiseDerivative:
    """An exact derivative or elasticity: one clean expression per smooth branch.

    ``str()`` and :meth:`latex` print it per branch in the law's notation (the symbol table's
    LaTeX names), labelled with the law's regimes where the branches are its regimes;
    ``result["Memory"]`` is one regime's expression; :meth:`at` evaluates it at a point,
    taking the active branch (the ``side`` one at a kink); :meth:`expr` is the single
    expression with one-sided steps that compiled kernels evaluate.

    Examples
    --------
    >>> from symsys.laws import roofline
    >>> print(elasticity(roofline, "beta", of="T").subs(t_o=0))
    d ln T/d ln beta, by branch (at a kink: the one beta moves into as it grows):
      Compute (t_compute >= t_memory):  0
      Memory (t_memory >= t_compute):  -1
    """

    def __init__(self, function: sp.Expr, x: sp.Symbol, side: str, pieces,
                 name: sp.Symbol | None = None, elasticity: bool = False):
        self.function, self.x, self.side, self.name = function, x, side, name
        self.branches: tuple[Branch, ...] = tuple(pieces)
        self.elasticity = elasticity

    # --- values ---------------------------------------------------------------------------
    def expr(self, side: str | None = None) -> sp.Expr:
        """The result as one sympy expression, one-sided at kinks (``side``, default the
        one it was taken for): what :mod:`symsys.kernels` compiles."""
        derivative = diff_expr(self.function, self.x, side or self.side)
        return derivative * self.x / self.function if self.elasticity else derivative

    def __getitem__(self, regime: str) -> sp.Expr:
        """The expression of the one branch labelled ``regime``."""
        found = [b.expr for b in self.branches if b.regime == regime]
        if len(found) != 1:
            labels = sorted({str(b.regime) for b in self.branches})
            raise _invalid(f"regime {regime!r}: {len(found)} branches carry it; the "
                           f"branches are labelled {', '.join(labels)}")
        return found[0]

    def _point(self, values, named: dict, digits: int) -> dict:
        by_name = {s.name: s for s in self.function.free_symbols | {self.x}}
        point = {}
        for key, value in {**(values or {}), **named}.items():
            symbol = by_name.get(key) if isinstance(key, str) else key
            if symbol is None:
                continue  # a value of another input of the law: not needed here
            point[symbol] = (sp.Float(value, max(digits, 15)) if isinstance(value, float)
                             else sp.sympify(value))
        missing = sorted(s.name for s in (self.function.free_symbols | {self.x}) - set(point))
        if missing:
            raise _invalid(f"{self.title()}: no value for {', '.join(missing)}")
        return point

    def _holds(self, condition, point: dict, digits: int) -> bool:
        gap = (condition.lhs - condition.rhs).xreplace(point).evalf(digits)
        scale = KINK_TOLERANCE * (abs(condition.lhs.xreplace(point).evalf(digits))
                                  + abs(condition.rhs.xreplace(point).evalf(digits)))
        if abs(gap) > scale:
            return bool(gap > 0)
        # a tie: the relation survives the step to ``side`` iff its gap does not shrink there
        slope = sp.diff(condition.lhs - condition.rhs, self.x).xreplace(point).evalf(digits)
        return bool(slope >= 0) if self.side == "right" else bool(slope <= 0)

    def branch_at(self, values: dict | None = None, /, digits: int = 15, **named) -> Branch:
        """The branch active at the point (``values`` by symbol or name, or keywords); at a
        kink, the one ``x`` moves into on the ``side`` of this result."""
        point = self._point(values, named, digits)
        for branch in self.branches:
            if all(self._holds(c, point, digits) for c in branch.conditions):
                return branch
        raise _invalid(f"{self.title()}: no branch holds at {point}")

    def at(self, values: dict | None = None, /, digits: int = 15, **named) -> sp.Float:
        """The value at a point: ``values`` keyed by symbol or name, or keywords, in the
        symbol table's canonical units; ``digits`` significant digits (a sympy Float).

        >>> from symsys.laws import roofline
        >>> float(diff(roofline, "Q", of="T").at(Pi=1e15, beta=1e12, F=1, Q=1, eta_c=1,
        ...                                      eta_m=1, t_o=0))
        1e-12
        """
        point = self._point(values, named, digits)
        branch = self.branch_at(point, digits=digits)
        return branch.expr.xreplace(point).evalf(digits)

    def subs(self, values: dict | None = None, /, **named) -> PiecewiseDerivative:
        """The result with some inputs given (``values`` by symbol or name, or keywords);
        branches that can no longer hold are dropped."""
        by_name = {s.name: s for s in self.function.free_symbols}
        given = {(by_name.get(k, k) if isinstance(k, str) else k): sp.sympify(v)
                 for k, v in {**(values or {}), **named}.items()}
        pieces = []
        for b in self.branches:
            conditions = _ordered(tuple(c.xreplace(given) for c in b.conditions))
            if conditions is None:
                continue
            kept = [i for i, c in enumerate(b.conditions) if c.xreplace(given) is not sp.true]
            expr = _tidy(b.expr.xreplace(given))
            notation = None if b.notation is None else _tidy(b.notation.xreplace(given))
            if notation is not None and sp.count_ops(expr) <= sp.count_ops(notation):
                notation = None  # the values made the inputs' form the short one (-1)
            pieces.append(replace(b, expr=expr, conditions=conditions, notation=notation,
                                  shown=tuple(b.shown[i].xreplace(given) for i in kept)))
        return PiecewiseDerivative(self.function.xreplace(given), self.x, self.side,
                                   _merge(pieces), self.name, self.elasticity)

    # --- printing -------------------------------------------------------------------------
    def title(self) -> str:
        """``dT/db`` or ``d ln T/d ln beta``: what this is, in plain text."""
        name, x = ("" if self.name is None else self.name.name), self.x.name
        return f"d ln {name}/d ln {x}" if self.elasticity else f"d{name}/d{x}"

    def _title_latex(self) -> str:
        name = "" if self.name is None else _tex(self.name)
        log = r"\ln " if self.elasticity else ""
        return rf"\frac{{\partial {log}{name}}}{{\partial {log}{_tex(self.x)}}}"

    def _where(self, branch: Branch, latex: bool) -> str:
        show = _tex if latex else str
        text = (r",\ " if latex else ", ").join(show(c) for c in branch.shown)
        if branch.regime is None:
            return text
        return rf"\text{{{branch.regime}: }} {text}" if latex else f"{branch.regime} ({text})"

    def __str__(self) -> str:
        if len(self.branches) == 1 and not self.branches[0].conditions:
            return f"{self.title()} = {self.branches[0].shown_expr}"
        grows = "grows" if self.side == "right" else "shrinks"
        lines = [f"{self.title()}, by branch (at a kink: the one {self.x.name} moves into as "
                 f"it {grows}):"]
        lines += [f"  {self._where(b, False)}:  {b.shown_expr}" for b in self.branches]
        return "\n".join(lines)

    __repr__ = __str__

    def latex(self) -> str:
        """LaTeX in the law's notation: ``\\frac{\\partial T}{\\partial b} = \\begin{cases}
        ...`` with one line per branch and its regime and conditions."""
        if len(self.branches) == 1 and not self.branches[0].conditions:
            return f"{self._title_latex()} = {_tex(self.branches[0].shown_expr)}"
        rows = [f"{_tex(b.shown_expr)} & {self._where(b, True)}" for b in self.branches]
        return (f"{self._title_latex()} = \\begin{{cases}} " + r" \\ ".join(rows)
                + r" \end{cases}")

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"


def _tex(expr: sp.Basic) -> str:
    return sp.latex(expr, symbol_names=S.latex_names(), mul_symbol=" ")


def _merge(pieces: list[Branch]) -> list[Branch]:
    """One unconditional branch when every branch has the same expression (``x`` moves no
    kink's choice, e.g. dT/dt_o = 1), else ``pieces`` unchanged."""
    if pieces and all(p.expr == pieces[0].expr for p in pieces):
        # in inputs only: the law's outputs read differently in each branch
        return [Branch(pieces[0].expr)]
    return pieces


def _piecewise(target, x, side, of, variant, elasticity: bool) -> PiecewiseDerivative:
    _check_side(side)
    expr, x, source = _resolve(target, x, of, variant)
    pieces = []
    for branch, conditions, choices in _split(expr, x):
        conditions = _ordered(conditions)
        if conditions is None:
            continue
        regime, shown, names = _name_branch(source, choices, conditions)
        rate = sp.diff(branch, x) * x / branch if elasticity else sp.diff(branch, x)
        plain, notation = _tidy(rate), None
        if elasticity and names and names[0][1] == source.output:
            notation = _elasticity_in_notation(sp.diff(branch, x) * x, names, plain)
        pieces.append(Branch(plain, conditions, shown, regime, notation))
    if source is not None:  # the law's order of regimes, unnamed branches last
        order = [label for label, _ in source.law.regimes]
        pieces.sort(key=lambda b: order.index(b.regime) if b.regime in order else len(order))
    name = source.output if source is not None else (expr if expr.is_Symbol else None)
    return PiecewiseDerivative(expr, x, side, _merge(pieces), name, elasticity)


def diff(expr, x, side: str = "right", *, of=None, variant=None) -> PiecewiseDerivative:
    """Exact partial derivative, one expression per smooth branch (per regime of a law).

    Parameters
    ----------
    expr : a sympy expression, or a Law (then ``of`` names its output).
    x : the symbol to differentiate in (or its name).
    side : "right" or "left": which branch a point exactly at a max()/min() kink takes.
    of : with a Law, the output to differentiate (default: the law's latency).
    variant : with a Law, one of its exact specialisations, e.g. "dense" (E = k = 1).

    Examples
    --------
    >>> from symsys.laws import roofline
    >>> print(diff(roofline, "F", of="T"))
    dT/dF, by branch (at a kink: the one F moves into as it grows):
      Compute (t_compute >= t_memory):  1/(Pi*eta_c)
      Memory (t_memory >= t_compute):  0
    """
    return _piecewise(expr, x, side, of, variant, elasticity=False)


def one_sided(expr, x, *, of=None, variant=None) -> tuple[PiecewiseDerivative, ...]:
    """``(left, right)`` derivatives of ``expr`` in ``x`` (parameters as :func:`diff`): the
    same branches, differing only in which one a point exactly at a kink takes."""
    return (diff(expr, x, "left", of=of, variant=variant),
            diff(expr, x, "right", of=of, variant=variant))


def elasticity(expr, x, side: str = "right", *, of=None,
               variant=None) -> PiecewiseDerivative:
    """d ln(expr) / d ln(x) = (d expr / dx) * x / expr, the % change of expr per % of x,
    one expression per smooth branch (parameters as :func:`diff`)."""
    return _piecewise(expr, x, side, of, variant, elasticity=True)


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
