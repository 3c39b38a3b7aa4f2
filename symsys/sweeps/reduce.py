"""Reductions of sweeps too large to hold: best per group, Pareto fronts, top-k, counts and
histograms, without the grid ever existing whole.

Every function takes a sweep in any of its forms and gives the same answer for each:

- a :class:`~symsys.solvers.sweep_result.SweepResult` (``symsys.sweep(...)``),
- an iterable of them (``symsys.sweep(..., chunk_size=N)``), folded chunk by chunk,
- a lazy Dask sweep (``symsys.sweep(..., backend="dask")``), reduced block by block on the
  cluster, only the small partial results coming back,
- a mapping of column name -> 1-D dask array (same chunks), one partial per block.

Each reducer is a partial result per piece, a ``combine`` of two partials and a ``finalize``;
ties are broken by the row number in the whole sweep (``SweepResult.row_index()``), so the
answer does not depend on how the sweep was cut. ``where=`` selects rows: ``"feasible"``
(the default of best/pareto/top_k: an answer that does not fit is no answer), or conditions
such as ``"latency <= 20 ms"``, ``"throughput >= 5k token/s"``, ``"bottleneck == Compute"``,
``"hardware != A100"``, in a list for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symsys.errors import InvalidParameter
from symsys.solvers.sweep_result import SweepResult

__all__ = ["best", "pareto", "boundary", "top_k", "feasible_count", "histogram", "apply",
           "Best", "Pareto", "TopK", "Count", "Histogram", "HistogramResult", "Where"]

from symsys.sweeps.rows import (  # noqa: F401  (ResultFrame, Where: public here)
    MAXIMIZE,
    ORDER,
    ColumnsFrame,
    ResultFrame,
    Where,
    _check_numeric,
    _concat,
    _frame,
    _positions,
    _result,
    _rows,
    _sense,
    _signed,
    _take,
)


# --- reducers ---------------------------------------------------------------------------------
class Best:
    """The best row per group: smallest (or largest) ``by`` among the rows ``where`` selects,
    ties to the lowest row number."""

    def __init__(self, by="throughput", per=("model",), where="feasible", sense=None):
        self.by, self.sense = by, _sense(by, sense)
        self.per = (per,) if isinstance(per, str) else tuple(per or ())
        self.where = Where(where)

    def partial(self, frame) -> dict:
        _check_numeric(frame, self.by, "by")
        for name in self.per:
            if name not in frame.category_names:
                raise InvalidParameter(f"per={name!r}: group by label columns: "
                                       f"{', '.join(frame.category_names)}")
        mask = self.where.mask(frame)
        value = _signed(frame, self.by, self.sense, None)
        out = {}
        for key, selected in _groups(frame, self.per, mask):  # selected None: every row
            i = int(np.argmin(value if selected is None else
                              np.where(selected, value, np.inf)))
            if selected is not None and not selected[i]:
                continue
            row = _rows(frame, np.array([i]))
            out[key] = (float(value[i]), int(row[0]["row"][0]), row)
        return out

    def combine(self, a: dict, b: dict) -> dict:
        out = dict(a)
        for key, found in b.items():
            if key not in out or found[:2] < out[key][:2]:
                out[key] = found
        return out

    def finalize(self, partial: dict) -> SweepResult:
        rows = ({}, {})
        for key in sorted(partial):
            rows = _concat(rows, partial[key][2])
        return _result(rows)


def _groups(frame, per, mask):
    """(group labels, boolean selection) for each group of ``per`` present in the frame."""
    if not per:
        yield (), mask
        return
    constant = getattr(frame, "constant", lambda name: None)
    fixed = [constant(name) for name in per]
    if all(code is not None for code in fixed):  # one group in the whole frame
        labels = [frame.category(name, np.zeros(1, dtype=np.int64))[1] for name in per]
        if mask is None or mask.any():
            yield tuple(ls[c] for ls, c in zip(labels, fixed)), mask
        return
    codes = [frame.category(name) for name in per]
    sizes = [len(labels) for _, labels in codes]
    key = np.ravel_multi_index([c for c, _ in codes], sizes) if len(per) > 1 else codes[0][0]
    for flat in range(int(np.prod(sizes))):
        selected = key == flat
        if mask is not None:
            selected &= mask
        if selected.any():
            parts = np.unravel_index(flat, sizes)
            yield tuple(labels[p] for (_, labels), p in zip(codes, parts)), selected


class Pareto:
    """The rows no other selected row beats on every objective (2 or 3 of them); among
    rows equal on all objectives, the lowest row number."""

    def __init__(self, objectives=None, where="feasible"):
        objectives = objectives or {"latency": "min", "throughput": "max"}
        if isinstance(objectives, list | tuple):
            objectives = {name: _sense(name, None) for name in objectives}
        if not 2 <= len(objectives) <= 3:
            raise InvalidParameter(f"objectives={objectives!r}: a Pareto front needs 2 or 3")
        self.objectives = {name: _sense(name, sense) for name, sense in objectives.items()}
        self.where = Where(where)

    def partial(self, frame):
        for name in self.objectives:
            _check_numeric(frame, name, "objectives")
        positions = _positions(frame, self.where)
        columns = [_signed(frame, name, sense, positions)
                   for name, sense in self.objectives.items()]
        if positions is None:
            positions = np.arange(frame.length)
        if not len(positions):
            return None
        if len(columns) == 2 and len(positions) > 20_000:  # thinned before any stacking
            thin = _staircase(*columns)
            columns, positions = [c[thin] for c in columns], positions[thin]
        points = np.stack(columns, axis=1)
        # within one frame, positions are in row order: they break ties until rows are known
        keep = front(points, positions)
        rows = _rows(frame, positions[keep])
        return points[keep], rows

    def combine(self, a, b):
        if a is None or b is None:
            return a if b is None else b
        points = np.concatenate([a[0], b[0]])
        rows = _concat(a[1], b[1])
        keep = front(points, rows[0]["row"])
        return points[keep], _take(rows, keep)

    def finalize(self, partial) -> SweepResult:
        if partial is None:
            return SweepResult.from_rows({})
        points, rows = partial
        order = np.lexsort((rows[0]["row"], *points.T[::-1]))
        return _result(_take(rows, order))


def front(points: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Positions of the non-dominated rows of ``points`` (n x k, every objective minimised),
    duplicates resolved to the lowest ``index``; large inputs are first thinned by the front
    of a sample, which is exact (a row a sample row dominates is dominated)."""
    n = len(points)
    candidates = np.arange(n)
    if n > 20_000 and points.shape[1] == 2:
        candidates = _staircase(points[:, 0], points[:, 1])
    elif n > 20_000:
        sample = np.arange(0, n, n // 4096)
        s = sample[_exact_front(points[sample], index[sample])]
        candidates = np.flatnonzero(~_dominated_by(points, index, points[s], index[s]))
    keep = _exact_front(points[candidates], index[candidates])
    return candidates[keep]


def _staircase(x0, x1) -> np.ndarray:
    """Rows that may be on a 2-objective front, in O(n): bin objective 0; a row whose
    objective 1 is no better than the best of every lower bin is dominated by that row
    (lower bin: strictly smaller objective 0; float binning is monotonic, so this is exact)."""
    low, high = x0.min(), x0.max()
    if not high > low:
        return np.arange(len(x0))
    bins = 1 << 16
    which = ((x0 - low) * (bins / (high - low))).astype(np.int64)  # x0 = high: bin `bins`
    best = np.full(bins + 1, np.inf)
    np.minimum.at(best, which, x1)
    earlier = np.concatenate([[np.inf], np.minimum.accumulate(best)[:-1]])
    return np.flatnonzero(x1 < earlier[which])


def _exact_front(points, index) -> np.ndarray:
    order = np.lexsort((index, *points.T[::-1]))  # by objective 0, then 1, ..., then row
    ordered = points[order]
    if points.shape[1] == 2:  # a row is on the front iff it beats every earlier one on obj 1
        earlier = np.minimum.accumulate(np.concatenate([[np.inf], ordered[:-1, 1]]))
        return np.sort(order[ordered[:, 1] < earlier])
    kept: list[int] = []
    for j, point in enumerate(ordered):  # an earlier row in this order is never dominated
        if not kept or not np.any(np.all(ordered[kept] <= point, axis=1)):  # by a later one
            kept.append(j)
    return np.sort(order[kept])


def _dominated_by(points, index, ref, ref_index) -> np.ndarray:
    """Rows of ``points`` some row of ``ref`` dominates (or equals with a lower index)."""
    if points.shape[1] == 2:
        order = np.argsort(ref[:, 0], kind="stable")
        r0, r1, ri = ref[order, 0], ref[order, 1], ref_index[order]
        j = np.searchsorted(r0, points[:, 0], side="right") - 1
        has = j >= 0
        j = np.maximum(j, 0)
        better = (r1[j] < points[:, 1]) | ((r1[j] == points[:, 1])
                                            & ((r0[j] < points[:, 0]) | (ri[j] < index)))
        return has & better
    out = np.zeros(len(points), bool)
    for p, i in zip(ref[:64], ref_index[:64]):
        le = np.all(points >= p, axis=1)
        out |= le & (np.any(points > p, axis=1) | (i < index))
    return out


class TopK:
    """The ``k`` best rows by ``by`` (ties to the lowest row number), best first."""

    def __init__(self, k: int, by="throughput", where="feasible", sense=None):
        from symsys.solvers import checks

        self.k = checks.positive_int("k", k)
        self.by, self.sense, self.where = by, _sense(by, sense), Where(where)

    def partial(self, frame):
        _check_numeric(frame, self.by, "by")
        positions = _positions(frame, self.where)
        value = _signed(frame, self.by, self.sense, positions)
        if positions is None:
            positions = np.arange(frame.length)
        if len(value) > self.k:
            kth = np.partition(value, self.k - 1)[self.k - 1]
            chosen = value <= kth
            positions, value = positions[chosen], value[chosen]
        return self._select(value, _rows(frame, positions))

    def _select(self, value, rows):
        order = np.lexsort((rows[0]["row"], value))[:self.k]
        return value[order], _take(rows, order)

    def combine(self, a, b):
        return self._select(np.concatenate([a[0], b[0]]), _concat(a[1], b[1]))

    def finalize(self, partial) -> SweepResult:
        return _result(partial[1])


class Count:
    """Configurations and how many of them ``where`` selects, per group."""

    def __init__(self, per=(), where="feasible"):
        self.per = (per,) if isinstance(per, str) else tuple(per or ())
        self.where = Where(where)

    def partial(self, frame) -> dict:
        mask = self.where.mask(frame)
        out = {}
        for key, selected in _groups(frame, self.per, None):
            total = frame.length if selected is None else int(selected.sum())
            hits = selected if mask is None else mask if selected is None else selected & mask
            out[key] = np.array([total, total if hits is None else int(hits.sum())])
        return out

    def combine(self, a, b):
        return {k: a.get(k, 0) + b.get(k, 0) for k in {*a, *b}}

    def finalize(self, partial) -> SweepResult:
        keys = sorted(partial)
        columns = {name: [k[i] for k in keys] for i, name in enumerate(self.per)}
        columns["configurations"] = [int(partial[k][0]) for k in keys]
        columns["count"] = [int(partial[k][1]) for k in keys]
        return SweepResult.from_rows(columns)


@dataclass
class HistogramResult:
    """Counts of a column's values between ``edges`` (a Quantity where the column has
    units); values outside the edges are not counted."""

    counts: np.ndarray
    edges: object
    column: str


class Histogram:
    """Counts of ``column`` over fixed ``bins`` (edges: a Quantity, or numbers in the
    column's canonical unit) among the rows ``where`` selects."""

    def __init__(self, column: str, bins, where=None):
        self.column, self.where, self.bins = column, Where(where), bins
        if not hasattr(bins, "units"):
            self._check(np.asarray(bins, dtype=float))

    def _check(self, edges):
        if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
            raise InvalidParameter(f"bins={self.bins!r}: expected increasing edges (at least "
                                   "two), fixed before the sweep is cut")
        return edges

    def partial(self, frame):
        """(counts, edges in the column's unit, that unit): partials travel between
        processes, so each carries its edges."""
        _check_numeric(frame, self.column, "column")
        unit = frame.unit(self.column)
        edges = self.bins.m_as(unit) if hasattr(self.bins, "units") else self.bins
        edges = self._check(np.asarray(edges, dtype=float))
        values = frame.numeric(self.column, _positions(frame, self.where))
        return np.histogram(values, edges)[0], edges, unit

    def combine(self, a, b):
        return a[0] + b[0], a[1], a[2]

    def finalize(self, partial) -> HistogramResult:
        from symsys.units import to_quantity

        counts, edges, unit = partial
        if unit not in (None, "", "dimensionless"):
            edges = to_quantity(edges, unit)
        return HistogramResult(counts, edges, self.column)


# --- running reducers over any form of a sweep -------------------------------------------------
def apply(source, *reducers, progress=None) -> list:
    """Run several reducers over ``source`` in one pass; their results, in order.

    Parameters
    ----------
    source : SweepResult, iterable of SweepResult, DaskSweep, or mapping of dask arrays
    reducers : Best, Pareto, TopK, Count, Histogram
    progress : bool, optional
        Progress bar over the chunks (default: only when stderr is a terminal).
    """
    if not reducers:
        raise InvalidParameter("apply: give at least one reducer")
    if hasattr(source, "reduce_with"):  # a lazy Dask sweep: partials on the cluster
        partials = source.reduce_with(reducers, progress=progress)
    elif isinstance(source, SweepResult):
        partials = [r.partial(ResultFrame(source)) for r in reducers]
    elif isinstance(source, dict):
        partials = _dask_columns(source, reducers, progress)
    else:
        partials = None
        from symsys.solvers.progress import bar

        total = len(source) if hasattr(source, "__len__") else None
        shown = progress if progress is not None else getattr(source, "progress", None)
        with bar(total, "chunks", shown) as tick:
            for piece in source:
                frame = _frame(piece)
                parts = [r.partial(frame) for r in reducers]
                partials = parts if partials is None else [
                    r.combine(a, b) for r, a, b in zip(reducers, partials, parts)]
                tick()
        if partials is None:
            raise InvalidParameter("apply: the sweep has no chunks")
    return [r.finalize(p) for r, p in zip(reducers, partials)]


def _dask_columns(columns: dict, reducers, progress) -> list:
    """Mapping name -> 1-D dask array: one partial per block (computed together)."""
    import dask

    arrays = dict(columns)
    first = next(iter(arrays.values()))
    arrays = {k: v.rechunk(first.chunks) for k, v in arrays.items()}
    units = {k: f"{v._meta.units}" for k, v in arrays.items() if hasattr(v._meta, "units")}
    starts = np.cumsum([0, *first.chunks[0][:-1]])
    tasks = [dask.delayed(_columns_partials)({k: v.blocks[i] for k, v in arrays.items()},
                                             int(start), units, reducers)
             for i, start in enumerate(starts)]
    partials = None
    for parts in dask.compute(*tasks):
        partials = parts if partials is None else [
            r.combine(a, b) for r, a, b in zip(reducers, partials, parts)]
    return partials


def _columns_partials(block: dict, offset: int, units: dict, reducers) -> list:
    frame = ColumnsFrame(block, offset, units)
    return [r.partial(frame) for r in reducers]


def best(source, by="throughput", per=("model",), where="feasible", sense=None,
         progress=None) -> SweepResult:
    """The best configuration per group.

    Parameters
    ----------
    source : a sweep in any form (see the module docstring)
    by : str
        The column to optimise (``"throughput"`` is maximised, others minimised).
    per : str or tuple of str
        Label columns to group by (``()``: one best overall).
    where : str or list of str
        Row conditions (default ``"feasible"``), e.g. ``["feasible", "latency <= 20 ms"]``.
    sense : "min" or "max", optional
        Override the direction of ``by``.

    Returns
    -------
    SweepResult with one row per group (its ``row`` column: the row number in the sweep).
    """
    return apply(source, Best(by, per, where, sense), progress=progress)[0]


def pareto(source, objectives=None, where="feasible", progress=None) -> SweepResult:
    """The Pareto front over 2 or 3 columns.

    Parameters
    ----------
    source : a sweep in any form
    objectives : mapping column -> "min"/"max", or a list of columns
        Default ``{"latency": "min", "throughput": "max"}``.
    where : str or list of str
        Row conditions (default ``"feasible"``).

    Returns
    -------
    SweepResult of the front, sorted by the first objective.
    """
    return apply(source, Pareto(objectives, where), progress=progress)[0]


def boundary(source, axes=("bandwidth", "capacity"), where="feasible", progress=None):
    """The feasible region's boundary over design axes: the Pareto front of the selected
    rows with each axis minimised (e.g. the least bandwidth for each capacity that meets
    ``where=["feasible", "latency <= 20 ms"]``)."""
    return pareto(source, {axis: "min" for axis in axes}, where, progress)


def top_k(source, k: int, by="throughput", where="feasible", sense=None,
          progress=None) -> SweepResult:
    """The ``k`` best rows by ``by`` (see :func:`best` for the parameters), best first."""
    return apply(source, TopK(k, by, where, sense), progress=progress)[0]


def feasible_count(source, per=(), where="feasible", progress=None) -> SweepResult:
    """Per group (``per``: label columns), the configurations and how many of them meet
    ``where`` (default: fit in memory): columns ``configurations`` and ``count``."""
    return apply(source, Count(per, where), progress=progress)[0]


def histogram(source, column: str, bins, where=None, progress=None) -> HistogramResult:
    """Counts of ``column`` over the fixed edges ``bins`` (a Quantity or canonical numbers)."""
    return apply(source, Histogram(column, bins, where), progress=progress)[0]
