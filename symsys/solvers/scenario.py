"""A scenario: one law bound to numbers from a model, a hardware entry and the user's options.

Every solver works on scenarios: it asks the scenario for compiled kernels of its law (through
the one compile path, :mod:`symsys.kernels`) and reads the law's roles from the kernel's card,
so no solver knows a law by name. :func:`bind` binds any law to registry hardware by symbol
name (peak, bandwidth, capacity, ...), a model's summaries, the user's Quantities and the law's
own defaults; the transformer and weight-streaming front ends build richer scenarios with
validation of their own (:mod:`symsys.solvers.inputs`, :mod:`symsys.solvers.streaming`);
:func:`symsys.solvers.generic.bind` binds any law by symbol name.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field

from symsys import kernels
from symsys.errors import InvalidParameter
from symsys.units import to_magnitude


class Option:
    """A scenario option by attribute: ``precision = Option()`` reads ``options["precision"]``."""

    def __set_name__(self, owner, name: str):
        self.name = name

    def __get__(self, scenario, owner=None):
        return self if scenario is None else scenario.options[self.name]


@dataclass(frozen=True, eq=False)
class Scenario:
    """A law (a Law, or a :class:`symsys.kernels.LawRef` to a law of the package) and the
    canonical magnitude of every one of its inputs, with who and what they came from.

    ``options`` are the scenario's identity beyond model and hardware (precision, phase,
    context...), JSON-safe, reported by every result. ``variant`` names an exact
    specialisation of the law the kernels are compiled for (``"dense"``: E = k = 1).
    """

    law: object
    values: dict
    model: object = None
    hardware: object = None
    options: dict = field(default_factory=dict)
    variant: str | None = None
    profile: object = None

    def __getstate__(self) -> dict:
        """What pickles and deep-copies: the fields (and the card, once read). A law held as
        a Law pickles by name if it is one of the package's, else by value: its reducers are
        registered here, only then, so a cold solve never imports sympy for them."""
        if not isinstance(self.law, str | kernels.LawRef):
            from symsys.solvers import pickling  # noqa: F401 (registers them)
        return dict(self.__dict__)

    def kernel(self, specs, scalar: bool = True) -> kernels.Kernel:
        return kernels.kernel(self.law, specs, self.variant, scalar)

    @functools.cached_property
    def card(self) -> dict:
        """The law's roles, regimes, levers and units (plain data; no sympy needed)."""
        return self.kernel("*").meta

    def call(self, specs, **override) -> dict[str, float]:
        """Evaluate ``specs`` at this scenario's values (``override`` replaces some), as floats;
        a non-finite result is an error that names the output."""
        fn = self.kernel(specs)
        values = {**self.values, **override}
        try:
            raw = fn.raw(*(values[a] for a in fn.args))
        except (ZeroDivisionError, OverflowError) as exc:  # math-module floats raise
            raise self.not_finite(f"result ({exc})") from None
        out = dict(zip(fn.outputs, (float(x) for x in raw)))
        bad = [name for name, value in out.items() if not math.isfinite(value)]
        if bad:
            raise self.not_finite(", ".join(bad))
        return out

    def replace(self, **values) -> Scenario:
        """The same scenario with some input magnitudes replaced."""
        return dataclasses.replace(self, values={**self.values, **values})

    def label(self) -> str:
        what = getattr(self.model, "key", None) or self.law.name
        where = getattr(self.hardware, "key", None)
        return f"{what} on {where}" if where else what

    def not_finite(self, what: str) -> InvalidParameter:
        given = ", ".join(f"{k}={v}" for k, v in self.options.items() if v is not None)
        return InvalidParameter(
            f"{self.label()}{', ' + given if given else ''}: the {what} would be inf or NaN; "
            "an input is zero where it divides, or far outside any physical range")


def device_inputs(hardware, precision: str) -> dict[str, float]:
    """The law inputs a hardware entry gives, by symbol name, as canonical magnitudes."""
    values = {
        "Pi": to_magnitude(hardware.compute.peak(precision), "FLOP/s", "peak"),
        "beta": to_magnitude(hardware.memory.bandwidth, "B/s", "bandwidth"),
        "C_mem": to_magnitude(hardware.memory.capacity, "B", "memory.capacity"),
    }
    if hardware.streaming is not None:
        values["beta_inj"] = to_magnitude(hardware.streaming.injection_bandwidth, "B/s",
                                          "injection_bandwidth")
        values["C_chip"] = values["C_mem"]  # the local memory the weights stream into
    return values
