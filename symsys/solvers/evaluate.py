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

from symsys import kernels
from symsys import symbols as S
from symsys.errors import InvalidParameter, suggest
from symsys.laws import ALL, Law, get
from symsys.solvers import pickling  # noqa: F401 (a LawResult's law pickles by name)
from symsys.solvers.checks import FRACTIONS
from symsys.solvers.result import regime_codes
from symsys.units import to_magnitude, to_quantity


def regime_labels(law: Law, values: Mapping) -> np.ndarray:
    """Label of the binding max() term at each point; ties go to the first-listed regime."""
    regimes = [(label, term.name) for label, term in law.regimes]
    labels = np.asarray([label for label, _ in regimes], dtype=object)
    return np.asarray(labels[regime_codes(regimes, values)], dtype=object)


def magnitudes(law: Law, inputs: Mapping, needed=None, quantities=None) -> list:
    """Canonical magnitudes of ``inputs`` in ``law.inputs`` order (only the ``needed`` ones,
    default all), defaults filled in. Inputs named in ``quantities`` (default: all) are the
    user's and are converted from Quantities; the others are canonical magnitudes already."""
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
            given = inputs[symbol.name]
            if quantities is None or symbol.name in quantities:
                given = to_magnitude(given, S.info(symbol).unit, symbol.name)
            value = _checked(symbol, given, inputs[symbol.name])
        elif symbol in law.defaults:
            value = float(law.defaults[symbol])
        else:
            raise InvalidParameter(f"{law.name}: missing input {symbol.name!r} "
                                   f"({S.info(symbol).meaning}, in {S.info(symbol).unit})")
        values.append(value)
    return values




def _checked(symbol, value, given):
    """``value`` (a magnitude, scalar or array) inside the symbol's declared domain: finite,
    > 0 for positive symbols, >= 0 for nonnegative ones, whole for integer ones, (0, 1] for
    efficiencies. The message names the input, the (first) bad value and the domain."""
    meaning = S.info(symbol).meaning
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        array = np.asarray(None)
    if array.dtype.kind not in "iuf" or array.size == 0:
        raise InvalidParameter(f"{symbol.name}={given!r}: expected a number ({meaning})")
    checks = [(~np.isfinite(array), "must be finite, not NaN or inf")]
    if symbol.name in FRACTIONS:
        checks.append(((array <= 0) | (array > 1), "an efficiency must be in (0, 1] (1 = "
                                                    "speed of light)"))
    if symbol.is_nonnegative:  # 0 passes (a dense model has no experts); where the law
        checks.append((array < 0, f"must be >= 0 ({meaning})"))  # divides by it, see below
    if symbol.is_integer:
        checks.append((array != np.round(array), f"must be a whole number ({meaning})"))
    for bad, why in checks:
        if np.any(bad):
            if array.ndim == 0:
                shown = f"{given:~P}" if hasattr(given, "units") else repr(given)
                raise InvalidParameter(f"{symbol.name}={shown}: {why}")
            i = int(np.flatnonzero(bad)[0])
            shown = f"{array.flat[i].item()!r} (of {array.size} values, in {S.info(symbol).unit})"
            raise InvalidParameter(f"{symbol.name}[{i}]={shown}: {why}")
    return value


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
        """An output by attribute (``result.T``). Reads the instance's own ``values``: while
        pickle or copy rebuilds a result it has none yet, and ``self.values`` would be
        Mapping's method, so the lookups they make (``__setstate__``) must fail plainly."""
        values = self.__dict__.get("values")
        if name.startswith("__") or values is None or name not in values:
            raise AttributeError(name)
        return values[name]

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
    if isinstance(law, str):
        law = get(law)
    elif not isinstance(law, Law):
        raise InvalidParameter(f"law={law!r}: expected a law or its name; laws: "
                               + ", ".join(ALL))
    names = outputs or [s.name for s in law.outputs] + [d.symbol.name for d in law.derived]
    symbols = [law.symbol(n) for n in names]
    # the regime is reported when the caller gave what the law's max() terms need
    given = {n for n in inputs} | {s.name for s in law.defaults}
    with_regime = law.regimes and all(
        {s.name for s in law.expr(term).free_symbols} <= given for _, term in law.regimes)
    regime_terms = [term for _, term in law.regimes if term not in symbols] if with_regime else []
    fn = kernels.kernel(law, [s.name for s in (*symbols, *regime_terms)])
    args = tuple(law.symbol(a) for a in fn.args)
    with np.errstate(all="ignore"):  # non-finite results are reported just below
        raw = fn(*magnitudes(law, inputs, set(args)))
    for symbol, values in zip((*symbols, *regime_terms), raw):
        if not np.all(np.isfinite(values)):
            zeros = [s.name for s in args if s.name in inputs and np.any(
                to_magnitude(inputs[s.name], S.info(s).unit, s.name) == 0)]
            why = (f"{', '.join(zeros)} = 0 where the law divides by it" if zeros else
                   "an input far outside any physical range")
            raise InvalidParameter(
                f"{law.name}: {symbol.name} would be inf or NaN at "
                f"{np.size(values) - np.count_nonzero(np.isfinite(values))} of "
                f"{np.size(values)} points ({why})")
    by_name = {s.name: r for s, r in zip((*symbols, *regime_terms), raw)}
    values = {s.name: to_quantity(by_name[s.name], S.info(s).unit) for s in symbols}
    if with_regime:
        labels = regime_labels(law, by_name)
        values["regime"] = labels.item() if labels.ndim == 0 else labels.astype(str)
    return LawResult(law, values)
