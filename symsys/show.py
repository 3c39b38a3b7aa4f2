"""Plain-text presentation: ``table``, ``info`` and ``banner`` as the seed tutorials use them.

Quantities are printed with a readable unit (``4.794 ms``, ``3.35 TB/s``, ``16.06 GB``):
times, bytes and rates are scaled to an SI prefix that keeps 1 to 3 integer digits.
"""

from __future__ import annotations

import math
import numbers

import pint

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
    import numpy as np

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


def table(headers, rows, digits: int = 4, file=None) -> str:
    """Print (and return) an aligned text table."""
    cells = [[format_value(c, digits) for c in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h))
              for i, h in enumerate(headers)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    text = "\n".join(lines)
    print(text, file=file)
    return text


def info(title: str | None = None, file=None, **fields) -> str:
    """Print (and return) ``key: value`` lines under an optional title."""
    width = max((len(k) for k in fields), default=0)
    lines = [title] if title else []
    lines += [f"  {k.replace('_', ' ').ljust(width)} : {format_value(v)}" for k, v in
              fields.items()]
    text = "\n".join(lines)
    print(text, file=file)
    return text


def banner(title: str, file=None) -> str:
    """Print (and return) a section banner."""
    rule = "=" * max(60, len(title) + 4)
    text = f"{rule}\n  {title}\n{rule}"
    print(text, file=file)
    return text
