"""Plain-text presentation: ``table``, ``info`` and ``banner`` as the seed tutorials use them.

Quantities are printed with a readable unit (``4.794 ms``, ``3.35 TB/s``, ``16.06 GB``) by
:func:`symsys.units.format_value`, which results use for their own ``repr`` too.
"""

from __future__ import annotations

from symsys.units import format_value, text_table

__all__ = ["format_value", "table", "info", "banner"]

def table(headers, rows, digits: int = 4, file=None) -> str:
    """Print (and return) an aligned text table."""
    text = text_table(headers, rows, digits)
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
