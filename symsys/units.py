"""The one pint unit registry of symsys, and the crossing between Quantities and numbers.

Inside compiled functions every value is a plain magnitude in its symbol's canonical unit
(seconds, bytes, FLOP, FLOP/s, B/s, ...). At the API boundary values are pint Quantities.
:func:`to_magnitude` and :func:`to_quantity` are the only two crossings, so a GB/GiB or
FLOP/byte mix-up is a :class:`~symsys.errors.UnitError` that names the argument.

The definitions added to pint's defaults live in ``units.txt`` beside this file.
"""

from __future__ import annotations

import functools
import math
import numbers
from pathlib import Path

import numpy as np
import pint

from symsys.errors import InvalidParameter, UnitError

_DEFINITIONS = Path(__file__).with_name("units.txt")

#: The unit registry shared by every symsys Quantity.
# units.txt redefines bit on purpose; pint's own disk cache of its default definitions
# (cache_folder) saves ~0.15 s of every cold start
ureg = pint.UnitRegistry(on_redefinition="ignore", cache_folder=":auto:")
ureg.load_definitions(str(_DEFINITIONS))
ureg._build_cache()  # drop dimensionalities cached while bit was still dimensionless
ureg.formatter.default_format = "~P"
Q_ = ureg.Quantity
Quantity = ureg.Quantity


@functools.lru_cache(maxsize=256)
def unit(text: str) -> pint.Unit:
    """The pint unit spelled ``text`` (``"TB/s"``, ``"FLOP"``, ``"1"``)."""
    return ureg.Unit("" if text == "1" else text)


def to_magnitude(value, expected: str, name: str):
    """Magnitude of ``value`` in the unit ``expected``; ``name`` is the argument it came from.

    A dimensionless ``expected`` ("1") accepts plain numbers. Any other unit requires a
    Quantity: a bare number for a bandwidth is exactly the mistake units exist to catch.
    """
    target = unit(expected)
    if isinstance(value, pint.Quantity):
        if value._REGISTRY is not ureg:
            value = Q_(value.magnitude, str(value.units))
        try:
            return value.m_as(target)
        except pint.DimensionalityError:
            raise UnitError(
                f"{name}: got {value:~P} ({value.dimensionality}), expected a quantity in "
                f"{target:~P} ({target.dimensionality})"
            ) from None
        except OverflowError:  # a Python int beyond any float
            digits = str(value.magnitude)
            shown = digits if len(digits) < 20 else f"{digits[:6]}... ({len(digits)} digits)"
            raise InvalidParameter(f"{name}: {shown} {value.units:~P} is beyond the range of "
                                   "a float") from None
    if target.dimensionless:
        return value
    if isinstance(value, str):
        raise UnitError(f"{name}: got the string {value!r}; give a Quantity, e.g. "
                        f"symsys.Q_({value!r}) for a value in {target:~P}")
    raise UnitError(
        f"{name}: got the bare number {value!r}; give it with units, e.g. "
        f"symsys.Q_({value!r}, {f'{target:~P}'!r})"
    )


def to_quantity(magnitude, unit_text: str) -> pint.Quantity:
    """Wrap a canonical magnitude (float or array) as a Quantity in ``unit_text``."""
    if isinstance(magnitude, np.ndarray) and magnitude.ndim == 0:
        magnitude = magnitude.item()
    elif isinstance(magnitude, np.generic):
        magnitude = magnitude.item()
    return Q_(magnitude, unit(unit_text))


def parse_quantity(text: str, expected: str, where: str) -> pint.Quantity:
    """Parse a registry string such as ``"3.35 TB/s"`` and check it has ``expected``'s dimension.

    ``where`` names the file and field for the error message.
    """
    from symsys.errors import RegistryError

    if not isinstance(text, str):
        raise RegistryError(f"{where}: expected a string like '3.35 TB/s', got {text!r}")
    # fast path for the registry's "<number> <unit>" form: a float and a cached unit are
    # ~20x cheaper than pint's expression parser, which loading 40 devices would pay 500 times
    number, _, unit_text = text.strip().partition(" ")
    try:
        magnitude = int(number) if number.lstrip("-").isdigit() else float(number)
        quantity = Q_(magnitude, unit(unit_text.strip()))  # "80 GB" stays 80, as pint reads it
    except (ValueError, pint.UndefinedUnitError, pint.DefinitionSyntaxError, AttributeError):
        quantity = None
    try:
        quantity = quantity if quantity is not None else Q_(text)
    except (pint.UndefinedUnitError, pint.DefinitionSyntaxError, ValueError, AttributeError) as exc:
        raise RegistryError(f"{where}: cannot read {text!r} as a quantity ({exc})") from None
    if not isinstance(quantity, pint.Quantity) or quantity.dimensionality != unit(
        expected
    ).dimensionality:
        raise RegistryError(f"{where}: {text!r} is not a quantity in {expected}")
    if not quantity.magnitude > 0:
        raise RegistryError(f"{where}: {text!r} must be positive")
    return quantity


# --- readable values: an SI prefix that keeps 1 to 3 integer digits ---------------------------
_PREFERRED = {
    "[time]": ["ns", "us", "ms", "s"],  # ascending: the largest unit with |m| >= 1 wins
    "[information]": ["B", "kB", "MB", "GB", "TB", "PB"],
    "[information] / [time]": ["B/s", "kB/s", "MB/s", "GB/s", "TB/s", "PB/s"],
    "[flop] / [time]": ["FLOP/s", "GFLOP/s", "TFLOP/s", "PFLOP/s", "EFLOP/s"],
    "[flop]": ["FLOP", "MFLOP", "GFLOP", "TFLOP", "PFLOP", "EFLOP"],
}


def _number(value: float, digits: int = 4) -> str:
    if value == 0 or not math.isfinite(value):
        return str(value)
    if 1e-3 <= abs(value) < 1e6:
        text = f"{value:.{digits}g}"
        return text
    return f"{value:.{digits - 1}e}"


def format_value(value, digits: int = 4) -> str:
    """One cell: Quantities with a readable prefix, floats to ``digits`` significant digits."""
    if isinstance(value, pint.Quantity):
        return _format_quantity(value, digits)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(value)
    if isinstance(value, numbers.Real):
        return _number(float(value), digits)
    return str(value)


def _format_quantity(q: pint.Quantity, digits: int) -> str:
    if str(q.dimensionality) == "[information]" and not np.ndim(q.magnitude):
        size = q.m_as("B")
        if size >= 2**30 and size % 2**30 == 0:  # a binary DRAM size: say it as it is
            return f"{size / 2**30:g} GiB"
    if np.ndim(q.magnitude):
        return str(q)
    units = _PREFERRED.get(str(q.dimensionality))
    if units:
        best = q.to(units[0])
        for unit in units:
            candidate = q.to(unit)
            if abs(candidate.magnitude) >= 1:
                best = candidate
        q = best
    return f"{_number(float(q.magnitude), digits)} {q.units:~P}".strip()


def text_table(headers, rows, digits: int = 4) -> str:
    """An aligned text table of ``rows`` under ``headers``, cells by :func:`format_value`."""
    cells = [[format_value(c, digits) for c in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h))
              for i, h in enumerate(headers)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)
