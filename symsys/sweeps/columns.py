"""The columns of evaluated blocks of a sweep's grid, and their assembly into a result.

:class:`BlockView` gives one block's columns (labels as codes, numbers as canonical
magnitudes, row numbers in the whole sweep), whole or at chosen positions only, so reducers
read no more than they keep; :func:`assemble` joins blocks into a lazy :class:`SweepResult`.
"""

from __future__ import annotations

import math

import numpy as np

from symsys.solvers.result import regime_codes
from symsys.solvers.sweep_result import SweepResult
from symsys.sweeps.grid import (
    AXES,
    BATCH_AXIS,
    COLUMNS,
    HYPOTHETICAL,
    INPUTS_AXIS,
    OVER_CAPACITY,
    QUANTITIES,
    SEQ_AXIS,
    TP_AXIS,
    VARIANT_LABELS,
    Plan,
    _sliced,
    resolve,
)
from symsys.units import to_quantity


class BlockView:
    """The columns of one evaluated block of a plan, flattened in C order.

    ``category(name)`` gives (codes, labels), ``numeric(name)`` canonical magnitudes (or
    booleans), ``index()`` each configuration's row number in the whole sweep; each takes
    ``positions`` (flat positions in the block) to build only those rows.
    """

    def __init__(self, plan: Plan, slices: tuple, values: dict, wanted):
        self.plan, self.slices, self.values, self.wanted = plan, slices, values, wanted
        self.shape = tuple(s.stop - s.start for s in slices)
        self.length = math.prod(self.shape)
        self._whole: dict = {}  # whole-block columns, built once for every reducer

    def axis(self, axis: int, positions=None) -> np.ndarray:
        start = self.slices[axis].start
        if positions is not None:
            return np.unravel_index(positions, self.shape)[axis] + start
        view = [1] * len(AXES)
        view[axis] = self.shape[axis]
        small = np.arange(start, start + self.shape[axis], dtype=np.int64).reshape(view)
        return np.broadcast_to(small, self.shape).reshape(-1)

    @property
    def category_names(self) -> list[str]:
        return ["model", *VARIANT_LABELS, "phase",
                *(["bottleneck"] if "bottleneck" in self.wanted else []),
                *(["throughput_unit"] if self.plan.mixed_rates else []),
                *(["reason"] if self.plan.parallel and "feasible" in self.wanted else [])]

    @property
    def numeric_names(self) -> list[str]:
        return [*(["tensor_parallel"] if self.plan.parallel else []), "batch_size", "seq_len",
                *self.plan.hypothetical, *self.plan.swept,
                *(c for c in COLUMNS if c in self.wanted and c != "bottleneck")]

    def category(self, name: str, positions=None) -> tuple[np.ndarray, list]:
        if positions is None:
            if ("category", name) not in self._whole:
                self._whole["category", name] = self._category(name)
            return self._whole["category", name]
        return self._category(name, positions)

    def constant(self, name: str) -> int | None:
        """The code of label column ``name`` if the whole block has one value, else None
        (a block usually holds one model and one device: grouping costs nothing then)."""
        if name == "phase" or (name == "throughput_unit" and self.plan.mixed_rates):
            return 0
        axis = 0 if name == "model" else 1 if name in VARIANT_LABELS else None
        if axis is None or self.shape[axis] != 1:
            return None
        return int(self._category(name, np.zeros(1, dtype=np.int64))[0][0])

    def _category(self, name: str, positions=None) -> tuple[np.ndarray, list]:
        plan = self.plan
        if name == "model":
            return self.axis(0, positions), list(plan.model_keys)
        if name in VARIANT_LABELS:
            own = [v[VARIANT_LABELS.index(name)] for v in plan.variants]
            labels = list(dict.fromkeys(own))
            remap = np.array([labels.index(x) for x in own])
            return remap[self.axis(1, positions)], labels
        if name == "phase":
            n = self.length if positions is None else len(positions)
            return np.zeros(n, dtype=np.int8), [plan.phase]
        if name == "throughput_unit":
            n = self.length if positions is None else len(positions)
            return np.zeros(n, dtype=np.int8), [self.plan.card["units"][self.output_of(
                "throughput")]]
        if name == "bottleneck":
            regimes = plan.card["regimes"]
            terms = {t: self._output(t, positions) for _, t in regimes}
            return regime_codes(regimes, terms), [label for label, _ in regimes]
        if name == "reason":  # "" where feasible; a forbidden degree's reason first
            codes = np.where(self._fits(positions), 0, 1).astype(np.int16)
            if plan.forbidden is not None:
                forbidden = self._at(plan.forbidden, positions)
                codes = np.where(forbidden > 0, forbidden + 1, codes)
            return codes, ["", OVER_CAPACITY, *plan.reasons]
        raise KeyError(name)

    def _output(self, name: str, positions=None) -> np.ndarray:
        column = self.values.get(name)
        if column is None:  # t_comm of a single-device law (every degree 1): no communication
            return np.zeros(self.length if positions is None else len(positions))
        return column if positions is None else column[positions]

    def _at(self, array: np.ndarray, positions=None) -> np.ndarray:
        """A plan array (broadcastable to the grid) at every row of the block, or at
        ``positions``."""
        if positions is None:
            block = _sliced(array, self.slices)
            return np.broadcast_to(block, self.shape).reshape(-1)
        return array[tuple(self.axis(a, positions) if n > 1 else 0
                           for a, n in enumerate(array.shape))]

    def _fits(self, positions=None) -> np.ndarray:
        """Whether each row's per-device footprint is within the capacity."""
        footprint = self._output(self.plan.card["footprint"], positions)
        if positions is None:  # broadcast: no index arrays
            capacity = _sliced(self.plan.capacity, self.slices)
            return (footprint.reshape(self.shape) <= capacity).reshape(-1)
        return footprint <= self._at(self.plan.capacity, positions)

    def output_of(self, column: str) -> str:
        role = "rate" if column == "throughput" else QUANTITIES[column]
        return resolve(self.plan.card, role)

    def numeric(self, name: str, positions=None) -> np.ndarray:
        if positions is None:
            if name not in self._whole:
                self._whole[name] = self._numeric(name)
            return self._whole[name]
        return self._numeric(name, positions)

    def _numeric(self, name: str, positions=None) -> np.ndarray:
        plan = self.plan
        if name == "batch_size":
            index = self.axis(BATCH_AXIS, positions)
            if isinstance(plan.batches, range):
                return plan.batches.start + index * plan.batches.step
            return np.asarray(plan.batches)[index]
        if name == "seq_len":
            return plan.seqs[self.axis(SEQ_AXIS, positions)]
        if name == "tensor_parallel":
            return plan.degrees[self.axis(TP_AXIS, positions)]
        if name in plan.hypothetical:
            return plan.hypothetical[name][self.axis(AXES.index(name), positions)]
        if name in plan.swept:
            return plan.swept[name][self.axis(INPUTS_AXIS, positions)]
        if name == "feasible":
            fits = self._fits(positions)
            if plan.forbidden is None:
                return fits
            return fits & (self._at(plan.forbidden, positions) == 0)
        if name == "communication_share":  # of the step's latency
            return (self._output(self.output_of("latency_communication"), positions)
                    / self._output(self.output_of("latency"), positions))
        if name in QUANTITIES or name == "throughput":
            return self._output(self.output_of(name), positions)
        raise KeyError(name)

    def unit(self, name: str) -> str | None:
        if name == "throughput" and self.plan.mixed_rates:
            return None
        if name == "latency_communication":  # absent from a single-device law's card
            return "s"
        if name in QUANTITIES or name == "throughput":
            return self.plan.card["units"][self.output_of(name)]
        if name in HYPOTHETICAL:
            return HYPOTHETICAL[name][1]
        if name in self.plan.swept_units:
            return self.plan.swept_units[name]
        return None

    def index(self, positions=None) -> np.ndarray:
        axes = tuple(self.axis(a, positions) for a in range(len(AXES)))
        return self.plan.offset + np.ravel_multi_index(axes, self.plan.shape)


def assemble(plans, values, blocks, skipped, wanted) -> SweepResult:
    """One :class:`SweepResult` of evaluated blocks (one per plan, in plan order); columns
    are built on first access."""
    views = [BlockView(p, b, v, wanted) for p, b, v in zip(plans, blocks, values)]

    def joined(get):
        parts = [get(v) for v in views]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    columns = {c: to_quantity(joined(lambda v, c=c: v.numeric(c)), views[0].unit(c))
               for c in QUANTITIES if c in wanted}
    starts = np.cumsum([0] + [v.length for v in views[:-1]])
    categories = {}
    for name in views[0].category_names:
        labels = sorted({x for v in views for x in v.category(name, np.zeros(0, int))[1]})

        def codes(positions=None, name=name, labels=labels):
            """Codes of every row, or of the rows at ``positions`` only (a reducer's
            winners: no column of the whole chunk is built for them)."""
            remaps = [np.array([labels.index(x) for x in v.category(
                name, np.zeros(0, dtype=np.int64))[1]], dtype=np.int64) for v in views]
            if positions is None:
                parts = [r[v.category(name)[0]] for r, v in zip(remaps, views)]
                return parts[0] if len(parts) == 1 else np.concatenate(parts)
            return _by_view(views, starts, positions,
                            lambda k, local: remaps[k][views[k].category(name, local)[0]])

        codes.takes_positions = True  # read by reduce.ResultFrame

        categories[name] = (codes, labels)
    lazy = {name: (lambda n=name: joined(lambda v: v.numeric(n)))
            for name in ("tensor_parallel", "batch_size", "seq_len", "feasible",
                         "communication_share")
            if name in wanted or name in ("batch_size", "seq_len")
            or (name == "tensor_parallel" and plans[0].parallel)}
    for name in plans[0].hypothetical:
        lazy[name] = (lambda n=name: to_quantity(joined(lambda v: v.numeric(n)),
                                                 HYPOTHETICAL[n][1]))
    for name, unit in plans[0].swept_units.items():  # a law input swept by name
        lazy[name] = (lambda n=name, u=unit: joined(lambda v: v.numeric(n)) if u == "1"
                      else to_quantity(joined(lambda v: v.numeric(n)), u))
    units = [v.plan.card["units"][v.output_of("throughput")] for v in views]
    if "throughput" in wanted and len(set(units)) == 1:
        lazy["throughput"] = lambda: to_quantity(joined(lambda v: v.numeric("throughput")),
                                                 units[0])
    elif "throughput" in wanted:  # tokens/s and samples/s together: magnitudes, with the unit
        # of each row beside them
        labels = sorted(set(units))
        lazy["throughput"] = lambda: joined(lambda v: v.numeric("throughput"))
        categories["throughput_unit"] = (
            (lambda: np.concatenate([np.full(v.length, labels.index(u)) for v, u in
                                     zip(views, units)])), labels)
    whole = all(v.length == p.size for v, p in zip(views, plans))

    def index(positions=None):
        if positions is None:
            return joined(lambda v: v.index())
        return _by_view(views, starts, positions, lambda k, local: views[k].index(local))

    return SweepResult(columns, list(skipped), categories, lazy,
                       sum(v.length for v in views), None if whole else index)


def _by_view(views, starts, positions, get) -> np.ndarray:
    """``get(k, local positions)`` for the rows at ``positions`` of joined views."""
    positions = np.asarray(positions, dtype=np.int64)
    which = np.searchsorted(starts, positions, side="right") - 1
    out = np.empty(len(positions), dtype=np.int64)
    for k in range(len(views)):
        mine = which == k
        if mine.any():
            out[mine] = get(k, positions[mine] - starts[k])
    return out
