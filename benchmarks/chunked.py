"""Sweeps larger than memory: ``symsys.sweep`` over slices of the batch axis, reduced as it goes.

``symsys.sweep`` materialises every configuration's columns at once (~100-200 bytes each), so
1e8 configurations would need tens of GB. :func:`sweep_chunked` calls it on consecutive slices
of ``batch_size`` (a ``range`` is sliced lazily: the 1e8-element axis itself is never built)
and folds each chunk into a reducer, so peak memory is that of one chunk, whatever the total.

This lives in ``benchmarks/`` because the package has no chunking API yet; the shape it would
take there is ``symsys.sweep(..., chunk_size=N, reduce=...)`` or an iterator of chunks.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np


def batch_chunks(batch_size, chunk_size: int) -> Iterator[np.ndarray]:
    """Consecutive slices of the batch axis, each at most ``chunk_size`` long.

    ``batch_size`` is a ``range`` (sliced without materialising it), an int n (meaning
    1..n) or a 1-D array-like (sliced as views).
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    if isinstance(batch_size, int | np.integer):
        batch_size = range(1, int(batch_size) + 1)
    if isinstance(batch_size, range):
        for start in range(0, len(batch_size), chunk_size):
            part = batch_size[start:start + chunk_size]
            yield np.arange(part.start, part.stop, part.step, dtype=np.int64)
        return
    array = np.asarray(batch_size)
    if array.ndim != 1:
        raise ValueError("batch_size must be 1-D")
    for start in range(0, len(array), chunk_size):
        yield array[start:start + chunk_size]


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

    Only the batch axis is chunked, so one chunk holds ``chunk_size`` x (models x devices x
    precisions x seq_lens) configurations: choose ``chunk_size`` with that in mind.
    """
    import symsys

    reducer = reducer if reducer is not None else BestConfiguration()
    for chunk in batch_chunks(batch_size, chunk_size):
        result = symsys.sweep(batch_size=chunk, **sweep_kwargs)
        reducer.update(result)
        del result
    return reducer.result()
