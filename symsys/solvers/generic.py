"""Any law, bound to registry hardware, with every generic solver: ``symsys.bind``.

The front ends (``Engine``, ``WeightStreamingModel``, ``symsys.sweep``) bind registry models
and options to their laws; :func:`bind` does it for any law by symbol name, and the returned
:class:`BoundScenario` offers solve, sweep, sensitivities, synthesis, balance points and the
capacity limit, knowing nothing of the law but its card.
"""

from __future__ import annotations

import numpy as np

from symsys.errors import InvalidParameter, suggest
from symsys.registry.hardware import Hardware, resolve_precision
from symsys.solvers import balance
from symsys.solvers.evaluate import magnitudes
from symsys.solvers.result import Result, regime_codes
from symsys.solvers.scenario import Scenario, device_inputs
from symsys.solvers.sensitivity import sensitivities
from symsys.solvers.sweep_result import SweepResult, axis_codes
from symsys.solvers.synthesis import synthesize
from symsys.units import to_magnitude, to_quantity


def solve(scenario) -> Result:
    """Every output of the scenario's law, as a :class:`Result`."""
    return Result(scenario, scenario.call(("*",)))


def sweep(scenario, **axes) -> SweepResult:
    """Every combination of ``axes`` (input name -> values: Quantities, or numbers for
    dimensionless inputs), every other input at the scenario's value, in one broadcast call
    of the law's array kernel. Columns: the axes, every output (Quantities), ``regime`` and
    ``feasible`` (footprint within capacity) where the law has them."""
    card = scenario.card
    for name in axes:
        if name not in card["inputs"]:
            raise InvalidParameter(f"sweep axis {name!r}: the {card['law']} law has no such "
                                   f"input; its inputs are {', '.join(card['inputs'])}."
                                   + suggest(name, card["inputs"]))
    grids = [np.atleast_1d(np.asarray(to_magnitude(v, card["units"][n], n), dtype=float))
             for n, v in axes.items()]
    if any(g.ndim != 1 or g.size == 0 for g in grids):
        raise InvalidParameter("sweep axes must be non-empty scalars or 1-D sequences")
    shape = tuple(g.size for g in grids)
    values = dict(scenario.values)
    for i, (name, grid) in enumerate(zip(axes, grids)):
        view = [1] * len(shape)
        view[i] = grid.size
        values[name] = grid.reshape(view)
    fn = scenario.kernel(("*",), scalar=False)
    with np.errstate(all="ignore"):
        raw = {n: np.broadcast_to(v, shape).reshape(-1)
               for n, v in zip(fn.outputs, fn(*(values[a] for a in fn.args)))}
    bad = [n for n, v in raw.items() if not np.all(np.isfinite(v))]
    if bad:
        raise scenario.not_finite(", ".join(bad) + " at some points of the sweep")
    units = card["units"]
    columns = {name: to_quantity(raw[name], units[name]) for name in fn.outputs}
    lazy = {name: (lambda g=grid, i=i, u=units[name]: to_quantity(g[axis_codes(i, shape)()], u))
            for i, (name, grid) in enumerate(zip(axes, grids))}
    categories = {}
    if card["regimes"]:
        categories["regime"] = (lambda: regime_codes(card["regimes"], raw),
                                [label for label, _ in card["regimes"]])
    if card["footprint"]:
        capacity = values[card["capacity"]]
        lazy["feasible"] = lambda: raw[card["footprint"]] <= np.broadcast_to(
            capacity, shape).reshape(-1)
    return SweepResult(columns, [], categories, lazy, int(np.prod(shape)))


def bind(law, hardware=None, model=None, *, precision: str = "auto", **inputs):
    """Bind ``law`` to a registry device (or its name), a model and Quantities by symbol name.

    Each input of the law is taken, in this order, from ``inputs`` (Quantities, or plain
    numbers for dimensionless inputs), the device (``Pi`` at ``precision``, ``beta``,
    ``C_mem``...), the model's summaries and shape, and the law's defaults; an input found
    nowhere, or a keyword the law does not have, is an error that names it.

    Returns a :class:`BoundScenario`, whose methods are the generic solvers.
    Example: ``bind(my_law, "H100", t_comm=Q_(20, "us"), b=8).solve()``.
    """
    known = {s.name for s in law.inputs}
    for name in inputs:
        if name not in known:
            raise InvalidParameter(f"{law.name} has no input {name!r}; its inputs are "
                                   f"{', '.join(sorted(known))}." + suggest(name, known))
    if isinstance(hardware, str):
        hardware = Hardware.get(hardware)
    found: dict[str, float] = {}
    if hardware is not None:
        precision = resolve_precision(hardware, precision)
        found.update(device_inputs(hardware, precision))
    if model is not None:
        found.update({**model.shape.parameter_inputs(), **model.summary})
    values = dict(zip((s.name for s in law.inputs),
                      magnitudes(law, {**{k: v for k, v in found.items() if k in known},
                                       **inputs}, quantities=set(inputs))))
    return BoundScenario(law, values, model, hardware,
                         {"precision": precision} if hardware is not None else {})


class BoundScenario(Scenario):
    """A scenario of any law with every generic solver as a method (what :func:`bind`
    returns): ``solve``, ``sweep``, ``sensitivities``, ``synthesize``, ``crossing`` and
    ``max_fitting``. None of them knows the law: they read its roles from its card."""

    def solve(self):
        """Every output of the law and its derived results here, as a Result."""
        return solve(self)

    def sweep(self, **axes):
        """Every combination of the input ``axes`` ({name: values}), as a SweepResult."""
        return sweep(self, **axes)

    def sensitivities(self, output: str = "latency", uncertainty=None):
        """Exact elasticities of ``output`` to every lever of the law."""
        return sensitivities(self.solve(), output, uncertainty)

    def synthesize(self, target, lever: str):
        """The value of ``lever`` meeting ``target``, with the capacity respected."""
        return synthesize(self.solve(), target, lever)

    def crossing(self, unknown: str, lhs: str, rhs: str):
        """``(exact, first whole)`` ``unknown`` at which output ``lhs`` reaches ``rhs``."""
        return balance.crossing(self, unknown, lhs, rhs)

    def max_fitting(self, unknown: str = "b"):
        """``(exact, largest whole)`` ``unknown`` whose footprint fits the capacity."""
        return balance.max_fitting(self, unknown)
