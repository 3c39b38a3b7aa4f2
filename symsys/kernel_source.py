"""What a kernel computes: from a law and its output specs to expressions and generated source.

This module and the laws, the symbol table, the calculus and the compiler decide the code of a
kernel; :func:`symsys.kernels.fingerprint` hashes exactly these files, so a change here (and
only a change to one of them) retires the kernels compiled before it. Where kernels are kept
and how they are checked is :mod:`symsys.kernels`' business, outside that hash.

A kernel is asked for by a law and a tuple of output *specs*, plain strings that say what to
compute from the law, so that no solver holds a ``build()`` of its own:

- ``"T"``: an output or derived result of the law, flattened to its inputs; ``"*"``: every
  output of the law, in its order;
- ``"d:left:beta:T"`` / ``"d:right:beta:T"``: the exact one-sided partial derivative in
  ``beta`` of any single spec (here ``T``; ``"d:right:beta:fit:b"`` differentiates a root);
- ``"gap:t_compute:t_memory"``: the difference of two outputs (its sign picks a regime);
- ``"balance:b:t_compute:t_memory"``: the unique closed-form root in ``b`` of ``a = b``;
- ``"fit:b"``: the balance of the law's footprint and its capacity in ``b`` (what fits);
- ``"inverse:beta:T"``: every regime branch of ``T = y_target`` solved for ``beta``, each as
  ``inverse:beta:T#i`` plus the sides ``#i.side.j`` (each >= 0 where the branch holds) and
  scales ``#i.scale.j`` of the conditions that select it (checked by the caller, to rounding);
  ``inverse:beta:T#none`` (NaN) when sympy finds no closed form at all.

A ``variant`` (e.g. ``"dense"``) applies the law's named specialisation to every expression
first. The generated source also stores the law's card (:meth:`Law.card`: roles, regimes,
levers, units) so a cold process can label and check results without sympy, and
``EXPR_HASH``, the hash of its expressions, argument order and output order.
"""

from __future__ import annotations

import hashlib

TARGET = "y_target"  # the extra argument of inverse kernels


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def expr_hash(exprs, args, outputs) -> str:
    import sympy as sp

    return digest(repr((tuple(sp.srepr(e) for e in exprs), tuple(a.name for a in args),
                         tuple(outputs))))


# --- from specs to expressions ------------------------------------------------------------------
def expressions_of(law, specs: tuple[str, ...], variant: str | None):
    """``(exprs, args, output_names)`` of ``specs``: args are the law's inputs the expressions
    use, in the law's order, then the target of inverse specs."""
    import sympy as sp

    from symsys import derive

    special = law.variants[variant] if variant else (lambda e: e)
    exprs, names = [], []
    for spec in specs:
        if spec == "*":
            exprs += [special(law.expr(o)) for o in law.outputs]
            names += [o.name for o in law.outputs]
        elif spec.startswith("inverse:"):
            _, x, of = spec.split(":", 2)
            target = sp.Symbol(TARGET, positive=True)
            try:
                branches = derive.solve_for(_expr(law, of, special), target, law.symbol(x))
            except NotImplementedError:  # transcendental in x: the caller says so
                exprs.append(sp.nan)
                names.append(f"{spec}#none")
                continue
            for i, (solution, conditions) in enumerate(branches):
                exprs.append(solution)
                names.append(f"{spec}#{i}")
                for j, c in enumerate(conditions):
                    sign = 1 if isinstance(c, sp.GreaterThan) else -1  # >= 0 after the sign
                    exprs += [sign * (c.lhs - c.rhs), abs(c.lhs) + abs(c.rhs)]
                    names += [f"{spec}#{i}.side.{j}", f"{spec}#{i}.scale.{j}"]
        else:
            exprs.append(_expr(law, spec, special))
            names.append(spec)
    used = set().union(*(e.free_symbols for e in exprs)) if exprs else set()
    args = [s for s in law.inputs if s in used]
    extra = sorted((s for s in used if s.name == TARGET), key=lambda s: s.name)
    return exprs, (*args, *extra), names


def expressions(law, specs, variant: str | None = None) -> dict:
    """The sympy expressions of ``specs`` of ``law`` by output name (imports sympy): what a
    kernel computes, for printing."""
    exprs, _, names = expressions_of(law, tuple(specs), variant)
    return dict(zip(names, exprs))


def _expr(law, spec: str, special):
    """The one expression of a single-output spec."""
    from symsys import derive

    kind, _, rest = spec.partition(":")
    if not rest:
        return special(law.expr(kind))
    if kind == "d":
        side, x, of = rest.split(":", 2)
        return derive.diff_expr(_expr(law, of, special), law.symbol(x), side)
    if kind == "gap":
        a, b = rest.split(":")
        return _expr(law, a, special) - _expr(law, b, special)
    if kind in ("balance", "fit"):
        x, lhs, rhs = (rest.split(":") if kind == "balance" else
                       (rest, law.footprint.name, law.capacity.name))
        difference = _expr(law, lhs, special) - _expr(law, rhs, special)
        return _unique_root(law, difference, law.symbol(x), spec)
    raise ValueError(f"kernel spec {spec!r}: unknown kind {kind!r}")


def _unique_root(law, difference, x, spec: str):
    """The one closed-form root of ``difference`` in ``x``; NaN (the solvers then search
    numerically) when sympy finds none or several."""
    import sympy as sp

    try:
        solutions = sp.solve(difference, x)
    except NotImplementedError:  # transcendental (an MoE step's experts touched in b)
        return sp.nan
    return sp.simplify(solutions[0]) if len(solutions) == 1 else sp.nan


def generate_source(key: str, law, specs, variant, scalar: bool, built=None) -> str:
    """The Python source of the kernel ``key``: plain data (specs, arguments, outputs, the
    law's card, constant outputs, the expression hash), then the lambdified function."""
    from symsys.compile import compile_exprs

    exprs, args, outputs = built or expressions_of(law, specs, variant)
    compiled = compile_exprs(exprs, args, scalar=scalar)
    constants = {name: float(e) for name, e in zip(outputs, exprs) if e.is_number}
    return (f"# symsys kernel {key}: generated from the laws, do not edit\n"
            f"SPECS = {tuple(specs)!r}\nVARIANT = {variant!r}\n"
            f"ARGS = {tuple(a.name for a in args)!r}\nOUTPUTS = {tuple(outputs)!r}\n"
            f"META = {law.card()!r}\n"
            f"CONSTANTS = {constants!r}\n"
            f"EXPR_HASH = {expr_hash(exprs, args, outputs)!r}\n\n{compiled.source}")
