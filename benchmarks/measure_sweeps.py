"""Sweep figures: warm in-process sweeps by size, one sweep's memory in a fresh process, and a
chunked run whose peak must stay near one chunk's."""

from __future__ import annotations

import gc
import resource
import time

from _common import HARDWARE_KEY, MODEL_KEY, run_probe, summary


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def measure_sweeps(sizes: list[int], repeat: int) -> dict:
    import numpy as np

    import symsys

    symsys.sweep(model=MODEL_KEY, hardware=HARDWARE_KEY, batch_size=np.arange(1, 1001))
    out = {}
    for n in sizes:
        batch = np.arange(1, n + 1)
        times, cpu, faults = [], [], []
        for _ in range(repeat if n < 10**7 else max(3, repeat // 2)):
            gc.collect()
            before = _minor_faults()
            cpu_start = time.process_time()
            start = time.perf_counter()
            result = symsys.sweep(model=MODEL_KEY, hardware=HARDWARE_KEY, batch_size=batch)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - cpu_start)
            faults.append(_minor_faults() - before)
            assert len(result) == n
            del result
        stats = summary(times, cpu)
        out[str(n)] = {"configurations": n, "seconds": stats,
                       "configs_per_s": n / stats["median"],
                       "configs_per_cpu_s": n / stats["cpu_median"],
                       "ns_per_config": stats["median"] / n * 1e9,
                       "page_faults_per_config": sorted(faults)[len(faults) // 2] / n}
        del batch
    return out


def measure_memory(sizes: list[int]) -> dict:
    out = {}
    for n in sizes:
        probe = run_probe("sweep-mem", str(n))
        probe["peak_bytes_per_config"] = probe["tracemalloc_peak_bytes"] / n
        probe["result_bytes_per_config"] = probe["result_bytes"] / n
        probe["rss_growth_bytes"] = probe["peak_rss_bytes"] - probe["rss_before_bytes"]
        out[str(n)] = probe
    per_config = [out[str(n)]["peak_bytes_per_config"] for n in sizes[-2:]]
    out["linear"] = {
        "sizes_compared": sizes[-2:], "peak_bytes_per_config": per_config,
        "ratio": per_config[-1] / per_config[0],
        "pass": 0.8 <= per_config[-1] / per_config[0] <= 1.25,
        "rule": "peak bytes/configuration at the largest size within 0.8-1.25x of the "
                "next size down",
    }
    return out


def measure_chunked(total: int, chunk: int, one_chunk_peak: float | None) -> dict:
    probe = run_probe("chunked", str(total), str(chunk), timeout=1800)
    probe["rss_growth_bytes"] = probe["peak_rss_bytes"] - probe["rss_before_bytes"]
    if one_chunk_peak:
        probe["peak_vs_one_chunk_sweep"] = probe["tracemalloc_peak_bytes"] / one_chunk_peak
        probe["bounded"] = probe["peak_vs_one_chunk_sweep"] <= 1.5
    import symsys

    crossover = symsys.Engine.solve(model=symsys.Models.Llama3_8B,
                                    hardware=symsys.Hardware.Cloud.H100).crossover_batch
    probe["crossover_batch_closed_form"] = crossover
    probe["crossover_matches"] = probe["reduced"]["first_compute_bound_batch"] == crossover
    return probe
