"""symsys side by side with mlsysim and llm-analysis, every ratio measured round-robin.

Two measurements, both interleaved so that a change in the shared machine's load touches
every tool alike, and both with their first calls left out:

- imports, each in a fresh interpreter (``python -c "import mlsysim"``), one run of every tool
  per round (the median of 5 for the ones that take under 0.2 s: the interpreter alone and
  symsys's lazy import, whose jitter would otherwise decide the ratios over them), the order
  rotated from round to round, after one untimed run of each (the first run after an install
  compiles bytecode and fills the file cache);
- in-process figures (the scalar solve, all sensitivities) of all the tools in ONE fresh
  process (``probe.py compare``): each call warmed up and its loop count fixed first, then in
  every round one timed block of each tool, the order rotated.

A ratio is the median over the rounds of ``other / symsys`` in the same round (paired), with
the interquartile range of those per-round ratios as its spread; CPU-time ratios beside.
"""

from __future__ import annotations

import statistics
import sys
import time

from _common import loops_for, ratio_stats, run_probe, summary, time_block, time_subprocess

#: a fresh-process figure under QUICK_S seconds is the median of QUICK_RUNS runs per round
QUICK_S, QUICK_RUNS = 0.2, 5
#: the in-process figures (each tool's ``calls`` of these names, where it has one)
FIGURES = ("solve", "sensitivities")


def _rotated(items: list, shift: int) -> list:
    shift %= len(items)
    return items[shift:] + items[:shift]


def measure_imports(tools: list[str], rounds: int, python: str | None = None) -> dict:
    """Fresh-process imports of ``tools`` (and the interpreter alone, and symsys with its
    first solver), ``rounds`` runs of each, round-robin."""
    from alternatives import IMPORTS

    py = python or sys.executable
    entries = {"python": "pass", **{t: IMPORTS[t] for t in tools}}
    if "symsys" in tools:
        entries["symsys_engine"] = "import symsys; symsys.Engine"
    per_round = {}
    for name, code in entries.items():  # untimed: bytecode compiled, file cache filled
        first = time_subprocess([py, "-c", code], 1)["median"]
        # a start-up of a few tens of ms jitters by ~20 % from run to run: the median of
        # several runs in each round, so that it does not decide the ratios over it
        per_round[name] = QUICK_RUNS if first < QUICK_S else 1
    runs: dict = {name: ([], []) for name in entries}
    names = list(entries)
    for r in range(rounds):
        for name in _rotated(names, r):
            t = time_subprocess([py, "-c", entries[name]], per_round[name])
            runs[name][0].append(t["median"])
            runs[name][1].append(statistics.median(t["cpu_runs"]))
    out = {"rounds": rounds, "code": entries, "runs_per_round": per_round,
           "seconds": {name: summary(*runs[name]) for name in names}}
    sym = out["seconds"].get("symsys")
    engine = out["seconds"].get("symsys_engine")
    out["ratios"] = {
        # a bare import against symsys's (lazy) import, and against symsys with its solver
        "import": {t: ratio_stats(out["seconds"][t], sym) for t in tools if t != "symsys"},
        "engine_import": {t: ratio_stats(out["seconds"][t], engine) for t in tools
                          if t != "symsys"},
    }
    return out


def inprocess(tools: list[str], rounds: int, min_time: float) -> dict:
    """The in-process half, run inside ``probe.py compare`` (a fresh process): every tool's
    calls timed round-robin, and what each tool reports on the case."""
    import alternatives

    def guarded(name, fn):  # an alternative that fails is reported, never fatal
        try:
            return fn()
        except Exception as exc:
            if name == "symsys":
                raise
            return {"status": f"failed: {type(exc).__name__}: {exc}"}

    setups = {name: guarded(name, alternatives.TOOLS[name]) for name in tools}
    ready = [name for name in tools if setups[name].get("status") == "ok"]
    blocks, first_call = {}, {}
    for figure in FIGURES:
        for name in ready:
            fn = setups[name]["calls"].get(figure)
            if fn is None:
                continue
            start = time.perf_counter()
            fn()  # the first call (lazy imports, caches): reported, never timed with the rest
            first_call[f"{name}:{figure}"] = time.perf_counter() - start
            for _ in range(3):
                fn()
            blocks[(figure, name)] = (fn, loops_for(fn, min_time))
    runs: dict = {key: ([], []) for key in blocks}
    for r in range(rounds):
        for figure in FIGURES:
            for name in _rotated(ready, r):
                if (figure, name) not in blocks:
                    continue
                fn, number = blocks[(figure, name)]
                wall, cpu = time_block(fn, number)
                runs[(figure, name)][0].append(wall)
                runs[(figure, name)][1].append(cpu)
    # what each tool reports on the case, asked after the timing (so its first calls above
    # are the process's first)
    reported = {name: guarded(name, lambda name=name: alternatives.case(setups[name]))
                for name in tools}
    seconds: dict = {figure: {} for figure in FIGURES}
    for (figure, name), (wall, cpu) in runs.items():
        seconds[figure][name] = {**summary(wall, cpu), "loops": blocks[(figure, name)][1]}
    ratios = {figure: {name: ratio_stats(seconds[figure][name], seconds[figure]["symsys"])
                       for name in seconds[figure] if name != "symsys"}
              for figure in FIGURES if "symsys" in seconds[figure]}
    return {"rounds": rounds, "min_time_s": min_time, "seconds": seconds, "ratios": ratios,
            "first_call_s": first_call, "tools": reported}


def measure_compare(tools: list[str], import_rounds: int, rounds: int,
                    min_time: float = 0.1) -> dict:
    """Both halves, symsys first (the denominator of every ratio); the imports only of the
    tools installed (the in-process half reports the others "not installed")."""
    from alternatives import DISTRIBUTIONS, installed

    tools = ["symsys", *(t for t in tools if t != "symsys")]
    present = [t for t in tools if t == "symsys" or installed(*DISTRIBUTIONS[t])]
    return {"tools": tools,
            "imports": measure_imports(present, import_rounds) if import_rounds else None,
            "inprocess": run_probe("compare", str(rounds), str(min_time), *tools,
                                   timeout=1800)}


def spread(stats: dict | None, prefix: str = "") -> str:
    """``"58.1-66.0"``: the interquartile range of per-round ratios, or ``"-"``."""
    if not stats or f"{prefix}p25" not in stats:
        return "-"
    return f"{stats[f'{prefix}p25']:.3g}-{stats[f'{prefix}p75']:.3g}"
