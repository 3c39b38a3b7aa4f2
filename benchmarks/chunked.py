"""Sweeps larger than memory: ``symsys.sweep`` over slices of the batch axis, reduced as it goes.

One ``symsys.sweep`` holds every configuration's columns at once (~100-200 bytes each), so 1e8
configurations would need tens of GB. ``symsys.sweep(..., chunk_size=N)`` yields results of at
most N configurations along the batch axis (a ``range`` is sliced lazily: the 1e8-element axis
is never built); :func:`sweep_chunked` folds them into a reducer, so peak memory is that of one
chunk, whatever the total. The reductions are the library's (:mod:`symsys.sweeps.reduce`).
"""

from __future__ import annotations

import math

import numpy as np

from symsys.sweeps import reduce


class BestConfiguration:
    """Counts, the fastest and the highest-throughput feasible configurations, and the first
    compute-bound batch (the crossover batch): five library reducers run in one pass."""

    def __init__(self):
        self.reducers = (reduce.Count(where="feasible"),
                         reduce.Count(where="bottleneck == Compute"),
                         reduce.Best("latency", per=()),
                         reduce.Best("throughput", per=()),
                         reduce.Best("batch_size", per=(), where="bottleneck == Compute"))
        self.partials = None
        self.chunks = 0

    def update(self, result) -> None:
        frame = reduce.ResultFrame(result)
        parts = [r.partial(frame) for r in self.reducers]
        self.partials = parts if self.partials is None else [
            r.combine(a, b) for r, a, b in zip(self.reducers, self.partials, parts)]
        self.chunks += 1

    def result(self) -> dict:
        feasible, bound, fastest, highest, first = (
            r.finalize(p) for r, p in zip(self.reducers, self.partials))

        def one(table, column, cast=float, empty=None):
            return cast(np.asarray(getattr(table[column], "magnitude", table[column]))[0]) \
                if len(table) else empty

        unit = (f"{highest['throughput'].units:~P}"
                if len(highest) and hasattr(highest["throughput"], "units") else None)
        return {
            "configurations": int(feasible["configurations"][0]), "chunks": self.chunks,
            "feasible": int(feasible["count"][0]), "compute_bound": int(bound["count"][0]),
            "min_latency_s": one(fastest, "latency", empty=math.inf),
            "min_latency_batch": one(fastest, "batch_size", int),
            "max_throughput": one(highest, "throughput", empty=-math.inf),
            "max_throughput_batch": one(highest, "batch_size", int),
            "throughput_unit": unit,
            "first_compute_bound_batch": one(first, "batch_size", int),
        }


def sweep_chunked(batch_size, chunk_size: int = 1_000_000, reducer=None, **sweep_kwargs):
    """``symsys.sweep(batch_size=chunk, **sweep_kwargs)`` for each chunk, folded into
    ``reducer`` (default :class:`BestConfiguration`); returns ``reducer.result()``.

    ``chunk_size`` counts configurations (models x devices x precisions x seq_lens x batches).
    """
    import symsys

    reducer = reducer if reducer is not None else BestConfiguration()
    if isinstance(batch_size, int | np.integer):
        batch_size = range(1, int(batch_size) + 1)
    for result in symsys.sweep(batch_size=batch_size, chunk_size=chunk_size, **sweep_kwargs):
        reducer.update(result)
        del result
    return reducer.result()
