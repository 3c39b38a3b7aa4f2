"""Timing helpers shared by the benchmark runner and its subprocess probes.

Every figure is a median of repeated runs. In-process timings warm up first and size the inner
loop so one repeat lasts long enough for the clock; subprocess timings start a fresh
interpreter each run (the operating system's file cache and ``__pycache__`` stay warm, as they
are for a user who runs a command twice).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent

#: the case every figure measures: Llama-3-8B on an H100
MODEL_KEY, HARDWARE_KEY = "Llama3_8B", "H100"


def env_with_repo() -> dict:
    """The environment for child interpreters: this checkout first on the import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def summary(values: list[float], cpu: list[float] | None = None) -> dict:
    """Median and spread of repeated wall-clock measurements (all runs kept for the JSON),
    and the median CPU time when given: the machine is shared, and CPU time is what stays
    put when other processes take the cores."""
    out = {"median": statistics.median(values), "min": min(values), "max": max(values),
           "runs": list(values)}
    if cpu:
        out["cpu_median"] = statistics.median(cpu)
        out["cpu_runs"] = list(cpu)
    return out


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_subprocess(argv: list[str], repeat: int, timeout: float = 300.0,
                    extra_env=None) -> dict:
    """Wall time of ``argv`` in a fresh process, ``repeat`` times; raises if it fails.

    ``extra_env``: variables to set, or a callable returning them (called before each run).
    """
    times, cpu = [], []
    for _ in range(repeat):
        env = env_with_repo()
        env.update((extra_env() if callable(extra_env) else extra_env) or {})
        cpu_start = _children_cpu()
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=timeout)
        elapsed = time.perf_counter() - start
        cpu.append(_children_cpu() - cpu_start)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: "
                               f"{done.stderr.strip()[-2000:]}")
        times.append(elapsed)
    return summary(times, cpu)


def loops_for(fn, min_time: float) -> int:
    """How many calls of ``fn()`` in a row take at least ``min_time`` seconds."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time or number >= 1 << 20:
            return number
        number *= 2 if elapsed == 0 else max(2, min(10, int(min_time / elapsed) + 1))


def time_block(fn, number: int) -> tuple[float, float]:
    """(wall, CPU) seconds per call of ``number`` calls of ``fn()`` in a row."""
    cpu_start = time.process_time()
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number, (time.process_time() - cpu_start) / number


def time_call(fn, repeat: int = 7, warmup: int = 3, min_time: float = 0.05) -> dict:
    """Seconds per call of ``fn()``: median over ``repeat`` repeats after ``warmup`` calls.

    The inner loop count is chosen so one repeat takes at least ``min_time`` seconds.
    """
    for _ in range(warmup):
        fn()
    number = loops_for(fn, min_time)
    per_call, cpu = [], []
    for _ in range(repeat):
        wall, cpu_s = time_block(fn, number)
        per_call.append(wall)
        cpu.append(cpu_s)
    out = summary(per_call, cpu)
    out["loops"] = number
    return out


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """(25th percentile, median, 75th percentile) of ``values`` (inclusive method)."""
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def ratio_stats(numerators: dict, denominators: dict) -> dict:
    """Per-round ratios ``other / symsys`` of two tools timed in the same rounds (``{"runs",
    "cpu_runs"}`` each, round by round): the median of the per-round ratios and their spread
    (interquartile range, min and max), for wall-clock and CPU time. Pairing the two tools
    round by round cancels the load that changes between rounds."""
    out: dict = {}
    for kind in ("runs", "cpu_runs"):
        if kind not in numerators or kind not in denominators:
            continue
        ratios = [a / b for a, b in zip(numerators[kind], denominators[kind]) if b > 0]
        if not ratios:
            continue
        q1, med, q3 = quartiles(ratios)
        prefix = "" if kind == "runs" else "cpu_"
        out.update({f"{prefix}median": med, f"{prefix}p25": q1, f"{prefix}p75": q3,
                    f"{prefix}min": min(ratios), f"{prefix}max": max(ratios),
                    f"{prefix}ratios": ratios})
    return out


def run_probe(*args: str, timeout: float = 600.0, python: str | None = None) -> dict:
    """Run ``benchmarks/probe.py ARGS`` in a fresh interpreter; its last stdout line is JSON."""
    argv = [python or sys.executable, str(BENCH / "probe.py"), *args]
    done = subprocess.run(argv, cwd=REPO, env=env_with_repo(), capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"probe {' '.join(args)} exited {done.returncode}: "
                           f"{done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
