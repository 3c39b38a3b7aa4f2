"""symsys benchmarks, side by side with mlsysim and llm-analysis when they are installed.

    python benchmarks/run.py                 # full run (~4 min on 2 cores with both tools)
    python benchmarks/run.py --quick         # tiny sizes, no alternatives: a smoke run
    python benchmarks/run.py --json out.json # where the JSON goes (default results/latest.json)
    python benchmarks/run.py --render benchmarks/results/latest.json   # reprint a saved run
    python benchmarks/run.py --markdown benchmarks/results/latest.json # README section

Prints every figure as a table and writes them all to JSON. Each figure is a median of
repeated runs: fresh interpreters for import and CLI times, warmed-up loops for in-process
times. The alternatives are measured only when importable (``pip install mlsysim==0.3.0
llm-analysis`` into the benchmark environment); otherwise they are reported "not installed".
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))  # this checkout's symsys, installed or not

from _common import REPO, run_probe, summary, time_call, time_subprocess  # noqa: E402

MODEL_KEY, HARDWARE_KEY = "Llama3_8B", "H100"

#: name -> (description, comparison, threshold, unit); checked against ``figures``
TARGETS = {
    "import_s": ("import symsys", "<=", 1.0, "s"),
    "cold_cli_s": ("cold CLI: symsys solve Llama3_8B H100", "<=", 1.5, "s"),
    "solve_quantity_us": ("scalar Engine.solve returning Quantities", "<=", 50.0, "us"),
    "sensitivities_us": ("all sensitivities of one configuration", "<=", 100.0, "us"),
    "roofline_points_per_s": ("compiled roofline at 1e6 points", ">=", 3e7, "points/s"),
    "sweep_1e6_configs_per_s": ("symsys.sweep at 1e6 configurations", ">=", 1e7, "configs/s"),
    "sweep_1e6_latency_configs_per_s": ("decode-roofline sweep (latency) at 1e6", ">=", 3e7,
                                        "configs/s"),
}


# --- symsys measurements --------------------------------------------------------------------
def measure_startup(proc_repeat: int) -> dict:
    import tempfile

    py = sys.executable
    cli = [py, "-m", "symsys", "solve", MODEL_KEY, HARDWARE_KEY]
    scratch = tempfile.TemporaryDirectory(prefix="symsys-bench-cache-")

    def empty_cache() -> dict:  # a new, empty kernel cache directory for each run
        return {"SYMSYS_CACHE_DIR": tempfile.mkdtemp(dir=scratch.name)}

    with scratch:
        out = {
            "python_startup_s": time_subprocess([py, "-c", "pass"], proc_repeat),
            "import_s": time_subprocess([py, "-c", "import symsys"], proc_repeat),
            "engine_import_s": time_subprocess([py, "-c", "import symsys; symsys.Engine"],
                                               proc_repeat),
            "cold_cli_s": time_subprocess(cli, proc_repeat),
            "cold_cli_empty_cache_s": time_subprocess(cli, proc_repeat, extra_env=empty_cache),
        }
    return out


def measure_scalar(repeat: int) -> dict:
    import symsys

    engine, model, hw = symsys.Engine, symsys.Models.Llama3_8B, symsys.Hardware.Cloud.H100
    solver = symsys.SensitivitySolver()

    def solve():
        return engine.solve(model=model, hardware=hw, batch_size=1, precision="fp16")

    def solve_quantity():
        return solve().latency

    def sensitivities():
        return solver.solve(model=model, hardware=hw, precision="fp16", batch_size=1)

    out = {"solve_s": time_call(solve, repeat), "solve_quantity_s": time_call(solve_quantity,
                                                                              repeat),
           "sensitivities_s": time_call(sensitivities, repeat)}
    s = sensitivities()
    out["sensitivity_result"] = {"levers": sorted(s.sensitivities),
                                 "binding": s.binding_constraint,
                                 "method": "exact sympy derivatives (one-sided at kinks)"}
    return out


def measure_roofline(repeat: int, n: int) -> dict:
    import numpy as np

    import symsys
    from symsys.compile import compile_exprs
    from symsys.laws import roofline

    fn = compile_exprs([roofline.expr("T")])
    flops = np.logspace(6, 15, n)
    traffic = np.full(n, 1e9)
    values = {"Pi": 989.4e12, "beta": 3.35e12, "F": flops, "Q": traffic, "eta_c": 1.0,
              "eta_m": 1.0, "t_o": 0.0}
    args = [values[s.name] for s in fn.args]
    compiled = time_call(lambda: fn(*args), repeat)
    q_ = symsys.Q_
    pi, beta, f_q, one_gb = (q_(989.4, "TFLOP/s"), q_(3.35, "TB/s"), q_(flops, "FLOP"),
                             q_(1, "GB"))
    evaluated = time_call(lambda: symsys.evaluate("roofline", Pi=pi, beta=beta, F=f_q,
                                                  Q=one_gb), repeat)
    batch = np.arange(1, n + 1)
    swept = time_call(lambda: symsys.sweep(model=MODEL_KEY, hardware=HARDWARE_KEY,
                                           batch_size=batch, columns=["latency"]), repeat)
    return {"points": n, "compiled_T_s": compiled,
            "roofline_points_per_s": n / compiled["median"],
            "sweep_latency_s": swept, "sweep_latency_configs_per_s": n / swept["median"],
            "evaluate_s": evaluated, "evaluate_points_per_s": n / evaluated["median"],
            "compiled_source": fn.source.strip()}


def _minor_faults() -> int:
    import resource

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


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "symsys" and len(parts) > 1 else parts[0]


def measure_cli_breakdown(with_profile: bool) -> dict:
    import subprocess

    from _common import env_with_repo

    out = {"phases": run_probe("cli-breakdown")}
    if with_profile:
        out["profile"] = run_probe("cli-profile")
    argv = [sys.executable, "-X", "importtime", "-m", "symsys", "solve", MODEL_KEY, HARDWARE_KEY]
    done = subprocess.run(argv, cwd=REPO, env=env_with_repo(), capture_output=True, text=True,
                          timeout=300)
    rows = []
    for line in done.stderr.splitlines():
        parts = line[len("import time:"):].split("|") if line.startswith("import time:") else []
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        rows.append({"module": parts[2].strip(), "self_s": int(parts[0]) / 1e6,
                     "cumulative_s": int(parts[1]) / 1e6})
    by_package: dict = {}
    for r in rows:
        key = _package(r["module"])
        by_package[key] = by_package.get(key, 0.0) + r["self_s"]
    out["importtime_by_package"] = sorted(
        ({"package": k, "self_s": v} for k, v in by_package.items()), key=lambda r: -r["self_s"])
    out["importtime_top_self"] = sorted(rows, key=lambda r: -r["self_s"])[:10]
    out["importtime_total_s"] = sum(r["self_s"] for r in rows)
    return out


# --- reporting ------------------------------------------------------------------------------
def fmt_si(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit in ("s",):
        return f"{value * 1e3:.0f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "us":
        return f"{value:.1f} us"
    if unit in ("points/s", "configs/s"):
        return f"{value:.3g} /s"
    if unit == "B":
        return f"{value / 2**20:.1f} MiB"
    return f"{value:.4g}{(' ' + unit) if unit else ''}"


def table(headers: list[str], rows: list[list], title: str = "") -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    out = [title, "=" * len(title)] if title else []
    out.append("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    out.append(line)
    for r in cells:
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(out)


def git_state() -> str:
    """The commit measured, and whether the working tree differed from it (read-only git)."""
    import subprocess

    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "symsys"], cwd=REPO,
                               capture_output=True, text=True, timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head or 'unknown'}" + (f" + {len(dirty)} changed files in symsys/" if dirty else "")


def figures_of(results: dict) -> dict:
    """Flat name -> value of the headline figures (what the targets are checked on); each
    with a ``_cpu`` twin computed from CPU time instead of wall-clock time where measured."""
    s = results["symsys"]
    f = {}
    for key in ("import_s", "engine_import_s", "cold_cli_s", "cold_cli_empty_cache_s",
                "python_startup_s"):
        if key in s:
            f[key] = s[key]["median"]
            f[key + "_cpu"] = s[key].get("cpu_median")
    for key in ("solve", "solve_quantity", "sensitivities"):
        if f"{key}_s" in s:
            f[f"{key}_us"] = s[f"{key}_s"]["median"] * 1e6
            f[f"{key}_us_cpu"] = s[f"{key}_s"]["cpu_median"] * 1e6
    if "roofline" in s and s["roofline"]["points"] >= 10**6:
        r = s["roofline"]
        f["roofline_points_per_s"] = r["roofline_points_per_s"]
        f["roofline_points_per_s_cpu"] = r["points"] / r["compiled_T_s"]["cpu_median"]
    if "1000000" in s.get("sweep", {}):
        v = s["sweep"]["1000000"]
        f["sweep_1e6_configs_per_s"] = v["configs_per_s"]
        f["sweep_1e6_configs_per_s_cpu"] = v["configs_per_cpu_s"]
    if "roofline" in s and "sweep_latency_s" in s["roofline"]:
        r = s["roofline"]
        f["sweep_1e6_latency_configs_per_s"] = r["sweep_latency_configs_per_s"]
        f["sweep_1e6_latency_configs_per_s_cpu"] = r["points"] / r["sweep_latency_s"]["cpu_median"]
    return f


def check_targets(results: dict) -> list[dict]:
    f = figures_of(results)
    out = []

    def status(value, op, threshold):
        if value is None:
            return "n/a"
        return "PASS" if (value <= threshold if op == "<=" else value >= threshold) else "FAIL"

    for key, (label, op, threshold, unit) in TARGETS.items():
        value, cpu = f.get(key), f.get(key + "_cpu")
        out.append({"key": key, "target": f"{label} {op} {fmt_si(threshold, unit)}",
                    "value": value, "cpu_value": cpu, "unit": unit,
                    "status": status(value, op, threshold),
                    "cpu_status": status(cpu, op, threshold)})
    memory = results["symsys"].get("sweep_memory", {}).get("linear")
    if memory:
        out.append({"key": "memory_linear", "unit": "ratio",
                    "target": "sweep memory linear in configurations "
                              f"({memory['sizes_compared'][0]:.0e} -> "
                              f"{memory['sizes_compared'][1]:.0e}: bytes/config within "
                              "0.8-1.25x)",
                    "value": memory["ratio"], "status": "PASS" if memory["pass"] else "FAIL"})
    chunked = results["symsys"].get("chunked", {})
    if "bounded" in chunked:
        out.append({"key": "chunked_bounded", "unit": "ratio",
                    "target": f"chunked {chunked['configurations']:.0e}-config run peak <= 1.5x "
                              "one chunk's sweep peak",
                    "value": chunked["peak_vs_one_chunk_sweep"],
                    "status": "PASS" if chunked["bounded"] else "FAIL"})
    return out


def report_sections(results: dict) -> dict:
    """The printed report, section by section (name -> text)."""
    s = results["symsys"]
    f = figures_of(results)
    parts = {}
    meta = results["meta"]
    parts["header"] = (
        f"symsys {meta['symsys_version']} benchmarks  |  {meta['python']} on {meta['machine']}, "
        f"{meta['cpus']} CPUs  |  numpy {meta['numpy']}, sympy {meta['sympy']}, pint "
        f"{meta['pint']}  |  load avg {meta['loadavg_before'][0]:.2f} -> "
        f"{meta['loadavg_after'][0]:.2f}  |  {'QUICK sizes' if meta['quick'] else 'full'}  |  "
        f"git {meta['git']}")

    rows = []

    def add(label, key, unit, stats_key=None, scale=1.0):
        stats = s.get(stats_key or key)
        if stats is None:
            return
        n = len(stats["runs"])
        rows.append([label, fmt_si(stats["median"] * scale, unit),
                     f"{fmt_si(stats['min'] * scale, unit)} .. "
                     f"{fmt_si(stats['max'] * scale, unit)}",
                     fmt_si(stats["cpu_median"] * scale, unit) if "cpu_median" in stats else "-",
                     n])

    add("python -c pass (interpreter start)", "python_startup_s", "s")
    add("import symsys", "import_s", "s")
    add("import symsys; symsys.Engine (first solver import)", "engine_import_s", "s")
    add(f"cold CLI: python -m symsys solve {MODEL_KEY} {HARDWARE_KEY}", "cold_cli_s", "s")
    add("cold CLI, empty kernel cache (first run after install)", "cold_cli_empty_cache_s", "s")
    add("Engine.solve (result, Quantities built lazily)", "solve_s", "us", scale=1e6)
    add("Engine.solve(...).latency (a Quantity)", "solve_quantity_s", "us", scale=1e6)
    add(f"SensitivitySolver().solve: {len(s['sensitivity_result']['levers'])} levers, exact",
        "sensitivities_s", "us", scale=1e6)
    if "roofline" in s:
        r = s["roofline"]
        for label, key, rate in (
                (f"compiled roofline T, {r['points']:.0e} points", "compiled_T_s",
                 "roofline_points_per_s"),
                (f"symsys.evaluate('roofline'), {r['points']:.0e} Quantity points, all "
                 "outputs + regime", "evaluate_s", "evaluate_points_per_s"),
                (f"symsys.sweep(..., columns=['latency']), {r['points']:.0e} decode configs",
                 "sweep_latency_s", "sweep_latency_configs_per_s")):
            if key not in r:
                continue
            t = r[key]
            rows.append([label, fmt_si(r[rate], "points/s"),
                         f"{fmt_si(t['median'], 's')} per call",
                         fmt_si(r["points"] / t["cpu_median"], "points/s"), len(t["runs"])])
    parts["symsys"] = (table(["figure", "wall median", "range", "CPU median", "runs"], rows,
                       "symsys"))

    sweep = s.get("sweep", {})
    memory = s.get("sweep_memory", {})
    rows = []
    for key, v in sweep.items():
        m = memory.get(key, {})
        rows.append([f"{v['configurations']:.0e}", fmt_si(v["seconds"]["median"], "s"),
                     fmt_si(v["configs_per_s"], "configs/s"),
                     fmt_si(v["configs_per_cpu_s"], "configs/s"), f"{v['ns_per_config']:.0f}",
                     fmt_si(m.get("configs_per_s"), "configs/s") if m else "-",
                     fmt_si(m.get("tracemalloc_peak_bytes"), "B") if m else "-",
                     f"{m['peak_bytes_per_config']:.0f}" if m else "-",
                     fmt_si(m.get("rss_growth_bytes"), "B") if m else "-"])
    for key, m in memory.items():
        if key in sweep or key == "linear":
            continue
        rows.append([f"{m['configurations']:.0e}", "-", "-", "-", "-",
                     fmt_si(m["configs_per_s"], "configs/s"),
                     fmt_si(m["tracemalloc_peak_bytes"], "B"),
                     f"{m['peak_bytes_per_config']:.0f}", fmt_si(m["rss_growth_bytes"], "B")])
    c = s.get("chunked")
    if c:
        rows.append([f"{c['configurations']:.0e} chunked by {c['chunk_size']:.0e}", "-", "-", "-",
                     f"{c['seconds'] / c['configurations'] * 1e9:.0f}",
                     fmt_si(c["configs_per_s"], "configs/s"),
                     fmt_si(c["tracemalloc_peak_bytes"], "B"),
                     f"{c['tracemalloc_peak_bytes'] / c['configurations']:.1f}",
                     fmt_si(c["rss_growth_bytes"], "B")])
    parts["sweep"] = (table(
        ["configs", "warm median", "warm configs/s", "per CPU s", "ns/config",
         "fresh-process configs/s",
         "peak (tracemalloc)", "B/config", "peak RSS growth"], rows,
        f"symsys.sweep(model={MODEL_KEY}, hardware={HARDWARE_KEY}, batch_size=1..n)"))
    if c:
        red = c["reduced"]
        parts["chunked"] = (
            f"chunked run: {red['configurations']:,} configurations in {red['chunks']} chunks, "
            f"{c['seconds']:.1f} s; best feasible throughput {red['max_throughput']:.4g} "
            f"{red['throughput_unit']} at batch {red['max_throughput_batch']}, "
            f"{red['feasible']:,} feasible; first compute-bound batch "
            f"{red['first_compute_bound_batch']} (closed-form crossover "
            f"{c['crossover_batch_closed_form']}: "
            f"{'matches' if c['crossover_matches'] else 'DIFFERS'})")

    alt = results["alternatives"]
    parts["side_by_side"] = side_by_side(s, alt)
    if "agreement" in results:
        parts["agreement"] = agreement_report(results["agreement"])

    br = s.get("cli_breakdown")
    if br:
        ph = br["phases"]
        loaded = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in ph["loaded"].items())
        rows = [[p["phase"], f"{p['seconds'] * 1e3:.0f} ms"] for p in ph["phases"]]
        rows.append(["total, probe start -> first answer", f"{ph['total_s'] * 1e3:.0f} ms"])
        parts["cli_breakdown"] = (table(["symsys solve in one fresh process", "time"], rows,
                           "cold CLI breakdown") + f"\nloaded by the answer: {loaded}")
        pk = br["importtime_by_package"]
        rows = [[r["package"], f"{r['self_s'] * 1e3:.0f} ms",
                 f"{r['self_s'] / br['importtime_total_s']:.0%}"] for r in pk[:10]]
        parts["cli_imports"] = table(
            ["package (-X importtime self time, summed)", "import", "share"], rows,
            f"cold CLI imports: {br['importtime_total_s'] * 1e3:.0f} ms in all")
        if "profile" in br:
            prof = br["profile"]
            rows = [[r["label"], f"{r['cumulative_s'] * 1e3:.0f} ms", f"{r['share']:.0%}"]
                    for r in prof["rows"] if r["cumulative_s"] > 0]
            rows += [[f"own time: {r['function']}", f"{r['own_s'] * 1e3:.0f} ms",
                      f"{r['own_s'] / prof['profiled_total_s']:.0%}"]
                     for r in prof["top_own_time"][:6]]
            parts["cli_profile"] = (table(
                ["function (cProfile of cli.main; cumulative rows overlap)", "profiled",
                 "share"], rows,
                f"cold CLI profile (profiled total {prof['profiled_total_s']:.2f} s; cProfile "
                "inflates)"))

    rows = [[t["target"], fmt_si(t["value"], t["unit"]) if t["unit"] != "ratio"
             else f"{t['value']:.2f}x" if t["value"] is not None else "-", t["status"],
             fmt_si(t.get("cpu_value"), t["unit"]) if t.get("cpu_value") is not None else "-",
             t.get("cpu_status", "-")]
            for t in results["targets"]]
    parts["targets"] = (table(["target (2-core machine)", "wall median", "status", "CPU median",
                        "on CPU time"], rows, "targets (status is on wall-clock time)"))
    del f
    return parts


def report(results: dict) -> str:
    return "\n\n".join(report_sections(results).values())


REPRODUCE = ('python3 -m venv .venv && .venv/bin/pip install -q -e ".[bench]" && '
             '.venv/bin/python benchmarks/run.py')


def markdown(results: dict) -> str:
    """The README's Performance section for a saved run (between markers, regenerable)."""
    import textwrap

    sec = report_sections(results)
    meta = results["meta"]
    load = f"{meta['loadavg_before'][0]:.1f} -> {meta['loadavg_after'][0]:.1f}"

    def prose(*pieces: str) -> str:
        return textwrap.fill("".join(pieces), width=96)

    text = [
        "<!-- performance:start -->",
        "## Performance",
        "",
        prose(f"Measured by `benchmarks/run.py` on {meta['timestamp'][:10]} ({meta['python']}, "
        f"{meta['cpus']} CPUs, numpy {meta['numpy']}, sympy {meta['sympy']}, pint "
        f"{meta['pint']}; git {meta['git']}). Every figure is a median: "
        f"{meta['proc_repeat']} fresh processes for import and CLI times, "
        f"{meta['repeat']} repeats after warm-up in process. The development machine is "
        f"shared (load average {load} on 2 cores during this run), so wall-clock figures "
        "include other processes' load; the CPU-time column is what symsys itself spent. "
        "To reproduce (the `bench` extra installs mlsysim 0.3.0 and llm-analysis beside "
        "symsys; without them the runner reports them \"not installed\"):"),
        "",
        "```bash",
        REPRODUCE,
        "```",
        "",
        prose("It prints every table below (and the cold-CLI breakdown) and writes "
              "`benchmarks/results/latest.json`; `--quick` is the smoke run the tests use, "
              "and `--markdown JSON` regenerates this section from a saved run."),
        "",
        "```text", sec["symsys"], "```", "",
        "```text", sec["sweep"] + ("\n\n" + sec["chunked"] if "chunked" in sec else ""),
        "```", "",
        "Side by side on the same case, in the same run (ratio = other / symsys):", "",
        "```text", sec["side_by_side"], "```", "",
    ]
    if "agreement" in sec:
        text += [prose("Where the physics agrees, the numbers agree; the differences are "
                       "accounted for term by term:"), "", "```text", sec["agreement"], "```",
                 ""]
    text += ["```text", sec["targets"], "```", "<!-- performance:end -->"]
    return "\n".join(text) + "\n"


def side_by_side(s: dict, alt: dict) -> str:
    mls, lla = alt.get("mlsysim", {}), alt.get("llm-analysis", {})

    def status(a):
        st = a.get("status", "not run")
        return "" if st == "ok" else st

    rows = []

    def row(label, mine, theirs_m, theirs_l, unit):
        cells = [label, fmt_si(mine, unit)]
        for theirs, a in ((theirs_m, mls), (theirs_l, lla)):
            if a.get("status") != "ok":
                cells += [status(a), "-"]
            elif theirs is None:
                cells += ["n/a", "-"]
            else:
                cells += [fmt_si(theirs, unit),
                          f"{theirs / mine:.3g}x" if mine else "-"]
        rows.append(cells)

    def med(a, key, scale=1.0):
        return a[key]["median"] * scale if key in a else None

    row("import (fresh process)", med(s, "import_s"), med(mls, "import_s"),
        med(lla, "import_s"), "s")
    row("import incl. first solver (symsys.Engine)", med(s, "engine_import_s"),
        med(mls, "import_s"), med(lla, "import_s"), "s")
    row("scalar solve, Llama-3-8B decode b=1 H100 fp16", med(s, "solve_quantity_s", 1e6),
        med(mls, "solve_s", 1e6), med(lla, "solve_s", 1e6), "us")
    row("all sensitivities of that configuration", med(s, "sensitivities_s", 1e6),
        med(mls, "sensitivities_s", 1e6), None, "us")
    lat = [s.get("case", {}).get("latency_ms"), mls.get("result", {}).get("latency_ms"),
           lla.get("result", {}).get("latency_ms")]
    row("predicted decode latency", lat[0], lat[1], lat[2], "ms")
    title = ("side by side (ratio = other / symsys; >1 means symsys is faster, or for latency "
             "predicts less)")
    names = [f"mlsysim {mls.get('version', '')}".strip(),
             f"llm-analysis {lla.get('version', '')}".strip()]
    text = table(["figure", "symsys", names[0], "ratio", names[1], "ratio"], rows, title)
    notes = []
    if mls.get("status") == "ok":
        sr = mls["sensitivity_result"]
        notes.append(f"mlsysim model: {mls['model_path']}; its SensitivitySolver: "
                     f"{len(sr['levers'])} levers ({', '.join(sr['levers'])}), {sr['method']}, "
                     f"binding {sr['binding']}")
    if s.get("sensitivity_result"):
        sr = s["sensitivity_result"]
        notes.append(f"symsys SensitivitySolver: {len(sr['levers'])} levers, {sr['method']}, "
                     f"binding {sr['binding']}")
    if lla.get("status") == "ok":
        notes.append("llm-analysis: LLMAnalysis(...).inference(batch_size_per_gpu=1, seq_len=1, "
                     "num_tokens_to_generate=1, use_kv_cache=False), efficiencies 1, logging "
                     "off; it has no sensitivity API")
    return text + ("\n" + "\n".join(notes) if notes else "")


def agreement_report(a: dict) -> str:
    rows = [[c["name"], f"{c['expected']:.6g} {c['unit']}", f"{c['got']:.6g} {c['unit']}",
             f"{c['relative_difference']:.2e}", "AGREE" if c["agree"] else "DIFFER"]
            for c in a["checks"]]
    text = table(["check", "expected", "got", "rel. diff", ""], rows,
                 "agreement: Llama-3-8B decode, batch 1, fp16, H100 (3.35 TB/s), no context")
    lines = [f"symsys {a['symsys_latency_ms']:.4f} ms reads {a['symsys_weight_read_GB']:.4f} GB:"
             f" every matmul weight incl. the LM head, and one {a['embedding_table_GB']:.4f} GB"
             " input-embedding row per token (a lookup, not a table read)."]
    m = a.get("mlsysim")
    if m:
        lines.append(
            f"mlsysim {m['latency_ms']:.4f} ms = {m['ratio_to_symsys']:.3f}x symsys: reads all "
            f"{m['parameters_used']:.4g} parameters incl. the whole embedding table "
            f"(x{m['embedding_table_factor']:.4f} -> {m['weights_only_ms']:.4f} ms, "
            f"= symsys all-weights {a['symsys_all_weights_ms']:.4f} ms), adds a 10%-of-weights"
            f"-per-sample activation heuristic (x{m['activation_traffic_factor']:.3f}) and "
            f"{m['overhead_ms']:.2f} ms of dispatch + per-layer tax; rebuilt from symsys: "
            f"{m['rebuilt_from_symsys_ms']:.4f} ms.")
    la = a.get("llm-analysis")
    if la:
        lines.append(
            f"llm-analysis {la['latency_ms']:.4f} ms = {la['ratio_to_symsys']:.4f}x symsys: it "
            "reads the whole input-embedding table but not the LM head (computed only), the "
            "same bytes for untied Llama-3 "
            f"({la['weight_bytes_minus_symsys']:+.0f} B vs symsys = one embedding row); "
            f"the remaining {la['other_terms_ms'] * 1e3:.2f} us are its activation, "
            "layernorm and serial LM-head compute terms.")
    return text + "\n" + "\n".join(lines)


# --- main -----------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes; skip alternatives")
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "latest.json")
    parser.add_argument("--repeat", type=int, help="in-process repeats (default 7; quick 3)")
    parser.add_argument("--proc-repeat", type=int,
                        help="fresh-process repeats (default 5; quick 1)")
    parser.add_argument("--alt-import-repeat", type=int, default=3,
                        help="fresh-process repeats of the alternatives' imports")
    parser.add_argument("--chunked-total", type=float, help="default 1e8 (quick 1e6)")
    parser.add_argument("--chunk-size", type=float, help="default 1e6 (quick 1e5)")
    parser.add_argument("--no-alternatives", action="store_true")
    parser.add_argument("--compare", action="store_true", help="run alternatives even if --quick")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="print the tables of a saved run (no measuring)")
    parser.add_argument("--markdown", type=Path, metavar="JSON",
                        help="print the README Performance section of a saved run")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the cProfile of the CLI (always skipped with --quick)")
    args = parser.parse_args(argv)
    if args.render:
        print(report(json.loads(args.render.read_text())))
        return 0
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text())), end="")
        return 0

    quick = args.quick
    repeat = args.repeat or (3 if quick else 7)
    proc_repeat = args.proc_repeat or (1 if quick else 5)
    sweep_sizes = [10**3, 10**4] if quick else [10**4, 10**5, 10**6, 10**7]
    memory_sizes = [10**4, 10**5] if quick else [10**5, 10**6, 10**7]
    chunk_total = int(args.chunked_total or (1e6 if quick else 1e8))
    chunk_size = int(args.chunk_size or (1e5 if quick else 1e6))
    roofline_points = 10**5 if quick else 10**6

    import numpy
    import pint
    import sympy

    import symsys

    results: dict = {"meta": {
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "python": f"Python {platform.python_version()}", "executable": sys.executable,
        "machine": f"{platform.system()} {platform.machine()}", "cpus": os.cpu_count(),
        "symsys_version": symsys.__version__, "numpy": numpy.__version__,
        "sympy": sympy.__version__, "pint": pint.__version__, "quick": quick,
        "repeat": repeat, "proc_repeat": proc_repeat, "loadavg_before": os.getloadavg(),
        "git": git_state(),
    }}
    sym: dict = {}
    results["symsys"] = sym

    load_by_step = results["meta"]["load_by_step"] = []

    def step(label):  # the machine is shared: keep the load average beside each section
        load_by_step.append([label, os.getloadavg()[0]])
        print(f"[{time.strftime('%H:%M:%S')}] {label} (load {os.getloadavg()[0]:.2f})",
              file=sys.stderr, flush=True)

    step("startup: import, first solver import, cold CLI (fresh processes)")
    sym.update(measure_startup(proc_repeat))
    step("scalar solve and sensitivities")
    sym.update(measure_scalar(repeat))
    step("compiled roofline and symsys.evaluate")
    sym["roofline"] = measure_roofline(repeat, roofline_points)
    step(f"sweeps {sweep_sizes}")
    sym["sweep"] = measure_sweeps(sweep_sizes, repeat if quick else 5)
    step(f"sweep memory {memory_sizes} (fresh processes)")
    sym["sweep_memory"] = measure_memory(memory_sizes)
    step(f"chunked {chunk_total:.0e} in chunks of {chunk_size:.0e}")
    one_chunk = sym["sweep_memory"].get(str(chunk_size), {}).get("tracemalloc_peak_bytes")
    sym["chunked"] = measure_chunked(chunk_total, chunk_size, one_chunk)
    step("cold CLI breakdown")
    sym["cli_breakdown"] = measure_cli_breakdown(with_profile=not (args.no_profile or quick))

    from alternatives import agreement, llm_analysis_case, mlsysim_case, symsys_case

    sym["case"] = symsys_case()
    alternatives: dict = {}
    if args.no_alternatives or (quick and not args.compare):
        reason = "skipped (--no-alternatives)" if args.no_alternatives else "skipped (--quick)"
        alternatives = {"mlsysim": {"status": reason}, "llm-analysis": {"status": reason}}
    else:
        for name, case in (("mlsysim", mlsysim_case), ("llm-analysis", llm_analysis_case)):
            step(f"{name} (when installed)")
            try:
                alternatives[name] = case(repeat, args.alt_import_repeat)
            except Exception as exc:  # report, never abort the symsys figures
                alternatives[name] = {"status": f"failed: {type(exc).__name__}: {exc}"}
    results["alternatives"] = alternatives
    results["agreement"] = agreement(sym["case"], alternatives.get("mlsysim", {}),
                                     alternatives.get("llm-analysis", {}))
    results["meta"]["loadavg_after"] = os.getloadavg()
    results["figures"] = figures_of(results)
    results["targets"] = check_targets(results)

    text = report(results)
    print(text)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nJSON: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
