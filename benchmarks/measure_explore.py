"""Design-space exploration at scale: best-per-model and Pareto reductions of a sweep over
hypothetical hardware, on the numpy path (chunked, one core) and on a local Dask cluster.

The grid: Llama-3-8B and Llama-3-70B x H100 with 1000 memory bandwidths (1-10 TB/s) x 100
capacities (16-512 GiB) x batch 1..B, decode at speed of light: 2e5 x B configurations.
Each run is a fresh process (``probe.py explore``), so its peak RSS is its own; the Dask
cluster is the default local one (threads in that process), so the peak covers the workers.
"""

from __future__ import annotations

from _common import run_probe

MODELS = ["Llama3_8B", "Llama3_70B"]
PER_BATCH = 2 * 1000 * 100
#: the Dask run of the README's benchmark (~1 min on 2 cores, so the whole run fits in ~10 min)
EXPLORE_DASK = 1e9
#: the grid of the README's "Exploring a design space" example (batch 1..50,000): ~6 min more
#: on 2 cores, so reproduced on its own (``run.py --only explore --explore-dask 1e10``)
EXAMPLE_GRID = 1e10


def grid(batches: int) -> dict:
    import numpy as np

    import symsys

    return dict(model=MODELS, hardware="H100", batch_size=range(1, batches + 1),
                bandwidth=symsys.Q_(np.linspace(1, 10, 1000), "TB/s"),
                capacity=symsys.Q_(np.linspace(16, 512, 100), "GiB"),
                columns=["latency", "throughput", "feasible"])


def reducers():
    from symsys.sweeps import reduce

    return (reduce.Best("throughput", per="model"),
            reduce.Pareto({"latency": "min", "throughput": "max"}))


def measure_explore(numpy_total: float, dask_total: float, timeout: float = 3600) -> dict:
    """Both runs, each in a fresh process, and whether their answers agree on the numpy
    run's grid (the Dask process reduces that subset too)."""
    numpy_batches = max(1, int(numpy_total) // PER_BATCH)
    dask_batches = max(1, int(dask_total) // PER_BATCH)
    out = {"numpy": run_probe("explore", "numpy", str(numpy_batches), timeout=timeout),
           "dask": run_probe("explore", "dask", str(dask_batches), str(numpy_batches),
                             timeout=timeout)}
    out["subset_equal"] = out["numpy"]["answer"] == out["dask"]["subset_answer"]
    return out
