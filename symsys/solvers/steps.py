"""The step laws, chosen by what they declare (:class:`~symsys.laws.base.StepRole`), never
by their names.

Every registry front end -- ``Engine.solve``, the cost, sensitivity, synthesis and serving
solvers, ``symsys.sweep`` and the command line -- asks :func:`choose` for the law of a step:
the law of the request's phase whose parallel degrees are the fewest that cover the degrees
asked for, or the law asked for by name (``law="my_step"``: the package's, one registered with
:func:`symsys.laws.register`, or an installed package's ``symsys.laws`` entry point), checked
to cover them. :func:`cost_law` gives the law that prices a step law (its cost-and-energy
extension; built on first use for a law of another package).

The roles of the package's laws are read from ``symsys/_kernels/STEPS.json``, written with
the shipped kernels (``python -m symsys.shipping``) and checked against the laws by a test, so
choosing a law needs no sympy; a law of another package is loaded (with sympy) only when asked
for by name.
"""

from __future__ import annotations

import functools
import json

from symsys.errors import InvalidParameter, suggest
from symsys.kernels import SHIPPED, LawRef

#: the package's step laws' roles, by law name
INDEX = SHIPPED / "STEPS.json"
#: the step options that ask for each parallel degree, as errors name them
DEGREE_OPTIONS = {"tensor": "tensor_parallel", "pipeline": "pipeline_parallel",
                  "expert": "expert_parallel"}


@functools.cache
def package_roles() -> dict[str, dict]:
    """The role of every step law of the package (cost extensions included), by name."""
    return json.loads(INDEX.read_text())


def roles_of_laws(laws) -> dict[str, dict]:
    """What :data:`INDEX` holds for ``laws`` (name -> Law): the role of each step law."""
    return {name: law.card()["step"] for name, law in laws.items() if law.step is not None}


@functools.lru_cache(maxsize=256)
def card_of(law) -> dict:
    """The card of a Law of another package (or of this session), built once per law: a
    solve of such a law reads its inputs, defaults, units and role from it every time."""
    return law.card()


def role(law) -> dict | None:
    """The step role (plain data) of a law -- a LawRef or name of a law of the package, or a
    Law -- or None for a law that is no step (the fixed workload, the roofline)."""
    if isinstance(law, str | LawRef):
        return package_roles().get(law if isinstance(law, str) else law.name)
    return card_of(law)["step"]


def parallel(law) -> tuple[str, ...]:
    """The parallel degrees a law models (empty for one device or no step at all)."""
    found = role(law)
    return () if found is None else tuple(found["parallel"])


def choose(phase: str, needed, law: str | None = None):
    """``(law, role)`` of a step: the package's law of ``phase`` with the fewest parallel
    degrees covering ``needed`` (names of :data:`~symsys.laws.base.PARALLELISMS`), or the law
    called ``law``, checked to be a step of that phase covering them. A law of the package is
    returned as a :class:`LawRef` (its kernels ship), any other as the Law itself (its
    kernels are keyed by its expressions)."""
    needed = set(needed)
    if law is None:
        fits = [(len(r["parallel"]), name) for name, r in package_roles().items()
                if r["prices"] is None and r["phase"] == phase and needed <= set(r["parallel"])]
        if not fits:
            raise InvalidParameter(f"no step law of the package answers phase={phase!r} with "
                                   f"{_degrees(needed)}")
        name = min(fits)[1]
        return LawRef(name), package_roles()[name]
    if law in package_roles():
        found, declared = LawRef(law), package_roles()[law]
    else:
        found = _registered(law)
        declared = card_of(found)["step"]
        if declared is None:
            raise InvalidParameter(
                f"law={law!r} declares no step role (StepRole: its phase and parallel "
                "degrees), so the registry's solvers cannot bind it to a model; give it "
                "step=StepRole(...), or bind it by symbol name with symsys.bind")
    if declared["prices"] is not None:
        raise InvalidParameter(
            f"law={law!r} is the cost-and-energy extension of {declared['prices']!r}: ask for "
            f"law={declared['prices']!r} (CostModel and the cost columns price it)")
    if declared["phase"] != phase:
        raise InvalidParameter(f"law={law!r} is a {declared['phase']} step; phase={phase!r} "
                               f"asks for another (use phase={declared['phase']!r})")
    missing = needed - set(declared["parallel"])
    if missing:
        covers = ", ".join(declared["parallel"]) or "one device only"
        raise InvalidParameter(
            f"law={law!r} models {covers}; {_degrees(missing)} needs a law that models it "
            "(leave law unset for the package's)")
    return found, declared


def cost_law(step):
    """The cost-and-energy extension of the step law ``step`` (a LawRef or a Law): the
    package's, else built once with :func:`symsys.laws.economics.with_economics` and
    registered."""
    name = step.name
    for candidate, declared in package_roles().items():
        if declared["prices"] == name:
            return LawRef(candidate)
    return _priced(step if not isinstance(step, LawRef) else _registered(name))


@functools.cache
def _priced(step):
    from symsys.laws import register
    from symsys.laws.economics import with_economics

    law = with_economics(step)
    register(law)
    return law


def _registered(name: str):
    """A law of another package or of this session (loads the entry points)."""
    from symsys.laws import ALL, plugins

    found = plugins().get(name)
    if found is None:
        known = [*package_steps(), *(n for n, x in plugins().items() if x.step is not None)]
        raise InvalidParameter(f"law={name!r}: no such step law; step laws: "
                               f"{', '.join(known)}." + suggest(name, known)
                               + ("" if name not in ALL else
                                  f" ({name!r} is a law of the package but not a step: bind "
                                  "it with symsys.bind)"))
    return found


def package_steps() -> list[str]:
    """The package's step laws a request may name (cost extensions left out)."""
    return [name for name, r in package_roles().items() if r["prices"] is None]


def _degrees(names) -> str:
    return " and ".join(f"{DEGREE_OPTIONS[n]} > 1" for n in sorted(names)) or "one device"
