"""How the laws that results hold pickle and deep-copy (registered on import, with copyreg).

A result holds its scenario, and a scenario holds its law: a law of the package as a
:class:`~symsys.kernels.LawRef` (a name), or, through :func:`symsys.bind` and
:func:`symsys.evaluate`, the :class:`~symsys.laws.base.Law` itself. Here:

- a law of the package pickles by name and comes back as the very law registered, as
  registry devices and models do (one source of truth, a few bytes; its kernels are found
  again by name by :func:`symsys.kernels.kernel`);
- any other law (a user's) pickles by value, with its derived results rebuilt by the factory
  that made them: ``Derived.balance`` and ``Derived.solve`` build closures, which pickle
  cannot name, so such a result is pickled as the factory and its arguments.

The reducers live here, not beside :class:`Law`, because the law modules are part of the
kernels' fingerprint (:mod:`symsys.kernels`): editing them invalidates every shipped kernel.
"""

from __future__ import annotations

import copyreg

from symsys.laws.base import Derived, Law

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


def _closure(function) -> dict:
    """The variables a nested function closes over, by name."""
    cells = function.__closure__ or ()
    return dict(zip(function.__code__.co_freevars, (cell.cell_contents for cell in cells)))


def _reduce_derived(derived: Derived):
    """A derived result made by ``Derived.balance`` or ``Derived.solve`` as that call (its
    ``build`` is a closure); any other (a module-level ``build``) by value."""
    lhs, rhs = derived.solves
    made_by = derived.build.__qualname__
    if made_by == "Derived.balance.<locals>.build":
        return Derived.balance, (derived.symbol, lhs, rhs, derived.unknown, derived.given)
    if made_by == "Derived.solve.<locals>.build":
        whole = _closure(derived.build)["whole"]
        return Derived.solve, (derived.symbol, lhs, rhs, derived.unknown, whole,
                               derived.given)
    return object.__reduce_ex__(derived, 2)


copyreg.pickle(Law, _reduce_law)
copyreg.pickle(Derived, _reduce_derived)
