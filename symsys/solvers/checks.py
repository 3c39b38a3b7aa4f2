"""Checks at the API boundary: every user number is validated once, here, with a message that
names the parameter, the bad value and what would be valid. No NaN or inf gets past."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np
import pint

from symsys.errors import InvalidParameter, UnitError
from symsys.units import to_magnitude, to_quantity


def _finite(name: str, value) -> None:
    array = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(array)):
        raise InvalidParameter(f"{name}={value!r}: must be a finite number, not NaN or inf")


def finite_number(name: str, value) -> float:
    """One finite real number (a list or an array is an error: a solve takes one value)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameter(f"{name}={value!r}: expected one number (symsys.sweep takes a "
                               "list of them)")
    _finite(name, value)
    return float(value)


#: the largest count accepted: integers above 2**53 are not exact as floats (and would let
#: products of counts overflow to inf)
MAX_COUNT = 2**53

#: inputs that are fractions of a peak: (0, 1], 1 = speed of light
FRACTIONS = frozenset({"eta_c", "eta_m"})


def positive_int(name: str, value, allow_zero: bool = False, array: bool = False):
    """A count (batch, tokens): an integer in [1, 2**53] ([0, 2**53] with ``allow_zero``).

    ``array=True`` also accepts a non-empty 1-D sequence of them (returned as an array);
    otherwise a sequence is an error that points to :func:`symsys.sweep`.
    """
    low = 0 if allow_zero else 1
    if type(value) is int and low <= value <= MAX_COUNT:
        return value  # the common case, checked without numpy
    if isinstance(value, pint.Quantity):
        if not value.dimensionless:
            raise UnitError(f"{name}={value:~P}: a count is a plain number, not a quantity in "
                            f"{value.units:~P}")
        value = value.m_as("")
    if isinstance(value, bool | str | bytes) or value is None:
        raise InvalidParameter(f"{name}={value!r}: expected an integer")
    if isinstance(value, int) and not low <= value <= MAX_COUNT:  # beyond int64 too
        raise InvalidParameter(_range(name, value, low))
    try:
        values = np.asarray(value)
    except (TypeError, ValueError):
        values = np.asarray(None)
    if values.ndim and not array:
        raise InvalidParameter(f"{name}={value!r}: expected one integer (for several values "
                               "use symsys.sweep)")
    if values.ndim > 1:
        raise InvalidParameter(f"{name}: expected an integer or a 1-D sequence of them, got "
                               f"shape {values.shape}")
    if values.size == 0:
        raise InvalidParameter(f"{name}={value!r}: empty; give at least one value")
    if values.dtype.kind not in "iuf":
        raise InvalidParameter(f"{name}={value!r}: expected an integer")
    if values.dtype.kind == "f":  # integer arrays are finite and whole by construction
        if not np.all(np.isfinite(values)):
            raise InvalidParameter(f"{name}={value!r}: must be a finite number, not NaN or inf")
        if np.any(values != np.round(values)):
            raise InvalidParameter(f"{name}={value!r}: must be a whole number")
    if values.min() < low or values.max() > MAX_COUNT:
        raise InvalidParameter(_range(name, value, low))
    return values if values.ndim else int(values)


def _range(name: str, value, low: int) -> str:
    if np.any(np.asarray(value, dtype=float) < low):
        return f"{name}={value!r}: must be >= {low}"
    return f"{name}={value!r}: must be at most 2**53 = {MAX_COUNT} (exact as a float)"


def fraction(name: str, value) -> float:
    """An efficiency: a number in (0, 1]."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise InvalidParameter(f"{name}={value!r}: expected a number in (0, 1]")
    _finite(name, value)
    if not 0 < value <= 1:
        raise InvalidParameter(f"{name}={value!r}: must be in (0, 1] (1 = speed of light)")
    return float(value)


def memory_fraction(value) -> float:
    """``memory_fraction=``: the share of the device's physical memory the engine may use, a
    number in (0, 1] (default 1.0: all of it), or text "0.9" / "90%". Out of range is an
    error, never a silent clamp."""
    valid = ("expected a number in (0, 1], the share of the device's memory the engine may "
             "use (e.g. 0.9 or '90%'; vLLM's gpu_memory_utilization defaults to 0.9)")
    if value is None:
        return 1.0
    given = value
    if isinstance(value, str):
        text = value.strip()
        percent = text.endswith("%")
        try:
            value = float(text[:-1] if percent else text) / (100 if percent else 1)
        except ValueError:
            raise InvalidParameter(f"memory_fraction={given!r}: {valid}") from None
    if isinstance(value, pint.Quantity):
        if not value.dimensionless:
            raise UnitError(f"memory_fraction={value:~P}: a fraction is a plain number, not a "
                            f"quantity in {value.units:~P}")
        value = value.m_as("")
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise InvalidParameter(f"memory_fraction={given!r}: {valid}")
    if not math.isfinite(value) or not 0 < value <= 1:
        raise InvalidParameter(f"memory_fraction={given!r}: must be in (0, 1]; {valid}")
    return float(value)


def efficiencies(value) -> tuple[float, float]:
    """``efficiency=`` as (compute, memory): one number for both, or a pair, or a mapping."""
    if value is None:
        return 1.0, 1.0
    if isinstance(value, dict):
        unknown = set(value) - {"compute", "memory"}
        if unknown:
            raise InvalidParameter(f"efficiency has unknown key(s) {sorted(unknown)}; "
                                   "use {'compute': ..., 'memory': ...}")
        return (fraction("efficiency['compute']", value.get("compute", 1.0)),
                fraction("efficiency['memory']", value.get("memory", 1.0)))
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise InvalidParameter(f"efficiency={value!r}: expected (compute, memory)")
        return fraction("efficiency[0] (compute)", value[0]), fraction("efficiency[1] (memory)",
                                                                       value[1])
    eta = fraction("efficiency", value)
    return eta, eta


def nonnegative_quantity(name: str, value, unit: str) -> float:
    """A Quantity >= 0 in ``unit``'s dimension, as a canonical magnitude."""
    if value is None:
        return 0.0
    magnitude = to_magnitude(value, unit, name)
    if np.ndim(magnitude):
        raise InvalidParameter(f"{name}={value}: expected one value (for several use "
                               "symsys.sweep)")
    if isinstance(magnitude, np.ndarray):
        magnitude = magnitude.item()
    if not isinstance(magnitude, numbers.Real) or isinstance(magnitude, bool):
        raise InvalidParameter(f"{name}={value!r}: expected a number with units")
    _finite(name, magnitude)
    if np.any(np.asarray(magnitude) < 0):
        raise InvalidParameter(f"{name}={value}: must be >= 0")
    return magnitude


def positive_quantity(name: str, value, unit: str) -> float:
    """A Quantity > 0 in ``unit``'s dimension, or text in the one quantity reader's syntax
    ("2.50 USD/hour", "300G tokens"), as a canonical magnitude."""
    if isinstance(value, str):
        from symsys.units import parse_quantity

        value = parse_quantity(value, unit, name, error=InvalidParameter)
    magnitude = nonnegative_quantity(name, value, unit)
    if value is None or not magnitude > 0:
        raise InvalidParameter(f"{name}={value}: must be > 0 (a quantity in {unit})")
    return magnitude


def choice(name: str, value, options) -> str:
    if not isinstance(value, str) or value not in options:  # an array has no single truth
        raise InvalidParameter(f"{name}={value!r}: expected one of {', '.join(map(repr, options))}")
    return value


# --- the step options' checks: named by their declarations (symsys.solvers.options), each
# called as check(option, value) and returning the canonical value ---------------------------
def count(option, value) -> int:
    """A count option (batch, parallel degrees): an integer in [1, 2**53]."""
    return positive_int(option.name, value)


def context(option, value) -> int | None:
    """``seq_len``: None, or an integer in [0, 2**53] (a prefill's must be >= 1: checked with
    the phase, where the step is built)."""
    return None if value is None else positive_int(option.name, value, allow_zero=True)


def one_of(option, value) -> str:
    """A choice among ``option.choices``."""
    return choice(option.name, value, option.choices)


def precision_name(option, value) -> str | None:
    """None (the compute precision), or a precision's canonical name."""
    if value is None:
        return None
    from symsys.registry.hardware import check_precision

    return check_precision(value, option.name)


def efficiency(option, value):
    """``efficiency``: None (speed of light), 'calibrated' or a CalibrationProfile (resolved
    with the device), else the pair (compute, memory) of fractions in (0, 1]."""
    if value is None or type(value).__name__ == "CalibrationProfile":
        return value
    if isinstance(value, str):
        if value != "calibrated":
            raise InvalidParameter(f"efficiency={value!r}: expected a number in (0, 1], "
                                   "(compute, memory), 'calibrated' or a CalibrationProfile")
        return value
    return efficiencies(value)


def quantity(option, value) -> float | None:
    """None (not given), or a Quantity >= 0 in ``option.unit``'s dimension, as a canonical
    magnitude (text is the command line's to read: :func:`quantity_text`)."""
    return None if value is None else nonnegative_quantity(option.name, value, option.unit)


def quantity_text(option, text: str, where: str):
    """A quantity option typed on the command line ("5 us", "2 GiB") as a Quantity, read by
    the one quantity reader; ``where`` is the flag, named in its errors."""
    from symsys.units import parse_quantity

    return parse_quantity(text, option.unit, where, error=InvalidParameter, positive=False)


def share(option, value) -> float:
    """``memory_fraction``: a number in (0, 1] or text such as '90%'."""
    return memory_fraction(value)


def law_name(option, value) -> str | None:
    """``law``: None, or a law's name (an identifier; whether it exists is checked when the
    step is built, with the phase and degrees)."""
    if value is None:
        return None
    if not (isinstance(value, str) and value.isidentifier()):
        raise InvalidParameter(f"{option.name}={value!r}: expected a law's name (symsys "
                               "derive --list names the package's)")
    return value


def law_inputs(option, value) -> tuple | None:
    """``inputs``: None, a mapping of symbol name to value, or the command line's
    ``NAME=VALUE`` texts; returned as ``((name, value), ...)`` (values are checked against
    the law's units when the step is built)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        pairs = []
        for text in value:
            name, sep, given = text.partition("=")
            if not sep or not name.strip() or not given.strip():
                raise InvalidParameter(f"--set {text!r}: expected NAME=VALUE, e.g. a_acc=0.7 "
                                       "or t_d='30 us'")
            pairs.append((name.strip(), given.strip()))
    else:
        raise InvalidParameter(f"{option.name}={value!r}: expected a dict of symbol name to "
                               "value, e.g. {'a_acc': 0.7}")
    names = [name for name, _ in pairs]
    for name in names:
        if not (isinstance(name, str) and name.isidentifier()):
            raise InvalidParameter(f"{option.name}: {name!r} is not a symbol name")
        if names.count(name) > 1:
            raise InvalidParameter(f"{option.name}: {name!r} is given twice")
    return tuple(pairs)


def keywords(function):
    """Make a ``solve(model, hardware, *, ...)`` reject a misspelled keyword or a third
    positional argument with an :class:`InvalidParameter` that names it and suggests the
    closest valid option, instead of Python's TypeError."""
    import functools
    import inspect

    from symsys.errors import suggest

    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())
    names = [p.name for p in parameters if p.kind is p.KEYWORD_ONLY or
             p.kind is p.POSITIONAL_OR_KEYWORD]
    positional = [p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
    where = function.__qualname__ + "()"
    known = frozenset(names)

    @functools.wraps(function)
    def checked(*args, **kwargs):
        for name in kwargs:
            if name not in known:
                options = [n for n in names if n not in ("self",)]
                raise InvalidParameter(f"{where} has no option {name!r}; its options are "
                                       f"{', '.join(options)}." + suggest(name, options))
        if len(args) > len(positional):
            shown = ", ".join(n for n in positional if n != "self")
            raise InvalidParameter(
                f"{where} takes {shown} positionally and every other option by keyword, "
                f"e.g. batch_size=8; got {len(args) - (positional[0] == 'self')} positional "
                "arguments")
        return function(*args, **kwargs)

    return checked


def token_count(tokens) -> float:
    """A token count as people give it (a number, a Quantity, text like "1T tokens"), in
    tokens."""
    if isinstance(tokens, int | float) and not isinstance(tokens, bool):
        return positive_quantity("tokens", to_quantity(float(tokens), "token"), "token")
    return positive_quantity("tokens", tokens, "token")
