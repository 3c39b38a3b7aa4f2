"""The one pint unit registry of symsys, and the crossing between Quantities and numbers.

Inside compiled functions every value is a plain magnitude in its symbol's canonical unit
(seconds, bytes, FLOP, FLOP/s, B/s, ...). At the API boundary values are pint Quantities.
:func:`to_magnitude` and :func:`to_quantity` are the only two crossings, so a GB/GiB or
FLOP/byte mix-up is a :class:`~symsys.errors.UnitError` that names the argument. Text
("3.35 TB/s" in a registry file, "20k tok/s" from a user) is read by one function,
:func:`parse_quantity`, whose errors say what the text was read as.

The definitions added to pint's defaults live in ``units.txt`` beside this file.
"""

from __future__ import annotations

import copyreg
import functools
import math
import numbers
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pint

from symsys.errors import InvalidParameter, UnitError

_DEFINITIONS = Path(__file__).with_name("units.txt")


def _pint_cache_key() -> str:
    """This installation's key for pint's parsed definitions: where pint and symsys are
    installed and their versions. pint's own ``:auto:`` cache is keyed by file *content*, so
    every environment with the same pint shares one entry that stores the absolute path of
    the environment that wrote it; deleting that environment broke symsys in all the others
    (pint issues 1572 and 2263). Keyed by location, no two installations share an entry."""
    import hashlib
    import sys

    text = "|".join((str(Path(pint.__file__).resolve().parent), pint.__version__,
                     str(_DEFINITIONS.resolve()), _DEFINITIONS.read_text(), sys.version))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _new_registry(cache_folder) -> pint.UnitRegistry:
    # units.txt redefines bit on purpose
    registry = pint.UnitRegistry(on_redefinition="ignore", cache_folder=cache_folder)
    registry.load_definitions(str(_DEFINITIONS))
    registry._build_cache()  # drop dimensionalities cached while bit was still dimensionless
    registry.formatter.default_format = "~P"
    return registry


def _make_registry() -> pint.UnitRegistry:
    """The registry, from this installation's private cache of pint's parsed definitions
    (~0.15 s of a ~0.5 s cold start) when it is usable; any failure of that cache (another
    process writing it, a truncated file after a full disk, a read-only home) falls back to
    parsing and removes the bad entry, so it heals. ``SYMSYS_NO_UNIT_CACHE=1`` turns it off."""
    from symsys.cache import trusted_dir

    if not os.environ.get("SYMSYS_NO_UNIT_CACHE"):
        for _ in range(2):  # the second try parses into a fresh entry: the cache heals
            folder = trusted_dir("pint", _pint_cache_key())
            if folder is None:
                break
            try:
                return _new_registry(folder)
            except Exception:  # pint's cache raises EOFError, UnpicklingError, OSError...
                shutil.rmtree(folder, ignore_errors=True)
    return _new_registry(None)


#: The unit registry shared by every symsys Quantity.
ureg = _make_registry()
Q_ = ureg.Quantity


def _unpickle_quantity(magnitude, units: str):
    return Q_(magnitude, units)


# pint unpickles into its *application* registry, which lacks symsys's units (FLOP, token):
# a Quantity of this registry pickles to its magnitude and unit text instead, so user-defined
# devices travel to Dask workers and processes without touching the caller's pint settings
copyreg.pickle(Q_, lambda q: (_unpickle_quantity, (q.magnitude, str(q.units))))
Quantity = ureg.Quantity


#: the largest |exponent| a unit may carry ('s^-1', 'm**2'): pint evaluates a unit's text as
#: Python arithmetic, so 'ms**(9**9**9)' would compute an integer of 370 million digits
MAX_EXPONENT = 12
#: the longest quantity text read: a number of 300 digits would not fit a float anyway
MAX_QUANTITY_TEXT = 200
#: the longest unit text read (the units symsys knows are written in under 30 characters)
MAX_UNIT_TEXT = 100
#: what follows '**' in a unit: a plain number, bare or in parentheses ('s**-1', 's**(-1)')
_EXPONENT = re.compile(r"\s*(\()?\s*([-+]?\d{1,3}(?:\.\d{1,3})?)(?![\w.])\s*(?(1)\))")
_EXPONENT_RULE = (f"a unit's exponent must be a plain number from -{MAX_EXPONENT} to "
                  f"{MAX_EXPONENT}, written once ('s^-1', 'm**2', '(m/s)**2')")


def _group_before(text: str, end: int) -> str:
    """The parenthesised group that closes just before ``end`` (where ``text[end - 1]`` is
    ')'), or '' when it does not open."""
    depth = 0
    for i in range(end - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[i], 0)
        if depth == 0:
            return text[i:end]
    return ""


def check_unit_text(text: str) -> None:
    """Refuse unit text pint would take unbounded time or memory to evaluate.

    pint reads a unit by evaluating it as arithmetic, integer powers included. Here every
    exponent (after pint's own spelling rules: '^', 'squared', superscript digits) must be a
    plain number of at most :data:`MAX_EXPONENT` in size, applied once: not to another power
    ('ms**2**3', '(ms**2)**3'), and the text is at most :data:`MAX_UNIT_TEXT` characters.
    Raises :class:`~symsys.errors.UnitError` saying what a valid unit is.
    """
    if len(text) > MAX_UNIT_TEXT:
        raise UnitError(f"unit text of {len(text)} characters is too long: a unit is at most "
                        f"{MAX_UNIT_TEXT} characters ('TB/s', 'token/s')")
    spelled = pint.util.string_preprocessor(text)
    for power in re.finditer(r"\*\*", spelled):
        exponent = _EXPONENT.match(spelled, power.end())
        base = spelled[:power.start()].rstrip()
        if (exponent is None or abs(float(exponent[2])) > MAX_EXPONENT
                or spelled[exponent.end():].lstrip().startswith("**")
                or (base.endswith(")") and "**" in _group_before(base, len(base)))):
            raise UnitError(f"{text!r}: {_EXPONENT_RULE}")


@functools.lru_cache(maxsize=256)
def unit(text: str) -> pint.Unit:
    """The pint unit spelled ``text`` (``"TB/s"``, ``"FLOP"``, ``"1"``); text that pint could
    not evaluate in bounded time (:func:`check_unit_text`) is a UnitError."""
    check_unit_text(text)
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
            magnitude = value.m_as(target)
            # an integer stays exact through pint: one beyond any float must stop here, not
            # as an OverflowError inside a law
            return float(magnitude) if isinstance(magnitude, int) else magnitude
        except pint.DimensionalityError:
            raise UnitError(
                f"{name}: got {value:~P} ({value.dimensionality}), expected a quantity in "
                f"{target:~P} ({target.dimensionality})"
            ) from None
        except OverflowError:
            raise InvalidParameter(f"{name}: {shown(value.magnitude)} {value.units:~P} is "
                                   "beyond the range of a float") from None
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


# --- reading a quantity from text: registry files, solver options and the command line --------
#: a number as people write it: 3, 3.5, .5, 2e-3
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
#: a count multiplier written after the number, as in "20k token/s" or "1.5 M samples/s";
#: pint alone reads that k as the Boltzmann constant and K as kelvin. It must stand between
#: the number and a unit, so "20 kB" (a prefix) and "3 ms" are left to pint.
_MULTIPLIERS = {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_TEXT = re.compile(rf"\s*({_NUMBER})(?:\s*([kKMGT])(?=\s))?\s*(.*?)\s*", re.DOTALL)
#: whole words with one meaning in any case (no SI prefix letter to get wrong), as people
#: write them: "tok/s", "Tokens/sec", "samples per second"
_WORDS = [(re.compile(rf"(?<![A-Za-z_µμ])(?:{pattern})(?![A-Za-z_])", re.IGNORECASE), unit)
          for pattern, unit in (("toks?|tokens?", "token"), ("samples?", "sample"),
                                ("requests?|reqs?", "request"), ("secs?|seconds?", "s"))]
_PER = re.compile(r"\s+per\s+", re.IGNORECASE)
#: what a dimension is called in an error, by its unit
_DIMENSION_WORDS = {"s": "a time", "1/s": "a rate", "token/s": "a token rate",
                    "sample/s": "a sample rate", "B": "a size in bytes",
                    "B/s": "a bandwidth in bytes per second", "FLOP": "a FLOP count",
                    "FLOP/s": "a FLOP rate"}


def _unit_text(text: str) -> str:
    """The unit part of a quantity as pint spells it: count words and 'sec' in any case,
    'per' as '/'."""
    text = _PER.sub(" / ", text)
    for pattern, unit_name in _WORDS:
        text = pattern.sub(unit_name, text)
    return text


def _read(text: str) -> pint.Quantity:
    """``text`` as a Quantity: NUMBER [multiplier] UNIT (pint's expression parser is not used:
    it evaluates arithmetic, so '[1,2] ms' would read as 12 ms). Raises ValueError with the
    reason, or pint's UndefinedUnitError."""
    match = _TEXT.fullmatch(text)
    if match is None:
        raise ValueError("expected a number and a unit")
    number, multiplier, unit_text = match.groups()
    magnitude = int(number) if re.fullmatch(r"[-+]?\d+", number) else float(number)
    if multiplier:
        magnitude *= _MULTIPLIERS[multiplier]
    try:
        return Q_(magnitude, unit(_unit_text(unit_text)) if unit_text else "")
    except pint.UndefinedUnitError:
        raise
    except UnitError as exc:  # an exponent or a length beyond the bounds: say which
        raise ValueError(str(exc)) from None
    except Exception:  # pint raises several types for text that is not a unit
        raise ValueError(f"{unit_text!r} is not a unit") from None


def _dimension_words(expected: str) -> str:
    target = unit(expected)
    return _DIMENSION_WORDS.get(expected, f"a quantity in {target:~P} "
                                          f"({target.dimensionality})")


def _case_hint(text: str, expected: tuple[str, ...]) -> str:
    """'; did you mean ...?' when the lower-case spelling has an expected dimension: unit
    letters are case-sensitive (M is mega, m is milli, S is siemens), so it is only a hint."""
    match = _TEXT.fullmatch(text)
    if match is None or not match[3] or match[3] == match[3].lower():
        return ""
    lowered = text[:match.start(3)] + match[3].lower() + text[match.end(3):]
    try:
        quantity = _read(lowered)
    except (ValueError, pint.UndefinedUnitError):
        return ""
    if not any(quantity.dimensionality == unit(e).dimensionality for e in expected):
        return ""
    shown = lowered.strip()
    read = f"{quantity:~P}"
    return ("; unit letters are case-sensitive (M is mega, m is milli, S is siemens): did you "
            f"mean {shown!r}" + (f" ({read})" if read != shown else "") + "?")


def parse_quantity(text: str, expected: str | tuple[str, ...], where: str, *,
                   error: type[Exception] | None = None, positive: bool = True,
                   wanted: str = "") -> pint.Quantity:
    """Read ``text`` ("3.35 TB/s", "3 ms", "20k tok/s") as a Quantity of ``expected``'s dimension.

    The one parser of quantities given as text: registry files, solver options given as
    strings (``target="3 ms"``) and the command line. It reads NUMBER [MULTIPLIER] UNIT:

    - a multiplier k/K, M, G or T between the number and the unit scales a count as people
      write it ("20k token/s" is 20000 token/s; pint alone reads that k as the Boltzmann
      constant);
    - the words token/tok, sample, request and sec/second (and plurals) in any case, and
      'per' for '/' ("tokens per second");
    - unit symbols and SI prefixes as SI defines them, case included: '3 MS' is 3
      megasiemens and '3 Ms' 3 megaseconds, so a case slip is an error that shows the
      reading and suggests the lower-case spelling, never a silent guess between mega and
      milli;
    - bounded: at most :data:`MAX_QUANTITY_TEXT` characters, unit exponents plain numbers of
      at most :data:`MAX_EXPONENT` (:func:`check_unit_text`; pint would evaluate
      'ms**(9**9**9)' for ever), and the value finite once converted to ``expected``'s unit
      (:func:`check_range`: '1e308 GiB' overflows bytes), so inf and NaN never reach a law.

    Parameters
    ----------
    text : str
        The quantity as written.
    expected : str or tuple of str
        A unit (or several) whose dimension the quantity must have ("s", "token/s").
    where : str
        What the text is (a file and field, an option name), named in every error.
    error : exception type
        Raised for bad text; default :class:`~symsys.errors.RegistryError` (registry files).
        Solvers and the command line pass :class:`~symsys.errors.InvalidParameter`.
    positive : bool
        Require a magnitude > 0 (a finite magnitude is required either way).
    wanted : str
        What a valid value is, in words, for the errors ("a latency ('3 ms') or a
        throughput ('20k token/s')"); default: the dimensions of ``expected`` in words.

    Returns
    -------
    pint.Quantity
        In the unit as written (20k token/s comes back as 20000 token/s).
    """
    from symsys.errors import RegistryError

    error = error or RegistryError
    expected = (expected,) if isinstance(expected, str) else tuple(expected)
    wanted = wanted or " or ".join(_dimension_words(e) for e in expected)
    if not isinstance(text, str):
        raise error(f"{where}: expected a string like '3.35 TB/s', got {text!r}")
    if len(text) > MAX_QUANTITY_TEXT:
        raise error(f"{where}: a text of {len(text)} characters ({text[:20]!r}...) is not a "
                    f"quantity; expected {wanted} in at most {MAX_QUANTITY_TEXT} characters")
    # fast path for the registry's "<number> <unit>" form: a float and a cached unit are
    # ~20x cheaper than the full reading, which loading 40 devices would pay 500 times
    number, _, unit_text = text.strip().partition(" ")
    try:
        if " " in unit_text.strip():  # "20 k token/s": a multiplier, read below
            raise ValueError
        magnitude = int(number) if number.lstrip("-").isdigit() else float(number)
        quantity = Q_(magnitude, unit(unit_text.strip()))  # "80 GB" stays 80, as pint reads it
    except (ValueError, pint.UndefinedUnitError, pint.DefinitionSyntaxError, AttributeError):
        quantity = None
    if quantity is None:
        try:
            quantity = _read(text)
        except pint.UndefinedUnitError as exc:
            names = ", ".join(repr(n) for n in exc.unit_names) if exc.unit_names else "its unit"
            raise error(f"{where}: cannot read {text!r}: {names} is not a unit symsys knows; "
                        f"expected {wanted}" + _case_hint(text, expected)) from None
        except ValueError as exc:
            raise error(f"{where}: cannot read {text!r} ({exc}); expected {wanted}") from None
    if not any(quantity.dimensionality == unit(e).dimensionality for e in expected):
        if quantity.dimensionless:
            raise error(f"{where}: {text!r} has no unit; expected {wanted}")
        raise error(f"{where}: {text!r} was read as {quantity.magnitude:g} "
                    f"{format(quantity.units, 'P')} ({quantity:~P}, "
                    f"{quantity.dimensionality}), which is not {wanted}"
                    + _case_hint(text, expected))
    check_range(quantity, expected, where, error=error, positive=positive, shown=repr(text))
    return quantity


def check_range(quantity: pint.Quantity, expected: str | tuple[str, ...], where: str, *,
                error: type[Exception] = InvalidParameter, positive: bool = True,
                shown: str = "") -> float:
    """The magnitude of a scalar ``quantity`` in the first unit of ``expected`` with its
    dimension, which must be a finite float (and > 0 when ``positive``).

    A value can be finite as written and not once converted: '1e308 GiB' is beyond the
    largest float (1.8e308) in bytes, and a 400-digit integer is beyond any float. Such a
    value is an ``error`` naming ``where``, the value (``shown``, default the quantity) and the
    range, never inf or NaN handed on to a law.
    """
    expected = (expected,) if isinstance(expected, str) else tuple(expected)
    target = next((e for e in expected if quantity.dimensionality == unit(e).dimensionality),
                  expected[0])
    try:
        value = _in_unit(quantity, target)
    except OverflowError:  # a Python int beyond any float
        value = math.inf
    except pint.DimensionalityError:
        raise error(f"{where}: {shown or _shown(quantity)} is not a quantity in "
                    f"{unit(target):~P}; expected a value such as '{_example(target)}'") from None
    except (TypeError, ValueError):  # an array, a complex number
        raise error(f"{where}: {shown or _shown(quantity)} is not one real number; expected "
                    f"one number with units, e.g. '{_example(target)}'") from None
    if math.isfinite(value) and (value > 0 or not positive):
        return value  # the common case: no message to build
    shown = shown or _shown(quantity)
    limit = f"{np.finfo(float).max:.3g} {unit(target):~P}"
    if math.isnan(value):
        raise error(f"{where}: {shown} is not a number; expected a finite value, e.g. "
                    f"'{_example(target)}'")
    if math.isinf(value):
        raise error(f"{where}: {shown} is infinite or overflows (beyond {limit}, the largest "
                    f"float, once converted to {unit(target):~P}); expected a finite value "
                    f"below {limit}")
    if positive and not value > 0:
        raise error(f"{where}: {shown} must be positive and finite (> 0 {unit(target):~P}, "
                    f"below {limit})")
    return value


def _in_unit(quantity: pint.Quantity, target: str) -> float:
    """``quantity``'s magnitude in ``target`` as a float: by a cached scale factor where the
    conversion is one (registry files read ~550 quantities at start-up), else by pint."""
    magnitude = quantity.magnitude
    if isinstance(magnitude, numbers.Real) and not isinstance(magnitude, bool):
        scale = _scale(quantity.units, target)
        if scale is not None:
            return float(magnitude) * scale
    return float(quantity.m_as(unit(target)))


@functools.lru_cache(maxsize=512)
def _scale(units: pint.Unit, target: str) -> float | None:
    """The factor from ``units`` to ``target`` if the conversion is a pure scaling (None for
    an offset unit such as degC)."""
    one = Q_(1.0, units).m_as(unit(target))
    return one if Q_(2.0, units).m_as(unit(target)) == 2 * one else None


def shown(value, limit: int = 60) -> str:
    """``repr(value)`` for an error message, shortened: a huge integer by its size (repr fails
    beyond 4300 digits), any long text by its start."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**20:
        digits = int(abs(value).bit_length() * math.log10(2)) + 1
        return f"an integer of about {digits} digits"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _shown(quantity: pint.Quantity) -> str:
    """A quantity as an error shows it: a huge integer by its number of digits."""
    magnitude = quantity.magnitude
    if isinstance(magnitude, int) and not isinstance(magnitude, bool) and abs(magnitude) > 10**20:
        return f"{shown(magnitude)} in {quantity.units:~P}"
    return f"{quantity:~P}"


def _example(target: str) -> str:
    """A valid value in ``target``'s dimension, for an error ('3.35 TB/s' for B/s)."""
    return {"s": "3 ms", "B": "80 GiB", "B/s": "3.35 TB/s", "FLOP/s": "989 TFLOP/s",
            "FLOP": "16 GFLOP", "W": "700 W", "token/s": "20k token/s"}.get(target, f"1 {target}")


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
    """One cell: Quantities with a readable prefix, floats to ``digits`` significant digits,
    None (a figure that does not apply, such as the ITL of a one-token answer) as 'n/a'."""
    if value is None:
        return "n/a"
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
