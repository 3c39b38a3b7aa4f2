"""Sweeps larger than memory: ``symsys.sweep`` over slices of the batch axis, reduced as it goes.

One ``symsys.sweep`` holds every configuration's columns at once (~100-200 bytes each), so 1e8
configurations would need tens of GB. ``symsys.sweep(..., chunk_size=N)`` yields results of at
most N configurations along the batch axis (a ``range`` is sliced lazily: the 1e8-element axis
is never built); :func:`sweep_chunked` folds them into a reducer, so peak memory is that of one
chunk, whatever the total.
"""

from __future__ import annotations

import math

import numpy as np


class BestConfiguration:
    """Reducer: counts, the fastest and the highest-throughput feasible configurations, and the
    first compute-bound batch (the crossover batch), from magnitudes only (no string columns)."""

    def __init__(self):
        self.configurations = 0
        self.feasible = 0
        self.compute_bound = 0
        self.chunks = 0
        self.min_latency_s = math.inf
        self.min_latency_batch = None
        self.max_throughput = -math.inf
        self.max_throughput_batch = None
        self.throughput_unit = None
        self.first_compute_bound_batch = None

    def update(self, result) -> None:
        latency = np.asarray(result["latency"].magnitude)
        compute = np.asarray(result["latency_compute"].magnitude)
        memory = np.asarray(result["latency_memory"].magnitude)
        throughput_q = result["throughput"]
        throughput = np.asarray(getattr(throughput_q, "magnitude", throughput_q))
        if self.throughput_unit is None and hasattr(throughput_q, "units"):
            self.throughput_unit = f"{throughput_q.units:~P}"
        feasible = np.asarray(result["feasible"], dtype=bool)
        batch = np.asarray(result["batch_size"])
        bound = compute >= memory

        self.chunks += 1
        self.configurations += len(latency)
        self.feasible += int(np.count_nonzero(feasible))
        self.compute_bound += int(np.count_nonzero(bound))
        if np.any(feasible):
            lat = np.where(feasible, latency, np.inf)
            i = int(np.argmin(lat))
            if lat[i] < self.min_latency_s:
                self.min_latency_s, self.min_latency_batch = float(lat[i]), int(batch[i])
            thr = np.where(feasible, throughput, -np.inf)
            i = int(np.argmax(thr))
            if thr[i] > self.max_throughput:
                self.max_throughput, self.max_throughput_batch = float(thr[i]), int(batch[i])
        if np.any(bound):
            first = int(batch[bound].min())
            if self.first_compute_bound_batch is None or first < self.first_compute_bound_batch:
                self.first_compute_bound_batch = first

    def result(self) -> dict:
        return {
            "configurations": self.configurations, "chunks": self.chunks,
            "feasible": self.feasible, "compute_bound": self.compute_bound,
            "min_latency_s": self.min_latency_s, "min_latency_batch": self.min_latency_batch,
            "max_throughput": self.max_throughput,
            "max_throughput_batch": self.max_throughput_batch,
            "throughput_unit": self.throughput_unit,
            "first_compute_bound_batch": self.first_compute_bound_batch,
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
