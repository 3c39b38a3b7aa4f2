"""Measurements that need a fresh interpreter, run by ``benchmarks/run.py`` as subprocesses.

    python benchmarks/probe.py sweep-mem N          # one N-configuration sweep: time, memory
    python benchmarks/probe.py chunked N CHUNK      # N configurations in chunks: time, memory
    python benchmarks/probe.py explore numpy B     # design-space grid, batch 1..B, chunked numpy
    python benchmarks/probe.py explore dask B [S]  # the same on a local Dask cluster (+ subset S)
    python benchmarks/probe.py cli-breakdown        # where a cold `symsys solve` spends time
    python benchmarks/probe.py cli-profile          # cProfile attribution of the same
    python benchmarks/probe.py compare ROUNDS MIN_TIME TOOL...  # symsys, mlsysim and
                                                    # llm-analysis timed round-robin

The last line of stdout is one JSON object.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path

START = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent))

MODEL, HARDWARE = "Llama3_8B", "H100"


def _status(field: str) -> int | None:
    """A memory figure from /proc/self/status in bytes (Linux), or None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_peak() -> int:
    """Reset the resident-set high-water mark to the current RSS; return that RSS (bytes).

    ``ru_maxrss`` cannot be used: Linux carries it across fork/exec from the parent.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    return _status("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _peak_rss() -> int:
    return _status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _warm():
    import numpy as np

    import symsys

    symsys.sweep(model=MODEL, hardware=HARDWARE, batch_size=np.arange(1, 1001))


def sweep_mem(n: int) -> dict:
    import gc

    import numpy as np

    import symsys

    _warm()
    batch = np.arange(1, n + 1)
    gc.collect()
    rss_before = _reset_peak()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    result = symsys.sweep(model=MODEL, hardware=HARDWARE, batch_size=batch)
    seconds = time.perf_counter() - start
    # read the columns the chunked run's reducer reads (they are built lazily), so one sweep
    # and one chunk of the chunked run are measured doing the same work
    from chunked import BestConfiguration

    BestConfiguration().update(result)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rows = len(result)
    return {"configurations": rows, "seconds": seconds, "configs_per_s": rows / seconds,
            "tracemalloc_peak_bytes": peak - base, "result_bytes": current - base,
            "rss_before_bytes": rss_before, "peak_rss_bytes": _peak_rss(),
            "input_axis_bytes": int(batch.nbytes)}


def chunked(n: int, chunk: int) -> dict:
    from chunked import sweep_chunked

    _warm()
    rss_before = _reset_peak()
    tracemalloc.start()
    start = time.perf_counter()
    reduced = sweep_chunked(range(1, n + 1), chunk_size=chunk, model=MODEL, hardware=HARDWARE)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"configurations": reduced["configurations"], "chunk_size": chunk,
            "seconds": seconds, "configs_per_s": reduced["configurations"] / seconds,
            "tracemalloc_peak_bytes": peak, "rss_before_bytes": rss_before,
            "peak_rss_bytes": _peak_rss(), "reduced": reduced}


def explore(backend: str, batches: int, subset: int | None = None) -> dict:
    """Best per model + Pareto front of ``measure_explore.grid(batches)``: time, peak RSS."""
    from measure_explore import grid, reducers

    import symsys
    from symsys.sweeps import reduce

    symsys.sweep(**{**grid(1), "batch_size": [1]})  # kernels loaded, registry read
    out: dict = {"backend": backend, "batches": batches}
    if backend == "dask":
        from symsys.sweeps.on_dask import client_for

        client = client_for(None)  # the cluster's start-up is not the sweep's time
        out["workers"] = len(client.scheduler_info()["workers"])
        if subset:
            lazy = symsys.sweep(**grid(subset), backend="dask", progress=False)
            out["subset_answer"] = [r.to_dict() for r in reduce.apply(lazy, *reducers())]
    rss_before = _reset_peak()
    cpu = time.process_time()
    start = time.perf_counter()
    if backend == "dask":
        source = symsys.sweep(**grid(batches), backend="dask", progress=False)
        out["blocks"], out["chunk_size"] = source.blocks, source.chunk_size
    else:
        source = symsys.sweep(**grid(batches), chunk_size=1_000_000)
        out["blocks"], out["chunk_size"] = len(source), 1_000_000
    answers = reduce.apply(source, *reducers(), progress=False)
    seconds = time.perf_counter() - start
    configurations = len(source) if backend == "dask" else source.configurations
    best, front = answers
    out.update(configurations=configurations, seconds=seconds,
               cpu_seconds=time.process_time() - cpu,
               configs_per_s=configurations / seconds, rss_before_bytes=rss_before,
               peak_rss_bytes=_peak_rss(), answer=[r.to_dict() for r in answers],
               best=[{"model": str(m), "throughput": float(t), "batch_size": int(b),
                      "bandwidth_TBps": float(w) / 1e12, "capacity_GiB": float(c) / 2**30}
                     for m, t, b, w, c in zip(best["model"], best["throughput"].magnitude,
                                              best["batch_size"], best["bandwidth"].magnitude,
                                              best["capacity"].magnitude)],
               pareto_points=len(front))
    return out


def cli_breakdown() -> dict:
    """The real ``symsys solve`` path in this process: what it costs and what it loads."""
    import contextlib
    import io

    before = time.perf_counter()
    from symsys.cli import main

    imported = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        main(["solve", MODEL, HARDWARE])
    first = time.perf_counter()
    loaded = {name: name in sys.modules for name in (
        "numpy", "sympy", "pint", "matplotlib", "symsys.units", "symsys.laws",
        "symsys.compile", "symsys.kernels", "symsys.solvers.synthesis")}
    with contextlib.redirect_stdout(io.StringIO()):
        main(["solve", MODEL, HARDWARE])
    second = time.perf_counter()
    phases = [
        {"phase": "interpreter start -> probe (not counted)", "seconds": 0.0},
        {"phase": "probe start -> import symsys.cli", "seconds": imported - before},
        {"phase": "cli.main(['solve', ...]): first answer", "seconds": first - imported},
        {"phase": "cli.main again in the same process (warm)", "seconds": second - first},
    ]
    return {"phases": phases[1:], "total_s": first - START, "loaded": loaded}


#: (path suffix, function) -> label, for the cProfile attribution of a cold CLI run
_PROFILE_KEYS = [
    ("symsys/cli.py", "build_parser", "cli.build_parser (all command modules)"),
    ("symsys/units.py", "<module>", "symsys.units (pint registry)"),
    ("symsys/laws/__init__.py", "<module>", "symsys.laws import (law construction)"),
    ("symsys/laws/serving.py", "<module>", "  of which laws/serving.py (summation)"),
    ("symsys/registry/common.py", "_load", "registry TOML load"),
    ("symsys/laws/base.py", "_flat", "Law._flat (derived closed forms)"),
    ("sympy/solvers/solvers.py", "solve", "  sympy.solve"),
    ("sympy/simplify/simplify.py", "simplify", "  sympy.simplify"),
    ("sympy/utilities/lambdify.py", "lambdify", "sympy.lambdify"),
    ("sympy/simplify/cse_main.py", "cse", "  of which cse"),
    ("symsys/kernels.py", "kernel", "symsys.kernels.kernel (disk-cached kernels)"),
    ("symsys/commands/solve.py", "run", "commands/solve.run (solve + format)"),
]


def cli_profile() -> dict:
    import contextlib
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    with contextlib.redirect_stdout(io.StringIO()):
        profiler.enable()
        from symsys.cli import main

        main(["solve", MODEL, HARDWARE])
        profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = max(ct for (_, _, _, ct, _) in stats.values())
    rows = []
    for suffix, func, label in _PROFILE_KEYS:
        cum = sum(ct for (path, _, name), (_, _, _, ct, _) in stats.items()
                  if name == func and path.replace("\\", "/").endswith(suffix))
        rows.append({"label": label, "cumulative_s": cum, "share": cum / total if total else 0})
    own = sorted(stats.items(), key=lambda item: -item[1][2])[:12]
    top_own = [{"function": f"{Path(path).name}:{line}({name})", "own_s": tt,
                "cumulative_s": ct, "calls": nc} for (path, line, name), (_, nc, tt, ct, _) in own]
    return {"profiled_total_s": total, "rows": rows, "top_own_time": top_own}


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "sweep-mem":
        out = sweep_mem(int(float(argv[1])))
    elif command == "chunked":
        out = chunked(int(float(argv[1])), int(float(argv[2])))
    elif command == "explore":
        out = explore(argv[1], int(argv[2]), int(argv[3]) if len(argv) > 3 else None)
    elif command == "cli-breakdown":
        out = cli_breakdown()
    elif command == "cli-profile":
        out = cli_profile()
    elif command == "compare":
        from measure_compare import inprocess

        out = inprocess(argv[3:], int(argv[1]), float(argv[2]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
