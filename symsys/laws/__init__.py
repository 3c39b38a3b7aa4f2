"""The laws of symsys: pure sympy, one module per law."""

from symsys.laws.base import Derived, Law
from symsys.laws.roofline import roofline

__all__ = ["Derived", "Law", "roofline", "get", "ALL"]

ALL: dict[str, Law] = {roofline.name: roofline}


def get(name: str) -> Law:
    """The law called ``name``; the error lists the laws that exist."""
    from symsys.errors import InvalidParameter, suggest

    try:
        return ALL[name.lower()]
    except KeyError:
        raise InvalidParameter(
            f"no law {name!r}; laws: {', '.join(ALL)}." + suggest(name, ALL)
        ) from None
