"""Evaluate any law on Quantities (scalars or numpy arrays) through its compiled form.

This is the generic boundary: inputs are pint Quantities named by their symbols, converted
once to canonical magnitudes; the compiled function broadcasts; outputs come back as
Quantities in each symbol's canonical unit, plus the regime (which term of the law's max()
binds) as an array of labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from symsys import symbols as S
from symsys.compile import compile_exprs
from symsys.errors import InvalidParameter, suggest
from symsys.laws import Law, get
from symsys.units import to_magnitude, to_quantity


def regime_labels(law: Law, values: Mapping) -> np.ndarray:
    """Label of the binding max() term at each point; ties go to the first-listed regime."""
    labels = [label for label, _ in law.regimes]
    times = np.stack([np.asarray(values[term.name], dtype=float) for _, term in law.regimes])
    return np.asarray(np.asarray(labels, dtype=object)[np.argmax(times, axis=0)], dtype=object)


def magnitudes(law: Law, inputs: Mapping, needed=None) -> list:
    """Canonical magnitudes of ``inputs`` in ``law.inputs`` order (only the ``needed`` ones,
    default all), defaults filled in."""
    known = {s.name for s in law.inputs}
    unknown = set(inputs) - known
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidParameter(
            f"{law.name} has no input {name!r}; its inputs are {', '.join(sorted(known))}."
            + suggest(name, known)
        )
    values = []
    for symbol in law.inputs:
        if needed is not None and symbol not in needed:
            continue
        if symbol.name in inputs:
            value = to_magnitude(inputs[symbol.name], S.info(symbol).unit, symbol.name)
        elif symbol in law.defaults:
            value = float(law.defaults[symbol])
        else:
            raise InvalidParameter(f"{law.name}: missing input {symbol.name!r} "
                                   f"({S.info(symbol).meaning}, in {S.info(symbol).unit})")
        values.append(value)
    return values


@dataclass(frozen=True)
class LawResult(Mapping):
    """Outputs of one evaluation, as Quantities, with the regime when the law has one."""

    law: Law
    values: dict

    def __getitem__(self, name):
        return self.values[name]

    def __iter__(self):
        return iter(self.values)

    def __len__(self):
        return len(self.values)

    def __getattr__(self, name):
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def _repr_latex_(self) -> str:
        rows = [
            f"{self.law.latex_of(self.law.symbol(name))} &= {value:~L}"
            for name, value in self.values.items()
            if name != "regime" and np.ndim(value.magnitude) == 0
        ]
        return "$$\\begin{aligned}" + " \\\\ ".join(rows) + "\\end{aligned}$$"


def evaluate(law: Law | str, outputs=None, **inputs) -> LawResult:
    """Evaluate ``law`` (or its name) on Quantities named by symbol, e.g.

    ``evaluate("roofline", Pi=Q_(989.4, "TFLOP/s"), beta=Q_(3.35, "TB/s"),
    F=Q_(16.06, "GFLOP"), Q=Q_(16.06, "GB"))``.
    """
    law = get(law) if isinstance(law, str) else law
    names = outputs or [s.name for s in law.outputs] + [d.symbol.name for d in law.derived]
    symbols = [law.symbol(n) for n in names]
    # the regime is reported when the caller gave what the law's max() terms need
    given = {n for n in inputs} | {s.name for s in law.defaults}
    with_regime = law.regimes and all(
        {s.name for s in law.expr(term).free_symbols} <= given for _, term in law.regimes)
    regime_terms = [term for _, term in law.regimes if term not in symbols] if with_regime else []
    exprs = [law.expr(s) for s in (*symbols, *regime_terms)]
    needed = set().union(*(e.free_symbols for e in exprs))
    args = tuple(s for s in law.inputs if s in needed)
    raw = compile_exprs(exprs, args)(*magnitudes(law, inputs, needed))
    by_name = {s.name: r for s, r in zip((*symbols, *regime_terms), raw)}
    values = {s.name: to_quantity(by_name[s.name], S.info(s).unit) for s in symbols}
    if with_regime:
        labels = regime_labels(law, by_name)
        values["regime"] = labels.item() if labels.ndim == 0 else labels.astype(str)
    return LawResult(law, values)
