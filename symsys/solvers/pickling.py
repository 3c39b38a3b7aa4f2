"""How the laws that results hold pickle and deep-copy (registered on import, with copyreg).

A result holds its scenario, and a scenario holds its law: a law of the package as a
:class:`~symsys.kernels.LawRef` (a name), or, through :func:`symsys.bind` and
:func:`symsys.evaluate`, the :class:`~symsys.laws.base.Law` itself. Here:

- a law of the package pickles by name and comes back as the very law registered, as
  registry devices and models do (one source of truth, a few bytes; its kernels are found
  again by name by :func:`symsys.kernels.kernel`);
- any other law (a user's) pickles by value; its derived results pickle as the factory call
  that made them (``Derived.recipe``: their ``build`` is a closure pickle cannot name).

The reducer is registered here, on first pickling, so a cold solve never imports sympy.
"""

from __future__ import annotations

import copyreg

from symsys.laws.base import Law

__all__ = ["registered_law"]


def registered_law(name: str) -> Law:
    """The law of the package called ``name`` (what a pickled law of the package loads as)."""
    from symsys.laws import get

    return get(name)


def _reduce_law(law: Law):
    """A law of the package by name; any other law by value."""
    from symsys.laws import ALL

    if ALL.get(law.name) is law:
        return registered_law, (law.name,)
    return object.__reduce_ex__(law, 2)


copyreg.pickle(Law, _reduce_law)
