"""Checks at the API boundary: every user number is validated once, here, with a message that
names the parameter, the bad value and what would be valid. No NaN or inf gets past."""

from __future__ import annotations

import numbers

import numpy as np

from symsys.errors import InvalidParameter
from symsys.units import to_magnitude


def _finite(name: str, value) -> None:
    array = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(array)):
        raise InvalidParameter(f"{name}={value!r}: must be a finite number, not NaN or inf")


def positive_int(name: str, value, allow_zero: bool = False):
    """A count (batch, tokens): an integer >= 1 (>= 0 with ``allow_zero``), scalar or array."""
    if type(value) is int and value >= (0 if allow_zero else 1):
        return value  # the common case, checked without numpy
    if isinstance(value, bool | str) or value is None:
        raise InvalidParameter(f"{name}={value!r}: expected an integer")
    array = np.asarray(value)
    if array.dtype.kind not in "iuf" or array.size == 0:
        raise InvalidParameter(f"{name}={value!r}: expected an integer")
    _finite(name, array)
    if np.any(array != np.round(array)):
        raise InvalidParameter(f"{name}={value!r}: must be a whole number")
    low = 0 if allow_zero else 1
    if np.any(array < low):
        raise InvalidParameter(f"{name}={value!r}: must be >= {low}")
    return value if array.ndim else int(array)


def fraction(name: str, value) -> float:
    """An efficiency: a number in (0, 1]."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise InvalidParameter(f"{name}={value!r}: expected a number in (0, 1]")
    _finite(name, value)
    if not 0 < value <= 1:
        raise InvalidParameter(f"{name}={value!r}: must be in (0, 1] (1 = speed of light)")
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
    _finite(name, magnitude)
    if np.any(np.asarray(magnitude) < 0):
        raise InvalidParameter(f"{name}={value}: must be >= 0")
    return magnitude


def choice(name: str, value, options) -> str:
    if value not in options:
        raise InvalidParameter(f"{name}={value!r}: expected one of {', '.join(map(repr, options))}")
    return value
