"""The one lambdify call site of symsys.

``compile_exprs(exprs, args)`` turns sympy expressions into one numpy function of the
arguments in the given (symbol-table) order, with common subexpressions shared (``cse=True``)
and an in-process cache keyed on (expressions, arguments). Every output is broadcast to the
common shape of the inputs, so a derivative that is identically zero comes back as an array of
zeros, not a scalar 0. The generated source is kept for inspection (``.source``).
"""

from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter

from symsys import symbols as S


def _real(printer, expr):
    """conjugate(x) is x: every symbol of the table is real (sympy's derivative of a |u|
    scale leaves conjugates where it cannot prove that through the expression)."""
    return printer._print(expr.args[0])


class _Printer(NumPyPrinter):
    """numpy printer with elementwise max/min (``amax`` over a stacked tuple is slower)."""

    _print_conjugate = _real

    def _nested(self, fn: str, args) -> str:
        printed = [self._print(a) for a in args]
        out = printed[-1]
        for arg in reversed(printed[:-1]):
            out = f"numpy.{fn}({arg}, {out})"
        return out

    def _print_Max(self, expr):
        return self._nested("maximum", expr.args)

    def _print_Min(self, expr):
        return self._nested("minimum", expr.args)

    def _print_Piecewise(self, expr):
        # nested where() instead of select(): select broadcasts every branch and is ~20x slower
        # on the scalars of a single solve. Only total piecewise functions (last condition
        # True) are printed this way; others keep sympy's nan default.
        if expr.args[-1].cond is not sp.true:
            return super()._print_Piecewise(expr)
        out = self._print(expr.args[-1].expr)
        for piece in reversed(expr.args[:-1]):
            out = (f"numpy.where({self._print(piece.cond)}, {self._print(piece.expr)}, "
                   f"{out})")
        return out

    def _print_OneSidedStep(self, expr):
        u, scale, at_zero = (self._print(a) for a in expr.args)
        return (f"numpy.where({u} > {scale}, 1.0, numpy.where({u} < -({scale}), 0.0, "
                f"{at_zero}))")

    def _print_Heaviside(self, expr):
        # Only the two-argument form may reach numpy: the value at 0 must have been chosen
        # (derive.diff_expr does that); numpy's heaviside needs it explicitly anyway.
        if len(expr.args) != 2 or expr.args[1] is sp.S.Half:
            raise ValueError("Heaviside(0) must be resolved one-sided before compiling")
        return f"numpy.heaviside({self._print(expr.args[0])}, {self._print(expr.args[1])})"


class _ScalarPrinter(PythonCodePrinter):
    """Python-float printer: conditional expressions, max(), math functions."""

    _print_conjugate = _real

    def _print_OneSidedStep(self, expr):
        u, scale, at_zero = (self._print(a) for a in expr.args)
        return f"(1.0 if ({u}) > ({scale}) else 0.0 if ({u}) < -({scale}) else ({at_zero}))"


@dataclass(frozen=True)
class Compiled:
    """A compiled system: call with arrays (canonical magnitudes) in ``args`` order."""

    exprs: tuple[sp.Expr, ...]
    args: tuple[sp.Symbol, ...]
    raw: object  # the lambdified function

    @property
    def source(self) -> str:
        return inspect.getsource(self.raw)

    def __call__(self, *values) -> tuple[np.ndarray, ...]:
        arrays = [np.asarray(v, dtype=float) for v in values]
        shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        results = self.raw(*arrays)
        return tuple(_broadcast(r, shape) for r in results)


def _broadcast(result, shape) -> np.ndarray:
    result = np.asarray(result, dtype=float)
    if result.shape == shape:
        return result
    return np.broadcast_to(result, shape).copy()


@functools.lru_cache(maxsize=512)
def _compile(exprs: tuple[sp.Expr, ...], args: tuple[sp.Symbol, ...], scalar: bool) -> Compiled:
    missing = set().union(*(e.free_symbols for e in exprs)) - set(args)
    if missing:
        raise ValueError(f"expressions use {sorted(map(str, missing))}, not among the arguments")
    if scalar:
        # plain Python floats: max(), conditional expressions and the math module run a
        # single configuration ~25x faster than numpy's array machinery on 0-d values
        raw = sp.lambdify(args, list(exprs), modules=[{"math": math}, "math"],
                          printer=_ScalarPrinter, cse=True, docstring_limit=0)
    else:
        raw = sp.lambdify(args, list(exprs), modules="numpy", printer=_Printer, cse=True,
                          docstring_limit=0)
    return Compiled(exprs, args, raw)


def compile_exprs(exprs, args=None, scalar: bool = False) -> Compiled:
    """Compile ``exprs`` (one expression or a sequence) into a numpy function.

    ``args`` defaults to every free symbol, in symbol-table order (never ``free_symbols``
    order, which is a set). ``scalar=True`` compiles for Python floats (``.raw`` takes and
    returns floats): the fast path of single solves; the default broadcasts numpy arrays.
    """
    if isinstance(exprs, sp.Basic):
        exprs = (exprs,)
    exprs = tuple(sp.sympify(e) for e in exprs)
    if args is None:
        args = S.order(set().union(*(e.free_symbols for e in exprs)))
    return _compile(exprs, tuple(args), scalar)
